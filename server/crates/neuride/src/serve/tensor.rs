//! The Open Inference Protocol's tensors: datatype names, shapes with `-1`
//! for free dimensions, JSON `data` (flat or nested) and the binary tensor
//! extension (raw little-endian elements; BYTES as 4-byte little-endian
//! lengths each followed by the bytes). Decoding goes through
//! `neuride_infer` (JSON leaves, `TensorProto` raw data): this module only
//! frames.

use neuride_infer::{DType, Data, Dim, Tensor, Value, ValueType};
use serde_json::Value as Json;

/// The protocol's datatypes (and Triton's BF16) with the element types
/// they carry: one table for both directions.
const DATATYPES: &[(&str, DType)] = &[
    ("BOOL", DType::Bool),
    ("UINT8", DType::U8),
    ("UINT16", DType::U16),
    ("UINT32", DType::U32),
    ("UINT64", DType::U64),
    ("INT8", DType::I8),
    ("INT16", DType::I16),
    ("INT32", DType::I32),
    ("INT64", DType::I64),
    ("FP16", DType::F16),
    ("BF16", DType::Bf16),
    ("FP32", DType::F32),
    ("FP64", DType::F64),
    ("BYTES", DType::Str),
];

/// The datatype names neuride takes, in the protocol's order.
pub const SUPPORTED: &str =
    "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES";

/// The protocol's name for an element type; ONNX's 8-, 4- and 2-bit types
/// have none (their outputs travel as FP32, see [`output`]).
pub fn datatype(dtype: DType) -> Option<&'static str> {
    DATATYPES
        .iter()
        .find(|(_, d)| *d == dtype)
        .map(|(name, _)| *name)
}

/// The element type of a protocol datatype name; an error names the ones
/// the engines hold (the protocol's others, FP16 or UINT32 say, are valid
/// names no engine here computes in).
pub fn dtype(datatype: &str) -> Result<DType, String> {
    DATATYPES
        .iter()
        .find(|(name, _)| *name == datatype)
        .map(|(_, d)| *d)
        .ok_or_else(|| {
            format!(
                "datatype {datatype:?} is not an Open Inference Protocol datatype (neuride takes {SUPPORTED})"
            )
        })
}

/// A declared port as the protocol's metadata: datatype and shape, `-1`
/// for a free dimension. Maps and sequences (ZipMap outputs) travel as
/// BYTES holding JSON, one element per item.
pub fn metadata(name: &str, ty: &ValueType) -> Json {
    let (datatype, shape): (&str, Vec<i64>) = match ty {
        ValueType::Tensor { dtype, shape } => (
            dtype.map_or("BYTES", |d| self::datatype(d).unwrap_or("FP32")),
            shape.as_ref().map_or_else(
                || vec![-1],
                |dims| {
                    dims.iter()
                        .map(|d| match d {
                            Dim::Fixed(n) => *n as i64,
                            Dim::Symbolic(_) => -1,
                        })
                        .collect()
                },
            ),
        ),
        ValueType::Map { .. } => ("BYTES", vec![1]),
        ValueType::Optional { element } => return metadata(name, element),
        ValueType::Sequence { .. } | ValueType::Unknown => ("BYTES", vec![-1]),
    };
    serde_json::json!({ "name": name, "datatype": datatype, "shape": shape })
}

/// An input's shape: non-negative integers.
pub fn shape(name: &str, json: &Json) -> Result<Vec<usize>, String> {
    let dims = json
        .as_array()
        .ok_or_else(|| format!("input '{name}': \"shape\" must be an array of sizes"))?;
    dims.iter()
        .map(|d| {
            d.as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| {
                    format!("input '{name}': shape {json} must hold non-negative integers")
                })
        })
        .collect()
}

/// Elements a request may carry in one input: far beyond any real
/// request that fits the body limit, below what would exhaust memory.
const MAX_ELEMENTS: usize = 1 << 31;

/// An input from its binary bytes.
pub fn from_binary(
    name: &str,
    dtype: DType,
    shape: &[usize],
    bytes: &[u8],
) -> Result<Tensor, String> {
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| format!("input '{name}': shape {shape:?} is too large"))?;
    if dtype == DType::Str {
        let mut items = Vec::with_capacity(count.min(bytes.len() / 4));
        let mut rest = bytes;
        while let Some((length, tail)) = rest.split_first_chunk::<4>() {
            let length = u32::from_le_bytes(*length) as usize;
            let Some((item, tail)) = (length <= tail.len()).then(|| tail.split_at(length)) else {
                return Err(format!(
                    "input '{name}': a BYTES element claims {length} bytes, {} are left",
                    tail.len()
                ));
            };
            items.push(String::from_utf8_lossy(item).into_owned());
            rest = tail;
        }
        if !rest.is_empty() || items.len() != count {
            return Err(format!(
                "input '{name}': shape {shape:?} needs {count} BYTES elements, the binary data holds {}{}",
                items.len(),
                if rest.is_empty() {
                    ""
                } else {
                    " and a partial one"
                }
            ));
        }
        return Ok(Tensor {
            shape: shape.to_vec(),
            data: Data::Str(items),
        });
    }
    let proto = neuride_onnx::proto::TensorProto {
        name: Some(name.to_owned()),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(dtype.onnx_code()),
        raw_data: Some(axum::body::Bytes::copy_from_slice(bytes)),
        ..Default::default()
    };
    neuride_infer::tensor_proto::from_proto(&proto).map_err(|e| format!("input '{name}': {e}"))
}

/// An input from its JSON `data`, flat or nested.
pub fn from_json(name: &str, dtype: DType, shape: &[usize], data: &Json) -> Result<Tensor, String> {
    neuride_infer::json::tensor_from_json(data, dtype, shape)
        .map_err(|e| format!("input '{name}': {e}"))
}

/// An output as the protocol carries it: shape, datatype and flat data.
pub struct Output {
    pub shape: Vec<usize>,
    pub datatype: &'static str,
    pub data: Data,
}

/// An output value as a tensor; maps and sequences become BYTES of JSON.
pub fn output(value: &Value) -> Output {
    match value {
        Value::Tensor(tensor) => match datatype(tensor.dtype()) {
            Some(name) => Output {
                shape: tensor.shape.clone(),
                datatype: name,
                data: tensor.data.clone(),
            },
            // Float8/4-bit/2-bit elements: their values, as FP32.
            None => Output {
                shape: tensor.shape.clone(),
                datatype: "FP32",
                data: Data::F32(tensor.data.to_f32().unwrap_or_default()),
            },
        },
        Value::Optional(Some(inner)) => output(inner),
        Value::Optional(None) => Output {
            shape: vec![0],
            datatype: "FP32",
            data: Data::F32(Vec::new()),
        },
        Value::Sequence(items) => Output {
            shape: vec![items.len()],
            datatype: "BYTES",
            data: Data::Str(
                items
                    .iter()
                    .map(|item| neuride_infer::json::value_to_json(item).to_string())
                    .collect(),
            ),
        },
        Value::Map(_) => Output {
            shape: vec![1],
            datatype: "BYTES",
            data: Data::Str(vec![neuride_infer::json::value_to_json(value).to_string()]),
        },
    }
}

impl Output {
    /// The data as the JSON array of a response (row-major, flat).
    pub fn json_data(&self) -> Json {
        Json::Array(neuride_infer::json::flat(&self.data))
    }

    /// The data in the binary tensor extension's layout.
    pub fn binary_data(&self) -> Vec<u8> {
        match &self.data {
            Data::Str(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend_from_slice(&(item.len() as u32).to_le_bytes());
                    out.extend_from_slice(item.as_bytes());
                }
                out
            }
            data => {
                let tensor = Tensor {
                    shape: self.shape.clone(),
                    data: data.clone(),
                };
                neuride_infer::tensor_proto::to_proto("", &tensor)
                    .raw_data
                    .map(|raw| raw.to_vec())
                    .unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_tensors_round_trip() {
        let floats = Output {
            shape: vec![2],
            datatype: "FP32",
            data: Data::F32(vec![1.5, -2.0]),
        };
        let decoded = from_binary("x", DType::F32, &[2], &floats.binary_data()).unwrap();
        assert_eq!(decoded.data, floats.data);
        let words = Output {
            shape: vec![2],
            datatype: "BYTES",
            data: Data::Str(vec!["setosa".into(), String::new()]),
        };
        let decoded = from_binary("w", DType::Str, &[2], &words.binary_data()).unwrap();
        assert_eq!(decoded.data, words.data);
        let short = from_binary("x", DType::F32, &[3], &floats.binary_data()).unwrap_err();
        assert!(short.starts_with("input 'x': "), "{short}");
        let cut = from_binary("w", DType::Str, &[2], &[9, 0, 0, 0, b'a']).unwrap_err();
        assert!(cut.contains("claims 9 bytes"), "{cut}");
    }

    #[test]
    fn datatypes_name_what_is_supported() {
        assert_eq!(dtype("FP32"), Ok(DType::F32));
        assert_eq!(dtype("FP16"), Ok(DType::F16));
        assert_eq!(datatype(DType::U16), Some("UINT16"));
        assert_eq!(datatype(DType::F8E4M3Fn), None);
        assert!(
            dtype("float")
                .unwrap_err()
                .contains("not an Open Inference")
        );
    }
}
