//! Lowering of the layers with weights or windows: Gemm/MatMul, Conv, pools.

use super::shapes::{broadcast, floats_of, transposed, unsupported};
use super::{Lower, Node, R, Registry, Val};
use crate::error::KernelError;
use crate::ml::Attrs;
use crate::native::kernels::{Conv, ConvGeometry, Dense, Interior, MatMul, Pool, Regular, Walk};
use crate::native::{BinOp, Kind};
use crate::value::{Data, Tensor};
use std::sync::Arc;

pub(super) fn register(reg: &mut Registry) {
    reg.add(&["Gemm"], |l, n| l.gemm(n));
    reg.add(&["MatMul"], |l, n| {
        let val = l.matmul(&n.input(0)?, &n.input(1)?, 1.0)?;
        l.set_result(val);
        Ok(())
    });
    reg.add(&["Conv"], |l, n| l.conv(n));
    reg.add(
        &[
            "AveragePool",
            "MaxPool",
            "GlobalAveragePool",
            "GlobalMaxPool",
        ],
        |l, n| l.pool(n),
    );
}

impl Lower<'_> {
    fn gemm(&mut self, n: &Node) -> R<()> {
        let (a, ins) = (&n.attrs, &n.ins[..]);
        let x = n.input(0)?;
        let w = n.input(1)?;
        let c = ins.get(2).cloned().flatten();
        let (alpha, beta) = (a.f("alpha").unwrap_or(1.0), a.f("beta").unwrap_or(1.0));
        let (trans_a, trans_b) = (a.i("transA") == Some(1), a.i("transB") == Some(1));
        if x.shape().len() != 2 || w.shape().len() != 2 {
            return Err(KernelError::Shape(format!(
                "A and B must be matrices, found shapes {:?} and {:?}",
                x.shape(),
                w.shape()
            )));
        }
        let x = if trans_a { self.transpose2(&x)? } else { x };
        let mut y = match (&w, trans_b) {
            // B stored transposed (PyTorch's Linear): packed from where it
            // lies, never copied into a transposed matrix first.
            (Val::Const(t), true) if matches!(x, Val::Run { .. }) => {
                let (n, k) = (t.shape[0], t.shape[1]);
                inner_dims_agree(x.shape(), &[k, n])?;
                let values = floats_of(t)?;
                self.dense(&x, k, n, |kk, j| alpha * values[j * k + kk])?
            }
            (Val::Const(t), true) => {
                let w = Val::Const(Arc::new(transposed(t)?));
                self.matmul(&x, &w, alpha)?
            }
            (Val::Run { .. }, true) => {
                let w = self.transpose2(&w)?;
                self.matmul(&x, &w, alpha)?
            }
            _ => self.matmul(&x, &w, alpha)?,
        };
        if let Some(c) = c {
            let c = match (&c, beta) {
                (_, 1.0) => c,
                (Val::Const(t), _) => {
                    let v = floats_of(t)?.iter().map(|v| v * beta).collect();
                    Val::Const(Arc::new(Tensor {
                        shape: t.shape.clone(),
                        data: Data::F32(v),
                    }))
                }
                (Val::Run { .. }, _) => {
                    let b = Val::Const(Arc::new(Tensor {
                        shape: vec![],
                        data: Data::F32(vec![beta]),
                    }));
                    self.binary(BinOp::Mul, &c, &b)?
                }
            };
            let folded = match (&y, &c) {
                (Val::Run { root, .. }, Val::Const(t)) => self.add_dense_bias(*root, t),
                _ => false,
            };
            if !folded {
                y = self.binary(BinOp::Add, &y, &c)?;
            }
        }
        self.set_result(y);
        Ok(())
    }

    /// Folds a row-vector (or scalar) constant into the Dense step that
    /// writes `root`, when it is one.
    fn add_dense_bias(&mut self, root: u32, c: &Tensor) -> bool {
        let Some(s) = self.producer[root as usize] else {
            return false;
        };
        let Kind::Dense { dense, .. } = &mut self.steps[s].kind else {
            return false;
        };
        let n = dense.n;
        let Some(values) = c.data.to_f32() else {
            return false;
        };
        let row = c.shape.iter().rev().skip(1).all(|&d| d == 1)
            && (values.len() == n || values.len() == 1);
        if !row {
            return false;
        }
        dense.add_bias(|j| {
            if values.len() == 1 {
                values[0]
            } else {
                values[j]
            }
        });
        true
    }

    fn transpose2(&mut self, x: &Val) -> R<Val> {
        let s = x.shape();
        let shape = vec![s[1], s[0]];
        let walk = Walk::strided(&shape, vec![vec![1, s[1]]]);
        let src = self.operand(x)?;
        let (root, val) = self.temp(&shape)?;
        self.push(
            root,
            Kind::Copy {
                x: src,
                base: 0,
                walk,
            },
        );
        Ok(val)
    }

    /// `alpha * (x · w)` with numpy matmul shapes.
    /// `x · B` with B constant, `weight(kk, j)` its `[k, n]` values.
    fn dense(
        &mut self,
        x: &Val,
        k: usize,
        n: usize,
        weight: impl Fn(usize, usize) -> f32,
    ) -> R<Val> {
        let xs = x.shape();
        let m: usize = xs[..xs.len() - 1].iter().product();
        let dense = Dense::new(k, n, weight);
        let mut shape = xs[..xs.len() - 1].to_vec();
        shape.push(n);
        let src = self.operand(x)?;
        let (root, val) = self.temp(&shape)?;
        self.push(root, Kind::Dense { x: src, m, dense });
        Ok(val)
    }

    pub(super) fn matmul(&mut self, x: &Val, w: &Val, alpha: f32) -> R<Val> {
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        if xs.is_empty() || ws.is_empty() {
            return Err(KernelError::Shape(
                "MatMul operands must have at least one dimension".to_owned(),
            ));
        }
        let k = inner_dims_agree(&xs, &ws)?;
        if let (Val::Const(t), 2) = (w, ws.len())
            && matches!(x, Val::Run { .. })
        {
            let values = floats_of(t)?;
            let n = ws[1];
            return self.dense(x, k, n, |kk, j| alpha * values[kk * n + j]);
        }
        // Two runtime operands (or a constant left side): batched product.
        let a2 = if xs.len() == 1 {
            vec![1, k]
        } else {
            xs.clone()
        };
        let b2 = if ws.len() == 1 {
            vec![k, 1]
        } else {
            ws.clone()
        };
        let (m, n) = (a2[a2.len() - 2], b2[b2.len() - 1]);
        let (ab, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
        let batch = broadcast(&[ab, bb])?;
        let pairs = neuride_onnx::broadcast::index_map(&batch, ab)
            .into_iter()
            .zip(neuride_onnx::broadcast::index_map(&batch, bb))
            .map(|(i, j)| (i * m * k, j * k * n))
            .collect();
        let mut shape = batch.clone();
        if xs.len() > 1 {
            shape.push(m);
        }
        if ws.len() > 1 {
            shape.push(n);
        }
        let (a, b) = (self.operand(x)?, self.operand(w)?);
        let (root, val) = self.temp(&shape)?;
        self.push(
            root,
            Kind::MatMul {
                a,
                b,
                matmul: MatMul { m, k, n, pairs },
            },
        );
        if alpha != 1.0 {
            let s = Val::Const(Arc::new(Tensor {
                shape: vec![],
                data: Data::F32(vec![alpha]),
            }));
            return self.binary(BinOp::Mul, &val, &s);
        }
        Ok(val)
    }

    fn conv(&mut self, n: &Node) -> R<()> {
        let (a, ins) = (&n.attrs, &n.ins[..]);
        let x = n.input(0)?;
        let Some(Some(Val::Const(w))) = ins.get(1) else {
            return Err(unsupported("a Conv whose weights are computed at run time"));
        };
        let bias = match ins.get(2) {
            Some(Some(Val::Const(b))) => Some(floats_of(b)?),
            Some(Some(Val::Run { .. })) => {
                return Err(unsupported("a Conv whose bias is computed at run time"));
            }
            _ => None,
        };
        let xs = x.shape().to_vec();
        let spatial = xs.len().saturating_sub(2);
        if !(1..=2).contains(&spatial) || w.shape.len() != xs.len() {
            return Err(unsupported(format!(
                "a Conv on input {xs:?} with weight {:?} (1-D and 2-D only)",
                w.shape
            )));
        }
        let groups = a.i("group").unwrap_or(1).max(1) as usize;
        let (batch, in_c) = (xs[0], xs[1]);
        let out_c = w.shape[0];
        if in_c % groups != 0 || out_c % groups != 0 || w.shape[1] * groups != in_c {
            return Err(KernelError::Shape(format!(
                "weight {:?} does not fit input {xs:?} with group {groups} (expected [M, {}, ...])",
                w.shape,
                in_c / groups
            )));
        }
        if let Some(b) = &bias
            && b.len() != out_c
        {
            return Err(KernelError::Value(format!(
                "bias has {} values, expected {out_c}",
                b.len()
            )));
        }
        let kernel: Vec<usize> = w.shape[2..].to_vec();
        let window = Window::from_attrs(a, &xs[2..], &kernel, true)?;
        let geometry = window.conv_geometry(&xs, &kernel, out_c, groups);
        let conv = Conv::new(geometry, &floats_of(w)?, bias.as_deref());
        self.tmp_len = self.tmp_len.max(conv.scratch_len());
        let mut shape = vec![batch, out_c];
        shape.extend_from_slice(&window.out);
        let src = self.operand(&x)?;
        let out = self.output(0, shape, false)?;
        self.push(
            out,
            Kind::Conv {
                x: src,
                batch,
                conv,
                sum: None,
            },
        );
        Ok(())
    }

    fn pool(&mut self, n: &Node) -> R<()> {
        if self.extra_outputs_read() {
            return Err(unsupported("MaxPool's indices output"));
        }
        let (op, a, x) = (n.op, &n.attrs, n.input(0)?);
        let xs = x.shape().to_vec();
        let spatial = xs.len().saturating_sub(2);
        if !(1..=2).contains(&spatial) {
            return Err(unsupported(format!(
                "{op} on input {xs:?} (1-D and 2-D only)"
            )));
        }
        let (window, kernel) = if op.starts_with("Global") {
            let window = Window {
                out: vec![1; spatial],
                strides: vec![1; spatial],
                dilations: vec![1; spatial],
                begin: vec![0; spatial],
                end: vec![0; spatial],
            };
            (window, xs[2..].to_vec())
        } else {
            pool_window(a, &xs)?
        };
        let include_pad = a.i("count_include_pad") == Some(1);
        let pool = pool_plan(op.contains("Max"), &xs, &window, &kernel, include_pad);
        let mut shape = vec![xs[0], xs[1]];
        shape.extend_from_slice(&window.out);
        let src = self.operand(&x)?;
        let out = self.output(0, shape, false)?;
        self.push(out, Kind::Pool { x: src, pool });
        Ok(())
    }
}

/// The shared dimension of `x · w` (x's last, w's first of its last two),
/// or an error naming both shapes when they differ.
fn inner_dims_agree(xs: &[usize], ws: &[usize]) -> R<usize> {
    let k = xs[xs.len() - 1];
    let kw = if ws.len() == 1 {
        ws[0]
    } else {
        ws[ws.len() - 2]
    };
    if k != kw {
        return Err(KernelError::Shape(format!(
            "inner dimensions differ: {xs:?} · {ws:?} ({k} vs {kw})"
        )));
    }
    Ok(k)
}

/// A Conv's or pool's sliding window per spatial axis.
struct Window {
    out: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    begin: Vec<usize>,
    end: Vec<usize>,
}

impl Window {
    /// A Conv's geometry over input `xs` with this window.
    fn conv_geometry(
        &self,
        xs: &[usize],
        kernel: &[usize],
        out_c: usize,
        groups: usize,
    ) -> ConvGeometry {
        let (in_c, (in_h, in_w)) = (xs[1], lift(&xs[2..], 1));
        let (out_h, out_w) = lift(&self.out, 1);
        let (kh, kw) = lift(kernel, 1);
        let (sh, sw) = lift(&self.strides, 1);
        let (dh, dw) = lift(&self.dilations, 1);
        let (pt, pl) = lift(&self.begin, 0);
        let (pb, pr) = lift(&self.end, 0);
        ConvGeometry {
            in_c,
            in_h,
            in_w,
            out_c,
            out_h,
            out_w,
            kh,
            kw,
            sh,
            sw,
            dh,
            dw,
            pads: [pt, pl, pb, pr],
            groups,
        }
    }

    /// Sizes the window as [`neuride_onnx::window`] does for every engine.
    fn from_attrs(a: &Attrs, input: &[usize], kernel: &[usize], conv: bool) -> R<Window> {
        let n = input.len();
        let window = neuride_onnx::window::Window::of(a.0, n)?;
        if let Some(ks) = a.ints("kernel_shape")
            && conv
            && ks.iter().map(|&k| k as usize).ne(kernel.iter().copied())
        {
            return Err(KernelError::Shape(format!(
                "kernel_shape {ks:?} differs from the weight's {kernel:?}"
            )));
        }
        let (mut begin, mut end, mut out) = (vec![0; n], vec![0; n], vec![0; n]);
        for d in 0..n {
            let extent = window.extent(d, input[d] as i64, kernel[d] as i64)?;
            out[d] = extent.out as usize;
            begin[d] = extent.pad_begin as usize;
            end[d] = extent.pad_end as usize;
        }
        let sizes = |v: &[i64]| v.iter().map(|&x| x as usize).collect();
        Ok(Window {
            out,
            strides: sizes(&window.strides),
            dilations: sizes(&window.dilations),
            begin,
            end,
        })
    }
}

/// A 1-D window's values as 2-D ones: `(one, v[0])`, else `(v[0], v[1])`.
fn lift(v: &[usize], one: usize) -> (usize, usize) {
    if v.len() == 1 {
        (one, v[0])
    } else {
        (v[0], v[1])
    }
}

/// A local pool's window and kernel from its attributes.
fn pool_window(a: &Attrs, xs: &[usize]) -> R<(Window, Vec<usize>)> {
    let kernel: Vec<usize> = a
        .ints("kernel_shape")
        .ok_or_else(|| KernelError::Attribute("no 'kernel_shape' attribute".to_owned()))?
        .iter()
        .map(|&k| k.max(1) as usize)
        .collect();
    if kernel.len() != xs.len() - 2 {
        return Err(KernelError::Shape(format!(
            "kernel_shape {kernel:?} does not fit input {xs:?}"
        )));
    }
    let window = Window::from_attrs(a, &xs[2..], &kernel, false)?;
    if window.dilations.iter().any(|&d| d != 1) {
        return Err(unsupported("pooling with dilations"));
    }
    Ok((window, kernel))
}

/// The pool step over input `xs`: each output position's clipped window
/// and divisor, and the regular fast path when every window is whole.
fn pool_plan(
    max: bool,
    xs: &[usize],
    window: &Window,
    kernel: &[usize],
    include_pad: bool,
) -> Pool {
    let (in_h, in_w) = lift(&xs[2..], 1);
    let (out_h, out_w) = lift(&window.out, 1);
    let (kh, kw) = lift(kernel, 1);
    let (sh, sw) = lift(&window.strides, 1);
    let (pt, pl) = lift(&window.begin, 0);
    let (pb, pr) = lift(&window.end, 0);
    let mut windows = Vec::with_capacity(out_h * out_w);
    for oy in 0..out_h {
        let y0 = (oy * sh) as i64 - pt as i64;
        let y1 = (y0 + kh as i64).min((in_h + pb) as i64);
        for ox in 0..out_w {
            let x0 = (ox * sw) as i64 - pl as i64;
            let x1 = (x0 + kw as i64).min((in_w + pr) as i64);
            let padded_area = ((y1 - y0) * (x1 - x0)) as f32;
            let (cy0, cy1) = (y0.max(0), y1.min(in_h as i64));
            let (cx0, cx1) = (x0.max(0), x1.min(in_w as i64));
            let area = ((cy1 - cy0).max(0) * (cx1 - cx0).max(0)) as f32;
            windows.push((
                cy0 as u32,
                cy1.max(cy0) as u32,
                cx0 as u32,
                cx1.max(cx0) as u32,
                if include_pad { padded_area } else { area },
            ));
        }
    }
    let full = (kh * kw) as f32;
    let regular = windows
        .iter()
        .all(|&(y0, y1, x0, x1, divisor)| {
            ((y1 - y0) * (x1 - x0)) as usize == kh * kw && divisor == full
        })
        .then_some(Regular {
            kh,
            kw,
            sh,
            sw,
            out_h,
            out_w,
        })
        .filter(|_| pt == 0 && pl == 0);
    // Whole windows: those starting at or after column 0 and ending by
    // the input's last column.
    let whole = |ox: usize| ox * sw >= pl && ox * sw - pl + kw <= in_w;
    let lo = (0..out_w).find(|&ox| whole(ox)).unwrap_or(out_w);
    let hi = (lo..out_w).find(|&ox| !whole(ox)).unwrap_or(out_w);
    let interior = Interior {
        out_w,
        lo,
        hi,
        x0: (lo * sw).saturating_sub(pl),
        kw,
        sw,
    };
    Pool {
        max,
        planes: xs[0] * xs[1],
        in_h,
        in_w,
        windows,
        regular,
        interior,
    }
}
