//! Lowering of the nodes with more to them than one kernel call: Gather,
//! Concat, the fusable activations, BatchNormalization, Softmax.

use super::shapes::{const_input, input, normalize_axis, numel, push_block, scalar_of};
use super::shapes::{floats_of, ints_of, unsupported};
use super::{Lower, R, Val};
use crate::error::KernelError;
use crate::ml::Attrs;
use crate::native::kernels::{Act, Affine, Blocks, Softmax};
use crate::native::{BinOp, Kind, UnOp};

impl Lower<'_> {
    pub(super) fn gather(&mut self, a: &Attrs, ins: &[Option<Val>]) -> R<()> {
        let input = |k: usize| input(ins, k);
        let const_input = |k: usize| const_input(ins, k);
        let x = input(0)?;
        let indices = const_input(1)?;
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
        let boolean = x.is_bool();
        let src = self.operand(&x)?;
        let out = self.output(0, shape, boolean)?;
        self.push(
            out,
            Kind::Blocks {
                x: src,
                blocks: Blocks(blocks),
            },
        );
        Ok(())
    }

    pub(super) fn concat(&mut self, a: &Attrs, ins: &[Option<Val>]) -> R<()> {
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
            let src = self.operand(p)?;
            self.push(
                out,
                Kind::Blocks {
                    x: src,
                    blocks: Blocks(blocks),
                },
            );
        }
        Ok(())
    }

    pub(super) fn activation(
        &mut self,
        a: &Attrs,
        ins: &[Option<Val>],
        ids: &[Option<usize>],
    ) -> R<()> {
        let g = self.g;
        let op = g.nodes[self.node].op_type();
        let input = |k: usize| input(ins, k);
        let act = match op {
            "Relu" => Act::Relu,
            "LeakyRelu" => Act::LeakyRelu(a.f("alpha").unwrap_or(0.01)),
            _ => {
                let (mut lo, mut hi) = if g.opset < 11 {
                    (
                        a.f("min").unwrap_or(f32::MIN),
                        a.f("max").unwrap_or(f32::MAX),
                    )
                } else {
                    (f32::NEG_INFINITY, f32::INFINITY)
                };
                // Bounds computed at run time are handled below.
                if let Some(Some(Val::Const(t))) = ins.get(1) {
                    lo = scalar_of(t)?;
                }
                if let Some(Some(Val::Const(t))) = ins.get(2) {
                    hi = scalar_of(t)?;
                }
                Act::Clip(lo, hi)
            }
        };
        let x_id = ids[0].ok_or_else(|| KernelError::Value("input 0 is missing".to_owned()))?;
        let runtime_bounds = op == "Clip"
            && ins
                .iter()
                .skip(1)
                .flatten()
                .any(|v| matches!(v, Val::Run { .. }));
        if runtime_bounds {
            // Clip(x, lo, hi) = Min(Max(x, lo), hi); NaN stays NaN.
            let mut y = input(0)?;
            if let Some(Some(lo)) = ins.get(1) {
                y = self.binary(BinOp::Max, &y, lo)?;
            }
            if let Some(Some(hi)) = ins.get(2) {
                y = self.binary(BinOp::Min, &y, hi)?;
            }
            self.set(0, y);
        } else if let Some(s) = self.fusable(x_id) {
            match &mut self.steps[s].kind {
                Kind::Dense { dense, .. } => dense.act = act,
                Kind::Conv { conv, .. } => conv.act = act,
                _ => unreachable!("fusable returns Conv or Dense steps"),
            }
            self.alias_fused(x_id);
        } else {
            self.unary(input(0)?, UnOp::Act(act), false)?;
        }
        Ok(())
    }

    pub(super) fn batch_norm(
        &mut self,
        a: &Attrs,
        ins: &[Option<Val>],
        ids: &[Option<usize>],
    ) -> R<()> {
        let input = |k: usize| input(ins, k);
        let const_input = |k: usize| const_input(ins, k);
        if self.extra_outputs_read() || a.i("training_mode") == Some(1) {
            return Err(unsupported("BatchNormalization in training mode"));
        }
        let eps = a.f("epsilon").unwrap_or(1e-5);
        let [scale, bias, mean, var] =
            [1, 2, 3, 4].map(|k| const_input(k).and_then(|t| floats_of(&t)));
        let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
        let x = input(0)?;
        let channels = *x
            .shape()
            .get(1)
            .ok_or_else(|| KernelError::Shape("input has no channel axis".to_owned()))?;
        if [&scale, &bias, &mean, &var]
            .iter()
            .any(|v| v.len() != channels)
        {
            return Err(KernelError::Shape(format!(
                "scale, B, mean and var must hold {channels} values (the input's channels)"
            )));
        }
        let mul: Vec<f32> = (0..channels)
            .map(|c| scale[c] / (var[c] + eps).sqrt())
            .collect();
        let add: Vec<f32> = (0..channels).map(|c| bias[c] - mean[c] * mul[c]).collect();
        let x_id = ids[0].ok_or_else(|| KernelError::Value("input 0 is missing".to_owned()))?;
        if let Some(s) = self.fusable(x_id)
            && let Kind::Conv { conv, .. } = &mut self.steps[s].kind
        {
            conv.fold_affine(&mul, &add);
            self.alias_fused(x_id);
        } else {
            let shape = x.shape().to_vec();
            let src = self.operand(&x)?;
            let out = self.output(0, shape.clone(), false)?;
            self.push(
                out,
                Kind::Affine {
                    x: src,
                    affine: Affine {
                        batch: shape[0],
                        inner: shape[2..].iter().product(),
                        scale: mul,
                        shift: add,
                    },
                },
            );
        }
        Ok(())
    }

    pub(super) fn softmax(&mut self, a: &Attrs, ins: &[Option<Val>]) -> R<()> {
        let g = self.g;
        let op = g.nodes[self.node].op_type();
        let input = |k: usize| input(ins, k);
        let x = input(0)?;
        let shape = x.shape().to_vec();
        let rank = shape.len();
        let softmax = if g.opset < 13 {
            let axis = normalize_axis(a.i("axis").unwrap_or(1), rank)?;
            Softmax {
                outer: shape[..axis].iter().product(),
                len: shape[axis..].iter().product(),
                inner: 1,
                log: op == "LogSoftmax",
            }
        } else {
            let axis = normalize_axis(a.i("axis").unwrap_or(-1), rank)?;
            Softmax {
                outer: shape[..axis].iter().product(),
                len: shape[axis],
                inner: shape[axis + 1..].iter().product(),
                log: op == "LogSoftmax",
            }
        };
        let src = self.operand(&x)?;
        let out = self.output(0, shape, false)?;
        self.push(out, Kind::Softmax { x: src, softmax });
        Ok(())
    }
}
