//! Small readers over the prost ONNX types: attributes, tensors, input dims.

use neuride_onnx::proto::tensor_proto::DataType;
use neuride_onnx::proto::tensor_shape_proto::dimension;
use neuride_onnx::proto::type_proto;
use neuride_onnx::proto::{NodeProto, TensorProto, ValueInfoProto};

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a neuride_onnx::proto::AttributeProto> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

pub fn attr_i(node: &NodeProto, name: &str) -> Option<i64> {
    attr(node, name).and_then(|a| a.i)
}

pub fn attr_f(node: &NodeProto, name: &str) -> Option<f32> {
    attr(node, name).and_then(|a| a.f)
}

pub fn attr_s(node: &NodeProto, name: &str) -> Option<String> {
    attr(node, name)
        .and_then(|a| a.s.as_ref())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

pub fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

/// Dims of a tensor-typed value: `Some(d)` fixed, `None` symbolic/unknown.
pub fn input_dims(value: &ValueInfoProto) -> Option<Vec<Option<i64>>> {
    let Some(type_proto::Value::TensorType(tensor)) = value.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let shape = tensor.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| match d.value {
                Some(dimension::Value::DimValue(v)) => Some(v),
                _ => None,
            })
            .collect(),
    )
}

fn element_count(tensor: &TensorProto) -> Result<usize, String> {
    tensor
        .dims
        .iter()
        .try_fold(1usize, |acc, &d| {
            if d < 0 {
                None
            } else {
                acc.checked_mul(d as usize)
            }
        })
        .ok_or_else(|| format!("dims {:?} are not a valid shape", tensor.dims))
}

/// A tensor's values as f32 (float, double, float16-free types only).
pub fn tensor_f32(tensor: &TensorProto) -> Result<neuride_snn::Tensor, String> {
    let count = element_count(tensor)?;
    let shape: Vec<usize> = tensor.dims.iter().map(|&d| d as usize).collect();
    if tensor.data_location == Some(1) {
        return Err("stored as external data; conversion reads weights from the model bytes or an NPZ (pass --weights)".into());
    }
    let raw = tensor.raw_data.as_deref().unwrap_or(&[]);
    let data_type = tensor.data_type.unwrap_or(0);
    let data: Vec<f32> = if data_type == DataType::Float as i32 {
        if !raw.is_empty() {
            if raw.len() != count * 4 {
                return Err(format!(
                    "raw_data has {} bytes, dims {:?} x f32 need {}",
                    raw.len(),
                    tensor.dims,
                    count * 4
                ));
            }
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        } else {
            tensor.float_data.clone()
        }
    } else if data_type == DataType::Double as i32 {
        if !raw.is_empty() {
            if raw.len() != count * 8 {
                return Err(format!(
                    "raw_data has {} bytes, dims {:?} x f64 need {}",
                    raw.len(),
                    tensor.dims,
                    count * 8
                ));
            }
            raw.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
                .collect()
        } else {
            tensor.double_data.iter().map(|&v| v as f32).collect()
        }
    } else {
        return Err(format!(
            "element type {} is not float/double",
            neuride_onnx::dtype::onnx_name(data_type)
        ));
    };
    if data.len() != count {
        return Err(format!(
            "has {} values, dims {:?} need {count}",
            data.len(),
            tensor.dims
        ));
    }
    Ok(neuride_snn::Tensor { shape, data })
}

/// A tensor's values as i64 (for Reshape shapes).
pub fn tensor_i64(tensor: &TensorProto) -> Option<Vec<i64>> {
    let raw = tensor.raw_data.as_deref().unwrap_or(&[]);
    if tensor.data_type != Some(DataType::Int64 as i32) {
        return None;
    }
    if !raw.is_empty() {
        if !raw.len().is_multiple_of(8) {
            return None;
        }
        return Some(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        );
    }
    Some(tensor.int64_data.clone())
}
