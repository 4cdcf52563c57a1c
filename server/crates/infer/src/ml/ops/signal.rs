//! Signal processing: DFT (forward, inverse, one-sided, any axis and
//! length), STFT, the Hann, Hamming and Blackman windows, MelWeightMatrix.
//! Transforms are direct sums in f64.

use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::num::{axis, floats, index_below, ints, tensor_f64};
use crate::value::{DType, Tensor};
use std::f64::consts::PI;

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["DFT"], |_, a, opset| {
        let attr_axis = a.i("axis").unwrap_or(if opset >= 20 { -2 } else { 1 });
        let inverse = a.i("inverse").unwrap_or(0) != 0;
        let onesided = a.i("onesided").unwrap_or(0) != 0;
        op(move |i| {
            let x = arg(i, 0)?;
            let len = opt(i, 1)?
                .filter(|t| !t.is_empty())
                .map(|t| ints(t).map(|v| v[0]))
                .transpose()?;
            let ax = match opt(i, 2)? {
                Some(t) if opset >= 20 => ints(t)?[0],
                _ => attr_axis,
            };
            one(dft(x, len, ax, inverse, onesided)?)
        })
    });
    reg.add(&["STFT"], |_, a, _| {
        let onesided = a.i("onesided").unwrap_or(1) != 0;
        op(move |i| {
            let x = arg(i, 0)?;
            let step = ints(arg(i, 1)?)?[0];
            let window = opt(i, 2)?.map(|w| floats(w, "window")).transpose()?;
            let frame = opt(i, 3)?.map(|t| ints(t).map(|v| v[0])).transpose()?;
            one(stft(x, step, window, frame, onesided)?)
        })
    });
    reg.add(
        &["HannWindow", "HammingWindow", "BlackmanWindow"],
        |name, a, _| {
            let periodic = a.i("periodic").unwrap_or(1) != 0;
            let dtype = DType::from_onnx(a.i("output_datatype").unwrap_or(1) as i32)
                .ok_or_else(|| KernelError::Attribute("output_datatype".to_owned()))?;
            let kind = name.to_owned();
            op(move |i| {
                let size = ints(arg(i, 0)?)?[0].max(0) as usize;
                let n = if periodic {
                    size as f64
                } else {
                    size as f64 - 1.0
                };
                let v: Vec<f64> = (0..size)
                    .map(|k| {
                        let t = 2.0 * PI * k as f64 / n;
                        match kind.as_str() {
                            "HannWindow" => 0.5 - 0.5 * t.cos(),
                            "HammingWindow" => 25.0 / 46.0 - (1.0 - 25.0 / 46.0) * t.cos(),
                            _ => 0.42 - 0.5 * t.cos() + 0.08 * (2.0 * t).cos(),
                        }
                    })
                    .collect();
                one(tensor_f64(vec![size], dtype, v))
            })
        },
    );
    reg.add(&["MelWeightMatrix"], |_, a, _| {
        let dtype = DType::from_onnx(a.i("output_datatype").unwrap_or(1) as i32)
            .ok_or_else(|| KernelError::Attribute("output_datatype".to_owned()))?;
        op(move |i| {
            let bins = ints(arg(i, 0)?)?[0].max(0) as usize;
            let dft_len = ints(arg(i, 1)?)?[0];
            let rate = ints(arg(i, 2)?)?[0];
            let lo = floats(arg(i, 3)?, "lower_edge_hertz")?[0];
            let hi = floats(arg(i, 4)?, "upper_edge_hertz")?[0];
            let spec_bins = (dft_len / 2 + 1) as usize;
            let mel = |f: f64| 2595.0 * (f / 700.0).ln_1p() / 10f64.ln();
            let (lm, hm) = (mel(lo), mel(hi));
            let step = (hm - lm) / (bins + 2) as f64;
            let freq: Vec<i64> = (0..bins + 2)
                .map(|k| {
                    let m = k as f64 * step + lm;
                    let hz = 700.0 * (m / 2595.0 * 10f64.ln()).exp_m1();
                    (((dft_len + 1) as f64 * hz) / rate as f64).floor() as i64
                })
                .collect();
            let mut out = vec![0f64; spec_bins * bins];
            let mut set = |j: i64, k: usize, v: f64| {
                if let Some(o) = index_below(j, spec_bins).map(|j| j * bins + k) {
                    out[o] = v;
                }
            };
            for k in 0..bins {
                let (l, c, h) = (freq[k], freq[k + 1], freq[k + 2]);
                if c == l {
                    set(c, k, 1.0);
                } else {
                    for j in l..=c {
                        set(j, k, (j - l) as f64 / (c - l) as f64);
                    }
                }
                if h > c {
                    for j in c..h {
                        set(j, k, (h - j) as f64 / (h - c) as f64);
                    }
                }
            }
            one(tensor_f64(vec![spec_bins, bins], dtype, out))
        })
    });
}

/// The complex values of `x` (last axis 1: real, 2: real and imaginary).
fn complex(x: &Tensor) -> Result<Vec<(f64, f64)>, KernelError> {
    let v = floats(x, "DFT")?;
    match x.shape.last() {
        Some(1) => Ok(v.into_iter().map(|r| (r, 0.0)).collect()),
        Some(2) => Ok(v.chunks(2).map(|c| (c[0], c[1])).collect()),
        _ => Err(KernelError::Shape(format!(
            "a signal of shape {:?}: the last axis must be 1 or 2",
            x.shape
        ))),
    }
}

/// One transform of `input` (length n_in, complex) into `n_out` values of
/// a length-`len` DFT: zero-padded or truncated to `len`.
fn transform(input: &[(f64, f64)], len: usize, n_out: usize, inverse: bool) -> Vec<(f64, f64)> {
    let sign = if inverse { 1.0 } else { -1.0 };
    let n = input.len().min(len);
    (0..n_out)
        .map(|k| {
            let mut acc = (0.0, 0.0);
            for (t, &(re, im)) in input.iter().take(n).enumerate() {
                let ang = sign * 2.0 * PI * (k * t % len.max(1)) as f64 / len as f64;
                let (c, s) = (ang.cos(), ang.sin());
                acc.0 += re * c - im * s;
                acc.1 += re * s + im * c;
            }
            if inverse {
                (acc.0 / len as f64, acc.1 / len as f64)
            } else {
                acc
            }
        })
        .collect()
}

fn dft(
    x: &Tensor,
    len: Option<i64>,
    ax: i64,
    inverse: bool,
    onesided: bool,
) -> Result<Tensor, KernelError> {
    let rank = x.shape.len();
    let a = axis(ax, rank)?;
    if a == rank - 1 {
        return Err(KernelError::Shape(
            "DFT's axis cannot be the last (complex) axis".to_owned(),
        ));
    }
    let n_in = x.shape[a];
    let len = match len {
        Some(l) => usize::try_from(l).map_err(|_| KernelError::Shape(format!("dft_length {l}")))?,
        None if inverse && onesided => 2 * (n_in.max(1) - 1),
        None => n_in,
    };
    let values = complex(x)?;
    let outer: usize = x.shape[..a].iter().product();
    let inner: usize = x.shape[a + 1..rank - 1].iter().product();
    let (n_out, real_out) = if inverse && onesided {
        (len, true)
    } else if onesided {
        (len / 2 + 1, false)
    } else {
        (len, false)
    };
    let width = if real_out { 1 } else { 2 };
    let mut out = vec![0f64; outer * n_out * inner * width];
    for o in 0..outer {
        for j in 0..inner {
            let mut line: Vec<(f64, f64)> = (0..n_in)
                .map(|t| values[(o * n_in + t) * inner + j])
                .collect();
            if real_out {
                // irfft: rebuild the Hermitian spectrum from the half given.
                line.truncate(len / 2 + 1);
                line.resize(len / 2 + 1, (0.0, 0.0));
                let mut full = line.clone();
                for k in (len / 2 + 1)..len {
                    let (re, im) = line[len - k];
                    full.push((re, -im));
                }
                if len % 2 == 0 && len > 0 {
                    full[len / 2].1 = 0.0;
                }
                full[0].1 = 0.0;
                line = full;
            }
            let res = transform(&line, len, n_out, inverse);
            for (k, (re, im)) in res.into_iter().enumerate() {
                let at = ((o * n_out + k) * inner + j) * width;
                out[at] = re;
                if !real_out {
                    out[at + 1] = im;
                }
            }
        }
    }
    let mut shape = x.shape.clone();
    shape[a] = n_out;
    shape[rank - 1] = width;
    Ok(tensor_f64(shape, x.dtype(), out))
}

fn stft(
    x: &Tensor,
    step: i64,
    window: Option<Vec<f64>>,
    frame: Option<i64>,
    onesided: bool,
) -> Result<Tensor, KernelError> {
    if x.shape.len() != 3 {
        return Err(KernelError::Shape(format!(
            "STFT's signal {:?}: (batch, length, 1|2) expected",
            x.shape
        )));
    }
    let (batch, length) = (x.shape[0], x.shape[1]);
    let frame_len = match (frame, &window) {
        (Some(f), _) => f as usize,
        (None, Some(w)) => w.len(),
        (None, None) => {
            return Err(KernelError::Attribute(
                "STFT needs a window or a frame_length".to_owned(),
            ));
        }
    };
    let step = usize::try_from(step)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| KernelError::Attribute("frame_step must be positive".to_owned()))?;
    if frame_len > length || frame_len == 0 {
        return Err(KernelError::Shape(format!(
            "frame_length {frame_len} for a signal of {length}"
        )));
    }
    let frames = 1 + (length - frame_len) / step;
    let values = complex(x)?;
    let n_out = if onesided {
        frame_len / 2 + 1
    } else {
        frame_len
    };
    let mut out = vec![0f64; batch * frames * n_out * 2];
    for b in 0..batch {
        for f in 0..frames {
            let seg: Vec<(f64, f64)> = (0..frame_len)
                .map(|t| {
                    let (re, im) = values[b * length + f * step + t];
                    let w = window
                        .as_ref()
                        .map_or(1.0, |w| w.get(t).copied().unwrap_or(0.0));
                    (re * w, im * w)
                })
                .collect();
            for (k, (re, im)) in transform(&seg, frame_len, n_out, false)
                .into_iter()
                .enumerate()
            {
                let at = ((b * frames + f) * n_out + k) * 2;
                out[at] = re;
                out[at + 1] = im;
            }
        }
    }
    Ok(tensor_f64(vec![batch, frames, n_out, 2], x.dtype(), out))
}
