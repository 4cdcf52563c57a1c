//! Shape facts against onnx.shape_inference on every fixture (goldens
//! written by scripts/gen_text_golden.py), and op rules on small models.

use neuride_onnx::GraphId;
use neuride_onnx::shape::{Dim, infer};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

#[test]
fn fixtures_agree_with_onnx_shape_inference() {
    let mut compared = 0;
    for entry in std::fs::read_dir(data("shape")).unwrap() {
        let golden = entry.unwrap().path();
        let stem = golden.file_stem().unwrap().to_str().unwrap().to_owned();
        let (folder, name) = stem.split_once('_').unwrap();
        let model_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures")
            .join(folder)
            .join(format!("{name}.onnx"));
        let model = neuride_onnx::load::load_file(&model_path).unwrap().proto;
        let facts = infer(&model);
        assert!(
            facts.diagnostics.is_empty(),
            "{stem}: {:?}",
            facts.diagnostics
        );
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
        for (value, expected) in want.as_object().unwrap() {
            let got = facts
                .get(&GraphId::Main, value)
                .unwrap_or_else(|| panic!("{stem}: no fact for '{value}'"));
            let elem = expected["elem"].as_i64().unwrap() as i32;
            assert_eq!(got.elem(), elem, "{stem}: '{value}' is {got}");
            let Some(dims) = expected["shape"].as_array() else {
                continue;
            };
            let shape = got
                .shape()
                .unwrap_or_else(|| panic!("{stem}: '{value}' has no shape, onnx says {dims:?}"));
            let want_dims: Vec<Dim> = dims
                .iter()
                .map(|d| match d {
                    serde_json::Value::Number(n) => Dim::Known(n.as_i64().unwrap()),
                    // onnx names dims it invents `unk__N`: unknown to us.
                    serde_json::Value::String(s) if s.starts_with("unk__") => Dim::Unknown,
                    serde_json::Value::String(s) => Dim::Sym(s.clone()),
                    _ => Dim::Unknown,
                })
                .collect();
            // Where onnx knows a dim we must know the same one.
            assert_eq!(
                shape.len(),
                want_dims.len(),
                "{stem}: '{value}' is {got}, onnx says {want_dims:?}"
            );
            for (g, w) in shape.iter().zip(&want_dims) {
                if *w != Dim::Unknown {
                    assert_eq!(g, w, "{stem}: '{value}' is {got}, onnx says {want_dims:?}");
                }
            }
            compared += 1;
        }
    }
    assert!(compared > 300, "only {compared} values compared");
}

#[test]
fn ml_fixture_outputs_have_shapes() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/ml/iris_logreg.onnx");
    let model = neuride_onnx::load::load_file(&path).unwrap().proto;
    let facts = infer(&model);
    let g = &model.graph.as_ref().unwrap();
    let types: Vec<String> = g
        .node
        .iter()
        .flat_map(|n| n.output.iter())
        .map(|o| facts.get(&GraphId::Main, o).unwrap().to_string())
        .collect();
    // LinearClassifier: label [N], scores [N,3]; ZipMap: a sequence of maps.
    assert!(
        types.contains(&"int64[?]".to_string()) || types.iter().any(|t| t.starts_with("int64[")),
        "{types:?}"
    );
    assert!(
        types
            .iter()
            .any(|t| t.starts_with("float[") && t.ends_with(",3]")),
        "{types:?}"
    );
    assert!(
        types.contains(&"seq(map(int64, float[]))".to_string()),
        "{types:?}"
    );
}
