//! Control flow: If, Loop, Scan (opset 8 with its batch axis, and 9+),
//! SequenceMap. Each body is a [`Plan`] of its own; the values it reads
//! from enclosing graphs arrive after the node's own inputs (the plan adds
//! them, in [`captured_names`] order) and are bound by name.

use super::{Registry, op};
use crate::error::KernelError;
use crate::ml::num::{axis, first_int, ints};
use crate::ml::{Attrs, Plan, captured_names};
use crate::value::{Data, Tensor, Value};
use neuride_onnx::proto::GraphProto;

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["If"], |_, a, opset| {
        let then_b = body(a, "then_branch", opset)?;
        let else_b = body(a, "else_branch", opset)?;
        let names = captured_names(a.0);
        let explicit = a.0.input.len();
        op(move |i| {
            let cond = match i.first().copied().flatten() {
                Some(Value::Tensor(t)) => match &t.data {
                    Data::Bool(v) => *v
                        .first()
                        .ok_or_else(|| KernelError::Value("If's condition is empty".to_owned()))?,
                    d => {
                        d.to_f64()
                            .and_then(|v| v.first().copied())
                            .ok_or_else(|| KernelError::Value("If's condition".to_owned()))?
                            != 0.0
                    }
                },
                _ => {
                    return Err(KernelError::Value("If needs a condition tensor".to_owned()));
                }
            };
            let branch = if cond { &then_b } else { &else_b };
            branch
                .run_scoped(Vec::new(), &outer(branch, &names, &i[explicit..]))
                .map_err(KernelError::from)
        })
    });
    reg.add(&["Loop"], |_, a, opset| {
        let b = body(a, "body", opset)?;
        let names = captured_names(a.0);
        let explicit = a.0.input.len();
        op(move |i| run_loop(&b, &outer(&b, &names, &i[explicit..]), &i[..explicit]))
    });
    reg.add(&["Scan"], |_, a, opset| {
        let b = body(a, "body", opset)?;
        let names = captured_names(a.0);
        let explicit = a.0.input.len();
        let spec = ScanSpec::from_attrs(a)?;
        op(move |i| {
            let outer = outer(&b, &names, &i[explicit..]);
            if opset < 9 {
                run_scan8(&b, &outer, &i[..explicit], &spec)
            } else {
                run_scan(&b, &outer, &i[..explicit], &spec)
            }
        })
    });
    reg.add(&["SequenceMap"], |_, a, opset| {
        let b = body(a, "body", opset)?;
        let names = captured_names(a.0);
        let explicit = a.0.input.len();
        let outputs = a.0.output.len();
        op(move |i| {
            let outer = outer(&b, &names, &i[explicit..]);
            let Some(Value::Sequence(first)) = i.first().copied().flatten() else {
                return Err(KernelError::Value(
                    "SequenceMap's first input must be a sequence".to_owned(),
                ));
            };
            let mut results: Vec<Vec<Value>> = vec![Vec::new(); outputs];
            for k in 0..first.len() {
                let mut args = vec![first[k].clone()];
                for extra in i[1..explicit].iter() {
                    args.push(match extra {
                        Some(Value::Sequence(s)) => s.get(k).cloned().ok_or_else(|| {
                            KernelError::Value("additional sequences are shorter".to_owned())
                        })?,
                        Some(v) => (*v).clone(),
                        None => {
                            return Err(KernelError::Value(
                                "a missing SequenceMap input".to_owned(),
                            ));
                        }
                    });
                }
                let outs = b.run_scoped(args, &outer)?;
                for (r, o) in results.iter_mut().zip(outs) {
                    r.push(o);
                }
            }
            Ok(results.into_iter().map(Value::Sequence).collect())
        })
    });
}

fn body(a: &Attrs, name: &str, opset: i64) -> Result<Plan, KernelError> {
    let g: &GraphProto = a
        .graph(name)
        .ok_or_else(|| KernelError::Attribute(format!("'{name}' is required")))?;
    Plan::build_body(g, opset).map_err(|e| KernelError::from(e).context(name))
}

/// The values of `body`'s captured names, picked from the node's implicit
/// inputs (`values`, in `names` order).
fn outer<'a>(
    body: &Plan,
    names: &[String],
    values: &[Option<&'a Value>],
) -> Vec<Option<&'a Value>> {
    body.captured()
        .map(|c| {
            names
                .iter()
                .position(|n| n == c)
                .and_then(|k| values.get(k).copied().flatten())
        })
        .collect()
}

/// Stacks per-iteration tensors along a new axis `at` (0 iterations: [0]).
fn stack(items: &[Value], at: usize) -> Result<Value, KernelError> {
    let tensors: Vec<&Tensor> = items
        .iter()
        .map(|v| {
            v.as_tensor()
                .ok_or_else(|| KernelError::Value("scan outputs must be tensors".to_owned()))
        })
        .collect::<Result<_, _>>()?;
    let Some(first) = tensors.first() else {
        return Ok(Value::Tensor(Tensor {
            shape: vec![0],
            data: Data::F32(Vec::new()),
        }));
    };
    if tensors.iter().any(|t| t.shape != first.shape) {
        return Err(KernelError::Shape(
            "scan outputs change shape between iterations".to_owned(),
        ));
    }
    let mut data = Data::empty(first.dtype());
    for t in &tensors {
        data.extend(&t.data);
    }
    let mut shape = first.shape.clone();
    shape.insert(0, tensors.len());
    let stacked = Tensor { shape, data };
    if at == 0 {
        return Ok(Value::Tensor(stacked));
    }
    let rank = stacked.shape.len();
    let mut perm: Vec<usize> = (1..rank).collect();
    perm.insert(at.min(rank - 1), 0);
    Ok(Value::Tensor(crate::ml::num::transpose(&stacked, &perm)?))
}

fn run_loop(
    b: &Plan,
    outer: &[Option<&Value>],
    i: &[Option<&Value>],
) -> Result<Vec<Value>, KernelError> {
    let max_trip = match i.first().copied().flatten() {
        Some(Value::Tensor(t)) => Some(first_int(t, "M")?),
        _ => None,
    };
    let mut cond = match i.get(1).copied().flatten() {
        Some(Value::Tensor(t)) => truth(t)?,
        _ => true,
    };
    let mut carried: Vec<Value> = i[2.min(i.len())..]
        .iter()
        .map(|v| v.cloned().unwrap_or(Value::Optional(None)))
        .collect();
    let n_carried = carried.len();
    let mut scans: Vec<Vec<Value>> = Vec::new();
    let mut iteration = 0i64;
    while cond && max_trip.is_none_or(|m| iteration < m) {
        let mut args = vec![
            Value::Tensor(Tensor::scalar(iteration)),
            Value::Tensor(Tensor::scalar(cond)),
        ];
        args.extend(carried.iter().cloned());
        let mut outs = b.run_scoped(args, outer)?;
        if outs.len() < 1 + n_carried {
            return Err(KernelError::Value(format!(
                "the Loop body returned {} values for {n_carried} carried",
                outs.len()
            )));
        }
        let rest = outs.split_off(1 + n_carried);
        cond = match &outs[0] {
            Value::Tensor(t) => truth(t)?,
            _ => {
                return Err(KernelError::Value(
                    "the Loop body's condition must be a tensor".to_owned(),
                ));
            }
        };
        carried = outs.split_off(1);
        if scans.is_empty() {
            scans = vec![Vec::new(); rest.len()];
        }
        for (s, v) in scans.iter_mut().zip(rest) {
            s.push(v);
        }
        iteration += 1;
        if iteration > 1 << 24 {
            return Err(KernelError::Limit(
                "the Loop ran 2^24 iterations without ending".to_owned(),
            ));
        }
    }
    let scan_outputs = b.output_slots.len().saturating_sub(1 + n_carried);
    if scans.is_empty() {
        scans = vec![Vec::new(); scan_outputs];
    }
    let mut out = carried;
    for s in &scans {
        out.push(stack(s, 0)?);
    }
    Ok(out)
}

fn truth(t: &Tensor) -> Result<bool, KernelError> {
    match &t.data {
        Data::Bool(v) => v
            .first()
            .copied()
            .ok_or_else(|| KernelError::Value("an empty condition".to_owned())),
        d => Ok(d
            .to_f64()
            .and_then(|v| v.first().copied())
            .ok_or_else(|| KernelError::Value("a condition".to_owned()))?
            != 0.0),
    }
}

struct ScanSpec {
    num_scan_inputs: usize,
    input_axes: Option<Vec<i64>>,
    input_reverse: Option<Vec<i64>>,
    output_axes: Option<Vec<i64>>,
    output_reverse: Option<Vec<i64>>,
}

impl ScanSpec {
    fn from_attrs(a: &Attrs) -> Result<ScanSpec, KernelError> {
        Ok(ScanSpec {
            num_scan_inputs: a
                .i("num_scan_inputs")
                .ok_or_else(|| KernelError::Attribute("Scan needs num_scan_inputs".to_owned()))?
                as usize,
            input_axes: a.ints("scan_input_axes"),
            input_reverse: a
                .ints("scan_input_directions")
                .or_else(|| a.ints("directions")),
            output_axes: a.ints("scan_output_axes"),
            output_reverse: a.ints("scan_output_directions"),
        })
    }
}

/// Slice `k` of `t` along `ax` (the axis removed).
fn take(t: &Tensor, ax: usize, k: usize) -> Tensor {
    let (outer, n, inner) = crate::ml::num::split_at(&t.shape, ax);
    let idx: Vec<usize> = (0..outer)
        .flat_map(|o| ((o * n + k) * inner)..((o * n + k) * inner + inner))
        .collect();
    let mut shape = t.shape.clone();
    shape.remove(ax);
    Tensor {
        shape,
        data: t.data.gather(&idx),
    }
}

fn run_scan(
    b: &Plan,
    outer: &[Option<&Value>],
    i: &[Option<&Value>],
    spec: &ScanSpec,
) -> Result<Vec<Value>, KernelError> {
    let m = spec.num_scan_inputs;
    let n_state = i
        .len()
        .checked_sub(m)
        .ok_or_else(|| KernelError::Value("fewer inputs than num_scan_inputs".to_owned()))?;
    let mut state: Vec<Value> = i[..n_state]
        .iter()
        .map(|v| {
            v.cloned()
                .ok_or_else(|| KernelError::Value("a missing state".to_owned()))
        })
        .collect::<Result<_, _>>()?;
    let scans: Vec<&Tensor> = i[n_state..]
        .iter()
        .map(|v| {
            v.and_then(Value::as_tensor)
                .ok_or_else(|| KernelError::Value("scan inputs must be tensors".to_owned()))
        })
        .collect::<Result<_, _>>()?;
    let axes: Vec<usize> = (0..m)
        .map(|k| {
            axis(
                spec.input_axes
                    .as_ref()
                    .and_then(|a| a.get(k).copied())
                    .unwrap_or(0),
                scans[k].shape.len(),
            )
        })
        .collect::<Result<_, _>>()?;
    let len = scans.first().map_or(0, |t| t.shape[axes[0]]);
    if scans.iter().zip(&axes).any(|(t, &a)| t.shape[a] != len) {
        return Err(KernelError::Shape(
            "scan inputs differ in length".to_owned(),
        ));
    }
    let mut outs_per_step: Vec<Vec<Value>> = Vec::new();
    for step in 0..len {
        let mut args = state.clone();
        for k in 0..m {
            let reverse = spec
                .input_reverse
                .as_ref()
                .and_then(|d| d.get(k))
                .copied()
                .unwrap_or(0)
                != 0;
            let at = if reverse { len - 1 - step } else { step };
            args.push(Value::Tensor(take(scans[k], axes[k], at)));
        }
        let mut outs = b.run_scoped(args, outer)?;
        let rest = outs.split_off(n_state.min(outs.len()));
        state = outs;
        outs_per_step.push(rest);
    }
    let n_out = b.output_slots.len().saturating_sub(n_state);
    let mut out = state;
    for k in 0..n_out {
        let mut items: Vec<Value> = outs_per_step.iter().map(|o| o[k].clone()).collect();
        if spec
            .output_reverse
            .as_ref()
            .and_then(|d| d.get(k))
            .copied()
            .unwrap_or(0)
            != 0
        {
            items.reverse();
        }
        let rank = items
            .first()
            .and_then(Value::as_tensor)
            .map_or(0, |t| t.shape.len())
            + 1;
        let ax = axis(
            spec.output_axes
                .as_ref()
                .and_then(|a| a.get(k).copied())
                .unwrap_or(0),
            rank,
        )?;
        out.push(stack(&items, ax)?);
    }
    Ok(out)
}

/// Scan-8: every input has a batch axis 0 and the sequence on axis 1;
/// `sequence_lens` (input 0) may shorten each batch entry.
fn run_scan8(
    b: &Plan,
    outer: &[Option<&Value>],
    i: &[Option<&Value>],
    spec: &ScanSpec,
) -> Result<Vec<Value>, KernelError> {
    let lens = match i.first().copied().flatten() {
        Some(Value::Tensor(t)) => Some(ints(t)?),
        _ => None,
    };
    let rest = &i[1..];
    let m = spec.num_scan_inputs;
    let n_state = rest.len() - m;
    let tensors: Vec<&Tensor> = rest
        .iter()
        .map(|v| {
            v.and_then(Value::as_tensor)
                .ok_or_else(|| KernelError::Value("Scan-8 takes tensors".to_owned()))
        })
        .collect::<Result<_, _>>()?;
    let batch = tensors.first().map_or(0, |t| t.shape[0]);
    let mut per_batch: Vec<Vec<Value>> = Vec::new();
    for bi in 0..batch {
        let state: Vec<Option<Value>> = tensors[..n_state]
            .iter()
            .map(|t| Some(Value::Tensor(take(t, 0, bi))))
            .collect();
        let mut scans: Vec<Tensor> = tensors[n_state..].iter().map(|t| take(t, 0, bi)).collect();
        if let Some(l) = &lens {
            let l = l[bi] as usize;
            scans = scans
                .iter()
                .map(|t| crate::ml::ops::slice(t, &[0], &[l as i64], Some(vec![0]), None))
                .collect::<Result<_, _>>()?;
        }
        let mut args: Vec<Option<&Value>> = Vec::new();
        let scan_values: Vec<Value> = scans.into_iter().map(Value::Tensor).collect();
        args.extend(state.iter().map(Option::as_ref));
        args.extend(scan_values.iter().map(Some));
        let spec9 = ScanSpec {
            num_scan_inputs: m,
            input_axes: None,
            input_reverse: spec.input_reverse.clone(),
            output_axes: None,
            output_reverse: None,
        };
        per_batch.push(run_scan(b, outer, &args, &spec9)?);
    }
    let n_out = per_batch.first().map_or(0, Vec::len);
    (0..n_out)
        .map(|k| {
            stack(
                &per_batch.iter().map(|o| o[k].clone()).collect::<Vec<_>>(),
                0,
            )
        })
        .collect()
}
