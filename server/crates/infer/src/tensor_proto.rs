//! Conversion between ONNX `TensorProto` and [`Tensor`], for initializers,
//! `Constant` nodes, attribute tensors and `.pb` input/output files.

use crate::error::KernelError;
use crate::value::{DType, Data, Tensor};
use half::{bf16, f16};
use neuride_onnx::proto::TensorProto;
use neuride_onnx::tensor::{self, Value};

/// Most elements a tensor from a file or attribute may claim before we refuse
/// to allocate (2^31: far above any real ML model, below out-of-memory).
const MAX_ELEMENTS: usize = 1 << 31;

/// Decodes a `TensorProto` (raw_data or typed fields). External data is not
/// followed: tensors must be embedded.
pub fn from_proto(proto: &TensorProto) -> Result<Tensor, crate::Error> {
    decode(proto).map_err(crate::Error::format)
}

/// [`from_proto`] with the message alone, for callers that add context.
pub(crate) fn decode(proto: &TensorProto) -> Result<Tensor, KernelError> {
    let name = proto.name();
    let code = proto.data_type();
    let dtype = DType::from_onnx(code).ok_or_else(|| {
        KernelError::Unsupported(format!(
            "tensor '{name}': element type {} is not supported",
            neuride_onnx::dtype::onnx_name(code)
        ))
    })?;
    let mut shape = Vec::with_capacity(proto.dims.len());
    let mut count: usize = 1;
    for &d in &proto.dims {
        let d = usize::try_from(d)
            .map_err(|_| KernelError::Shape(format!("tensor '{name}': negative dimension {d}")))?;
        count = count
            .checked_mul(d)
            .filter(|&c| c <= MAX_ELEMENTS)
            .ok_or_else(|| {
                KernelError::Limit(format!(
                    "tensor '{name}': dims {:?} are too large",
                    proto.dims
                ))
            })?;
        shape.push(d);
    }
    if proto.data_location() == neuride_onnx::proto::tensor_proto::DataLocation::External {
        return Err(KernelError::Unsupported(format!(
            "tensor '{name}': external data is not supported here; embed the tensor"
        )));
    }
    let data = if dtype == DType::Str {
        Data::Str(
            proto
                .string_data
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
        )
    } else if dtype.is_packed() {
        let bytes = tensor::packed_elements(proto, count).ok_or_else(|| {
            KernelError::Type(format!("tensor '{name}': {dtype} is not a packed type"))
        })??;
        Data::Packed(dtype, bytes)
    } else {
        let width = neuride_onnx::dtype::bits(code).unwrap_or(8) as usize / 8;
        let raw = proto.raw_data();
        if proto.raw_data.is_some() && raw.len() != count * width {
            return Err(KernelError::Type(format!(
                "tensor '{name}': raw_data has {} bytes, dims {:?} x {dtype} need {}",
                raw.len(),
                proto.dims,
                count * width
            )));
        }
        // Integers arrive exact (`Value::I`/`Value::U`), floats as f64 that
        // round back to their own type without loss.
        let int = |v: Value| match v {
            Value::I(i) => i,
            Value::U(u) => u as i64,
            Value::F(f) => f as i64,
        };
        match dtype {
            DType::F32 => Data::F32(values(proto, count, |v| v.as_f64() as f32)?),
            DType::F64 => Data::F64(values(proto, count, Value::as_f64)?),
            DType::F16 => Data::F16(values(proto, count, |v| f16::from_f64(v.as_f64()))?),
            DType::Bf16 => Data::Bf16(values(proto, count, |v| bf16::from_f64(v.as_f64()))?),
            DType::I64 => Data::I64(values(proto, count, int)?),
            DType::I32 => Data::I32(values(proto, count, |v| int(v) as i32)?),
            DType::I16 => Data::I16(values(proto, count, |v| int(v) as i16)?),
            DType::I8 => Data::I8(values(proto, count, |v| int(v) as i8)?),
            DType::U64 => Data::U64(values(proto, count, |v| match v {
                Value::U(u) => u,
                other => int(other) as u64,
            })?),
            DType::U32 => Data::U32(values(proto, count, |v| int(v) as u32)?),
            DType::U16 => Data::U16(values(proto, count, |v| int(v) as u16)?),
            DType::U8 => Data::U8(values(proto, count, |v| int(v) as u8)?),
            DType::Bool => Data::Bool(values(proto, count, |v| int(v) != 0)?),
            other => {
                return Err(KernelError::Unsupported(format!(
                    "tensor '{name}': {other} has no reading here"
                )));
            }
        }
    };
    if data.len() != count {
        return Err(KernelError::Shape(format!(
            "tensor '{name}': dims {:?} need {count} elements, found {}",
            proto.dims,
            data.len()
        )));
    }
    Ok(Tensor { shape, data })
}

/// The stored elements of `proto`, read by [`neuride_onnx::tensor::for_each`].
fn values<T>(
    proto: &TensorProto,
    count: usize,
    convert: impl Fn(Value) -> T,
) -> Result<Vec<T>, KernelError> {
    // Sized by what is stored, never by what `dims` claim.
    let stored = tensor::stored_count(proto)?;
    let mut out = Vec::with_capacity(count.min(stored as usize));
    tensor::for_each(proto, |v| out.push(convert(v)))?;
    Ok(out)
}

/// The little-endian bytes of a tensor's elements as `raw_data` stores
/// them (the 4- and 2-bit types packed, lowest bits first); `None` for strings.
pub(crate) fn raw_bytes(data: &Data) -> Option<Vec<u8>> {
    fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        v.iter().flat_map(|&x| f(x)).collect()
    }
    Some(match data {
        Data::F32(v) => le(v, f32::to_le_bytes),
        Data::F64(v) => le(v, f64::to_le_bytes),
        Data::F16(v) => le(v, f16::to_le_bytes),
        Data::Bf16(v) => le(v, bf16::to_le_bytes),
        Data::I64(v) => le(v, i64::to_le_bytes),
        Data::I32(v) => le(v, i32::to_le_bytes),
        Data::I16(v) => le(v, i16::to_le_bytes),
        Data::I8(v) => le(v, i8::to_le_bytes),
        Data::U64(v) => le(v, u64::to_le_bytes),
        Data::U32(v) => le(v, u32::to_le_bytes),
        Data::U16(v) => le(v, u16::to_le_bytes),
        Data::U8(v) => v.clone(),
        Data::Bool(v) => v.iter().map(|&x| x as u8).collect(),
        Data::Str(_) => return None,
        Data::Packed(dtype, v) => {
            let bits = neuride_onnx::dtype::bits(dtype.onnx_code()).unwrap_or(8) as usize;
            let per_byte = 8 / bits;
            let mask = ((1u16 << bits) - 1) as u8;
            v.chunks(per_byte)
                .map(|chunk| {
                    chunk
                        .iter()
                        .enumerate()
                        .fold(0u8, |acc, (k, &b)| acc | ((b & mask) << (k * bits)))
                })
                .collect()
        }
    })
}

/// Encodes a tensor as a `TensorProto` (raw_data for numbers, string_data for strings).
pub fn to_proto(name: &str, tensor: &Tensor) -> TensorProto {
    let mut proto = TensorProto {
        name: Some(name.to_owned()),
        dims: tensor.shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(tensor.dtype().onnx_code()),
        ..Default::default()
    };
    match raw_bytes(&tensor.data) {
        Some(raw) => proto.raw_data = Some(raw.into()),
        None => {
            if let Data::Str(v) = &tensor.data {
                proto.string_data = v
                    .iter()
                    .map(|s| bytes::Bytes::from(s.clone().into_bytes()))
                    .collect();
            }
        }
    }
    proto
}
