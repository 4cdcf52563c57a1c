//! Lowering of the ops that only move values: views that rename a value
//! with a new shape (Identity, Dropout, Reshape, Flatten, Squeeze,
//! Unsqueeze) and copies (Transpose, Expand, Slice, Gather, Concat).

use super::shapes::{broadcast, ints_of, normalize_axis, numel, push_block};
use super::shapes::{reshape, squeeze, unsqueeze, unsupported, with_shape};
use super::{Lower, Node, R, Registry, Val};
use crate::error::KernelError;
use crate::native::Kind;
use crate::native::kernels::{Blocks, Walk, strides};
use crate::value::{Data, Tensor};
use std::sync::Arc;

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["Identity"], |l, n| {
        l.set(0, n.input(0)?);
        Ok(())
    });
    reg.add(&["Dropout"], |l, n| l.dropout(n));
    reg.add(&["Reshape"], |l, n| l.reshape(n));
    reg.add(&["Flatten"], |l, n| l.flatten(n));
    reg.add(&["Squeeze", "Unsqueeze"], |l, n| l.squeeze(n));
    reg.add(&["Transpose"], |l, n| l.transpose(n));
    reg.add(&["Expand"], |l, n| l.expand(n));
    reg.add(&["Slice"], |l, n| l.slice(n));
    reg.add(&["Gather"], |l, n| l.gather(n));
    reg.add(&["Concat"], |l, n| l.concat(n));
}

impl Lower<'_> {
    /// Dropout in inference: the input as it is, and a mask that keeps everything.
    fn dropout(&mut self, n: &Node) -> R<()> {
        match n.ins.get(2) {
            Some(Some(Val::Const(t))) if matches!(&t.data, Data::Bool(v) if v.first() == Some(&true)) =>
            {
                return Err(unsupported("Dropout in training mode"));
            }
            Some(Some(Val::Run { .. })) => {
                return Err(unsupported("Dropout with a run-time training_mode"));
            }
            _ => {}
        }
        let x = n.input(0)?;
        if self.g.node_outputs[self.node].len() > 1 {
            let shape = x.shape().to_vec();
            let ones = vec![true; shape.iter().product()];
            self.set(
                1,
                Val::Const(Arc::new(Tensor {
                    shape,
                    data: Data::Bool(ones),
                })),
            );
        }
        self.set(0, x);
        Ok(())
    }

    fn reshape(&mut self, n: &Node) -> R<()> {
        let x = n.input(0)?;
        let spec = if self.g.opset < 5 {
            n.attrs
                .ints("shape")
                .ok_or_else(|| KernelError::Attribute("no 'shape' attribute".to_owned()))?
        } else {
            ints_of(&*n.const_input(1)?)?
        };
        let shape = reshape(x.shape(), &spec, n.attrs.i("allowzero") == Some(1))?;
        self.set(0, with_shape(x, shape));
        Ok(())
    }

    fn flatten(&mut self, n: &Node) -> R<()> {
        let x = n.input(0)?;
        let rank = x.shape().len();
        let axis = n.attrs.i("axis").unwrap_or(1);
        let axis = if axis < 0 { axis + rank as i64 } else { axis };
        if axis < 0 || axis as usize > rank {
            return Err(KernelError::Shape(format!(
                "axis {axis} is out of range for rank {rank}"
            )));
        }
        let axis = axis as usize;
        let shape = vec![
            x.shape()[..axis].iter().product(),
            x.shape()[axis..].iter().product(),
        ];
        self.set(0, with_shape(x, shape));
        Ok(())
    }

    /// Squeeze and Unsqueeze: axes from the attribute (before opset 13) or
    /// the constant input 1.
    fn squeeze(&mut self, n: &Node) -> R<()> {
        let x = n.input(0)?;
        let axes = match n.attrs.ints("axes") {
            Some(axes) => Some(axes),
            None => match n.ins.get(1) {
                Some(Some(_)) => Some(ints_of(&*n.const_input(1)?)?),
                _ => None,
            },
        };
        let shape = if n.op == "Squeeze" {
            squeeze(x.shape(), axes.as_deref())?
        } else {
            unsqueeze(
                x.shape(),
                &axes.ok_or_else(|| KernelError::Shape("no axes".to_owned()))?,
            )?
        };
        self.set(0, with_shape(x, shape));
        Ok(())
    }

    fn transpose(&mut self, n: &Node) -> R<()> {
        let x = n.input(0)?;
        let rank = x.shape().len();
        let perm: Vec<usize> = match n.attrs.ints("perm") {
            Some(p) => p.iter().map(|&d| d as usize).collect(),
            None => (0..rank).rev().collect(),
        };
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        if sorted != (0..rank).collect::<Vec<_>>() {
            return Err(KernelError::Shape(format!(
                "perm {perm:?} is not a permutation of 0..{rank}"
            )));
        }
        let own = strides(x.shape());
        let shape: Vec<usize> = perm.iter().map(|&d| x.shape()[d]).collect();
        let walk = Walk::strided(&shape, vec![perm.iter().map(|&d| own[d]).collect()]);
        self.copy(x, shape, 0, walk)
    }

    fn expand(&mut self, n: &Node) -> R<()> {
        let x = n.input(0)?;
        let target: Vec<usize> = ints_of(&*n.const_input(1)?)?
            .iter()
            .map(|&d| d.max(0) as usize)
            .collect();
        let shape = broadcast(&[x.shape(), &target])?;
        let walk = Walk::new(&shape, &[x.shape()]);
        self.copy(x, shape, 0, walk)
    }

    fn copy(&mut self, x: Val, shape: Vec<usize>, base: usize, walk: Walk) -> R<()> {
        let boolean = x.is_bool();
        let src = self.operand(&x)?;
        let out = self.output(0, shape, boolean)?;
        self.push(out, Kind::Copy { x: src, base, walk });
        Ok(())
    }

    fn slice(&mut self, n: &Node) -> R<()> {
        let (a, ins) = (&n.attrs, &n.ins[..]);
        let x = n.input(0)?;
        let shape = x.shape().to_vec();
        let rank = shape.len();
        let konst = |k: usize| -> R<Option<Vec<i64>>> {
            match ins.get(k) {
                Some(Some(Val::Const(t))) => ints_of(t).map(Some),
                Some(Some(Val::Run { .. })) => {
                    Err(unsupported("Slice bounds computed at run time"))
                }
                _ => Ok(None),
            }
        };
        let (starts, ends, axes, steps) = if self.g.opset < 10 {
            (
                a.ints("starts")
                    .ok_or_else(|| KernelError::Attribute("no 'starts'".to_owned()))?,
                a.ints("ends")
                    .ok_or_else(|| KernelError::Attribute("no 'ends'".to_owned()))?,
                a.ints("axes"),
                None,
            )
        } else {
            (
                konst(1)?.ok_or_else(|| KernelError::Value("no starts".to_owned()))?,
                konst(2)?.ok_or_else(|| KernelError::Value("no ends".to_owned()))?,
                konst(3)?,
                konst(4)?,
            )
        };
        let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let mut begin = vec![0usize; rank];
        let mut count = shape.clone();
        let mut step_of = vec![1usize; rank];
        for (j, &axis) in axes.iter().enumerate() {
            let d = normalize_axis(axis, rank)?;
            let step = steps.as_ref().map_or(1, |s| s[j]);
            if step <= 0 {
                return Err(unsupported("a Slice with a negative or zero step"));
            }
            let dim = shape[d] as i64;
            let clamp = |v: i64| (if v < 0 { v + dim } else { v }).clamp(0, dim);
            let (s, e) = (clamp(starts[j]), clamp(ends[j]));
            begin[d] = s as usize;
            count[d] = if e > s {
                ((e - s + step - 1) / step) as usize
            } else {
                0
            };
            step_of[d] = step as usize;
        }
        let own = strides(&shape);
        let base = (0..rank).map(|d| begin[d] * own[d]).sum();
        let walk = Walk::strided(
            &count,
            vec![(0..rank).map(|d| own[d] * step_of[d]).collect()],
        );
        self.copy(x, count, base, walk)
    }

    fn gather(&mut self, n: &Node) -> R<()> {
        let a = &n.attrs;
        let x = n.input(0)?;
        let indices = n.const_input(1)?;
        let rank = x.shape().len();
        let axis = normalize_axis(a.i("axis").unwrap_or(0), rank)?;
        let dim = x.shape()[axis];
        let mut picks = Vec::new();
        for idx in ints_of(&indices)? {
            let j = if idx < 0 { idx + dim as i64 } else { idx };
            if j < 0 || j as usize >= dim {
                return Err(KernelError::Shape(format!(
                    "index {idx} is out of range for a dimension of {dim}"
                )));
            }
            picks.push(j as usize);
        }
        let outer: usize = x.shape()[..axis].iter().product();
        let inner: usize = x.shape()[axis + 1..].iter().product();
        let mut shape = x.shape()[..axis].to_vec();
        shape.extend_from_slice(&indices.shape);
        shape.extend_from_slice(&x.shape()[axis + 1..]);
        numel(&shape)?;
        let mut blocks = Vec::new();
        for o in 0..outer {
            for (j, &p) in picks.iter().enumerate() {
                push_block(
                    &mut blocks,
                    (o * dim + p) * inner,
                    (o * picks.len() + j) * inner,
                    inner,
                );
            }
        }
        let out = self.output(0, shape, x.is_bool())?;
        self.copy_blocks(out, &x, blocks)
    }

    fn concat(&mut self, n: &Node) -> R<()> {
        let (a, ins) = (&n.attrs, &n.ins[..]);
        let parts: Vec<Val> = ins.iter().flatten().cloned().collect();
        let first = parts
            .first()
            .ok_or_else(|| KernelError::Value("no inputs".to_owned()))?;
        let rank = first.shape().len();
        let axis = normalize_axis(
            a.i("axis")
                .ok_or_else(|| KernelError::Attribute("no 'axis' attribute".to_owned()))?,
            rank,
        )?;
        let mut shape = first.shape().to_vec();
        shape[axis] = 0;
        for p in &parts {
            let s = p.shape();
            if s.len() != rank
                || s.iter()
                    .zip(first.shape())
                    .enumerate()
                    .any(|(d, (x, y))| d != axis && x != y)
            {
                return Err(KernelError::Shape(format!(
                    "inputs of shapes {:?} and {:?} cannot be joined on axis {axis}",
                    first.shape(),
                    s
                )));
            }
            shape[axis] += s[axis];
        }
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let boolean = first.is_bool();
        let out = self.output(0, shape.clone(), boolean)?;
        let mut offset = 0;
        for p in &parts {
            let len = p.shape()[axis] * inner;
            let mut blocks = Vec::new();
            for o in 0..outer {
                push_block(&mut blocks, o * len, o * shape[axis] * inner + offset, len);
            }
            offset += len;
            self.copy_blocks(out, p, blocks)?;
        }
        Ok(())
    }

    /// A step copying `blocks` (from, to, length) of `x` into root `out`.
    fn copy_blocks(&mut self, out: u32, x: &Val, blocks: Vec<(usize, usize, usize)>) -> R<()> {
        let src = self.operand(x)?;
        self.push(
            out,
            Kind::Blocks {
                x: src,
                blocks: Blocks(blocks),
            },
        );
        Ok(())
    }
}
