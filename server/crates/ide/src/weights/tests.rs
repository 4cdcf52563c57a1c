//! Weight exchange on the real PyTorch MLP fixture: export/import round
//! trip (identical initializers and identical outputs), import of the
//! PyTorch state_dict, NengoDL-style positional archives through a proposed
//! map, and mismatches listed all at once.

use super::*;
use neuride_npz::{Array, WriteOptions, list, write_npz};
use neuride_onnx::proto::ModelProto;
use prost::Message;

fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn mlp() -> ModelProto {
    neuride_onnx::load::decode(fixture("dl/digits_mlp.onnx").into()).unwrap()
}

fn initializer_bytes(model: &ModelProto) -> Vec<(String, Vec<i64>, i32, Vec<u8>)> {
    model
        .graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .map(|t| {
            (
                t.name().to_owned(),
                t.dims.clone(),
                t.data_type(),
                t.raw_data.clone().unwrap_or_default().to_vec(),
            )
        })
        .collect()
}

/// Runs the model on the 16 inputs of digits_mlp.expected.npz.
fn logits(model: &ModelProto) -> Vec<f32> {
    use neuride_infer::value::{Tensor, Value};
    let expected = fixture("dl/digits_mlp.expected.npz");
    let archive = list(&expected).unwrap();
    let input = archive.array("input_x").unwrap();
    let shape = input.shape.iter().map(|&d| d as usize).collect();
    let tensor = Tensor::new(shape, input.to_f32_vec().unwrap()).unwrap();
    let session = neuride_infer::session::Session::load(&model.encode_to_vec()).unwrap();
    let outputs = session
        .run(vec![("x".to_owned(), Value::Tensor(tensor))])
        .unwrap();
    let Value::Tensor(logits) = &outputs[0].1 else {
        panic!("tensor output expected")
    };
    logits.data.to_f32().unwrap()
}

#[test]
fn export_then_import_is_byte_identical_with_identical_outputs() {
    let original = mlp();
    for options in [WriteOptions::stored(), WriteOptions::deflated()] {
        let npz = export(&original, None, options).unwrap();
        let archive = list(&npz).unwrap();
        assert!(archive.diagnostics.is_empty());
        assert_eq!(
            archive.names().collect::<Vec<_>>(),
            vec!["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        );
        let mut model = original.clone();
        let report = import(&mut model, &archive, None).unwrap();
        assert_eq!(report.replaced.len(), 4);
        assert!(report.kept.is_empty() && report.warnings.is_empty());
        assert_eq!(initializer_bytes(&model), initializer_bytes(&original));
        assert_eq!(model, original);
    }
    // And the reference outputs onnxruntime produced still come out.
    let expected = list(&fixture("dl/digits_mlp.expected.npz"))
        .unwrap()
        .array("output_logits")
        .unwrap()
        .to_f32_vec()
        .unwrap();
    let got = logits(&original);
    assert!(
        got.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-4),
        "{got:?} vs {expected:?}"
    );
}

#[test]
fn pytorch_state_dict_imports_by_name() {
    let original = mlp();
    let state_dict = fixture("dl/digits_mlp.npz");
    let archive = list(&state_dict).unwrap();
    let mut model = original.clone();
    let report = import(&mut model, &archive, None).unwrap();
    assert_eq!(
        report.replaced,
        vec!["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    );
    // The state_dict is what the model was exported from.
    assert_eq!(initializer_bytes(&model), initializer_bytes(&original));
    assert_eq!(logits(&model), logits(&original));
}

#[test]
fn imported_values_really_land_in_the_model() {
    // Scale fc2.bias by 2 in the archive: the model's bias and logits change accordingly.
    let original = mlp();
    let npz = export(&original, None, WriteOptions::stored()).unwrap();
    let archive = list(&npz).unwrap();
    let bias = archive.array("fc2.bias").unwrap().to_f32_vec().unwrap();
    let doubled: Vec<f32> = bias.iter().map(|b| b * 2.0).collect();
    let new_bias = Array::from_f32(vec![10], &doubled).unwrap();
    let edited = write_npz(&[("fc2.bias", &new_bias)], WriteOptions::stored()).unwrap();
    let mut model = original.clone();
    let report = import(&mut model, &list(&edited).unwrap(), None).unwrap();
    assert_eq!(report.replaced, vec!["fc2.bias"]);
    assert_eq!(report.kept, vec!["fc1.weight", "fc1.bias", "fc2.weight"]);
    let (before, after) = (logits(&original), logits(&model));
    for (row, (b, a)) in before.chunks(10).zip(after.chunks(10)).enumerate() {
        for k in 0..10 {
            assert!((a[k] - b[k] - bias[k]).abs() < 1e-4, "row {row} class {k}");
        }
    }
}

/// A NengoDL-style archive: positional, Keras order, kernels as [in, out].
fn positional_archive(model: &ModelProto) -> Vec<u8> {
    let npz = export(model, None, WriteOptions::stored()).unwrap();
    let archive = list(&npz).unwrap();
    let arrays: Vec<Array<'static>> = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        .iter()
        .map(|name| {
            let array = archive.array(name).unwrap();
            if array.shape.len() == 2 {
                array.to_standard(true).unwrap()
            } else {
                array.into_owned()
            }
        })
        .collect();
    let names = ["arr_0", "arr_1", "arr_2", "arr_3"];
    let pairs: Vec<(&str, &Array<'_>)> = names.iter().copied().zip(arrays.iter()).collect();
    write_npz(&pairs, WriteOptions::deflated()).unwrap()
}

#[test]
fn positional_archives_need_a_map_and_the_proposal_is_right() {
    let original = mlp();
    let npz = positional_archive(&original);
    let archive = list(&npz).unwrap();
    let mut model = original.clone();
    let problems = import(&mut model, &archive, None).unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        vec!["weights/no-match"]
    );
    let map = propose_map(&original, &archive);
    expect_test::expect![[r#"
        {
          "arr_0": {
            "initializer": "fc1.weight",
            "transpose": true
          },
          "arr_1": {
            "initializer": "fc1.bias",
            "transpose": false
          },
          "arr_2": {
            "initializer": "fc2.weight",
            "transpose": true
          },
          "arr_3": {
            "initializer": "fc2.bias",
            "transpose": false
          }
        }"#]]
    .assert_eq(&map.to_json());
    let map = WeightMap::parse(&map.to_json()).unwrap();
    import(&mut model, &archive, Some(&map)).unwrap();
    assert_eq!(model, original);
}

#[test]
fn every_mismatch_is_listed_and_nothing_changes() {
    let original = mlp();
    let wrong_shape = Array::from_f32(vec![64, 10], &[0.0; 640]).unwrap();
    let wrong_dtype = Array::new(neuride_npz::DType::Float64, vec![64], vec![0u8; 512]).unwrap();
    let npz = write_npz(
        &[("fc2.weight", &wrong_shape), ("fc1.bias", &wrong_dtype)],
        WriteOptions::stored(),
    )
    .unwrap();
    let archive = list(&npz).unwrap();
    let mut model = original.clone();
    let problems = import(&mut model, &archive, None).unwrap_err();
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        vec![
            "error[weights/shape-mismatch]: array 'fc2.weight' has shape [64, 10], initializer 'fc2.weight' has [10, 64]",
            "error[weights/dtype-mismatch]: array 'fc1.bias' is float64, initializer 'fc1.bias' is float",
        ]
    );
    assert_eq!(model, original);
    // A map naming things that do not exist: both listed too.
    let map = WeightMap::parse(
        r#"{"fc2.weight": {"initializer": "fc3.weight", "transpose": true}, "nope": "fc1.bias"}"#,
    )
    .unwrap();
    let codes: Vec<_> = import(&mut model, &archive, Some(&map))
        .unwrap_err()
        .iter()
        .map(|p| p.code)
        .collect();
    assert_eq!(
        codes,
        vec!["weights/missing-array", "weights/unknown-initializer"]
    );
    assert_eq!(model, original);
}

#[test]
fn compare_reports_shape_mismatches_and_missing_arrays() {
    let original = mlp();
    let wrong_shape = Array::from_f32(vec![64, 10], &[0.0; 640]).unwrap();
    let bias = Array::from_f32(vec![64], &[0.0; 64]).unwrap();
    let npz = write_npz(
        &[("fc2.weight", &wrong_shape), ("fc1.bias", &bias)],
        WriteOptions::stored(),
    )
    .unwrap();
    let problems = compare(&original, &list(&npz).unwrap());
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        vec![
            "warning[weights/missing-array]: initializer 'fc1.weight' has no array of that name in the archive",
            "error[weights/shape-mismatch]: array 'fc2.weight' has shape [64, 10], the initializer has [10, 64]",
            "warning[weights/missing-array]: initializer 'fc2.bias' has no array of that name in the archive",
        ]
    );
    assert!(compare(&original, &list(&fixture("dl/digits_mlp.npz")).unwrap()).is_empty());
}

#[test]
fn atomic_write_replaces_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.npz");
    std::fs::write(&path, b"old").unwrap();
    write_atomically(&path, b"new").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left behind"
    );
}
