//! Every broken file from scripts/make_npz_cases.py produces exactly the
//! diagnostic codes recorded in expected.json, and never a panic.

mod common;

use neuride_npz::{Diagnostic, SummaryOptions, list, list_npy, summarize};

/// Codes for a file: a listing failure is one error; otherwise the archive's
/// diagnostics after a full summary (which reads the data).
fn codes_for(file: &str, bytes: &[u8]) -> Vec<Diagnostic> {
    if file.ends_with(".npy") {
        let archive = list_npy(bytes, "x");
        return summarize(&archive, SummaryOptions::default()).diagnostics;
    }
    match list(bytes) {
        Ok(archive) => summarize(&archive, SummaryOptions::default()).diagnostics,
        Err(error) => vec![Diagnostic::from_error(&error, None)],
    }
}

#[test]
fn every_broken_file_reports_its_code() {
    let expected = common::expected();
    let cases = expected["cases"].as_object().unwrap();
    assert!(cases.len() >= 19, "the case list shrank");
    let mut failures = Vec::new();
    for (file, case) in cases {
        let bytes = common::read(file);
        let diagnostics = codes_for(file, &bytes);
        let mut got: Vec<&str> = diagnostics
            .iter()
            .map(|d| d.code)
            .filter(|c| *c != "npz/trailing-data")
            .collect();
        got.sort();
        let mut want: Vec<&str> = case["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        want.sort();
        if got != want {
            failures.push(format!(
                "{file} ({}): want {want:?}, got {diagnostics:#?}",
                case["note"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn messages_name_the_array_and_the_numbers() {
    let bytes = common::read("nan_inf.npz");
    let diagnostics = summarize(&list(&bytes).unwrap(), SummaryOptions::default()).diagnostics;
    let messages: Vec<_> = diagnostics
        .iter()
        .map(|d| (d.code, d.array.as_deref(), d.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        vec![
            (
                "npz/nan",
                Some("w"),
                "array 'w' has 2 NaN value(s) out of 6"
            ),
            (
                "npz/inf",
                Some("w"),
                "array 'w' has 2 Inf value(s) out of 6"
            ),
        ]
    );
    let bytes = common::read("truncated_claim_stored.npz");
    let archive = list(&bytes).unwrap();
    expect_test::expect![[r#"
        [
            Diagnostic {
                severity: Error,
                code: "npz/truncated",
                message: "truncated: array 'big' (float32 x [1000, 1000]) needs 4000128 bytes but only 144 are there",
                array: Some(
                    "big",
                ),
            },
        ]
    "#]]
    .assert_debug_eq(&archive.diagnostics);
    // The good array beside it still reads.
    assert_eq!(archive.array("ok").unwrap().shape, vec![3, 4]);
}

#[test]
fn a_huge_claim_is_an_error_not_an_allocation() {
    // 2^60 float64 elements claimed; reading must fail fast without allocating.
    let bytes = common::read("truncated_claim_huge.npz");
    let archive = list(&bytes).unwrap();
    let error = archive.array("huge").unwrap_err();
    assert_eq!(error.code(), "npz/truncated");
}

#[test]
fn object_arrays_are_listed_but_never_read() {
    let bytes = common::read("object.npz");
    let archive = list(&bytes).unwrap();
    let summary = summarize(&archive, SummaryOptions::default());
    let object = summary.arrays.iter().find(|a| a.name == "obj").unwrap();
    assert_eq!(
        (object.dtype.as_str(), object.shape.as_slice()),
        ("object", &[2u64][..])
    );
    assert_eq!(archive.array("obj").unwrap_err().code(), "npz/object-array");
    assert_eq!(
        archive.array("ok").unwrap().to_f64_vec().unwrap(),
        vec![0.0, 1.0, 2.0]
    );
}

#[test]
fn duplicates_read_the_last_entry_like_numpy() {
    let bytes = common::read("duplicate.npz");
    let archive = list(&bytes).unwrap();
    assert_eq!(
        archive.array("a").unwrap().to_f64_vec().unwrap(),
        vec![1.0, 1.0, 1.0]
    );
}
