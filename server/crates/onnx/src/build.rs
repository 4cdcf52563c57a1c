//! Building ONNX values for models neuride writes or shows: attributes,
//! float initializers and tensor value infos. The converter's exported
//! model and the analysis host's view of a NIR file are made with these.

use crate::proto::tensor_shape_proto::{Dimension, dimension};
use crate::proto::{
    AttributeProto, GraphProto, ModelProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto, attribute_proto::AttributeType, tensor_proto::DataType, type_proto,
};

/// An opset import: `domain` ("" for the default domain) at `version`.
pub fn opset(domain: &str, version: i64) -> OperatorSetIdProto {
    OperatorSetIdProto {
        domain: Some(domain.into()),
        version: Some(version),
    }
}

/// `graph` as a model of IR version 8 importing the default domain's
/// opset 17, and nothing else (no producer, no metadata).
pub fn model(graph: GraphProto) -> ModelProto {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![opset("", 17)],
        graph: Some(graph),
        ..Default::default()
    }
}

fn attribute(name: &str, kind: AttributeType) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

pub fn attr_float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        f: Some(value),
        ..attribute(name, AttributeType::Float)
    }
}

pub fn attr_int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        i: Some(value),
        ..attribute(name, AttributeType::Int)
    }
}

pub fn attr_string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        s: Some(bytes::Bytes::copy_from_slice(value.as_bytes())),
        ..attribute(name, AttributeType::String)
    }
}

pub fn attr_ints(name: &str, values: impl IntoIterator<Item = i64>) -> AttributeProto {
    AttributeProto {
        ints: values.into_iter().collect(),
        ..attribute(name, AttributeType::Ints)
    }
}

pub fn attr_strings<'a>(name: &str, values: impl IntoIterator<Item = &'a str>) -> AttributeProto {
    AttributeProto {
        strings: values
            .into_iter()
            .map(|v| bytes::Bytes::copy_from_slice(v.as_bytes()))
            .collect(),
        ..attribute(name, AttributeType::Strings)
    }
}

pub fn attr_graph(name: &str, graph: GraphProto) -> AttributeProto {
    AttributeProto {
        g: Some(Box::new(graph)),
        ..attribute(name, AttributeType::Graph)
    }
}

/// A float32 initializer (little-endian `raw_data`).
pub fn float_initializer(name: &str, shape: &[usize], data: &[f32]) -> TensorProto {
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    TensorProto {
        name: Some(name.into()),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Float as i32),
        raw_data: Some(raw.into()),
        ..Default::default()
    }
}

/// A float32 tensor value; `None` dimensions are the symbolic `batch`.
pub fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(v) => dimension::Value::DimValue(*v as i64),
                None => dimension::Value::DimParam("batch".into()),
            }),
            ..Default::default()
        })
        .collect();
    tensor_value_info(name, DataType::Float as i32, dim)
}

/// A tensor value of element type `elem_type` with these dimensions.
pub fn tensor_value_info(name: &str, elem_type: i32, dim: Vec<Dimension>) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem_type),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
