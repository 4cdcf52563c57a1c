//! `neuride check` run as a user runs it: exit codes, the JSON shape, folder
//! walking with .gitignore, on the real fixtures and on broken files.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

fn check(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(support::binary())
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn fixture_models_have_no_errors() {
    let folder = support::fixture("");
    let (code, stdout, stderr) = check(&[folder.to_str().unwrap(), "--format", "json"]);
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let files = report["files"].as_array().unwrap();
    let models = files.iter().filter(|f| f["kind"] == "onnx").count();
    assert_eq!(models, 12, "{stdout}");
    assert!(files.iter().any(|f| f["kind"] == "npz"));
    for file in files {
        for diagnostic in file["diagnostics"].as_array().unwrap() {
            assert_ne!(
                diagnostic["severity"], "error",
                "{}: {diagnostic}",
                file["path"]
            );
        }
    }
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn broken_files_fail_with_located_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.onnx"),
        [0xffu8, 0xff, 0xff, 0xff, 0x0f, 1, 2],
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.onnx"), b"").unwrap();
    std::fs::write(dir.path().join("weights.npz"), b"not a zip at all").unwrap();
    let (code, stdout, _) = check(&[dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    let paths: Vec<String> = files
        .iter()
        .map(|f| {
            std::path::Path::new(f["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(paths, ["bad.onnx", "empty.onnx", "weights.npz"]);
    let empty = &files[1];
    assert_eq!(
        empty["diagnostics"],
        json!([{
            "severity": "error",
            "code": "onnx/empty-file",
            "message": "empty file: an ONNX model (protobuf ModelProto) was expected",
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 62 } }
        }])
    );
    assert_eq!(files[0]["diagnostics"][0]["code"], "onnx/decode-error");
    assert_eq!(files[2]["kind"], "npz");
    assert_eq!(files[2]["diagnostics"][0]["severity"], "error");
    assert_eq!(report["summary"], json!({ "errors": 3, "warnings": 0 }));
}

#[test]
fn human_output_and_gitignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scratch")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "scratch/\n").unwrap();
    std::fs::write(dir.path().join("scratch/bad.onnx"), b"junk").unwrap();
    std::fs::copy(
        support::fixture("ml/iris_logreg.onnx"),
        dir.path().join("iris.onnx"),
    )
    .unwrap();
    let (code, stdout, _) = check(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.ends_with("checked 1 file: 0 errors, 0 warnings\n"),
        "{stdout}"
    );

    let bad = dir.path().join("scratch/bad.onnx");
    let (code, stdout, _) = check(&[bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with(&format!(
            "{}  onnx  not a model  4 B  1 error\n  {}:1:1: error[onnx/decode-error]: ",
            bad.display(),
            bad.display()
        )),
        "{stdout}"
    );
    // --quiet: the diagnostics and the summary only.
    let (code, stdout, _) = check(&[bad.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 1);
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{}:1:1: error[onnx/decode-error]: ",
            bad.display()
        )),
        "{stdout}"
    );
}

#[test]
fn command_failures_exit_2() {
    let (code, _, stderr) = check(&["/definitely/not/here.onnx"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read /definitely/not/here.onnx"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hi").unwrap();
    let (code, _, stderr) = check(&[text.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("not a .onnx, .nir, .npz, .npy or .neuro file"),
        "{stderr}"
    );
}

/// `neuride check` on files no editor would write: 400,000 comparisons in a
/// rule (the 8 MiB main thread overflowed at about that many), 100,000 `!`
/// (100,000 errors whose positions took 15 s to compute) and 100,000 nested
/// brackets. Each exits 1 with a short list of located errors, never dies
/// of a signal, and takes well under the bound even in a debug build.
#[test]
fn pathological_neuro_files_fail_quickly_with_few_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |condition: String| {
        format!(
            "app a {{\n    sensor s: f32[1] @ 1Hz = mqtt(\"t\")\n    rule r when {condition} => emit \"e\"\n}}\n"
        )
    };
    let too_deep = "error[neuro/syntax]: expected an expression nested at most 64 levels deep";
    let cases = [
        (
            "chain.neuro",
            rule(format!("s{}", " == s".repeat(400_000))),
            too_deep,
        ),
        (
            "bang.neuro",
            rule(format!("{}s", "!".repeat(100_000))),
            "error[neuro/syntax]: unexpected character `!` (and 99999 more unexpected characters on this line)",
        ),
        (
            "parens.neuro",
            rule(format!("{}s{}", "(".repeat(100_000), ")".repeat(100_000))),
            too_deep,
        ),
    ];
    for (name, text, first_error) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let start = Instant::now();
        let output = Command::new(support::binary())
            .arg("check")
            .arg(&path)
            .arg("--quiet")
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: {:?} {stderr}",
            output.status
        );
        let errors: Vec<&str> = stdout
            .lines()
            .filter(|line| line.contains(": error["))
            .collect();
        assert!(
            (1..=2).contains(&errors.len()),
            "{name}: {} errors: {stdout:.2000}",
            errors.len()
        );
        assert!(
            errors[0].starts_with(&format!("{}:3:", path.display()))
                && errors[0].contains(first_error),
            "{name}: {}",
            errors[0]
        );
        assert!(
            elapsed < Duration::from_secs(30),
            "{name}: took {elapsed:?}"
        );
    }
}
