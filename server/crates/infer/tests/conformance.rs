//! Runs ONNX backend-test style cases (`model.onnx`, `test_data_set_*/
//! input_*.pb`, `output_*.pb`) with onnxruntime's outputs as the expected
//! values: tests/conformance/ml from scripts/gen_ml_conformance.py (ai.onnx.ml
//! operators) and tests/conformance/dl from scripts/gen_dl_conformance.py
//! (deep-learning operators and small networks).

mod common;

use common::{compare_values, repo};
use neuride_infer::{EngineChoice, Session, io};
use std::path::Path;

fn numbered(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    files.sort_by_key(|p| {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        name[prefix.len()..].parse::<usize>().unwrap_or(usize::MAX)
    });
    files
}

fn run_case(case: &Path, engine: EngineChoice) -> Vec<String> {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let bytes = std::fs::read(case.join("model.onnx")).unwrap();
    let session = match Session::load_with(&bytes, engine) {
        Ok(s) => s,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let mut problems = Vec::new();
    for set in numbered(case, "test_data_set_") {
        let input_files = numbered(&set, "input_");
        if input_files.len() != session.signature.inputs.len() {
            problems.push(format!(
                "{name}: {} input files, the model has {} inputs",
                input_files.len(),
                session.signature.inputs.len()
            ));
            continue;
        }
        let inputs = input_files
            .iter()
            .zip(&session.signature.inputs)
            .map(|(file, port)| {
                (
                    port.name.clone(),
                    io::read_pb(&std::fs::read(file).unwrap(), &port.ty).unwrap(),
                )
            })
            .collect();
        let outputs = match session.run(inputs) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let output_files = numbered(&set, "output_");
        if output_files.len() != outputs.len() {
            problems.push(format!(
                "{name}: {} outputs, expected {}",
                outputs.len(),
                output_files.len()
            ));
        }
        for (file, (out_name, got)) in output_files.iter().zip(&outputs) {
            let port = session
                .signature
                .outputs
                .iter()
                .find(|p| &p.name == out_name)
                .unwrap();
            let want = io::read_pb(&std::fs::read(file).unwrap(), &port.ty).unwrap();
            problems.extend(compare_values(&format!("{name} {out_name}"), got, &want));
        }
    }
    problems
}

/// Runs every case under `tests/conformance/<suite>` and fails on any
/// mismatch, except in the cases named in `known_failing`: those are run and
/// their problems printed, and listing a case that passes is itself a failure
/// (so the list shrinks as the engine gains support).
fn run_suite(suite: &str, engine: EngineChoice, min_cases: usize, known_failing: &[&str]) {
    let root = repo().join("tests/conformance").join(suite);
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= min_cases,
        "expected the generated {suite} cases, found {}",
        cases.len()
    );
    let names: Vec<String> = cases
        .iter()
        .map(|c| c.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    let unknown: Vec<_> = known_failing
        .iter()
        .filter(|k| !names.iter().any(|n| n == *k))
        .collect();
    assert!(
        unknown.is_empty(),
        "known-failing cases that do not exist: {unknown:?}"
    );
    let mut problems = Vec::new();
    let mut now_passing = Vec::new();
    for (case, name) in cases.iter().zip(&names) {
        let found = run_case(case, engine);
        if known_failing.contains(&name.as_str()) {
            if found.is_empty() {
                now_passing.push(name.clone());
            } else {
                eprintln!("known failure {name}:\n  {}", found.join("\n  "));
            }
        } else {
            problems.extend(found);
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        now_passing.is_empty(),
        "listed as known failures but now pass (remove them from the list): {now_passing:?}"
    );
}

#[test]
fn generated_ml_cases_match_onnxruntime() {
    run_suite("ml", EngineChoice::Auto, 40, &[]);
}

/// dl cases outside the native engine's reach, each with its reason.
const NATIVE_OUTSIDE: &[&str] = &[];

/// Every dl case on the native engine: `EngineChoice::Native` refuses to fall
/// back to tract, so a case it cannot compile fails here.
#[test]
fn generated_dl_cases_match_onnxruntime_on_the_native_engine() {
    run_suite("dl", EngineChoice::Native, 150, NATIVE_OUTSIDE);
}

/// The same cases on tract, which runs every DL graph outside the native
/// engine's reach.
#[test]
fn generated_dl_cases_match_onnxruntime_on_tract() {
    run_suite("dl", EngineChoice::Tract, 150, &[]);
}
