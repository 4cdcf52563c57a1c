//! Reductions (Reduce*, ArgMax/ArgMin), softmax family (Softmax,
//! LogSoftmax, Hardmax), running sums and products (CumSum, CumProd) and
//! LpNormalization. Integer sums, products and extrema are exact in the
//! tensor's type; float reductions accumulate in f64.

use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::num::{Num, axis, bad_type, ints, num_match, split_at, strides};
use crate::value::{Data, Tensor};

pub(super) fn register(reg: &mut Registry) {
    reg.add(
        &[
            "ReduceSum",
            "ReduceMean",
            "ReduceMax",
            "ReduceMin",
            "ReduceProd",
            "ReduceLogSumExp",
            "ReduceSumSquare",
            "ReduceL1",
            "ReduceL2",
            "ReduceLogSum",
        ],
        |name, a, _| {
            let r = match name {
                "ReduceSum" => Reduce::Sum,
                "ReduceMean" => Reduce::Mean,
                "ReduceMax" => Reduce::Max,
                "ReduceMin" => Reduce::Min,
                "ReduceProd" => Reduce::Prod,
                "ReduceLogSumExp" => Reduce::LogSumExp,
                "ReduceSumSquare" => Reduce::SumSquare,
                "ReduceL1" => Reduce::L1,
                "ReduceL2" => Reduce::L2,
                _ => Reduce::LogSum,
            };
            let keep = a.i("keepdims").unwrap_or(1) != 0;
            let noop = a.i("noop_with_empty_axes").unwrap_or(0) != 0;
            let attr_axes = a.ints("axes");
            op(move |i| {
                let axes = match opt(i, 1)? {
                    Some(x) => Some(ints(x)?),
                    None => attr_axes.clone(),
                };
                one(reduce(arg(i, 0)?, axes, keep, noop, r)?)
            })
        },
    );
    reg.add(&["ArgMax", "ArgMin"], |name, a, _| {
        let (ax, keep, last, max) = (
            a.i("axis").unwrap_or(0),
            a.i("keepdims").unwrap_or(1) != 0,
            a.i("select_last_index").unwrap_or(0) != 0,
            name == "ArgMax",
        );
        op(move |i| one(argext(arg(i, 0)?, ax, keep, last, max)?))
    });
    reg.add(&["Softmax", "LogSoftmax", "Hardmax"], |name, a, opset| {
        let ax = a.i("axis").unwrap_or(if opset < 13 { 1 } else { -1 });
        let kind = match name {
            "Softmax" => Soft::Softmax,
            "LogSoftmax" => Soft::Log,
            _ => Soft::Hard,
        };
        op(move |i| one(softmax(arg(i, 0)?, ax, opset, kind)?))
    });
    reg.add(&["CumSum", "CumProd"], |name, a, _| {
        let exclusive = a.i("exclusive").unwrap_or(0) != 0;
        let reverse = a.i("reverse").unwrap_or(0) != 0;
        let product = name == "CumProd";
        op(move |i| {
            let t = arg(i, 0)?;
            let ax = *ints(arg(i, 1)?)?
                .first()
                .ok_or_else(|| KernelError::Shape("axis is empty".to_owned()))?;
            one(cumulate(t, ax, exclusive, reverse, product)?)
        })
    });
    reg.add(&["LpNormalization"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(-1);
        let p = a.i("p").unwrap_or(2);
        op(move |i| {
            let t = arg(i, 0)?;
            let norms = reduce(
                t,
                Some(vec![ax]),
                true,
                false,
                if p == 1 { Reduce::L1 } else { Reduce::L2 },
            )?;
            let x = crate::ml::num::floats(t, "LpNormalization")?;
            let n = norms.data.to_f64().unwrap_or_default();
            let idx = neuride_onnx::broadcast::index_map(&t.shape, &norms.shape);
            let v = x
                .iter()
                .zip(&idx)
                .map(|(&x, &k)| if n[k] == 0.0 { 0.0 } else { x / n[k] })
                .collect();
            one(crate::ml::num::tensor_f64(t.shape.clone(), t.dtype(), v))
        })
    });
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    LogSumExp,
    SumSquare,
    L1,
    L2,
    LogSum,
}

/// For each input element, the flat index of its output element.
fn targets(shape: &[usize], axes: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let out_full: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let os = strides(&out_full);
    let is = strides(shape);
    let total: usize = shape.iter().product();
    let map = (0..total)
        .map(|flat| {
            (0..shape.len())
                .filter(|d| !axes.contains(d))
                .map(|d| ((flat / is[d]) % shape[d]) * os[d])
                .sum()
        })
        .collect();
    (out_full, map)
}

pub(crate) fn reduce(
    t: &Tensor,
    axes: Option<Vec<i64>>,
    keepdims: bool,
    noop_empty: bool,
    op: Reduce,
) -> Result<Tensor, KernelError> {
    let rank = t.shape.len();
    let axes: Vec<usize> = match axes {
        Some(a) if !a.is_empty() => a.iter().map(|&x| axis(x, rank)).collect::<Result<_, _>>()?,
        _ if noop_empty => return Ok(t.clone()),
        _ => (0..rank).collect(),
    };
    let (out_full, map) = targets(&t.shape, &axes);
    let out_len: usize = out_full.iter().product();
    let count: usize = axes.iter().map(|&a| t.shape[a]).product();
    let data = match &t.data {
        Data::Bool(v) if matches!(op, Reduce::Max | Reduce::Min) => {
            let init = op == Reduce::Min;
            let mut acc = vec![init; out_len];
            for (k, &x) in v.iter().enumerate() {
                let a = &mut acc[map[k]];
                *a = if op == Reduce::Max { *a || x } else { *a && x };
            }
            Data::Bool(acc)
        }
        d if d.dtype().is_int()
            && matches!(
                op,
                Reduce::Sum
                    | Reduce::Prod
                    | Reduce::Max
                    | Reduce::Min
                    | Reduce::SumSquare
                    | Reduce::L1
            ) =>
        {
            fn go<T: Num>(v: &[T], map: &[usize], out_len: usize, op: Reduce) -> Data {
                let init = match op {
                    Reduce::Prod => T::one(),
                    Reduce::Max => T::lowest(),
                    Reduce::Min => T::highest(),
                    _ => T::zero(),
                };
                let mut acc = vec![init; out_len];
                for (k, &x) in v.iter().enumerate() {
                    let a = &mut acc[map[k]];
                    *a = match op {
                        Reduce::Sum => a.add(x),
                        Reduce::Prod => a.mul(x),
                        Reduce::Max => {
                            if x > *a {
                                x
                            } else {
                                *a
                            }
                        }
                        Reduce::Min => {
                            if x < *a {
                                x
                            } else {
                                *a
                            }
                        }
                        Reduce::SumSquare => a.add(x.mul(x)),
                        _ => a.add(x.abs()),
                    };
                }
                T::wrap(acc)
            }
            num_match!(d, v => go(v, &map, out_len, op), unreachable!("integer data"))
        }
        d => {
            let x = d
                .to_f64()
                .ok_or_else(|| bad_type("reductions", d.dtype()))?;
            let init = match op {
                Reduce::Max => f64::NEG_INFINITY,
                Reduce::Min => f64::INFINITY,
                Reduce::Prod => 1.0,
                _ => 0.0,
            };
            let mut acc = vec![init; out_len];
            let lse_max: Vec<f64> = if op == Reduce::LogSumExp {
                let mut m = vec![f64::NEG_INFINITY; out_len];
                for (k, &v) in x.iter().enumerate() {
                    if v > m[map[k]] {
                        m[map[k]] = v;
                    }
                }
                m.iter()
                    .map(|&v| if v.is_finite() { v } else { 0.0 })
                    .collect()
            } else {
                Vec::new()
            };
            for (k, &v) in x.iter().enumerate() {
                let o = map[k];
                let a = &mut acc[o];
                match op {
                    Reduce::Sum | Reduce::Mean | Reduce::LogSum => *a += v,
                    Reduce::SumSquare | Reduce::L2 => *a += v * v,
                    Reduce::L1 => *a += v.abs(),
                    Reduce::Max => *a = if v > *a || v.is_nan() { v } else { *a },
                    Reduce::Min => *a = if v < *a || v.is_nan() { v } else { *a },
                    Reduce::Prod => *a *= v,
                    Reduce::LogSumExp => *a += (v - lse_max[o]).exp(),
                }
            }
            for (o, a) in acc.iter_mut().enumerate() {
                *a = match op {
                    Reduce::Mean => *a / count as f64,
                    Reduce::LogSumExp => a.ln() + lse_max[o],
                    Reduce::LogSum => a.ln(),
                    Reduce::L2 => a.sqrt(),
                    _ => *a,
                };
            }
            // Mean, L2 and the logarithms of integers truncate back.
            Data::from_f64(d.dtype(), acc)
        }
    };
    let shape = if keepdims {
        out_full
    } else {
        t.shape
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect()
    };
    Ok(Tensor { shape, data })
}

fn argext(
    t: &Tensor,
    ax: i64,
    keepdims: bool,
    last: bool,
    max: bool,
) -> Result<Tensor, KernelError> {
    let a = axis(ax, t.shape.len())?;
    let x = crate::ml::num::floats(t, "ArgMax/ArgMin")?;
    let (outer, n, inner) = split_at(&t.shape, a);
    if n == 0 {
        return Err(KernelError::Shape(
            "ArgMax/ArgMin over an empty axis".to_owned(),
        ));
    }
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0;
            for k in 1..n {
                let (v, b) = (x[(o * n + k) * inner + i], x[(o * n + best) * inner + i]);
                if b.is_nan() {
                    continue;
                }
                let better = v.is_nan()
                    || if max {
                        v > b || (last && v == b)
                    } else {
                        v < b || (last && v == b)
                    };
                if better {
                    best = k;
                }
            }
            out.push(best as i64);
        }
    }
    let mut shape = t.shape.clone();
    if keepdims {
        shape[a] = 1;
    } else {
        shape.remove(a);
    }
    Ok(Tensor {
        shape,
        data: Data::I64(out),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Soft {
    Softmax,
    Log,
    Hard,
}

fn softmax(t: &Tensor, ax: i64, opset: i64, kind: Soft) -> Result<Tensor, KernelError> {
    let rank = t.shape.len();
    let a = axis(ax, rank)?;
    let x = crate::ml::num::floats(t, "Softmax")?;
    // Before opset 13 the input is coerced to 2-D at `axis`; from 13 on, one axis.
    let (outer, n, inner) = if opset < 13 {
        (
            t.shape[..a].iter().product(),
            t.shape[a..].iter().product(),
            1,
        )
    } else {
        split_at(&t.shape, a)
    };
    let mut out = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * n + k) * inner + i;
            if kind == Soft::Hard {
                let mut best = 0;
                for k in 1..n {
                    if x[at(k)] > x[at(best)] {
                        best = k;
                    }
                }
                if n > 0 {
                    out[at(best)] = 1.0;
                }
                continue;
            }
            let m = (0..n).map(|k| x[at(k)]).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..n).map(|k| (x[at(k)] - m).exp()).sum();
            for k in 0..n {
                out[at(k)] = if kind == Soft::Log {
                    x[at(k)] - m - sum.ln()
                } else {
                    (x[at(k)] - m).exp() / sum
                };
            }
        }
    }
    Ok(crate::ml::num::tensor_f64(t.shape.clone(), t.dtype(), out))
}

fn cumulate(
    t: &Tensor,
    ax: i64,
    exclusive: bool,
    reverse: bool,
    product: bool,
) -> Result<Tensor, KernelError> {
    fn go<T: Num>(
        v: &[T],
        shape: &[usize],
        a: usize,
        exclusive: bool,
        reverse: bool,
        product: bool,
    ) -> Data {
        let (outer, n, inner) = split_at(shape, a);
        let mut out = vec![T::zero(); v.len()];
        for o in 0..outer {
            for i in 0..inner {
                let mut acc = if product { T::one() } else { T::zero() };
                for step in 0..n {
                    let k = if reverse { n - 1 - step } else { step };
                    let at = (o * n + k) * inner + i;
                    let x = v[at];
                    let next = if product { acc.mul(x) } else { acc.add(x) };
                    out[at] = if exclusive { acc } else { next };
                    acc = next;
                }
            }
        }
        T::wrap(out)
    }
    let a = axis(ax, t.shape.len())?;
    let data = num_match!(&t.data, v => go(v, &t.shape, a, exclusive, reverse, product),
        return Err(bad_type("CumSum/CumProd", t.dtype())));
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
}
