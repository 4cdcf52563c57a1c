//! Input and output files, as bytes in and bytes out (the caller reads and
//! writes the disk): `.npz`, `.npy`, ONNX `TensorProto`/`SequenceProto`/
//! `MapProto` `.pb` files, and JSON.

use crate::Error;
use crate::npz;
use crate::signature::{Signature, ValueType};
use crate::tensor_proto;
use crate::value::{Data, Map, MapKeys, Tensor, Value};
use neuride_onnx::proto::tensor_proto::DataType;
use prost::Message;

/// `onnx-data.proto`'s containers, which `onnx.proto` lacks; backend tests
/// store sequence and map inputs/outputs in them.
pub mod data_proto {
    use neuride_onnx::proto::TensorProto;

    /// `SequenceProto.DataType`: what a sequence's elements are.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(i32)]
    pub enum ElemKind {
        Tensor = 1,
        Sequence = 3,
        Map = 4,
        Optional = 5,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SequenceProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "2")]
        pub elem_type: Option<i32>,
        #[prost(message, repeated, tag = "3")]
        pub tensor_values: Vec<TensorProto>,
        #[prost(message, repeated, tag = "5")]
        pub sequence_values: Vec<SequenceProto>,
        #[prost(message, repeated, tag = "6")]
        pub map_values: Vec<MapProto>,
        #[prost(message, repeated, tag = "7")]
        pub optional_values: Vec<OptionalProto>,
    }

    /// `OptionalProto`: empty, or one tensor, sequence, map or optional.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct OptionalProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "2")]
        pub elem_type: Option<i32>,
        #[prost(message, optional, tag = "3")]
        pub tensor_value: Option<TensorProto>,
        #[prost(message, optional, tag = "5")]
        pub sequence_value: Option<SequenceProto>,
        #[prost(message, optional, tag = "6")]
        pub map_value: Option<MapProto>,
        #[prost(message, optional, boxed, tag = "7")]
        pub optional_value: Option<Box<OptionalProto>>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MapProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "2")]
        pub key_type: Option<i32>,
        #[prost(int64, repeated, tag = "3")]
        pub keys: Vec<i64>,
        #[prost(bytes = "vec", repeated, tag = "4")]
        pub string_keys: Vec<Vec<u8>>,
        #[prost(message, optional, tag = "5")]
        pub values: Option<SequenceProto>,
    }
}
use crate::error::KernelError;
use data_proto::{ElemKind, MapProto, OptionalProto, SequenceProto};

/// Every array of an `.npz` archive, keyed by array name.
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, Error> {
    npz::read_npz(bytes)
}

pub fn read_npy(bytes: &[u8]) -> Result<Tensor, Error> {
    npz::read_npy(bytes)
}

/// Decodes a `.pb` value of the type the model expects (tensor, sequence or map).
pub fn read_pb(bytes: &[u8], ty: &ValueType) -> Result<Value, Error> {
    pb_value(bytes, ty).map_err(|e| Error::Format(e.to_string()))
}

fn pb_value(bytes: &[u8], ty: &ValueType) -> Result<Value, KernelError> {
    match ty {
        ValueType::Sequence { .. } => sequence_from_proto(
            &SequenceProto::decode(bytes)
                .map_err(|e| KernelError::Value(format!("not a SequenceProto: {e}")))?,
        ),
        ValueType::Map { .. } => map_from_proto(
            &MapProto::decode(bytes)
                .map_err(|e| KernelError::Value(format!("not a MapProto: {e}")))?,
        ),
        ValueType::Optional { .. } => optional_from_proto(
            &OptionalProto::decode(bytes)
                .map_err(|e| KernelError::Value(format!("not an OptionalProto: {e}")))?,
        ),
        _ => {
            let proto = neuride_onnx::proto::TensorProto::decode(bytes)
                .map_err(|e| KernelError::Value(format!("not a TensorProto: {e}")))?;
            Ok(Value::Tensor(tensor_proto::decode(&proto)?))
        }
    }
}

fn sequence_from_proto(s: &SequenceProto) -> Result<Value, KernelError> {
    let mut items = Vec::new();
    for t in &s.tensor_values {
        items.push(Value::Tensor(tensor_proto::decode(t)?));
    }
    for q in &s.sequence_values {
        items.push(sequence_from_proto(q)?);
    }
    for m in &s.map_values {
        items.push(map_from_proto(m)?);
    }
    for o in &s.optional_values {
        items.push(optional_from_proto(o)?);
    }
    Ok(Value::Sequence(items))
}

fn optional_from_proto(o: &OptionalProto) -> Result<Value, KernelError> {
    let inner = if let Some(t) = &o.tensor_value {
        Some(Value::Tensor(tensor_proto::decode(t)?))
    } else if let Some(s) = &o.sequence_value {
        Some(sequence_from_proto(s)?)
    } else if let Some(m) = &o.map_value {
        Some(map_from_proto(m)?)
    } else if let Some(inner) = &o.optional_value {
        Some(optional_from_proto(inner)?)
    } else {
        None
    };
    Ok(Value::Optional(inner.map(Box::new)))
}

fn map_from_proto(m: &MapProto) -> Result<Value, KernelError> {
    let keys = if m.key_type == Some(DataType::String as i32) {
        MapKeys::Str(
            m.string_keys
                .iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect(),
        )
    } else {
        MapKeys::I64(m.keys.clone())
    };
    let values = m
        .values
        .as_ref()
        .ok_or_else(|| KernelError::Value("MapProto without values".to_owned()))?;
    let tensor = values
        .tensor_values
        .first()
        .map(tensor_proto::decode)
        .transpose()?;
    let data = match tensor {
        Some(t) if values.tensor_values.len() == 1 => t.data,
        // One scalar tensor per key is the other layout writers use.
        _ => {
            let mut acc: Option<Data> = None;
            for t in &values.tensor_values {
                let t = tensor_proto::decode(t)?;
                match acc.as_mut() {
                    None => acc = Some(t.data),
                    Some(a) => {
                        a.extend(&t.data);
                    }
                }
            }
            acc.unwrap_or(Data::F32(Vec::new()))
        }
    };
    if data.len() != keys.len() {
        return Err(KernelError::Value(format!(
            "map has {} keys and {} values",
            keys.len(),
            data.len()
        )));
    }
    Ok(Value::Map(Map { keys, values: data }))
}

/// Encodes a value as the `.pb` message backend tests use for it.
pub fn write_pb(name: &str, value: &Value) -> Vec<u8> {
    match value {
        Value::Tensor(t) => tensor_proto::to_proto(name, t).encode_to_vec(),
        Value::Sequence(_) => sequence_to_proto(name, value).encode_to_vec(),
        Value::Map(_) => map_to_proto(name, value).encode_to_vec(),
        Value::Optional(_) => optional_to_proto(name, value).encode_to_vec(),
    }
}

fn optional_to_proto(name: &str, value: &Value) -> OptionalProto {
    let mut o = OptionalProto {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    if let Value::Optional(Some(inner)) = value {
        match &**inner {
            Value::Tensor(t) => {
                o.elem_type = Some(ElemKind::Tensor as i32);
                o.tensor_value = Some(tensor_proto::to_proto("", t));
            }
            Value::Sequence(_) => {
                o.elem_type = Some(ElemKind::Sequence as i32);
                o.sequence_value = Some(sequence_to_proto("", inner));
            }
            Value::Map(_) => {
                o.elem_type = Some(ElemKind::Map as i32);
                o.map_value = Some(map_to_proto("", inner));
            }
            Value::Optional(_) => {
                o.elem_type = Some(ElemKind::Optional as i32);
                o.optional_value = Some(Box::new(optional_to_proto("", inner)));
            }
        }
    }
    o
}

fn sequence_to_proto(name: &str, value: &Value) -> SequenceProto {
    let mut s = SequenceProto {
        name: Some(name.to_owned()),
        // An empty sequence still says what it would hold.
        elem_type: Some(ElemKind::Tensor as i32),
        ..Default::default()
    };
    if let Value::Sequence(items) = value {
        for item in items {
            match item {
                Value::Tensor(t) => {
                    s.elem_type = Some(ElemKind::Tensor as i32);
                    s.tensor_values.push(tensor_proto::to_proto("", t));
                }
                Value::Sequence(_) => {
                    s.elem_type = Some(ElemKind::Sequence as i32);
                    s.sequence_values.push(sequence_to_proto("", item));
                }
                Value::Map(_) => {
                    s.elem_type = Some(ElemKind::Map as i32);
                    s.map_values.push(map_to_proto("", item));
                }
                Value::Optional(_) => {
                    s.elem_type = Some(ElemKind::Optional as i32);
                    s.optional_values.push(optional_to_proto("", item));
                }
            }
        }
    }
    s
}

fn map_to_proto(name: &str, value: &Value) -> MapProto {
    let Value::Map(m) = value else {
        return MapProto::default();
    };
    let mut p = MapProto {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    match &m.keys {
        MapKeys::I64(k) => {
            p.key_type = Some(DataType::Int64 as i32);
            p.keys = k.clone();
        }
        MapKeys::Str(k) => {
            p.key_type = Some(DataType::String as i32);
            p.string_keys = k.iter().map(|s| s.clone().into_bytes()).collect();
        }
    }
    let values = Tensor {
        shape: vec![m.values.len()],
        data: m.values.clone(),
    };
    p.values = Some(SequenceProto {
        elem_type: Some(ElemKind::Tensor as i32),
        tensor_values: vec![tensor_proto::to_proto("", &values)],
        ..Default::default()
    });
    p
}

/// Inputs from an `.npz` whose keys are the model's input names. Extra keys
/// (labels kept beside the data, for example) are ignored only when every
/// model input is present.
pub fn inputs_from_npz(
    bytes: &[u8],
    signature: &Signature,
    exclude: &[&str],
) -> Result<Vec<(String, Value)>, Error> {
    let arrays: Vec<(String, Tensor)> = read_npz(bytes)?
        .into_iter()
        .filter(|(n, _)| !exclude.contains(&n.as_str()))
        .collect();
    Ok(bind_arrays(arrays, signature)
        .into_iter()
        .map(|(n, t)| (n, Value::Tensor(t)))
        .collect())
}

/// Matches archive arrays to model inputs: by exact name when every input
/// is present, else by name ignoring case (`x` feeds `X`, as scikit-learn
/// exports name it), else a lone array feeds a lone input. Anything else is
/// returned unchanged so the caller's mismatch report lists every name.
fn bind_arrays(arrays: Vec<(String, Tensor)>, signature: &Signature) -> Vec<(String, Tensor)> {
    let ports = &signature.inputs;
    if ports
        .iter()
        .all(|p| arrays.iter().any(|(n, _)| *n == p.name))
    {
        return arrays
            .into_iter()
            .filter(|(n, _)| ports.iter().any(|p| p.name == *n))
            .collect();
    }
    let folded = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let unique_fold = ports
        .iter()
        .all(|p| arrays.iter().filter(|(n, _)| folded(n, &p.name)).count() == 1);
    if unique_fold {
        return arrays
            .into_iter()
            .filter_map(|(n, t)| {
                let port = ports.iter().find(|p| folded(&n, &p.name))?;
                Some((port.name.clone(), t))
            })
            .collect();
    }
    if let ([port], [_]) = (ports.as_slice(), arrays.as_slice()) {
        let name = port.name.clone();
        return arrays.into_iter().map(|(_, t)| (name.clone(), t)).collect();
    }
    arrays
}

/// Outputs as an `.npz` (tensors only). Returns the archive and the names of
/// outputs left out because `.npz` cannot hold them (maps, sequences).
pub fn outputs_to_npz(outputs: &[(String, Value)]) -> Result<(Vec<u8>, Vec<String>), Error> {
    let mut arrays = Vec::new();
    let mut skipped = Vec::new();
    for (name, value) in outputs {
        match value {
            Value::Tensor(t) => arrays.push((name.clone(), t.clone())),
            _ => skipped.push(name.clone()),
        }
    }
    Ok((npz::write_npz(&arrays)?, skipped))
}

pub fn outputs_to_json(outputs: &[(String, Value)]) -> serde_json::Value {
    serde_json::Value::Object(
        outputs
            .iter()
            .map(|(n, v)| (n.clone(), crate::json::value_to_json(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::{read_pb, write_pb};
    use crate::signature::ValueType;
    use crate::value::{Data, Map, MapKeys, Tensor, Value};

    /// Sequences, maps and optionals go out as onnx-data.proto's messages
    /// and come back as they were.
    #[test]
    fn containers_round_trip_through_their_pb_messages() {
        let map = |keys: &[&str], values: Vec<f32>| {
            Value::Map(Map {
                keys: MapKeys::Str(keys.iter().map(|k| k.to_string()).collect()),
                values: Data::F32(values),
            })
        };
        let tensor = Value::Tensor(Tensor {
            shape: vec![2],
            data: Data::I64(vec![7, -3]),
        });
        let unknown = || Box::new(ValueType::Unknown);
        let cases = [
            (
                Value::Sequence(vec![
                    map(&["a", "b"], vec![0.25, 0.75]),
                    map(&["c"], vec![1.0]),
                ]),
                ValueType::Sequence { element: unknown() },
            ),
            (
                Value::Map(Map {
                    keys: MapKeys::I64(vec![4, 9]),
                    values: Data::F64(vec![0.5, 1.5]),
                }),
                ValueType::Map {
                    key: None,
                    value: unknown(),
                },
            ),
            (
                Value::Optional(Some(Box::new(Value::Sequence(vec![tensor])))),
                ValueType::Optional { element: unknown() },
            ),
            (
                Value::Optional(None),
                ValueType::Optional { element: unknown() },
            ),
        ];
        for (value, ty) in cases {
            let back = read_pb(&write_pb("v", &value), &ty).unwrap();
            assert_eq!(back, value);
        }
    }
}
