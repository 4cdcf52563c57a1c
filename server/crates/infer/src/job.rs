//! The inference job the CLI and the editor run: inputs split into batches
//! along the first axis (so progress and cancellation mean something), the
//! outputs stitched back, and an optional score against labels.

use crate::error::Error;
use crate::session::{Engine, Session};
use crate::signature::{Dim, ValueType};
use crate::value::{Data, Tensor, Value};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows per batch when the model allows batching.
pub const DEFAULT_BATCH_ROWS: usize = 256;

/// What a finished job returns.
#[derive(Debug, Clone, Serialize)]
pub struct InferReport {
    pub engine: Engine,
    /// Rows (first-axis length) processed.
    pub rows: usize,
    pub batches: usize,
    /// Wall time of the runs (excluding preparation).
    pub elapsed_ms: f64,
    #[serde(serialize_with = "crate::json::serialize_named")]
    pub outputs: Vec<(String, Value)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
}

/// Quality against labels: accuracy for classifiers, MAE and R² for regressors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Score {
    Classification {
        accuracy: f64,
        correct: usize,
        total: usize,
    },
    Regression {
        mae: f64,
        r2: f64,
        total: usize,
    },
}

/// Whether every input's first dimension is free (symbolic or unknown), so
/// rows can be split without changing the model's meaning.
fn batchable(session: &Session, inputs: &[(String, Value)]) -> Option<usize> {
    let mut rows = None;
    for port in &session.signature.inputs {
        let ValueType::Tensor {
            shape: Some(shape), ..
        } = &port.ty
        else {
            return None;
        };
        if !matches!(shape.first(), Some(Dim::Symbolic(_))) {
            return None;
        }
        let (_, Value::Tensor(t)) = inputs.iter().find(|(n, _)| *n == port.name)? else {
            return None;
        };
        let r = *t.shape.first()?;
        if *rows.get_or_insert(r) != r {
            return None;
        }
    }
    rows
}

/// Runs `session` on `inputs`, `batch_rows` rows at a time when the model
/// allows it. `progress(done, total)` is called after each batch; setting
/// `cancel` stops before the next batch with [`Error::Cancelled`].
pub fn infer(
    session: &Session,
    inputs: Vec<(String, Value)>,
    batch_rows: usize,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<InferReport, Error> {
    let start = std::time::Instant::now();
    let batch_rows = batch_rows.max(1);
    let Some(rows) = batchable(session, &inputs).filter(|&r| r > batch_rows) else {
        // One run: fixed-size inputs (or already small enough).
        let rows = batchable(session, &inputs).unwrap_or(1);
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled {
                done: 0,
                total: rows,
            });
        }
        let outputs = session.run(inputs)?;
        progress(rows, rows);
        return Ok(InferReport {
            engine: session.engine(),
            rows,
            batches: 1,
            elapsed_ms: ms(start),
            outputs,
            score: None,
        });
    };
    // Check everything once, on the whole input, so mismatches are reported up front.
    let ordered = session.signature.check(inputs)?;
    let mut collected: Vec<Vec<Value>> = Vec::new();
    let mut done = 0;
    let mut batches = 0;
    while done < rows {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled { done, total: rows });
        }
        let end = (done + batch_rows).min(rows);
        let chunk: Vec<Value> = ordered
            .iter()
            .map(|v| match v {
                Value::Tensor(t) => Value::Tensor(t.slice_rows(done, end)),
                other => other.clone(),
            })
            .collect();
        let outs = session.run_ordered(chunk)?;
        if collected.is_empty() {
            collected = outs.into_iter().map(|o| vec![o]).collect();
        } else {
            for (acc, o) in collected.iter_mut().zip(outs) {
                acc.push(o);
            }
        }
        done = end;
        batches += 1;
        progress(done, rows);
    }
    let names = session.signature.outputs.iter().map(|p| p.name.clone());
    let outputs = names
        .zip(collected)
        .map(|(n, parts)| concat_rows(parts).map(|v| (n, v)))
        .collect::<Result<_, _>>()?;
    Ok(InferReport {
        engine: session.engine(),
        rows,
        batches,
        elapsed_ms: ms(start),
        outputs,
        score: None,
    })
}

fn ms(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// Joins per-batch outputs along the first axis (sequences are appended).
fn concat_rows(parts: Vec<Value>) -> Result<Value, Error> {
    let mut iter = parts.into_iter();
    let Some(first) = iter.next() else {
        return Err(Error::Model("no batches".into()));
    };
    match first {
        Value::Tensor(mut acc) => {
            for part in iter {
                let Value::Tensor(t) = part else {
                    return Err(Error::Model("batch outputs changed kind".into()));
                };
                if acc.shape.is_empty()
                    || t.shape.len() != acc.shape.len()
                    || t.shape[1..] != acc.shape[1..]
                    || !acc.data.extend(&t.data)
                {
                    return Err(Error::Model(format!(
                        "batch outputs {:?} and {:?} do not stack",
                        acc.shape, t.shape
                    )));
                }
                acc.shape[0] += t.shape[0];
            }
            Ok(Value::Tensor(acc))
        }
        Value::Sequence(mut acc) => {
            for part in iter {
                let Value::Sequence(s) = part else {
                    return Err(Error::Model("batch outputs changed kind".into()));
                };
                acc.extend(s);
            }
            Ok(Value::Sequence(acc))
        }
        other @ (Value::Map(_) | Value::Optional(_)) => {
            if iter.next().is_some() {
                return Err(Error::Model(format!(
                    "a {} output cannot be split into batches",
                    other.describe()
                )));
            }
            Ok(other)
        }
    }
}

/// Scores the first suitable output against `labels`: integer or string
/// outputs (or float scores [N, C], by argmax) as classification, float
/// [N] / [N, 1] outputs as regression.
pub fn score(outputs: &[(String, Value)], labels: &Tensor) -> Result<Score, Error> {
    let (_, first) = outputs
        .first()
        .ok_or_else(|| Error::Format("the model has no outputs".into()))?;
    let Value::Tensor(out) = first else {
        return Err(Error::Format(format!(
            "cannot score a {} output",
            first.describe()
        )));
    };
    let n = labels.len();
    let mismatch = |got: usize| {
        Error::Format(format!(
            "{n} labels, but the model returned {got} predictions"
        ))
    };
    let is_class_scores = out.dtype().is_float() && out.shape.len() == 2 && out.shape[1] > 1;
    let labels_integral = match &labels.data {
        Data::Str(_) => true,
        d => {
            d.to_f64()
                .is_some_and(|v| v.iter().all(|x| x.fract() == 0.0))
                && !d.dtype().is_float()
                || is_class_scores
        }
    };
    if !out.dtype().is_float() || (is_class_scores && labels_integral) {
        let predicted: Vec<String> = if is_class_scores {
            let c = out.shape[1];
            let x = out.data.to_f64().unwrap();
            x.chunks_exact(c)
                .map(|row| {
                    let mut best = 0;
                    for (i, &v) in row.iter().enumerate() {
                        if v > row[best] {
                            best = i;
                        }
                    }
                    best.to_string()
                })
                .collect()
        } else {
            strings(&out.data)
        };
        if predicted.len() != n {
            return Err(mismatch(predicted.len()));
        }
        let truth = strings(&labels.data);
        let correct = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
        return Ok(Score::Classification {
            accuracy: correct as f64 / n.max(1) as f64,
            correct,
            total: n,
        });
    }
    let predicted = out.data.to_f64().unwrap();
    if predicted.len() != n {
        return Err(mismatch(predicted.len()));
    }
    let truth = labels
        .data
        .to_f64()
        .ok_or_else(|| Error::Format("regression labels must be numbers".into()))?;
    let mean = truth.iter().sum::<f64>() / n.max(1) as f64;
    let mae = predicted
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - t).abs())
        .sum::<f64>()
        / n.max(1) as f64;
    let ss_res: f64 = predicted
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
    Ok(Score::Regression {
        mae,
        r2: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NAN
        },
        total: n,
    })
}

/// Labels as canonical strings, so int64 3, int32 3 and "3" compare equal.
fn strings(d: &Data) -> Vec<String> {
    match d {
        Data::Str(v) => v.clone(),
        Data::Bool(v) => v.iter().map(|&b| (b as u8).to_string()).collect(),
        Data::F32(_) | Data::F64(_) => d
            .to_f64()
            .unwrap()
            .iter()
            .map(|x| {
                if x.fract() == 0.0 {
                    format!("{}", *x as i64)
                } else {
                    x.to_string()
                }
            })
            .collect(),
        other => other
            .to_f64()
            .unwrap()
            .iter()
            .map(|&x| (x as i64).to_string())
            .collect(),
    }
}
