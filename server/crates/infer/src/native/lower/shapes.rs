//! Shape arithmetic and small value helpers of the lowering.

use super::{R, Val};
use crate::error::KernelError;
use crate::value::{Data, Tensor};
use std::borrow::Cow;
use std::sync::Arc;

/// Values one tensor may hold on the native engine (1 GiB of f32): a
/// hostile model's shapes are refused, not allocated.
pub(super) const MAX_VALUES: usize = 1 << 28;

/// The number of values of `shape`, refused past [`MAX_VALUES`].
pub(super) fn numel(shape: &[usize]) -> R<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_VALUES)
        .ok_or_else(|| {
            KernelError::Limit(format!("a value of shape {shape:?} is larger than the native engine takes ({MAX_VALUES} values)"))
        })
}

pub(super) fn unsupported(what: impl std::fmt::Display) -> KernelError {
    KernelError::Unsupported(format!("{what} is outside the native engine"))
}

pub(super) fn normalize_axis(axis: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r.max(1) {
        return Err(KernelError::Shape(format!(
            "axis {axis} is out of range for rank {rank}"
        )));
    }
    Ok(if axis < 0 { axis + r } else { axis } as usize)
}

/// numpy broadcasting of several shapes.
pub(super) fn broadcast(shapes: &[&[usize]]) -> R<Vec<usize>> {
    neuride_onnx::broadcast::shape(shapes).map_err(|_| {
        KernelError::Shape(format!(
            "shapes {:?} do not broadcast",
            shapes.iter().collect::<Vec<_>>()
        ))
    })
}

pub(super) fn ints_of(t: &Tensor) -> R<Vec<i64>> {
    match &t.data {
        Data::I64(v) => Ok(v.clone()),
        Data::I32(v) => Ok(v.iter().map(|&x| x as i64).collect()),
        _ => Err(KernelError::Type(format!(
            "expected an integer tensor, found {}",
            t.dtype()
        ))),
    }
}

/// The tensor's values as f32: borrowed when they are f32 already (a
/// weight of hundreds of MB is not copied to be read once).
pub(super) fn floats_of(t: &Tensor) -> R<Cow<'_, [f32]>> {
    if let Data::F32(v) = &t.data {
        return Ok(Cow::Borrowed(v));
    }
    t.data
        .to_f32()
        .map(Cow::Owned)
        .ok_or_else(|| KernelError::Type(format!("expected a float tensor, found {}", t.dtype())))
}

pub(super) fn scalar_of(t: &Tensor) -> R<f32> {
    let v = floats_of(t)?;
    match &v[..] {
        [x] => Ok(*x),
        _ => Err(KernelError::Shape(format!(
            "expected a scalar, found shape {:?}",
            t.shape
        ))),
    }
}

pub(super) fn push_block(
    blocks: &mut Vec<(usize, usize, usize)>,
    from: usize,
    to: usize,
    len: usize,
) {
    if let Some(last) = blocks.last_mut()
        && last.0 + last.2 == from
        && last.1 + last.2 == to
    {
        last.2 += len;
        return;
    }
    if len > 0 {
        blocks.push((from, to, len));
    }
}

pub(super) fn with_shape(v: Val, shape: Vec<usize>) -> Val {
    match v {
        Val::Const(t) => Val::Const(Arc::new(Tensor {
            shape,
            data: t.data.clone(),
        })),
        Val::Run { root, boolean, .. } => Val::Run {
            root,
            shape,
            boolean,
        },
    }
}

pub(super) fn with_bool(v: Val, boolean: bool) -> Val {
    match v {
        Val::Run { root, shape, .. } => Val::Run {
            root,
            shape,
            boolean,
        },
        c => c,
    }
}

pub(super) fn transposed(t: &Tensor) -> R<Tensor> {
    let v = floats_of(t)?;
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut out = vec![0.0; r * c];
    // In tiles: walking whole rows wrote a new cache line per element, a
    // sixth of loading VGG-19 (its 25088 x 4096 Gemm weight, transB = 1).
    const TILE: usize = 32;
    for i0 in (0..r).step_by(TILE) {
        for j0 in (0..c).step_by(TILE) {
            for i in i0..(i0 + TILE).min(r) {
                for j in j0..(j0 + TILE).min(c) {
                    out[j * r + i] = v[i * c + j];
                }
            }
        }
    }
    Ok(Tensor {
        shape: vec![c, r],
        data: Data::F32(out),
    })
}

pub(super) fn reshape(shape: &[usize], spec: &[i64], allow_zero: bool) -> R<Vec<usize>> {
    let total: usize = shape.iter().product();
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (d, &s) in spec.iter().enumerate() {
        match s {
            -1 if infer.is_none() => {
                infer = Some(d);
                out.push(1);
            }
            0 if !allow_zero => out.push(*shape.get(d).ok_or_else(|| {
                KernelError::Shape(format!("shape {spec:?} copies axis {d} the input lacks"))
            })?),
            s if s >= 0 => out.push(s as usize),
            _ => {
                return Err(KernelError::Shape(format!(
                    "shape {spec:?} is not a valid Reshape target"
                )));
            }
        }
    }
    let known: usize = out.iter().product();
    if let Some(d) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(KernelError::Shape(format!(
                "cannot reshape {shape:?} to {spec:?}"
            )));
        }
        out[d] = total / known;
    }
    if out.iter().product::<usize>() != total {
        return Err(KernelError::Shape(format!(
            "cannot reshape {shape:?} ({total} values) to {spec:?}"
        )));
    }
    Ok(out)
}

pub(super) fn squeeze(shape: &[usize], axes: Option<&[i64]>) -> R<Vec<usize>> {
    match axes {
        None => Ok(shape.iter().copied().filter(|&d| d != 1).collect()),
        Some(axes) => {
            let mut drop = Vec::new();
            for &a in axes {
                let d = normalize_axis(a, shape.len())?;
                if shape[d] != 1 {
                    return Err(KernelError::Shape(format!(
                        "axis {a} of {shape:?} is not 1"
                    )));
                }
                drop.push(d);
            }
            Ok(shape
                .iter()
                .enumerate()
                .filter(|(d, _)| !drop.contains(d))
                .map(|(_, &n)| n)
                .collect())
        }
    }
}

pub(super) fn unsqueeze(shape: &[usize], axes: &[i64]) -> R<Vec<usize>> {
    let rank = shape.len() + axes.len();
    let mut ones = Vec::new();
    for &a in axes {
        ones.push(normalize_axis(a, rank)?);
    }
    let mut rest = shape.iter();
    Ok((0..rank)
        .map(|d| {
            if ones.contains(&d) {
                1
            } else {
                *rest.next().unwrap_or(&1)
            }
        })
        .collect())
}
