//! `neuride infer` / `neuride run` end to end on the real fixtures.

mod common;

use common::{convert_digits_mlp, neuride, neuride_json, neuride_ok, neuride_refused, repo};
use std::path::Path;

/// `neuride run MODEL` on the digits test set, scored against its labels,
/// reporting JSON.
fn run_on_digits(model: &str) -> [&str; 8] {
    [
        "run",
        model,
        "--input",
        "tests/fixtures/data/digits_test.npz",
        "--labels",
        "y",
        "--format",
        "json",
    ]
}

#[test]
fn run_scores_the_mlp_as_the_manifest_says() {
    let report = neuride_json(&run_on_digits("tests/fixtures/dl/digits_mlp.onnx"));
    assert_eq!(report["engine"], "native");
    assert_eq!(report["rows"], 450);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("tests/fixtures/MANIFEST.json")).unwrap(),
    )
    .unwrap();
    let want = manifest["dl/digits_mlp.onnx"]["test_accuracy"]
        .as_f64()
        .unwrap();
    let got = report["score"]["accuracy"].as_f64().unwrap();
    assert!(
        (got - want).abs() < 1e-9,
        "accuracy {got}, manifest says {want}"
    );
}

#[test]
fn infer_writes_npz_and_json_with_maps_as_objects() {
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("out.npz");
    let (stdout, stderr) = neuride_ok(&[
        "infer",
        "tests/fixtures/ml/iris_logreg.onnx",
        "-i",
        "tests/fixtures/data/iris.npz",
        "--labels",
        "y",
        "-o",
        npz.to_str().unwrap(),
    ]);
    assert!(stdout.contains("accuracy: 0.9"), "{stdout}");
    assert!(
        stderr.contains("'output_probability' is a sequence or map"),
        "{stderr}"
    );
    assert!(std::fs::read(&npz).unwrap().starts_with(b"PK"));

    let json = dir.path().join("out.json");
    neuride_ok(&[
        "infer",
        "tests/fixtures/ml/iris_logreg.onnx",
        "-i",
        "tests/fixtures/data/iris.npz",
        "-o",
        json.to_str().unwrap(),
    ]);
    let out: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let first = &out["output_probability"][0];
    let total: f64 = ["0", "1", "2"]
        .iter()
        .map(|k| first[k].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-5, "{first}");
    assert_eq!(out["output_label"].as_array().unwrap().len(), 150);
}

#[test]
fn mismatched_inputs_are_all_listed() {
    // The SNN export has a fixed [25, 4, 64] input; the test raster is [25, 450, 64] u8.
    let stderr = neuride_refused(&[
        "run",
        "tests/fixtures/snn/digits_snntorch.onnx",
        "--input",
        "tests/fixtures/data/digits_spikes_T25.npz",
    ]);
    assert!(
        stderr.contains("dimension 1 must be 4, found 450"),
        "{stderr}"
    );
}

#[test]
fn json_and_pb_inputs_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.json");
    std::fs::write(
        &input,
        r#"{"X": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}"#,
    )
    .unwrap();
    let report = neuride_json(&[
        "infer",
        "tests/fixtures/ml/iris_logreg_nozipmap.onnx",
        "-i",
        input.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(report["outputs"]["label"], serde_json::json!([0, 2]));

    let pb = "tests/conformance/ml/scaler/test_data_set_0/input_0.pb";
    let report = neuride_json(&[
        "infer",
        "tests/conformance/ml/scaler/model.onnx",
        "-i",
        &format!("X={pb}"),
        "--format",
        "json",
    ]);
    assert!(report["outputs"]["Y"].is_array(), "{report}");
}

#[test]
fn run_sends_a_custom_domain_snn_to_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let snn = convert_digits_mlp(dir.path());
    let (stdout, stderr) = neuride_ok(&run_on_digits(snn.to_str().unwrap()));
    assert!(
        stderr.contains("running it on the SNN simulator"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["samples"], 450);
    let accuracy = report["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.9, "{accuracy}");

    // More than one input file cannot be samples for the simulator.
    let stderr = neuride_refused(&[
        "run",
        snn.to_str().unwrap(),
        "--input",
        "tests/fixtures/data/digits_test.npz",
        "--input",
        "tests/fixtures/data/digits_calib.npz",
    ]);
    assert!(stderr.contains("one .npz of samples"), "{stderr}");
}

/// `array` (C order) rewritten as numpy stores `np.asfortranarray(array)`:
/// the same values, the first axis varying fastest.
fn fortran_copy(array: &neuride_npz::Array<'_>) -> neuride_npz::Array<'static> {
    assert!(!array.fortran_order);
    let item = array.dtype.size();
    let shape: Vec<usize> = array.shape.iter().map(|&d| d as usize).collect();
    let mut data = vec![0u8; array.data.len()];
    let mut index = vec![0usize; shape.len()];
    for c_offset in 0..array.element_count() as usize {
        // index of element c_offset (last axis fastest), then its Fortran offset.
        let mut rest = c_offset;
        for axis in (0..shape.len()).rev() {
            index[axis] = rest % shape[axis];
            rest /= shape[axis];
        }
        let mut f_offset = 0;
        for axis in (0..shape.len()).rev() {
            f_offset = f_offset * shape[axis] + index[axis];
        }
        data[f_offset * item..(f_offset + 1) * item]
            .copy_from_slice(&array.data[c_offset * item..(c_offset + 1) * item]);
    }
    neuride_npz::Array {
        fortran_order: true,
        data: data.into(),
        ..array.clone().into_owned()
    }
}

/// The arrays of an `.npz` as (name, C-order little-endian bytes, shape).
fn arrays_of(path: &std::path::Path) -> Vec<(String, Vec<u8>, Vec<u64>)> {
    let bytes = std::fs::read(path).unwrap();
    let archive = neuride_npz::list(&bytes).unwrap();
    archive
        .entries
        .iter()
        .map(|e| {
            let array = e.read().unwrap();
            (
                e.name.clone(),
                array.to_c_order_le().into_owned(),
                array.shape,
            )
        })
        .collect()
}

#[test]
fn fortran_ordered_inputs_give_the_outputs_of_c_ordered_ones() {
    use neuride_npz::{WriteOptions, write_npz};
    let dir = tempfile::tempdir().unwrap();
    // A 2-D input for the evaluator and a 4-D one for the native DL engine.
    for (model, data, input) in [
        ("ml/iris_logreg_nozipmap.onnx", "data/iris.npz", "X"),
        ("dl/digits_mlp.onnx", "data/digits_test.npz", "x"),
    ] {
        let bytes = std::fs::read(common::fixture(data)).unwrap();
        let archive = neuride_npz::list(&bytes).unwrap();
        let c_order = archive.array("x").unwrap();
        let fortran = fortran_copy(&c_order);
        assert_ne!(
            fortran.data, c_order.data,
            "{data}: the layouts must differ"
        );
        let mut outputs = Vec::new();
        for (layout, array) in [("c", &c_order), ("f", &fortran)] {
            let input_path = dir.path().join(format!("{input}_{layout}.npz"));
            std::fs::write(
                &input_path,
                write_npz(&[(input, array)], WriteOptions::stored()).unwrap(),
            )
            .unwrap();
            let output_path = dir.path().join(format!("out_{layout}.npz"));
            neuride_ok(&[
                "infer",
                &common::fixture(model),
                "--input",
                input_path.to_str().unwrap(),
                "-o",
                output_path.to_str().unwrap(),
            ]);
            outputs.push(arrays_of(&output_path));
        }
        assert!(!outputs[0].is_empty(), "{model}: no outputs");
        assert_eq!(outputs[0], outputs[1], "{model}");
    }
}

#[test]
fn outputs_infer_cannot_write_are_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    // A refused run exits 2 before running: nothing on stdout, no file.
    let refused = |args: &[&str], out: &Path| {
        let (code, stdout, stderr) = neuride(args);
        assert_eq!(code, 2, "{stderr}");
        assert!(stdout.is_empty(), "the model ran: {stdout}");
        assert!(!out.exists());
        stderr
    };
    let csv = dir.path().join("out.csv");
    let stderr = refused(
        &[
            "infer",
            "tests/fixtures/ml/iris_logreg_nozipmap.onnx",
            "-i",
            "tests/fixtures/data/iris.npz",
            "-o",
            csv.to_str().unwrap(),
        ],
        &csv,
    );
    assert!(
        stderr.contains(&format!(
            "cannot write {}: this command writes .npz or .json, not a .csv file",
            csv.display()
        )),
        "{stderr}"
    );

    // `run` on a model for the simulator would drop -o silently; it refuses it.
    let snn = convert_digits_mlp(dir.path());
    let out = dir.path().join("out.npz");
    let stderr = refused(
        &[
            "run",
            snn.to_str().unwrap(),
            "--input",
            "tests/fixtures/data/digits_test.npz",
            "-o",
            out.to_str().unwrap(),
        ],
        &out,
    );
    assert!(
        stderr.contains(&format!("cannot write {}", out.display()))
            && stderr.contains("runs on the simulator, which writes no output file"),
        "{stderr}"
    );
}
