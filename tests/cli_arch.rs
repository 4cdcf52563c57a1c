//! The seven torchvision architectures of issue 14 (resnet18, vgg11_bn,
//! squeezenet1_1, densenet121, mobilenet_v2, googlenet, alexnet) converted
//! and simulated by the real binary. CI has no torch: the graphs come from
//! scripts/make_arch_graphs.py (numpy + onnx from the test environment),
//! which writes them with the structure of PyTorch's exports at a reduced
//! width, plus a ResNet with external weights and an AlexNet whose weights
//! and flatten are computed in the graph. The full-size exports are the
//! documented longer check (docs/snn.md, "Real architectures").

#[path = "e2e/support.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

fn neuride(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(support::binary())
        .args(args)
        .current_dir(support::repo_root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The graphs, made once for all tests of this file.
fn graphs() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(support::test_python())
            .arg(support::repo_root().join("scripts/make_arch_graphs.py"))
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make_arch_graphs.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn path(name: &str) -> String {
    graphs().join(name).display().to_string()
}

/// The data file for a model (vgg and alexnet take 224x224, the rest 64x64).
fn data_of(name: &str) -> String {
    if name.starts_with("vgg") || name.starts_with("alexnet") {
        path("data224.npz")
    } else {
        path("data64.npz")
    }
}

fn simulate(model: &str, data: &str, steps: &str) -> Value {
    let (code, stdout, stderr) = neuride(&[
        "simulate", model, "--data", data, "--steps", steps, "--limit", "2", "--batch", "2",
        "--format", "json",
    ]);
    assert_eq!(code, 0, "simulate {model}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Converts `name`, checks the `.neuro` it wrote, and simulates a few samples.
fn converts_checks_and_simulates(name: &str) -> Value {
    let model = path(&format!("{name}.onnx"));
    let data = data_of(name);
    let out = graphs().join(format!("{name}_snn.neuro"));
    let (code, stdout, stderr) = neuride(&[
        "convert",
        &model,
        "--calib",
        &data,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "convert {name}: {stderr}");
    assert!(stdout.contains("lambda"), "{stdout}");
    let (code, stdout, stderr) = neuride(&["check", out.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        code, 0,
        "the converted {name} checks clean: {stdout}{stderr}"
    );
    let report = simulate(&model, &data, "8");
    assert_eq!(report["samples"], 2);
    assert_eq!(report["predictions"].as_array().unwrap().len(), 2);
    let rates = report["rates"].as_array().unwrap();
    assert!(!rates.is_empty(), "{name}: spiking layers");
    assert!(
        rates.iter().any(|r| r["spikes"].as_f64().unwrap() > 0.0),
        "{name}: some layer spikes: {rates:?}"
    );
    report
}

#[test]
fn resnet18_converts_and_simulates() {
    let report = converts_checks_and_simulates("resnet18");
    // The same graph with its weights in an external file gives the same run.
    let external = simulate(&path("resnet18_external.onnx"), &data_of("resnet18"), "8");
    assert_eq!(external["predictions"], report["predictions"]);
    assert_eq!(external["rates"], report["rates"]);
}

#[test]
fn vgg11_bn_converts_and_simulates() {
    converts_checks_and_simulates("vgg11_bn");
}

#[test]
fn squeezenet1_1_converts_and_simulates() {
    converts_checks_and_simulates("squeezenet1_1");
}

#[test]
fn densenet121_converts_and_simulates() {
    converts_checks_and_simulates("densenet121");
}

#[test]
fn mobilenet_v2_converts_and_simulates() {
    converts_checks_and_simulates("mobilenet_v2");
}

#[test]
fn googlenet_converts_and_simulates() {
    converts_checks_and_simulates("googlenet");
}

#[test]
fn alexnet_converts_and_simulates() {
    let report = converts_checks_and_simulates("alexnet");
    // Weights and the flatten computed in the graph fold to the same network.
    let folded = simulate(&path("alexnet_folded.onnx"), &data_of("alexnet"), "8");
    assert_eq!(folded["predictions"], report["predictions"]);
    assert_eq!(folded["rates"], report["rates"]);
}

/// The three trained nets of scripts/train_arch_nets.py (residual blocks,
/// fire modules with concatenation, inverted residuals with depthwise convs
/// and ReLU6) convert and, within 64 steps, come within 1.5 points of their
/// ANN on all 450 test images, with the conversion's defaults (percentile
/// normalisation, membrane starting at half the threshold, spiking max-pool).
#[test]
fn trained_architectures_come_within_one_and_a_half_points_of_their_ann() {
    let data = support::fixture("data/digits16_test.npz");
    let calib = support::fixture("data/digits16_calib.npz");
    for name in ["digits16_resnet", "digits16_fire", "digits16_mobile"] {
        let model = support::fixture(&format!("dl/{name}.onnx"));
        let (code, stdout, stderr) = neuride(&[
            "simulate",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--calib",
            calib.to_str().unwrap(),
            "--steps",
            "64",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "simulate {name}: {stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["samples"], 450, "{name}");
        let ann = report["ann_accuracy"].as_f64().unwrap();
        let best = report["accuracy_per_step"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap())
            .fold(0.0, f64::max);
        assert!(ann > 0.9, "{name}: the ANN was trained ({ann})");
        assert!(
            ann - best <= 0.015,
            "{name}: SNN {best} within 64 steps against ANN {ann}"
        );
    }
}
