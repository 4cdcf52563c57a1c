//! Every real model under tests/fixtures passes onnx.checker (see
//! scripts/make_check_cases.py, which asserts that too), so the checker must
//! find no error in any of them.

use neuride_onnx::Severity;
use neuride_onnx::check::check_loaded;
use neuride_onnx::load::load_file;
use std::path::{Path, PathBuf};

#[test]
fn every_fixture_checks_without_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures");
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "onnx"))
        .collect();
    assert!(
        files.len() >= 8,
        "fixtures missing under {}",
        root.display()
    );
    let mut report = String::new();
    for file in &files {
        let model = load_file(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let diagnostics = check_loaded(&model);
        let errors: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        report.push_str(&format!(
            "{name}: {} errors, {} other\n",
            errors.len(),
            diagnostics.len() - errors.len()
        ));
        for d in diagnostics {
            report.push_str(&format!("  {:?} {} {}\n", d.severity, d.code, d.message));
        }
    }
    expect_test::expect_file!["data/check/fixtures.txt"].assert_eq(&report);
}
