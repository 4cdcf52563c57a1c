//! `neuride simulate` and `neuride convert` driven as a user would, on the
//! real fixtures.

mod common;

use common::{
    example, fixture, neuride, neuride_json, neuride_ok, neuride_refused, simulate_digits_mlp,
    simulate_report,
};

#[test]
fn simulate_prints_the_json_report() {
    let json = simulate_digits_mlp();
    assert_eq!(json["samples"], 100);
    assert_eq!(json["steps"], 20);
    assert_eq!(json["accuracy_per_step"].as_array().unwrap().len(), 20);
    assert!(json["accuracy"].as_f64().unwrap() > 0.9, "{json}");
}

#[test]
fn convert_writes_neuro_npz_and_snn_onnx_that_simulates_alike() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("digits_snn.neuro");
    let (stdout, _) = neuride_ok(&[
        "convert",
        &fixture("dl/digits_cnn.onnx"),
        "--calib",
        &fixture("data/digits_calib.npz"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("lambda"), "{stdout}");
    let neuro = std::fs::read_to_string(&out).unwrap();
    assert!(
        neuro.contains("weights w = npz(\"digits_snn.npz\")")
            && neuro.contains("network digits_snn {"),
        "{neuro}"
    );
    assert!(dir.path().join("digits_snn.npz").exists());
    let onnx = dir.path().join("digits_snn.snn.onnx");
    let args = |model: &str, normalize: &str| {
        vec![
            "simulate".to_string(),
            model.to_string(),
            "--data".into(),
            fixture("data/digits_test.npz"),
            "--calib".into(),
            fixture("data/digits_calib.npz"),
            "--normalize".into(),
            normalize.into(),
            "--steps".into(),
            "30".into(),
            "--limit".into(),
            "120".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let run = |a: Vec<String>| neuride_json(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let from_ann = run(args(&fixture("dl/digits_cnn.onnx"), "percentile:99.9"));
    let from_snn = run(args(onnx.to_str().unwrap(), "none"));
    assert_eq!(
        from_ann["predictions"], from_snn["predictions"],
        "the written ONNX is the same spiking network"
    );
}

#[test]
fn neuro_files_and_unconvertible_models_fail_with_clear_messages() {
    let stderr = neuride_refused(&[
        "simulate",
        &example("handwritten-snn/mlp.neuro"),
        "--run",
        "test",
    ]);
    assert!(
        stderr.contains(
            "mlp.neuro: no simulate block for 'test' (simulate blocks: lif_mlp, leaky_mlp)"
        ),
        "{stderr}"
    );

    let stderr = neuride_refused(&["simulate", &fixture("dl/digits_mlp.onnx")]);
    assert!(
        stderr.contains("--data D.npz is required to simulate an ONNX model"),
        "{stderr}"
    );

    let stderr = neuride_refused(&[
        "simulate",
        &fixture("ml/iris_logreg_nozipmap.onnx"),
        "--data",
        &fixture("data/iris.npz"),
        "--normalize",
        "none",
    ]);
    assert!(
        stderr.contains("cannot be converted") && stderr.contains("LinearClassifier"),
        "{stderr}"
    );
}

#[test]
fn simulate_runs_a_neuro_simulate_block() {
    let json = simulate_report(&[
        "simulate",
        &example("handwritten-snn/mlp.neuro"),
        "--run",
        "lif_mlp",
        "--format",
        "json",
    ]);
    // The block's settings: all 450 samples, 100 steps, rate in, count out.
    assert_eq!(json["network"], "lif_mlp");
    assert_eq!(json["dataset"], "test");
    assert_eq!(json["samples"], 450);
    assert_eq!(json["steps"], 100);
    assert_eq!(json["encode"], "rate");
    assert_eq!(json["decode"], "count");
    assert_eq!(json["accuracy_per_step"].as_array().unwrap().len(), 100);
    let layers: Vec<&str> = json["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["image", "hidden_spikes", "counts"]);
    assert!(json["synops"].as_f64().unwrap() > 0.0);
    assert_eq!(
        json["macs"].as_f64().unwrap(),
        450.0 * (64.0 * 64.0 + 10.0 * 64.0)
    );
    let accuracy = json["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.2, "above chance: {accuracy}");

    let (stdout, _) = neuride_ok(&["simulate", &example("handwritten-snn/mlp.neuro")]);
    assert!(
        stdout.starts_with("simulate lif_mlp on test (written network)")
            && stdout.contains("accuracy"),
        "{stdout}"
    );
}

/// A converted network in a .neuro file gives what the .onnx path gives
/// for the same settings.
#[test]
fn a_neuro_convert_block_simulates_like_the_onnx_model() {
    let neuro = fixture("neuro/digits_mlp_converted.neuro");
    let from_neuro = neuride_json(&["simulate", &neuro, "--format", "json"]);
    let from_onnx = simulate_digits_mlp();
    for key in [
        "accuracy",
        "accuracy_per_step",
        "predictions",
        "synops",
        "macs",
        "scales",
    ] {
        assert_eq!(from_neuro[key], from_onnx[key], "{key}");
    }
    assert!(from_neuro["accuracy"].as_f64().unwrap() > 0.9);
}

#[test]
fn infer_runs_a_neuro_infer_block() {
    let json = neuride_json(&[
        "infer",
        &example("iot-app/greenhouse.neuro"),
        "--format",
        "json",
    ]);
    assert_eq!(json["model"], "iris");
    assert_eq!(json["rows"], 150);
    assert!(json["accuracy"].as_f64().unwrap() > 0.95, "{json}");

    let stderr = neuride_refused(&["infer", &fixture("dl/digits_mlp.onnx")]);
    assert!(stderr.contains("--input is required"), "{stderr}");
}

#[test]
fn converted_networks_check_clean_for_every_neuron() {
    for neuron in ["if", "lif", "leaky"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cnn_snn.neuro");
        neuride_ok(&[
            "convert",
            &fixture("dl/digits_cnn.onnx"),
            "--calib",
            &fixture("data/digits_calib.npz"),
            "--neuron",
            neuron,
            "-o",
            out.to_str().unwrap(),
        ]);
        // What the converter writes is valid Neuro: every argument known.
        let (code, stdout, stderr) = neuride(&["check", dir.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{neuron}: {stdout}{stderr}");
        assert!(
            stdout.contains("0 errors, 0 warnings"),
            "{neuron}: {stdout}"
        );
    }
}

#[test]
fn convert_refuses_an_output_it_cannot_write_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // .neuro and .nir are what convert writes; an HDF5 file of another kind is not.
    let out = dir.path().join("mlp.h5");
    let stderr = neuride_refused(&[
        "convert",
        &fixture("dl/digits_mlp.onnx"),
        "--calib",
        &fixture("data/digits_calib.npz"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains(&format!(
            "cannot write {}: this command writes .neuro or .nir, not a .h5 file",
            out.display()
        )),
        "{stderr}"
    );
    let written: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
}
