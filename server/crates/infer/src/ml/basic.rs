//! Row-wise feature operators: Normalizer, Scaler, Binarizer, Imputer,
//! ArrayFeatureExtractor, FeatureVectorizer.

use super::linear::rows_f32;
use super::num::index_below;
use super::{Attrs, BoxKernel, Kernel};
use crate::error::KernelError;
use crate::value::{Data, Tensor, Value};

/// Input `i`, which must be given.
pub(crate) fn given<'a>(inputs: &[Option<&'a Value>], i: usize) -> Result<&'a Value, KernelError> {
    inputs
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| KernelError::Value(format!("input {i} is missing")))
}

/// Input `i` is a `value` of another kind than the op takes (`expected`,
/// e.g. `a tensor`): the error, saying what it is.
pub(crate) fn not_a(i: usize, expected: &str, value: &Value) -> KernelError {
    KernelError::Value(format!(
        "input {i}: expected {expected}, found {}",
        value.describe()
    ))
}

/// Input `i`, which must be a tensor.
pub(crate) fn tensor<'a>(
    inputs: &[Option<&'a Value>],
    i: usize,
) -> Result<&'a Tensor, KernelError> {
    match given(inputs, i)? {
        Value::Tensor(t) => Ok(t),
        other => Err(not_a(i, "a tensor", other)),
    }
}
pub(crate) use tensor as input_tensor;

/// The one output of an op that keeps its input's shape: `data` shaped as `t`.
pub(crate) fn shaped_like(t: &Tensor, data: Data) -> Result<Vec<Value>, KernelError> {
    Ok(vec![Value::Tensor(Tensor {
        shape: t.shape.clone(),
        data,
    })])
}

#[derive(Clone, Copy)]
enum Norm {
    Max,
    L1,
    L2,
}

struct Normalizer(Norm);

pub(crate) fn normalizer(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let norm = a.choice(
        "norm",
        "MAX",
        &[("MAX", Norm::Max), ("L1", Norm::L1), ("L2", Norm::L2)],
    )?;
    Ok(Box::new(Normalizer(norm)))
}

impl Kernel for Normalizer {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = tensor(inputs, 0)?;
        let (_, cols, mut x) = rows_f32(Some(&Value::Tensor(t.clone())))?;
        if cols > 0 {
            for row in x.chunks_exact_mut(cols) {
                let divisor = match self.0 {
                    Norm::Max => row.iter().copied().fold(f32::MIN, f32::max),
                    Norm::L1 => row.iter().map(|v| v.abs()).sum(),
                    Norm::L2 => row.iter().map(|v| v * v).sum::<f32>().sqrt(),
                };
                if divisor != 0.0 {
                    row.iter_mut().for_each(|v| *v /= divisor);
                }
            }
        }
        shaped_like(t, Data::F32(x))
    }
}

struct Scaler {
    offset: Vec<f32>,
    scale: Vec<f32>,
}

pub(crate) fn scaler(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let offset = a.floats("offset").unwrap_or_default();
    let scale = a.floats("scale").unwrap_or_default();
    Ok(Box::new(Scaler { offset, scale }))
}

impl Kernel for Scaler {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = tensor(inputs, 0)?;
        let mut x = t
            .data
            .to_f32()
            .ok_or_else(|| KernelError::Type("Scaler takes a numeric tensor".to_owned()))?;
        let cols = t.shape.last().copied().unwrap_or(1).max(1);
        for (name, v) in [("offset", &self.offset), ("scale", &self.scale)] {
            if v.len() > 1 && v.len() != cols {
                return Err(KernelError::Shape(format!(
                    "{name} has {} values, X has {cols} columns (1 or {cols} expected)",
                    v.len()
                )));
            }
        }
        let pick = |v: &Vec<f32>, c: usize, default: f32| match v.len() {
            0 => default,
            1 => v[0],
            _ => v[c],
        };
        for (i, value) in x.iter_mut().enumerate() {
            let c = i % cols;
            *value = (*value - pick(&self.offset, c, 0.0)) * pick(&self.scale, c, 1.0);
        }
        shaped_like(t, Data::F32(x))
    }
}

struct Binarizer(f32);

pub(crate) fn binarizer(a: &Attrs) -> Result<BoxKernel, KernelError> {
    Ok(Box::new(Binarizer(a.f("threshold").unwrap_or(0.0))))
}

impl Kernel for Binarizer {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = tensor(inputs, 0)?;
        let th = self.0;
        let data = match &t.data {
            Data::F32(v) => Data::F32(v.iter().map(|&x| if x > th { 1.0 } else { 0.0 }).collect()),
            Data::F64(v) => Data::F64(
                v.iter()
                    .map(|&x| if x > th as f64 { 1.0 } else { 0.0 })
                    .collect(),
            ),
            Data::I64(v) => Data::I64(v.iter().map(|&x| (x as f32 > th) as i64).collect()),
            Data::I32(v) => Data::I32(v.iter().map(|&x| (x as f32 > th) as i32).collect()),
            other => {
                return Err(KernelError::Type(format!(
                    "Binarizer takes float, double, int64 or int32, found {}",
                    other.dtype()
                )));
            }
        };
        shaped_like(t, data)
    }
}

struct Imputer {
    floats: Vec<f32>,
    ints: Vec<i64>,
    replaced_float: f32,
    replaced_int: i64,
}

pub(crate) fn imputer(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let floats = a.floats("imputed_value_floats").unwrap_or_default();
    let ints = a.ints("imputed_value_int64s").unwrap_or_default();
    if floats.is_empty() && ints.is_empty() {
        return Err(KernelError::Attribute(
            "one of imputed_value_floats, imputed_value_int64s is required".to_owned(),
        ));
    }
    Ok(Box::new(Imputer {
        floats,
        ints,
        replaced_float: a.f("replaced_value_float").unwrap_or(0.0),
        replaced_int: a.i("replaced_value_int64").unwrap_or(0),
    }))
}

impl Kernel for Imputer {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let t = tensor(inputs, 0)?;
        let cols = t.shape.last().copied().unwrap_or(1).max(1);
        fn pick<T: Copy>(v: &[T], c: usize, cols: usize) -> Result<T, KernelError> {
            match v.len() {
                1 => Ok(v[0]),
                n if n == cols => Ok(v[c]),
                n => Err(KernelError::Shape(format!(
                    "{n} imputed values for {cols} columns (1 or {cols} expected)"
                ))),
            }
        }
        let data = match &t.data {
            Data::F32(_) | Data::F64(_) => {
                let x = t.data.to_f32().unwrap();
                let nan = self.replaced_float.is_nan();
                let mut out = Vec::with_capacity(x.len());
                for (i, &value) in x.iter().enumerate() {
                    let missing = if nan {
                        value.is_nan()
                    } else {
                        value == self.replaced_float
                    };
                    out.push(if missing {
                        pick(&self.floats, i % cols, cols)?
                    } else {
                        value
                    });
                }
                Data::F32(out)
            }
            Data::I64(v) => {
                let mut out = Vec::with_capacity(v.len());
                for (i, &value) in v.iter().enumerate() {
                    out.push(if value == self.replaced_int {
                        pick(&self.ints, i % cols, cols)?
                    } else {
                        value
                    });
                }
                Data::I64(out)
            }
            other => {
                return Err(KernelError::Type(format!(
                    "Imputer takes float or int64 (with matching imputed values), found {}",
                    other.dtype()
                )));
            }
        };
        shaped_like(t, data)
    }
}

struct ArrayFeatureExtractor;

pub(crate) fn array_feature_extractor() -> Result<BoxKernel, KernelError> {
    Ok(Box::new(ArrayFeatureExtractor))
}

impl Kernel for ArrayFeatureExtractor {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let x = tensor(inputs, 0)?;
        let idx = tensor(inputs, 1)?;
        let Data::I64(indices) = &idx.data else {
            return Err(KernelError::Type(format!(
                "Y (indices) must be int64, found {}",
                idx.dtype()
            )));
        };
        let cols = x.shape.last().copied().unwrap_or(1);
        if indices.is_empty() {
            return Err(KernelError::Value("Y (indices) is empty".to_owned()));
        }
        let mut picks = Vec::with_capacity(indices.len());
        for &i in indices {
            let i = index_below(i, cols).ok_or_else(|| {
                KernelError::Shape(format!(
                    "index {i} is outside the last dimension of size {cols}"
                ))
            })?;
            picks.push(i);
        }
        let rows = x.len().checked_div(cols).unwrap_or(0);
        let mut positions = Vec::with_capacity(rows * picks.len());
        for r in 0..rows {
            positions.extend(picks.iter().map(|&c| r * cols + c));
        }
        let mut shape = if x.shape.len() <= 1 {
            vec![1]
        } else {
            x.shape[..x.shape.len() - 1].to_vec()
        };
        shape.push(picks.len());
        Ok(vec![Value::Tensor(Tensor {
            shape,
            data: x.data.gather(&positions),
        })])
    }
}

struct FeatureVectorizer(Vec<usize>);

pub(crate) fn feature_vectorizer(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let dims = a.ints("inputdimensions").unwrap_or_default();
    let dims = dims
        .iter()
        .map(|&d| {
            usize::try_from(d)
                .map_err(|_| KernelError::Shape(format!("negative input dimension {d}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Box::new(FeatureVectorizer(dims)))
}

impl Kernel for FeatureVectorizer {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        if inputs.len() != self.0.len() {
            return Err(KernelError::Shape(format!(
                "{} inputs, inputdimensions lists {}",
                inputs.len(),
                self.0.len()
            )));
        }
        let total: usize = self.0.iter().sum();
        let mut rows = None;
        let mut parts = Vec::new();
        for i in 0..inputs.len() {
            let t = tensor(inputs, i)?;
            let x = t.data.to_f32().ok_or_else(|| {
                KernelError::Type("FeatureVectorizer takes numeric tensors".to_owned())
            })?;
            let cols = if t.shape.len() <= 1 {
                x.len()
            } else {
                t.shape.last().copied().unwrap_or(1)
            };
            let r = if cols == 0 {
                t.shape.first().copied().unwrap_or(1)
            } else {
                x.len() / cols
            };
            if *rows.get_or_insert(r) != r {
                return Err(KernelError::Shape(format!(
                    "input {i} has {r} rows, input 0 has {}",
                    rows.unwrap()
                )));
            }
            parts.push((x, cols));
        }
        let rows = rows.unwrap_or(1);
        let mut out = vec![0.0f32; rows * total];
        for r in 0..rows {
            let mut at = r * total;
            for ((x, cols), &want) in parts.iter().zip(&self.0) {
                let take = (*cols).min(want);
                out[at..at + take].copy_from_slice(&x[r * cols..r * cols + take]);
                at += want;
            }
        }
        Ok(vec![Value::Tensor(Tensor {
            shape: vec![rows, total],
            data: Data::F32(out),
        })])
    }
}
