//! Every `tests/fixtures/**/*.expected.npz` reproduced: `input_<name>` in,
//! `output_<name>` compared (labels equal, floats within 1e-5 relative).

mod common;

use common::{compare_tensors, repo};
use neuride_infer::{EngineChoice, Session, Value, io};

fn expected_files(kinds: &[&str]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for kind in kinds {
        let dir = repo().join("tests/fixtures").join(kind);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".expected.npz") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn reproduce(expected: &std::path::Path, engine: EngineChoice) -> Vec<String> {
    let model_path = expected.to_string_lossy().replace(".expected.npz", ".onnx");
    let session = Session::load_with(&std::fs::read(&model_path).unwrap(), engine)
        .unwrap_or_else(|e| panic!("{model_path}: {e}"));
    let arrays = io::read_npz(&std::fs::read(expected).unwrap()).unwrap();
    let inputs: Vec<(String, Value)> = arrays
        .iter()
        .filter_map(|(k, t)| {
            k.strip_prefix("input_")
                .map(|n| (n.to_owned(), Value::Tensor(t.clone())))
        })
        .collect();
    let outputs = session
        .run(inputs)
        .unwrap_or_else(|e| panic!("{model_path}: {e}"));
    let mut problems = Vec::new();
    let mut compared = 0;
    for (key, want) in &arrays {
        let Some(name) = key.strip_prefix("output_") else {
            continue;
        };
        let got = outputs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{model_path}: no output {name}"));
        let Value::Tensor(got) = &got.1 else {
            panic!("{model_path}: output {name} is not a tensor")
        };
        problems.extend(compare_tensors(&format!("{model_path} {name}"), got, want));
        compared += 1;
    }
    assert!(compared > 0, "{model_path}: nothing compared");
    problems
}

fn check(kinds: &[&str], count: usize, engine: EngineChoice) {
    let files = expected_files(kinds);
    assert_eq!(files.len(), count, "fixtures moved? {files:?}");
    let problems: Vec<String> = files.iter().flat_map(|f| reproduce(f, engine)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn ml_fixtures_reproduce_onnxruntime() {
    check(&["ml"], 6, EngineChoice::Auto);
}

/// On the native engine (which must take every one of them) and on tract.
#[test]
fn dl_and_snn_fixtures_reproduce_onnxruntime() {
    check(&["dl", "snn"], 3, EngineChoice::Native);
    check(&["dl", "snn"], 3, EngineChoice::Tract);
}

#[test]
fn zipmap_probabilities_equal_the_no_zipmap_twin() {
    let load = |name: &str| {
        Session::load(&std::fs::read(repo().join("tests/fixtures/ml").join(name)).unwrap()).unwrap()
    };
    let (zip, plain) = (load("iris_logreg.onnx"), load("iris_logreg_nozipmap.onnx"));
    let arrays = io::read_npz(
        &std::fs::read(repo().join("tests/fixtures/ml/iris_logreg.expected.npz")).unwrap(),
    )
    .unwrap();
    let x = arrays
        .iter()
        .find(|(k, _)| k == "input_X")
        .unwrap()
        .1
        .clone();
    let a = zip
        .run(vec![("X".into(), Value::Tensor(x.clone()))])
        .unwrap();
    let b = plain.run(vec![("X".into(), Value::Tensor(x))]).unwrap();
    let Value::Sequence(maps) = &a[1].1 else {
        panic!(
            "ZipMap output should be a sequence, got {}",
            a[1].1.describe()
        )
    };
    let Value::Tensor(probs) = &b[1].1 else {
        panic!()
    };
    assert_eq!(maps.len(), probs.shape[0]);
    let probs = probs.data.to_f64().unwrap();
    for (row, m) in maps.iter().enumerate() {
        let Value::Map(m) = m else {
            panic!("not a map")
        };
        assert_eq!(m.keys, neuride_infer::MapKeys::I64(vec![0, 1, 2]));
        let v = m.values.to_f64().unwrap();
        assert_eq!(v, probs[row * 3..row * 3 + 3].to_vec(), "row {row}");
    }
    assert_eq!(a[0].1, b[0].1, "labels differ");
}
