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

/// Reorders Fortran-order bytes of `shape` into C order, `item` bytes per element.
fn fortran_to_c(data: &[u8], shape: &[u64], item: usize) -> Vec<u8> {
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
