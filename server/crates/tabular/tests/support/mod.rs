//! Shared by the tabular crate's tests: the fixture table and the test
//! environment's Python (scripts/test-venv).

#![allow(dead_code)]

use neuride_tabular::{Assign, ImageMap, Method, Options, fit};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// `x` (rows x features, f64), `y` and `module` of an archive.
pub struct Table {
    pub x: Vec<f64>,
    pub rows: usize,
    pub features: usize,
    pub module: Vec<i64>,
}

pub fn npz(relative: &str) -> Vec<(String, Vec<u64>, Vec<f64>)> {
    let bytes = std::fs::read(repo_root().join(relative)).unwrap();
    let archive = neuride_npz::list(&bytes).unwrap();
    archive
        .names()
        .map(|name| {
            let array = archive.array(name).unwrap();
            (
                name.to_owned(),
                array.shape.clone(),
                array.to_f64_vec().unwrap(),
            )
        })
        .collect()
}

pub fn array(arrays: &[(String, Vec<u64>, Vec<f64>)], name: &str) -> (Vec<u64>, Vec<f64>) {
    let (_, shape, values) = arrays
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no array {name}"));
    (shape.clone(), values.clone())
}

pub fn genes() -> Table {
    let arrays = npz("tests/fixtures/data/genes_modules.npz");
    let (shape, x) = array(&arrays, "x");
    let (_, module) = array(&arrays, "module");
    Table {
        x,
        rows: shape[0] as usize,
        features: shape[1] as usize,
        module: module.iter().map(|&m| m as i64).collect(),
    }
}

impl Table {
    /// The table's features placed on a 12x12 image by `method` and `assign`
    /// (the other options at their defaults).
    pub fn map(&self, method: Method, assign: Assign) -> ImageMap {
        let options = Options {
            size: [12, 12],
            method,
            assign,
            ..Options::default()
        };
        fit(&self.x, self.features, &options, &AtomicBool::new(false)).unwrap()
    }
}

/// The test environment's python (created on first use).
pub fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(repo_root().join("scripts/test-venv"))
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/test-venv");
            assert!(out.status.success(), "scripts/test-venv failed");
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        })
        .clone()
}

/// Runs `script` in the test python with `input` as JSON on stdin and
/// returns what it prints as JSON.
pub fn run_python(script: &str, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
