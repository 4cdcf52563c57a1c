//! ONNX element types (`TensorProto.DataType`): names as ONNX and numpy spell
//! them and storage sizes, so size checks and summaries agree everywhere.

use crate::proto::tensor_proto::DataType;

/// Bits one element takes in `raw_data` (fewer than 8 for the packed 2-, 4- and
/// 6-bit types), or `None` for types without a fixed size (STRING, UNDEFINED).
pub fn bits(data_type: i32) -> Option<u64> {
    let dt = DataType::try_from(data_type).ok()?;
    Some(match dt {
        DataType::Undefined | DataType::String => return None,
        DataType::Bool | DataType::Int8 | DataType::Uint8 => 8,
        DataType::Float8e4m3fn
        | DataType::Float8e4m3fnuz
        | DataType::Float8e5m2
        | DataType::Float8e5m2fnuz => 8,
        DataType::Float8e8m0 => 8,
        DataType::Int4 | DataType::Uint4 | DataType::Float4e2m1 => 4,
        DataType::Int2 | DataType::Uint2 => 2,
        DataType::Float6e2m3 | DataType::Float6e3m2 => 6,
        DataType::Int16 | DataType::Uint16 | DataType::Float16 | DataType::Bfloat16 => 16,
        DataType::Int32 | DataType::Uint32 | DataType::Float => 32,
        DataType::Int64 | DataType::Uint64 | DataType::Double | DataType::Complex64 => 64,
        DataType::Complex128 => 128,
    })
}

/// Bytes that `count` elements take in `raw_data` (packed types round up),
/// or `None` on overflow or for types without a fixed size.
pub fn byte_len(data_type: i32, count: u64) -> Option<u64> {
    let bits = bits(data_type)?;
    count.checked_mul(bits).map(|b| b.div_ceil(8))
}

/// The short name ONNX's printer uses (`float`, `int64`, `bfloat16`, ...).
pub fn onnx_name(data_type: i32) -> &'static str {
    match DataType::try_from(data_type) {
        Ok(DataType::Float) => "float",
        Ok(DataType::Double) => "double",
        Ok(DataType::Float16) => "float16",
        Ok(DataType::Bfloat16) => "bfloat16",
        Ok(DataType::Int8) => "int8",
        Ok(DataType::Int16) => "int16",
        Ok(DataType::Int32) => "int32",
        Ok(DataType::Int64) => "int64",
        Ok(DataType::Uint8) => "uint8",
        Ok(DataType::Uint16) => "uint16",
        Ok(DataType::Uint32) => "uint32",
        Ok(DataType::Uint64) => "uint64",
        Ok(DataType::Bool) => "bool",
        Ok(DataType::String) => "string",
        Ok(DataType::Complex64) => "complex64",
        Ok(DataType::Complex128) => "complex128",
        Ok(DataType::Float8e4m3fn) => "float8e4m3fn",
        Ok(DataType::Float8e4m3fnuz) => "float8e4m3fnuz",
        Ok(DataType::Float8e5m2) => "float8e5m2",
        Ok(DataType::Float8e5m2fnuz) => "float8e5m2fnuz",
        Ok(DataType::Float8e8m0) => "float8e8m0",
        Ok(DataType::Uint4) => "uint4",
        Ok(DataType::Int4) => "int4",
        Ok(DataType::Float4e2m1) => "float4e2m1",
        Ok(DataType::Uint2) => "uint2",
        Ok(DataType::Int2) => "int2",
        Ok(DataType::Float6e2m3) => "float6e2m3",
        Ok(DataType::Float6e3m2) => "float6e3m2",
        Ok(DataType::Undefined) | Err(_) => "undefined",
    }
}
