//! An array read from (or to be written to) a `.npy`: element type, byte
//! order, memory order, shape and the raw bytes, borrowed where possible.

use crate::NpzError;
use crate::dtype::{ByteOrder, DType};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq)]
pub struct Array<'a> {
    pub dtype: DType,
    pub byte_order: ByteOrder,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// Exactly `element_count * dtype.size()` bytes, in `byte_order` and
    /// `fortran_order` as the file had them.
    pub data: Cow<'a, [u8]>,
}

impl<'a> Array<'a> {
    /// A little-endian, C-order array; checks that `data` has the right length.
    pub fn new(
        dtype: DType,
        shape: Vec<u64>,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Result<Self, NpzError> {
        let data = data.into();
        let expected = shape
            .iter()
            .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d))
            .unwrap_or(u64::MAX);
        if expected != data.len() as u64 {
            return Err(NpzError::DataLength {
                dtype: dtype.numpy_name(),
                shape,
                expected,
                found: data.len() as u64,
            });
        }
        let byte_order = if dtype.size() == 1 {
            ByteOrder::NotApplicable
        } else {
            ByteOrder::Little
        };
        Ok(Array {
            dtype,
            byte_order,
            fortran_order: false,
            shape,
            data,
        })
    }

    /// A C-order float32 array from values.
    pub fn from_f32(shape: Vec<u64>, values: &[f32]) -> Result<Array<'static>, NpzError> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Array::new(DType::Float32, shape, bytes)
    }

    pub fn element_count(&self) -> u64 {
        self.shape.iter().product()
    }

    pub fn nbytes(&self) -> u64 {
        self.data.len() as u64
    }

    /// The `descr` numpy would write (`<f4`).
    pub fn descr(&self) -> String {
        self.dtype.descr(self.byte_order)
    }

    /// True when the data is a view into the archive bytes (no copy made).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.data, Cow::Borrowed(_))
    }

    pub fn into_owned(self) -> Array<'static> {
        Array {
            data: Cow::Owned(self.data.into_owned()),
            ..self
        }
    }

    /// The same values as little-endian, C-order bytes (what ONNX `raw_data`
    /// and most consumers expect). Borrows when nothing needs to change.
    pub fn to_c_order_le(&self) -> Cow<'_, [u8]> {
        let mut data: Cow<'_, [u8]> = Cow::Borrowed(&self.data);
        if self.byte_order.is_big() {
            let unit = self.dtype.swap_unit();
            let owned = data.to_mut();
            for chunk in owned.chunks_exact_mut(unit) {
                chunk.reverse();
            }
        }
        if self.fortran_order && self.shape.len() > 1 {
            data = Cow::Owned(fortran_to_c(&data, &self.shape, self.dtype.size()));
        }
        data
    }

    /// A little-endian C-order copy, transposed when `transpose` (2-D only:
    /// the Keras `[in, out]` kernel versus ONNX's `[out, in]`).
    pub fn to_standard(&self, transpose: bool) -> Result<Array<'static>, NpzError> {
        let bytes = self.to_c_order_le();
        if !transpose {
            return Array::new(self.dtype, self.shape.clone(), bytes.into_owned());
        }
        let [rows, cols] = self.shape[..] else {
            return Err(NpzError::BadHeader(format!(
                "only 2-D arrays can be transposed, this one has shape {:?}",
                self.shape
            )));
        };
        // A C-order [rows, cols] matrix read as Fortran order is its [cols, rows] transpose.
        let transposed = fortran_to_c(&bytes, &[cols, rows], self.dtype.size());
        Array::new(self.dtype, vec![cols, rows], transposed)
    }

    /// Values as f32 (real types only), in C order.
    pub fn to_f32_vec(&self) -> Result<Vec<f32>, NpzError> {
        Ok(self.to_f64_vec()?.into_iter().map(|v| v as f32).collect())
    }

    /// Values as f64 (real types only), in C order. 64-bit integers above 2^53 round.
    pub fn to_f64_vec(&self) -> Result<Vec<f64>, NpzError> {
        if self.dtype.is_complex() {
            return Err(NpzError::UnsupportedDType {
                name: "array".to_owned(),
                descr: self.descr(),
            });
        }
        let bytes = self.to_c_order_le();
        let mut out = Vec::with_capacity(self.element_count() as usize);
        for_each_real(&bytes, self.dtype, ByteOrder::Little, |v| out.push(v));
        Ok(out)
    }
}

/// Element types [`Array::to_vec`] hands out exactly as stored. Sealed:
/// one per numeric dtype that has a Rust primitive (not float16, complex).
pub trait Element: Copy + sealed::Sealed {
    const DTYPE: DType;
    /// The value from its `DTYPE.size()` little-endian bytes.
    fn from_le(bytes: &[u8]) -> Self;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! element {
    ($($t:ty => $dtype:ident),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$dtype;
            fn from_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("chunks of the element size"))
            }
        }
    )*};
}

element!(
    i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64,
    f32 => Float32, f64 => Float64,
);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn from_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

impl Array<'_> {
    /// The values as `T` in C order, when `T` is the array's own element
    /// type (`f32` for float32): nothing is rounded or widened, so callers
    /// that keep the dtype get the exact values.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>, NpzError> {
        if self.dtype != T::DTYPE {
            return Err(NpzError::WrongDType {
                expected: T::DTYPE.numpy_name(),
                found: self.dtype.numpy_name(),
            });
        }
        let bytes = self.to_c_order_le();
        Ok(bytes
            .chunks_exact(self.dtype.size())
            .map(T::from_le)
            .collect())
    }

    /// Integer and bool values as i64, in C order. uint64 values above
    /// `i64::MAX` wrap, as numpy's `astype(np.int64)` does.
    pub fn to_i64_vec(&self) -> Result<Vec<i64>, NpzError> {
        fn widen<T: Element + Into<i64>>(array: &Array<'_>) -> Result<Vec<i64>, NpzError> {
            Ok(array.to_vec::<T>()?.into_iter().map(Into::into).collect())
        }
        match self.dtype {
            DType::Bool => widen::<bool>(self),
            DType::Int8 => widen::<i8>(self),
            DType::Int16 => widen::<i16>(self),
            DType::Int32 => widen::<i32>(self),
            DType::Int64 => widen::<i64>(self),
            DType::Uint8 => widen::<u8>(self),
            DType::Uint16 => widen::<u16>(self),
            DType::Uint32 => widen::<u32>(self),
            DType::Uint64 => Ok(self
                .to_vec::<u64>()?
                .into_iter()
                .map(|v| v as i64)
                .collect()),
            other => Err(NpzError::WrongDType {
                expected: "an integer or bool dtype",
                found: other.numpy_name(),
            }),
        }
    }
}

/// Reorders Fortran-order bytes of `shape` into C order, `item` bytes per element.
pub(crate) fn fortran_to_c(data: &[u8], shape: &[u64], item: usize) -> Vec<u8> {
    let ndim = shape.len();
    let count: u64 = shape.iter().product();
    let mut out = Vec::with_capacity(data.len());
    if count == 0 {
        return out;
    }
    // Fortran strides (in elements): the first axis varies fastest.
    let mut strides = vec![1u64; ndim];
    for axis in 1..ndim {
        strides[axis] = strides[axis - 1] * shape[axis - 1];
    }
    // Walk C order with an odometer over the index, last axis fastest.
    let mut index = vec![0u64; ndim];
    let mut offset = 0u64;
    for _ in 0..count {
        let start = offset as usize * item;
        out.extend_from_slice(&data[start..start + item]);
        for axis in (0..ndim).rev() {
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            offset -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
    }
    out
}

/// Calls `visit` with every element of a real (non-complex) array as f64,
/// in storage order. One `match` up front so the inner loops stay tight.
pub(crate) fn for_each_real(
    data: &[u8],
    dtype: DType,
    order: ByteOrder,
    mut visit: impl FnMut(f64),
) {
    macro_rules! each {
        ($t:ty, $n:expr, $conv:expr) => {{
            let big = order.is_big();
            for chunk in data.chunks_exact($n) {
                let raw: [u8; $n] = chunk.try_into().expect("chunks_exact yields full chunks");
                let value = if big {
                    <$t>::from_be_bytes(raw)
                } else {
                    <$t>::from_le_bytes(raw)
                };
                visit($conv(value));
            }
        }};
    }
    match dtype {
        DType::Bool => data
            .iter()
            .for_each(|&b| visit(if b != 0 { 1.0 } else { 0.0 })),
        DType::Int8 => data.iter().for_each(|&b| visit(b as i8 as f64)),
        DType::Uint8 => data.iter().for_each(|&b| visit(b as f64)),
        DType::Int16 => each!(i16, 2, |v| v as f64),
        DType::Uint16 => each!(u16, 2, |v| v as f64),
        DType::Int32 => each!(i32, 4, |v| v as f64),
        DType::Uint32 => each!(u32, 4, |v| v as f64),
        DType::Int64 => each!(i64, 8, |v| v as f64),
        DType::Uint64 => each!(u64, 8, |v| v as f64),
        DType::Float16 => each!(u16, 2, |v| half::f16::from_bits(v).to_f64()),
        DType::Float32 => each!(f32, 4, |v| v as f64),
        DType::Float64 => each!(f64, 8, |v| v),
        // Complex numbers visit their real and imaginary parts in turn.
        DType::Complex64 => each!(f32, 4, |v| v as f64),
        DType::Complex128 => each!(f64, 8, |v| v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A [2, 3] array of `dtype` holding `values` (C order) stored in Fortran order.
    fn fortran(dtype: DType, values: &[u8]) -> Array<'static> {
        let item = dtype.size();
        // Column-major: element (r, c) of the [2, 3] matrix at c * 2 + r.
        let mut data = vec![0u8; values.len()];
        for r in 0..2 {
            for c in 0..3 {
                let from = (r * 3 + c) * item;
                let to = (c * 2 + r) * item;
                data[to..to + item].copy_from_slice(&values[from..from + item]);
            }
        }
        Array {
            dtype,
            byte_order: ByteOrder::Little,
            fortran_order: true,
            shape: vec![2, 3],
            data: Cow::Owned(data),
        }
    }

    #[test]
    fn to_vec_gives_exact_values_in_c_order() {
        let values: Vec<f32> = vec![0.1, 1.5, -2.0, 3.25, 1e-7, 7.0];
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let array = fortran(DType::Float32, &bytes);
        assert_eq!(array.to_vec::<f32>().unwrap(), values);
        let c_order = Array::new(DType::Float32, vec![2, 3], bytes).unwrap();
        assert_eq!(c_order.to_vec::<f32>().unwrap(), values);
    }

    #[test]
    fn to_vec_refuses_another_dtype() {
        let array = Array::from_f32(vec![1], &[1.0]).unwrap();
        assert_eq!(
            array.to_vec::<f64>().unwrap_err().to_string(),
            "the array holds float32, float64 expected"
        );
    }

    #[test]
    fn big_endian_values_are_swapped() {
        let bytes: Vec<u8> = [1i32, -2].iter().flat_map(|v| v.to_be_bytes()).collect();
        let array = Array {
            byte_order: ByteOrder::Big,
            ..Array::new(DType::Int32, vec![2], bytes).unwrap()
        };
        assert_eq!(array.to_vec::<i32>().unwrap(), vec![1, -2]);
    }

    #[test]
    fn integers_widen_to_i64() {
        let bytes: Vec<u8> = [0u16, 1, 2, 3, 4, 65535]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let array = fortran(DType::Uint16, &bytes);
        assert_eq!(array.to_i64_vec().unwrap(), vec![0, 1, 2, 3, 4, 65535]);
        let wraps = Array::new(DType::Uint64, vec![1], u64::MAX.to_le_bytes().to_vec()).unwrap();
        assert_eq!(wraps.to_i64_vec().unwrap(), vec![-1]);
        let bools = Array::new(DType::Bool, vec![2], vec![1, 0]).unwrap();
        assert_eq!(bools.to_i64_vec().unwrap(), vec![1, 0]);
        assert_eq!(
            Array::from_f32(vec![1], &[1.0])
                .unwrap()
                .to_i64_vec()
                .unwrap_err()
                .to_string(),
            "the array holds float32, an integer or bool dtype expected"
        );
    }

    #[test]
    fn fortran_order_of_three_axes_reads_in_c_order() {
        // Values 0..24 of a C-order [2, 3, 4]; Fortran order puts (i, j, k) at i + 2j + 6k.
        let mut data = vec![0u8; 24];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    data[i + 2 * j + 6 * k] = (i * 12 + j * 4 + k) as u8;
                }
            }
        }
        let array = Array {
            dtype: DType::Uint8,
            byte_order: ByteOrder::NotApplicable,
            fortran_order: true,
            shape: vec![2, 3, 4],
            data: Cow::Owned(data),
        };
        assert_eq!(array.to_vec::<u8>().unwrap(), (0..24).collect::<Vec<u8>>());
    }
}
