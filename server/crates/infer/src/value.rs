//! Values that flow through a model: tensors of the element types the ML
//! operators use, sequences and maps (ZipMap, DictVectorizer, CastMap).

use neuride_onnx::proto::tensor_proto::DataType;
use serde::Serialize;

/// Element types neuride can hold. Codes are ONNX `TensorProto.DataType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    F64,
    I64,
    I32,
    U8,
    I8,
    Bool,
    Str,
}

impl DType {
    pub fn from_onnx(code: i32) -> Option<DType> {
        Some(match DataType::try_from(code).ok()? {
            DataType::Float => DType::F32,
            DataType::Uint8 => DType::U8,
            DataType::Int8 => DType::I8,
            DataType::Int32 => DType::I32,
            DataType::Int64 => DType::I64,
            DataType::String => DType::Str,
            DataType::Bool => DType::Bool,
            DataType::Double => DType::F64,
            _ => return None,
        })
    }

    pub fn onnx_code(self) -> i32 {
        let data_type = match self {
            DType::F32 => DataType::Float,
            DType::U8 => DataType::Uint8,
            DType::I8 => DataType::Int8,
            DType::I32 => DataType::Int32,
            DType::I64 => DataType::Int64,
            DType::Str => DataType::String,
            DType::Bool => DataType::Bool,
            DType::F64 => DataType::Double,
        };
        data_type as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::Bool => "bool",
            DType::Str => "string",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Flat, row-major element storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    I8(Vec<i8>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

macro_rules! each_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            Data::F32($v) => $body,
            Data::F64($v) => $body,
            Data::I64($v) => $body,
            Data::I32($v) => $body,
            Data::U8($v) => $body,
            Data::I8($v) => $body,
            Data::Bool($v) => $body,
            Data::Str($v) => $body,
        }
    };
}

impl Data {
    pub fn dtype(&self) -> DType {
        match self {
            Data::F32(_) => DType::F32,
            Data::F64(_) => DType::F64,
            Data::I64(_) => DType::I64,
            Data::I32(_) => DType::I32,
            Data::U8(_) => DType::U8,
            Data::I8(_) => DType::I8,
            Data::Bool(_) => DType::Bool,
            Data::Str(_) => DType::Str,
        }
    }

    pub fn len(&self) -> usize {
        each_data!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Numeric view as f64 (strings give None).
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        Some(match self {
            Data::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Data::F64(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Data::I32(v) => v.iter().map(|&x| x as f64).collect(),
            Data::U8(v) => v.iter().map(|&x| x as f64).collect(),
            Data::I8(v) => v.iter().map(|&x| x as f64).collect(),
            Data::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
            Data::Str(_) => return None,
        })
    }

    /// Numeric view as f32, the way onnxruntime's ML kernels cast their input.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        Some(match self {
            Data::F32(v) => v.clone(),
            Data::F64(v) => v.iter().map(|&x| x as f32).collect(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
            Data::I32(v) => v.iter().map(|&x| x as f32).collect(),
            Data::U8(v) => v.iter().map(|&x| x as f32).collect(),
            Data::I8(v) => v.iter().map(|&x| x as f32).collect(),
            Data::Bool(v) => v.iter().map(|&x| x as u8 as f32).collect(),
            Data::Str(_) => return None,
        })
    }

    /// Elements `indices` in order (used by Gather, slicing along axis 0, ...).
    pub fn gather(&self, indices: &[usize]) -> Data {
        each_data!(self, v => indices.iter().map(|&i| v[i].clone()).collect::<Vec<_>>().into())
    }

    /// A contiguous element range.
    pub fn slice(&self, start: usize, end: usize) -> Data {
        each_data!(self, v => v[start..end].to_vec().into())
    }

    /// Appends `other` (same dtype) to `self`.
    pub fn extend(&mut self, other: &Data) -> bool {
        match (self, other) {
            (Data::F32(a), Data::F32(b)) => a.extend_from_slice(b),
            (Data::F64(a), Data::F64(b)) => a.extend_from_slice(b),
            (Data::I64(a), Data::I64(b)) => a.extend_from_slice(b),
            (Data::I32(a), Data::I32(b)) => a.extend_from_slice(b),
            (Data::U8(a), Data::U8(b)) => a.extend_from_slice(b),
            (Data::I8(a), Data::I8(b)) => a.extend_from_slice(b),
            (Data::Bool(a), Data::Bool(b)) => a.extend_from_slice(b),
            (Data::Str(a), Data::Str(b)) => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }

    pub fn empty(dtype: DType) -> Data {
        match dtype {
            DType::F32 => Data::F32(Vec::new()),
            DType::F64 => Data::F64(Vec::new()),
            DType::I64 => Data::I64(Vec::new()),
            DType::I32 => Data::I32(Vec::new()),
            DType::U8 => Data::U8(Vec::new()),
            DType::I8 => Data::I8(Vec::new()),
            DType::Bool => Data::Bool(Vec::new()),
            DType::Str => Data::Str(Vec::new()),
        }
    }
}

macro_rules! data_from {
    ($t:ty, $variant:ident) => {
        impl From<Vec<$t>> for Data {
            fn from(v: Vec<$t>) -> Data {
                Data::$variant(v)
            }
        }
    };
}
data_from!(f32, F32);
data_from!(f64, F64);
data_from!(i64, I64);
data_from!(i32, I32);
data_from!(u8, U8);
data_from!(i8, I8);
data_from!(bool, Bool);
data_from!(String, Str);

/// A dense tensor: shape plus flat data whose length is the shape's product.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    /// A rank-0 tensor holding `value`.
    pub fn scalar<T>(value: T) -> Tensor
    where
        Vec<T>: Into<Data>,
    {
        Tensor {
            shape: Vec::new(),
            data: vec![value].into(),
        }
    }

    /// A rank-1 tensor holding `values`.
    pub fn vector<T>(values: Vec<T>) -> Tensor
    where
        Vec<T>: Into<Data>,
    {
        Tensor {
            shape: vec![values.len()],
            data: values.into(),
        }
    }

    /// Builds a tensor, checking that the data fills the shape exactly.
    pub fn new(shape: Vec<usize>, data: impl Into<Data>) -> Result<Tensor, crate::Error> {
        let data = data.into();
        let want: usize = shape.iter().product();
        if want != data.len() {
            return Err(crate::Error::Format(format!(
                "shape {shape:?} needs {want} elements, found {}",
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Rows along the first axis (1 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Rows `start..end` along the first axis.
    pub fn slice_rows(&self, start: usize, end: usize) -> Tensor {
        let row: usize = self.shape.iter().skip(1).product();
        let mut shape = self.shape.clone();
        if let Some(first) = shape.first_mut() {
            *first = end - start;
        }
        Tensor {
            shape,
            data: self.data.slice(start * row, end * row),
        }
    }
}

/// Keys of a map value.
#[derive(Debug, Clone, PartialEq)]
pub enum MapKeys {
    I64(Vec<i64>),
    Str(Vec<String>),
}

impl MapKeys {
    pub fn len(&self) -> usize {
        match self {
            MapKeys::I64(k) => k.len(),
            MapKeys::Str(k) => k.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An ONNX map: parallel keys and values, in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    pub keys: MapKeys,
    pub values: Data,
}

/// Any value the evaluator passes between nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Tensor(Tensor),
    Sequence(Vec<Value>),
    Map(Map),
}

impl Value {
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// A short description for messages: `tensor(float32)[2,3]`, `seq(map(int64,float32))`.
    pub fn describe(&self) -> String {
        match self {
            Value::Tensor(t) => format!("tensor({}){:?}", t.dtype(), t.shape),
            Value::Sequence(items) => match items.first() {
                Some(first) => format!("seq({}) of {}", first.describe(), items.len()),
                None => "seq(empty)".to_owned(),
            },
            Value::Map(m) => {
                let key = match m.keys {
                    MapKeys::I64(_) => "int64",
                    MapKeys::Str(_) => "string",
                };
                format!("map({key},{})", m.values.dtype())
            }
        }
    }
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Tensor(t)
    }
}
