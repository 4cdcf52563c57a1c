//! Sequences and optionals: SequenceConstruct/Empty/At/Insert/Erase/Length,
//! SplitToSequence, ConcatFromSequence, Optional, OptionalHasElement,
//! OptionalGetElement.

use super::shape::{concat, split};
use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::basic::{given, not_a};
use crate::ml::num::{axis, first_int, ints};
use crate::value::{Tensor, Value};

fn sequence<'a>(i: &[Option<&'a Value>], k: usize) -> Result<&'a [Value], KernelError> {
    match given(i, k)? {
        Value::Sequence(s) => Ok(s),
        other => Err(not_a(k, "a sequence", other)),
    }
}

/// A position in a sequence of `len` (negative from the end); `len` itself
/// allowed when `end`.
fn position(t: &Tensor, len: usize, end: bool) -> Result<usize, KernelError> {
    let p = first_int(t, "position")?;
    let q = if p < 0 { p + len as i64 } else { p };
    let limit = if end { len as i64 } else { len as i64 - 1 };
    if q < 0 || q > limit {
        return Err(KernelError::Value(format!(
            "position {p} outside a sequence of {len}"
        )));
    }
    Ok(q as usize)
}

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["SequenceConstruct"], |_, _, _| {
        op(|i| {
            let items = (0..i.len())
                .map(|k| arg(i, k).map(|t| Value::Tensor(t.clone())))
                .collect::<Result<_, _>>()?;
            Ok(vec![Value::Sequence(items)])
        })
    });
    reg.add(&["SequenceEmpty"], |_, _, _| {
        op(|_| Ok(vec![Value::Sequence(Vec::new())]))
    });
    reg.add(&["SequenceLength"], |_, _, _| {
        op(|i| one(Tensor::scalar(sequence(i, 0)?.len() as i64)))
    });
    reg.add(&["SequenceAt"], |_, _, _| {
        op(|i| {
            let s = sequence(i, 0)?;
            Ok(vec![s[position(arg(i, 1)?, s.len(), false)?].clone()])
        })
    });
    reg.add(&["SequenceInsert"], |_, _, _| {
        op(|i| {
            let mut s = sequence(i, 0)?.to_vec();
            let t = arg(i, 1)?.clone();
            let at = match opt(i, 2)? {
                Some(p) => position(p, s.len(), true)?,
                None => s.len(),
            };
            s.insert(at, Value::Tensor(t));
            Ok(vec![Value::Sequence(s)])
        })
    });
    reg.add(&["SequenceErase"], |_, _, _| {
        op(|i| {
            let mut s = sequence(i, 0)?.to_vec();
            if s.is_empty() {
                return Err(KernelError::Value(
                    "SequenceErase of an empty sequence".to_owned(),
                ));
            }
            let at = match opt(i, 1)? {
                Some(p) => position(p, s.len(), false)?,
                None => s.len() - 1,
            };
            s.remove(at);
            Ok(vec![Value::Sequence(s)])
        })
    });
    reg.add(&["SplitToSequence"], |_, a, _| {
        let ax = a.i("axis").unwrap_or(0);
        let keepdims = a.i("keepdims").unwrap_or(1) != 0;
        op(move |i| {
            let t = arg(i, 0)?;
            let parts = match opt(i, 1)? {
                Some(s) if s.shape.is_empty() => {
                    // One size: chunks of it, the last one shorter.
                    let chunk = first_int(s, "split")?;
                    let a = axis(ax, t.shape.len())?;
                    let d = t.shape[a] as i64;
                    if chunk <= 0 {
                        return Err(KernelError::Shape(format!("split size {chunk}")));
                    }
                    let sizes: Vec<i64> = (0..(d + chunk - 1) / chunk)
                        .map(|k| chunk.min(d - k * chunk))
                        .collect();
                    split(t, ax, Some(sizes), 0)?
                }
                Some(s) => split(t, ax, Some(ints(s)?), 0)?,
                None => {
                    let a = axis(ax, t.shape.len())?;
                    let n = t.shape[a];
                    let mut parts = split(t, ax, Some(vec![1; n]), n)?;
                    if !keepdims {
                        for p in &mut parts {
                            p.shape.remove(a);
                        }
                    }
                    parts
                }
            };
            Ok(vec![Value::Sequence(
                parts.into_iter().map(Value::Tensor).collect(),
            )])
        })
    });
    reg.add(&["ConcatFromSequence"], |_, a, _| {
        let ax = a.required_i("axis")?;
        let new_axis = a.i("new_axis").unwrap_or(0) != 0;
        op(move |i| {
            let s = sequence(i, 0)?;
            let mut tensors: Vec<Tensor> = s
                .iter()
                .map(|v| {
                    v.as_tensor().cloned().ok_or_else(|| {
                        KernelError::Value("a sequence of tensors expected".to_owned())
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut ax = ax;
            if new_axis {
                let rank = tensors.first().map_or(0, |t| t.shape.len()) + 1;
                let a = axis(ax, rank)?;
                for t in &mut tensors {
                    t.shape.insert(a, 1);
                }
                ax = a as i64;
            }
            let refs: Vec<&Tensor> = tensors.iter().collect();
            one(concat(&refs, ax)?)
        })
    });
    reg.add(&["Optional"], |_, _, _| {
        op(|i| {
            Ok(vec![Value::Optional(
                i.first().copied().flatten().map(|v| Box::new(v.clone())),
            )])
        })
    });
    reg.add(&["OptionalHasElement"], |_, _, _| {
        op(|i| {
            let has = match i.first().copied().flatten() {
                None | Some(Value::Optional(None)) => false,
                Some(_) => true,
            };
            one(Tensor::scalar(has))
        })
    });
    reg.add(&["OptionalGetElement"], |_, _, _| {
        op(|i| match i.first().copied().flatten() {
            Some(Value::Optional(Some(v))) => Ok(vec![(**v).clone()]),
            Some(Value::Optional(None)) | None => Err(KernelError::Value(
                "OptionalGetElement of an empty optional".to_owned(),
            )),
            Some(v) => Ok(vec![v.clone()]),
        })
    });
}
