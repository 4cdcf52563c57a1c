//! Data movement over any element type: reshaping, transposing,
//! concatenating and splitting, slicing, gathers and scatters, padding,
//! tiling, and the small generators (Range, EyeLike, OneHot,
//! ConstantOfShape), Unique, TopK, NonZero, Compress, Trilu.

use super::{Registry, arg, args, one, op, opt};
use crate::error::KernelError;
use crate::ml::Attrs;
use crate::ml::num::{
    Num, axis, bad_type, broadcast_shape, checked_len, expand, first_int, index_below, ints,
    num_match, split_at, strides, transpose,
};
use crate::value::{DType, Data, Tensor, Value};

pub(super) fn register(reg: &mut Registry) {
    register_basic(reg);
    register_views(reg);
    register_index(reg);
    register_generators(reg);
    register_select(reg);
}

/// Coordinates of flat index `k` in `shape` (strides given).
fn coords(mut k: usize, st: &[usize], out: &mut [usize]) {
    for (d, &s) in st.iter().enumerate() {
        out[d] = k / s;
        k %= s;
    }
}

fn flat(c: &[usize], st: &[usize]) -> usize {
    c.iter().zip(st).map(|(a, b)| a * b).sum()
}

/// Normalises possibly negative axes.
fn axes_of(v: &[i64], rank: usize) -> Result<Vec<usize>, KernelError> {
    v.iter().map(|&a| axis(a, rank)).collect()
}

// ---------------------------------------------------------------- basic

fn register_basic(reg: &mut Registry) {
    reg.add(&["Identity"], |_, _, _| {
        op(|i| {
            Ok(vec![i.first().copied().flatten().cloned().ok_or_else(
                || KernelError::Value("Identity without input".to_owned()),
            )?])
        })
    });
    reg.add(&["Constant"], |_, a, _| {
        let value = constant(a)?;
        op(move |_| one(value.clone()))
    });
    reg.add(&["Shape"], |_, a, _| {
        let (start, end) = (a.i("start").unwrap_or(0), a.i("end"));
        op(move |i| {
            let t = arg(i, 0)?;
            let r = t.shape.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let s = clamp(start);
            let e = clamp(end.unwrap_or(r)).max(s);
            one(Tensor::vector(
                t.shape[s..e].iter().map(|&d| d as i64).collect::<Vec<_>>(),
            ))
        })
    });
    reg.add(&["Size"], |_, _, _| {
        op(|i| one(Tensor::scalar(arg(i, 0)?.len() as i64)))
    });
    reg.add(&["Dropout"], |_, a, opset| {
        let attr_ratio = a.f("ratio");
        let outputs = a.0.output.len();
        op(move |i| {
            let x = arg(i, 0)?;
            let training = match opt(i, 2)? {
                Some(t) => matches!(&t.data, Data::Bool(v) if v.first() == Some(&true)),
                None => false,
            };
            let ratio = match opt(i, 1)? {
                Some(r) => r
                    .data
                    .to_f64()
                    .and_then(|v| v.first().copied())
                    .unwrap_or(0.5),
                None => attr_ratio.unwrap_or(0.5) as f64,
            };
            if training && ratio != 0.0 && opset >= 12 {
                return Err(KernelError::Unsupported(
                    "Dropout in training mode draws random numbers; it is not reproducible"
                        .to_owned(),
                ));
            }
            let mut out = vec![Value::Tensor(x.clone())];
            if outputs > 1 {
                out.push(Value::Tensor(Tensor {
                    shape: x.shape.clone(),
                    data: Data::Bool(vec![true; x.len()]),
                }));
            }
            Ok(out)
        })
    });
}

/// A Constant node's value, from whichever attribute holds it.
fn constant(a: &Attrs) -> Result<Tensor, KernelError> {
    let value = a
        .tensor("value")?
        .or_else(|| a.f("value_float").map(Tensor::scalar))
        .or_else(|| a.floats("value_floats").map(Tensor::vector))
        .or_else(|| a.i("value_int").map(Tensor::scalar))
        .or_else(|| a.ints("value_ints").map(Tensor::vector))
        .or_else(|| a.s("value_string").map(Tensor::scalar))
        .or_else(|| a.strings("value_strings").map(Tensor::vector));
    value.ok_or_else(|| KernelError::Value("Constant without a value".to_owned()))
}

// ---------------------------------------------------------------- views

fn reshape(t: &Tensor, spec: &[i64], allow_zero: bool) -> Result<Tensor, KernelError> {
    let mut shape = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        shape.push(match d {
            -1 => {
                if infer.replace(i).is_some() {
                    return Err(KernelError::Shape(
                        "more than one -1 in the shape".to_owned(),
                    ));
                }
                1
            }
            0 if !allow_zero => *t.shape.get(i).ok_or_else(|| {
                KernelError::Shape("0 copies a dimension the input lacks".to_owned())
            })?,
            d if d >= 0 => d as usize,
            d => return Err(KernelError::Shape(format!("bad dimension {d}"))),
        });
    }
    if let Some(i) = infer {
        let known: usize = shape.iter().product();
        if known == 0 || !t.len().is_multiple_of(known) {
            return Err(KernelError::Shape(format!(
                "cannot reshape {:?} into {spec:?}",
                t.shape
            )));
        }
        shape[i] = t.len() / known;
    }
    if shape.iter().product::<usize>() != t.len() {
        return Err(KernelError::Shape(format!(
            "cannot reshape {:?} into {spec:?}",
            t.shape
        )));
    }
    Ok(t.with_shape(shape))
}

/// Axes from input `k` (newer opsets) or the `axes` attribute.
fn axes_input(
    i: &[Option<&Value>],
    k: usize,
    attr: &Option<Vec<i64>>,
) -> Result<Option<Vec<i64>>, KernelError> {
    match opt(i, k)? {
        Some(t) => Ok(Some(ints(t)?)),
        None => Ok(attr.clone()),
    }
}

fn register_views(reg: &mut Registry) {
    reg.add(&["Reshape"], |_, a, _| {
        let allow_zero = a.i("allowzero").unwrap_or(0) != 0;
        let attr = a.ints("shape");
        op(move |i| {
            let spec = match opt(i, 1)? {
                Some(s) => ints(s)?,
                None => attr
                    .clone()
                    .ok_or_else(|| KernelError::Shape("Reshape needs a shape".to_owned()))?,
            };
            one(reshape(arg(i, 0)?, &spec, allow_zero)?)
        })
    });
    reg.add(&["Flatten"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(1);
        op(move |i| {
            let t = arg(i, 0)?;
            let rank = t.shape.len() as i64;
            let a = if ax < 0 { ax + rank } else { ax };
            if a < 0 || a > rank {
                return Err(KernelError::Shape(format!("axis {ax} out of range")));
            }
            let outer: usize = t.shape[..a as usize].iter().product();
            let inner: usize = t.shape[a as usize..].iter().product();
            one(t.with_shape(vec![outer, inner]))
        })
    });
    reg.add(&["Squeeze"], |_, a, _| {
        let attr = a.ints("axes");
        op(move |i| {
            let t = arg(i, 0)?;
            let axes: Vec<usize> = match axes_input(i, 1, &attr)? {
                Some(ax) => axes_of(&ax, t.shape.len())?,
                None => (0..t.shape.len()).filter(|&d| t.shape[d] == 1).collect(),
            };
            if let Some(&d) = axes.iter().find(|&&d| t.shape[d] != 1) {
                return Err(KernelError::Shape(format!(
                    "cannot squeeze axis {d} of size {}",
                    t.shape[d]
                )));
            }
            let shape = (0..t.shape.len())
                .filter(|d| !axes.contains(d))
                .map(|d| t.shape[d])
                .collect();
            one(t.with_shape(shape))
        })
    });
    reg.add(&["Unsqueeze"], |_, a, _| {
        let attr = a.ints("axes");
        op(move |i| {
            let t = arg(i, 0)?;
            let axes = axes_input(i, 1, &attr)?
                .ok_or_else(|| KernelError::Attribute("Unsqueeze needs axes".to_owned()))?;
            let rank = t.shape.len() + axes.len();
            let mut axes = axes_of(&axes, rank)?;
            axes.sort();
            axes.dedup();
            let mut shape = t.shape.clone();
            for ax in axes {
                shape.insert(ax.min(shape.len()), 1);
            }
            one(t.with_shape(shape))
        })
    });
    reg.add(&["Transpose"], |_, a, _| {
        let perm = a.ints("perm");
        op(move |i| {
            let t = arg(i, 0)?;
            let p: Vec<usize> = match &perm {
                Some(p) => axes_of(p, t.shape.len())?,
                None => (0..t.shape.len()).rev().collect(),
            };
            one(transpose(t, &p)?)
        })
    });
    reg.add(&["Concat"], |_, a, _| {
        let ax = a.required_i("axis")?;
        op(move |i| {
            let parts = args(i)?;
            one(concat(&parts, ax)?)
        })
    });
    reg.add(&["Split"], |_, a, opset| {
        let ax = a.i("axis").unwrap_or(0);
        let attr = a.ints("split");
        let outputs = a.0.output.len();
        let num_outputs = a.i("num_outputs");
        op(move |i| {
            let t = arg(i, 0)?;
            let sizes = match (opset >= 13).then(|| opt(i, 1)).transpose()?.flatten() {
                Some(s) => Some(ints(s)?),
                None => attr.clone(),
            };
            let parts = split(
                t,
                ax,
                sizes,
                num_outputs.map(|n| n as usize).unwrap_or(outputs),
            )?;
            Ok(parts.into_iter().map(Value::Tensor).collect())
        })
    });
    reg.add(&["Slice"], |_, a, opset| {
        let (starts, ends, axes) = (a.ints("starts"), a.ints("ends"), a.ints("axes"));
        op(move |i| {
            let t = arg(i, 0)?;
            if opset < 10 {
                let s = starts
                    .clone()
                    .ok_or_else(|| KernelError::Attribute("Slice needs starts".to_owned()))?;
                let e = ends
                    .clone()
                    .ok_or_else(|| KernelError::Attribute("Slice needs ends".to_owned()))?;
                return one(slice(t, &s, &e, axes.clone(), None)?);
            }
            let ints_at = |k: usize| -> Result<Option<Vec<i64>>, KernelError> {
                opt(i, k)?.map(ints).transpose()
            };
            one(slice(
                t,
                &ints(arg(i, 1)?)?,
                &ints(arg(i, 2)?)?,
                ints_at(3)?,
                ints_at(4)?,
            )?)
        })
    });
    reg.add(&["Expand"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let want: Vec<usize> = ints(arg(i, 1)?)?
                .iter()
                .map(|&d| d.max(0) as usize)
                .collect();
            let shape = broadcast_shape(&t.shape, &want)?;
            one(expand(t, &shape)?)
        })
    });
    reg.add(&["Tile"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let reps = ints(arg(i, 1)?)?;
            if reps.len() != t.shape.len() || reps.iter().any(|&r| r < 0) {
                return Err(KernelError::Shape(format!(
                    "repeats {reps:?} for a tensor of rank {}",
                    t.shape.len()
                )));
            }
            let shape: Vec<usize> = t
                .shape
                .iter()
                .zip(&reps)
                .map(|(&d, &r)| d * r as usize)
                .collect();
            let n = checked_len(&shape)?;
            let (os, is) = (strides(&shape), strides(&t.shape));
            let mut c = vec![0; shape.len()];
            let idx: Vec<usize> = (0..n)
                .map(|k| {
                    coords(k, &os, &mut c);
                    c.iter()
                        .zip(&t.shape)
                        .zip(&is)
                        .map(|((&x, &d), &s)| (x % d) * s)
                        .sum()
                })
                .collect();
            one(Tensor {
                shape,
                data: t.data.gather(&idx),
            })
        })
    });
    reg.add(&["Pad"], |_, a, opset| {
        let mode = a.s_or("mode", "constant");
        if !matches!(mode.as_str(), "constant" | "reflect" | "edge" | "wrap") {
            return Err(KernelError::Attribute(format!(
                "Pad mode '{mode}' is not constant, reflect, edge or wrap"
            )));
        }
        let attr_pads = a.ints("pads");
        let attr_value = a.f("value").unwrap_or(0.0);
        op(move |i| {
            let t = arg(i, 0)?;
            let rank = t.shape.len();
            let (pads, value, axes) = if opset < 11 {
                (
                    attr_pads
                        .clone()
                        .ok_or_else(|| KernelError::Attribute("Pad needs pads".to_owned()))?,
                    Some(Tensor::scalar(attr_value)),
                    None,
                )
            } else {
                (
                    ints(arg(i, 1)?)?,
                    opt(i, 2)?.filter(|v| !v.is_empty()).cloned(),
                    opt(i, 3)?.map(ints).transpose()?,
                )
            };
            let axes = match axes {
                Some(ax) => axes_of(&ax, rank)?,
                None => (0..rank).collect(),
            };
            if pads.len() != 2 * axes.len() {
                return Err(KernelError::Shape(format!(
                    "{} pads for {} axes",
                    pads.len(),
                    axes.len()
                )));
            }
            let mut before = vec![0i64; rank];
            let mut after = vec![0i64; rank];
            for (k, &ax) in axes.iter().enumerate() {
                before[ax] = pads[k];
                after[ax] = pads[k + axes.len()];
            }
            one(pad(t, &before, &after, &mode, value.as_ref())?)
        })
    });
    reg.add(&["DepthToSpace", "SpaceToDepth"], |name, a, _| {
        let b = a.required_i("blocksize")? as usize;
        let crd = a.s_or("mode", "DCR") == "CRD";
        let to_space = name == "DepthToSpace";
        op(move |i| {
            let t = arg(i, 0)?;
            let [n, c, h, w] = t.shape[..] else {
                return Err(KernelError::Shape(format!(
                    "a 4-D input expected, found {:?}",
                    t.shape
                )));
            };
            if b == 0 {
                return Err(KernelError::Attribute("blocksize 0".to_owned()));
            }
            // Both are a reshape splitting out the block axes (DepthToSpace:
            // from the channels, CRD as [C', b, b], DCR as [b, b, C'];
            // SpaceToDepth: from the spatial axes), a transpose moving them,
            // and a reshape merging them back.
            let (split, perm, merged) = if to_space {
                if c % (b * b) != 0 {
                    return Err(KernelError::Shape(format!(
                        "channels {c} not divisible by blocksize² {}",
                        b * b
                    )));
                }
                let cc = c / (b * b);
                let merged = [n, cc, h * b, w * b];
                if crd {
                    ([n, cc, b, b, h, w], [0, 1, 4, 2, 5, 3], merged)
                } else {
                    ([n, b, b, cc, h, w], [0, 3, 4, 1, 5, 2], merged)
                }
            } else {
                if h % b != 0 || w % b != 0 {
                    return Err(KernelError::Shape(format!(
                        "{h}x{w} not divisible by blocksize {b}"
                    )));
                }
                let perm = if crd {
                    [0, 1, 3, 5, 2, 4]
                } else {
                    [0, 3, 5, 1, 2, 4]
                };
                (
                    [n, c, h / b, b, w / b, b],
                    perm,
                    [n, c * b * b, h / b, w / b],
                )
            };
            let dims = |s: &[usize]| s.iter().map(|&d| d as i64).collect::<Vec<_>>();
            let blocks = transpose(&reshape(t, &dims(&split), true)?, &perm)?;
            one(reshape(&blocks, &dims(&merged), true)?)
        })
    });
    reg.add(&["CenterCropPad"], |_, a, _| {
        let attr_axes = a.ints("axes");
        op(move |i| {
            let t = arg(i, 0)?;
            let want = ints(arg(i, 1)?)?;
            let rank = t.shape.len();
            let axes = match &attr_axes {
                Some(ax) => axes_of(ax, rank)?,
                None => (0..rank).collect(),
            };
            let mut before = vec![0i64; rank];
            let mut after = vec![0i64; rank];
            for (&ax, &w) in axes.iter().zip(&want) {
                let d = t.shape[ax] as i64;
                // Crop or pad the difference, the odd element at the end.
                let diff = w - d;
                before[ax] = if diff >= 0 { diff / 2 } else { -((-diff) / 2) };
                after[ax] = diff - before[ax];
            }
            one(pad(t, &before, &after, "constant", None)?)
        })
    });
}

pub(crate) fn concat(parts: &[&Tensor], ax: i64) -> Result<Tensor, KernelError> {
    let first = parts
        .first()
        .ok_or_else(|| KernelError::Value("Concat without inputs".to_owned()))?;
    let a = axis(ax, first.shape.len())?;
    let (outer, _, inner) = split_at(&first.shape, a);
    let mut shape = first.shape.clone();
    shape[a] = 0;
    for p in parts {
        if p.shape.len() != first.shape.len()
            || p.shape
                .iter()
                .enumerate()
                .any(|(d, &v)| d != a && v != first.shape[d])
        {
            return Err(KernelError::Shape(format!(
                "Concat of {:?} and {:?} on axis {a}",
                first.shape, p.shape
            )));
        }
        shape[a] += p.shape[a];
    }
    let mut data = Data::empty(first.dtype());
    for o in 0..outer {
        for p in parts {
            let chunk = p.shape[a] * inner;
            if !data.extend(&p.data.slice(o * chunk, (o + 1) * chunk)) {
                return Err(KernelError::Type("Concat inputs differ in type".to_owned()));
            }
        }
    }
    Ok(Tensor { shape, data })
}

pub(crate) fn split(
    t: &Tensor,
    ax: i64,
    sizes: Option<Vec<i64>>,
    outputs: usize,
) -> Result<Vec<Tensor>, KernelError> {
    let a = axis(ax, t.shape.len())?;
    let d = t.shape[a];
    let sizes: Vec<usize> = match sizes {
        Some(s) => {
            if s.iter().any(|&x| x < 0) || s.iter().sum::<i64>() != d as i64 {
                return Err(KernelError::Shape(format!(
                    "split sizes {s:?} for a dimension of {d}"
                )));
            }
            s.iter().map(|&x| x as usize).collect()
        }
        None => {
            let n = outputs.max(1);
            let chunk = d.div_ceil(n);
            (0..n)
                .map(|k| chunk.min(d.saturating_sub(k * chunk)))
                .collect()
        }
    };
    let (outer, _, inner) = split_at(&t.shape, a);
    let mut start = 0;
    let mut out = Vec::new();
    for s in sizes {
        let mut idx = Vec::with_capacity(outer * s * inner);
        for o in 0..outer {
            let base = (o * d + start) * inner;
            idx.extend(base..base + s * inner);
        }
        let mut shape = t.shape.clone();
        shape[a] = s;
        out.push(Tensor {
            shape,
            data: t.data.gather(&idx),
        });
        start += s;
    }
    Ok(out)
}

/// ONNX Slice: per-axis start/end/step, clamped as numpy clamps.
pub(crate) fn slice(
    t: &Tensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<Vec<i64>>,
    steps: Option<Vec<i64>>,
) -> Result<Tensor, KernelError> {
    let rank = t.shape.len();
    let axes = match axes {
        Some(a) => axes_of(&a, rank)?,
        None => (0..starts.len()).collect(),
    };
    let steps = steps.unwrap_or_else(|| vec![1; axes.len()]);
    if starts.len() != axes.len() || ends.len() != axes.len() || steps.len() != axes.len() {
        return Err(KernelError::Shape(
            "starts, ends, axes and steps differ in length".to_owned(),
        ));
    }
    let mut ranges: Vec<Vec<usize>> = t.shape.iter().map(|&d| (0..d).collect()).collect();
    for k in 0..axes.len() {
        let ax = axes[k];
        let d = t.shape[ax] as i64;
        let step = steps[k];
        if step == 0 {
            return Err(KernelError::Value("slice step 0".to_owned()));
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let (mut s, mut e) = (norm(starts[k]), norm(ends[k]));
        let mut picks = Vec::new();
        if step > 0 {
            s = s.clamp(0, d);
            e = e.clamp(0, d);
            let mut v = s;
            while v < e {
                picks.push(v as usize);
                v += step;
            }
        } else {
            s = s.clamp(-1, d - 1);
            e = e.clamp(-1, d - 1);
            let mut v = s;
            while v > e {
                picks.push(v as usize);
                v += step;
            }
        }
        ranges[ax] = picks;
    }
    let shape: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
    let st = strides(&t.shape);
    let mut idx = vec![0usize];
    for d in 0..rank {
        let (range, stride) = (&ranges[d], st[d]);
        idx = idx
            .iter()
            .flat_map(|&base| range.iter().map(move |&c| base + c * stride))
            .collect();
    }
    if rank == 0 {
        idx = vec![0];
    }
    Ok(Tensor {
        shape,
        data: t.data.gather(&idx),
    })
}

/// Pads (negative amounts crop) in one of ONNX's modes.
fn pad(
    t: &Tensor,
    before: &[i64],
    after: &[i64],
    mode: &str,
    value: Option<&Tensor>,
) -> Result<Tensor, KernelError> {
    let rank = t.shape.len();
    let shape: Vec<usize> = (0..rank)
        .map(|d| {
            let n = t.shape[d] as i64 + before[d] + after[d];
            usize::try_from(n)
                .map_err(|_| KernelError::Shape(format!("padding makes axis {d} negative")))
        })
        .collect::<Result<_, _>>()?;
    let n = checked_len(&shape)?;
    if t.is_empty() && mode != "constant" && n > 0 {
        return Err(KernelError::Attribute(format!(
            "Pad mode {mode} of an empty tensor"
        )));
    }
    let (os, is) = (strides(&shape), strides(&t.shape));
    let mut c = vec![0; rank];
    // Index into [input, fill]: the fill value sits at input.len().
    let fill = t.len();
    let idx: Vec<usize> = (0..n)
        .map(|k| {
            coords(k, &os, &mut c);
            let mut src = 0;
            for d in 0..rank {
                let dim = t.shape[d] as i64;
                let mut x = c[d] as i64 - before[d];
                if x < 0 || x >= dim {
                    match mode {
                        "constant" => return fill,
                        "edge" => x = x.clamp(0, dim - 1),
                        "wrap" => x = x.rem_euclid(dim),
                        _ => {
                            // reflect: mirror without repeating the edge.
                            if dim == 1 {
                                x = 0;
                            } else {
                                let period = 2 * (dim - 1);
                                x = x.rem_euclid(period);
                                if x >= dim {
                                    x = period - x;
                                }
                            }
                        }
                    }
                }
                src += x as usize * is[d];
            }
            src
        })
        .collect();
    let mut data = t.data.clone();
    let v = match value {
        Some(v) => crate::ml::ops::cast(v, t.dtype())?.data.slice(0, 1),
        None => Data::filled(t.dtype(), 1),
    };
    data.extend(&v);
    Ok(Tensor {
        shape,
        data: data.gather(&idx),
    })
}

// ---------------------------------------------------------------- index

/// An index into a dimension of size `n` (negative counts from the end).
fn index(k: i64, n: usize) -> Result<usize, KernelError> {
    let j = if k < 0 { k + n as i64 } else { k };
    index_below(j, n).ok_or_else(|| {
        KernelError::Shape(format!("index {k} is out of range for a dimension of {n}"))
    })
}

fn register_index(reg: &mut Registry) {
    reg.add(&["Gather"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(0);
        op(move |i| {
            let (t, idx) = (arg(i, 0)?, arg(i, 1)?);
            let a = axis(ax, t.shape.len())?;
            let (outer, n, inner) = split_at(&t.shape, a);
            let ids: Vec<usize> = ints(idx)?
                .iter()
                .map(|&k| index(k, n))
                .collect::<Result<_, _>>()?;
            let mut picks = Vec::with_capacity(outer * ids.len() * inner);
            for o in 0..outer {
                for &k in &ids {
                    picks.extend((0..inner).map(|j| (o * n + k) * inner + j));
                }
            }
            let mut shape = t.shape[..a].to_vec();
            shape.extend_from_slice(&idx.shape);
            shape.extend_from_slice(&t.shape[a + 1..]);
            one(Tensor {
                shape,
                data: t.data.gather(&picks),
            })
        })
    });
    reg.add(&["GatherElements"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(0);
        op(move |i| {
            let (t, idx) = (arg(i, 0)?, arg(i, 1)?);
            let picks = element_offsets(t, idx, ax)?;
            one(Tensor {
                shape: idx.shape.clone(),
                data: t.data.gather(&picks),
            })
        })
    });
    reg.add(&["GatherND"], |_, a, _| {
        let batch = a.i("batch_dims").unwrap_or(0) as usize;
        op(move |i| one(gather_nd(arg(i, 0)?, arg(i, 1)?, batch)?))
    });
    reg.add(&["ScatterElements", "Scatter"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(0);
        let reduction = a.s_or("reduction", "none");
        op(move |i| {
            let (t, idx, upd) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            let targets = element_offsets(t, idx, ax)?;
            one(scatter(t, &targets, upd, 1, &reduction)?)
        })
    });
    reg.add(&["ScatterND"], |_, a, _| {
        let reduction = a.s_or("reduction", "none");
        op(move |i| {
            let (t, idx, upd) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            let k = *idx
                .shape
                .last()
                .ok_or_else(|| KernelError::Shape("indices of rank 0".to_owned()))?;
            if k > t.shape.len() {
                return Err(KernelError::Shape(
                    "index tuples longer than the data's rank".to_owned(),
                ));
            }
            let ids = ints(idx)?;
            let ts = strides(&t.shape);
            let slice_len: usize = t.shape[k..].iter().product();
            let targets: Vec<usize> = ids
                .chunks(k.max(1))
                .map(|tuple| {
                    let mut at = 0;
                    for (d, &x) in tuple.iter().enumerate().take(k) {
                        at += index(x, t.shape[d])? * ts[d];
                    }
                    Ok(at)
                })
                .collect::<Result<_, KernelError>>()?;
            one(scatter(t, &targets, upd, slice_len, &reduction)?)
        })
    });
    reg.add(&["TensorScatter"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(-2);
        let circular = a.choice("mode", "linear", &[("linear", false), ("circular", true)])?;
        op(move |i| {
            let (cache, upd) = (arg(i, 0)?, arg(i, 1)?);
            let rank = cache.shape.len();
            let a = axis(ax, rank)?;
            let write = match opt(i, 2)? {
                Some(w) => ints(w)?,
                None => vec![0; cache.shape.first().copied().unwrap_or(1)],
            };
            let (max_len, seq) = (cache.shape[a], upd.shape[a]);
            let prefix: usize = cache.shape[..a].iter().product();
            let inner: usize = cache.shape[a + 1..].iter().product();
            let batch_stride: usize = cache.shape[1..a.max(1)].iter().product::<usize>().max(1);
            let mut targets = Vec::with_capacity(prefix * seq * inner);
            for p in 0..prefix {
                let batch = if a == 0 { 0 } else { p / batch_stride };
                let w = *write
                    .get(batch)
                    .ok_or_else(|| KernelError::Value("write_indices too short".to_owned()))?;
                for s in 0..seq {
                    let mut at = w + s as i64;
                    if circular {
                        at = at.rem_euclid(max_len as i64);
                    }
                    let at = index_below(at, max_len).ok_or_else(|| {
                        KernelError::Value(format!(
                            "write index {at} outside the cache of {max_len}"
                        ))
                    })?;
                    targets.push((p * max_len + at) * inner);
                }
            }
            one(scatter(cache, &targets, upd, inner, "none")?)
        })
    });
}

fn gather_nd(t: &Tensor, idx: &Tensor, batch: usize) -> Result<Tensor, KernelError> {
    let k = *idx
        .shape
        .last()
        .ok_or_else(|| KernelError::Shape("indices of rank 0".to_owned()))?;
    if batch + k > t.shape.len() {
        return Err(KernelError::Shape(
            "index tuples reach past the data's rank".to_owned(),
        ));
    }
    let ids = ints(idx)?;
    let batch_len: usize = t.shape[..batch].iter().product();
    let slice_shape = &t.shape[batch + k..];
    let slice_len: usize = slice_shape.iter().product();
    let per_batch_data: usize = t.shape[batch..].iter().product();
    let tuples = ids.len().checked_div(k).unwrap_or(idx.len());
    let tuples_per_batch = tuples / batch_len.max(1);
    let ts = strides(&t.shape[batch..]);
    let mut picks = Vec::with_capacity(tuples * slice_len);
    for n in 0..tuples {
        let b = n / tuples_per_batch.max(1);
        let mut at = b * per_batch_data;
        for d in 0..k {
            at += index(ids[n * k + d], t.shape[batch + d])? * ts[d];
        }
        picks.extend(at..at + slice_len);
    }
    let mut shape = idx.shape[..idx.shape.len() - 1].to_vec();
    shape.extend_from_slice(slice_shape);
    Ok(Tensor {
        shape,
        data: t.data.gather(&picks),
    })
}

/// Writes `upd` (in runs of `run` elements) at `targets` into a copy of `t`,
/// combining with `reduction` (none, add, mul, max, min).
fn scatter(
    t: &Tensor,
    targets: &[usize],
    upd: &Tensor,
    run: usize,
    reduction: &str,
) -> Result<Tensor, KernelError> {
    if targets.len() * run != upd.len() {
        return Err(KernelError::Value(format!(
            "{} updates for {} targets of {run}",
            upd.len(),
            targets.len()
        )));
    }
    if reduction == "none" {
        let mut order: Vec<usize> = (0..t.len()).collect();
        let base = t.len();
        for (k, &at) in targets.iter().enumerate() {
            for j in 0..run {
                *order.get_mut(at + j).ok_or_else(|| {
                    KernelError::Value("scatter target out of range".to_owned())
                })? = base + k * run + j;
            }
        }
        let mut both = t.data.clone();
        if !both.extend(&upd.data) {
            return Err(KernelError::Type(
                "updates differ in type from the data".to_owned(),
            ));
        }
        return Ok(Tensor {
            shape: t.shape.clone(),
            data: both.gather(&order),
        });
    }
    fn go<T: Num>(
        v: &[T],
        targets: &[usize],
        upd: &Tensor,
        run: usize,
        reduction: &str,
    ) -> Result<Data, KernelError> {
        let u = T::view(&upd.data)
            .ok_or_else(|| KernelError::Type("updates differ in type from the data".to_owned()))?;
        let mut out = v.to_vec();
        for (k, &at) in targets.iter().enumerate() {
            for j in 0..run {
                let (o, x) = (
                    out.get_mut(at + j).ok_or_else(|| {
                        KernelError::Value("scatter target out of range".to_owned())
                    })?,
                    u[k * run + j],
                );
                *o = match reduction {
                    "add" => o.add(x),
                    "mul" => o.mul(x),
                    "max" => {
                        if x > *o {
                            x
                        } else {
                            *o
                        }
                    }
                    "min" => {
                        if x < *o {
                            x
                        } else {
                            *o
                        }
                    }
                    other => return Err(KernelError::Attribute(format!("reduction '{other}'"))),
                };
            }
        }
        Ok(T::wrap(out))
    }
    let data = num_match!(&t.data, v => go(v, targets, upd, run, reduction)?, return Err(bad_type("scatter reductions", t.dtype())));
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
}

// ---------------------------------------------------------------- generators

fn register_generators(reg: &mut Registry) {
    reg.add(&["ConstantOfShape"], |_, a, _| {
        let value = a.tensor("value")?.unwrap_or(Tensor {
            shape: vec![1],
            data: Data::F32(vec![0.0]),
        });
        op(move |i| {
            let shape: Vec<usize> = ints(arg(i, 0)?)?
                .iter()
                .map(|&d| {
                    usize::try_from(d)
                        .map_err(|_| KernelError::Shape(format!("negative dimension {d}")))
                })
                .collect::<Result<_, _>>()?;
            let n = checked_len(&shape)?;
            if value.is_empty() {
                return Err(KernelError::Shape(
                    "ConstantOfShape's value is empty".to_owned(),
                ));
            }
            one(Tensor {
                shape,
                data: value.data.repeat(0, n),
            })
        })
    });
    reg.add(&["Range"], |_, _, _| {
        op(|i| {
            let (s, l, d) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            fn go<T: Num>(s: &[T], l: &Tensor, d: &Tensor) -> Result<Data, KernelError> {
                let (start, limit, delta) = (
                    s[0],
                    T::view(&l.data)
                        .and_then(|v| v.first().copied())
                        .ok_or_else(|| KernelError::Limit("limit type".to_owned()))?,
                    T::view(&d.data)
                        .and_then(|v| v.first().copied())
                        .ok_or_else(|| KernelError::Type("delta type".to_owned()))?,
                );
                let n = ((limit.to_f64() - start.to_f64()) / delta.to_f64()).ceil();
                let n = if n.is_nan() || n < 0.0 { 0 } else { n as usize };
                if n > 1 << 28 {
                    return Err(KernelError::Limit(format!("Range of {n} elements")));
                }
                let mut out = Vec::with_capacity(n);
                let mut v = start;
                for _ in 0..n {
                    out.push(v);
                    v = v.add(delta);
                }
                Ok(T::wrap(out))
            }
            if s.is_empty() {
                return Err(KernelError::Value("Range start is empty".to_owned()));
            }
            let data =
                num_match!(&s.data, v => go(v, l, d)?, return Err(bad_type("Range", s.dtype())));
            one(Tensor {
                shape: vec![data.len()],
                data,
            })
        })
    });
    reg.add(&["EyeLike"], |_, a, _| {
        let dtype = a
            .i("dtype")
            .map(|c| {
                DType::from_onnx(c as i32).ok_or_else(|| KernelError::Type(format!("dtype {c}")))
            })
            .transpose()?;
        let k = a.i("k").unwrap_or(0);
        op(move |i| {
            let t = arg(i, 0)?;
            let [rows, cols] = t.shape[..] else {
                return Err(KernelError::Shape("EyeLike takes a 2-D tensor".to_owned()));
            };
            let v: Vec<i64> = (0..rows * cols)
                .map(|x| ((x % cols) as i64 - (x / cols) as i64 == k) as i64)
                .collect();
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::from_i64(dtype.unwrap_or(t.dtype()), v),
            })
        })
    });
    reg.add(&["OneHot"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(-1);
        op(move |i| {
            let (idx, depth, values) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            let depth = depth
                .data
                .to_f64()
                .and_then(|v| v.first().copied())
                .ok_or_else(|| KernelError::Value("depth".to_owned()))?
                as i64;
            if depth <= 0 {
                return Err(KernelError::Value(format!("depth {depth}")));
            }
            let rank = idx.shape.len() + 1;
            let a = axis(ax, rank)?;
            let ids = crate::ml::num::floats(idx, "OneHot")?;
            let (outer, inner) = (
                idx.shape[..a].iter().product::<usize>(),
                idx.shape[a..].iter().product::<usize>(),
            );
            let d = depth as usize;
            let mut shape = idx.shape.clone();
            shape.insert(a, d);
            checked_len(&shape)?;
            let mut picks = vec![0usize; outer * d * inner];
            for o in 0..outer {
                for j in 0..inner {
                    let mut k = ids[o * inner + j] as i64;
                    if k < 0 {
                        k += depth;
                    }
                    if (0..depth).contains(&k) {
                        picks[(o * d + k as usize) * inner + j] = 1;
                    }
                }
            }
            one(Tensor {
                shape,
                data: values.data.gather(&picks),
            })
        })
    });
}

// ---------------------------------------------------------------- selection

fn register_select(reg: &mut Registry) {
    reg.add(&["NonZero"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let nz: Vec<bool> = match &t.data {
                Data::Bool(v) => v.clone(),
                Data::Str(v) => v.iter().map(|s| !s.is_empty()).collect(),
                d => d
                    .to_f64()
                    .unwrap_or_default()
                    .iter()
                    .map(|&x| x != 0.0)
                    .collect(),
            };
            let st = strides(&t.shape);
            let hits: Vec<usize> = (0..nz.len()).filter(|&k| nz[k]).collect();
            let rank = t.shape.len();
            let mut out = vec![0i64; rank * hits.len()];
            let mut c = vec![0; rank];
            for (n, &k) in hits.iter().enumerate() {
                coords(k, &st, &mut c);
                for d in 0..rank {
                    out[d * hits.len() + n] = c[d] as i64;
                }
            }
            one(Tensor {
                shape: vec![rank, hits.len()],
                data: Data::I64(out),
            })
        })
    });
    reg.add(&["Compress"], |_, a, _| {
        let ax = a.i("axis");
        op(move |i| {
            let (t, cond) = (arg(i, 0)?, arg(i, 1)?);
            let Data::Bool(c) = &cond.data else {
                return Err(KernelError::Type(
                    "Compress's condition must be bool".to_owned(),
                ));
            };
            match ax {
                None => {
                    let picks: Vec<usize> = (0..t.len().min(c.len())).filter(|&k| c[k]).collect();
                    one(Tensor {
                        shape: vec![picks.len()],
                        data: t.data.gather(&picks),
                    })
                }
                Some(ax) => {
                    let a = axis(ax, t.shape.len())?;
                    let (outer, n, inner) = split_at(&t.shape, a);
                    let keep: Vec<usize> = (0..n.min(c.len())).filter(|&k| c[k]).collect();
                    let mut picks = Vec::new();
                    for o in 0..outer {
                        for &k in &keep {
                            picks.extend((0..inner).map(|j| (o * n + k) * inner + j));
                        }
                    }
                    let mut shape = t.shape.clone();
                    shape[a] = keep.len();
                    one(Tensor {
                        shape,
                        data: t.data.gather(&picks),
                    })
                }
            }
        })
    });
    reg.add(&["Trilu"], |_, a, _| {
        let upper = a.i("upper").unwrap_or(1) != 0;
        op(move |i| {
            let t = arg(i, 0)?;
            let k = match opt(i, 1)? {
                Some(k) => first_int(k, "k")?,
                None => 0,
            };
            let r = t.shape.len();
            if r < 2 {
                return Err(KernelError::Shape(
                    "Trilu takes a tensor of rank 2 or more".to_owned(),
                ));
            }
            let (rows, cols) = (t.shape[r - 2], t.shape[r - 1]);
            let fill = t.len();
            let picks: Vec<usize> = (0..t.len())
                .map(|x| {
                    let (row, col) = ((x / cols.max(1)) % rows.max(1), x % cols.max(1));
                    let d = col as i64 - row as i64;
                    let keep = if upper { d >= k } else { d <= k };
                    if keep { x } else { fill }
                })
                .collect();
            let mut data = t.data.clone();
            data.extend(&Data::filled(t.dtype(), 1));
            one(Tensor {
                shape: t.shape.clone(),
                data: data.gather(&picks),
            })
        })
    });
    reg.add(&["ReverseSequence"], |_, a, _| {
        let batch_axis = a.i("batch_axis").unwrap_or(1) as usize;
        let time_axis = a.i("time_axis").unwrap_or(0) as usize;
        op(move |i| {
            let (t, lens) = (arg(i, 0)?, ints(arg(i, 1)?)?);
            let st = strides(&t.shape);
            let mut c = vec![0; t.shape.len()];
            let picks: Vec<usize> = (0..t.len())
                .map(|k| {
                    coords(k, &st, &mut c);
                    let l = lens.get(c[batch_axis]).copied().unwrap_or(0) as usize;
                    if c[time_axis] < l {
                        c[time_axis] = l - 1 - c[time_axis];
                    }
                    flat(&c, &st)
                })
                .collect();
            one(Tensor {
                shape: t.shape.clone(),
                data: t.data.gather(&picks),
            })
        })
    });
    reg.add(&["TopK"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(-1);
        let largest = a.i("largest").unwrap_or(1) != 0;
        let attr_k = a.i("k");
        op(move |i| {
            let t = arg(i, 0)?;
            let k = match opt(i, 1)? {
                Some(k) => first_int(k, "K")?,
                None => attr_k.ok_or_else(|| KernelError::Attribute("TopK needs K".to_owned()))?,
            };
            top_k(t, k, ax, largest)
        })
    });
    reg.add(&["Unique"], |_, a, _| {
        let ax = a.i("axis");
        let sorted = a.i("sorted").unwrap_or(1) != 0;
        op(move |i| unique(arg(i, 0)?, ax, sorted))
    });
}

/// The k largest (or smallest) along an axis, ties to the lower index.
fn top_k(t: &Tensor, k: i64, ax: i64, largest: bool) -> Result<Vec<Value>, KernelError> {
    let a = axis(ax, t.shape.len())?;
    let (outer, n, inner) = split_at(&t.shape, a);
    let k = usize::try_from(k)
        .ok()
        .filter(|&k| k <= n)
        .ok_or_else(|| KernelError::Shape(format!("K={k} for an axis of {n}")))?;
    let v = crate::ml::num::floats(t, "TopK")?;
    let mut picks = Vec::with_capacity(outer * k * inner);
    let mut indices = Vec::with_capacity(outer * k * inner);
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut out_idx = vec![0usize; outer * k * inner];
    let mut out_pos = vec![0i64; outer * k * inner];
    for o in 0..outer {
        for j in 0..inner {
            order.clear();
            order.extend(0..n);
            let at = |x: usize| v[(o * n + x) * inner + j];
            order.sort_by(|&p, &q| {
                let (x, y) = (at(p), at(q));
                // NaN counts as the largest, as numpy sorts it last.
                let c = match (x.is_nan(), y.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                };
                let c = if largest { c.reverse() } else { c };
                c.then(p.cmp(&q))
            });
            for (r, &x) in order.iter().take(k).enumerate() {
                out_idx[(o * k + r) * inner + j] = (o * n + x) * inner + j;
                out_pos[(o * k + r) * inner + j] = x as i64;
            }
        }
    }
    picks.extend(out_idx);
    indices.extend(out_pos);
    let mut shape = t.shape.clone();
    shape[a] = k;
    Ok(vec![
        Value::Tensor(Tensor {
            shape: shape.clone(),
            data: t.data.gather(&picks),
        }),
        Value::Tensor(Tensor {
            shape,
            data: Data::I64(indices),
        }),
    ])
}

/// Unique elements (or slices along `axis`), numpy's order when sorted,
/// first occurrence order otherwise; with first indices, inverse indices
/// and counts.
fn unique(t: &Tensor, ax: Option<i64>, sorted: bool) -> Result<Vec<Value>, KernelError> {
    // Each item: a flat element, or a slice along the axis.
    let (items, item_len, a) = match ax {
        None => (t.len(), 1, None),
        Some(ax) => {
            let a = axis(ax, t.shape.len())?;
            (t.shape[a], t.len() / t.shape[a].max(1), Some(a))
        }
    };
    let moved = match a {
        Some(a) => {
            let mut perm: Vec<usize> = (0..t.shape.len()).collect();
            perm.remove(a);
            perm.insert(0, a);
            transpose(t, &perm)?
        }
        None => t.clone(),
    };
    let key = |k: usize| moved.data.slice(k * item_len, (k + 1) * item_len);
    let nums = moved.data.to_f64();
    let cmp = |p: usize, q: usize| -> std::cmp::Ordering {
        match (&moved.data, &nums) {
            (Data::Str(s), _) => {
                s[p * item_len..(p + 1) * item_len].cmp(&s[q * item_len..(q + 1) * item_len])
            }
            (_, Some(v)) => {
                let (x, y) = (
                    &v[p * item_len..(p + 1) * item_len],
                    &v[q * item_len..(q + 1) * item_len],
                );
                x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal)
            }
            _ => std::cmp::Ordering::Equal,
        }
    };
    let mut first: Vec<usize> = Vec::new();
    let mut inverse = vec![0usize; items];
    for k in 0..items {
        match first.iter().position(|&f| key(f) == key(k)) {
            Some(u) => inverse[k] = u,
            None => {
                inverse[k] = first.len();
                first.push(k);
            }
        }
    }
    let mut order: Vec<usize> = (0..first.len()).collect();
    if sorted {
        order.sort_by(|&p, &q| cmp(first[p], first[q]));
    }
    let mut rank = vec![0usize; first.len()];
    for (r, &u) in order.iter().enumerate() {
        rank[u] = r;
    }
    let mut counts = vec![0i64; first.len()];
    for &u in &inverse {
        counts[rank[u]] += 1;
    }
    let firsts: Vec<usize> = order.iter().map(|&u| first[u]).collect();
    let picks: Vec<usize> = firsts
        .iter()
        .flat_map(|&f| f * item_len..(f + 1) * item_len)
        .collect();
    let y = match a {
        None => Tensor {
            shape: vec![firsts.len()],
            data: moved.data.gather(&picks),
        },
        Some(a) => {
            let mut shape = moved.shape.clone();
            shape[0] = firsts.len();
            let m = Tensor {
                shape,
                data: moved.data.gather(&picks),
            };
            let mut perm: Vec<usize> = (1..t.shape.len()).collect();
            perm.insert(a, 0);
            transpose(&m, &perm)?
        }
    };
    let vec64 = |v: Vec<i64>| Value::Tensor(Tensor::vector(v));
    Ok(vec![
        Value::Tensor(y),
        vec64(firsts.iter().map(|&f| f as i64).collect()),
        vec64(inverse.iter().map(|&u| rank[u] as i64).collect()),
        vec64(counts),
    ])
}

/// GatherElements' and ScatterElements' flat offsets into `t`: each index
/// of `idx` replaces its own coordinate along `axis`.
fn element_offsets(t: &Tensor, idx: &Tensor, axis_attr: i64) -> Result<Vec<usize>, KernelError> {
    let a = axis(axis_attr, t.shape.len())?;
    let ids = ints(idx)?;
    let (ts, is) = (strides(&t.shape), strides(&idx.shape));
    let mut c = vec![0; idx.shape.len()];
    (0..ids.len())
        .map(|k| {
            coords(k, &is, &mut c);
            c[a] = index(ids[k], t.shape[a])?;
            Ok(flat(&c, &ts))
        })
        .collect()
}
