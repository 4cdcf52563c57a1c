//! Small readers over the prost ONNX types the converter needs: tensors as
//! [`neuride_snn::Tensor`] and input dims. Attributes are `neuride_onnx::attr`.

use neuride_onnx::proto::tensor_proto::DataType;
use neuride_onnx::proto::tensor_shape_proto::dimension;
use neuride_onnx::proto::type_proto;
use neuride_onnx::proto::{TensorProto, ValueInfoProto};
use neuride_onnx::tensor;

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

/// A tensor's values as f32 (float, double, float16, bfloat16), decoded by
/// [`neuride_onnx::tensor`]. External data must have been embedded
/// (`neuride_onnx::load::embedded`).
pub fn tensor_f32(tensor: &TensorProto) -> Result<neuride_snn::Tensor, String> {
    let count = tensor::element_count(&tensor.dims)
        .and_then(|c| usize::try_from(c).ok())
        .ok_or_else(|| format!("dims {:?} are not a valid shape", tensor.dims))?;
    let shape: Vec<usize> = tensor.dims.iter().map(|&d| d as usize).collect();
    let data_type = tensor.data_type.unwrap_or(0);
    let name = match DataType::try_from(data_type) {
        Ok(DataType::Float) => "f32",
        Ok(DataType::Double) => "f64",
        Ok(DataType::Float16) => "f16",
        Ok(DataType::Bfloat16) => "bf16",
        _ => {
            return Err(format!(
                "element type {} is not a float type",
                neuride_onnx::dtype::onnx_name(data_type)
            ));
        }
    };
    if let Some(raw) = tensor.raw_data.as_deref().filter(|raw| !raw.is_empty()) {
        let need = neuride_onnx::dtype::byte_len(data_type, count as u64).unwrap_or(u64::MAX);
        if raw.len() as u64 != need {
            return Err(format!(
                "raw_data has {} bytes, dims {:?} x {name} need {need}",
                raw.len(),
                tensor.dims,
            ));
        }
    }
    let mut data = Vec::new();
    tensor::for_each(tensor, |v| data.push(v.as_f64() as f32)).map_err(|e| e.to_string())?;
    if data.len() != count {
        return Err(format!(
            "has {} values, dims {:?} need {count}",
            data.len(),
            tensor.dims
        ));
    }
    Ok(neuride_snn::Tensor { shape, data })
}
