//! The evaluator's element arithmetic: one trait over every numeric
//! storage type (float32/64, float16, bfloat16, the signed and unsigned
//! integers) so kernels are written once, generically, and dispatched per
//! tensor by [`num_match!`]. Integers compute in their own width (wrapping
//! like C), float16/bfloat16 through float32 (exact for + - × ÷: float32
//! holds more than twice their precision), float32 natively.

use crate::error::KernelError;
use crate::value::{DType, Data, Tensor};
use half::{bf16, f16};

pub(crate) trait Num:
    Copy + PartialOrd + Default + Send + Sync + std::fmt::Debug + 'static
{
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    /// Nearest for floats; integers truncate toward zero (NaN 0, saturating).
    fn from_f64(x: f64) -> Self;
    /// Integers exactly (uint64 wraps into i64), floats truncated.
    fn to_i64(self) -> i64;
    /// Integers keep the low bits (C casts), floats round to nearest.
    fn from_i64(x: i64) -> Self;
    fn wrap(v: Vec<Self>) -> Data;
    fn view(d: &Data) -> Option<&[Self]>;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Integer division truncates; by zero is an error (onnxruntime crashes).
    fn div(self, o: Self) -> Result<Self, KernelError>;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn is_nan(self) -> bool;
    /// The lowest and highest values (infinities for floats).
    fn lowest() -> Self;
    fn highest() -> Self;
    fn zero() -> Self {
        Self::default()
    }
    fn one() -> Self {
        Self::from_i64(1)
    }
    fn is_float() -> bool {
        Self::DTYPE.is_float()
    }
}

/// The `Num` items of a type stored as `Data::$variant`.
macro_rules! storage {
    ($variant:ident) => {
        const DTYPE: DType = DType::$variant;
        fn wrap(v: Vec<Self>) -> Data {
            Data::$variant(v)
        }
        fn view(d: &Data) -> Option<&[Self]> {
            match d {
                Data::$variant(v) => Some(v),
                _ => None,
            }
        }
    };
}

/// The conversions of a primitive number type: Rust's `as` casts (floats
/// to integers saturate, NaN to 0).
macro_rules! as_casts {
    ($t:ty) => {
        fn to_f64(self) -> f64 {
            self as f64
        }
        fn from_f64(x: f64) -> Self {
            x as $t
        }
        fn to_i64(self) -> i64 {
            self as i64
        }
        fn from_i64(x: i64) -> Self {
            x as $t
        }
    };
}

macro_rules! int_num {
    ($($t:ty => $variant:ident),*) => {$(
        impl Num for $t {
            storage!($variant);
            as_casts!($t);
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn div(self, o: Self) -> Result<Self, KernelError> {
                if o == 0 {
                    return Err(KernelError::Value("integer division by zero".to_owned()));
                }
                Ok(self.wrapping_div(o))
            }
            fn neg(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[allow(unused_comparisons)]
            fn abs(self) -> Self { if self < 0 { self.neg() } else { self } }
            fn is_nan(self) -> bool { false }
            fn lowest() -> Self { <$t>::MIN }
            fn highest() -> Self { <$t>::MAX }
        }
    )*};
}
int_num!(i64 => I64, i32 => I32, i16 => I16, i8 => I8, u64 => U64, u32 => U32, u16 => U16, u8 => U8);

macro_rules! float_num {
    ($($t:ty => $variant:ident),*) => {$(
        impl Num for $t {
            storage!($variant);
            as_casts!($t);
            fn add(self, o: Self) -> Self { self + o }
            fn sub(self, o: Self) -> Self { self - o }
            fn mul(self, o: Self) -> Self { self * o }
            fn div(self, o: Self) -> Result<Self, KernelError> { Ok(self / o) }
            fn neg(self) -> Self { -self }
            fn abs(self) -> Self { self.abs() }
            fn is_nan(self) -> bool { self.is_nan() }
            fn lowest() -> Self { <$t>::NEG_INFINITY }
            fn highest() -> Self { <$t>::INFINITY }
        }
    )*};
}
float_num!(f32 => F32, f64 => F64);

macro_rules! half_num {
    ($($t:ty => $variant:ident),*) => {$(
        impl Num for $t {
            storage!($variant);
            fn to_f64(self) -> f64 { <$t>::to_f64(self) }
            fn from_f64(x: f64) -> Self { <$t>::from_f64(x) }
            fn to_i64(self) -> i64 { <$t>::to_f32(self) as i64 }
            fn from_i64(x: i64) -> Self { <$t>::from_f64(x as f64) }
            fn add(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() + o.to_f32()) }
            fn sub(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() - o.to_f32()) }
            fn mul(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() * o.to_f32()) }
            fn div(self, o: Self) -> Result<Self, KernelError> {
                Ok(<$t>::from_f32(self.to_f32() / o.to_f32()))
            }
            fn neg(self) -> Self { -self }
            fn abs(self) -> Self { <$t>::from_f32(self.to_f32().abs()) }
            fn is_nan(self) -> bool { <$t>::is_nan(self) }
            fn lowest() -> Self { <$t>::NEG_INFINITY }
            fn highest() -> Self { <$t>::INFINITY }
        }
    )*};
}
half_num!(f16 => F16, bf16 => Bf16);

/// `$body` with `$v` bound to the vector of each listed `Data` variant;
/// `$else` for the others.
macro_rules! data_match {
    ($data:expr, [$($variant:ident),*], $v:ident => $body:expr, $else:expr) => {
        match $data {
            $($crate::value::Data::$variant($v) => $body,)*
            #[allow(unreachable_patterns)]
            _ => $else,
        }
    };
}
pub(crate) use data_match;

/// `$body` with `$v` bound to the typed vector of any numeric `Data`;
/// `$else` for bool, string and the packed types.
macro_rules! num_match {
    ($data:expr, $v:ident => $body:expr, $else:expr) => {
        $crate::ml::num::data_match!(
            $data,
            [F32, F64, F16, Bf16, I64, I32, I16, I8, U64, U32, U16, U8],
            $v => $body,
            $else
        )
    };
}
pub(crate) use num_match;

/// As [`num_match!`] over the float types only.
macro_rules! float_match {
    ($data:expr, $v:ident => $body:expr, $else:expr) => {
        $crate::ml::num::data_match!($data, [F32, F64, F16, Bf16], $v => $body, $else)
    };
}
pub(crate) use float_match;

/// As [`num_match!`] over the integer types only.
macro_rules! int_match {
    ($data:expr, $v:ident => $body:expr, $else:expr) => {
        $crate::ml::num::data_match!(
            $data,
            [I64, I32, I16, I8, U64, U32, U16, U8],
            $v => $body,
            $else
        )
    };
}
pub(crate) use int_match;

/// The error for a type an op does not take.
pub(crate) fn bad_type(what: &str, dtype: DType) -> KernelError {
    KernelError::Type(format!("{what} does not take {dtype} tensors"))
}

// ---------------------------------------------------------------- shapes

/// Row-major strides.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// A possibly negative axis in `0..rank` (`rank` itself allowed when `end`).
pub(crate) fn axis(axis: i64, rank: usize) -> Result<usize, KernelError> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r.max(1) {
        return Err(KernelError::Shape(format!(
            "axis {axis} is out of range for rank {rank}"
        )));
    }
    Ok(a as usize)
}

/// Splits a shape at `axis` into (outer, axis length, inner).
pub(crate) fn split_at(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis.min(shape.len())].iter().product(),
        shape.get(axis).copied().unwrap_or(1),
        shape[(axis + 1).min(shape.len())..].iter().product(),
    )
}

/// Refuses element counts past 2^28 (a hostile shape; the native engine's
/// limit too): an allocation that size would abort, not fail.
pub(crate) fn checked_len(shape: &[usize]) -> Result<usize, KernelError> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= 1 << 28)
        .ok_or_else(|| KernelError::Limit(format!("shape {shape:?} is too large")))
}

/// Numpy broadcasting of two shapes.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, KernelError> {
    neuride_onnx::broadcast::shape(&[a, b])
        .map_err(|_| KernelError::Shape(format!("shapes {a:?} and {b:?} do not broadcast")))
}

/// Broadcasting of any number of shapes.
pub(crate) fn broadcast_all(shapes: &[&[usize]]) -> Result<Vec<usize>, KernelError> {
    neuride_onnx::broadcast::shape(shapes).map_err(|(i, j)| {
        KernelError::Shape(format!(
            "shapes {:?} and {:?} do not broadcast",
            shapes[i], shapes[j]
        ))
    })
}

/// `f` over two broadcast operands, element by element.
pub(crate) fn zip_broadcast<A: Copy, B: Copy, R>(
    (sa, a): (&[usize], &[A]),
    (sb, b): (&[usize], &[B]),
    mut f: impl FnMut(A, B) -> R,
) -> Result<(Vec<usize>, Vec<R>), KernelError> {
    let shape = broadcast_shape(sa, sb)?;
    checked_len(&shape)?;
    if sa == sb {
        return Ok((shape, a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()));
    }
    if b.len() == 1 {
        let y = b[0];
        let ia = neuride_onnx::broadcast::index_map(&shape, sa);
        return Ok((shape, ia.into_iter().map(|i| f(a[i], y)).collect()));
    }
    let ia = neuride_onnx::broadcast::index_map(&shape, sa);
    let ib = neuride_onnx::broadcast::index_map(&shape, sb);
    let out = ia.iter().zip(&ib).map(|(&i, &j)| f(a[i], b[j])).collect();
    Ok((shape, out))
}

/// A tensor broadcast to `shape`.
pub(crate) fn expand(t: &Tensor, shape: &[usize]) -> Result<Tensor, KernelError> {
    if t.shape == shape {
        return Ok(t.clone());
    }
    checked_len(shape)?;
    Ok(Tensor {
        shape: shape.to_vec(),
        data: t
            .data
            .gather(&neuride_onnx::broadcast::index_map(shape, &t.shape)),
    })
}

/// Permutes axes.
pub(crate) fn transpose(t: &Tensor, perm: &[usize]) -> Result<Tensor, KernelError> {
    let rank = t.shape.len();
    if perm.len() != rank || (0..rank).any(|i| !perm.contains(&i)) {
        return Err(KernelError::Shape(format!(
            "perm {perm:?} is not a permutation of rank {rank}"
        )));
    }
    let shape: Vec<usize> = perm.iter().map(|&p| t.shape[p]).collect();
    Ok(Tensor {
        data: t.data.gather(&transpose_index(&t.shape, perm)),
        shape,
    })
}

/// For each element of the transposed tensor, its index in the source.
pub(crate) fn transpose_index(shape: &[usize], perm: &[usize]) -> Vec<usize> {
    let src = strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let step: Vec<usize> = perm.iter().map(|&p| src[p]).collect();
    neuride_onnx::broadcast::strided_offsets(&out_shape, &step)
}

/// A tensor of `dtype` from f64 values.
pub(crate) fn tensor_f64(shape: Vec<usize>, dtype: DType, v: Vec<f64>) -> Tensor {
    Tensor {
        shape,
        data: Data::from_f64(dtype, v),
    }
}

/// The values of a float tensor as f64, or an error naming the op.
pub(crate) fn floats(t: &Tensor, what: &str) -> Result<Vec<f64>, KernelError> {
    match &t.data {
        Data::Str(_) => Err(bad_type(what, DType::Str)),
        d => d.to_f64().ok_or_else(|| bad_type(what, d.dtype())),
    }
}

/// The integer values of a tensor (shape arguments: axes, pads, sizes).
pub(crate) fn ints(t: &Tensor) -> Result<Vec<i64>, KernelError> {
    t.data
        .to_i64()
        .ok_or_else(|| KernelError::Type(format!("expected integers, found {}", t.dtype())))
}

/// `i` as an index into `0..len`; None when it is negative or too large.
pub(crate) fn index_below(i: i64, len: usize) -> Option<usize> {
    usize::try_from(i).ok().filter(|&i| i < len)
}

/// The integer a scalar input holds (its first value): `k`, `M`, a split
/// size; `what` names it when the tensor is empty.
pub(crate) fn first_int(t: &Tensor, what: &str) -> Result<i64, KernelError> {
    ints(t)?
        .first()
        .copied()
        .ok_or_else(|| KernelError::Value(format!("{what} is empty")))
}

/// Bit operations of the integer types.
pub(crate) trait Int: Num {
    const BITS: u32;
    fn shl(self, n: u32) -> Self;
    /// Arithmetic for signed types, logical for unsigned.
    fn shr(self, n: u32) -> Self;
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn not(self) -> Self;
    /// Remainder with the divisor's sign (Python's `%`); 0 for division by zero.
    fn modulo(self, o: Self) -> Self;
    /// Remainder with the dividend's sign (C's `%`); 0 for division by zero.
    fn fmod(self, o: Self) -> Self;
}

macro_rules! int_bits {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const BITS: u32 = <$t>::BITS;
            fn shl(self, n: u32) -> Self { self.wrapping_shl(n) }
            fn shr(self, n: u32) -> Self { self.wrapping_shr(n) }
            fn and(self, o: Self) -> Self { self & o }
            fn or(self, o: Self) -> Self { self | o }
            fn xor(self, o: Self) -> Self { self ^ o }
            fn not(self) -> Self { !self }
            #[allow(unused_comparisons)]
            fn modulo(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r }
            }
            fn fmod(self, o: Self) -> Self {
                if o == 0 { 0 } else { self.wrapping_rem(o) }
            }
        }
    )*};
}
int_bits!(i64, i32, i16, i8, u64, u32, u16, u8);
