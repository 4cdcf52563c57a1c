//! Shared helpers: repository paths and value comparison with the
//! tolerance the issue sets (labels equal, floats within 1e-5 relative).

#![allow(dead_code)]

use neuride_infer::{Data, Tensor, Value};
use std::path::PathBuf;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// Relative 1e-5, with an absolute floor of 1e-6 for values near zero
/// (relative error is meaningless at 0: 1e-9 vs 0 is not a disagreement).
pub fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    (a - b).abs() <= 1e-5 * a.abs().max(b.abs()) + 1e-6
}

pub fn compare_tensors(what: &str, got: &Tensor, want: &Tensor) -> Vec<String> {
    let mut problems = Vec::new();
    if got.shape != want.shape {
        problems.push(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape, want.shape
        ));
        return problems;
    }
    match (&got.data, &want.data) {
        (Data::Str(g), Data::Str(w)) => {
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                if a != b {
                    problems.push(format!("{what}[{i}]: {a:?}, expected {b:?}"));
                }
            }
        }
        (g, w) if g.dtype().is_float() || w.dtype().is_float() => {
            if g.dtype() != w.dtype() {
                problems.push(format!(
                    "{what}: dtype {}, expected {}",
                    g.dtype(),
                    w.dtype()
                ));
            }
            let (g, w) = (g.to_f64().unwrap(), w.to_f64().unwrap());
            for (i, (a, b)) in g.iter().zip(&w).enumerate() {
                if !close(*a, *b) {
                    problems.push(format!("{what}[{i}]: {a}, expected {b}"));
                }
            }
        }
        (g, w) => {
            if g != w {
                problems.push(format!("{what}: {g:?}, expected {w:?}"));
            }
        }
    }
    problems.truncate(8);
    problems
}

pub fn compare_values(what: &str, got: &Value, want: &Value) -> Vec<String> {
    match (got, want) {
        (Value::Tensor(g), Value::Tensor(w)) => compare_tensors(what, g, w),
        (Value::Sequence(g), Value::Sequence(w)) => {
            if g.len() != w.len() {
                return vec![format!("{what}: {} items, expected {}", g.len(), w.len())];
            }
            g.iter()
                .zip(w)
                .enumerate()
                .flat_map(|(i, (a, b))| compare_values(&format!("{what}[{i}]"), a, b))
                .collect()
        }
        (Value::Map(g), Value::Map(w)) => {
            let mut p = Vec::new();
            if g.keys != w.keys {
                p.push(format!("{what}: keys {:?}, expected {:?}", g.keys, w.keys));
            }
            let gt = Tensor {
                shape: vec![g.values.len()],
                data: g.values.clone(),
            };
            let wt = Tensor {
                shape: vec![w.values.len()],
                data: w.values.clone(),
            };
            p.extend(compare_tensors(&format!("{what} values"), &gt, &wt));
            p
        }
        _ => vec![format!(
            "{what}: {}, expected {}",
            got.describe(),
            want.describe()
        )],
    }
}
