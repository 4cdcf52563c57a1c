//! Loader behaviour on real files: zero-copy raw_data, typed errors, the
//! recursion limit, external data resolution and tensor payload access.

use bytes::Bytes;
use neuride_onnx::load::{
    self, ExternalData, ExternalDataError, LoadError, ModelDir, TensorDataError, load_file,
    tensor_bytes,
};
use neuride_onnx::proto::tensor_proto::{DataLocation, DataType};
use neuride_onnx::proto::{StringStringEntryProto, TensorProto};
use std::path::Path;

fn fixture(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(relative)
}

#[test]
fn raw_data_is_a_view_into_the_map() {
    let model = load_file(&fixture("dl/digits_cnn.onnx")).unwrap();
    let map = model.bytes.as_ptr_range();
    let graph = model.proto.graph.as_ref().unwrap();
    let mut views = 0;
    for tensor in &graph.initializer {
        let raw = tensor.raw_data.as_ref().expect("PyTorch writes raw_data");
        let range = raw.as_ptr_range();
        assert!(
            map.start <= range.start && range.end <= map.end,
            "{} was copied",
            tensor.name()
        );
        let bytes = tensor_bytes(tensor, None).unwrap();
        assert_eq!(
            bytes.bytes.as_ptr(),
            raw.as_ptr(),
            "tensor_bytes must not copy raw_data"
        );
        views += 1;
    }
    assert!(views >= 3, "{views} initializers");
}

#[test]
fn bad_bytes_give_typed_errors() {
    let check = |bytes: &[u8]| match load::decode(Bytes::copy_from_slice(bytes)) {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("{}: {error}", error.code()),
    };
    expect_test::expect![[
        r#"onnx/empty-file: empty file: an ONNX model (protobuf ModelProto) was expected"#
    ]]
    .assert_eq(&check(b""));
    expect_test::expect!["onnx/decode-error: not a valid ONNX model (protobuf ModelProto expected): failed to decode Protobuf message: ModelProto.graph: invalid wire type: ThirtyTwoBit (expected LengthDelimited)"]
        .assert_eq(&check(b"\x3d\x01\x02\x03\x04"));
    let full = std::fs::read(fixture("dl/digits_mlp.onnx")).unwrap();
    expect_test::expect!["onnx/decode-error: not a valid ONNX model (protobuf ModelProto expected): failed to decode Protobuf message: ModelProto.graph: buffer underflow"]
        .assert_eq(&check(&full[..full.len() / 2]));
    let missing = load_file(Path::new("/nonexistent/model.onnx"))
        .err()
        .unwrap();
    assert_eq!(missing.code(), "onnx/io-error");
}

/// ModelProto{graph: GraphProto{node: [NodeProto{attribute: [AttributeProto{g: ...}]}]}}
/// nested `levels` deep, built from the inside out without recursion.
fn nested_subgraphs(levels: usize) -> Vec<u8> {
    fn wrap(field: u32, inner: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(inner.len() + 12);
        prost::encoding::encode_key(field, prost::encoding::WireType::LengthDelimited, &mut out);
        prost::encoding::encode_varint(inner.len() as u64, &mut out);
        out.extend_from_slice(inner);
        out
    }
    let mut graph = Vec::new();
    for _ in 0..levels {
        let attribute = wrap(6, &graph); // AttributeProto.g
        let node = wrap(5, &attribute); // NodeProto.attribute
        graph = wrap(1, &node); // GraphProto.node
    }
    wrap(7, &graph) // ModelProto.graph
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let error = load::decode(Bytes::from(nested_subgraphs(2_000)))
        .err()
        .unwrap();
    assert!(matches!(error, LoadError::TooDeep), "{error}");
    assert_eq!(error.code(), "onnx/too-deep");
    // 30 levels of subgraphs (90 messages) are within prost's limit of 100.
    assert!(load::decode(Bytes::from(nested_subgraphs(30))).is_ok());
}

fn external_tensor(
    location: &str,
    offset: Option<u64>,
    length: Option<u64>,
    dims: Vec<i64>,
) -> TensorProto {
    let entry = |key: &str, value: String| StringStringEntryProto {
        key: Some(key.into()),
        value: Some(value),
    };
    let mut external_data = vec![entry("location", location.into())];
    external_data.extend(offset.map(|o| entry("offset", o.to_string())));
    external_data.extend(length.map(|l| entry("length", l.to_string())));
    TensorProto {
        name: Some("w".into()),
        data_type: Some(DataType::Float as i32),
        dims,
        data_location: Some(DataLocation::External as i32),
        external_data,
        ..Default::default()
    }
}

#[test]
fn external_data_is_read_from_inside_the_folder_only() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    let floats: Vec<u8> = [1.0f32, 2.0, 3.0]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    std::fs::write(dir.join("weights.bin"), &floats).unwrap();
    std::fs::write(outer.path().join("secret.bin"), &floats).unwrap();
    std::os::unix::fs::symlink("../secret.bin", dir.join("escape.bin")).unwrap();
    std::os::unix::fs::symlink("weights.bin", dir.join("alias.bin")).unwrap();
    let model_dir = ModelDir::new(dir.clone());

    let read =
        |tensor: &TensorProto| tensor_bytes(tensor, Some(&model_dir)).map(|b| b.bytes.to_vec());
    assert_eq!(
        read(&external_tensor("weights.bin", Some(4), Some(8), vec![2])).unwrap(),
        floats[4..12]
    );
    assert_eq!(
        read(&external_tensor("alias.bin", None, None, vec![3])).unwrap(),
        floats
    );
    let refused = |location: &str| match read(&external_tensor(location, None, None, vec![3])) {
        Err(TensorDataError::External { source, .. }) => source,
        other => panic!("{location}: {other:?}"),
    };
    // Each refused location and the variant (by its Debug name) it is refused with.
    let outside = outer.path().join("secret.bin");
    for (location, variant) in [
        ("../secret.bin", "ParentDir"),
        ("sub/../../secret.bin", "ParentDir"),
        ("..\\secret.bin", "ParentDir"),
        (outside.to_str().unwrap(), "Absolute"),
        ("C:\\secret.bin", "Absolute"),
        ("escape.bin", "SymlinkOutside"),
        ("missing.bin", "Missing"),
        ("", "EmptyLocation"),
    ] {
        let error = format!("{:?}", refused(location));
        assert!(error.starts_with(variant), "{location:?}: {error}");
    }
    let past_end = read(&external_tensor("weights.bin", Some(8), Some(8), vec![2])).unwrap_err();
    assert!(
        matches!(
            past_end,
            TensorDataError::External {
                source: ExternalDataError::OutOfRange { .. },
                ..
            }
        ),
        "{past_end}"
    );
    let huge_offset = read(&external_tensor(
        "weights.bin",
        Some(u64::MAX),
        Some(8),
        vec![2],
    ))
    .unwrap_err();
    assert!(matches!(
        huge_offset,
        TensorDataError::External {
            source: ExternalDataError::OutOfRange { .. },
            ..
        }
    ));
    // Without a folder (a model decoded from bytes) nothing is read.
    let no_dir =
        tensor_bytes(&external_tensor("weights.bin", None, None, vec![3]), None).unwrap_err();
    assert!(matches!(
        no_dir,
        TensorDataError::External {
            source: ExternalDataError::NoModelDir,
            ..
        }
    ));
    let parsed = ExternalData::of(&external_tensor("weights.bin", Some(4), None, vec![2])).unwrap();
    assert_eq!((parsed.offset, parsed.length), (4, None));
}

#[test]
fn absurd_dims_never_allocate() {
    let tensor = TensorProto {
        name: Some("huge".into()),
        data_type: Some(DataType::Float as i32),
        dims: vec![1 << 31, 1 << 31],
        raw_data: Some(Bytes::from_static(&[0; 8])),
        ..Default::default()
    };
    let error = tensor_bytes(&tensor, None).unwrap_err();
    assert!(
        matches!(
            error,
            TensorDataError::NoFixedSize { .. } | TensorDataError::SizeMismatch { .. }
        ),
        "{error}"
    );
    let overflow = TensorProto {
        dims: vec![1 << 40, 1 << 40],
        ..tensor.clone()
    };
    assert!(matches!(
        tensor_bytes(&overflow, None).unwrap_err(),
        TensorDataError::TooManyElements { .. }
    ));
    let negative = TensorProto {
        dims: vec![-1],
        ..tensor
    };
    assert!(matches!(
        tensor_bytes(&negative, None).unwrap_err(),
        TensorDataError::NegativeDim { .. }
    ));
}

#[test]
fn typed_fields_are_reencoded_little_endian() {
    let tensor = TensorProto {
        name: Some("t".into()),
        data_type: Some(DataType::Float16 as i32),
        dims: vec![2],
        int32_data: vec![0x3c00, 0x4000],
        ..Default::default()
    };
    assert_eq!(
        tensor_bytes(&tensor, None).unwrap().bytes.as_ref(),
        &[0x00, 0x3c, 0x00, 0x40]
    );
    let int4 = TensorProto {
        data_type: Some(DataType::Int4 as i32),
        dims: vec![3],
        int32_data: vec![0x21, 0x03],
        ..tensor.clone()
    };
    assert_eq!(
        tensor_bytes(&int4, None).unwrap().bytes.as_ref(),
        &[0x21, 0x03]
    );
    let short = TensorProto {
        dims: vec![3],
        ..tensor
    };
    assert!(matches!(
        tensor_bytes(&short, None).unwrap_err(),
        TensorDataError::SizeMismatch {
            expected: 6,
            found: 4,
            ..
        }
    ));
}
