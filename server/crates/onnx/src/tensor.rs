//! Typed, bounded access to the values held by a `TensorProto`: `raw_data`
//! (little-endian, every fixed-size numeric type incl. float16/bfloat16) and
//! the typed fields (`float_data`, `int32_data`, `int64_data`, `double_data`,
//! `uint64_data`). Everything streams over the stored bytes: element counts
//! come from the data actually present, never from `dims`, so an absurd shape
//! cannot make us allocate.

use crate::proto::TensorProto;
use crate::proto::tensor_proto::DataType;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorError {
    #[error(
        "tensor '{name}': data is stored externally ({location}); its bytes must be read first"
    )]
    External { name: String, location: String },
    #[error("tensor '{name}': element type {dtype} has no numeric reading")]
    NotNumeric { name: String, dtype: &'static str },
    #[error(
        "tensor '{name}': raw_data has {found} bytes, not a multiple of the {size}-byte {dtype} element"
    )]
    RaggedRaw {
        name: String,
        found: usize,
        size: usize,
        dtype: &'static str,
    },
}

/// The element count `dims` promise, or `None` when it overflows `u64` or a
/// dim is negative. Scalars (no dims) hold one element.
pub fn element_count(dims: &[i64]) -> Option<u64> {
    dims.iter().try_fold(1u64, |acc, &d| {
        u64::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

/// True when the tensor's data lives in an external file.
pub fn is_external(t: &TensorProto) -> bool {
    t.data_location == Some(crate::proto::tensor_proto::DataLocation::External as i32)
}

/// Looks up an `external_data` key (`location`, `offset`, `length`, `checksum`).
pub fn external_entry<'a>(t: &'a TensorProto, key: &str) -> Option<&'a str> {
    t.external_data
        .iter()
        .find(|e| e.key.as_deref() == Some(key))
        .and_then(|e| e.value.as_deref())
}

/// Bytes of payload the tensor stores (or, for external data, its declared
/// `length`, else what `dims` x dtype would need). Used for parameter bytes.
pub fn stored_bytes(t: &TensorProto) -> u64 {
    let dtype = t.data_type.unwrap_or(0);
    if is_external(t) {
        if let Some(len) = external_entry(t, "length").and_then(|l| l.parse::<u64>().ok()) {
            return len;
        }
        return element_count(&t.dims)
            .and_then(|n| crate::dtype::byte_len(dtype, n))
            .unwrap_or(0);
    }
    if let Some(raw) = &t.raw_data {
        return raw.len() as u64;
    }
    let typed = t.float_data.len() * 4
        + t.int32_data.len() * element_bytes_in_int32(dtype)
        + t.int64_data.len() * 8
        + t.double_data.len() * 8
        + t.uint64_data.len() * 8
        + t.string_data.iter().map(|s| s.len()).sum::<usize>();
    typed as u64
}

/// In `int32_data`, narrow types are stored one per int32; their real size is
/// the dtype's size (packed sub-byte types count as one byte here).
fn element_bytes_in_int32(dtype: i32) -> usize {
    crate::dtype::bits(dtype)
        .map(|b| (b as usize).div_ceil(8))
        .unwrap_or(4)
        .min(4)
}

/// How the numeric elements of a tensor are stored.
#[derive(Debug, Clone, Copy)]
enum Storage<'a> {
    Raw(&'a [u8], RawKind),
    F32(&'a [f32]),
    F64(&'a [f64]),
    I32(&'a [i32], RawKind),
    I64(&'a [i64]),
    U64(&'a [u64]),
}

/// The element layout of `raw_data` (and how `int32_data` entries are read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawKind {
    F32,
    F64,
    F16,
    Bf16,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Bool,
}

impl RawKind {
    fn of(dtype: i32) -> Option<RawKind> {
        Some(match DataType::try_from(dtype).ok()? {
            DataType::Float => RawKind::F32,
            DataType::Double => RawKind::F64,
            DataType::Float16 => RawKind::F16,
            DataType::Bfloat16 => RawKind::Bf16,
            DataType::Int8 => RawKind::I8,
            DataType::Uint8 => RawKind::U8,
            DataType::Int16 => RawKind::I16,
            DataType::Uint16 => RawKind::U16,
            DataType::Int32 => RawKind::I32,
            DataType::Uint32 => RawKind::U32,
            DataType::Int64 => RawKind::I64,
            DataType::Uint64 => RawKind::U64,
            DataType::Bool => RawKind::Bool,
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            RawKind::I8 | RawKind::U8 | RawKind::Bool => 1,
            RawKind::F16 | RawKind::Bf16 | RawKind::I16 | RawKind::U16 => 2,
            RawKind::F32 | RawKind::I32 | RawKind::U32 => 4,
            RawKind::F64 | RawKind::I64 | RawKind::U64 => 8,
        }
    }
    fn is_float(self) -> bool {
        matches!(
            self,
            RawKind::F32 | RawKind::F64 | RawKind::F16 | RawKind::Bf16
        )
    }
    /// Reads one element from exactly `self.size()` little-endian bytes.
    fn read(self, b: &[u8]) -> Value {
        match self {
            RawKind::F32 => Value::F(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
            RawKind::F64 => Value::F(f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]))),
            RawKind::F16 => Value::F(f16_to_f32(u16::from_le_bytes([b[0], b[1]])) as f64),
            RawKind::Bf16 => {
                Value::F(f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16) as f64)
            }
            RawKind::I8 => Value::I(b[0] as i8 as i64),
            RawKind::U8 | RawKind::Bool => Value::I(b[0] as i64),
            RawKind::I16 => Value::I(i16::from_le_bytes([b[0], b[1]]) as i64),
            RawKind::U16 => Value::I(u16::from_le_bytes([b[0], b[1]]) as i64),
            RawKind::I32 => Value::I(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64),
            RawKind::U32 => Value::I(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64),
            RawKind::I64 => Value::I(i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]))),
            RawKind::U64 => Value::U(u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]))),
        }
    }
    /// Interprets one `int32_data` entry (float16/bfloat16 store their bit pattern there).
    fn from_int32(self, v: i32) -> Value {
        match self {
            RawKind::F16 => Value::F(f16_to_f32(v as u16) as f64),
            RawKind::Bf16 => Value::F(f32::from_bits((v as u16 as u32) << 16) as f64),
            _ => Value::I(v as i64),
        }
    }
}

/// One element, kept exact for integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    F(f64),
    I(i64),
    U(u64),
}

impl Value {
    pub fn as_f64(self) -> f64 {
        match self {
            Value::F(f) => f,
            Value::I(i) => i as f64,
            Value::U(u) => u as f64,
        }
    }
    /// The integer value, if it is one (floats are not rounded).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Value::I(i) => Some(i),
            Value::U(u) => i64::try_from(u).ok(),
            Value::F(_) => None,
        }
    }
}

/// IEEE half -> single, exact (every f16 is representable as f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise the fraction.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

fn storage(t: &TensorProto) -> Result<Storage<'_>, TensorError> {
    let name = || t.name.clone().unwrap_or_default();
    let dtype = t.data_type.unwrap_or(0);
    if is_external(t) {
        return Err(TensorError::External {
            name: name(),
            location: external_entry(t, "location").unwrap_or("?").to_owned(),
        });
    }
    let kind = RawKind::of(dtype).ok_or_else(|| TensorError::NotNumeric {
        name: name(),
        dtype: crate::dtype::onnx_name(dtype),
    })?;
    if let Some(raw) = &t.raw_data {
        return Ok(Storage::Raw(raw, kind));
    }
    Ok(match kind {
        RawKind::F32 => Storage::F32(&t.float_data),
        RawKind::F64 => Storage::F64(&t.double_data),
        RawKind::I64 => Storage::I64(&t.int64_data),
        RawKind::U32 | RawKind::U64 => Storage::U64(&t.uint64_data),
        _ => Storage::I32(&t.int32_data, kind),
    })
}

/// Calls `f` for every stored element, in order, reading `raw_data` in place.
/// Trailing bytes that do not form a whole element are an error, reported
/// before any element is visited.
pub fn for_each(t: &TensorProto, f: impl FnMut(Value)) -> Result<(), TensorError> {
    let s = storage(t)?;
    if let Storage::Raw(raw, _) = s {
        // Same reading as external bytes, but the error names this tensor.
        return for_each_raw(raw, t.data_type.unwrap_or(0), f).map_err(|e| match e {
            TensorError::RaggedRaw {
                found, size, dtype, ..
            } => TensorError::RaggedRaw {
                name: t.name.clone().unwrap_or_default(),
                found,
                size,
                dtype,
            },
            other => other,
        });
    }
    visit(s, f);
    Ok(())
}

/// Like [`for_each`] over bare little-endian bytes of `data_type` (external data).
pub fn for_each_raw(raw: &[u8], data_type: i32, f: impl FnMut(Value)) -> Result<(), TensorError> {
    let kind = RawKind::of(data_type).ok_or_else(|| TensorError::NotNumeric {
        name: String::new(),
        dtype: crate::dtype::onnx_name(data_type),
    })?;
    if !raw.len().is_multiple_of(kind.size()) {
        return Err(TensorError::RaggedRaw {
            name: String::new(),
            found: raw.len(),
            size: kind.size(),
            dtype: crate::dtype::onnx_name(data_type),
        });
    }
    visit(Storage::Raw(raw, kind), f);
    Ok(())
}

fn visit(s: Storage<'_>, mut f: impl FnMut(Value)) {
    match s {
        Storage::Raw(raw, kind) => raw.chunks_exact(kind.size()).for_each(|c| f(kind.read(c))),
        Storage::F32(v) => v.iter().for_each(|&x| f(Value::F(x as f64))),
        Storage::F64(v) => v.iter().for_each(|&x| f(Value::F(x))),
        Storage::I32(v, kind) => v.iter().for_each(|&x| f(kind.from_int32(x))),
        Storage::I64(v) => v.iter().for_each(|&x| f(Value::I(x))),
        Storage::U64(v) => v.iter().for_each(|&x| f(Value::U(x))),
    }
}

/// The elements of an 8-, 4- or 2-bit tensor (float8*, float4e2m1, int4,
/// uint4, int2, uint2), one byte each, lowest bits first within a stored
/// byte: the small floats' bit patterns, the small integers' two's
/// complement bits. `raw_data` holds them packed (two 4-bit or four 2-bit
/// elements per byte), `int32_data` one packed byte per entry. `count` is
/// the element count `dims` promise (a packed last byte may hold padding);
/// `None` when the tensor's type is not one of these.
pub fn packed_elements(t: &TensorProto, count: usize) -> Option<Result<Vec<u8>, TensorError>> {
    let dtype = t.data_type.unwrap_or(0);
    let bits = match DataType::try_from(dtype).ok()? {
        DataType::Float8e4m3fn
        | DataType::Float8e4m3fnuz
        | DataType::Float8e5m2
        | DataType::Float8e5m2fnuz
        | DataType::Float8e8m0 => 8,
        DataType::Int4 | DataType::Uint4 | DataType::Float4e2m1 => 4,
        DataType::Int2 | DataType::Uint2 => 2,
        _ => return None,
    };
    if is_external(t) {
        return Some(Err(TensorError::External {
            name: t.name.clone().unwrap_or_default(),
            location: external_entry(t, "location").unwrap_or("?").to_owned(),
        }));
    }
    let bytes: Vec<u8> = match &t.raw_data {
        Some(raw) => raw.to_vec(),
        None => t.int32_data.iter().map(|&v| v as u8).collect(),
    };
    let per_byte = 8 / bits;
    let mask = ((1u16 << bits) - 1) as u8;
    let available = bytes.len() * per_byte as usize;
    let mut out = Vec::with_capacity(count.min(available));
    for (i, byte) in bytes.iter().enumerate() {
        for k in 0..per_byte {
            if i * per_byte as usize + (k as usize) < count {
                out.push((byte >> (k * bits)) & mask);
            }
        }
    }
    Some(Ok(out))
}

/// Number of elements actually stored (not what `dims` claims).
pub fn stored_count(t: &TensorProto) -> Result<u64, TensorError> {
    Ok(match storage(t)? {
        Storage::Raw(raw, kind) => (raw.len() / kind.size()) as u64,
        Storage::F32(v) => v.len() as u64,
        Storage::F64(v) => v.len() as u64,
        Storage::I32(v, _) => v.len() as u64,
        Storage::I64(v) => v.len() as u64,
        Storage::U64(v) => v.len() as u64,
    })
}

/// The integer elements of a small tensor (at most `limit`), e.g. a Reshape
/// target or Slice starts. `None` for floats, external data or more than `limit`.
pub fn small_ints(t: &TensorProto, limit: usize) -> Option<Vec<i64>> {
    let kind = RawKind::of(t.data_type.unwrap_or(0))?;
    if kind.is_float() || stored_count(t).ok()? > limit as u64 {
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for_each(t, |v| match v.as_i64() {
        Some(i) => out.push(i),
        None => ok = false,
    })
    .ok()?;
    ok.then_some(out)
}

/// The elements of a small tensor as `f64` (at most `limit`), e.g. Resize scales.
pub fn small_floats(t: &TensorProto, limit: usize) -> Option<Vec<f64>> {
    if stored_count(t).ok()? > limit as u64 {
        return None;
    }
    let mut out = Vec::new();
    for_each(t, |v| out.push(v.as_f64())).ok()?;
    Some(out)
}

/// Summary statistics of a tensor's values, computed in one streaming pass
/// (Welford's algorithm, so the mean and variance stay accurate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Elements visited.
    pub count: u64,
    /// Over finite values only; `None` when there is none.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Population standard deviation of the finite values.
    pub std: Option<f64>,
    pub nan: u64,
    pub inf: u64,
    pub zeros: u64,
}

/// Streaming accumulator behind [`Stats`]; feed it values with [`StatsBuilder::push`].
#[derive(Debug, Clone, Default)]
pub struct StatsBuilder {
    count: u64,
    finite: u64,
    min: f64,
    max: f64,
    mean: f64,
    m2: f64,
    nan: u64,
    inf: u64,
    zeros: u64,
}

impl StatsBuilder {
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        if x.is_nan() {
            self.nan += 1;
            return;
        }
        if x.is_infinite() {
            self.inf += 1;
            return;
        }
        if x == 0.0 {
            self.zeros += 1;
        }
        if self.finite == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.finite += 1;
        let delta = x - self.mean;
        self.mean += delta / self.finite as f64;
        self.m2 += delta * (x - self.mean);
    }

    pub fn finish(&self) -> Stats {
        let some = |v: f64| (self.finite > 0).then_some(v);
        Stats {
            count: self.count,
            min: some(self.min),
            max: some(self.max),
            mean: some(self.mean),
            std: some((self.m2 / self.finite.max(1) as f64).sqrt()),
            nan: self.nan,
            inf: self.inf,
            zeros: self.zeros,
        }
    }
}

/// Statistics of an inline tensor (raw or typed fields).
pub fn stats(t: &TensorProto) -> Result<Stats, TensorError> {
    let mut b = StatsBuilder::default();
    for_each(t, |v| b.push(v.as_f64()))?;
    Ok(b.finish())
}

/// Statistics of externally stored bytes of `data_type` (the caller reads them).
pub fn stats_raw(raw: &[u8], data_type: i32) -> Result<Stats, TensorError> {
    let mut b = StatsBuilder::default();
    for_each_raw(raw, data_type, |v| b.push(v.as_f64()))?;
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(dtype: i32, dims: Vec<i64>, bytes: &[u8]) -> TensorProto {
        TensorProto {
            data_type: Some(dtype),
            dims,
            raw_data: Some(bytes.to_vec().into()),
            ..Default::default()
        }
    }

    #[test]
    fn half_precision_decodes_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        // float16 raw and int32_data, bfloat16 raw.
        let t = raw(10, vec![2], &[0x00, 0x3c, 0x00, 0xc0]);
        assert_eq!(small_floats(&t, 10), Some(vec![1.0, -2.0]));
        let t = TensorProto {
            data_type: Some(10),
            int32_data: vec![0x3c00],
            ..Default::default()
        };
        assert_eq!(small_floats(&t, 10), Some(vec![1.0]));
        let t = raw(16, vec![1], &[0x80, 0x3f]);
        assert_eq!(small_floats(&t, 10), Some(vec![1.0]));
    }

    #[test]
    fn every_typed_field_is_read() {
        let f = TensorProto {
            data_type: Some(1),
            float_data: vec![1.5, f32::NAN, f32::INFINITY, 0.0],
            ..Default::default()
        };
        let s = stats(&f).unwrap();
        assert_eq!((s.count, s.nan, s.inf, s.zeros), (4, 1, 1, 1));
        assert_eq!((s.min, s.max), (Some(0.0), Some(1.5)));
        let d = TensorProto {
            data_type: Some(11),
            double_data: vec![2.0, 4.0],
            ..Default::default()
        };
        assert_eq!(stats(&d).unwrap().std, Some(1.0));
        let i = TensorProto {
            data_type: Some(7),
            int64_data: vec![3, -1],
            ..Default::default()
        };
        assert_eq!(small_ints(&i, 4), Some(vec![3, -1]));
        let u = TensorProto {
            data_type: Some(13),
            uint64_data: vec![u64::MAX],
            ..Default::default()
        };
        assert_eq!(small_ints(&u, 4), None, "does not fit i64");
        assert_eq!(stats(&u).unwrap().max, Some(u64::MAX as f64));
        let b = raw(9, vec![3], &[1, 0, 1]);
        assert_eq!(small_ints(&b, 4), Some(vec![1, 0, 1]));
        let i8t = raw(3, vec![2], &[0xff, 0x7f]);
        assert_eq!(small_ints(&i8t, 4), Some(vec![-1, 127]));
    }

    #[test]
    fn bad_data_is_an_error_and_dims_are_never_trusted() {
        let ragged = TensorProto {
            name: Some("w".into()),
            ..raw(1, vec![2], &[0, 0, 0, 0, 0])
        };
        let err = stats(&ragged).unwrap_err().to_string();
        assert_eq!(
            err,
            "tensor 'w': raw_data has 5 bytes, not a multiple of the 4-byte float element"
        );
        // 2^62 elements claimed, 8 bytes stored: two elements are visited.
        let huge = raw(1, vec![1 << 31, 1 << 31], &[0; 8]);
        assert_eq!(stats(&huge).unwrap().count, 2);
        assert_eq!(element_count(&huge.dims), Some(1 << 62));
        assert_eq!(element_count(&[1 << 40, 1 << 40]), None);
        assert_eq!(element_count(&[-1]), None);
        let s = TensorProto {
            data_type: Some(8),
            string_data: vec![b"x".to_vec().into()],
            ..Default::default()
        };
        assert!(matches!(stats(&s), Err(TensorError::NotNumeric { .. })));
        let mut ext = raw(1, vec![4], &[]);
        ext.raw_data = None;
        ext.data_location = Some(1);
        ext.external_data
            .push(crate::proto::StringStringEntryProto {
                key: Some("length".into()),
                value: Some("16".into()),
            });
        assert!(matches!(stats(&ext), Err(TensorError::External { .. })));
        assert_eq!(stored_bytes(&ext), 16);
        assert_eq!(stats_raw(&1.0f32.to_le_bytes(), 1).unwrap().mean, Some(1.0));
    }
}
