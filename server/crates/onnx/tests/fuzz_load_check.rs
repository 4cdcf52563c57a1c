//! Fuzzing without nightly: proptest feeds the loader and the checker
//! arbitrary bytes and truncated / bit-flipped real models; neither may panic.
//! Any crasher found here is added to `regressions` below as a plain test.

use bytes::Bytes;
use neuride_onnx::check::{CheckContext, check_model};
use neuride_onnx::load::{decode, tensor_bytes};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn fixtures() -> &'static Vec<Vec<u8>> {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for relative in [
            "../../../tests/fixtures/dl/digits_mlp.onnx",
            "../../../tests/fixtures/ml/wine_svc_pipeline.onnx",
            "../../../tests/fixtures/ml/iris_logreg.onnx",
        ] {
            files.push(std::fs::read(root.join(relative)).unwrap());
        }
        for entry in std::fs::read_dir(root.join("tests/data/check")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "onnx") {
                files.push(std::fs::read(path).unwrap());
            }
        }
        files
    })
}

/// Decode, check, and ask for every initializer's bytes: all must return.
fn exercise(bytes: Vec<u8>) {
    let Ok(model) = decode(Bytes::from(bytes)) else {
        return;
    };
    for diagnostic in check_model(&model, &CheckContext::default()) {
        assert!(!diagnostic.message.is_empty(), "{diagnostic:?}");
    }
    for tensor in model.graph.iter().flat_map(|g| &g.initializer) {
        explained(tensor_bytes(tensor, None));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(bytes);
    }

    #[test]
    fn truncated_fixture(file in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let bytes = &fixtures()[file.index(fixtures().len())];
        exercise(bytes[..cut.index(bytes.len() + 1)].to_vec());
    }

    #[test]
    fn bit_flipped_fixture(file in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8)) {
        let mut bytes = fixtures()[file.index(fixtures().len())].clone();
        for (at, bit) in flips {
            let at = at.index(bytes.len());
            bytes[at] ^= 1 << bit;
        }
        exercise(bytes);
    }
}

mod regressions {
    // Inputs proptest found that once panicked stay here as plain tests.
    #[test]
    fn sparse_indices_shorter_than_nnz() {
        use neuride_onnx::proto::*;
        let values = TensorProto {
            name: Some("s".into()),
            data_type: Some(1),
            dims: vec![3],
            float_data: vec![1.0, 2.0, 3.0],
            ..Default::default()
        };
        let indices = TensorProto {
            name: Some("i".into()),
            data_type: Some(7),
            dims: vec![3, 2],
            int64_data: vec![0],
            ..Default::default()
        };
        let sparse = SparseTensorProto {
            values: Some(values),
            indices: Some(indices),
            dims: vec![4, 4],
        };
        let graph = GraphProto {
            name: Some("g".into()),
            sparse_initializer: vec![sparse],
            ..Default::default()
        };
        let model = neuride_onnx::build::model(graph);
        let codes: Vec<_> = super::check_model(&model, &super::CheckContext::default())
            .iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, ["onnx/tensor-size"]);
    }
}

/// An error must say what went wrong.
fn explained<T, E: std::fmt::Display>(result: Result<T, E>) {
    if let Err(error) = result {
        assert!(!error.to_string().is_empty(), "an error without a message");
    }
}
