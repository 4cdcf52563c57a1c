//! What the CLI tests share: the repository's paths and running the real
//! `neuride` binary as a user would (from the repository root).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// A path under `tests/fixtures`, as a string argument.
pub fn fixture(relative: &str) -> String {
    repo()
        .join("tests/fixtures")
        .join(relative)
        .display()
        .to_string()
}

/// A path under `examples`, as a string argument.
pub fn example(relative: &str) -> String {
    repo().join("examples").join(relative).display().to_string()
}

/// Exit code, stdout and stderr of `neuride ARGS...` run in the repository
/// root, which must not panic.
pub fn neuride(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neuride"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "neuride panicked: {stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// Stdout and stderr of `neuride ARGS...`, which must exit with 0.
pub fn neuride_ok(args: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = neuride(args);
    assert_eq!(code, 0, "neuride {args:?}: {stdout}{stderr}");
    (stdout, stderr)
}

/// The stderr of `neuride ARGS...`, which must refuse to run (exit code 2:
/// bad arguments or input, said on stderr).
pub fn neuride_refused(args: &[&str]) -> String {
    let (code, stdout, stderr) = neuride(args);
    assert_eq!(code, 2, "neuride {args:?}: {stdout}{stderr}");
    stderr
}

/// The JSON that `neuride ARGS...` prints, which must exit with 0.
pub fn neuride_json(args: &[&str]) -> serde_json::Value {
    let (stdout, _) = neuride_ok(args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Converts the digits MLP (calibrated on `digits_calib.npz`) into
/// `DIR/mlp.neuro`, `mlp.npz` and `mlp.snn.onnx`; returns the last.
pub fn convert_digits_mlp(dir: &Path) -> PathBuf {
    let neuro = dir.join("mlp.neuro");
    neuride_ok(&[
        "convert",
        &fixture("dl/digits_mlp.onnx"),
        "--calib",
        &fixture("data/digits_calib.npz"),
        "-o",
        neuro.to_str().unwrap(),
    ]);
    dir.join("mlp.snn.onnx")
}

/// `neuride simulate` of the digits MLP as the `.neuro` tests write it:
/// calibrated, 20 steps, the first 100 test samples in batches of 32, JSON.
pub fn simulate_digits_mlp() -> serde_json::Value {
    simulate_report(&[
        "simulate",
        &fixture("dl/digits_mlp.onnx"),
        "--data",
        &fixture("data/digits_test.npz"),
        "--calib",
        &fixture("data/digits_calib.npz"),
        "--steps",
        "20",
        "--limit",
        "100",
        "--batch",
        "32",
        "--format",
        "json",
    ])
}

/// The fields the issue names for a simulation report (`--format json`).
pub const SIMULATE_FIELDS: &[&str] = neuride_convert::SimulateReport::JSON_FIELDS;

/// The report of `neuride ARGS...` (a simulation with `--format json`),
/// checked to have every field of [`SIMULATE_FIELDS`].
pub fn simulate_report(args: &[&str]) -> serde_json::Value {
    let json = neuride_json(args);
    for key in SIMULATE_FIELDS {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    json
}
