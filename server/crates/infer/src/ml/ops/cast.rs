//! Type conversions: Cast and CastLike between every element type
//! (strings, the small floats with or without saturation, E8M0's rounding
//! modes), BitCast, and quantization (QuantizeLinear, DequantizeLinear,
//! DynamicQuantizeLinear) per tensor, per axis and per block.

use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::Attrs;
use crate::ml::num::{Num, bad_type, checked_len, float_match, num_match, strides};
use crate::packed::{self, RoundMode};
use crate::value::{DType, Data, Tensor};

/// Cast's and BitCast's `to`: required, and an element type we have.
fn target_type(a: &Attrs, op: &str) -> Result<DType, KernelError> {
    let code = a
        .i("to")
        .ok_or_else(|| KernelError::Attribute(format!("{op} needs 'to'")))?;
    DType::from_onnx(code as i32)
        .ok_or_else(|| KernelError::Unsupported(format!("{op} to type {code} is not supported")))
}

/// (De)QuantizeLinear's `output_dtype`: None when absent or 0 (from the
/// zero point, or the default).
fn output_dtype(a: &Attrs) -> Result<Option<DType>, KernelError> {
    a.i("output_dtype")
        .filter(|&c| c != 0)
        .map(|c| {
            DType::from_onnx(c as i32).ok_or_else(|| KernelError::Type(format!("output_dtype {c}")))
        })
        .transpose()
}

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["Cast"], |_, a, _| {
        let to = target_type(a, "Cast")?;
        let options = CastOptions::from_attrs(a)?;
        op(move |i| one(cast_with(arg(i, 0)?, to, options)?))
    });
    reg.add(&["CastLike"], |_, a, _| {
        let options = CastOptions::from_attrs(a)?;
        op(move |i| one(cast_with(arg(i, 0)?, arg(i, 1)?.dtype(), options)?))
    });
    reg.add(&["BitCast"], |_, a, _| {
        let to = target_type(a, "BitCast")?;
        op(move |i| one(bitcast(arg(i, 0)?, to)?))
    });
    reg.add(&["QuantizeLinear"], |_, a, _| {
        let q = Quant::from_attrs(a)?;
        let out = output_dtype(a)?;
        let saturate = a.i("saturate").unwrap_or(1) != 0;
        let precision = a
            .i("precision")
            .filter(|&c| c != 0)
            .and_then(|c| DType::from_onnx(c as i32));
        op(move |i| {
            let zero = opt(i, 2)?;
            let to = zero.map(|z| z.dtype()).or(out).unwrap_or(DType::U8);
            one(quantize(
                arg(i, 0)?,
                arg(i, 1)?,
                zero,
                &q,
                to,
                saturate,
                precision,
            )?)
        })
    });
    reg.add(&["DequantizeLinear"], |_, a, _| {
        let q = Quant::from_attrs(a)?;
        let out = output_dtype(a)?;
        op(move |i| {
            let scale = arg(i, 1)?;
            one(dequantize(
                arg(i, 0)?,
                scale,
                opt(i, 2)?,
                &q,
                out.unwrap_or(scale.dtype()),
            )?)
        })
    });
    reg.add(&["DynamicQuantizeLinear"], |_, _, _| {
        op(|i| dynamic_quantize(arg(i, 0)?))
    });
}

/// Cast's attributes beyond `to`.
#[derive(Clone, Copy)]
pub(crate) struct CastOptions {
    saturate: bool,
    round: RoundMode,
}

impl CastOptions {
    fn from_attrs(a: &crate::ml::Attrs) -> Result<CastOptions, KernelError> {
        Ok(CastOptions {
            saturate: a.i("saturate").unwrap_or(1) != 0,
            round: RoundMode::parse(&a.s_or("round_mode", "up"))?,
        })
    }
}

/// Cast with the defaults (saturating, E8M0 rounding up).
pub(crate) fn cast(t: &Tensor, to: DType) -> Result<Tensor, KernelError> {
    cast_with(
        t,
        to,
        CastOptions {
            saturate: true,
            round: RoundMode::Up,
        },
    )
}

fn cast_with(t: &Tensor, to: DType, options: CastOptions) -> Result<Tensor, KernelError> {
    if t.dtype() == to {
        return Ok(t.clone());
    }
    let data = match (&t.data, to) {
        (Data::Str(v), _) => {
            let parsed = v
                .iter()
                .map(|s| parse_number(s))
                .collect::<Result<Vec<f64>, _>>()?;
            if to.is_int() {
                // Integers parse exactly when they are integers.
                let ints: Result<Vec<i64>, _> = v.iter().map(|s| s.trim().parse::<i64>()).collect();
                match ints {
                    Ok(ints) => Data::from_i64(to, ints),
                    Err(_) => Data::from_f64(to, parsed),
                }
            } else {
                Data::from_f64(to, parsed)
            }
        }
        (d, DType::Str) => Data::Str(to_strings(d)),
        (Data::U64(v), to) if !to.is_int() => {
            Data::from_f64(to, v.iter().map(|&x| x as f64).collect())
        }
        (d, to) if d.dtype().is_int() || d.dtype() == DType::Bool => {
            if to.is_small_float() {
                small_floats(d.to_f64().unwrap_or_default(), to, options)
            } else {
                Data::from_i64(to, d.to_i64().unwrap_or_default())
            }
        }
        (d, to) => {
            let v = d.to_f64().ok_or_else(|| bad_type("Cast", d.dtype()))?;
            if to.is_packed() {
                small_floats(v, to, options)
            } else {
                Data::from_f64(to, v)
            }
        }
    };
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
}

/// Numbers into an 8-, 4- or 2-bit type, honouring `saturate` and E8M0's
/// rounding mode.
fn small_floats(v: Vec<f64>, to: DType, options: CastOptions) -> Data {
    let bytes = v
        .into_iter()
        .map(|x| match to {
            DType::F8E8M0 => packed::e8m0(x as f32, options.saturate, options.round),
            _ => packed::from_f64(to, x, options.saturate),
        })
        .collect();
    Data::Packed(to, bytes)
}

fn parse_number(s: &str) -> Result<f64, KernelError> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" | "+nan" | "-nan" => return Ok(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => return Ok(f64::INFINITY),
        "-inf" | "-infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    t.parse::<f64>()
        .map_err(|_| KernelError::Type(format!("the string {s:?} is not a number")))
}

/// Numbers as text, as the evaluator always wrote them (the ML conformance
/// cases check this against onnxruntime): a float's value as f64 in its
/// shortest text, `NaN`, `INF`, `-INF`; bools as 0/1.
fn to_strings(d: &Data) -> Vec<String> {
    match d {
        Data::Bool(v) => v.iter().map(|&b| (b as u8).to_string()).collect(),
        Data::U64(v) => v.iter().map(|x| x.to_string()).collect(),
        d if d.dtype().is_int() => d
            .to_i64()
            .unwrap_or_default()
            .iter()
            .map(|x| x.to_string())
            .collect(),
        d => d
            .to_f64()
            .unwrap_or_default()
            .into_iter()
            .map(format_float)
            .collect(),
    }
}

fn format_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "INF".into() } else { "-INF".into() }
    } else {
        format!("{x}")
    }
}

/// Reinterprets the bits of each element as `to` (same width).
fn bitcast(t: &Tensor, to: DType) -> Result<Tensor, KernelError> {
    let from = t.dtype();
    let (wf, wt) = (
        neuride_onnx::dtype::bits(from.onnx_code()),
        neuride_onnx::dtype::bits(to.onnx_code()),
    );
    if from == DType::Str || to == DType::Str || wf != wt || wf.is_none() {
        return Err(KernelError::Value(format!(
            "BitCast from {from} to {to}: the widths must match"
        )));
    }
    let raw = crate::tensor_proto::raw_bytes(&t.data)
        .ok_or_else(|| KernelError::Value("BitCast of strings".to_owned()))?;
    let proto = neuride_onnx::proto::TensorProto {
        dims: t.shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(to.onnx_code()),
        raw_data: Some(raw.into()),
        ..Default::default()
    };
    crate::tensor_proto::decode(&proto)
}

// ---------------------------------------------------------------- quantization

/// Where a quantization parameter applies: `axis` and `block_size`.
struct Quant {
    axis: i64,
    block: usize,
}

impl Quant {
    fn from_attrs(a: &crate::ml::Attrs) -> Result<Quant, KernelError> {
        Ok(Quant {
            axis: a.i("axis").unwrap_or(1),
            block: usize::try_from(a.i("block_size").unwrap_or(0))
                .map_err(|_| KernelError::Shape("block_size must not be negative".to_owned()))?,
        })
    }

    /// For each element of `x` (shape `shape`), the index of its parameter
    /// in `param`: per tensor, per axis, or per block along the axis.
    fn index(&self, shape: &[usize], param: &Tensor) -> Result<Vec<usize>, KernelError> {
        let n = checked_len(shape)?;
        if param.len() == 1 {
            return Ok(vec![0; n]);
        }
        let axis = crate::ml::num::axis(self.axis, shape.len())?;
        let xs = strides(shape);
        if self.block == 0 {
            if param.shape.len() != 1 || param.len() != shape[axis] {
                return Err(KernelError::Shape(format!(
                    "a per-axis parameter of shape {:?} for axis {axis} of {shape:?}",
                    param.shape
                )));
            }
            return Ok((0..n).map(|k| (k / xs[axis]) % shape[axis]).collect());
        }
        if param.shape.len() != shape.len()
            || param.shape[axis] != shape[axis].div_ceil(self.block)
            || (0..shape.len()).any(|d| d != axis && param.shape[d] != shape[d])
        {
            return Err(KernelError::Shape(format!(
                "a blocked parameter of shape {:?} for {shape:?} (axis {axis}, block {})",
                param.shape, self.block
            )));
        }
        let ps = strides(&param.shape);
        Ok((0..n)
            .map(|k| {
                (0..shape.len())
                    .map(|d| {
                        let c = (k / xs[d]) % shape[d];
                        let c = if d == axis { c / self.block } else { c };
                        c * ps[d]
                    })
                    .sum()
            })
            .collect())
    }
}

/// The integer range of a quantized integer type.
fn int_range(to: DType) -> Option<(i64, i64)> {
    Some(match to {
        DType::U8 => (0, 255),
        DType::I8 => (-128, 127),
        DType::U16 => (0, 65535),
        DType::I16 => (-32768, 32767),
        DType::U4 => (0, 15),
        DType::I4 => (-8, 7),
        DType::U2 => (0, 3),
        DType::I2 => (-2, 1),
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        _ => return None,
    })
}

fn quantize(
    x: &Tensor,
    scale: &Tensor,
    zero: Option<&Tensor>,
    q: &Quant,
    to: DType,
    saturate: bool,
    precision: Option<DType>,
) -> Result<Tensor, KernelError> {
    let si = q.index(&x.shape, scale)?;
    // x / scale in the input's own type (or `precision`), as the reference divides.
    let ratio: Vec<f64> = match precision {
        Some(p) => {
            let xp = cast(x, p)?;
            let sp = cast(scale, p)?;
            divide(&xp, &sp, &si)?
        }
        None => divide(x, scale, &si)?,
    };
    let zero_values = match zero {
        Some(z) => Some((
            z.data
                .to_f64()
                .ok_or_else(|| KernelError::Value("zero point".to_owned()))?,
            q.index(&x.shape, z)?,
        )),
        None => None,
    };
    let zp = |k: usize| zero_values.as_ref().map_or(0.0, |(v, i)| v[i[k]]);
    let data = if let Some((lo, hi)) = int_range(to) {
        let v: Vec<i64> = ratio
            .iter()
            .enumerate()
            .map(|(k, &r)| {
                let xi = r.round_ties_even() as i64 + zp(k) as i64;
                xi.clamp(lo, hi)
            })
            .collect();
        Data::from_i64(to, v)
    } else if to == DType::F4E2M1 {
        let v: Vec<f64> = ratio.iter().enumerate().map(|(k, &r)| r + zp(k)).collect();
        small_floats(
            v,
            to,
            CastOptions {
                saturate: true,
                round: RoundMode::Up,
            },
        )
    } else if to.is_small_float() {
        small_floats(
            ratio,
            to,
            CastOptions {
                saturate,
                round: RoundMode::Up,
            },
        )
    } else {
        return Err(KernelError::Type(format!(
            "QuantizeLinear to {to} is not a quantized type"
        )));
    };
    Ok(Tensor {
        shape: x.shape.clone(),
        data,
    })
}

/// x / scale element-wise, in x's type, as f64.
fn divide(x: &Tensor, scale: &Tensor, si: &[usize]) -> Result<Vec<f64>, KernelError> {
    fn go<T: Num>(v: &[T], scale: &Tensor, si: &[usize]) -> Result<Vec<f64>, KernelError> {
        let s: Vec<T> = match T::view(&scale.data) {
            Some(s) => s.to_vec(),
            None => scale
                .data
                .to_f64()
                .ok_or_else(|| KernelError::Value("scale".to_owned()))?
                .into_iter()
                .map(T::from_f64)
                .collect(),
        };
        v.iter()
            .zip(si)
            .map(|(&a, &k)| Ok(a.div(s[k])?.to_f64()))
            .collect()
    }
    float_match!(&x.data, v => go(v, scale, si), {
        num_match!(&x.data, v => go(v, scale, si), Err(bad_type("QuantizeLinear", x.dtype())))
    })
}

fn dequantize(
    x: &Tensor,
    scale: &Tensor,
    zero: Option<&Tensor>,
    q: &Quant,
    to: DType,
) -> Result<Tensor, KernelError> {
    let si = q.index(&x.shape, scale)?;
    let xv = x
        .data
        .to_f64()
        .ok_or_else(|| bad_type("DequantizeLinear", x.dtype()))?;
    let sv = scale
        .data
        .to_f64()
        .ok_or_else(|| KernelError::Value("scale".to_owned()))?;
    let zero = match zero {
        // Small floats carry no zero point (it must be 0).
        Some(z) if !x.dtype().is_small_float() => Some((
            z.data
                .to_f64()
                .ok_or_else(|| KernelError::Value("zero point".to_owned()))?,
            q.index(&x.shape, z)?,
        )),
        _ => None,
    };
    let v: Vec<f64> = xv
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let dx = (v - zero.as_ref().map_or(0.0, |(z, i)| z[i[k]])) as f32;
            (dx * sv[si[k]] as f32) as f64
        })
        .collect();
    Ok(Tensor {
        shape: x.shape.clone(),
        data: Data::from_f64(to, v),
    })
}

fn dynamic_quantize(x: &Tensor) -> Result<Vec<crate::value::Value>, KernelError> {
    let v = x
        .data
        .to_f32()
        .ok_or_else(|| bad_type("DynamicQuantizeLinear", x.dtype()))?;
    let maxx = v.iter().copied().fold(0f32, f32::max);
    let minx = v.iter().copied().fold(0f32, f32::min);
    let scale = if maxx == minx { 1.0 } else { maxx - minx } / 255.0;
    let zp = (0.0 - minx / scale).clamp(0.0, 255.0).round_ties_even();
    let y: Vec<u8> = v
        .iter()
        .map(|&x| ((x / scale).round_ties_even() + zp).clamp(0.0, 255.0) as u8)
        .collect();
    Ok(vec![
        Tensor {
            shape: x.shape.clone(),
            data: Data::U8(y),
        }
        .into(),
        Tensor {
            shape: vec![],
            data: Data::from_f64(x.dtype(), vec![scale as f64]),
        }
        .into(),
        Tensor {
            shape: vec![],
            data: Data::U8(vec![zp as u8]),
        }
        .into(),
    ])
}
