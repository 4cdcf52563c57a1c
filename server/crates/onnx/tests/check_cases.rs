//! One real failing model per checker rule, made by scripts/make_check_cases.py
//! (which also asserts onnx.checker's verdict on each): the expected code must
//! be among the diagnostics, and the full output is snapshotted.

use neuride_onnx::Severity;
use neuride_onnx::check::check_loaded;
use neuride_onnx::load::load_file;
use std::path::Path;

#[derive(serde::Deserialize)]
struct Case {
    code: Option<String>,
    onnx_rejects: bool,
}

#[test]
fn every_rule_fires_on_its_failing_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check");
    let manifest = std::fs::read_to_string(dir.join("cases.json")).unwrap();
    let cases: std::collections::BTreeMap<String, Case> = serde_json::from_str(&manifest).unwrap();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut report = String::new();
    let mut missing = Vec::new();
    for (file, case) in &cases {
        let model = load_file(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let diagnostics = check_loaded(&model);
        let has_error = diagnostics.iter().any(|d| d.severity == Severity::Error);
        match &case.code {
            Some(code) if !diagnostics.iter().any(|d| d.code == code) => {
                missing.push(format!("{file}: no {code}"))
            }
            None if !diagnostics.is_empty() => {
                missing.push(format!("{file}: expected no diagnostics"))
            }
            _ => {}
        }
        // Whenever onnx.checker rejects a model, we must report an error too.
        if case.onnx_rejects && !has_error && case.code.as_deref() != Some("onnx/deprecated-op") {
            missing.push(format!(
                "{file}: onnx.checker rejects it but no error was reported"
            ));
        }
        report.push_str(&format!("{file}\n"));
        for d in &diagnostics {
            report.push_str(&format!("  {:?} {} {}\n", d.severity, d.code, d.message));
        }
    }
    expect_test::expect_file!["data/check/cases.txt"].assert_eq(&report);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
