//! Default-domain operators for the ML evaluator: the glue converters put
//! around `ai.onnx.ml` ops (casts, arithmetic with numpy broadcasting,
//! shape ops, reductions, ArgMax, Softmax, MatMul, Gemm, ...). Floats are
//! computed in f64 and rounded to the tensor's type, which is exact for + - × ÷
//! and sqrt; integers stay integers.

use super::{Attrs, BoxKernel, Kernel};
use crate::value::{DType, Data, Tensor, Value};
use neuride_onnx::broadcast;
use std::collections::HashMap;
use std::sync::OnceLock;

struct Op<F: Fn(&[Option<&Value>]) -> Result<Vec<Value>, String> + Send + Sync>(F);

impl<F: Fn(&[Option<&Value>]) -> Result<Vec<Value>, String> + Send + Sync> Kernel for Op<F> {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, String> {
        (self.0)(inputs)
    }
}

fn op(
    f: impl Fn(&[Option<&Value>]) -> Result<Vec<Value>, String> + Send + Sync + 'static,
) -> Result<BoxKernel, String> {
    Ok(Box::new(Op(f)))
}

fn arg<'a>(inputs: &[Option<&'a Value>], i: usize) -> Result<&'a Tensor, String> {
    super::basic::input_tensor(inputs, i)
}

fn one(t: Tensor) -> Result<Vec<Value>, String> {
    Ok(vec![Value::Tensor(t)])
}

fn is_int(d: DType) -> bool {
    matches!(d, DType::I64 | DType::I32 | DType::U8 | DType::I8)
}

fn ints_of(t: &Tensor) -> Result<Vec<i64>, String> {
    Ok(match &t.data {
        Data::I64(v) => v.clone(),
        Data::I32(v) => v.iter().map(|&x| x as i64).collect(),
        Data::U8(v) => v.iter().map(|&x| x as i64).collect(),
        Data::I8(v) => v.iter().map(|&x| x as i64).collect(),
        Data::Bool(v) => v.iter().map(|&x| x as i64).collect(),
        other => other
            .to_f64()
            .ok_or("expected numbers")?
            .into_iter()
            .map(|x| x as i64)
            .collect(),
    })
}

fn from_f64(v: Vec<f64>, dtype: DType) -> Data {
    match dtype {
        DType::F32 => Data::F32(v.into_iter().map(|x| x as f32).collect()),
        DType::F64 => Data::F64(v),
        DType::I64 => Data::I64(v.into_iter().map(|x| x as i64).collect()),
        DType::I32 => Data::I32(v.into_iter().map(|x| x as i32).collect()),
        DType::U8 => Data::U8(v.into_iter().map(|x| x as u8).collect()),
        DType::I8 => Data::I8(v.into_iter().map(|x| x as i8).collect()),
        DType::Bool => Data::Bool(v.into_iter().map(|x| x != 0.0).collect()),
        DType::Str => Data::Str(v.into_iter().map(|x| x.to_string()).collect()),
    }
}

fn from_i64(v: Vec<i64>, dtype: DType) -> Data {
    match dtype {
        DType::I64 => Data::I64(v),
        DType::I32 => Data::I32(v.into_iter().map(|x| x as i32).collect()),
        DType::U8 => Data::U8(v.into_iter().map(|x| x as u8).collect()),
        DType::I8 => Data::I8(v.into_iter().map(|x| x as i8).collect()),
        DType::Bool => Data::Bool(v.into_iter().map(|x| x != 0).collect()),
        other => from_f64(v.into_iter().map(|x| x as f64).collect(), other),
    }
}

// ---------------------------------------------------------------- broadcasting

fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    broadcast::shape(&[a, b]).map_err(|_| format!("shapes {a:?} and {b:?} do not broadcast"))
}

fn expand_to(t: &Tensor, shape: &[usize]) -> Tensor {
    if t.shape == shape {
        return t.clone();
    }
    Tensor {
        shape: shape.to_vec(),
        data: t.data.gather(&broadcast::index_map(shape, &t.shape)),
    }
}

#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
}

fn arith(a: &Tensor, b: &Tensor, op: Bin) -> Result<Tensor, String> {
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    let (ia, ib) = (
        broadcast::index_map(&shape, &a.shape),
        broadcast::index_map(&shape, &b.shape),
    );
    let dtype = a.dtype();
    if is_int(dtype) && is_int(b.dtype()) && !matches!(op, Bin::Pow) {
        let (x, y) = (ints_of(a)?, ints_of(b)?);
        let mut out = Vec::with_capacity(ia.len());
        for (&i, &j) in ia.iter().zip(&ib) {
            let (p, q) = (x[i], y[j]);
            out.push(match op {
                Bin::Add => p.wrapping_add(q),
                Bin::Sub => p.wrapping_sub(q),
                Bin::Mul => p.wrapping_mul(q),
                Bin::Div => p.checked_div(q).ok_or("integer division by zero")?,
                Bin::Max => p.max(q),
                Bin::Min => p.min(q),
                Bin::Pow => unreachable!(),
            });
        }
        return Ok(Tensor {
            shape,
            data: from_i64(out, dtype),
        });
    }
    let x = a.data.to_f64().ok_or("arithmetic needs numbers")?;
    let y = b.data.to_f64().ok_or("arithmetic needs numbers")?;
    let out = ia
        .iter()
        .zip(&ib)
        .map(|(&i, &j)| {
            let (p, q) = (x[i], y[j]);
            match op {
                Bin::Add => p + q,
                Bin::Sub => p - q,
                Bin::Mul => p * q,
                Bin::Div => p / q,
                Bin::Pow => p.powf(q),
                Bin::Max => {
                    if p.is_nan() || q.is_nan() {
                        f64::NAN
                    } else {
                        p.max(q)
                    }
                }
                Bin::Min => {
                    if p.is_nan() || q.is_nan() {
                        f64::NAN
                    } else {
                        p.min(q)
                    }
                }
            }
        })
        .collect();
    Ok(Tensor {
        shape,
        data: from_f64(out, dtype),
    })
}

fn variadic(inputs: &[Option<&Value>], op: Bin) -> Result<Vec<Value>, String> {
    let mut acc = arg(inputs, 0)?.clone();
    for i in 1..inputs.len() {
        acc = arith(&acc, arg(inputs, i)?, op)?;
    }
    one(acc)
}

#[derive(Clone, Copy)]
enum Cmp {
    Less,
    Greater,
    Equal,
    LessEq,
    GreaterEq,
}

fn compare(a: &Tensor, b: &Tensor, op: Cmp) -> Result<Tensor, String> {
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    let (ia, ib) = (
        broadcast::index_map(&shape, &a.shape),
        broadcast::index_map(&shape, &b.shape),
    );
    let out: Vec<bool> = match (&a.data, &b.data) {
        (Data::Str(x), Data::Str(y)) if matches!(op, Cmp::Equal) => {
            ia.iter().zip(&ib).map(|(&i, &j)| x[i] == y[j]).collect()
        }
        _ if is_int(a.dtype()) && is_int(b.dtype()) => {
            let (x, y) = (ints_of(a)?, ints_of(b)?);
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| cmp(x[i], y[j], op))
                .collect()
        }
        _ => {
            let x = a.data.to_f64().ok_or("comparison needs numbers")?;
            let y = b.data.to_f64().ok_or("comparison needs numbers")?;
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| cmp(x[i], y[j], op))
                .collect()
        }
    };
    Ok(Tensor {
        shape,
        data: Data::Bool(out),
    })
}

fn cmp<T: PartialOrd>(p: T, q: T, op: Cmp) -> bool {
    match op {
        Cmp::Less => p < q,
        Cmp::Greater => p > q,
        Cmp::Equal => p == q,
        Cmp::LessEq => p <= q,
        Cmp::GreaterEq => p >= q,
    }
}

fn logic(a: &Tensor, b: &Tensor, f: fn(bool, bool) -> bool) -> Result<Tensor, String> {
    let (Data::Bool(x), Data::Bool(y)) = (&a.data, &b.data) else {
        return Err("logical ops need bool tensors".to_owned());
    };
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    let (ia, ib) = (
        broadcast::index_map(&shape, &a.shape),
        broadcast::index_map(&shape, &b.shape),
    );
    Ok(Tensor {
        shape,
        data: Data::Bool(ia.iter().zip(&ib).map(|(&i, &j)| f(x[i], y[j])).collect()),
    })
}

fn unary(t: &Tensor, f: fn(f64) -> f64) -> Result<Tensor, String> {
    let x = t
        .data
        .to_f64()
        .ok_or_else(|| format!("expected numbers, found {}", t.dtype()))?;
    Ok(Tensor {
        shape: t.shape.clone(),
        data: from_f64(x.into_iter().map(f).collect(), t.dtype()),
    })
}

// ---------------------------------------------------------------- casts

fn cast(t: &Tensor, to: DType) -> Result<Tensor, String> {
    if t.dtype() == to {
        return Ok(t.clone());
    }
    let data = match (&t.data, to) {
        (Data::Str(v), DType::Str) => Data::Str(v.clone()),
        (Data::Str(v), _) => {
            let parsed: Result<Vec<f64>, _> = v.iter().map(|s| s.trim().parse::<f64>()).collect();
            from_f64(
                parsed.map_err(|_| "a string is not a number".to_owned())?,
                to,
            )
        }
        (Data::F32(v), DType::Str) => {
            Data::Str(v.iter().map(|x| format_float(*x as f64)).collect())
        }
        (Data::F64(v), DType::Str) => Data::Str(v.iter().map(|x| format_float(*x)).collect()),
        (Data::Bool(v), DType::Str) => {
            Data::Str(v.iter().map(|&x| (x as u8).to_string()).collect())
        }
        (_, DType::Str) => Data::Str(ints_of(t)?.iter().map(|x| x.to_string()).collect()),
        (d, _) if is_int(d.dtype()) || d.dtype() == DType::Bool => from_i64(ints_of(t)?, to),
        (d, _) => from_f64(d.to_f64().unwrap(), to),
    };
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
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

// ---------------------------------------------------------------- shapes

fn norm_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r.max(1) {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    Ok(a as usize)
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

fn reshape(t: &Tensor, spec: &[i64], allow_zero: bool) -> Result<Tensor, String> {
    let mut shape = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        shape.push(match d {
            -1 => {
                if infer.replace(i).is_some() {
                    return Err("more than one -1 in the shape".to_owned());
                }
                1
            }
            0 if !allow_zero => *t
                .shape
                .get(i)
                .ok_or("0 copies a dimension the input lacks")?,
            d if d >= 0 => d as usize,
            d => return Err(format!("bad dimension {d}")),
        });
    }
    if let Some(i) = infer {
        let known: usize = shape.iter().product();
        if known == 0 || t.len() % known != 0 {
            return Err(format!("cannot reshape {:?} into {spec:?}", t.shape));
        }
        shape[i] = t.len() / known;
    }
    if shape.iter().product::<usize>() != t.len() {
        return Err(format!("cannot reshape {:?} into {spec:?}", t.shape));
    }
    Ok(Tensor {
        shape,
        data: t.data.clone(),
    })
}

fn transpose(t: &Tensor, perm: &[usize]) -> Result<Tensor, String> {
    let rank = t.shape.len();
    if perm.len() != rank || (0..rank).any(|i| !perm.contains(&i)) {
        return Err(format!("perm {perm:?} is not a permutation of rank {rank}"));
    }
    let shape: Vec<usize> = perm.iter().map(|&p| t.shape[p]).collect();
    let src = strides(&t.shape);
    let total = t.len();
    let mut idx = Vec::with_capacity(total);
    let mut counter = vec![0usize; rank];
    for _ in 0..total {
        idx.push(counter.iter().zip(perm).map(|(&c, &p)| c * src[p]).sum());
        for d in (0..rank).rev() {
            counter[d] += 1;
            if counter[d] < shape[d] {
                break;
            }
            counter[d] = 0;
        }
    }
    Ok(Tensor {
        shape,
        data: t.data.gather(&idx),
    })
}

/// Splits a shape at `axis` into (outer, axis length, inner).
fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape.get(axis).copied().unwrap_or(1),
        shape[(axis + 1).min(shape.len())..].iter().product(),
    )
}

#[derive(Clone, Copy)]
enum Reduce {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    LogSumExp,
    SumSquare,
}

fn reduce(
    t: &Tensor,
    axes: Option<Vec<i64>>,
    keepdims: bool,
    noop_empty: bool,
    op: Reduce,
) -> Result<Tensor, String> {
    let rank = t.shape.len();
    let axes: Vec<usize> = match axes {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|&x| norm_axis(x, rank))
            .collect::<Result<_, _>>()?,
        _ if noop_empty => return Ok(t.clone()),
        _ => (0..rank).collect(),
    };
    let x = t.data.to_f64().ok_or("reductions need numbers")?;
    let out_full: Vec<usize> = t
        .shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let out_len: usize = out_full.iter().product();
    let out_strides = strides(&out_full);
    let mut acc: Vec<f64> = vec![
        match op {
            Reduce::Max => f64::NEG_INFINITY,
            Reduce::Min => f64::INFINITY,
            Reduce::Prod => 1.0,
            _ => 0.0,
        };
        out_len
    ];
    let in_strides = strides(&t.shape);
    let lse_max: Vec<f64> = if matches!(op, Reduce::LogSumExp) {
        reduce(
            t,
            Some(axes.iter().map(|&a| a as i64).collect()),
            true,
            false,
            Reduce::Max,
        )?
        .data
        .to_f64()
        .unwrap()
    } else {
        Vec::new()
    };
    for (flat, &v) in x.iter().enumerate() {
        let mut o = 0;
        for d in 0..rank {
            let c = (flat / in_strides[d]) % t.shape[d];
            if !axes.contains(&d) {
                o += c * out_strides[d];
            }
        }
        let a = &mut acc[o];
        match op {
            Reduce::Sum | Reduce::Mean => *a += v,
            Reduce::SumSquare => *a += v * v,
            Reduce::Max => *a = if v > *a || v.is_nan() { v } else { *a },
            Reduce::Min => *a = if v < *a || v.is_nan() { v } else { *a },
            Reduce::Prod => *a *= v,
            Reduce::LogSumExp => *a += (v - lse_max[o]).exp(),
        }
    }
    let count: usize = axes.iter().map(|&a| t.shape[a]).product();
    match op {
        Reduce::Mean => acc.iter_mut().for_each(|a| *a /= count as f64),
        Reduce::LogSumExp => acc
            .iter_mut()
            .zip(&lse_max)
            .for_each(|(a, m)| *a = a.ln() + m),
        _ => {}
    }
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
    Ok(Tensor {
        shape,
        data: from_f64(acc, t.dtype()),
    })
}

fn argext(t: &Tensor, axis: i64, keepdims: bool, last: bool, max: bool) -> Result<Tensor, String> {
    let axis = norm_axis(axis, t.shape.len())?;
    let x = t.data.to_f64().ok_or("ArgMax/ArgMin need numbers")?;
    let (outer, n, inner) = split(&t.shape, axis);
    if n == 0 {
        return Err("ArgMax/ArgMin over an empty axis".to_owned());
    }
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0;
            for k in 1..n {
                let (v, b) = (x[(o * n + k) * inner + i], x[(o * n + best) * inner + i]);
                let better = if max {
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
        shape[axis] = 1;
    } else {
        shape.remove(axis);
    }
    Ok(Tensor {
        shape,
        data: Data::I64(out),
    })
}

fn softmax(t: &Tensor, axis: i64, opset: i64, log: bool) -> Result<Tensor, String> {
    let rank = t.shape.len();
    let axis = norm_axis(axis, rank)?;
    let x = t.data.to_f64().ok_or("Softmax needs numbers")?;
    // Before opset 13 the input is coerced to 2-D at `axis`; from 13 on, one axis.
    let (outer, n, inner) = if opset < 13 {
        (
            t.shape[..axis].iter().product(),
            t.shape[axis..].iter().product(),
            1,
        )
    } else {
        split(&t.shape, axis)
    };
    let mut out = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * n + k) * inner + i;
            let m = (0..n).map(|k| x[at(k)]).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..n).map(|k| (x[at(k)] - m).exp()).sum();
            for k in 0..n {
                out[at(k)] = if log {
                    x[at(k)] - m - sum.ln()
                } else {
                    (x[at(k)] - m).exp() / sum
                };
            }
        }
    }
    Ok(Tensor {
        shape: t.shape.clone(),
        data: from_f64(out, t.dtype()),
    })
}

fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    let (x, y) = (
        a.data.to_f64().ok_or("MatMul needs numbers")?,
        b.data.to_f64().ok_or("MatMul needs numbers")?,
    );
    let mut ashape = a.shape.clone();
    let mut bshape = b.shape.clone();
    let (a1, b1) = (ashape.len() == 1, bshape.len() == 1);
    if a1 {
        ashape.insert(0, 1);
    }
    if b1 {
        bshape.push(1);
    }
    if ashape.len() < 2 || bshape.len() < 2 {
        return Err("MatMul needs tensors of rank >= 1".to_owned());
    }
    let (m, k) = (ashape[ashape.len() - 2], ashape[ashape.len() - 1]);
    let (k2, n) = (bshape[bshape.len() - 2], bshape[bshape.len() - 1]);
    if k != k2 {
        return Err(format!(
            "MatMul of {:?} and {:?}: inner dimensions differ",
            a.shape, b.shape
        ));
    }
    let batch = broadcast_shape(&ashape[..ashape.len() - 2], &bshape[..bshape.len() - 2])?;
    let ia = broadcast::index_map(&batch, &ashape[..ashape.len() - 2]);
    let ib = broadcast::index_map(&batch, &bshape[..bshape.len() - 2]);
    let mut out = vec![0.0; ia.len() * m * n];
    for (bi, (&pa, &pb)) in ia.iter().zip(&ib).enumerate() {
        for r in 0..m {
            for c in 0..n {
                let mut s = 0.0;
                for j in 0..k {
                    s += x[pa * m * k + r * k + j] * y[pb * k * n + j * n + c];
                }
                out[bi * m * n + r * n + c] = s;
            }
        }
    }
    let mut shape = batch;
    if !a1 {
        shape.push(m);
    }
    if !b1 {
        shape.push(n);
    }
    Ok(Tensor {
        shape,
        data: from_f64(out, a.dtype()),
    })
}

fn slice(
    t: &Tensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<Vec<i64>>,
    steps: Option<Vec<i64>>,
) -> Result<Tensor, String> {
    let rank = t.shape.len();
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    let mut ranges: Vec<Vec<usize>> = t.shape.iter().map(|&d| (0..d).collect()).collect();
    for (i, &ax) in axes.iter().enumerate() {
        let ax = norm_axis(ax, rank)?;
        let d = t.shape[ax] as i64;
        let step = *steps.get(i).unwrap_or(&1);
        if step == 0 {
            return Err("Slice step 0".to_owned());
        }
        let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
        let fix = |v: i64| if v < 0 { v + d } else { v };
        let (mut s, mut e) = (
            fix(starts[i]),
            fix(*ends.get(i).ok_or("Slice ends shorter than starts")?),
        );
        let mut picks = Vec::new();
        if step > 0 {
            s = clamp(s, 0, d);
            e = clamp(e, 0, d);
            let mut v = s;
            while v < e {
                picks.push(v as usize);
                v += step;
            }
        } else {
            s = clamp(s, -1, d - 1);
            e = clamp(e, -1, d - 1);
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
    Ok(Tensor {
        shape,
        data: t.data.gather(&idx),
    })
}

macro_rules! un {
    ($f:expr) => {
        op(|i| one(unary(arg(i, 0)?, $f)?))
    };
}
macro_rules! bin {
    ($b:expr) => {
        op(|i| one(arith(arg(i, 0)?, arg(i, 1)?, $b)?))
    };
}
macro_rules! cmpop {
    ($c:expr) => {
        op(|i| one(compare(arg(i, 0)?, arg(i, 1)?, $c)?))
    };
}

/// Builds one op's kernel from its node: `(op name, attributes, opset)`.
type Build = fn(&str, &Attrs, i64) -> Result<BoxKernel, String>;

/// The default-domain ops of the evaluator. The list of supported ops is
/// this table, so what [`supports`] answers and what [`build`] builds cannot
/// drift apart.
struct Registry(HashMap<&'static str, Build>);

impl Registry {
    fn add(&mut self, names: &[&'static str], build: Build) {
        for name in names {
            let previous = self.0.insert(name, build);
            debug_assert!(previous.is_none(), "{name} registered twice");
        }
    }
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut reg = Registry(HashMap::new());
        register_unary(&mut reg);
        register_binary(&mut reg);
        register_shape(&mut reg);
        register_reduce(&mut reg);
        register_linalg(&mut reg);
        reg
    })
}

/// True when the evaluator runs default-domain op `name`.
pub(crate) fn supports(name: &str) -> bool {
    registry().0.contains_key(name)
}

pub(crate) fn build(name: &str, a: &Attrs, opset: i64) -> Result<BoxKernel, String> {
    match registry().0.get(name) {
        Some(build) => build(name, a, opset),
        None => Err(format!("op {name} is not supported by the ML evaluator")),
    }
}

/// Elementwise ops of one input, casts and constants.
fn register_unary(reg: &mut Registry) {
    reg.add(&["Identity"], |_, _, _| {
        op(|i| {
            Ok(vec![
                i.first().copied().flatten().ok_or("missing input")?.clone(),
            ])
        })
    });
    reg.add(&["Cast"], |_, a, _| {
        let to = a.i("to").ok_or("Cast needs 'to'")?;
        let to = DType::from_onnx(to as i32)
            .ok_or_else(|| format!("Cast to type {to} is not supported"))?;
        op(move |i| one(cast(arg(i, 0)?, to)?))
    });
    reg.add(&["CastLike"], |_, _, _| {
        op(|i| one(cast(arg(i, 0)?, arg(i, 1)?.dtype())?))
    });
    reg.add(&["Constant"], |_, a, _| {
        let value = if let Some(t) = a.tensor("value")? {
            t
        } else if let Some(f) = a.f("value_float") {
            Tensor::scalar(f)
        } else if let Some(v) = a.floats("value_floats") {
            Tensor::vector(v)
        } else if let Some(v) = a.i("value_int") {
            Tensor::scalar(v)
        } else if let Some(v) = a.ints("value_ints") {
            Tensor::vector(v)
        } else if let Some(v) = a.strings("value_strings") {
            Tensor::vector(v)
        } else if let Some(v) = a.s("value_string") {
            Tensor::scalar(v)
        } else {
            return Err("Constant without a supported value attribute".to_owned());
        };
        op(move |_| one(value.clone()))
    });
    reg.add(&["Neg"], |_, _, _| un!(|x| -x));
    reg.add(&["Abs"], |_, _, _| un!(f64::abs));
    reg.add(&["Exp"], |_, _, _| un!(f64::exp));
    reg.add(&["Log"], |_, _, _| un!(f64::ln));
    reg.add(&["Sqrt"], |_, _, _| un!(f64::sqrt));
    reg.add(&["Sigmoid"], |_, _, _| un!(|x| 1.0 / (1.0 + (-x).exp())));
    reg.add(&["Relu"], |_, _, _| un!(|x| if x > 0.0 { x } else { 0.0 }));
    reg.add(&["Tanh"], |_, _, _| un!(f64::tanh));
    reg.add(&["Reciprocal"], |_, _, _| un!(|x| 1.0 / x));
    reg.add(&["Floor"], |_, _, _| un!(f64::floor));
    reg.add(&["Ceil"], |_, _, _| un!(f64::ceil));
    reg.add(&["Round"], |_, _, _| un!(f64::round_ties_even));
    reg.add(&["Sign"], |_, _, _| {
        un!(|x| if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        })
    });
    reg.add(&["IsNaN"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let x = t.data.to_f64().ok_or("IsNaN needs numbers")?;
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::Bool(x.iter().map(|v| v.is_nan()).collect()),
            })
        })
    });
    reg.add(&["Not"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let Data::Bool(v) = &t.data else {
                return Err("Not needs bool".into());
            };
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::Bool(v.iter().map(|x| !x).collect()),
            })
        })
    });
    reg.add(&["Clip"], |_, a, _| {
        let (amin, amax) = (a.f("min"), a.f("max"));
        op(move |i| {
            let t = arg(i, 0)?;
            let bound = |k: usize, attr: Option<f32>| -> Result<Option<f64>, String> {
                match i.get(k).copied().flatten() {
                    Some(Value::Tensor(b)) => Ok(b.data.to_f64().and_then(|v| v.first().copied())),
                    _ => Ok(attr.map(f64::from)),
                }
            };
            let (lo, hi) = (bound(1, amin)?, bound(2, amax)?);
            let x = t.data.to_f64().ok_or("Clip needs numbers")?;
            let y = x.into_iter().map(|v| {
                let v = lo.map_or(v, |l| if v < l { l } else { v });
                hi.map_or(v, |h| if v > h { h } else { v })
            });
            one(Tensor {
                shape: t.shape.clone(),
                data: from_f64(y.collect(), t.dtype()),
            })
        })
    });
}

/// Elementwise ops of several inputs, with numpy broadcasting.
fn register_binary(reg: &mut Registry) {
    reg.add(&["Add"], |_, _, _| bin!(Bin::Add));
    reg.add(&["Sub"], |_, _, _| bin!(Bin::Sub));
    reg.add(&["Mul"], |_, _, _| bin!(Bin::Mul));
    reg.add(&["Div"], |_, _, _| bin!(Bin::Div));
    reg.add(&["Pow"], |_, _, _| bin!(Bin::Pow));
    reg.add(&["Max"], |_, _, _| op(|i| variadic(i, Bin::Max)));
    reg.add(&["Min"], |_, _, _| op(|i| variadic(i, Bin::Min)));
    reg.add(&["Sum"], |_, _, _| op(|i| variadic(i, Bin::Add)));
    reg.add(&["Mean"], |_, _, _| {
        op(|i| {
            let Value::Tensor(sum) = variadic(i, Bin::Add)?.remove(0) else {
                unreachable!()
            };
            let n = Tensor::scalar(i.len() as f64);
            one(arith(&sum, &cast(&n, sum.dtype())?, Bin::Div)?)
        })
    });
    reg.add(&["Less"], |_, _, _| cmpop!(Cmp::Less));
    reg.add(&["Greater"], |_, _, _| cmpop!(Cmp::Greater));
    reg.add(&["Equal"], |_, _, _| cmpop!(Cmp::Equal));
    reg.add(&["LessOrEqual"], |_, _, _| cmpop!(Cmp::LessEq));
    reg.add(&["GreaterOrEqual"], |_, _, _| cmpop!(Cmp::GreaterEq));
    reg.add(&["And"], |_, _, _| {
        op(|i| one(logic(arg(i, 0)?, arg(i, 1)?, |p, q| p && q)?))
    });
    reg.add(&["Or"], |_, _, _| {
        op(|i| one(logic(arg(i, 0)?, arg(i, 1)?, |p, q| p || q)?))
    });
    reg.add(&["Xor"], |_, _, _| {
        op(|i| one(logic(arg(i, 0)?, arg(i, 1)?, |p, q| p != q)?))
    });
    reg.add(&["Where"], |_, _, _| {
        op(|i| {
            let (c, x, y) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            let Data::Bool(cv) = &c.data else {
                return Err("Where condition must be bool".into());
            };
            let shape = broadcast_shape(&broadcast_shape(&c.shape, &x.shape)?, &y.shape)?;
            let (ic, ix, iy) = (
                broadcast::index_map(&shape, &c.shape),
                broadcast::index_map(&shape, &x.shape),
                broadcast::index_map(&shape, &y.shape),
            );
            let mut both = x.data.clone();
            if !both.extend(&y.data) {
                return Err("Where branches differ in type".into());
            }
            let picks: Vec<usize> = (0..ic.len())
                .map(|k| if cv[ic[k]] { ix[k] } else { x.len() + iy[k] })
                .collect();
            one(Tensor {
                shape,
                data: both.gather(&picks),
            })
        })
    });
}

/// Ops that move, pick or describe values without arithmetic.
fn register_shape(reg: &mut Registry) {
    reg.add(&["Concat"], |_, a, _| {
        let axis = a.i("axis").ok_or("Concat needs 'axis'")?;
        op(move |i| {
            let first = arg(i, 0)?;
            let ax = norm_axis(axis, first.shape.len())?;
            let (outer, _, inner) = split(&first.shape, ax);
            let parts: Vec<&Tensor> = (0..i.len()).map(|k| arg(i, k)).collect::<Result<_, _>>()?;
            let mut shape = first.shape.clone();
            shape[ax] = 0;
            for p in &parts {
                if p.shape.len() != first.shape.len()
                    || p.shape
                        .iter()
                        .enumerate()
                        .any(|(d, &v)| d != ax && v != first.shape[d])
                {
                    return Err(format!(
                        "Concat of {:?} and {:?} on axis {ax}",
                        first.shape, p.shape
                    ));
                }
                shape[ax] += p.shape[ax];
            }
            let mut data = Data::empty(first.dtype());
            for o in 0..outer {
                for p in &parts {
                    let chunk = p.shape[ax] * inner;
                    if !data.extend(&p.data.slice(o * chunk, (o + 1) * chunk)) {
                        return Err("Concat inputs differ in type".into());
                    }
                }
            }
            one(Tensor { shape, data })
        })
    });
    reg.add(&["Reshape"], |_, a, _| {
        let allow_zero = a.i("allowzero").unwrap_or(0) != 0;
        op(move |i| one(reshape(arg(i, 0)?, &ints_of(arg(i, 1)?)?, allow_zero)?))
    });
    reg.add(&["Flatten"], |_, a, _| {
        let axis = a.i("axis").unwrap_or(1);
        op(move |i| {
            let t = arg(i, 0)?;
            let rank = t.shape.len() as i64;
            let ax = if axis < 0 { axis + rank } else { axis };
            if ax < 0 || ax > rank {
                return Err(format!("axis {axis} out of range"));
            }
            let outer: usize = t.shape[..ax as usize].iter().product();
            one(Tensor {
                shape: vec![outer, t.len().checked_div(outer).unwrap_or(0)],
                data: t.data.clone(),
            })
        })
    });
    reg.add(&["Squeeze"], |_, a, _| {
        let attr = a.ints("axes");
        op(move |i| {
            let t = arg(i, 0)?;
            let axes = match i.get(1).copied().flatten() {
                Some(Value::Tensor(x)) => Some(ints_of(x)?),
                _ => attr.clone(),
            };
            let axes: Vec<usize> = match axes {
                Some(ax) => ax
                    .iter()
                    .map(|&x| norm_axis(x, t.shape.len()))
                    .collect::<Result<_, _>>()?,
                None => (0..t.shape.len()).filter(|&d| t.shape[d] == 1).collect(),
            };
            let shape = t
                .shape
                .iter()
                .enumerate()
                .filter(|(d, _)| !axes.contains(d))
                .map(|(_, &v)| v)
                .collect();
            one(Tensor {
                shape,
                data: t.data.clone(),
            })
        })
    });
    reg.add(&["Unsqueeze"], |_, a, _| {
        let attr = a.ints("axes");
        op(move |i| {
            let t = arg(i, 0)?;
            let axes = match i.get(1).copied().flatten() {
                Some(Value::Tensor(x)) => ints_of(x)?,
                _ => attr.clone().ok_or("Unsqueeze needs axes")?,
            };
            let rank = t.shape.len() + axes.len();
            let mut axes: Vec<usize> = axes
                .iter()
                .map(|&x| norm_axis(x, rank))
                .collect::<Result<_, _>>()?;
            axes.sort();
            let mut shape = t.shape.clone();
            for ax in axes {
                shape.insert(ax.min(shape.len()), 1);
            }
            one(Tensor {
                shape,
                data: t.data.clone(),
            })
        })
    });
    reg.add(&["Transpose"], |_, a, _| {
        let perm = a.ints("perm");
        op(move |i| {
            let t = arg(i, 0)?;
            let p: Vec<usize> = match &perm {
                Some(p) => p.iter().map(|&x| x as usize).collect(),
                None => (0..t.shape.len()).rev().collect(),
            };
            one(transpose(t, &p)?)
        })
    });
    reg.add(&["Gather"], |_, a, _| {
        let axis = a.i("axis").unwrap_or(0);
        op(move |i| {
            let (t, idx) = (arg(i, 0)?, arg(i, 1)?);
            let ax = norm_axis(axis, t.shape.len())?;
            let (outer, n, inner) = split(&t.shape, ax);
            let ids = ints_of(idx)?;
            let ids: Vec<usize> = ids
                .iter()
                .map(|&k| {
                    let k2 = if k < 0 { k + n as i64 } else { k };
                    usize::try_from(k2)
                        .ok()
                        .filter(|&k| k < n)
                        .ok_or_else(|| format!("index {k} out of range for size {n}"))
                })
                .collect::<Result<_, _>>()?;
            let mut picks = Vec::with_capacity(outer * ids.len() * inner);
            for o in 0..outer {
                for &k in &ids {
                    picks.extend((0..inner).map(|j| (o * n + k) * inner + j));
                }
            }
            let mut shape = t.shape[..ax].to_vec();
            shape.extend_from_slice(&idx.shape);
            shape.extend_from_slice(&t.shape[ax + 1..]);
            one(Tensor {
                shape,
                data: t.data.gather(&picks),
            })
        })
    });
    reg.add(&["Shape"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            one(Tensor {
                shape: vec![t.shape.len()],
                data: Data::I64(t.shape.iter().map(|&d| d as i64).collect()),
            })
        })
    });
    reg.add(&["Size"], |_, _, _| {
        op(|i| {
            one(Tensor {
                shape: vec![],
                data: Data::I64(vec![arg(i, 0)?.len() as i64]),
            })
        })
    });
    reg.add(&["Slice"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let opt = |k: usize| -> Result<Option<Vec<i64>>, String> {
                match i.get(k).copied().flatten() {
                    Some(Value::Tensor(x)) => Ok(Some(ints_of(x)?)),
                    _ => Ok(None),
                }
            };
            one(slice(
                t,
                &ints_of(arg(i, 1)?)?,
                &ints_of(arg(i, 2)?)?,
                opt(3)?,
                opt(4)?,
            )?)
        })
    });
    reg.add(&["Expand"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let want: Vec<usize> = ints_of(arg(i, 1)?)?
                .iter()
                .map(|&d| d.max(0) as usize)
                .collect();
            let shape = broadcast_shape(&t.shape, &want)?;
            one(expand_to(t, &shape))
        })
    });
    reg.add(&["ConstantOfShape"], |_, a, _| {
        let value = a.tensor("value")?.unwrap_or(Tensor {
            shape: vec![1],
            data: Data::F32(vec![0.0]),
        });
        op(move |i| {
            let shape: Vec<usize> = ints_of(arg(i, 0)?)?
                .iter()
                .map(|&d| d.max(0) as usize)
                .collect();
            let n: usize = shape.iter().product();
            if n > 1 << 28 {
                return Err(format!("ConstantOfShape {shape:?} is too large"));
            }
            one(Tensor {
                shape,
                data: value.data.gather(&vec![0; n]),
            })
        })
    });
}

/// Reductions along axes, arg-extrema and softmax.
fn register_reduce(reg: &mut Registry) {
    reg.add(&["ArgMax", "ArgMin"], |name, a, _| {
        let (axis, keep, last, max) = (
            a.i("axis").unwrap_or(0),
            a.i("keepdims").unwrap_or(1) != 0,
            a.i("select_last_index").unwrap_or(0) != 0,
            name == "ArgMax",
        );
        op(move |i| one(argext(arg(i, 0)?, axis, keep, last, max)?))
    });
    reg.add(&["Softmax", "LogSoftmax"], |name, a, opset| {
        let axis = a.i("axis").unwrap_or(if opset < 13 { 1 } else { -1 });
        let log = name == "LogSoftmax";
        op(move |i| one(softmax(arg(i, 0)?, axis, opset, log)?))
    });
    reg.add(
        &[
            "ReduceSum",
            "ReduceMean",
            "ReduceMax",
            "ReduceMin",
            "ReduceProd",
            "ReduceLogSumExp",
            "ReduceSumSquare",
        ],
        |name, a, _| {
            let r = match name {
                "ReduceSum" => Reduce::Sum,
                "ReduceMean" => Reduce::Mean,
                "ReduceMax" => Reduce::Max,
                "ReduceMin" => Reduce::Min,
                "ReduceProd" => Reduce::Prod,
                "ReduceLogSumExp" => Reduce::LogSumExp,
                _ => Reduce::SumSquare,
            };
            let keep = a.i("keepdims").unwrap_or(1) != 0;
            let noop = a.i("noop_with_empty_axes").unwrap_or(0) != 0;
            let attr_axes = a.ints("axes");
            op(move |i| {
                let axes = match i.get(1).copied().flatten() {
                    Some(Value::Tensor(x)) => Some(ints_of(x)?),
                    _ => attr_axes.clone(),
                };
                one(reduce(arg(i, 0)?, axes, keep, noop, r)?)
            })
        },
    );
}

/// Matrix products.
fn register_linalg(reg: &mut Registry) {
    reg.add(&["MatMul"], |_, _, _| {
        op(|i| one(matmul(arg(i, 0)?, arg(i, 1)?)?))
    });
    reg.add(&["Gemm"], |_, a, _| {
        let (alpha, beta) = (
            a.f("alpha").unwrap_or(1.0) as f64,
            a.f("beta").unwrap_or(1.0) as f64,
        );
        let (ta, tb) = (
            a.i("transA").unwrap_or(0) != 0,
            a.i("transB").unwrap_or(0) != 0,
        );
        op(move |i| {
            let mut x = arg(i, 0)?.clone();
            let mut y = arg(i, 1)?.clone();
            if ta {
                x = transpose(&x, &[1, 0])?;
            }
            if tb {
                y = transpose(&y, &[1, 0])?;
            }
            let mut out = matmul(&x, &y)?;
            if alpha != 1.0 {
                out = arith(&out, &cast(&Tensor::scalar(alpha), out.dtype())?, Bin::Mul)?;
            }
            if let Some(Value::Tensor(c)) = i.get(2).copied().flatten() {
                let c = if beta != 1.0 {
                    arith(c, &cast(&Tensor::scalar(beta), c.dtype())?, Bin::Mul)?
                } else {
                    c.clone()
                };
                out = arith(&out, &c, Bin::Add)?;
            }
            one(out)
        })
    });
}
