//! Lowering of the normalizations: BatchNormalization (folded into the
//! Conv before it when it can be), LRN, Softmax and LogSoftmax.

use super::shapes::{floats_of, normalize_axis, unsupported};
use super::{Lower, Node, R, Registry};
use crate::error::KernelError;
use crate::native::Kind;
use crate::native::kernels::{Affine, Lrn, Softmax};

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["BatchNormalization"], |l, n| l.batch_norm(n));
    reg.add(&["Softmax", "LogSoftmax"], |l, n| l.softmax(n));
    reg.add(&["LRN"], |l, n| l.lrn(n));
}

impl Lower<'_> {
    fn batch_norm(&mut self, n: &Node) -> R<()> {
        let a = &n.attrs;
        if self.extra_outputs_read() || a.i("training_mode") == Some(1) {
            return Err(unsupported("BatchNormalization in training mode"));
        }
        let eps = a.f("epsilon").unwrap_or(1e-5);
        let [scale, bias, mean, var] = [1, 2, 3, 4].map(|k| {
            n.const_input(k)
                .and_then(|t| Ok(floats_of(&t)?.into_owned()))
        });
        let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
        let x = n.input(0)?;
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
        let x_id = n.input_id(0)?;
        if let Some(s) = self.fusable(x_id)
            && let Kind::Conv {
                conv, sum: None, ..
            } = &mut self.steps[s].kind
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

    /// LRN over the channels (axis 1) of a tensor of rank 3 or more.
    fn lrn(&mut self, n: &Node) -> R<()> {
        let a = &n.attrs;
        let size = a
            .i("size")
            .filter(|&s| s >= 1)
            .ok_or_else(|| KernelError::Attribute("LRN needs a size of at least 1".to_owned()))?;
        let x = n.input(0)?;
        let shape = x.shape().to_vec();
        if shape.len() < 3 {
            return Err(KernelError::Shape(format!(
                "LRN takes a tensor of rank 3 or more, found rank {}",
                shape.len()
            )));
        }
        let lrn = Lrn {
            batch: shape[0],
            channels: shape[1],
            inner: shape[2..].iter().product(),
            size: size as usize,
            alpha: a.f("alpha").unwrap_or(1e-4),
            beta: a.f("beta").unwrap_or(0.75),
            bias: a.f("bias").unwrap_or(1.0),
        };
        let src = self.operand(&x)?;
        let out = self.output(0, shape, false)?;
        self.push(out, Kind::Lrn { x: src, lrn });
        Ok(())
    }

    /// Softmax and LogSoftmax: over the axes from `axis` on before opset
    /// 13, over `axis` alone from it.
    fn softmax(&mut self, n: &Node) -> R<()> {
        let (a, op) = (&n.attrs, n.op);
        let x = n.input(0)?;
        let shape = x.shape().to_vec();
        let rank = shape.len();
        let softmax = if self.g.opset < 13 {
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
