//! Numbers as C++ `std::to_chars` writes them (what `onnx.printer` uses):
//! the shortest digits that round-trip, in fixed or scientific notation,
//! whichever is shorter (fixed on a tie); `inf`, `-inf`, `nan`, `-0`.

/// Formats an `f32` as `to_chars(float)` does.
pub fn f32_text(v: f32) -> String {
    match special(v.is_nan(), v.is_infinite(), v.is_sign_negative()) {
        Some(text) => text.into(),
        None => shortest(&format!("{v:e}"), v as f64),
    }
}

/// Formats an `f64` as `to_chars(double)` does.
pub fn f64_text(v: f64) -> String {
    match special(v.is_nan(), v.is_infinite(), v.is_sign_negative()) {
        Some(text) => text.into(),
        None => shortest(&format!("{v:e}"), v),
    }
}

/// `nan`, `-nan`, `inf` or `-inf` for the values that have no digits.
fn special(nan: bool, infinite: bool, negative: bool) -> Option<&'static str> {
    match (nan, infinite, negative) {
        (true, _, false) => Some("nan"),
        (true, _, true) => Some("-nan"),
        (false, true, false) => Some("inf"),
        (false, true, true) => Some("-inf"),
        (false, false, _) => None,
    }
}

/// `sci` is Rust's shortest round-trip scientific form (`-1.25e-3`); `exact`
/// the value, needed when fixed notation shows more integer digits than
/// the shortest form has (to_chars then prints the exact integer).
fn shortest(sci: &str, exact: f64) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let scientific = {
        let mut s = String::from(sign);
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            s.push('0');
        }
        s.push_str(&e.to_string());
        s
    };
    let fixed = if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            // Integer-valued: the exact integer (f32/f64 at this size are integers).
            let exact_int = exact.abs();
            if exact_int < 1e38 {
                format!("{sign}{}", exact_int as u128)
            } else {
                format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
            }
        } else {
            format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
        }
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    if fixed.len() <= scientific.len() {
        fixed
    } else {
        scientific
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_to_chars() {
        let cases: &[(f32, &str)] = &[
            (1e-5, "1e-05"),
            (1e20, "1e+20"),
            (123456789.0, "123456792"),
            (0.1, "0.1"),
            (3.0, "3"),
            (-0.0, "-0"),
            (-0.0009358525, "-0.0009358525"),
            (0.079048924, "0.079048924"),
            (1e-7, "1e-07"),
            (1000.0, "1000"),
            (1.5e10, "1.5e+10"),
            (0.0001, "1e-04"),
            (0.00012, "0.00012"),
            (3.4028235e38, "3.4028235e+38"),
            (1e15, "1e+15"),
            (0.000125, "0.000125"),
            (65504.0, "65504"),
            (1234567.0, "1234567"),
            (12345678.0, "12345678"),
            (1e7, "1e+07"),
        ];
        for (v, want) in cases {
            assert_eq!(f32_text(*v), *want, "{v}");
        }
        assert_eq!(f64_text(1e-5), "1e-05");
        assert_eq!(f64_text(0.1), "0.1");
        assert_eq!(f64_text(f64::INFINITY), "inf");
    }
}
