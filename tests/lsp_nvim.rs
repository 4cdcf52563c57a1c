//! A real third-party client: Neovim, headless, with tests/nvim/init.lua
//! (the configuration docs/editors.md documents) attaching `neuride lsp` to a
//! workspace with a broken model; the test asserts the diagnostics Neovim
//! received. CI installs Neovim (scripts/test-all), so there a missing
//! `nvim` fails the test; elsewhere it is skipped with a message.

#[path = "e2e/support.rs"]
mod support;

use serde_json::Value;
use std::process::Command;

fn nvim_available() -> bool {
    Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn neovim_receives_diagnostics_for_a_broken_model() {
    if !nvim_available() {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "nvim is not installed, but CI must run the Neovim client test (see scripts/test-all)"
        );
        eprintln!(
            "SKIPPED: nvim is not installed; install Neovim to run the third-party client test"
        );
        return;
    }
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    std::fs::write(
        root.join("broken.onnx"),
        [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
    )
    .unwrap();
    std::fs::write(root.join("app.neuro"), "").unwrap();
    let out = root.join("diagnostics.jsonl");
    let status = Command::new("nvim")
        .args(["--headless", "--clean", "-u"])
        .arg(support::repo_root().join("tests/nvim/init.lua"))
        .env("NEURIDE_NVIM_ROOT", &root)
        .env("NEURIDE_NVIM_OUT", &out)
        .env("NEURIDE_BIN", support::binary())
        .env("NEURIDE_LOG", "warn")
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(status.status.success(), "nvim failed: {status:?}");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let published: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let broken_uri = support::file_uri(&root.join("broken.onnx"));
    let broken = published
        .iter()
        .find(|p| p["uri"] == broken_uri.as_str())
        .unwrap_or_else(|| panic!("no diagnostics for broken.onnx in {text}"));
    let diagnostics = broken["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0]["code"], "onnx/decode-error");
    assert_eq!(diagnostics[0]["severity"], 1);
    assert_eq!(diagnostics[0]["source"], "neuride");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        serde_json::json!({ "line": 0, "character": 0 })
    );
}
