//! Values as JSON: tensors as nested arrays, maps as objects, sequences as
//! arrays; and JSON inputs read with the dtypes the model declares.

use crate::Error;
use crate::error::KernelError;
use crate::signature::{Signature, ValueType};
use crate::value::{DType, Data, Map, MapKeys, Tensor, Value};
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value as Json;

pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Tensor(t) => tensor_to_json(t),
        Value::Optional(None) => Json::Null,
        Value::Optional(Some(inner)) => value_to_json(inner),
        Value::Sequence(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Map(m) => {
            let values = flat(&m.values);
            let keys: Vec<String> = match &m.keys {
                MapKeys::I64(k) => k.iter().map(|k| k.to_string()).collect(),
                MapKeys::Str(k) => k.clone(),
            };
            Json::Object(keys.into_iter().zip(values).collect())
        }
    }
}

/// The elements of `d` in row-major order, as JSON values (NaN and the
/// infinities, which JSON cannot write, become `null`).
pub fn flat(d: &Data) -> Vec<Json> {
    match d {
        Data::F32(v) => v.iter().map(|&x| Json::from(x as f64)).collect(),
        Data::Bool(v) => v.iter().map(|&x| Json::from(x)).collect(),
        Data::Str(v) => v.iter().map(|x| Json::from(x.clone())).collect(),
        Data::U64(v) => v.iter().map(|&x| Json::from(x)).collect(),
        d if d.dtype().is_int() => d
            .to_i64()
            .unwrap_or_default()
            .into_iter()
            .map(Json::from)
            .collect(),
        // Non-finite floats have no JSON number: serde_json writes null.
        d => d
            .to_f64()
            .unwrap_or_default()
            .into_iter()
            .map(Json::from)
            .collect(),
    }
}

pub fn tensor_to_json(t: &Tensor) -> Json {
    fn nest(shape: &[usize], items: &mut std::vec::IntoIter<Json>) -> Json {
        match shape.split_first() {
            None => items.next().unwrap_or(Json::Null),
            Some((&n, rest)) => Json::Array((0..n).map(|_| nest(rest, items)).collect()),
        }
    }
    nest(&t.shape, &mut flat(&t.data).into_iter())
}

pub(crate) fn serialize_named<S: Serializer>(
    named: &[(String, Value)],
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(named.len()))?;
    for (name, value) in named {
        map.serialize_entry(name, &value_to_json(value))?;
    }
    map.end()
}

/// Reads `{"name": nested array | object, ...}` using the model's declared types.
pub fn inputs_from_json(text: &str, signature: &Signature) -> Result<Vec<(String, Value)>, Error> {
    json_inputs(text, signature).map_err(Error::format)
}

fn json_inputs(text: &str, signature: &Signature) -> Result<Vec<(String, Value)>, KernelError> {
    let root: Json =
        serde_json::from_str(text).map_err(|e| KernelError::Value(format!("invalid JSON: {e}")))?;
    let Json::Object(entries) = root else {
        return Err(KernelError::Value(
            "JSON inputs must be an object {\"input name\": array, ...}".to_owned(),
        ));
    };
    let mut out = Vec::new();
    for (name, json) in entries {
        let ty = signature
            .inputs
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.ty.clone())
            .unwrap_or(ValueType::Unknown);
        out.push((
            name.clone(),
            json_to_value(&json, &ty).map_err(|e| e.context(format_args!("input '{name}'")))?,
        ));
    }
    Ok(out)
}

/// A tensor of `dtype` and `shape` from `data` written flat or nested in
/// row-major order (the Open Inference Protocol's JSON tensors): the leaves
/// are read in order, whatever the nesting, and must fill `shape` exactly.
pub fn tensor_from_json(data: &Json, dtype: DType, shape: &[usize]) -> Result<Tensor, Error> {
    fn leaves<'a>(json: &'a Json, out: &mut Vec<&'a Json>) {
        match json {
            Json::Array(items) => items.iter().for_each(|item| leaves(item, out)),
            leaf => out.push(leaf),
        }
    }
    let mut found = Vec::new();
    leaves(data, &mut found);
    let want = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::Format(format!("shape {shape:?} is too large")))?;
    if found.len() != want {
        return Err(Error::Format(format!(
            "shape {shape:?} needs {want} elements, found {}",
            found.len()
        )));
    }
    Ok(Tensor {
        shape: shape.to_vec(),
        data: leaves_to_data(&found, dtype).map_err(Error::format)?,
    })
}

fn json_to_value(json: &Json, ty: &ValueType) -> Result<Value, KernelError> {
    match (ty, json) {
        (ValueType::Map { key, value }, Json::Object(obj)) => {
            let vdtype = match &**value {
                ValueType::Tensor { dtype: Some(d), .. } => *d,
                _ => DType::F32,
            };
            let keys = if *key == Some(DType::I64) {
                MapKeys::I64(
                    obj.keys()
                        .map(|k| {
                            k.parse::<i64>().map_err(|_| {
                                KernelError::Type(format!("map key '{k}' is not an integer"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                )
            } else {
                MapKeys::Str(obj.keys().cloned().collect())
            };
            let values: Vec<&Json> = obj.values().collect();
            Ok(Value::Map(Map {
                keys,
                values: leaves_to_data(&values, vdtype)?,
            }))
        }
        (ValueType::Sequence { element }, Json::Array(items)) => Ok(Value::Sequence(
            items
                .iter()
                .map(|i| json_to_value(i, element))
                .collect::<Result<_, _>>()?,
        )),
        (ValueType::Tensor { .. } | ValueType::Unknown, _) => {
            let dtype = dtype_of(ty).unwrap_or_else(|| guess(json));
            let mut shape = Vec::new();
            let mut cursor = json;
            while let Json::Array(items) = cursor {
                shape.push(items.len());
                match items.first() {
                    Some(first) => cursor = first,
                    None => break,
                }
            }
            let mut leaves = Vec::new();
            collect(json, &shape, &mut leaves)?;
            Ok(Value::Tensor(Tensor {
                shape,
                data: leaves_to_data(&leaves, dtype)?,
            }))
        }
        _ => Err(KernelError::Value(format!(
            "{} expected",
            crate::signature::describe(ty)
        ))),
    }
}

fn dtype_of(ty: &ValueType) -> Option<DType> {
    match ty {
        ValueType::Tensor { dtype, .. } => *dtype,
        _ => None,
    }
}

fn guess(json: &Json) -> DType {
    match json {
        Json::Array(a) => a.first().map(guess).unwrap_or(DType::F32),
        Json::String(_) => DType::Str,
        Json::Bool(_) => DType::Bool,
        Json::Number(n) if n.is_i64() => DType::I64,
        _ => DType::F32,
    }
}

fn collect<'a>(
    json: &'a Json,
    shape: &[usize],
    out: &mut Vec<&'a Json>,
) -> Result<(), KernelError> {
    match (shape.split_first(), json) {
        (None, Json::Array(_)) => Err(KernelError::Value(
            "ragged nesting: an array where a number was expected".to_owned(),
        )),
        (None, leaf) => {
            out.push(leaf);
            Ok(())
        }
        (Some((&n, rest)), Json::Array(items)) if items.len() == n => {
            items.iter().try_for_each(|i| collect(i, rest, out))
        }
        (Some((&n, _)), _) => Err(KernelError::Value(format!(
            "ragged nesting: an array of {n} expected"
        ))),
    }
}

fn leaves_to_data(leaves: &[&Json], dtype: DType) -> Result<Data, KernelError> {
    let num = |j: &Json| -> Result<f64, KernelError> {
        match j {
            Json::Number(n) => n
                .as_f64()
                .ok_or_else(|| KernelError::Type(format!("{n} is not a number"))),
            Json::Bool(b) => Ok(*b as u8 as f64),
            // NaN cannot be written in JSON; null stands for a missing value.
            Json::Null => Ok(f64::NAN),
            other => Err(KernelError::Type(format!("{other} is not a number"))),
        }
    };
    let int = |j: &Json| -> Result<i64, KernelError> {
        match j {
            Json::Number(n) => n
                .as_i64()
                .ok_or_else(|| KernelError::Type(format!("{n} is not an integer"))),
            Json::Bool(b) => Ok(*b as i64),
            other => Err(KernelError::Type(format!("{other} is not an integer"))),
        }
    };
    Ok(match dtype {
        DType::Str => Data::Str(
            leaves
                .iter()
                .map(|j| match j {
                    Json::String(s) => Ok(s.clone()),
                    other => Err(KernelError::Type(format!("{other} is not a string"))),
                })
                .collect::<Result<_, _>>()?,
        ),
        d if d.is_int() => {
            Data::from_i64(d, leaves.iter().map(|j| int(j)).collect::<Result<_, _>>()?)
        }
        d => Data::from_f64(d, leaves.iter().map(|j| num(j)).collect::<Result<_, _>>()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_read_flat_or_nested_and_must_fill_their_shape() {
        let flat = serde_json::json!([1, 2, 3, 4, 5, 6]);
        let nested = serde_json::json!([[1, 2, 3], [4, 5, 6]]);
        let a = tensor_from_json(&flat, DType::F32, &[2, 3]).unwrap();
        let b = tensor_from_json(&nested, DType::F32, &[2, 3]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.data, Data::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let short = tensor_from_json(&flat, DType::I64, &[4, 2]).unwrap_err();
        assert_eq!(short.to_string(), "shape [4, 2] needs 8 elements, found 6");
        let words = tensor_from_json(&serde_json::json!(["a", 1]), DType::Str, &[2]).unwrap_err();
        assert_eq!(words.to_string(), "1 is not a string");
    }
}
