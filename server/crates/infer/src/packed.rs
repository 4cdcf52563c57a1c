//! The 8-, 4- and 2-bit element types: how one element's byte (the bit
//! pattern of a small float, the value of a small integer) reads as a
//! number and how a number is rounded into one, exactly as ONNX's
//! reference (`ml_dtypes` and `onnx.numpy_helper`) does: round to nearest
//! even; out of range is infinity or NaN unless saturating, which clamps
//! to the largest finite value first.

use crate::error::KernelError;
use crate::value::DType;

/// A small float's layout.
struct Format {
    exponent: u32,
    mantissa: u32,
    bias: i32,
    /// E5M2 has IEEE infinities and NaNs (exponent all ones).
    ieee: bool,
    /// "fnuz": 0x80 is the only NaN, there is no negative zero.
    fnuz: bool,
    /// E4M3FN: S.1111.111 is NaN, no infinity.
    fn_nan: bool,
    /// Largest finite value.
    max: f64,
}

fn format(dtype: DType) -> Option<Format> {
    Some(match dtype {
        DType::F8E4M3Fn => Format {
            exponent: 4,
            mantissa: 3,
            bias: 7,
            ieee: false,
            fnuz: false,
            fn_nan: true,
            max: 448.0,
        },
        DType::F8E4M3Fnuz => Format {
            exponent: 4,
            mantissa: 3,
            bias: 8,
            ieee: false,
            fnuz: true,
            fn_nan: false,
            max: 240.0,
        },
        DType::F8E5M2 => Format {
            exponent: 5,
            mantissa: 2,
            bias: 15,
            ieee: true,
            fnuz: false,
            fn_nan: false,
            max: 57344.0,
        },
        DType::F8E5M2Fnuz => Format {
            exponent: 5,
            mantissa: 2,
            bias: 16,
            ieee: false,
            fnuz: true,
            fn_nan: false,
            max: 57344.0,
        },
        DType::F4E2M1 => Format {
            exponent: 2,
            mantissa: 1,
            bias: 1,
            ieee: false,
            fnuz: false,
            fn_nan: false,
            max: 6.0,
        },
        _ => return None,
    })
}

/// The stored value of a small integer element, sign-extended; `None`
/// for the small float types.
fn small_int_value(dtype: DType, byte: u8) -> Option<i64> {
    Some(match dtype {
        DType::I4 => (((byte << 4) as i8) >> 4) as i64,
        DType::I2 => (((byte << 6) as i8) >> 6) as i64,
        DType::U4 => (byte & 0x0f) as i64,
        DType::U2 => (byte & 0x03) as i64,
        _ => return None,
    })
}

/// One element as a number.
pub(crate) fn to_f64(dtype: DType, byte: u8) -> f64 {
    if let Some(value) = small_int_value(dtype, byte) {
        return value as f64;
    }
    match dtype {
        DType::F8E8M0 => {
            if byte == 0xff {
                f64::NAN
            } else {
                (2f64).powi(byte as i32 - 127)
            }
        }
        _ => match format(dtype) {
            Some(f) => float_value(&f, byte),
            None => f64::NAN,
        },
    }
}

fn float_value(f: &Format, byte: u8) -> f64 {
    let width = 1 + f.exponent + f.mantissa;
    let byte = byte & ((1u16 << width) - 1) as u8;
    let sign_bit = 1u8 << (width - 1);
    if f.fnuz && byte == 0x80 {
        return f64::NAN;
    }
    if f.fn_nan && byte & 0x7f == 0x7f {
        return f64::NAN;
    }
    let exp = ((byte >> f.mantissa) as u32) & ((1 << f.exponent) - 1);
    let mant = (byte as u32) & ((1 << f.mantissa) - 1);
    if f.ieee && exp == (1 << f.exponent) - 1 {
        return if mant == 0 {
            if byte & sign_bit != 0 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        } else {
            f64::NAN
        };
    }
    let magnitude = if exp == 0 {
        mant as f64 * (2f64).powi(1 - f.bias - f.mantissa as i32)
    } else {
        (1.0 + mant as f64 / (1u32 << f.mantissa) as f64) * (2f64).powi(exp as i32 - f.bias)
    };
    if byte & sign_bit != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// A number rounded into one element of `dtype`. `saturate` clamps
/// out-of-range values (and infinities) of the small floats to the largest
/// finite value; without it they become infinity or NaN. Integers out of
/// range wrap (their low bits), NaN becomes 0, as `ml_dtypes` 0.5 converts.
pub(crate) fn from_f64(dtype: DType, x: f64, saturate: bool) -> u8 {
    match dtype {
        DType::I4 => small_int(x, -8, 7) as u8 & 0x0f,
        DType::U4 => small_int(x, 0, 15) as u8,
        DType::I2 => small_int(x, -2, 1) as u8 & 0x03,
        DType::U2 => small_int(x, 0, 3) as u8,
        DType::F8E8M0 => e8m0(x as f32, saturate, RoundMode::Up),
        _ => match format(dtype) {
            Some(f) => float_bits(&f, x, saturate),
            None => 0,
        },
    }
}

/// An integer narrowed to a small integer type: its low bits, as C casts.
pub(crate) fn from_i64(dtype: DType, x: i64) -> u8 {
    match dtype {
        DType::I4 | DType::U4 => x as u8 & 0x0f,
        DType::I2 | DType::U2 => x as u8 & 0x03,
        other => from_f64(other, x as f64, true),
    }
}

/// One element as an integer: small integers exact, small floats truncated.
pub(crate) fn to_i64(dtype: DType, byte: u8) -> i64 {
    small_int_value(dtype, byte).unwrap_or_else(|| to_f64(dtype, byte) as i64)
}

fn small_int(x: f64, lo: i64, hi: i64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    // Truncated, then wrapped into the type's range (its low bits, as a C
    // cast and onnx's reference through ml_dtypes 0.5 do).
    let span = hi - lo + 1;
    (x.trunc() as i64 - lo).rem_euclid(span) + lo
}

fn float_bits(f: &Format, x: f64, saturate: bool) -> u8 {
    let width = 1 + f.exponent + f.mantissa;
    let sign_bit = 1u8 << (width - 1);
    let nan = if f.fnuz {
        0x80
    } else if f.fn_nan || f.ieee {
        0x7f
    } else {
        // E2M1 has no NaN: ml_dtypes writes a negative zero.
        sign_bit
    };
    let negative = x.is_sign_negative();
    let sign = if negative { sign_bit } else { 0 };
    if x.is_nan() {
        return if f.fnuz || !(f.fn_nan || f.ieee) {
            nan
        } else {
            nan | sign
        };
    }
    let max_bits = encode_finite(f, f.max);
    let overflow = |sign: u8| -> u8 {
        if saturate || !(f.ieee || f.fn_nan || f.fnuz) {
            // E2M1 always saturates (no infinity, no NaN).
            max_bits | sign
        } else if f.ieee {
            (((1u32 << f.exponent) - 1) << f.mantissa) as u8 | sign
        } else if f.fnuz {
            0x80
        } else {
            0x7f | sign
        }
    };
    let a = x.abs();
    if a.is_infinite() {
        return overflow(sign);
    }
    let bits = encode_finite(f, a);
    if bits == 0 {
        // Rounded to zero: fnuz has no negative zero.
        return if f.fnuz { 0 } else { sign };
    }
    if float_value(f, bits).is_nan() || float_value(f, bits) > f.max || bits > max_bits {
        return overflow(sign);
    }
    bits | sign
}

/// The magnitude `a` (finite, >= 0) rounded to nearest even in format `f`,
/// without a sign; may exceed the largest finite value's pattern (the
/// caller treats that as overflow).
fn encode_finite(f: &Format, a: f64) -> u8 {
    if a == 0.0 {
        return 0;
    }
    let m = f.mantissa as i32;
    let min_exp = 1 - f.bias; // exponent of the smallest normal
    // a = q * 2^(e - m) with q in [2^m, 2^(m+1)) for normals.
    let mut e = a.log2().floor() as i32;
    // log2 can be off by one near powers of two: settle it exactly.
    while (2f64).powi(e) > a {
        e -= 1;
    }
    while (2f64).powi(e + 1) <= a {
        e += 1;
    }
    if e < min_exp {
        // Subnormal: fixed spacing 2^(min_exp - m).
        let q = (a / (2f64).powi(min_exp - m)).round_ties_even() as u32;
        if q >= 1 << f.mantissa {
            // Rounded up into the smallest normal.
            return (1u32 << f.mantissa) as u8;
        }
        return q as u8;
    }
    let mut q = (a / (2f64).powi(e - m)).round_ties_even() as u32;
    if q >= 1 << (f.mantissa + 1) {
        q >>= 1;
        e += 1;
    }
    let biased = (e + f.bias) as u32;
    if biased >= 1 << f.exponent {
        return 0xff;
    }
    ((biased << f.mantissa) | (q & ((1 << f.mantissa) - 1))) as u8
}

/// How Cast rounds into E8M0 (`round_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoundMode {
    Up,
    Down,
    Nearest,
}

impl RoundMode {
    pub fn parse(s: &str) -> Result<RoundMode, KernelError> {
        Ok(match s {
            "up" => RoundMode::Up,
            "down" => RoundMode::Down,
            "nearest" => RoundMode::Nearest,
            other => {
                return Err(KernelError::Attribute(format!(
                    "round_mode '{other}' is not up, down or nearest"
                )));
            }
        })
    }
}

/// `onnx.numpy_helper.to_float8e8m0` for one float32.
pub(crate) fn e8m0(x: f32, saturate: bool, mode: RoundMode) -> u8 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as u16;
    if exponent == 0xff {
        return 0xff;
    }
    let round_up = match mode {
        RoundMode::Nearest => {
            let g = bits & 0x40_0000 != 0;
            let r = bits & 0x20_0000 != 0;
            let s = bits & 0x1f_ffff != 0;
            let lsb = exponent > 0;
            g && (r || s || lsb)
        }
        RoundMode::Up => bits & 0x7f_ffff != 0,
        RoundMode::Down => false,
    };
    let up = round_up && !(saturate && exponent == 0xfe);
    (exponent + up as u16) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_floats_round_as_ml_dtypes() {
        // Values and bytes from ml_dtypes 0.7 (non-saturating astype).
        let xs = [
            0.478_925_47,
            1e6,
            1e-7,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1e-7,
            -1e6,
            500.0,
            300.0,
            240.0,
            250.0,
        ];
        let cases: [(DType, [u8; 12]); 4] = [
            (
                DType::F8E4M3Fn,
                [47, 127, 0, 127, 127, 255, 128, 255, 127, 121, 119, 120],
            ),
            (
                DType::F8E4M3Fnuz,
                [55, 128, 0, 128, 128, 128, 0, 128, 128, 128, 127, 128],
            ),
            (
                DType::F8E5M2,
                [56, 124, 0, 126, 124, 252, 128, 252, 96, 93, 92, 92],
            ),
            (
                DType::F8E5M2Fnuz,
                [60, 128, 0, 128, 128, 128, 0, 128, 100, 97, 96, 96],
            ),
        ];
        for (dtype, want) in cases {
            let got: Vec<u8> = xs.iter().map(|&x| from_f64(dtype, x, false)).collect();
            // NaN payloads differ between writers; compare NaN-ness there.
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                let (gv, wv) = (to_f64(dtype, g), to_f64(dtype, w));
                assert!(
                    g == w || (gv.is_nan() && wv.is_nan()),
                    "{dtype} {}: {g} vs {w}",
                    xs[i]
                );
            }
        }
        let f4: Vec<u8> = [
            0.48,
            0.25,
            1.05,
            -3.5,
            -8.0,
            9.0,
            1e6,
            1e-7,
            f64::NAN,
            6.5,
            -4.0,
        ]
        .iter()
        .map(|&x| from_f64(DType::F4E2M1, x, false))
        .collect();
        assert_eq!(f4, [1, 0, 2, 14, 15, 7, 7, 0, 8, 7, 14]);
    }

    #[test]
    fn small_integers_out_of_range_wrap() {
        let got: Vec<i64> = (-9..16)
            .map(|x| to_i64(DType::I4, from_f64(DType::I4, x as f64, false)))
            .collect();
        let mut want = vec![7];
        want.extend(-8..=7);
        want.extend(-8..=-1);
        assert_eq!(got, want);
        assert_eq!(to_i64(DType::U2, from_f64(DType::U2, 5.7, true)), 1);
    }
}
