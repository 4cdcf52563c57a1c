//! Values that flow through a model: tensors of every ONNX element type,
//! sequences, maps (ZipMap, DictVectorizer, CastMap) and optionals.

use half::{bf16, f16};
use neuride_onnx::proto::tensor_proto::DataType;
use serde::Serialize;

/// Element types neuride can hold. Codes are ONNX `TensorProto.DataType`.
///
/// The 8-, 4- and 2-bit types (`F8*`, `F4E2M1`, `I4`, `U4`, `I2`, `U2`)
/// are held one element per byte ([`Data::Packed`]): the bit pattern for
/// the small floats, the value for the small integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    F16,
    Bf16,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    Bool,
    Str,
    F8E4M3Fn,
    F8E4M3Fnuz,
    F8E5M2,
    F8E5M2Fnuz,
    F8E8M0,
    F4E2M1,
    I4,
    U4,
    I2,
    U2,
}

/// ONNX's and our names side by side: one table for both directions.
const DTYPES: &[(DType, DataType, &str)] = &[
    (DType::F32, DataType::Float, "float32"),
    (DType::F64, DataType::Double, "float64"),
    (DType::F16, DataType::Float16, "float16"),
    (DType::Bf16, DataType::Bfloat16, "bfloat16"),
    (DType::I64, DataType::Int64, "int64"),
    (DType::I32, DataType::Int32, "int32"),
    (DType::I16, DataType::Int16, "int16"),
    (DType::I8, DataType::Int8, "int8"),
    (DType::U64, DataType::Uint64, "uint64"),
    (DType::U32, DataType::Uint32, "uint32"),
    (DType::U16, DataType::Uint16, "uint16"),
    (DType::U8, DataType::Uint8, "uint8"),
    (DType::Bool, DataType::Bool, "bool"),
    (DType::Str, DataType::String, "string"),
    (DType::F8E4M3Fn, DataType::Float8e4m3fn, "float8e4m3fn"),
    (
        DType::F8E4M3Fnuz,
        DataType::Float8e4m3fnuz,
        "float8e4m3fnuz",
    ),
    (DType::F8E5M2, DataType::Float8e5m2, "float8e5m2"),
    (
        DType::F8E5M2Fnuz,
        DataType::Float8e5m2fnuz,
        "float8e5m2fnuz",
    ),
    (DType::F8E8M0, DataType::Float8e8m0, "float8e8m0"),
    (DType::F4E2M1, DataType::Float4e2m1, "float4e2m1"),
    (DType::I4, DataType::Int4, "int4"),
    (DType::U4, DataType::Uint4, "uint4"),
    (DType::I2, DataType::Int2, "int2"),
    (DType::U2, DataType::Uint2, "uint2"),
];

impl DType {
    pub fn from_onnx(code: i32) -> Option<DType> {
        let data_type = DataType::try_from(code).ok()?;
        DTYPES
            .iter()
            .find(|(_, d, _)| *d == data_type)
            .map(|(t, _, _)| *t)
    }

    fn entry(self) -> &'static (DType, DataType, &'static str) {
        DTYPES
            .iter()
            .find(|(t, _, _)| *t == self)
            .expect("every DType is in the table")
    }

    pub fn onnx_code(self) -> i32 {
        self.entry().1 as i32
    }

    pub fn name(self) -> &'static str {
        self.entry().2
    }

    /// float32/64, float16, bfloat16 and the small floats.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64 | DType::F16 | DType::Bf16) || self.is_small_float()
    }

    /// The 8- and 4-bit floats.
    pub fn is_small_float(self) -> bool {
        matches!(
            self,
            DType::F8E4M3Fn
                | DType::F8E4M3Fnuz
                | DType::F8E5M2
                | DType::F8E5M2Fnuz
                | DType::F8E8M0
                | DType::F4E2M1
        )
    }

    /// Held one element per byte in [`Data::Packed`].
    pub fn is_packed(self) -> bool {
        self.is_small_float() || matches!(self, DType::I4 | DType::U4 | DType::I2 | DType::U2)
    }

    /// Signed or unsigned integers of any width (not bool).
    pub fn is_int(self) -> bool {
        matches!(
            self,
            DType::I64
                | DType::I32
                | DType::I16
                | DType::I8
                | DType::U64
                | DType::U32
                | DType::U16
                | DType::U8
                | DType::I4
                | DType::U4
                | DType::I2
                | DType::U2
        )
    }

    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            DType::U64 | DType::U32 | DType::U16 | DType::U8 | DType::U4 | DType::U2
        )
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for DType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Flat, row-major element storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    F16(Vec<f16>),
    Bf16(Vec<bf16>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    I16(Vec<i16>),
    I8(Vec<i8>),
    U64(Vec<u64>),
    U32(Vec<u32>),
    U16(Vec<u16>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
    Str(Vec<String>),
    /// An 8-, 4- or 2-bit type ([`DType::is_packed`]), one element per byte:
    /// the bit pattern of a small float, the value of a small integer
    /// (two's complement for the signed ones).
    Packed(DType, Vec<u8>),
}

/// `$body` once per storage variant with `$v` bound to its vector.
macro_rules! each_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            $crate::value::Data::F32($v) => $body,
            $crate::value::Data::F64($v) => $body,
            $crate::value::Data::F16($v) => $body,
            $crate::value::Data::Bf16($v) => $body,
            $crate::value::Data::I64($v) => $body,
            $crate::value::Data::I32($v) => $body,
            $crate::value::Data::I16($v) => $body,
            $crate::value::Data::I8($v) => $body,
            $crate::value::Data::U64($v) => $body,
            $crate::value::Data::U32($v) => $body,
            $crate::value::Data::U16($v) => $body,
            $crate::value::Data::U8($v) => $body,
            $crate::value::Data::Bool($v) => $body,
            $crate::value::Data::Str($v) => $body,
            $crate::value::Data::Packed(_, $v) => $body,
        }
    };
}

/// Rebuilds the same variant (and packed type) as `$data` around a new vector.
macro_rules! map_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            Data::F32($v) => Data::F32($body),
            Data::F64($v) => Data::F64($body),
            Data::F16($v) => Data::F16($body),
            Data::Bf16($v) => Data::Bf16($body),
            Data::I64($v) => Data::I64($body),
            Data::I32($v) => Data::I32($body),
            Data::I16($v) => Data::I16($body),
            Data::I8($v) => Data::I8($body),
            Data::U64($v) => Data::U64($body),
            Data::U32($v) => Data::U32($body),
            Data::U16($v) => Data::U16($body),
            Data::U8($v) => Data::U8($body),
            Data::Bool($v) => Data::Bool($body),
            Data::Str($v) => Data::Str($body),
            Data::Packed(t, $v) => Data::Packed(*t, $body),
        }
    };
}

/// A `match` on `dtype` converting the numbers `v` with the arms
/// `from_f64` and `from_i64` share (the narrower integers by Rust's `as`,
/// bools as `x != zero`, strings as Rust's shortest text), then `rest`.
macro_rules! with_narrow_arms {
    ($dtype:expr, $v:ident, $zero:expr, { $($rest:tt)* }) => {
        match $dtype {
            DType::I32 => Data::I32(convert($v, |x| x as i32)),
            DType::I16 => Data::I16(convert($v, |x| x as i16)),
            DType::I8 => Data::I8(convert($v, |x| x as i8)),
            DType::U64 => Data::U64(convert($v, |x| x as u64)),
            DType::U32 => Data::U32(convert($v, |x| x as u32)),
            DType::U16 => Data::U16(convert($v, |x| x as u16)),
            DType::U8 => Data::U8(convert($v, |x| x as u8)),
            DType::Bool => Data::Bool(convert($v, |x| x != $zero)),
            DType::Str => Data::Str(convert($v, |x| x.to_string())),
            $($rest)*
        }
    };
}

impl Data {
    pub fn dtype(&self) -> DType {
        match self {
            Data::F32(_) => DType::F32,
            Data::F64(_) => DType::F64,
            Data::F16(_) => DType::F16,
            Data::Bf16(_) => DType::Bf16,
            Data::I64(_) => DType::I64,
            Data::I32(_) => DType::I32,
            Data::I16(_) => DType::I16,
            Data::I8(_) => DType::I8,
            Data::U64(_) => DType::U64,
            Data::U32(_) => DType::U32,
            Data::U16(_) => DType::U16,
            Data::U8(_) => DType::U8,
            Data::Bool(_) => DType::Bool,
            Data::Str(_) => DType::Str,
            Data::Packed(t, _) => *t,
        }
    }

    pub fn len(&self) -> usize {
        each_data!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Numeric view as f64 (strings give None). uint64 above 2^53 and
    /// int64 beyond ±2^53 round.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        Some(match self {
            Data::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Data::F64(v) => v.clone(),
            Data::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
            Data::Bf16(v) => v.iter().map(|x| x.to_f64()).collect(),
            Data::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Data::I32(v) => v.iter().map(|&x| x as f64).collect(),
            Data::I16(v) => v.iter().map(|&x| x as f64).collect(),
            Data::I8(v) => v.iter().map(|&x| x as f64).collect(),
            Data::U64(v) => v.iter().map(|&x| x as f64).collect(),
            Data::U32(v) => v.iter().map(|&x| x as f64).collect(),
            Data::U16(v) => v.iter().map(|&x| x as f64).collect(),
            Data::U8(v) => v.iter().map(|&x| x as f64).collect(),
            Data::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
            Data::Str(_) => return None,
            Data::Packed(t, v) => v.iter().map(|&b| crate::packed::to_f64(*t, b)).collect(),
        })
    }

    /// Numeric view as f32, the way onnxruntime's ML kernels cast their input.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        match self {
            Data::F32(v) => Some(v.clone()),
            other => Some(other.to_f64()?.into_iter().map(|x| x as f32).collect()),
        }
    }

    /// Elements `indices` in order (used by Gather, slicing along axis 0, ...).
    pub fn gather(&self, indices: &[usize]) -> Data {
        map_data!(self, v => indices.iter().map(|&i| v[i].clone()).collect())
    }

    /// Element `index` repeated `n` times.
    pub fn repeat(&self, index: usize, n: usize) -> Data {
        map_data!(self, v => vec![v[index].clone(); n])
    }

    /// A contiguous element range.
    pub fn slice(&self, start: usize, end: usize) -> Data {
        map_data!(self, v => v[start..end].to_vec())
    }

    /// Appends `other` (same dtype) to `self`; false when the types differ.
    pub fn extend(&mut self, other: &Data) -> bool {
        if self.dtype() != other.dtype() {
            return false;
        }
        match (self, other) {
            (Data::F32(a), Data::F32(b)) => a.extend_from_slice(b),
            (Data::F64(a), Data::F64(b)) => a.extend_from_slice(b),
            (Data::F16(a), Data::F16(b)) => a.extend_from_slice(b),
            (Data::Bf16(a), Data::Bf16(b)) => a.extend_from_slice(b),
            (Data::I64(a), Data::I64(b)) => a.extend_from_slice(b),
            (Data::I32(a), Data::I32(b)) => a.extend_from_slice(b),
            (Data::I16(a), Data::I16(b)) => a.extend_from_slice(b),
            (Data::I8(a), Data::I8(b)) => a.extend_from_slice(b),
            (Data::U64(a), Data::U64(b)) => a.extend_from_slice(b),
            (Data::U32(a), Data::U32(b)) => a.extend_from_slice(b),
            (Data::U16(a), Data::U16(b)) => a.extend_from_slice(b),
            (Data::U8(a), Data::U8(b)) => a.extend_from_slice(b),
            (Data::Bool(a), Data::Bool(b)) => a.extend_from_slice(b),
            (Data::Str(a), Data::Str(b)) => a.extend_from_slice(b),
            (Data::Packed(_, a), Data::Packed(_, b)) => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }

    /// Numbers as `dtype`: floats rounded to nearest (small floats
    /// saturating), integers truncated toward zero (Rust's `as`: NaN is 0,
    /// out of range clamps), bools `x != 0`, strings Rust's shortest text.
    pub fn from_f64(dtype: DType, v: Vec<f64>) -> Data {
        with_narrow_arms!(dtype, v, 0.0, {
            DType::F32 => Data::F32(convert(v, |x| x as f32)),
            DType::F64 => Data::F64(v),
            DType::F16 => Data::F16(convert(v, f16::from_f64)),
            DType::Bf16 => Data::Bf16(convert(v, bf16::from_f64)),
            DType::I64 => Data::I64(convert(v, |x| x as i64)),
            packed => Data::Packed(
                packed,
                convert(v, |x| crate::packed::from_f64(packed, x, true)),
            ),
        })
    }

    /// Integers as `dtype`: narrower integers keep the low bits (two's
    /// complement wrap, as C casts), floats round to nearest.
    pub fn from_i64(dtype: DType, v: Vec<i64>) -> Data {
        with_narrow_arms!(dtype, v, 0, {
            DType::I64 => Data::I64(v),
            DType::I4 | DType::U4 | DType::I2 | DType::U2 => {
                Data::Packed(dtype, convert(v, |x| crate::packed::from_i64(dtype, x)))
            }
            other => Data::from_f64(other, convert(v, |x| x as f64)),
        })
    }

    /// Integer view: integers exact (uint64 above 2^63 wraps), floats
    /// truncated toward zero, bools 0/1; strings give None.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        fn conv<T: Copy>(v: &[T], f: impl Fn(T) -> i64) -> Vec<i64> {
            v.iter().map(|&x| f(x)).collect()
        }
        Some(match self {
            Data::I64(v) => v.clone(),
            Data::I32(v) => conv(v, i64::from),
            Data::I16(v) => conv(v, i64::from),
            Data::I8(v) => conv(v, i64::from),
            Data::U64(v) => conv(v, |x| x as i64),
            Data::U32(v) => conv(v, i64::from),
            Data::U16(v) => conv(v, i64::from),
            Data::U8(v) => conv(v, i64::from),
            Data::Bool(v) => conv(v, i64::from),
            Data::Packed(t, v) if t.is_int() => conv(v, |b| crate::packed::to_i64(*t, b)),
            Data::Str(_) => return None,
            other => other.to_f64()?.into_iter().map(|x| x as i64).collect(),
        })
    }

    pub fn empty(dtype: DType) -> Data {
        Data::filled(dtype, 0)
    }

    /// `len` zeros (false, "", +0.0) of `dtype`.
    pub fn filled(dtype: DType, len: usize) -> Data {
        match dtype {
            DType::F32 => Data::F32(vec![0.0; len]),
            DType::F64 => Data::F64(vec![0.0; len]),
            DType::F16 => Data::F16(vec![f16::ZERO; len]),
            DType::Bf16 => Data::Bf16(vec![bf16::ZERO; len]),
            DType::I64 => Data::I64(vec![0; len]),
            DType::I32 => Data::I32(vec![0; len]),
            DType::I16 => Data::I16(vec![0; len]),
            DType::I8 => Data::I8(vec![0; len]),
            DType::U64 => Data::U64(vec![0; len]),
            DType::U32 => Data::U32(vec![0; len]),
            DType::U16 => Data::U16(vec![0; len]),
            DType::U8 => Data::U8(vec![0; len]),
            DType::Bool => Data::Bool(vec![false; len]),
            DType::Str => Data::Str(vec![String::new(); len]),
            // All-zero bytes (E8M0, which has no zero, holds its smallest value 2^-127).
            packed => Data::Packed(packed, vec![0; len]),
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
data_from!(f16, F16);
data_from!(bf16, Bf16);
data_from!(i64, I64);
data_from!(i32, I32);
data_from!(i16, I16);
data_from!(i8, I8);
data_from!(u64, U64);
data_from!(u32, U32);
data_from!(u16, U16);
data_from!(u8, U8);
data_from!(bool, Bool);
data_from!(String, Str);

/// A dense tensor: shape plus flat data whose length is the shape's product.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    /// The same elements in the same order under another shape (Reshape,
    /// Flatten, Squeeze, Unsqueeze); the caller has checked the count.
    pub fn with_shape(&self, shape: Vec<usize>) -> Tensor {
        Tensor {
            shape,
            data: self.data.clone(),
        }
    }

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
    /// An ONNX optional: empty, or holding a tensor or a sequence.
    Optional(Option<Box<Value>>),
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
            Value::Optional(None) => "optional(empty)".to_owned(),
            Value::Optional(Some(v)) => format!("optional({})", v.describe()),
        }
    }
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Tensor(t)
    }
}

fn convert<S, T>(v: Vec<S>, f: impl Fn(S) -> T) -> Vec<T> {
    v.into_iter().map(f).collect()
}
