//! A tensor's payload as little-endian bytes, wherever the model keeps it:
//! `raw_data` (a view into the model's map), an external file (a view into
//! that file's map), or a typed field such as `float_data` (re-encoded; the
//! copy is no larger than what was already decoded). Sizes come from dims
//! with overflow checks, so absurd dims never allocate.

use super::external::{ExternalData, ExternalDataError, ModelDir};
use crate::dtype;
use crate::proto::TensorProto;
use crate::proto::tensor_proto::{DataLocation, DataType};
use bytes::Bytes;

/// Where the bytes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorSource {
    RawData,
    External,
    TypedField,
}

/// A tensor's payload, exactly `dims x element size` bytes long.
#[derive(Clone, Debug)]
pub struct TensorBytes {
    pub bytes: Bytes,
    pub source: TensorSource,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TensorDataError {
    #[error("tensor '{name}': dim {index} is {value}, dims must not be negative")]
    NegativeDim {
        name: String,
        index: usize,
        value: i64,
    },
    #[error("tensor '{name}': dims {dims:?} hold more elements than fit in 64 bits")]
    TooManyElements { name: String, dims: Vec<i64> },
    #[error(
        "tensor '{name}': element type {data_type} has no fixed size (strings and UNDEFINED have no byte payload)"
    )]
    NoFixedSize { name: String, data_type: String },
    #[error("tensor '{name}': {found} bytes of data, dims {dims:?} x {data_type} need {expected}")]
    SizeMismatch {
        name: String,
        dims: Vec<i64>,
        data_type: String,
        expected: u64,
        found: u64,
    },
    #[error("tensor '{name}': {source}")]
    External {
        name: String,
        #[source]
        source: ExternalDataError,
    },
}

/// The number of elements `dims` describe (1 for a scalar), refusing
/// negative dims and overflow.
pub fn element_count(name: &str, dims: &[i64]) -> Result<u64, TensorDataError> {
    dims.iter()
        .enumerate()
        .try_fold(1u64, |count, (index, &value)| {
            let dim = u64::try_from(value).map_err(|_| TensorDataError::NegativeDim {
                name: name.to_owned(),
                index,
                value,
            })?;
            count
                .checked_mul(dim)
                .ok_or_else(|| TensorDataError::TooManyElements {
                    name: name.to_owned(),
                    dims: dims.to_vec(),
                })
        })
}

/// The payload of `tensor` as little-endian bytes in ONNX `raw_data` layout.
/// `dir` resolves external data; without it external tensors fail with
/// [`ExternalDataError::NoModelDir`].
pub fn tensor_bytes(
    tensor: &TensorProto,
    dir: Option<&ModelDir>,
) -> Result<TensorBytes, TensorDataError> {
    let name = tensor.name();
    let data_type = tensor.data_type();
    let count = element_count(name, &tensor.dims)?;
    let expected =
        dtype::byte_len(data_type, count).ok_or_else(|| TensorDataError::NoFixedSize {
            name: name.to_owned(),
            data_type: dtype::onnx_name(data_type).to_owned(),
        })?;
    let external_error = |source| TensorDataError::External {
        name: name.to_owned(),
        source,
    };
    let (bytes, source) = if tensor.data_location == Some(DataLocation::External as i32) {
        let external = ExternalData::of(tensor).map_err(external_error)?;
        let dir = dir
            .ok_or(ExternalDataError::NoModelDir)
            .map_err(external_error)?;
        (
            dir.read(&external).map_err(external_error)?,
            TensorSource::External,
        )
    } else if let Some(raw) = tensor
        .raw_data
        .as_ref()
        .filter(|raw| !raw.is_empty() || count == 0)
    {
        (raw.clone(), TensorSource::RawData)
    } else {
        (typed_field_bytes(tensor), TensorSource::TypedField)
    };
    if bytes.len() as u64 != expected {
        return Err(TensorDataError::SizeMismatch {
            name: name.to_owned(),
            dims: tensor.dims.clone(),
            data_type: dtype::onnx_name(data_type).to_owned(),
            expected,
            found: bytes.len() as u64,
        });
    }
    Ok(TensorBytes { bytes, source })
}

/// `tensor` as if its payload had been stored in the model: an external
/// tensor comes back with `raw_data` holding its bytes (a view into the
/// mapped file, checked against its dims as [`tensor_bytes`] checks them)
/// and no external entries; any other tensor comes back as it is. Consumers
/// that decode `raw_data` and the typed fields then read external weights
/// through the same safe loader as the checker.
pub fn embedded(
    tensor: &TensorProto,
    dir: Option<&ModelDir>,
) -> Result<TensorProto, TensorDataError> {
    if tensor.data_location != Some(DataLocation::External as i32) {
        return Ok(tensor.clone());
    }
    let bytes = tensor_bytes(tensor, dir)?.bytes;
    Ok(TensorProto {
        raw_data: Some(bytes),
        data_location: None,
        external_data: Vec::new(),
        ..tensor.clone()
    })
}

/// Re-encodes the typed field ONNX uses for the tensor's element type, as
/// onnx.proto documents it: narrow integer and float types sit one per
/// `int32_data` entry (packed 2- and 4-bit types one byte per entry),
/// UINT32 in `uint64_data`, complex numbers as pairs.
fn typed_field_bytes(tensor: &TensorProto) -> Bytes {
    let Ok(data_type) = DataType::try_from(tensor.data_type()) else {
        return Bytes::new();
    };
    let bits = dtype::bits(tensor.data_type()).unwrap_or(0);
    let mut out = Vec::new();
    match data_type {
        DataType::Float | DataType::Complex64 => tensor
            .float_data
            .iter()
            .for_each(|v| out.extend(v.to_le_bytes())),
        DataType::Double | DataType::Complex128 => tensor
            .double_data
            .iter()
            .for_each(|v| out.extend(v.to_le_bytes())),
        DataType::Int64 => tensor
            .int64_data
            .iter()
            .for_each(|v| out.extend(v.to_le_bytes())),
        DataType::Uint64 => tensor
            .uint64_data
            .iter()
            .for_each(|v| out.extend(v.to_le_bytes())),
        DataType::Uint32 => tensor
            .uint64_data
            .iter()
            .for_each(|v| out.extend((*v as u32).to_le_bytes())),
        DataType::Int32 => tensor
            .int32_data
            .iter()
            .for_each(|v| out.extend(v.to_le_bytes())),
        DataType::String | DataType::Undefined => {}
        // Every remaining type lives in int32_data: 16-bit types two bytes
        // per entry, 8-bit and packed sub-byte types one byte per entry.
        _ if bits == 16 => tensor
            .int32_data
            .iter()
            .for_each(|v| out.extend((*v as u16).to_le_bytes())),
        // 6-bit floats sit one per entry but pack into a 6-bit LSB-first stream.
        _ if bits == 6 => out = pack_six_bit(&tensor.int32_data),
        _ => tensor.int32_data.iter().for_each(|v| out.push(*v as u8)),
    }
    Bytes::from(out)
}

fn pack_six_bit(values: &[i32]) -> Vec<u8> {
    let mut out = vec![0u8; (values.len() * 6).div_ceil(8)];
    for (i, value) in values.iter().enumerate() {
        for bit in 0..6 {
            if value >> bit & 1 == 1 {
                let at = i * 6 + bit;
                out[at / 8] |= 1 << (at % 8);
            }
        }
    }
    out
}
