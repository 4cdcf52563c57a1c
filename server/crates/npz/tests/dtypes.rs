//! Every numeric dtype numpy writes, both byte orders, C and Fortran order,
//! 0-d and empty, stored and deflated: values and stats must equal numpy's.

mod common;

use neuride_npz::{Array, Compression, DType, SummaryOptions, list, stats, summarize};
use serde_json::Value;

fn values_of(array: &Array<'_>) -> Vec<Value> {
    if array.dtype.is_complex() {
        // Read pairs through the f64 view of the standard (LE, C-order) copy.
        let standard = array.to_standard(false).unwrap();
        let part = if array.dtype == DType::Complex64 {
            DType::Float32
        } else {
            DType::Float64
        };
        let mut shape = array.shape.clone();
        shape.push(2);
        let parts = Array::new(part, shape, standard.data.into_owned())
            .unwrap()
            .to_f64_vec()
            .unwrap();
        parts
            .chunks(2)
            .map(|p| serde_json::json!([p[0], p[1]]))
            .collect()
    } else {
        array
            .to_f64_vec()
            .unwrap()
            .into_iter()
            .map(|v| serde_json::json!(v))
            .collect()
    }
}

fn check_archive(file: &str, compression: Compression) {
    let bytes = common::read(file);
    let archive = list(&bytes).unwrap();
    assert!(
        archive.diagnostics.is_empty(),
        "{file}: {:?}",
        archive.diagnostics
    );
    let expected = common::expected();
    let expected = expected["arrays"].as_object().unwrap();
    assert_eq!(archive.entries.len(), expected.len());
    for (name, want) in expected {
        let entry = archive
            .entry(name)
            .unwrap_or_else(|| panic!("{file}: no {name}"));
        assert_eq!(entry.compression, compression);
        let array = entry
            .read()
            .unwrap_or_else(|e| panic!("{file}: {name}: {e}"));
        assert_eq!(
            array.is_borrowed(),
            compression == Compression::Stored,
            "{name}: zero copy only when stored"
        );
        assert_eq!(array.dtype.numpy_name(), want["dtype"], "{name}");
        assert_eq!(serde_json::json!(array.shape), want["shape"], "{name}");
        assert_eq!(array.fortran_order, want["fortran_order"], "{name}");
        assert_eq!(
            array.byte_order.as_char().to_string(),
            want["byte_order"],
            "{name}"
        );
        assert_eq!(Value::Array(values_of(&array)), want["values"], "{name}");
        let got = stats(&array);
        if let Some(want_stats) = want.get("stats") {
            for (key, value) in [
                ("min", got.min),
                ("max", got.max),
                ("mean", got.mean),
                ("std", got.std),
            ] {
                let want_value = want_stats[key].as_f64().unwrap();
                let value = value.unwrap_or_else(|| panic!("{name}: no {key}"));
                assert!(
                    (value - want_value).abs() <= 1e-9 * want_value.abs().max(1.0),
                    "{name} {key}: {value} vs numpy {want_value}"
                );
            }
        } else if !array.dtype.is_complex() {
            assert_eq!(got.min, None, "{name}: empty arrays have no min");
        }
    }
    let summary = summarize(&archive, SummaryOptions::default());
    assert!(
        summary.diagnostics.is_empty(),
        "{file}: {:?}",
        summary.diagnostics
    );
}

#[test]
fn stored_archive_of_every_dtype_matches_numpy() {
    check_archive("dtypes_stored.npz", Compression::Stored);
}

#[test]
fn deflated_archive_of_every_dtype_matches_numpy() {
    check_archive("dtypes_deflated.npz", Compression::Deflated);
}

#[test]
fn zip64_archives_made_by_python_zipfile_read() {
    let expected = common::expected();
    for file in ["zip64_stored.npz", "zip64_deflated.npz"] {
        let bytes = common::read(file);
        // The files really are zip64: a zip64 end record and zip64 extras.
        assert!(
            bytes.windows(4).any(|w| w == b"PK\x06\x06"),
            "{file} has no zip64 end record"
        );
        let archive = list(&bytes).unwrap();
        assert!(archive.diagnostics.is_empty(), "{:?}", archive.diagnostics);
        for name in ["a", "b"] {
            let array = archive.array(name).unwrap();
            let want = &expected["zip64_arrays"][name];
            assert_eq!(serde_json::json!(array.shape), want["shape"]);
            assert_eq!(
                Value::Array(values_of(&array)),
                want["values"],
                "{file} {name}"
            );
        }
    }
}

#[test]
fn npy_format_versions_1_2_3_read() {
    let want = vec![
        0.0f32, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75,
    ];
    for (file, major) in [
        ("version_1_0.npy", 1),
        ("version_2_0.npy", 2),
        ("version_3_0.npy", 3),
    ] {
        let bytes = common::read(file);
        let header = neuride_npz::npy::parse_header(&bytes).unwrap();
        assert_eq!(header.version, (major, 0));
        let array = neuride_npz::read_npy(&bytes, "x").unwrap();
        assert_eq!(array.shape, vec![3, 4]);
        assert_eq!(array.to_f32_vec().unwrap(), want, "{file}");
        let streamed = neuride_npz::read_npy_from(&bytes[..], "x").unwrap();
        assert_eq!(streamed, array.clone().into_owned());
    }
}

#[test]
fn big_endian_fortran_npy_from_np_save() {
    let bytes = common::read("saved_f8_fortran.npy");
    let array = neuride_npz::read_npy(&bytes, "x").unwrap();
    assert!(array.fortran_order && array.byte_order.is_big());
    assert_eq!(
        array.to_f64_vec().unwrap(),
        vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    // Writing it back gives np.save's bytes exactly.
    assert_eq!(neuride_npz::write_npy(&array), bytes);
    let scalar = common::read("saved_u1_scalar.npy");
    let array = neuride_npz::read_npy(&scalar, "s").unwrap();
    assert_eq!(
        (array.shape.len(), array.to_f64_vec().unwrap()),
        (0, vec![7.0])
    );
    assert_eq!(neuride_npz::write_npy(&array), scalar);
}

#[test]
fn unicode_array_from_np_savez_reads_as_strings() {
    // make_npz_cases.py: text=np.array(["ab", "c"]), a '<U2'.
    let bytes = common::read("unsupported.npz");
    let archive = list(&bytes).unwrap();
    let text = archive.entry("text").unwrap();
    let header = text.header.as_ref().unwrap();
    assert_eq!(header.element.name(), "<U2");
    assert_eq!(header.data_len(), Some(16));
    let strings = text.read_strings().unwrap();
    assert_eq!(strings.shape, vec![2]);
    assert_eq!(strings.values, vec!["ab".to_owned(), "c".to_owned()]);
    // Structured arrays stay unread.
    assert_eq!(
        archive
            .entry("rec")
            .unwrap()
            .read_strings()
            .unwrap_err()
            .code(),
        "npz/not-text"
    );
}

#[test]
fn listing_reads_headers_only() {
    // Scramble every stored array's data (not its header): listing still sees
    // a clean archive, and only reading the data (CRC) notices.
    let bytes = common::read("dtypes_stored.npz");
    let mut scrambled = bytes.clone();
    let archive = list(&bytes).unwrap();
    let mut touched = 0;
    for entry in &archive.entries {
        let start = entry.stored.as_ptr() as usize - bytes.as_ptr() as usize;
        let header = entry.header.as_ref().unwrap();
        for byte in &mut scrambled[start + header.data_offset..start + entry.stored.len()] {
            *byte ^= 0x5a;
            touched += 1;
        }
    }
    assert!(touched > 1000);
    let listed = list(&scrambled).unwrap();
    assert!(listed.diagnostics.is_empty());
    let summary = summarize(&listed, SummaryOptions { read_data: false });
    assert!(summary.diagnostics.is_empty());
    assert_eq!(summary.arrays.len(), archive.entries.len());
    let summary = summarize(&listed, SummaryOptions::default());
    let crc_errors = summary
        .diagnostics
        .iter()
        .filter(|d| d.code == "npz/crc-mismatch")
        .count();
    let non_empty = archive
        .entries
        .iter()
        .filter(|e| e.header.as_ref().unwrap().data_len() != Some(0))
        .count();
    assert_eq!(crc_errors, non_empty);
}
