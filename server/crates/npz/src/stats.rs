//! min/max/mean/std and NaN/Inf counts of an array. Statistics are over the
//! finite values (NaN and Inf are counted apart), so one NaN does not hide
//! the range of the rest; `std` is the population deviation (numpy's ddof=0).

use crate::Array;
use crate::array::for_each_real;
use crate::dtype::{ByteOrder, DType};
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// `None` when there is no finite value (empty arrays, all NaN) and for
    /// complex arrays, which have no order.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    /// Elements that are NaN (complex: either part).
    pub nan: u64,
    /// Elements that are +-Inf and not NaN (complex: either part).
    pub inf: u64,
}

pub fn stats(array: &Array<'_>) -> Stats {
    let whole = |visit: &mut dyn FnMut(&[u8])| {
        visit(&array.data);
        Ok::<(), std::convert::Infallible>(())
    };
    match stats_streamed(array.dtype, array.byte_order, whole) {
        Ok(stats) => stats,
        Err(never) => match never {},
    }
}

/// [`stats`] of data that arrives in pieces of whole elements: `pass` hands
/// every piece to its visitor, and is called twice (the deviation is taken
/// from the mean of the first pass, exact where a sum of squares is not).
pub fn stats_streamed<E>(
    dtype: DType,
    order: ByteOrder,
    mut pass: impl FnMut(&mut dyn FnMut(&[u8])) -> Result<(), E>,
) -> Result<Stats, E> {
    if dtype.is_complex() {
        return complex_stats(dtype, order, pass);
    }
    let mut count = 0u64;
    let (mut sum, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    let (mut nan, mut inf) = (0u64, 0u64);
    pass(&mut |piece| {
        for_each_real(piece, dtype, order, |v| {
            if v.is_finite() {
                count += 1;
                sum += v;
                min = min.min(v);
                max = max.max(v);
            } else if v.is_nan() {
                nan += 1;
            } else {
                inf += 1;
            }
        })
    })?;
    if count == 0 {
        return Ok(Stats {
            nan,
            inf,
            ..Stats::default()
        });
    }
    let mean = sum / count as f64;
    let mut squares = 0.0f64;
    pass(&mut |piece| {
        for_each_real(piece, dtype, order, |v| {
            if v.is_finite() {
                squares += (v - mean) * (v - mean);
            }
        })
    })?;
    Ok(Stats {
        min: Some(min),
        max: Some(max),
        mean: Some(mean),
        std: Some((squares / count as f64).sqrt()),
        nan,
        inf,
    })
}

fn complex_stats<E>(
    dtype: DType,
    order: ByteOrder,
    mut pass: impl FnMut(&mut dyn FnMut(&[u8])) -> Result<(), E>,
) -> Result<Stats, E> {
    let part = if dtype == DType::Complex64 {
        DType::Float32
    } else {
        DType::Float64
    };
    let (mut nan, mut inf) = (0u64, 0u64);
    let mut previous: Option<f64> = None;
    pass(&mut |piece| {
        for_each_real(piece, part, order, |v| match previous.take() {
            None => previous = Some(v),
            Some(real) => {
                if real.is_nan() || v.is_nan() {
                    nan += 1;
                } else if real.is_infinite() || v.is_infinite() {
                    inf += 1;
                }
            }
        })
    })?;
    Ok(Stats {
        nan,
        inf,
        ..Stats::default()
    })
}
