//! Recurrent layers: RNN, GRU and LSTM as the ONNX operator docs define
//! them (gate orders z-r-h and i-o-f-c, forward/reverse/bidirectional,
//! sequence_lens, clip, custom activations, peepholes, input_forget,
//! linear_before_reset, layout), in f64.

use super::{Registry, arg, op, opt};
use crate::error::KernelError;
use crate::ml::Attrs;
use crate::ml::num::{floats, ints, tensor_f64};
use crate::value::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Rnn,
    Gru,
    Lstm,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }
}

#[derive(Clone, Copy)]
struct Act {
    kind: ActKind,
    alpha: f64,
    beta: f64,
}

#[derive(Clone, Copy)]
enum ActKind {
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus,
}

impl Act {
    fn apply(&self, x: f64) -> f64 {
        let (a, b) = (self.alpha, self.beta);
        match self.kind {
            ActKind::Relu => x.max(0.0),
            ActKind::Tanh => x.tanh(),
            ActKind::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            ActKind::Affine => a * x + b,
            ActKind::LeakyRelu => {
                if x >= 0.0 {
                    x
                } else {
                    a * x
                }
            }
            ActKind::ThresholdedRelu => {
                if x > a {
                    x
                } else {
                    0.0
                }
            }
            ActKind::ScaledTanh => a * (b * x).tanh(),
            ActKind::HardSigmoid => (a * x + b).clamp(0.0, 1.0),
            ActKind::Elu => {
                if x >= 0.0 {
                    x
                } else {
                    a * (x.exp() - 1.0)
                }
            }
            ActKind::Softsign => x / (1.0 + x.abs()),
            ActKind::Softplus => (1.0 + x.exp()).ln(),
        }
    }
}

/// The activations of every direction, with their alphas and betas taken
/// in order by the ones that have parameters.
fn activations(a: &Attrs, cell: Cell, dirs: usize) -> Result<Vec<Act>, KernelError> {
    let defaults: &[&str] = match cell {
        Cell::Rnn => &["Tanh"],
        Cell::Gru => &["Sigmoid", "Tanh"],
        Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
    };
    let names: Vec<String> = match a.strings("activations") {
        Some(v) if !v.is_empty() => v,
        _ => (0..dirs)
            .flat_map(|_| defaults.iter().map(|s| s.to_string()))
            .collect(),
    };
    let alphas = a.floats("activation_alpha").unwrap_or_default();
    let betas = a.floats("activation_beta").unwrap_or_default();
    let (mut ai, mut bi) = (0, 0);
    let mut out = Vec::new();
    for name in &names {
        let (kind, da, db, takes_a, takes_b) = match name.to_ascii_lowercase().as_str() {
            "relu" => (ActKind::Relu, 0.0, 0.0, false, false),
            "tanh" => (ActKind::Tanh, 0.0, 0.0, false, false),
            "sigmoid" => (ActKind::Sigmoid, 0.0, 0.0, false, false),
            "affine" => (ActKind::Affine, 1.0, 0.0, true, true),
            "leakyrelu" => (ActKind::LeakyRelu, 0.01, 0.0, true, false),
            "thresholdedrelu" => (ActKind::ThresholdedRelu, 1.0, 0.0, true, false),
            "scaledtanh" => (ActKind::ScaledTanh, 1.0, 1.0, true, true),
            "hardsigmoid" => (ActKind::HardSigmoid, 0.2, 0.5, true, true),
            "elu" => (ActKind::Elu, 1.0, 0.0, true, false),
            "softsign" => (ActKind::Softsign, 0.0, 0.0, false, false),
            "softplus" => (ActKind::Softplus, 0.0, 0.0, false, false),
            other => {
                return Err(KernelError::Unsupported(format!(
                    "activation '{other}' is not known"
                )));
            }
        };
        let alpha = if takes_a && ai < alphas.len() {
            ai += 1;
            alphas[ai - 1] as f64
        } else {
            da
        };
        let beta = if takes_b && bi < betas.len() {
            bi += 1;
            betas[bi - 1] as f64
        } else {
            db
        };
        out.push(Act { kind, alpha, beta });
    }
    let per = defaults.len();
    if out.len() == per && dirs == 2 {
        let copy = out.clone();
        out.extend(copy);
    }
    if out.len() < per * dirs {
        return Err(KernelError::Attribute(format!(
            "{} activations for {dirs} directions",
            out.len()
        )));
    }
    Ok(out)
}

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["RNN", "GRU", "LSTM"], |name, a, _| {
        let cell = match name {
            "RNN" => Cell::Rnn,
            "GRU" => Cell::Gru,
            _ => Cell::Lstm,
        };
        let direction = a.s_or("direction", "forward");
        let dirs = if direction == "bidirectional" { 2 } else { 1 };
        let reverse_only = direction == "reverse";
        if !matches!(direction.as_str(), "forward" | "reverse" | "bidirectional") {
            return Err(KernelError::Attribute(format!("direction '{direction}'")));
        }
        let acts = activations(a, cell, dirs)?;
        let clip = a.f("clip").map(|c| c as f64);
        let linear_before_reset = a.i("linear_before_reset").unwrap_or(0) != 0;
        let input_forget = a.i("input_forget").unwrap_or(0) != 0;
        let layout = a.i("layout").unwrap_or(0);
        let outputs = a.0.output.len();
        op(move |i| {
            let x = arg(i, 0)?;
            let dtype = x.dtype();
            let (w, r) = (arg(i, 1)?, arg(i, 2)?);
            let (b, lens, h0) = (opt(i, 3)?, opt(i, 4)?, opt(i, 5)?);
            let c0 = if cell == Cell::Lstm { opt(i, 6)? } else { None };
            let p = if cell == Cell::Lstm { opt(i, 7)? } else { None };
            if x.shape.len() != 3 {
                return Err(KernelError::Shape(format!(
                    "X of shape {:?}: 3-D expected",
                    x.shape
                )));
            }
            let (seq, batch, input) = if layout == 0 {
                (x.shape[0], x.shape[1], x.shape[2])
            } else {
                (x.shape[1], x.shape[0], x.shape[2])
            };
            let g = cell.gates();
            let hidden = w.shape[1] / g;
            let xv = floats(x, "X")?;
            let xat = |t: usize, bi: usize, k: usize| {
                if layout == 0 {
                    xv[(t * batch + bi) * input + k]
                } else {
                    xv[(bi * seq + t) * input + k]
                }
            };
            let (wv, rv) = (floats(w, "W")?, floats(r, "R")?);
            let bv = b.map(|b| floats(b, "B")).transpose()?;
            let lens: Vec<usize> = match lens {
                Some(l) => ints(l)?.iter().map(|&v| v.max(0) as usize).collect(),
                None => vec![seq; batch],
            };
            let hinit = h0.map(|t| floats(t, "initial_h")).transpose()?;
            let cinit = c0.map(|t| floats(t, "initial_c")).transpose()?;
            let pv = p.map(|t| floats(t, "P")).transpose()?;
            let mut y = vec![0f64; seq * dirs * batch * hidden];
            let mut yh = vec![0f64; dirs * batch * hidden];
            let mut yc = vec![0f64; dirs * batch * hidden];
            for d in 0..dirs {
                let reverse = reverse_only || d == 1;
                let wd = &wv[d * g * hidden * input..(d + 1) * g * hidden * input];
                let rd = &rv[d * g * hidden * hidden..(d + 1) * g * hidden * hidden];
                let bias = |k: usize| bv.as_ref().map_or(0.0, |b| b[d * 2 * g * hidden + k]);
                let rbias = |k: usize| {
                    bv.as_ref()
                        .map_or(0.0, |b| b[d * 2 * g * hidden + g * hidden + k])
                };
                let act = &acts[d * (acts.len() / dirs)..];
                let clipped = |v: f64| clip.map_or(v, |c| v.clamp(-c, c));
                // The initial state of this direction and batch row (zeros when not given).
                let initial = |init: &Option<Vec<f64>>, bi: usize| -> Vec<f64> {
                    let at = (d * batch + bi) * hidden;
                    init.as_ref()
                        .map_or_else(|| vec![0.0; hidden], |v| v[at..at + hidden].to_vec())
                };
                for bi in 0..batch {
                    let mut h = initial(&hinit, bi);
                    let mut c = initial(&cinit, bi);
                    let len = lens[bi].min(seq);
                    for step in 0..len {
                        let t = if reverse { len - 1 - step } else { step };
                        // Input and recurrent projections of every gate row.
                        let xw: Vec<f64> = (0..g * hidden)
                            .map(|row| {
                                (0..input)
                                    .map(|k| xat(t, bi, k) * wd[row * input + k])
                                    .sum::<f64>()
                                    + bias(row)
                            })
                            .collect();
                        let hr = |row: usize, hs: &[f64]| -> f64 {
                            (0..hidden)
                                .map(|k| hs[k] * rd[row * hidden + k])
                                .sum::<f64>()
                                + rbias(row)
                        };
                        let mut nh = vec![0f64; hidden];
                        match cell {
                            Cell::Rnn => {
                                for j in 0..hidden {
                                    nh[j] = act[0].apply(clipped(xw[j] + hr(j, &h)));
                                }
                            }
                            Cell::Gru => {
                                let z: Vec<f64> = (0..hidden)
                                    .map(|j| act[0].apply(clipped(xw[j] + hr(j, &h))))
                                    .collect();
                                let rg: Vec<f64> = (0..hidden)
                                    .map(|j| {
                                        act[0].apply(clipped(xw[hidden + j] + hr(hidden + j, &h)))
                                    })
                                    .collect();
                                let rh: Vec<f64> = (0..hidden).map(|k| rg[k] * h[k]).collect();
                                for j in 0..hidden {
                                    let row = 2 * hidden + j;
                                    let pre = if linear_before_reset {
                                        xw[row] + rg[j] * hr(row, &h)
                                    } else {
                                        xw[row] + hr(row, &rh)
                                    };
                                    let hh = act[1].apply(clipped(pre));
                                    nh[j] = (1.0 - z[j]) * hh + z[j] * h[j];
                                }
                            }
                            Cell::Lstm => {
                                let peep = |k: usize, j: usize| {
                                    pv.as_ref()
                                        .map_or(0.0, |p| p[d * 3 * hidden + k * hidden + j])
                                };
                                let mut nc = vec![0f64; hidden];
                                for j in 0..hidden {
                                    let it = act[0]
                                        .apply(clipped(xw[j] + hr(j, &h) + peep(0, j) * c[j]));
                                    let ft = if input_forget {
                                        1.0 - it
                                    } else {
                                        act[0].apply(clipped(
                                            xw[2 * hidden + j]
                                                + hr(2 * hidden + j, &h)
                                                + peep(2, j) * c[j],
                                        ))
                                    };
                                    let ct = act[1].apply(clipped(
                                        xw[3 * hidden + j] + hr(3 * hidden + j, &h),
                                    ));
                                    nc[j] = ft * c[j] + it * ct;
                                    let ot = act[0].apply(clipped(
                                        xw[hidden + j] + hr(hidden + j, &h) + peep(1, j) * nc[j],
                                    ));
                                    nh[j] = ot * act[2].apply(nc[j]);
                                }
                                c = nc;
                            }
                        }
                        h = nh;
                        for j in 0..hidden {
                            let at = if layout == 0 {
                                ((t * dirs + d) * batch + bi) * hidden + j
                            } else {
                                ((bi * seq + t) * dirs + d) * hidden + j
                            };
                            y[at] = h[j];
                        }
                    }
                    for j in 0..hidden {
                        let at = if layout == 0 {
                            (d * batch + bi) * hidden + j
                        } else {
                            (bi * dirs + d) * hidden + j
                        };
                        yh[at] = h[j];
                        yc[at] = c[j];
                    }
                }
            }
            let (ys, hs) = if layout == 0 {
                (vec![seq, dirs, batch, hidden], vec![dirs, batch, hidden])
            } else {
                (vec![batch, seq, dirs, hidden], vec![batch, dirs, hidden])
            };
            let mut out = vec![
                Value::Tensor(tensor_f64(ys, dtype, y)),
                Value::Tensor(tensor_f64(hs.clone(), dtype, yh)),
            ];
            if cell == Cell::Lstm {
                out.push(Value::Tensor(tensor_f64(hs, dtype, yc)));
            }
            out.truncate(outputs.max(1));
            Ok(out)
        })
    });
}
