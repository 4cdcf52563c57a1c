//! What the CLI tests share: the repository's paths and running the real
//! `neuride` binary as a user would (from the repository root).
#![allow(dead_code)]

use std::path::PathBuf;
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

/// Exit code, stdout and stderr of `neuride ARGS...` run in the repository root.
pub fn neuride(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neuride"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fields the issue names for a simulation report (`--format json`).
pub const SIMULATE_FIELDS: &[&str] = &[
    "accuracy",
    "accuracy_per_step",
    "rates",
    "synops",
    "macs",
    "samples",
    "steps",
    "wall_s",
];

/// Parses a simulation report and checks it has every field of [`SIMULATE_FIELDS`].
pub fn simulate_report(stdout: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(stdout).unwrap();
    for key in SIMULATE_FIELDS {
        assert!(json.get(key).is_some(), "missing {key}: {stdout}");
    }
    json
}
