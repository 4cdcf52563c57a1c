//! `neuride classify`, `info` and `print` run as a user would, over the
//! fixtures.

mod common;

use std::path::{Path, PathBuf};

use common::{neuride, neuride_json, neuride_ok};

fn fixtures() -> PathBuf {
    common::repo().join("tests/fixtures")
}

#[test]
fn classify_json_covers_every_fixture_folder() {
    let dir = fixtures();
    let v = neuride_json(&["classify", "--format", "json", dir.to_str().unwrap()]);
    let entries = v.as_array().unwrap();
    // 12 ONNX models and 5 NIR graphs (always spiking).
    assert_eq!(entries.len(), 17);
    for e in entries {
        let path = e["path"].as_str().unwrap();
        let folder = Path::new(path)
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let kind = if folder == "nir" { "snn" } else { folder };
        assert_eq!(e["kind"], kind, "{path}");
        assert!(e["confidence"].as_f64().unwrap() > 0.5);
        let evidence = e["evidence"].as_array().unwrap();
        assert!(!evidence.is_empty());
        assert!(
            evidence[0]["message"].as_str().is_some() && evidence[0]["source"].as_str().is_some()
        );
    }
}

#[test]
fn classify_human_names_kind_and_evidence() {
    let snn = fixtures().join("snn/digits_snntorch.onnx");
    let (text, _) = neuride_ok(&["classify", snn.to_str().unwrap()]);
    assert!(
        text.contains("digits_snntorch.onnx: snn (confidence 0.9"),
        "{text}"
    );
    assert!(text.contains("25 time steps"), "{text}");
}

#[test]
fn info_json_is_the_summary() {
    let mlp = fixtures().join("dl/digits_mlp.onnx");
    let v = neuride_json(&["info", "--format", "json", mlp.to_str().unwrap()]);
    assert_eq!(v["kind"], "dl");
    assert_eq!(v["summary"]["parameters"], 4810);
    assert_eq!(v["summary"]["inputs"][0]["type"], "float[batch,1,8,8]");
    assert_eq!(v["summary"]["op_histogram"]["Gemm"], 2);
    let (human, _) = neuride_ok(&["info", mlp.to_str().unwrap()]);
    assert!(human.contains("parameters:  4810"), "{human}");
    assert!(human.contains("opsets: ai.onnx:17\n"), "{human}");
    assert!(human.contains("MACs:        4736 (symbolic"), "{human}");
}

#[test]
fn print_is_the_onnx_text() {
    let m = fixtures().join("ml/iris_logreg.onnx");
    let (text, _) = neuride_ok(&["print", m.to_str().unwrap()]);
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../onnx/tests/data/text/ml_iris_logreg.txt");
    assert_eq!(text, std::fs::read_to_string(golden).unwrap() + "\n");
}

#[test]
fn unreadable_or_broken_input_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken.onnx");
    std::fs::write(&broken, b"\xff\xff\xff not a model").unwrap();
    let missing = tmp.path().join("missing.onnx");
    for cmd in ["classify", "info", "print"] {
        for path in [&broken, &missing] {
            let (code, _, err) = neuride(&[cmd, path.to_str().unwrap()]);
            assert_eq!(code, 2, "{cmd} {}", path.display());
            assert!(
                err.contains(path.file_name().unwrap().to_str().unwrap()),
                "{cmd}: {err}"
            );
        }
    }
}
