//! Transformer blocks of opsets 23-26: Attention (masks, causal and
//! sliding windows, KV cache, grouped heads, softcap, the QK output modes),
//! RotaryEmbedding, SwiGLU, LinearAttention (linear, gated, delta and
//! gated-delta rules), CausalConvWithState. As ONNX's reference computes
//! them, in f64.

use super::{Registry, arg, opt};
use crate::error::KernelError;
use crate::ml::num::{floats, ints, tensor_f64};
use crate::value::{Data, Tensor, Value};

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["Attention"], |_, a, _| {
        let spec = AttentionSpec {
            scale: a.f("scale").map(|v| v as f64),
            causal: a.i("is_causal").unwrap_or(0) != 0,
            q_heads: a.i("q_num_heads").map(|v| v as usize),
            kv_heads: a.i("kv_num_heads").map(|v| v as usize),
            softcap: a.f("softcap").map(|v| v as f64).filter(|&v| v > 0.0),
            mode: a.i("qk_matmul_output_mode").unwrap_or(0),
            left: a.i("left_window_size").unwrap_or(-1),
            right: a.i("right_window_size").unwrap_or(-1),
        };
        let outputs = a.0.output.len();
        super::op(move |i| {
            let mut out = attention(
                &spec,
                arg(i, 0)?,
                arg(i, 1)?,
                arg(i, 2)?,
                opt(i, 3)?,
                opt(i, 4)?,
                opt(i, 5)?,
                opt(i, 6)?,
            )?;
            out.truncate(outputs.max(1));
            Ok(out)
        })
    });
    reg.add(&["RotaryEmbedding"], |_, a, _| {
        let interleaved = a.i("interleaved").unwrap_or(0) != 0;
        let dim = a.i("rotary_embedding_dim").unwrap_or(0).max(0) as usize;
        let heads = a.i("num_heads").unwrap_or(0).max(0) as usize;
        super::op(move |i| {
            let t = rotary(
                arg(i, 0)?,
                arg(i, 1)?,
                arg(i, 2)?,
                opt(i, 3)?,
                interleaved,
                dim,
                heads,
            )?;
            Ok(vec![Value::Tensor(t)])
        })
    });
    reg.add(&["SwiGLU"], |_, a, _| {
        let alpha = a.f("alpha").unwrap_or(1.0) as f64;
        super::op(move |i| {
            let (x, y) = (arg(i, 0)?, arg(i, 1)?);
            if x.shape != y.shape || x.dtype() != y.dtype() {
                return Err(KernelError::Type(
                    "SwiGLU takes two inputs of one shape and type".to_owned(),
                ));
            }
            // The sigmoid is rounded to the input's type before the products.
            let sig = tensor_f64(
                x.shape.clone(),
                x.dtype(),
                floats(x, "SwiGLU")?
                    .iter()
                    .map(|&v| 1.0 / (1.0 + (-alpha * v).exp()))
                    .collect(),
            );
            let (xv, sv, yv) = (
                floats(x, "SwiGLU")?,
                sig.data.to_f64().unwrap_or_default(),
                floats(y, "SwiGLU")?,
            );
            let sw = tensor_f64(
                x.shape.clone(),
                x.dtype(),
                xv.iter().zip(&sv).map(|(a, s)| a * s).collect(),
            );
            let swv = sw.data.to_f64().unwrap_or_default();
            Ok(vec![Value::Tensor(tensor_f64(
                x.shape.clone(),
                x.dtype(),
                swv.iter().zip(&yv).map(|(a, b)| a * b).collect(),
            ))])
        })
    });
    reg.add(&["LinearAttention"], |_, a, _| {
        let rule = a.s_or("update_rule", "gated_delta");
        if !matches!(rule.as_str(), "linear" | "gated" | "delta" | "gated_delta") {
            return Err(KernelError::Attribute(format!("update_rule '{rule}'")));
        }
        let q_heads = a.required_i("q_num_heads")?.max(1) as usize;
        let kv_heads = a.required_i("kv_num_heads")?.max(1) as usize;
        let scale = a.f("scale").map(|v| v as f64).filter(|&v| v != 0.0);
        super::op(move |i| linear_attention(&rule, q_heads, kv_heads, scale, i))
    });
    reg.add(&["CausalConvWithState"], |_, a, _| {
        let act = a.s_or("activation", "none");
        if !matches!(act.as_str(), "none" | "silu" | "swish") {
            return Err(KernelError::Attribute(format!("activation '{act}'")));
        }
        super::op(move |i| {
            causal_conv(
                arg(i, 0)?,
                arg(i, 1)?,
                opt(i, 2)?,
                opt(i, 3)?,
                act != "none",
            )
        })
    });
}

struct AttentionSpec {
    scale: Option<f64>,
    causal: bool,
    q_heads: Option<usize>,
    kv_heads: Option<usize>,
    softcap: Option<f64>,
    mode: i64,
    left: i64,
    right: i64,
}

/// A (B, H, S, D) view of Q, K or V (3-D inputs split into heads).
fn heads(t: &Tensor, n: Option<usize>) -> Result<(Vec<usize>, Vec<f64>), KernelError> {
    let v = floats(t, "Attention")?;
    match t.shape.len() {
        4 => Ok((t.shape.clone(), v)),
        3 => {
            let n = n
                .ok_or_else(|| {
                    KernelError::Shape(
                        "3-D Attention inputs need q_num_heads and kv_num_heads".to_owned(),
                    )
                })?
                .max(1);
            let (b, s, hid) = (t.shape[0], t.shape[1], t.shape[2]);
            let d = hid / n;
            let mut out = vec![0f64; b * n * s * d];
            for bi in 0..b {
                for si in 0..s {
                    for h in 0..n {
                        for k in 0..d {
                            out[((bi * n + h) * s + si) * d + k] =
                                v[(bi * s + si) * hid + h * d + k];
                        }
                    }
                }
            }
            Ok((vec![b, n, s, d], out))
        }
        r => Err(KernelError::Shape(format!("Attention inputs of rank {r}"))),
    }
}

/// Concatenates caches along the sequence axis: (B, H, S1, D) + (B, H, S2, D).
fn cat_seq(
    past: Option<(Vec<usize>, Vec<f64>)>,
    (shape, cur): (Vec<usize>, Vec<f64>),
) -> (Vec<usize>, Vec<f64>) {
    let Some((ps, pv)) = past else {
        return (shape, cur);
    };
    let (b, h, s1, d) = (ps[0], ps[1], ps[2], ps[3]);
    let s2 = shape[2];
    let mut out = Vec::with_capacity(b * h * (s1 + s2) * d);
    for bh in 0..b * h {
        out.extend_from_slice(&pv[bh * s1 * d..(bh + 1) * s1 * d]);
        out.extend_from_slice(&cur[bh * s2 * d..(bh + 1) * s2 * d]);
    }
    (vec![b, h, s1 + s2, d], out)
}

#[allow(clippy::too_many_arguments)]
fn attention(
    s: &AttentionSpec,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    past_k: Option<&Tensor>,
    past_v: Option<&Tensor>,
    nonpad: Option<&Tensor>,
) -> Result<Vec<Value>, KernelError> {
    let dtype = q.dtype();
    let three_d = q.shape.len() == 3;
    let (qs, qv) = heads(q, s.q_heads)?;
    let past_k = past_k
        .map(|t| Ok::<_, KernelError>((t.shape.clone(), floats(t, "past_key")?)))
        .transpose()?;
    let past_v = past_v
        .map(|t| Ok::<_, KernelError>((t.shape.clone(), floats(t, "past_value")?)))
        .transpose()?;
    let past_len = past_k.as_ref().map_or(0, |p| p.0[2]);
    let (ks, kv) = cat_seq(past_k, heads(k, s.kv_heads)?);
    let (vs, vv) = cat_seq(past_v, heads(v, s.kv_heads)?);
    let (b, hq, sq, d) = (qs[0], qs[1], qs[2], qs[3]);
    let (hk, skv, dv) = (ks[1], ks[2], vs[3]);
    if hk == 0 || hq % hk != 0 {
        return Err(KernelError::Shape(format!(
            "{hq} query heads for {hk} key heads"
        )));
    }
    let group = hq / hk;
    let scale = s.scale.unwrap_or(1.0 / (d as f64).sqrt()).sqrt();
    let nonpad = nonpad.map(ints).transpose()?;
    // The mask, padded on the right to the key length, as an additive bias
    // indexed by broadcasting onto (B, H, Sq, Skv).
    let mask_bias: Option<(Vec<usize>, Vec<f64>)> = match mask {
        Some(m) => {
            let mut shape = m.shape.clone();
            let last = *shape
                .last()
                .ok_or_else(|| KernelError::Value("a scalar attn_mask".to_owned()))?;
            let vals: Vec<f64> = match &m.data {
                Data::Bool(bv) => bv
                    .iter()
                    .map(|&x| if x { 0.0 } else { f64::NEG_INFINITY })
                    .collect(),
                _ => floats(m, "attn_mask")?,
            };
            let rows = vals.len() / last.max(1);
            let mut padded = Vec::with_capacity(rows * skv);
            for r in 0..rows {
                padded.extend_from_slice(&vals[r * last..(r + 1) * last]);
                padded.extend(std::iter::repeat_n(
                    f64::NEG_INFINITY,
                    skv.saturating_sub(last),
                ));
            }
            *shape.last_mut().unwrap_or(&mut 0) = skv.max(last);
            Some((shape, padded))
        }
        None => None,
    };
    let full = [b, hq, sq, skv];
    let mask_idx = mask_bias.as_ref().map(|(shape, _)| {
        // Broadcast the mask's shape (right-aligned) onto (B, H, Sq, Skv).
        let mut own = vec![1usize; 4usize.saturating_sub(shape.len())];
        own.extend(shape);
        neuride_onnx::broadcast::index_map(&full, &own)
    });
    let offset = |bi: usize| -> i64 {
        match &nonpad {
            Some(n) if past_len == 0 => n[bi] - sq as i64,
            _ => past_len as i64,
        }
    };
    let mut y = vec![0f64; b * hq * sq * dv];
    let mut qk_out = vec![0f64; b * hq * sq * skv];
    for bi in 0..b {
        for h in 0..hq {
            let kh = h / group;
            for i in 0..sq {
                let mut bias = vec![0f64; skv];
                for (j, bj) in bias.iter_mut().enumerate() {
                    let flat = ((bi * hq + h) * sq + i) * skv + j;
                    if let (Some((_, mv)), Some(idx)) = (&mask_bias, &mask_idx) {
                        *bj += mv[idx[flat]];
                    }
                    let diff = i as i64 + offset(bi) - j as i64;
                    if s.causal && diff < 0 {
                        *bj = f64::NEG_INFINITY;
                    }
                    if (s.left >= 0 && diff > s.left) || (s.right >= 0 && -diff > s.right) {
                        *bj = f64::NEG_INFINITY;
                    }
                    if let Some(n) = &nonpad
                        && j as i64 >= n[bi]
                    {
                        *bj = f64::NEG_INFINITY;
                    }
                }
                let qrow = &qv[((bi * hq + h) * sq + i) * d..][..d];
                let mut scores: Vec<f64> = (0..skv)
                    .map(|j| {
                        let krow = &kv[((bi * hk + kh) * skv + j) * d..][..d];
                        let dot: f64 = qrow
                            .iter()
                            .zip(krow)
                            .map(|(a, b)| (a * scale) * (b * scale))
                            .sum();
                        match s.softcap {
                            Some(c) => (dot / c).tanh() * c,
                            None => dot,
                        }
                    })
                    .collect();
                let raw = scores.clone();
                for (x, bj) in scores.iter_mut().zip(&bias) {
                    *x += bj;
                }
                let all_masked = bias.iter().all(|x| *x == f64::NEG_INFINITY);
                let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let m = if m == f64::NEG_INFINITY { 0.0 } else { m };
                let e: Vec<f64> = scores.iter().map(|x| (x - m).exp()).collect();
                let sum: f64 = e.iter().sum();
                let sum = if sum == 0.0 { 1.0 } else { sum };
                let p: Vec<f64> = e
                    .iter()
                    .map(|x| if all_masked { 0.0 } else { x / sum })
                    .collect();
                let row_out = match s.mode {
                    2 => &scores,
                    3 => &p,
                    _ => &raw,
                };
                qk_out[((bi * hq + h) * sq + i) * skv..][..skv].copy_from_slice(row_out);
                // Rounded to the input type before the product with V, as the reference does.
                let p = Data::from_f64(dtype, p).to_f64().unwrap_or_default();
                for c in 0..dv {
                    y[((bi * hq + h) * sq + i) * dv + c] = (0..skv)
                        .map(|j| p[j] * vv[((bi * hk + kh) * skv + j) * dv + c])
                        .sum();
                }
            }
        }
    }
    let y = if three_d {
        let mut out = vec![0f64; b * sq * hq * dv];
        for bi in 0..b {
            for h in 0..hq {
                for i in 0..sq {
                    for c in 0..dv {
                        out[(bi * sq + i) * hq * dv + h * dv + c] =
                            y[((bi * hq + h) * sq + i) * dv + c];
                    }
                }
            }
        }
        tensor_f64(vec![b, sq, hq * dv], dtype, out)
    } else {
        tensor_f64(vec![b, hq, sq, dv], dtype, y)
    };
    Ok(vec![
        Value::Tensor(y),
        Value::Tensor(tensor_f64(ks, k.dtype(), kv)),
        Value::Tensor(tensor_f64(vs, v.dtype(), vv)),
        Value::Tensor(tensor_f64(full.to_vec(), dtype, qk_out)),
    ])
}

fn rotary(
    x: &Tensor,
    cos: &Tensor,
    sin: &Tensor,
    pos: Option<&Tensor>,
    interleaved: bool,
    dim: usize,
    heads: usize,
) -> Result<Tensor, KernelError> {
    let xv = floats(x, "RotaryEmbedding")?;
    // As (B, S, H, D): 4-D inputs are (B, H, S, D).
    let (b, s, h, d, four) = match x.shape.len() {
        4 => (x.shape[0], x.shape[2], x.shape[1], x.shape[3], true),
        3 => {
            let h = heads.max(1);
            (x.shape[0], x.shape[1], h, x.shape[2] / h, false)
        }
        r => {
            return Err(KernelError::Shape(format!(
                "RotaryEmbedding input of rank {r}"
            )));
        }
    };
    let rd = if dim == 0 { d } else { dim };
    let half = rd / 2;
    let (cv, sv) = (floats(cos, "cos_cache")?, floats(sin, "sin_cache")?);
    let pids = pos.map(ints).transpose()?;
    let at = |bi: usize, si: usize, hi: usize, k: usize| -> usize {
        if four {
            ((bi * h + hi) * s + si) * d + k
        } else {
            ((bi * s + si) * h + hi) * d + k
        }
    };
    let mut out = xv.clone();
    for bi in 0..b {
        for si in 0..s {
            // The cache row: by position id, or the cache is (B, S, half).
            let row = match &pids {
                Some(p) => p[bi * s + si] as usize * half,
                None => (bi * s + si) * half,
            };
            if row + half > cv.len() || row + half > sv.len() {
                return Err(KernelError::Value(
                    "position outside the cos/sin cache".to_owned(),
                ));
            }
            for hi in 0..h {
                for k in 0..half {
                    let (i1, i2) = if interleaved {
                        (2 * k, 2 * k + 1)
                    } else {
                        (k, k + half)
                    };
                    let (x1, x2) = (xv[at(bi, si, hi, i1)], xv[at(bi, si, hi, i2)]);
                    let (c, sn) = (cv[row + k], sv[row + k]);
                    out[at(bi, si, hi, i1)] = c * x1 - sn * x2;
                    out[at(bi, si, hi, i2)] = sn * x1 + c * x2;
                }
            }
        }
    }
    Ok(tensor_f64(x.shape.clone(), x.dtype(), out))
}

fn linear_attention(
    rule: &str,
    hq: usize,
    hkv: usize,
    scale: Option<f64>,
    i: &[Option<&Value>],
) -> Result<Vec<Value>, KernelError> {
    let (q, k, v) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
    let (past, decay, beta) = (opt(i, 3)?, opt(i, 4)?, opt(i, 5)?);
    let gating = rule == "gated" || rule == "gated_delta";
    let delta = rule == "delta" || rule == "gated_delta";
    if gating != decay.is_some() || delta != beta.is_some() {
        return Err(KernelError::Attribute(format!(
            "update_rule '{rule}' with the decay/beta inputs given"
        )));
    }
    if q.shape.len() != 3 || k.shape.len() != 3 || v.shape.len() != 3 || !hq.is_multiple_of(hkv) {
        return Err(KernelError::Shape(
            "LinearAttention takes (B, T, H*D) inputs".to_owned(),
        ));
    }
    let f32r = |x: f64| x as f32 as f64;
    let (b, t) = (q.shape[0], q.shape[1]);
    let (dk, dvv) = (q.shape[2] / hq, v.shape[2] / hkv);
    let group = hq / hkv;
    let (qv, kv, vv) = (floats(q, "query")?, floats(k, "key")?, floats(v, "value")?);
    let dec = decay.map(|d| floats(d, "decay")).transpose()?;
    let dec_last = decay.map_or(0, |d| d.shape[2]);
    let bet = beta.map(|d| floats(d, "beta")).transpose()?;
    let bet_last = beta.map_or(0, |d| d.shape[2]);
    let mut state = match past {
        Some(p) => floats(p, "past_state")?,
        None => vec![0f64; b * hkv * dk * dvv],
    };
    let scale = scale.unwrap_or(1.0 / (dk as f64).sqrt());
    let mut out = vec![0f64; b * t * hq * dvv];
    for bi in 0..b {
        for ti in 0..t {
            for h in 0..hkv {
                let st = &mut state[(bi * hkv + h) * dk * dvv..(bi * hkv + h + 1) * dk * dvv];
                let krow: Vec<f64> = (0..dk)
                    .map(|x| kv[(bi * t + ti) * hkv * dk + h * dk + x])
                    .collect();
                let mut vrow: Vec<f64> = (0..dvv)
                    .map(|x| vv[(bi * t + ti) * hkv * dvv + h * dvv + x])
                    .collect();
                if let Some(dv) = &dec {
                    for x in 0..dk {
                        let g = if dec_last == hkv {
                            dv[(bi * t + ti) * hkv + h]
                        } else {
                            dv[(bi * t + ti) * hkv * dk + h * dk + x]
                        };
                        let e = f32r(f32r(g).exp());
                        for m in 0..dvv {
                            st[x * dvv + m] = f32r(st[x * dvv + m] * e);
                        }
                    }
                }
                if let Some(bv) = &bet {
                    let bb = if bet_last == 1 {
                        bv[bi * t + ti]
                    } else {
                        bv[(bi * t + ti) * bet_last + h]
                    };
                    for m in 0..dvv {
                        let retrieved: f64 = (0..dk).map(|x| st[x * dvv + m] * krow[x]).sum();
                        vrow[m] = f32r(bb * f32r(vrow[m] - f32r(retrieved)));
                    }
                }
                for x in 0..dk {
                    for m in 0..dvv {
                        st[x * dvv + m] = f32r(st[x * dvv + m] + f32r(krow[x] * vrow[m]));
                    }
                }
            }
            for h in 0..hq {
                let kh = h / group;
                let st = &state[(bi * hkv + kh) * dk * dvv..(bi * hkv + kh + 1) * dk * dvv];
                for m in 0..dvv {
                    let acc: f64 = (0..dk)
                        .map(|x| qv[(bi * t + ti) * hq * dk + h * dk + x] * st[x * dvv + m])
                        .sum();
                    out[(bi * t + ti) * hq * dvv + h * dvv + m] = scale * acc;
                }
            }
        }
    }
    let state_type = past.map_or(q.dtype(), |p| p.dtype());
    Ok(vec![
        Value::Tensor(tensor_f64(vec![b, t, hq * dvv], q.dtype(), out)),
        Value::Tensor(tensor_f64(vec![b, hkv, dk, dvv], state_type, state)),
    ])
}

fn causal_conv(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    past: Option<&Tensor>,
    silu: bool,
) -> Result<Vec<Value>, KernelError> {
    if x.shape.len() != 3 || w.shape.len() != 3 {
        return Err(KernelError::Shape(
            "CausalConvWithState takes (B, C, L) input and (C, 1, K) weights".to_owned(),
        ));
    }
    let (b, c, l) = (x.shape[0], x.shape[1], x.shape[2]);
    let kk = w.shape[2];
    let xv = floats(x, "input")?;
    let wv = floats(w, "weight")?;
    let bv = bias.map(|t| floats(t, "bias")).transpose()?;
    let pv = past.map(|t| floats(t, "past_state")).transpose()?;
    let pl = kk.saturating_sub(1);
    let total = pl + l;
    let mut padded = vec![0f64; b * c * total];
    for bc in 0..b * c {
        if let Some(p) = &pv {
            padded[bc * total..bc * total + pl].copy_from_slice(&p[bc * pl..(bc + 1) * pl]);
        }
        padded[bc * total + pl..(bc + 1) * total].copy_from_slice(&xv[bc * l..(bc + 1) * l]);
    }
    let mut out = vec![0f64; b * c * l];
    for bc in 0..b * c {
        let ch = bc % c;
        for o in 0..l {
            let mut acc = bv.as_ref().map_or(0.0, |bb| bb[ch]);
            for k in 0..kk {
                acc += wv[ch * kk + k] * padded[bc * total + o + k];
            }
            out[bc * l + o] = acc;
        }
    }
    let dtype = x.dtype();
    let conv = tensor_f64(vec![b, c, l], dtype, out);
    let y = if silu {
        let v = conv.data.to_f64().unwrap_or_default();
        tensor_f64(
            vec![b, c, l],
            dtype,
            v.iter()
                .map(|&z| {
                    let z32 = z as f32 as f64;
                    z32 * (1.0 / (1.0 + (-z32).exp()))
                })
                .collect(),
        )
    } else {
        conv
    };
    let state: Vec<f64> = (0..b * c)
        .flat_map(|bc| padded[bc * total + total - pl..(bc + 1) * total].to_vec())
        .collect();
    Ok(vec![
        Value::Tensor(y),
        Value::Tensor(tensor_f64(vec![b, c, pl], dtype, state)),
    ])
}
