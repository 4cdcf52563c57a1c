//! Operators between categories, labels and maps: ZipMap, LabelEncoder,
//! OneHotEncoder, CategoryMapper, DictVectorizer, CastMap.

use super::basic::{input_tensor, shaped_like};
use super::num::index_below;
use super::{Attrs, BoxKernel, Kernel, same_lengths};
use crate::error::KernelError;
use crate::value::{DType, Data, Map, MapKeys, Tensor, Value};
use std::collections::HashMap;

/// A hashable scalar key. Floats compare by value with every NaN equal and
/// -0.0 equal to 0.0, as onnxruntime's ordered maps do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Str(String),
    Float(u64),
}

fn float_key(x: f64) -> Key {
    if x.is_nan() {
        Key::Float(f64::NAN.to_bits())
    } else if x == 0.0 {
        Key::Float(0f64.to_bits())
    } else {
        Key::Float(x.to_bits())
    }
}

fn keys_of(data: &Data) -> Result<Vec<Key>, KernelError> {
    Ok(match data {
        Data::Str(v) => v.iter().cloned().map(Key::Str).collect(),
        Data::I64(v) => v.iter().map(|&x| Key::Int(x)).collect(),
        Data::I32(v) => v.iter().map(|&x| Key::Int(x as i64)).collect(),
        // f32 keys widen exactly to f64, so f32 inputs and f32 keys meet.
        Data::F32(v) => v.iter().map(|&x| float_key(x as f64)).collect(),
        Data::F64(v) => v.iter().map(|&x| float_key(x)).collect(),
        other => {
            return Err(KernelError::Unsupported(format!(
                "keys of type {} are not supported",
                other.dtype()
            )));
        }
    })
}

// ---------------------------------------------------------------- ZipMap

struct ZipMap(MapKeys);

pub(crate) fn zipmap(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let keys = match (
        a.strings("classlabels_strings"),
        a.ints("classlabels_int64s"),
    ) {
        (Some(s), _) if !s.is_empty() => MapKeys::Str(s),
        (_, Some(i)) if !i.is_empty() => MapKeys::I64(i),
        _ => {
            return Err(KernelError::Attribute(
                "one of classlabels_strings, classlabels_int64s is required".to_owned(),
            ));
        }
    };
    Ok(Box::new(ZipMap(keys)))
}

impl Kernel for ZipMap {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = input_tensor(inputs, 0)?;
        let Data::F32(x) = &t.data else {
            return Err(KernelError::Type(format!(
                "X must be float, found {}",
                t.dtype()
            )));
        };
        let cols = self.0.len();
        let ok = match t.shape.len() {
            1 => t.shape[0] == cols,
            2 => t.shape[1] == cols,
            _ => false,
        };
        if !ok {
            return Err(KernelError::Shape(format!(
                "X has shape {:?}, [N, {cols}] or [{cols}] expected for {cols} labels",
                t.shape
            )));
        }
        let maps = x
            .chunks_exact(cols.max(1))
            .map(|row| {
                Value::Map(Map {
                    keys: self.0.clone(),
                    values: Data::F32(row.to_vec()),
                })
            })
            .collect();
        Ok(vec![Value::Sequence(maps)])
    }
}

// ---------------------------------------------------------------- LabelEncoder

struct LabelEncoder {
    table: HashMap<Key, usize>,
    values: Data,
    default: Data,
}

fn data_attr(a: &Attrs, base: &str) -> Result<Option<Data>, KernelError> {
    if let Some(t) = a.tensor(&format!("{base}_tensor"))? {
        return Ok(Some(t.data));
    }
    if let Some(v) = a.strings(&format!("{base}_strings")) {
        return Ok(Some(Data::Str(v)));
    }
    if let Some(v) = a.ints(&format!("{base}_int64s")) {
        return Ok(Some(Data::I64(v)));
    }
    if let Some(v) = a.floats(&format!("{base}_floats")) {
        return Ok(Some(Data::F32(v)));
    }
    Ok(None)
}

pub(crate) fn label_encoder(a: &Attrs) -> Result<BoxKernel, KernelError> {
    // ai.onnx.ml opset 1: `classes_strings` maps strings to their index and
    // back, a CategoryMapper of the classes numbered 0, 1, ... (a repeated
    // class maps to its last index).
    if let Some(classes) = a.strings("classes_strings") {
        let to_int = (0..).zip(&classes).map(|(i, c)| (c.clone(), i)).collect();
        let to_string = (0..).zip(classes).collect();
        return Ok(CategoryMapper::kernel(a, to_int, to_string));
    }
    let keys = data_attr(a, "keys")?
        .ok_or_else(|| KernelError::Attribute("keys_* attribute is required".to_owned()))?;
    let values = data_attr(a, "values")?
        .ok_or_else(|| KernelError::Attribute("values_* attribute is required".to_owned()))?;
    if keys.len() != values.len() {
        return Err(KernelError::Attribute(format!(
            "{} keys but {} values",
            keys.len(),
            values.len()
        )));
    }
    let default = match a.tensor("default_tensor")? {
        Some(t) => t.data,
        None => match values.dtype() {
            DType::Str => Data::Str(vec![a.s_or("default_string", "_Unused")]),
            DType::I64 => Data::I64(vec![a.i("default_int64").unwrap_or(-1)]),
            DType::F32 => Data::F32(vec![a.f("default_float").unwrap_or(-0.0)]),
            DType::F64 => Data::F64(vec![a.f("default_float").map(f64::from).unwrap_or(-0.0)]),
            other => {
                return Err(KernelError::Unsupported(format!(
                    "values of type {other} are not supported"
                )));
            }
        },
    };
    if default.dtype() != values.dtype() || default.len() != 1 {
        return Err(KernelError::Type(
            "the default must be one value of the values' type".to_owned(),
        ));
    }
    let mut table = HashMap::new();
    for (i, k) in keys_of(&keys)?.into_iter().enumerate() {
        // The first occurrence of a duplicated key wins.
        table.entry(k).or_insert(i);
    }
    Ok(Box::new(LabelEncoder {
        table,
        values,
        default,
    }))
}

impl Kernel for LabelEncoder {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = input_tensor(inputs, 0)?;
        let keys = keys_of(&t.data)?;
        // Index len() of the values is the default (appended below).
        let picks: Vec<usize> = keys
            .iter()
            .map(|k| self.table.get(k).copied().unwrap_or(self.values.len()))
            .collect();
        let mut all = self.values.clone();
        all.extend(&self.default);
        shaped_like(t, all.gather(&picks))
    }
}

/// A string or int64 list attribute (whichever is set and non-empty) and
/// each value's first position in it.
fn keyed_list(
    a: &Attrs,
    strings: &str,
    ints: &str,
) -> Result<(usize, HashMap<Key, usize>), KernelError> {
    let list = match (a.strings(strings), a.ints(ints)) {
        (Some(s), _) if !s.is_empty() => Data::Str(s),
        (_, Some(i)) if !i.is_empty() => Data::I64(i),
        _ => {
            return Err(KernelError::Attribute(format!(
                "one of {ints}, {strings} is required"
            )));
        }
    };
    let mut table = HashMap::new();
    for (i, k) in keys_of(&list)?.into_iter().enumerate() {
        table.entry(k).or_insert(i);
    }
    Ok((list.len(), table))
}

// ---------------------------------------------------------------- OneHotEncoder

struct OneHotEncoder {
    table: HashMap<Key, usize>,
    count: usize,
    zeros: bool,
}

pub(crate) fn one_hot_encoder(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let (count, table) = keyed_list(a, "cats_strings", "cats_int64s")?;
    Ok(Box::new(OneHotEncoder {
        table,
        count,
        zeros: a.i("zeros").unwrap_or(1) != 0,
    }))
}

impl Kernel for OneHotEncoder {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = input_tensor(inputs, 0)?;
        // Numbers are categories by their int64 value (onnxruntime casts).
        let keys: Vec<Key> = match &t.data {
            Data::Str(v) => v.iter().cloned().map(Key::Str).collect(),
            other => other
                .to_f64()
                .ok_or_else(|| KernelError::Unsupported("unsupported input type".to_owned()))?
                .into_iter()
                .map(|x| Key::Int(x as i64))
                .collect(),
        };
        let mut out = vec![0.0f32; keys.len() * self.count];
        for (i, k) in keys.iter().enumerate() {
            match self.table.get(k) {
                Some(&c) => out[i * self.count + c] = 1.0,
                None if self.zeros => {}
                None => {
                    return Err(KernelError::Value(format!(
                        "unknown category {k:?} and zeros = 0"
                    )));
                }
            }
        }
        let mut shape = t.shape.clone();
        shape.push(self.count);
        Ok(vec![Value::Tensor(Tensor {
            shape,
            data: Data::F32(out),
        })])
    }
}

// ---------------------------------------------------------------- CategoryMapper

/// The string <-> int64 lookups of CategoryMapper and LabelEncoder (opset
/// 1): strings become ints and ints become strings, keeping the shape.
struct CategoryMapper {
    to_int: HashMap<String, i64>,
    to_string: HashMap<i64, String>,
    default_int: i64,
    default_string: String,
}

impl CategoryMapper {
    /// The kernel over these tables, with the node's defaults for what they
    /// do not hold.
    fn kernel(
        a: &Attrs,
        to_int: HashMap<String, i64>,
        to_string: HashMap<i64, String>,
    ) -> BoxKernel {
        Box::new(CategoryMapper {
            to_int,
            to_string,
            default_int: a.i("default_int64").unwrap_or(-1),
            default_string: a.s_or("default_string", "_Unused"),
        })
    }
}

pub(crate) fn category_mapper(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let strings = a.strings("cats_strings").unwrap_or_default();
    let ints = a.ints("cats_int64s").unwrap_or_default();
    same_lengths(
        ("cats_int64s", ints.len()),
        &[("cats_strings", strings.len())],
    )?;
    let mut to_int = HashMap::new();
    let mut to_string = HashMap::new();
    for (s, &i) in strings.iter().zip(&ints) {
        to_int.entry(s.clone()).or_insert(i);
        to_string.entry(i).or_insert(s.clone());
    }
    Ok(CategoryMapper::kernel(a, to_int, to_string))
}

impl Kernel for CategoryMapper {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = input_tensor(inputs, 0)?;
        let data = match &t.data {
            Data::Str(strings) => Data::I64(
                strings
                    .iter()
                    .map(|s| self.to_int.get(s).copied().unwrap_or(self.default_int))
                    .collect(),
            ),
            Data::I64(ints) => Data::Str(
                ints.iter()
                    .map(|i| {
                        self.to_string
                            .get(i)
                            .cloned()
                            .unwrap_or_else(|| self.default_string.clone())
                    })
                    .collect(),
            ),
            other => {
                return Err(KernelError::Type(format!(
                    "input must be string or int64, found {}",
                    other.dtype()
                )));
            }
        };
        shaped_like(t, data)
    }
}

// ---------------------------------------------------------------- DictVectorizer

struct DictVectorizer {
    table: HashMap<Key, usize>,
    size: usize,
}

pub(crate) fn dict_vectorizer(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let (size, table) = keyed_list(a, "string_vocabulary", "int64_vocabulary")?;
    Ok(Box::new(DictVectorizer { table, size }))
}

impl Kernel for DictVectorizer {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let maps: Vec<&Map> = match inputs.first().copied().flatten() {
            Some(Value::Map(m)) => vec![m],
            Some(Value::Sequence(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Map(m) => Ok(m),
                    other => Err(KernelError::Value(format!(
                        "expected maps in the sequence, found {}",
                        other.describe()
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(KernelError::Value(format!(
                    "X must be a map, found {}",
                    other.describe()
                )));
            }
            None => return Err(KernelError::Value("input X is missing".to_owned())),
        };
        let dtype = maps.first().map(|m| m.values.dtype()).unwrap_or(DType::F32);
        let rows = maps.len();
        let mut out_index: Vec<usize> = vec![usize::MAX; rows * self.size];
        let mut all = Data::empty(dtype);
        for (r, m) in maps.iter().enumerate() {
            let keys = match &m.keys {
                MapKeys::I64(k) => k.iter().map(|&x| Key::Int(x)).collect::<Vec<_>>(),
                MapKeys::Str(k) => k.iter().cloned().map(Key::Str).collect(),
            };
            let base = all.len();
            if !all.extend(&m.values) {
                return Err(KernelError::Type(
                    "maps of different value types".to_owned(),
                ));
            }
            for (j, k) in keys.iter().enumerate() {
                if let Some(&c) = self.table.get(k) {
                    out_index[r * self.size + c] = base + j;
                }
            }
        }
        // Absent entries read a trailing zero ("" for strings).
        let zero = match dtype {
            DType::Str => Data::Str(vec![String::new()]),
            DType::F64 => Data::F64(vec![0.0]),
            DType::I64 => Data::I64(vec![0]),
            _ => Data::F32(vec![0.0]),
        };
        let zero_at = all.len();
        if !all.extend(&zero) {
            return Err(KernelError::Unsupported(format!(
                "map values of type {dtype} are not supported"
            )));
        }
        let picks: Vec<usize> = out_index
            .into_iter()
            .map(|i| if i == usize::MAX { zero_at } else { i })
            .collect();
        Ok(vec![Value::Tensor(Tensor {
            shape: vec![rows, self.size],
            data: all.gather(&picks),
        })])
    }
}

// ---------------------------------------------------------------- CastMap

#[derive(Clone, Copy, PartialEq)]
enum CastTo {
    Float,
    Str,
    Int64,
}

struct CastMap {
    to: CastTo,
    sparse: bool,
    max_map: usize,
}

pub(crate) fn cast_map(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let to = a.choice(
        "cast_to",
        "TO_FLOAT",
        &[
            ("TO_FLOAT", CastTo::Float),
            ("TO_STRING", CastTo::Str),
            ("TO_INT64", CastTo::Int64),
        ],
    )?;
    let sparse = a.choice("map_form", "DENSE", &[("DENSE", false), ("SPARSE", true)])?;
    let max_map = a.i("max_map").unwrap_or(1);
    let max_map = usize::try_from(max_map)
        .ok()
        .filter(|&m| m <= 1 << 24)
        .ok_or_else(|| KernelError::Attribute(format!("max_map {max_map} is out of range")))?;
    Ok(Box::new(CastMap {
        to,
        sparse,
        max_map,
    }))
}

/// C++ `std::to_string(float)`: fixed notation with six decimals.
fn float_to_string(x: f32) -> String {
    format!("{:.6}", x)
}

impl Kernel for CastMap {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let Some(Value::Map(m)) = inputs.first().copied().flatten() else {
            return Err(KernelError::Value(
                "X must be a map(int64, string|float)".to_owned(),
            ));
        };
        let MapKeys::I64(keys) = &m.keys else {
            return Err(KernelError::Type("CastMap needs int64 keys".to_owned()));
        };
        // onnxruntime's map is ordered by key.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        let as_f32 = |i: usize| -> Result<f32, KernelError> {
            match &m.values {
                Data::F32(v) => Ok(v[i]),
                Data::Str(v) => v[i]
                    .trim()
                    .parse::<f32>()
                    .map_err(|_| KernelError::Type(format!("'{}' is not a number", v[i]))),
                other => Err(KernelError::Unsupported(format!(
                    "map values of type {} are not supported",
                    other.dtype()
                ))),
            }
        };
        let width = if self.sparse {
            self.max_map
        } else {
            keys.len()
        };
        let positions: Vec<(usize, usize)> = if self.sparse {
            order
                .iter()
                .filter_map(|&i| index_below(keys[i], width).map(|k| (k, i)))
                .collect()
        } else {
            order
                .iter()
                .enumerate()
                .map(|(slot, &i)| (slot, i))
                .collect()
        };
        let data = match self.to {
            CastTo::Float => {
                let mut out = vec![0.0f32; width];
                for (slot, i) in positions {
                    out[slot] = as_f32(i)?;
                }
                Data::F32(out)
            }
            CastTo::Int64 => {
                let mut out = vec![0i64; width];
                for (slot, i) in positions {
                    out[slot] = match &m.values {
                        Data::Str(v) => v[i].trim().parse::<i64>().map_err(|_| {
                            KernelError::Type(format!("'{}' is not an integer", v[i]))
                        })?,
                        _ => as_f32(i)? as i64,
                    };
                }
                Data::I64(out)
            }
            CastTo::Str => {
                let mut out = vec!["0".to_owned(); width];
                for (slot, i) in positions {
                    out[slot] = match &m.values {
                        Data::Str(v) => v[i].clone(),
                        _ => float_to_string(as_f32(i)?),
                    };
                }
                Data::Str(out)
            }
        };
        Ok(vec![Value::Tensor(Tensor {
            shape: vec![1, width],
            data,
        })])
    }
}

#[cfg(test)]
mod tests {
    use crate::value::{Data, Tensor, Value};
    use neuride_onnx::build::{attr_int, attr_strings};
    use neuride_onnx::proto::NodeProto;

    /// LabelEncoder of opset 1 (`classes_strings`): a class maps to its
    /// index (a repeated one to its last), an index to its class, anything
    /// else to the defaults.
    #[test]
    fn label_encoder_v1_maps_classes_and_indexes_both_ways() {
        let node = NodeProto {
            op_type: Some("LabelEncoder".into()),
            domain: Some(super::super::ML_DOMAIN.into()),
            attribute: vec![
                attr_strings("classes_strings", ["a", "b", "a"]),
                attr_int("default_int64", -7),
            ],
            ..Default::default()
        };
        let run = |data: Data| {
            let input = Value::Tensor(Tensor {
                shape: vec![data.len()],
                data,
            });
            match &super::super::eval_node(&node, 1, &[Some(&input)]).unwrap()[..] {
                [Value::Tensor(t)] => t.data.clone(),
                other => panic!("one tensor expected, found {other:?}"),
            }
        };
        assert_eq!(
            run(Data::Str(vec!["a".into(), "b".into(), "z".into()])),
            Data::I64(vec![2, 1, -7])
        );
        assert_eq!(
            run(Data::I64(vec![0, 1, 2, 3, -1])),
            Data::Str(
                ["a", "b", "a", "_Unused", "_Unused"]
                    .map(String::from)
                    .to_vec()
            )
        );
    }
}
