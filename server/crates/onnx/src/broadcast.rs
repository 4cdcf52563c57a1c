//! numpy (multidirectional) broadcasting, as ONNX's elementwise ops, MatMul's
//! batch axes and Expand use it: over symbolic dims for the shape rules and
//! over sizes for the engines, one rule for both.

use crate::shape::Dim;

/// Multidirectional (numpy) broadcasting; `Err` names the first clash.
pub fn dims(shapes: &[&[Dim]]) -> Result<Vec<Dim>, (usize, usize)> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let dims: Vec<(usize, &Dim)> = shapes
            .iter()
            .enumerate()
            .filter_map(|(k, s)| (i + s.len()).checked_sub(rank).map(|j| (k, &s[j])))
            .collect();
        let mut known: Option<(usize, i64)> = None;
        for &(k, d) in &dims {
            if let Dim::Known(v) = d {
                if *v == 1 {
                    continue;
                }
                match known {
                    Some((k0, v0)) if v0 != *v => return Err((k0, k)),
                    _ => known = Some((k, *v)),
                }
            }
        }
        let d = if let Some((_, v)) = known {
            Dim::Known(v)
        } else {
            let others: Vec<&Dim> = dims
                .iter()
                .map(|(_, d)| *d)
                .filter(|d| **d != Dim::Known(1))
                .collect();
            match others.first() {
                None => Dim::Known(1),
                Some(first)
                    if matches!(first, Dim::Sym(_)) && others.iter().all(|d| d == first) =>
                {
                    (*first).clone()
                }
                _ => Dim::Unknown,
            }
        };
        out.push(d);
    }
    Ok(out)
}

/// Broadcasting of known sizes; `Err` names the first two inputs that clash.
pub fn shape(shapes: &[&[usize]]) -> Result<Vec<usize>, (usize, usize)> {
    let known: Vec<Vec<Dim>> = shapes
        .iter()
        .map(|s| s.iter().map(|&d| Dim::Known(d as i64)).collect())
        .collect();
    let views: Vec<&[Dim]> = known.iter().map(Vec::as_slice).collect();
    Ok(dims(&views)?
        .into_iter()
        .map(|d| d.known().map_or(0, |v| v as usize))
        .collect())
}

/// For each element of `out` (row-major), the flat index of the element of an
/// operand of shape `own` that broadcasts onto it. `own` must broadcast to `out`.
pub fn index_map(out: &[usize], own: &[usize]) -> Vec<usize> {
    let total: usize = out.iter().product();
    if own == out {
        return (0..total).collect();
    }
    let offset = out.len() - own.len();
    let mut strides = vec![0usize; out.len()];
    let mut s = 1;
    for i in (0..own.len()).rev() {
        strides[i + offset] = if own[i] == 1 { 0 } else { s };
        s *= own[i];
    }
    strided_offsets(out, &strides)
}

/// For each element of `shape` (row-major), the sum of its coordinates
/// times `strides`: the flat index it reads in a strided view.
pub fn strided_offsets(shape: &[usize], strides: &[usize]) -> Vec<usize> {
    let total: usize = shape.iter().product();
    let mut index = Vec::with_capacity(total);
    let mut counter = vec![0usize; shape.len()];
    let mut flat = 0usize;
    for _ in 0..total {
        index.push(flat);
        for d in (0..shape.len()).rev() {
            counter[d] += 1;
            flat += strides[d];
            if counter[d] < shape[d] {
                break;
            }
            flat -= strides[d] * counter[d];
            counter[d] = 0;
        }
    }
    index
}
