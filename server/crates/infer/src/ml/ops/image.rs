//! Sampling: Resize and Upsample (every mode, coordinate transformation,
//! nearest rounding, antialiasing, axes and aspect-ratio policy, one axis
//! at a time as ONNX's reference resizes), GridSample, AffineGrid,
//! RoiAlign, NonMaxSuppression.

use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::num::{checked_len, floats, index_below, ints, strides, tensor_f64};
use crate::value::{DType, Data, Tensor};

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["Resize", "Upsample"], |name, a, opset| {
        let legacy = name == "Upsample" || opset < 11;
        let spec = ResizeSpec {
            mode: a.s_or("mode", "nearest"),
            coord: if legacy {
                "asymmetric".into()
            } else {
                a.s_or("coordinate_transformation_mode", "half_pixel")
            },
            nearest: if legacy {
                "floor".into()
            } else {
                a.s_or("nearest_mode", "round_prefer_floor")
            },
            cubic_a: a.f("cubic_coeff_a").unwrap_or(-0.75) as f64,
            exclude_outside: a.i("exclude_outside").unwrap_or(0) != 0,
            extrapolation: a.f("extrapolation_value").unwrap_or(0.0) as f64,
            antialias: a.i("antialias").unwrap_or(0) != 0,
            axes: a.ints("axes"),
            policy: a.s_or("keep_aspect_ratio_policy", "stretch"),
        };
        if !matches!(
            spec.mode.as_str(),
            "nearest" | "linear" | "bilinear" | "cubic"
        ) {
            return Err(KernelError::Attribute(format!("mode '{}'", spec.mode)));
        }
        let attr_scales = a.floats("scales");
        op(move |i| {
            let x = arg(i, 0)?;
            let (roi, scales, sizes) = if legacy {
                let s = match opt(i, 1)? {
                    Some(s) => floats(s, "scales")?,
                    None => attr_scales
                        .clone()
                        .ok_or_else(|| KernelError::Attribute("Upsample needs scales".to_owned()))?
                        .iter()
                        .map(|&v| v as f64)
                        .collect(),
                };
                (None, Some(s), None)
            } else {
                let nonempty = |k: usize| -> Result<Option<&Tensor>, KernelError> {
                    Ok(opt(i, k)?.filter(|t| !t.is_empty()))
                };
                (
                    nonempty(1)?.map(|t| floats(t, "roi")).transpose()?,
                    nonempty(2)?.map(|t| floats(t, "scales")).transpose()?,
                    nonempty(3)?.map(ints).transpose()?,
                )
            };
            one(resize(x, &spec, roi, scales, sizes)?)
        })
    });
    reg.add(&["GridSample"], |_, a, _| {
        let mode = match a.s_or("mode", "bilinear").as_str() {
            "bilinear" | "linear" => 1,
            "nearest" => 0,
            "bicubic" | "cubic" => 2,
            other => return Err(KernelError::Attribute(format!("mode '{other}'"))),
        };
        let padding = a.s_or("padding_mode", "zeros");
        let align = a.i("align_corners").unwrap_or(0) != 0;
        op(move |i| one(grid_sample(arg(i, 0)?, arg(i, 1)?, mode, &padding, align)?))
    });
    reg.add(&["AffineGrid"], |_, a, _| {
        let align = a.i("align_corners").unwrap_or(0) != 0;
        op(move |i| one(affine_grid(arg(i, 0)?, &ints(arg(i, 1)?)?, align)?))
    });
    reg.add(&["NonMaxSuppression"], |_, a, _| {
        let center = a.i("center_point_box").unwrap_or(0) != 0;
        op(move |i| {
            let (boxes, scores) = (arg(i, 0)?, arg(i, 1)?);
            let scalar = |k: usize| -> Result<Option<f64>, KernelError> {
                Ok(opt(i, k)?
                    .filter(|t| !t.is_empty())
                    .map(|t| floats(t, "threshold"))
                    .transpose()?
                    .map(|v| v[0]))
            };
            let max = scalar(2)?.unwrap_or(0.0) as i64;
            let iou = scalar(3)?.unwrap_or(0.0);
            let score = scalar(4)?;
            one(nms(boxes, scores, max, iou, score, center)?)
        })
    });
    reg.add(&["RoiAlign"], |_, a, opset| {
        let spec = RoiSpec {
            max: a.s_or("mode", "avg") == "max",
            out_h: a.i("output_height").unwrap_or(1).max(1) as usize,
            out_w: a.i("output_width").unwrap_or(1).max(1) as usize,
            ratio: a.i("sampling_ratio").unwrap_or(0),
            scale: a.f("spatial_scale").unwrap_or(1.0) as f64,
            half_pixel: opset >= 16
                && a.s_or("coordinate_transformation_mode", "half_pixel") == "half_pixel",
        };
        op(move |i| {
            one(roi_align(
                arg(i, 0)?,
                arg(i, 1)?,
                &ints(arg(i, 2)?)?,
                &spec,
            )?)
        })
    });
}

struct ResizeSpec {
    mode: String,
    coord: String,
    nearest: String,
    cubic_a: f64,
    exclude_outside: bool,
    extrapolation: f64,
    antialias: bool,
    axes: Option<Vec<i64>>,
    policy: String,
}

impl ResizeSpec {
    /// The interpolation weights for a fractional position `ratio`
    /// (1 when the source coordinate is an integer) and a scale.
    fn coeffs(&self, ratio: f64, scale: f64) -> Vec<f64> {
        match self.mode.as_str() {
            "nearest" => {
                // `ratio` is 1 at an integer source coordinate, else in (0, 1).
                let up = ratio == 1.0
                    || match self.nearest.as_str() {
                        "round_prefer_ceil" => ratio >= 0.5,
                        "floor" => false,
                        "ceil" => true,
                        _ => ratio > 0.5,
                    };
                if up { vec![0.0, 1.0] } else { vec![1.0, 0.0] }
            }
            "cubic" => {
                let a = self.cubic_a;
                if self.antialias {
                    let s = scale.min(1.0);
                    let start = (-2.0 / s).floor() as i64 + 1;
                    let end = 2 - start;
                    let c: Vec<f64> = (start..end)
                        .map(|k| {
                            let x = (s * (k as f64 - ratio)).abs();
                            if x <= 1.0 {
                                (a + 2.0) * x * x * x - (a + 3.0) * x * x + 1.0
                            } else if x < 2.0 {
                                a * x * x * x - 5.0 * a * x * x + 8.0 * a * x - 4.0 * a
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    let sum: f64 = c.iter().sum();
                    return c.iter().map(|v| v / sum).collect();
                }
                let r = ratio;
                vec![
                    ((a * (r + 1.0) - 5.0 * a) * (r + 1.0) + 8.0 * a) * (r + 1.0) - 4.0 * a,
                    ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0,
                    ((a + 2.0) * (1.0 - r) - (a + 3.0)) * (1.0 - r) * (1.0 - r) + 1.0,
                    ((a * (2.0 - r) - 5.0 * a) * (2.0 - r) + 8.0 * a) * (2.0 - r) - 4.0 * a,
                ]
            }
            _ => {
                if self.antialias {
                    let s = scale.min(1.0);
                    let start = (-1.0 / s).floor() as i64 + 1;
                    let footprint = 2 - 2 * start;
                    let c: Vec<f64> = (start..start + footprint)
                        .map(|k| (1.0 - ((k as f64 - ratio) * s).abs()).clamp(0.0, 1.0))
                        .collect();
                    let sum: f64 = c.iter().sum();
                    return c.iter().map(|v| v / sum).collect();
                }
                vec![1.0 - ratio, ratio]
            }
        }
    }

    /// The source coordinate of output index `y` and whether it lies
    /// outside the input (tf_crop_and_resize extrapolates there).
    fn source(
        &self,
        y: f64,
        scale: f64,
        input: usize,
        output: usize,
        roi: Option<(f64, f64)>,
    ) -> (f64, bool) {
        let out_w = scale * input as f64;
        let inw = input as f64;
        match self.coord.as_str() {
            "align_corners" => (
                if out_w == 1.0 {
                    0.0
                } else {
                    y * (inw - 1.0) / (out_w - 1.0)
                },
                false,
            ),
            "asymmetric" => (y / scale, false),
            "tf_crop_and_resize" => {
                let (r0, r1) = roi.unwrap_or((0.0, 1.0));
                let x = if out_w == 1.0 {
                    (r1 - r0) * (inw - 1.0) / 2.0
                } else {
                    y * (r1 - r0) * (inw - 1.0) / (out_w - 1.0)
                } + r0 * (inw - 1.0);
                (x, x < 0.0 || x > inw - 1.0)
            }
            "pytorch_half_pixel" => (
                if out_w == 1.0 {
                    -0.5
                } else {
                    (y + 0.5) / scale - 0.5
                },
                false,
            ),
            "half_pixel_symmetric" => {
                let adjustment = output as f64 / out_w;
                let center = inw / 2.0;
                let offset = center * (1.0 - adjustment);
                (offset + (y + 0.5) / scale - 0.5, false)
            }
            _ => ((y + 0.5) / scale - 0.5, false),
        }
    }
}

fn resize(
    x: &Tensor,
    spec: &ResizeSpec,
    roi: Option<Vec<f64>>,
    scales: Option<Vec<f64>>,
    sizes: Option<Vec<i64>>,
) -> Result<Tensor, KernelError> {
    let r = x.shape.len();
    let axes: Vec<usize> = match &spec.axes {
        Some(a) => a
            .iter()
            .map(|&v| crate::ml::num::axis(v, r))
            .collect::<Result<_, _>>()?,
        None => (0..r).collect(),
    };
    let full = |v: &[f64], fill: f64| -> Result<Vec<f64>, KernelError> {
        if v.len() == r && spec.axes.is_none() {
            return Ok(v.to_vec());
        }
        if v.len() != axes.len() {
            return Err(KernelError::Shape(format!(
                "{} values for {} axes",
                v.len(),
                axes.len()
            )));
        }
        let mut out = vec![fill; r];
        for (k, &a) in axes.iter().enumerate() {
            out[a] = v[k];
        }
        Ok(out)
    };
    let roi = match roi {
        Some(v) => {
            let n = v.len() / 2;
            let (b, e) = (full(&v[..n], 0.0)?, full(&v[n..], 1.0)?);
            Some(b.into_iter().zip(e).collect::<Vec<(f64, f64)>>())
        }
        None => None,
    };
    let (scale, out): (Vec<f64>, Vec<usize>) = match (sizes, scales) {
        (Some(sz), _) => {
            let sz = full(&sz.iter().map(|&v| v as f64).collect::<Vec<_>>(), f64::NAN)?;
            let sz: Vec<f64> = sz
                .iter()
                .enumerate()
                .map(|(d, &v)| if v.is_nan() { x.shape[d] as f64 } else { v })
                .collect();
            let mut scale: Vec<f64> = (0..r).map(|d| sz[d] / x.shape[d] as f64).collect();
            let mut out: Vec<usize> = sz.iter().map(|&v| v as usize).collect();
            if spec.policy != "stretch" {
                let picked = axes.iter().map(|&a| scale[a]);
                let s = if spec.policy == "not_larger" {
                    picked.fold(f64::INFINITY, f64::min)
                } else {
                    picked.fold(f64::NEG_INFINITY, f64::max)
                };
                for d in 0..r {
                    if axes.contains(&d) {
                        scale[d] = s;
                        out[d] = (s * x.shape[d] as f64 + 0.5) as usize;
                    } else {
                        scale[d] = 1.0;
                    }
                }
            }
            (scale, out)
        }
        (None, Some(sc)) => {
            let sc = full(&sc, 1.0)?;
            let out = (0..r)
                .map(|d| (sc[d] * x.shape[d] as f64) as usize)
                .collect();
            (sc, out)
        }
        (None, None) => {
            return Err(KernelError::Attribute(
                "Resize needs scales or sizes".to_owned(),
            ));
        }
    };
    checked_len(&out)?;
    let mut shape = x.shape.clone();
    let mut v = floats(x, "Resize")?;
    for &a in &axes {
        let same_roi = roi
            .as_ref()
            .is_none_or(|ro| (ro[a].0 - 0.0).abs() < 1e-9 && (ro[a].1 - 1.0).abs() < 1e-9);
        if (scale[a] - 1.0).abs() < 1e-9 && out[a] == shape[a] && same_roi {
            continue;
        }
        v = resize_axis(
            &v,
            &shape,
            a,
            scale[a],
            out[a],
            spec,
            roi.as_ref().map(|ro| ro[a]),
        );
        shape[a] = out[a];
    }
    // Back into the input's type: integers round and saturate.
    let data = if x.dtype().is_int() {
        let (lo, hi) = int_bounds(x.dtype());
        Data::from_f64(
            x.dtype(),
            v.iter()
                .map(|t| t.round_ties_even().clamp(lo, hi))
                .collect(),
        )
    } else {
        Data::from_f64(x.dtype(), v)
    };
    Ok(Tensor { shape, data })
}

fn int_bounds(d: DType) -> (f64, f64) {
    match d {
        DType::U8 => (0.0, 255.0),
        DType::I8 => (-128.0, 127.0),
        DType::U16 => (0.0, 65535.0),
        DType::I16 => (-32768.0, 32767.0),
        DType::I32 => (i32::MIN as f64, i32::MAX as f64),
        DType::U32 => (0.0, u32::MAX as f64),
        _ => (f64::MIN, f64::MAX),
    }
}

/// One axis resized, the others kept (ONNX's reference resizes separably).
fn resize_axis(
    v: &[f64],
    shape: &[usize],
    a: usize,
    scale: f64,
    out_len: usize,
    spec: &ResizeSpec,
    roi: Option<(f64, f64)>,
) -> Vec<f64> {
    let input = shape[a];
    let (outer, _, inner) = crate::ml::num::split_at(shape, a);
    // Per output index: neighbours (clamped) and weights, or extrapolated.
    let mut plan: Vec<(Vec<(usize, f64)>, bool)> = Vec::with_capacity(out_len);
    for y in 0..out_len {
        let (x, extrapolated) = spec.source(y as f64, scale, input, out_len, roi);
        let base = x.floor();
        let ratio = if x == base { 1.0 } else { x - base };
        let mut coeffs = spec.coeffs(ratio, scale);
        let n = coeffs.len() as i64;
        let pad = (n + 1) / 2;
        let xp = x + pad as f64;
        let p = xp.floor();
        let frac = xp - p;
        let offset = if n % 2 == 0 {
            if frac == 0.0 { -(n / 2) } else { -(n / 2) + 1 }
        } else {
            let b = -((n - 1) / 2);
            if frac <= 0.5 { b } else { b + 1 }
        };
        let start = p as i64 + offset;
        let idx: Vec<i64> = (0..n).map(|k| start + k - pad).collect();
        if spec.exclude_outside {
            for (c, &i) in coeffs.iter_mut().zip(&idx) {
                if i < 0 || i >= input as i64 {
                    *c = 0.0;
                }
            }
            let sum: f64 = coeffs.iter().sum();
            let sum = if sum == 0.0 { 1.0 } else { sum };
            coeffs.iter_mut().for_each(|c| *c /= sum);
        }
        let taps = idx
            .iter()
            .zip(&coeffs)
            .map(|(&i, &c)| (i.clamp(0, input as i64 - 1) as usize, c))
            .collect();
        plan.push((taps, extrapolated));
    }
    let mut out = vec![0f64; outer * out_len * inner];
    for o in 0..outer {
        for (y, (taps, extrapolated)) in plan.iter().enumerate() {
            for j in 0..inner {
                out[(o * out_len + y) * inner + j] = if *extrapolated {
                    spec.extrapolation
                } else {
                    taps.iter()
                        .map(|&(i, c)| c * v[(o * input + i) * inner + j])
                        .sum()
                };
            }
        }
    }
    out
}

// ---------------------------------------------------------------- GridSample

fn reflect(x: f64, lo: f64, hi: f64) -> f64 {
    let range = hi - lo;
    if x < lo {
        let dx = lo - x;
        let n = (dx / range) as i64;
        let r = dx - n as f64 * range;
        if n % 2 == 0 { lo + r } else { hi - r }
    } else if x > hi {
        let dx = x - hi;
        let n = (dx / range) as i64;
        let r = dx - n as f64 * range;
        if n % 2 == 0 { hi - r } else { lo + r }
    } else {
        x
    }
}

fn cubic(x: f64) -> [f64; 4] {
    let a = -0.75;
    let x = x.abs();
    [
        ((a * (x + 1.0) - 5.0 * a) * (x + 1.0) + 8.0 * a) * (x + 1.0) - 4.0 * a,
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
        ((a + 2.0) * (1.0 - x) - (a + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0,
        ((a * (2.0 - x) - 5.0 * a) * (2.0 - x) + 8.0 * a) * (2.0 - x) - 4.0 * a,
    ]
}

fn grid_sample(
    x: &Tensor,
    grid: &Tensor,
    mode: u8,
    padding: &str,
    align: bool,
) -> Result<Tensor, KernelError> {
    let nd = x
        .shape
        .len()
        .checked_sub(2)
        .ok_or_else(|| KernelError::Shape("GridSample of a tensor of rank < 2".to_owned()))?;
    let (n, c) = (x.shape[0], x.shape[1]);
    let dims = &x.shape[2..];
    let out_sp = &grid.shape[1..grid.shape.len() - 1];
    if grid.shape.last() != Some(&nd) {
        return Err(KernelError::Shape(format!(
            "grid {:?} for {nd} spatial axes",
            grid.shape
        )));
    }
    let xv = floats(x, "GridSample")?;
    let gv = floats(grid, "GridSample grid")?;
    let ol: usize = out_sp.iter().product();
    let il: usize = dims.iter().product();
    let is = strides(dims);
    let border: Vec<(f64, f64)> = dims
        .iter()
        .map(|&d| {
            if align {
                (0.0, d as f64 - 1.0)
            } else {
                (-0.5, d as f64 - 0.5)
            }
        })
        .collect();
    // The value at integer coordinates, with the padding rule.
    let pixel = |plane: &[f64], coords: &[i64]| -> f64 {
        let mut at = 0;
        for d in 0..nd {
            let size = dims[d] as i64;
            let mut i = coords[d];
            match padding {
                "zeros" => {
                    if i < 0 || i >= size {
                        return 0.0;
                    }
                }
                "border" => i = i.clamp(0, size - 1),
                _ => i = reflect(i as f64, border[d].0, border[d].1) as i64,
            }
            at += i.clamp(0, size - 1) as usize * is[d];
        }
        plane[at]
    };
    let mut out = vec![0f64; n * c * ol];
    for ni in 0..n {
        for o in 0..ol {
            // Grid holds (x, y[, z]): the last spatial axis first.
            let g = &gv[(ni * ol + o) * nd..(ni * ol + o + 1) * nd];
            let mut pos: Vec<f64> = (0..nd)
                .map(|d| {
                    let v = g[nd - 1 - d];
                    let len = dims[d] as f64;
                    if align {
                        (v + 1.0) / 2.0 * (len - 1.0)
                    } else {
                        ((v + 1.0) * len - 1.0) / 2.0
                    }
                })
                .collect();
            if mode == 0 {
                pos.iter_mut().for_each(|p| *p = p.round_ties_even());
            }
            for d in 0..nd {
                let (lo, hi) = border[d];
                if pos[d] < lo || pos[d] > hi {
                    if padding == "border" {
                        pos[d] = pos[d].clamp(0.0, dims[d] as f64 - 1.0);
                    } else if padding == "reflection" {
                        pos[d] = reflect(pos[d], lo, hi);
                    }
                }
            }
            for ci in 0..c {
                let plane = &xv[(ni * c + ci) * il..(ni * c + ci + 1) * il];
                let value = match mode {
                    0 => pixel(plane, &pos.iter().map(|&p| p as i64).collect::<Vec<_>>()),
                    _ => {
                        // Separable: taps per axis, products of weights.
                        let taps: Vec<Vec<(i64, f64)>> = pos
                            .iter()
                            .map(|&p| {
                                let b = p.floor();
                                let f = p - b;
                                if mode == 1 {
                                    vec![(b as i64, 1.0 - f), (b as i64 + 1, f)]
                                } else {
                                    let w = cubic(f);
                                    (0..4).map(|k| (b as i64 - 1 + k as i64, w[k])).collect()
                                }
                            })
                            .collect();
                        let mut acc = 0.0;
                        let count: usize = taps.iter().map(Vec::len).product();
                        let mut coords = vec![0i64; nd];
                        for k in 0..count {
                            let mut w = 1.0;
                            let mut rest = k;
                            for d in (0..nd).rev() {
                                let (i, wd) = taps[d][rest % taps[d].len()];
                                rest /= taps[d].len();
                                coords[d] = i;
                                w *= wd;
                            }
                            acc += w * pixel(plane, &coords);
                        }
                        acc
                    }
                };
                out[(ni * c + ci) * ol + o] = value;
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend(out_sp);
    Ok(tensor_f64(shape, x.dtype(), out))
}

fn affine_grid(theta: &Tensor, size: &[i64], align: bool) -> Result<Tensor, KernelError> {
    let nd = size
        .len()
        .checked_sub(2)
        .ok_or_else(|| KernelError::Shape("AffineGrid size too short".to_owned()))?;
    if !(nd == 2 || nd == 3) {
        return Err(KernelError::Shape(
            "AffineGrid takes 2-D or 3-D sizes".to_owned(),
        ));
    }
    let n = size[0] as usize;
    let sp: Vec<usize> = size[2..].iter().map(|&d| d.max(0) as usize).collect();
    let tv = floats(theta, "AffineGrid")?;
    let ol: usize = sp.iter().product();
    let ss = strides(&sp);
    let lin = |i: usize, len: usize| -> f64 {
        if align {
            if len <= 1 {
                -1.0
            } else {
                -1.0 + 2.0 * i as f64 / (len - 1) as f64
            }
        } else {
            -1.0 + (2.0 * i as f64 + 1.0) / len as f64
        }
    };
    let mut out = vec![0f64; n * ol * nd];
    for ni in 0..n {
        let th = &tv[ni * nd * (nd + 1)..(ni + 1) * nd * (nd + 1)];
        for o in 0..ol {
            // Homogeneous base point (x, y[, z], 1): the last axis is x.
            let mut base: Vec<f64> = (0..nd)
                .map(|d| lin((o / ss[nd - 1 - d]) % sp[nd - 1 - d], sp[nd - 1 - d]))
                .collect();
            base.push(1.0);
            for r in 0..nd {
                out[(ni * ol + o) * nd + r] =
                    (0..=nd).map(|k| th[r * (nd + 1) + k] * base[k]).sum();
            }
        }
    }
    let mut shape = vec![n];
    shape.extend(&sp);
    shape.push(nd);
    Ok(tensor_f64(shape, theta.dtype(), out))
}

fn nms(
    boxes: &Tensor,
    scores: &Tensor,
    max: i64,
    iou: f64,
    score: Option<f64>,
    center: bool,
) -> Result<Tensor, KernelError> {
    let bv = floats(boxes, "boxes")?;
    let sv = floats(scores, "scores")?;
    let (nb, nbox) = (boxes.shape[0], boxes.shape[1]);
    let nc = scores.shape[1];
    let corners = |b: &[f64]| -> (f64, f64, f64, f64) {
        if center {
            (
                b[0] - b[2] / 2.0,
                b[0] + b[2] / 2.0,
                b[1] - b[3] / 2.0,
                b[1] + b[3] / 2.0,
            )
        } else {
            (
                b[1].min(b[3]),
                b[1].max(b[3]),
                b[0].min(b[2]),
                b[0].max(b[2]),
            )
        }
    };
    let suppress = |a: &[f64], b: &[f64]| -> bool {
        let (ax0, ax1, ay0, ay1) = corners(a);
        let (bx0, bx1, by0, by1) = corners(b);
        let (ix0, ix1) = (ax0.max(bx0), ax1.min(bx1));
        let (iy0, iy1) = (ay0.max(by0), ay1.min(by1));
        if ix1 <= ix0 || iy1 <= iy0 {
            return false;
        }
        let inter = (ix1 - ix0) * (iy1 - iy0);
        let (a1, a2) = ((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0));
        let union = a1 + a2 - inter;
        if inter <= 0.0 || a1 <= 0.0 || a2 <= 0.0 || union <= 0.0 {
            return false;
        }
        inter / union > iou
    };
    let mut out = Vec::new();
    for b in 0..nb {
        for cl in 0..nc {
            let s = &sv[(b * nc + cl) * nbox..(b * nc + cl + 1) * nbox];
            let mut cand: Vec<usize> = (0..nbox)
                .filter(|&k| score.is_none_or(|t| s[k] > t))
                .collect();
            // Highest score first, the lower index first on ties.
            cand.sort_by(|&p, &q| {
                s[q].partial_cmp(&s[p])
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(p.cmp(&q))
            });
            let mut selected: Vec<usize> = Vec::new();
            for k in cand {
                if selected.len() as i64 >= max {
                    break;
                }
                let bk = &bv[(b * nbox + k) * 4..(b * nbox + k) * 4 + 4];
                if selected
                    .iter()
                    .all(|&j| !suppress(bk, &bv[(b * nbox + j) * 4..(b * nbox + j) * 4 + 4]))
                {
                    selected.push(k);
                    out.extend([b as i64, cl as i64, k as i64]);
                }
            }
        }
    }
    Ok(Tensor {
        shape: vec![out.len() / 3, 3],
        data: Data::I64(out),
    })
}

struct RoiSpec {
    max: bool,
    out_h: usize,
    out_w: usize,
    ratio: i64,
    scale: f64,
    half_pixel: bool,
}

fn roi_align(x: &Tensor, rois: &Tensor, batch: &[i64], s: &RoiSpec) -> Result<Tensor, KernelError> {
    let [n, c, h, w] = x.shape[..] else {
        return Err(KernelError::Shape("RoiAlign takes (N, C, H, W)".to_owned()));
    };
    let xv = floats(x, "RoiAlign")?;
    let rv = floats(rois, "rois")?;
    let nr = rois.shape[0];
    let mut out = vec![0f64; nr * c * s.out_h * s.out_w];
    let offset = if s.half_pixel { 0.5 } else { 0.0 };
    for r in 0..nr {
        let b = index_below(batch[r], n)
            .ok_or_else(|| KernelError::Value("batch index out of range".to_owned()))?;
        let roi = &rv[r * 4..r * 4 + 4];
        let (x1, y1) = (roi[0] * s.scale - offset, roi[1] * s.scale - offset);
        let (x2, y2) = (roi[2] * s.scale - offset, roi[3] * s.scale - offset);
        let (mut rw, mut rh) = (x2 - x1, y2 - y1);
        if !s.half_pixel {
            rw = rw.max(1.0);
            rh = rh.max(1.0);
        }
        let (bh, bw) = (rh / s.out_h as f64, rw / s.out_w as f64);
        let gh = if s.ratio > 0 {
            s.ratio as usize
        } else {
            (rh / s.out_h as f64).ceil() as usize
        };
        let gw = if s.ratio > 0 {
            s.ratio as usize
        } else {
            (rw / s.out_w as f64).ceil() as usize
        };
        let count = (gh * gw).max(1) as f64;
        for ci in 0..c {
            let plane = &xv[(b * c + ci) * h * w..(b * c + ci + 1) * h * w];
            for ph in 0..s.out_h {
                for pw in 0..s.out_w {
                    let mut acc: f64 = if s.max { f64::NEG_INFINITY } else { 0.0 };
                    for iy in 0..gh {
                        let yy = y1 + ph as f64 * bh + (iy as f64 + 0.5) * bh / gh as f64;
                        for ix in 0..gw {
                            let xx = x1 + pw as f64 * bw + (ix as f64 + 0.5) * bw / gw as f64;
                            let v = roi_sample(plane, h, w, yy, xx, s.max);
                            if s.max {
                                acc = acc.max(v);
                            } else {
                                acc += v;
                            }
                        }
                    }
                    out[((r * c + ci) * s.out_h + ph) * s.out_w + pw] =
                        if s.max { acc } else { acc / count };
                }
            }
        }
    }
    Ok(tensor_f64(vec![nr, c, s.out_h, s.out_w], x.dtype(), out))
}

/// The two cells around `v` on an axis of `size` cells and the weight of the
/// upper one: at or past the last cell both are the last, weight 0.
fn roi_neighbours(v: f64, size: usize) -> (usize, usize, f64) {
    let v = v.max(0.0);
    let low = v as usize;
    if low >= size - 1 {
        (size - 1, size - 1, 0.0)
    } else {
        (low, low + 1, v - low as f64)
    }
}

/// onnxruntime's RoiAlign bilinear sample (max mode takes the largest
/// weighted corner, as its kernel does).
fn roi_sample(plane: &[f64], h: usize, w: usize, y: f64, x: f64, max: bool) -> f64 {
    if y < -1.0 || y > h as f64 || x < -1.0 || x > w as f64 {
        return 0.0;
    }
    let (y0, y1, ly) = roi_neighbours(y, h);
    let (x0, x1, lx) = roi_neighbours(x, w);
    let (hy, hx) = (1.0 - ly, 1.0 - lx);
    let terms = [
        hy * hx * plane[y0 * w + x0],
        hy * lx * plane[y0 * w + x1],
        ly * hx * plane[y1 * w + x0],
        ly * lx * plane[y1 * w + x1],
    ];
    if max {
        terms.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    } else {
        terms.iter().sum()
    }
}
