//! Products: MatMul (batched, numpy broadcasting of the batch axes), Gemm,
//! the integer and quantized products (MatMulInteger, QLinearMatMul),
//! Einsum, Det.

use super::{Registry, arg, args, one, op, opt};
use crate::error::KernelError;
use crate::ml::num::{
    Num, bad_type, broadcast_shape, checked_len, float_match, num_match, transpose,
};
use crate::value::{DType, Data, Tensor};

pub(super) fn register(reg: &mut Registry) {
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
            let (x, y) = (arg(i, 0)?, arg(i, 1)?);
            if x.shape.len() != 2 || y.shape.len() != 2 {
                return Err(KernelError::Shape(format!(
                    "Gemm of {:?} and {:?}: both must be 2-D",
                    x.shape, y.shape
                )));
            }
            let x = if ta {
                transpose(x, &[1, 0])?
            } else {
                x.clone()
            };
            let y = if tb {
                transpose(y, &[1, 0])?
            } else {
                y.clone()
            };
            one(gemm(&x, &y, opt(i, 2)?, alpha, beta)?)
        })
    });
    reg.add(&["MatMulInteger"], |_, _, _| {
        op(|i| {
            let a = shifted(arg(i, 0)?, opt(i, 2)?, true)?;
            let b = shifted(arg(i, 1)?, opt(i, 3)?, false)?;
            let c = matmul(&a, &b)?;
            one(crate::ml::ops::cast(&c, DType::I32)?)
        })
    });
    reg.add(&["QLinearMatMul"], |_, _, _| {
        op(|i| {
            let (a, a_scale, a_zero) = (arg(i, 0)?, arg(i, 1)?, opt(i, 2)?);
            let (b, b_scale, b_zero) = (arg(i, 3)?, arg(i, 4)?, opt(i, 5)?);
            let (y_scale, y_zero) = (arg(i, 6)?, opt(i, 7)?);
            let a32 = shifted(a, a_zero, true)?;
            let b32 = shifted(b, b_zero, false)?;
            let c = matmul(&a32, &b32)?;
            // The scales combine in float32, then scale the int32 product.
            let sf = |t: &Tensor| crate::ml::ops::cast(t, DType::F32);
            let factor = float_binary(
                &float_binary(&sf(a_scale)?, &sf(b_scale)?, |p, q| p * q)?,
                &sf(y_scale)?,
                |p, q| p / q,
            )?;
            let to = y_zero.map(|z| z.dtype()).unwrap_or(a.dtype());
            let zp = y_zero
                .map(|z| z.data.to_f64().unwrap_or_default())
                .unwrap_or_default();
            let (shape, d) = crate::ml::num::zip_broadcast(
                (&c.shape, &c.data.to_f64().unwrap_or_default()),
                (&factor.shape, &factor.data.to_f64().unwrap_or_default()),
                |p, q| p * q,
            )?;
            let zero_shape = y_zero.map(|z| z.shape.clone()).unwrap_or_default();
            let (shape, d) = if zp.is_empty() {
                (shape, d)
            } else {
                crate::ml::num::zip_broadcast((&shape, &d), (&zero_shape, &zp), |p, q| p + q)?
            };
            let (lo, hi) = match to {
                DType::U8 => (0.0, 255.0),
                DType::I8 => (-128.0, 127.0),
                other => return Err(KernelError::Value(format!("QLinearMatMul to {other}"))),
            };
            let v: Vec<i64> = d
                .iter()
                .map(|x| x.round_ties_even().clamp(lo, hi) as i64)
                .collect();
            one(Tensor {
                shape,
                data: Data::from_i64(to, v),
            })
        })
    });
    reg.add(&["Einsum"], |_, a, _| {
        let equation = a.required_s("equation")?;
        op(move |i| {
            let inputs = args(i)?;
            one(einsum(&equation, &inputs)?)
        })
    });
    reg.add(&["Det"], |_, _, _| op(|i| one(det(arg(i, 0)?)?)));
}

/// `t - zero_point` as int32 (the zero point per row of A or per column of B).
fn shifted(t: &Tensor, zero: Option<&Tensor>, rows: bool) -> Result<Tensor, KernelError> {
    let v = t
        .data
        .to_i64()
        .ok_or_else(|| bad_type("integer products", t.dtype()))?;
    let Some(z) = zero else {
        return Ok(Tensor {
            shape: t.shape.clone(),
            data: Data::from_i64(DType::I32, v),
        });
    };
    let zv = z
        .data
        .to_i64()
        .ok_or_else(|| KernelError::Value("zero point".to_owned()))?;
    let r = t.shape.len();
    let out: Vec<i64> = if zv.len() <= 1 {
        let z0 = zv.first().copied().unwrap_or(0);
        v.iter().map(|&x| x - z0).collect()
    } else if rows && r >= 2 {
        // One zero point per row of A (its second to last axis).
        let cols = t.shape[r - 1];
        let rows_n = t.shape[r - 2];
        v.iter()
            .enumerate()
            .map(|(k, &x)| x - zv[(k / cols) % rows_n % zv.len()])
            .collect()
    } else {
        // One per column of B (its last axis).
        let cols = t.shape[r - 1];
        v.iter()
            .enumerate()
            .map(|(k, &x)| x - zv[(k % cols) % zv.len()])
            .collect()
    };
    Ok(Tensor {
        shape: t.shape.clone(),
        data: Data::I32(out.into_iter().map(|x| x as i32).collect()),
    })
}

fn float_binary(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f32, f32) -> f32,
) -> Result<Tensor, KernelError> {
    let (x, y) = (
        a.data.to_f32().unwrap_or_default(),
        b.data.to_f32().unwrap_or_default(),
    );
    let (shape, v) = crate::ml::num::zip_broadcast((&a.shape, &x), (&b.shape, &y), f)?;
    Ok(Tensor {
        shape,
        data: Data::F32(v),
    })
}

/// numpy matmul: 1-D operands promoted, batch axes broadcast.
pub(crate) fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor, KernelError> {
    if a.dtype() != b.dtype() {
        return Err(KernelError::Shape(format!(
            "MatMul of {} and {}",
            a.dtype(),
            b.dtype()
        )));
    }
    let (mut sa, mut sb) = (a.shape.clone(), b.shape.clone());
    let (a1, b1) = (sa.len() == 1, sb.len() == 1);
    if a1 {
        sa.insert(0, 1);
    }
    if b1 {
        sb.push(1);
    }
    if sa.len() < 2 || sb.len() < 2 {
        return Err(KernelError::Shape("MatMul of scalars".to_owned()));
    }
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (k2, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != k2 {
        return Err(KernelError::Shape(format!(
            "MatMul of {:?} and {:?}",
            a.shape, b.shape
        )));
    }
    let batch = broadcast_shape(&sa[..sa.len() - 2], &sb[..sb.len() - 2])?;
    let nb: usize = batch.iter().product();
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    checked_len(&out_shape)?;
    let ia = neuride_onnx::broadcast::index_map(&batch, &sa[..sa.len() - 2]);
    let ib = neuride_onnx::broadcast::index_map(&batch, &sb[..sb.len() - 2]);
    fn go<T: Num>(
        x: &[T],
        b: &Tensor,
        dims: (usize, usize, usize, usize),
        ia: &[usize],
        ib: &[usize],
    ) -> Data {
        let y = T::view(&b.data).unwrap_or_default();
        let (nb, m, k, n) = dims;
        let mut out = vec![T::zero(); nb * m * n];
        if T::is_float() {
            let xf: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
            let yf: Vec<f64> = y.iter().map(|v| v.to_f64()).collect();
            let mut row = vec![0f64; n];
            for bi in 0..nb {
                let (xa, yb) = (&xf[ia[bi] * m * k..], &yf[ib[bi] * k * n..]);
                for r in 0..m {
                    row.iter_mut().for_each(|v| *v = 0.0);
                    for p in 0..k {
                        let s = xa[r * k + p];
                        for (o, &w) in row.iter_mut().zip(&yb[p * n..(p + 1) * n]) {
                            *o += s * w;
                        }
                    }
                    for (c, &v) in row.iter().enumerate() {
                        out[(bi * m + r) * n + c] = T::from_f64(v);
                    }
                }
            }
        } else {
            for bi in 0..nb {
                let (xa, yb) = (&x[ia[bi] * m * k..], &y[ib[bi] * k * n..]);
                for r in 0..m {
                    for c in 0..n {
                        let mut acc = T::zero();
                        for p in 0..k {
                            acc = acc.add(xa[r * k + p].mul(yb[p * n + c]));
                        }
                        out[(bi * m + r) * n + c] = acc;
                    }
                }
            }
        }
        T::wrap(out)
    }
    let data = num_match!(&a.data, x => go(x, b, (nb, m, k, n), &ia, &ib), return Err(bad_type("MatMul", a.dtype())));
    let mut shape = out_shape;
    if b1 {
        shape.pop();
    }
    if a1 {
        let l = shape.len();
        shape.remove(l - if b1 { 1 } else { 2 });
    }
    Ok(Tensor { shape, data })
}

fn gemm(
    x: &Tensor,
    y: &Tensor,
    c: Option<&Tensor>,
    alpha: f64,
    beta: f64,
) -> Result<Tensor, KernelError> {
    let p = matmul(x, y)?;
    let (m, n) = (p.shape[0], p.shape[1]);
    fn go<T: Num>(
        v: &[T],
        c: Option<&Tensor>,
        shape: &[usize],
        alpha: f64,
        beta: f64,
    ) -> Result<Data, KernelError> {
        let cv: Option<(Vec<usize>, &[T])> = match c {
            Some(c) => Some((
                neuride_onnx::broadcast::index_map(shape, &c.shape),
                T::view(&c.data)
                    .ok_or_else(|| KernelError::Type("Gemm's C differs in type".to_owned()))?,
            )),
            None => None,
        };
        Ok(T::wrap(
            v.iter()
                .enumerate()
                .map(|(k, &x)| {
                    if T::is_float() {
                        let mut r = alpha * x.to_f64();
                        if let Some((idx, cv)) = &cv {
                            r += beta * cv[idx[k]].to_f64();
                        }
                        T::from_f64(r)
                    } else {
                        let mut r = x.mul(T::from_f64(alpha));
                        if let Some((idx, cv)) = &cv {
                            r = r.add(cv[idx[k]].mul(T::from_f64(beta)));
                        }
                        r
                    }
                })
                .collect(),
        ))
    }
    if let Some(c) = c {
        broadcast_shape(&c.shape, &[m, n])
            .ok()
            .filter(|s| s == &[m, n])
            .ok_or_else(|| {
                KernelError::Shape(format!(
                    "Gemm's C of {:?} does not broadcast to [{m}, {n}]",
                    c.shape
                ))
            })?;
    }
    let data = num_match!(&p.data, v => go(v, c, &p.shape, alpha, beta)?, return Err(bad_type("Gemm", p.dtype())));
    Ok(Tensor {
        shape: p.shape,
        data,
    })
}

/// Einsum by direct summation over every label (numpy's semantics,
/// including `...` and the implicit output of labels seen once, sorted).
fn einsum(equation: &str, inputs: &[&Tensor]) -> Result<Tensor, KernelError> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_owned(), Some(r.to_owned())),
        None => (eq.clone(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != inputs.len() {
        return Err(KernelError::Value(format!(
            "equation '{equation}' has {} operands, {} given",
            terms.len(),
            inputs.len()
        )));
    }
    // Ellipsis dims become labels '0'.. (as many as the widest operand needs).
    let ell_rank = terms
        .iter()
        .zip(inputs)
        .filter(|(t, _)| t.contains("..."))
        .map(|(t, x)| x.shape.len() - (t.len() - 3))
        .max()
        .unwrap_or(0);
    let ell: String = (0..ell_rank).map(|k| char::from(b'0' + k as u8)).collect();
    let expand_term = |t: &str, rank: usize| -> Vec<char> {
        if let Some(at) = t.find("...") {
            let own = rank - (t.len() - 3);
            let mut v: Vec<char> = t[..at].chars().collect();
            v.extend(ell.chars().skip(ell_rank - own));
            v.extend(t[at + 3..].chars());
            v
        } else {
            t.chars().collect()
        }
    };
    let labels: Vec<Vec<char>> = terms
        .iter()
        .zip(inputs)
        .map(|(t, x)| expand_term(t, x.shape.len()))
        .collect();
    let mut sizes: std::collections::BTreeMap<char, usize> = Default::default();
    for (ls, x) in labels.iter().zip(inputs) {
        if ls.len() != x.shape.len() {
            return Err(KernelError::Shape(format!(
                "'{}' for an operand of rank {}",
                ls.iter().collect::<String>(),
                x.shape.len()
            )));
        }
        for (&c, &d) in ls.iter().zip(&x.shape) {
            let e = sizes.entry(c).or_insert(d);
            if *e == 1 {
                *e = d;
            } else if d != 1 && *e != d {
                return Err(KernelError::Shape(format!(
                    "label '{c}' has sizes {e} and {d}"
                )));
            }
        }
    }
    let out: Vec<char> = match rhs {
        Some(r) => {
            if let Some(at) = r.find("...") {
                let mut v: Vec<char> = r[..at].chars().collect();
                v.extend(ell.chars());
                v.extend(r[at + 3..].chars());
                v
            } else {
                r.chars().collect()
            }
        }
        None => {
            let mut once: Vec<char> = sizes
                .keys()
                .filter(|c| {
                    c.is_alphabetic() && labels.iter().flatten().filter(|l| l == c).count() == 1
                })
                .copied()
                .collect();
            once.sort();
            ell.chars().chain(once).collect()
        }
    };
    let all: Vec<char> = out
        .iter()
        .copied()
        .chain(sizes.keys().copied().filter(|c| !out.contains(c)))
        .collect();
    let dims: Vec<usize> = all.iter().map(|c| sizes[c]).collect();
    let out_shape: Vec<usize> = out.iter().map(|c| sizes[c]).collect();
    let out_len = checked_len(&out_shape)?;
    let total = checked_len(&dims)?;
    let dtype = inputs[0].dtype();
    let values: Vec<Vec<f64>> = inputs
        .iter()
        .map(|t| crate::ml::num::floats(t, "Einsum"))
        .collect::<Result<_, _>>()?;
    // For each operand, the stride of each label in `all` (0 if absent or broadcast).
    let op_strides: Vec<Vec<usize>> = labels
        .iter()
        .zip(inputs)
        .map(|(ls, x)| {
            let st = crate::ml::num::strides(&x.shape);
            all.iter()
                .map(|c| {
                    ls.iter()
                        .enumerate()
                        .filter(|(_, l)| *l == c)
                        .map(|(k, _)| if x.shape[k] == 1 { 0 } else { st[k] })
                        .sum()
                })
                .collect()
        })
        .collect();
    let inner: usize = dims[out.len()..].iter().product();
    let mut acc = vec![0f64; out_len];
    let mut counter = vec![0usize; all.len()];
    for flat in 0..total {
        let mut prod = 1.0;
        for (v, st) in values.iter().zip(&op_strides) {
            let at: usize = counter.iter().zip(st).map(|(c, s)| c * s).sum();
            prod *= v[at];
        }
        acc[flat / inner.max(1)] += prod;
        for d in (0..all.len()).rev() {
            counter[d] += 1;
            if counter[d] < dims[d] {
                break;
            }
            counter[d] = 0;
        }
    }
    Ok(crate::ml::num::tensor_f64(out_shape, dtype, acc))
}

/// Determinants of the trailing square matrices (LU with partial pivoting).
fn det(t: &Tensor) -> Result<Tensor, KernelError> {
    let r = t.shape.len();
    if r < 2 || t.shape[r - 1] != t.shape[r - 2] {
        return Err(KernelError::Shape(format!(
            "Det of {:?}: square matrices expected",
            t.shape
        )));
    }
    let n = t.shape[r - 1];
    let x = float_match!(&t.data, _v => crate::ml::num::floats(t, "Det")?, return Err(bad_type("Det", t.dtype())));
    let mut out = Vec::new();
    for m in x.chunks(n * n.max(1)).take(t.len() / (n * n).max(1)) {
        let mut a = m.to_vec();
        let mut d = 1.0;
        for c in 0..n {
            let p = (c..n)
                .max_by(|&i, &j| {
                    a[i * n + c]
                        .abs()
                        .partial_cmp(&a[j * n + c].abs())
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .unwrap_or(c);
            if a[p * n + c] == 0.0 {
                d = 0.0;
                break;
            }
            if p != c {
                for k in 0..n {
                    a.swap(p * n + k, c * n + k);
                }
                d = -d;
            }
            d *= a[c * n + c];
            for i in c + 1..n {
                let f = a[i * n + c] / a[c * n + c];
                for k in c..n {
                    a[i * n + k] -= f * a[c * n + k];
                }
            }
        }
        out.push(d);
    }
    Ok(crate::ml::num::tensor_f64(
        t.shape[..r - 2].to_vec(),
        t.dtype(),
        out,
    ))
}
