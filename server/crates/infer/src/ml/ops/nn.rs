//! Neural-network layers over N spatial axes: Conv and its integer,
//! quantized, transposed and deformable forms, Col2Im, the pools
//! (max with indices, average, Lp, global, MaxUnpool), the normalizations
//! (Batch incl. training mode, Instance, Layer, Group, RMS, LRN,
//! MeanVariance), the losses (SoftmaxCrossEntropy, NegativeLogLikelihood)
//! and the training optimizers (Adagrad, Adam, Momentum). Computed in f64,
//! rounded once into the input's type.

use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::num::{checked_len, floats, index_below, ints, strides, tensor_f64};
use crate::ml::{Attrs, BoxKernel};
use crate::value::{DType, Data, Tensor, Value};
use neuride_onnx::window::Window;

pub(super) fn register(reg: &mut Registry) {
    register_conv(reg);
    register_pool(reg);
    register_norm(reg);
    register_loss(reg);
}

// ---------------------------------------------------------------- windows

/// A window sized for an input: per spatial axis the input and output
/// sizes, kernel, stride, dilation and the begin pad.
#[derive(Clone, Debug)]
struct Geometry {
    input: Vec<usize>,
    output: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    dilation: Vec<usize>,
    pad: Vec<i64>,
    pad_end: Vec<i64>,
}

impl Geometry {
    fn new(
        node: &neuride_onnx::proto::NodeProto,
        input: &[usize],
        kernel: &[usize],
    ) -> Result<Geometry, KernelError> {
        let n = input.len();
        let w = Window::of(node, n)?;
        let mut output = Vec::with_capacity(n);
        let (mut pad, mut pad_end) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for d in 0..n {
            let e = w.extent(d, input[d] as i64, kernel[d] as i64)?;
            output.push(
                usize::try_from(e.out)
                    .map_err(|_| KernelError::Shape("negative output size".to_owned()))?,
            );
            pad.push(e.pad_begin);
            pad_end.push(e.pad_end);
        }
        Ok(Geometry {
            input: input.to_vec(),
            output,
            kernel: kernel.to_vec(),
            stride: w.strides.iter().map(|&s| s as usize).collect(),
            dilation: w.dilations.iter().map(|&s| s as usize).collect(),
            pad,
            pad_end,
        })
    }

    fn out_len(&self) -> usize {
        self.output.iter().product()
    }

    fn kernel_len(&self) -> usize {
        self.kernel.iter().product()
    }

    /// For every output position and kernel offset: the input position
    /// (flat over the spatial axes), or None in the padding; and whether
    /// the position lies inside the padded input (for count_include_pad).
    fn table(&self) -> (Vec<Option<usize>>, Vec<bool>) {
        let n = self.input.len();
        let (ol, kl) = (self.out_len(), self.kernel_len());
        let (os, ks, is) = (
            strides(&self.output),
            strides(&self.kernel),
            strides(&self.input),
        );
        let mut pos = Vec::with_capacity(ol * kl);
        let mut inside_pad = Vec::with_capacity(ol * kl);
        for o in 0..ol {
            for k in 0..kl {
                let mut at = 0usize;
                let mut valid = true;
                let mut padded = true;
                for d in 0..n {
                    let oc = (o / os[d]) % self.output[d];
                    let kc = (k / ks[d]) % self.kernel[d];
                    let x =
                        (oc * self.stride[d]) as i64 - self.pad[d] + (kc * self.dilation[d]) as i64;
                    if x < 0 || x >= self.input[d] as i64 {
                        valid = false;
                    }
                    if x < -self.pad[d] || x >= self.input[d] as i64 + self.pad_end[d] {
                        padded = false;
                    }
                    if valid {
                        at += x as usize * is[d];
                    }
                }
                pos.push(valid.then_some(at));
                inside_pad.push(padded);
            }
        }
        (pos, inside_pad)
    }
}

/// A per-axis ints attribute, or `len` times `default` when it is absent
/// or empty.
fn per_axis(v: &Option<Vec<i64>>, default: i64, len: usize) -> Vec<i64> {
    v.clone()
        .filter(|v| !v.is_empty())
        .unwrap_or(vec![default; len])
}

/// Windows read back into the grid they slid over (ConvTranspose scatters
/// each input position through its kernel, Col2Im each block): per axis,
/// element `k` of window `p` lands at `p * stride - pad + k * dilation`.
struct Landing<'a> {
    windows: &'a [usize],
    kernel: &'a [usize],
    grid: &'a [usize],
    stride: &'a [i64],
    dilation: &'a [i64],
    /// Begin pads.
    pad: &'a [i64],
}

impl Landing<'_> {
    /// For every window and kernel element (window-major): the flat offset
    /// in the grid where it lands, or None outside the grid.
    fn table(&self) -> Vec<Option<usize>> {
        let (ws, ks, gs) = (
            strides(self.windows),
            strides(self.kernel),
            strides(self.grid),
        );
        let (wl, kl) = (
            self.windows.iter().product::<usize>(),
            self.kernel.iter().product::<usize>(),
        );
        let mut table = Vec::with_capacity(wl * kl);
        for p in 0..wl {
            for k in 0..kl {
                let mut at = Some(0usize);
                for d in 0..self.grid.len() {
                    let pc = (p / ws[d]) % self.windows[d];
                    let kc = (k / ks[d]) % self.kernel[d];
                    let y =
                        (pc as i64) * self.stride[d] - self.pad[d] + (kc as i64) * self.dilation[d];
                    if y < 0 || y >= self.grid[d] as i64 {
                        at = None;
                        break;
                    }
                    at = at.map(|at| at + y as usize * gs[d]);
                }
                table.push(at);
            }
        }
        table
    }
}

fn spatial(t: &Tensor, what: &str) -> Result<(usize, usize, Vec<usize>), KernelError> {
    if t.shape.len() < 3 {
        return Err(KernelError::Shape(format!(
            "{what} takes (N, C, spatial...) inputs, found {:?}",
            t.shape
        )));
    }
    Ok((t.shape[0], t.shape[1], t.shape[2..].to_vec()))
}

// ---------------------------------------------------------------- conv

fn register_conv(reg: &mut Registry) {
    reg.add(&["Conv"], |_, a, _| {
        let node = a.0.clone();
        let group = a.i("group").unwrap_or(1).max(1) as usize;
        op(move |i| {
            let (x, w, b) = (arg(i, 0)?, arg(i, 1)?, opt(i, 2)?);
            let y = conv(&node, group, x, w, b, None)?;
            one(tensor_f64(y.0, x.dtype(), y.1))
        })
    });
    reg.add(&["ConvInteger"], |_, a, _| {
        let node = a.0.clone();
        let group = a.i("group").unwrap_or(1).max(1) as usize;
        op(move |i| {
            let (x, w) = (arg(i, 0)?, arg(i, 1)?);
            let zx = zero_point(opt(i, 2)?)?;
            let zw = zero_point(opt(i, 3)?)?;
            let y = conv(&node, group, x, w, None, Some((zx, zw)))?;
            one(tensor_f64(y.0, DType::I32, y.1))
        })
    });
    reg.add(&["QLinearConv"], |_, a, _| {
        let node = a.0.clone();
        let group = a.i("group").unwrap_or(1).max(1) as usize;
        op(move |i| {
            let (x, xs, xz) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            let (w, ws, wz) = (arg(i, 3)?, arg(i, 4)?, arg(i, 5)?);
            let (ys, yz, b) = (arg(i, 6)?, arg(i, 7)?, opt(i, 8)?);
            let (shape, acc) = conv(
                &node,
                group,
                x,
                w,
                b,
                Some((zero_point(Some(xz))?, zero_point(Some(wz))?)),
            )?;
            let (xs, ys) = (
                floats(xs, "x_scale")?[0] as f32,
                floats(ys, "y_scale")?[0] as f32,
            );
            let wsv = floats(ws, "w_scale")?;
            let yz0 = floats(yz, "y_zero_point")?[0];
            let m = shape[1];
            let per: usize = shape[2..].iter().product();
            let (lo, hi) = if yz.dtype() == DType::I8 {
                (-128.0, 127.0)
            } else {
                (0.0, 255.0)
            };
            let v: Vec<f64> = acc
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    let ch = (k / per) % m;
                    let scale = (xs * wsv[ch % wsv.len()] as f32 / ys) as f64;
                    ((c * scale).round_ties_even() + yz0).clamp(lo, hi)
                })
                .collect();
            one(tensor_f64(shape, yz.dtype(), v))
        })
    });
    reg.add(&["ConvTranspose"], |_, a, _| {
        let group = a.i("group").unwrap_or(1).max(1) as usize;
        let attrs = TransposeAttrs {
            strides: a.ints("strides"),
            dilations: a.ints("dilations"),
            pads: a.ints("pads"),
            output_padding: a.ints("output_padding"),
            output_shape: a.ints("output_shape"),
            auto_pad: a.s_or("auto_pad", "NOTSET"),
            kernel_shape: a.ints("kernel_shape"),
        };
        op(move |i| {
            let (x, w, b) = (arg(i, 0)?, arg(i, 1)?, opt(i, 2)?);
            let (shape, y) = conv_transpose(&attrs, group, x, w, b)?;
            one(tensor_f64(shape, x.dtype(), y))
        })
    });
    reg.add(&["DeformConv"], |_, a, _| {
        let node = a.0.clone();
        let group = a.i("group").unwrap_or(1).max(1) as usize;
        let offset_group = a.i("offset_group").unwrap_or(1).max(1) as usize;
        op(move |i| {
            let (x, w, off) = (arg(i, 0)?, arg(i, 1)?, arg(i, 2)?);
            let (shape, y) = deform_conv(
                &node,
                group,
                offset_group,
                x,
                w,
                off,
                opt(i, 3)?,
                opt(i, 4)?,
            )?;
            one(tensor_f64(shape, x.dtype(), y))
        })
    });
    reg.add(&["Col2Im"], |_, a, _| {
        let attrs = (a.ints("dilations"), a.ints("pads"), a.ints("strides"));
        op(move |i| {
            let (x, image, block) = (arg(i, 0)?, ints(arg(i, 1)?)?, ints(arg(i, 2)?)?);
            let (shape, y) = col2im(x, &image, &block, &attrs)?;
            one(tensor_f64(shape, x.dtype(), y))
        })
    });
}

fn zero_point(t: Option<&Tensor>) -> Result<Vec<f64>, KernelError> {
    Ok(match t {
        Some(t) => floats(t, "zero point")?,
        None => vec![0.0],
    })
}

/// Conv (or ConvInteger with zero points): (output shape, values in f64).
fn conv(
    node: &neuride_onnx::proto::NodeProto,
    group: usize,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    zero: Option<(Vec<f64>, Vec<f64>)>,
) -> Result<(Vec<usize>, Vec<f64>), KernelError> {
    let (n, c, input) = spatial(x, "Conv")?;
    if w.shape.len() != x.shape.len() {
        return Err(KernelError::Shape(format!(
            "Conv weights {:?} for input {:?}",
            w.shape, x.shape
        )));
    }
    let m = w.shape[0];
    let cg = w.shape[1];
    if cg * group != c || !m.is_multiple_of(group) {
        return Err(KernelError::Shape(format!(
            "Conv of {c} channels with weights {:?} in {group} groups",
            w.shape
        )));
    }
    let kernel = w.shape[2..].to_vec();
    let g = Geometry::new(node, &input, &kernel)?;
    let (table, _) = g.table();
    let (ol, kl, il) = (g.out_len(), g.kernel_len(), input.iter().product::<usize>());
    let mut xv = floats(x, "Conv")?;
    let mut wv = floats(w, "Conv")?;
    if let Some((zx, zw)) = &zero {
        let z0 = zx.first().copied().unwrap_or(0.0);
        xv.iter_mut().for_each(|v| *v -= z0);
        let per = cg * kl;
        for (k, v) in wv.iter_mut().enumerate() {
            *v -= zw[(k / per) % zw.len().max(1)];
        }
    }
    let bias = b.map(|b| floats(b, "Conv bias")).transpose()?;
    let mut shape = vec![n, m];
    shape.extend(&g.output);
    let mut out = vec![0f64; checked_len(&shape)?];
    let mg = m / group;
    for ni in 0..n {
        for mi in 0..m {
            let gi = mi / mg;
            let o_base = (ni * m + mi) * ol;
            let b0 = bias.as_ref().map_or(0.0, |b| b[mi]);
            for o in 0..ol {
                let mut acc = b0;
                let row = &table[o * kl..(o + 1) * kl];
                for ci in 0..cg {
                    let xc = &xv[(ni * c + gi * cg + ci) * il..];
                    let wk = &wv[(mi * cg + ci) * kl..(mi * cg + ci + 1) * kl];
                    for (k, p) in row.iter().enumerate() {
                        if let Some(p) = p {
                            acc += wk[k] * xc[*p];
                        }
                    }
                }
                out[o_base + o] = acc;
            }
        }
    }
    Ok((shape, out))
}

struct TransposeAttrs {
    strides: Option<Vec<i64>>,
    dilations: Option<Vec<i64>>,
    pads: Option<Vec<i64>>,
    output_padding: Option<Vec<i64>>,
    output_shape: Option<Vec<i64>>,
    auto_pad: String,
    kernel_shape: Option<Vec<i64>>,
}

fn conv_transpose(
    a: &TransposeAttrs,
    group: usize,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
) -> Result<(Vec<usize>, Vec<f64>), KernelError> {
    let (n, c, input) = spatial(x, "ConvTranspose")?;
    let nd = input.len();
    if w.shape.len() != nd + 2 || w.shape[0] != c {
        return Err(KernelError::Shape(format!(
            "ConvTranspose weights {:?} for input {:?}",
            w.shape, x.shape
        )));
    }
    let mg = w.shape[1];
    let m = mg * group;
    let cg = c / group;
    let kernel: Vec<i64> = a
        .kernel_shape
        .clone()
        .unwrap_or_else(|| w.shape[2..].iter().map(|&d| d as i64).collect());
    let stride = per_axis(&a.strides, 1, nd);
    let dil = per_axis(&a.dilations, 1, nd);
    let out_pad = per_axis(&a.output_padding, 0, nd);
    let span: Vec<i64> = (0..nd).map(|d| (kernel[d] - 1) * dil[d] + 1).collect();
    let same = matches!(a.auto_pad.as_str(), "SAME_UPPER" | "SAME_LOWER");
    let (pads, out_shape): (Vec<i64>, Vec<i64>) = match (&a.pads, same) {
        // Pads from the output shape only under SAME_*; otherwise an output
        // shape larger than the transposed conv's is filled with zeros.
        (None, true) => {
            let out_shape = a
                .output_shape
                .clone()
                .map(|s| s[s.len() - nd..].to_vec())
                .unwrap_or_else(|| (0..nd).map(|d| input[d] as i64 * stride[d]).collect());
            let mut begin = Vec::new();
            let mut end = Vec::new();
            for d in 0..nd {
                let total = stride[d] * (input[d] as i64 - 1) + out_pad[d] + span[d] - out_shape[d];
                if a.auto_pad == "SAME_UPPER" {
                    begin.push(total / 2);
                    end.push(total - total / 2);
                } else {
                    begin.push(total - total / 2);
                    end.push(total / 2);
                }
            }
            begin.extend(end);
            (begin, out_shape)
        }
        _ => {
            let pads = per_axis(&a.pads, 0, 2 * nd);
            let out_shape = match &a.output_shape {
                Some(s) => s[s.len() - nd..].to_vec(),
                None => (0..nd)
                    .map(|d| {
                        stride[d] * (input[d] as i64 - 1) + out_pad[d] + span[d]
                            - pads[d]
                            - pads[nd + d]
                    })
                    .collect(),
            };
            (pads, out_shape)
        }
    };
    let out_dims: Vec<usize> = out_shape
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| KernelError::Shape(format!("negative output size {d}")))
        })
        .collect::<Result<_, _>>()?;
    let mut shape = vec![n, m];
    shape.extend(&out_dims);
    let total = checked_len(&shape)?;
    let xv = floats(x, "ConvTranspose")?;
    let wv = floats(w, "ConvTranspose")?;
    let kdims: Vec<usize> = w.shape[2..].to_vec();
    let kl: usize = kdims.iter().product();
    let il: usize = input.iter().product();
    let ol: usize = out_dims.iter().product();
    let landing = Landing {
        windows: &input,
        kernel: &kdims,
        grid: &out_dims,
        stride: &stride,
        dilation: &dil,
        pad: &pads[..nd],
    }
    .table();
    let mut out = vec![0f64; total];
    for ni in 0..n {
        for ci in 0..c {
            let gi = ci / cg.max(1);
            for p in 0..il {
                let xval = xv[(ni * c + ci) * il + p];
                for k in 0..kl {
                    let Some(at) = landing[p * kl + k] else {
                        continue;
                    };
                    for mj in 0..mg {
                        let mi = gi * mg + mj;
                        out[(ni * m + mi) * ol + at] += xval * wv[(ci * mg + mj) * kl + k];
                    }
                }
            }
        }
    }
    if let Some(b) = b {
        let bv = floats(b, "ConvTranspose bias")?;
        for (k, v) in out.iter_mut().enumerate() {
            *v += bv[(k / ol) % m];
        }
    }
    Ok((shape, out))
}

/// Bilinear sample of a 2-D plane, zero outside.
fn bilinear(plane: &[f64], h: usize, w: usize, y: f64, x: f64) -> f64 {
    if y <= -1.0 || y >= h as f64 || x <= -1.0 || x >= w as f64 {
        return 0.0;
    }
    let (y0, x0) = (y.floor(), x.floor());
    let (dy, dx) = (y - y0, x - x0);
    let at = |yy: f64, xx: f64| -> f64 {
        if yy < 0.0 || xx < 0.0 || yy >= h as f64 || xx >= w as f64 {
            0.0
        } else {
            plane[yy as usize * w + xx as usize]
        }
    };
    at(y0, x0) * (1.0 - dy) * (1.0 - dx)
        + at(y0, x0 + 1.0) * (1.0 - dy) * dx
        + at(y0 + 1.0, x0) * dy * (1.0 - dx)
        + at(y0 + 1.0, x0 + 1.0) * dy * dx
}

#[allow(clippy::too_many_arguments)]
fn deform_conv(
    node: &neuride_onnx::proto::NodeProto,
    group: usize,
    offset_group: usize,
    x: &Tensor,
    w: &Tensor,
    off: &Tensor,
    b: Option<&Tensor>,
    mask: Option<&Tensor>,
) -> Result<(Vec<usize>, Vec<f64>), KernelError> {
    let (n, c, input) = spatial(x, "DeformConv")?;
    if input.len() != 2 {
        return Err(KernelError::Shape(
            "DeformConv supports 2-D inputs".to_owned(),
        ));
    }
    let (ih, iw) = (input[0], input[1]);
    let m = w.shape[0];
    let cg = w.shape[1];
    let (kh, kw) = (w.shape[2], w.shape[3]);
    let win = Window::of(node, 2)?;
    let (oh, ow) = (off.shape[2], off.shape[3]);
    let xv = floats(x, "DeformConv")?;
    let wv = floats(w, "DeformConv")?;
    let ov = floats(off, "DeformConv offset")?;
    let mv = mask.map(|t| floats(t, "DeformConv mask")).transpose()?;
    let bv = b.map(|t| floats(t, "DeformConv bias")).transpose()?;
    let k = kh * kw;
    let mg = m / group;
    let cpo = c / offset_group;
    let mut out = vec![0f64; n * m * oh * ow];
    for ni in 0..n {
        for mi in 0..m {
            let gi = mi / mg;
            for y in 0..oh {
                for xo in 0..ow {
                    let mut acc = bv.as_ref().map_or(0.0, |b| b[mi]);
                    for ci in 0..cg {
                        let cin = gi * cg + ci;
                        let og = cin / cpo;
                        let plane = &xv[(ni * c + cin) * ih * iw..(ni * c + cin + 1) * ih * iw];
                        for a in 0..kh {
                            for bb in 0..kw {
                                let kk = a * kw + bb;
                                let oidx = |j: usize| {
                                    ((ni * offset_group * 2 * k + og * 2 * k + 2 * kk + j) * oh + y)
                                        * ow
                                        + xo
                                };
                                let dy = ov[oidx(0)];
                                let dx = ov[oidx(1)];
                                let py = (y * win.strides[0] as usize) as f64 - win.pads[0] as f64
                                    + (a * win.dilations[0] as usize) as f64
                                    + dy;
                                let px = (xo * win.strides[1] as usize) as f64 - win.pads[1] as f64
                                    + (bb * win.dilations[1] as usize) as f64
                                    + dx;
                                let scale = mv.as_ref().map_or(1.0, |mv| {
                                    mv[((ni * offset_group * k + og * k + kk) * oh + y) * ow + xo]
                                });
                                acc += wv[((mi * cg + ci) * kh + a) * kw + bb]
                                    * scale
                                    * bilinear(plane, ih, iw, py, px);
                            }
                        }
                    }
                    out[((ni * m + mi) * oh + y) * ow + xo] = acc;
                }
            }
        }
    }
    Ok((vec![n, m, oh, ow], out))
}

fn col2im(
    x: &Tensor,
    image: &[i64],
    block: &[i64],
    (dil, pads, strd): &(Option<Vec<i64>>, Option<Vec<i64>>, Option<Vec<i64>>),
) -> Result<(Vec<usize>, Vec<f64>), KernelError> {
    let nd = image.len();
    if block.len() != nd || x.shape.len() != 3 {
        return Err(KernelError::Shape(
            "Col2Im: image_shape and block_shape of one length, input (N, C*K, L)".to_owned(),
        ));
    }
    let (dil, pads, strd) = (
        per_axis(dil, 1, nd),
        per_axis(pads, 0, 2 * nd),
        per_axis(strd, 1, nd),
    );
    let img: Vec<usize> = image.iter().map(|&d| d.max(0) as usize).collect();
    let blk: Vec<usize> = block.iter().map(|&d| d.max(1) as usize).collect();
    let kl: usize = blk.iter().product();
    let (n, ck, l) = (x.shape[0], x.shape[1], x.shape[2]);
    if ck % kl != 0 {
        return Err(KernelError::Shape(format!(
            "{ck} columns are not a multiple of the block size {kl}"
        )));
    }
    let c = ck / kl;
    let blocks: Vec<usize> = (0..nd)
        .map(|d| {
            let span = (blk[d] as i64 - 1) * dil[d] + 1;
            ((img[d] as i64 + pads[d] + pads[nd + d] - span) / strd[d] + 1).max(0) as usize
        })
        .collect();
    if blocks.iter().product::<usize>() != l {
        return Err(KernelError::Value(format!(
            "{l} sliding blocks given, the geometry makes {blocks:?}"
        )));
    }
    let xv = floats(x, "Col2Im")?;
    let il: usize = img.iter().product();
    let landing = Landing {
        windows: &blocks,
        kernel: &blk,
        grid: &img,
        stride: &strd,
        dilation: &dil,
        pad: &pads[..nd],
    }
    .table();
    let mut out = vec![0f64; n * c * il];
    for ni in 0..n {
        for ci in 0..c {
            for k in 0..kl {
                for p in 0..l {
                    if let Some(at) = landing[p * kl + k] {
                        out[(ni * c + ci) * il + at] += xv[(ni * ck + ci * kl + k) * l + p];
                    }
                }
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend(img);
    Ok((shape, out))
}

// ---------------------------------------------------------------- pools

#[derive(Clone, Copy, PartialEq)]
enum Pool {
    Max,
    Avg { include_pad: bool },
    Lp { p: f64 },
}

fn register_pool(reg: &mut Registry) {
    reg.add(&["MaxPool", "AveragePool", "LpPool"], |name, a, _| {
        let node = a.0.clone();
        let kernel: Vec<usize> = a
            .ints("kernel_shape")
            .ok_or_else(|| KernelError::Attribute(format!("{name} needs kernel_shape")))?
            .iter()
            .map(|&k| k.max(1) as usize)
            .collect();
        let kind = match name {
            "MaxPool" => Pool::Max,
            "AveragePool" => Pool::Avg {
                include_pad: a.i("count_include_pad").unwrap_or(0) != 0,
            },
            _ => Pool::Lp {
                p: a.i("p").unwrap_or(2) as f64,
            },
        };
        let column_major = a.i("storage_order").unwrap_or(0) != 0;
        let outputs = a.0.output.len();
        op(move |i| {
            let x = arg(i, 0)?;
            let (n, c, input) = spatial(x, "pooling")?;
            if kernel.len() != input.len() {
                return Err(KernelError::Shape(format!(
                    "kernel_shape {kernel:?} for spatial axes {input:?}"
                )));
            }
            let g = Geometry::new(&node, &input, &kernel)?;
            let (y, idx) = pool(x, n, c, &g, kind, column_major)?;
            let mut out = vec![Value::Tensor(y)];
            if outputs > 1 {
                out.push(Value::Tensor(idx));
            }
            Ok(out)
        })
    });
    reg.add(
        &["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"],
        |name, a, _| {
            let kind = match name {
                "GlobalMaxPool" => Pool::Max,
                "GlobalAveragePool" => Pool::Avg { include_pad: false },
                _ => Pool::Lp {
                    p: a.i("p").unwrap_or(2) as f64,
                },
            };
            op(move |i| {
                let x = arg(i, 0)?;
                let (n, c, input) = spatial(x, "global pooling")?;
                let xv = floats(x, "global pooling")?;
                let per: usize = input.iter().product();
                let v: Vec<f64> = (0..n * c)
                    .map(|k| {
                        let s = &xv[k * per..(k + 1) * per];
                        match kind {
                            Pool::Max => s.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                            Pool::Avg { .. } => s.iter().sum::<f64>() / per as f64,
                            Pool::Lp { p } => {
                                s.iter().map(|v| v.abs().powf(p)).sum::<f64>().powf(1.0 / p)
                            }
                        }
                    })
                    .collect();
                let mut shape = vec![n, c];
                shape.extend(vec![1; input.len()]);
                one(tensor_f64(shape, x.dtype(), v))
            })
        },
    );
    reg.add(&["MaxUnpool"], |_, a, _| {
        let kernel = a
            .ints("kernel_shape")
            .ok_or_else(|| KernelError::Attribute("MaxUnpool needs kernel_shape".to_owned()))?;
        let pads = a.ints("pads");
        let strd = a.ints("strides");
        op(move |i| {
            let (x, idx) = (arg(i, 0)?, ints(arg(i, 1)?)?);
            let nd = kernel.len();
            let pads = pads.clone().unwrap_or(vec![0; 2 * nd]);
            let strd = strd.clone().unwrap_or(vec![1; nd]);
            let mut inferred: Vec<usize> = x.shape[..2].to_vec();
            for d in 0..nd {
                let v =
                    (x.shape[d + 2] as i64 - 1) * strd[d] - (pads[d] + pads[nd + d]) + kernel[d];
                inferred.push(v.max(0) as usize);
            }
            let shape: Vec<usize> = match opt(i, 2)? {
                Some(s) => ints(s)?.iter().map(|&d| d.max(0) as usize).collect(),
                None => inferred.clone(),
            };
            let total = checked_len(&inferred)?;
            let xv = floats(x, "MaxUnpool")?;
            let mut y = vec![0f64; total];
            for (k, &at) in idx.iter().enumerate() {
                let at = index_below(at, total)
                    .ok_or_else(|| KernelError::Value("MaxUnpool index out of range".to_owned()))?;
                y[at] = xv[k];
            }
            // Into the requested shape, top-left aligned.
            let out_len = checked_len(&shape)?;
            let (ss, is) = (strides(&shape), strides(&inferred));
            let mut out = vec![0f64; out_len];
            for (k, o) in out.iter_mut().enumerate() {
                let mut at = 0;
                let mut inside = true;
                for d in 0..shape.len() {
                    let cd = (k / ss[d]) % shape[d];
                    if cd >= inferred[d] {
                        inside = false;
                        break;
                    }
                    at += cd * is[d];
                }
                if inside {
                    *o = y[at];
                }
            }
            one(tensor_f64(shape, x.dtype(), out))
        })
    });
}

fn pool(
    x: &Tensor,
    n: usize,
    c: usize,
    g: &Geometry,
    kind: Pool,
    column_major: bool,
) -> Result<(Tensor, Tensor), KernelError> {
    let (table, inside_pad) = g.table();
    let (ol, kl) = (g.out_len(), g.kernel_len());
    let il: usize = g.input.iter().product();
    let xv = floats(x, "pooling")?;
    let mut shape = vec![n, c];
    shape.extend(&g.output);
    let mut out = vec![0f64; checked_len(&shape)?];
    let mut indices = vec![0i64; out.len()];
    let is = strides(&g.input);
    for nc in 0..n * c {
        let plane = &xv[nc * il..(nc + 1) * il];
        for o in 0..ol {
            let row = &table[o * kl..(o + 1) * kl];
            let at = nc * ol + o;
            match kind {
                Pool::Max => {
                    let mut best = f64::NEG_INFINITY;
                    let mut best_at = None;
                    for p in row.iter().flatten() {
                        if plane[*p] > best || best_at.is_none() {
                            best = plane[*p];
                            best_at = Some(*p);
                        }
                    }
                    out[at] = best;
                    let p = best_at.unwrap_or(0);
                    indices[at] = if column_major {
                        // Index as if the spatial axes were stored last-first.
                        let nd = g.input.len();
                        let mut idx = 0usize;
                        let mut mul = 1usize;
                        for d in 0..nd {
                            let cd = (p / is[d]) % g.input[d];
                            idx += cd * mul;
                            mul *= g.input[d];
                        }
                        (nc * il + idx) as i64
                    } else {
                        (nc * il + p) as i64
                    };
                }
                Pool::Avg { include_pad } => {
                    let sum: f64 = row.iter().flatten().map(|&p| plane[p]).sum();
                    let count = if include_pad {
                        inside_pad[o * kl..(o + 1) * kl]
                            .iter()
                            .filter(|&&b| b)
                            .count()
                    } else {
                        row.iter().flatten().count()
                    };
                    out[at] = sum / count.max(1) as f64;
                }
                Pool::Lp { p } => {
                    // (Σ |x|^p)^(1/p) over the window, the padding counting 0.
                    let sum: f64 = row.iter().flatten().map(|&q| plane[q].abs().powf(p)).sum();
                    out[at] = sum.powf(1.0 / p);
                }
            }
        }
    }
    Ok((
        tensor_f64(shape.clone(), x.dtype(), out),
        Tensor {
            shape,
            data: Data::I64(indices),
        },
    ))
}

// ---------------------------------------------------------------- normalization

/// Mean and (population) variance of each group of `len` consecutive values.
fn moments(v: &[f64], len: usize) -> Vec<(f64, f64)> {
    v.chunks(len.max(1))
        .map(|g| {
            let m = g.iter().sum::<f64>() / g.len() as f64;
            let var = g.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / g.len() as f64;
            (m, var)
        })
        .collect()
}

/// GroupNormalization, and InstanceNormalization as its case of one group
/// per channel (`groups` None): each sample's groups of channels are
/// normalised by their own mean and variance, then scaled and shifted per
/// channel, or per group when `scale` has one value per group (opset 18).
fn normalize_groups(
    name: &str,
    i: &[Option<&Value>],
    groups: Option<usize>,
    eps: f64,
    opset: i64,
) -> Result<Vec<Value>, KernelError> {
    let x = arg(i, 0)?;
    let (scale, bias) = (floats(arg(i, 1)?, "scale")?, floats(arg(i, 2)?, "bias")?);
    let c = *x
        .shape
        .get(1)
        .ok_or_else(|| KernelError::Shape(format!("{name} of a 1-D tensor")))?;
    let groups = groups.unwrap_or(c).max(1);
    let per: usize = x.shape.iter().skip(2).product();
    let xv = floats(x, name)?;
    let glen = c / groups * per;
    let mom = moments(&xv, glen);
    // Opset 18 took one scale per group; 21 one per channel.
    let per_group = opset < 21 && scale.len() == groups;
    let y: Vec<f64> = xv
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let (m, var) = mom[k / glen.max(1)];
            let ch = (k / per.max(1)) % c;
            let s = if per_group { ch / (c / groups) } else { ch };
            scale[s] * (v - m) / (var + eps).sqrt() + bias[s]
        })
        .collect();
    one(tensor_f64(x.shape.clone(), x.dtype(), y))
}

fn register_norm(reg: &mut Registry) {
    reg.add(&["BatchNormalization"], |_, a, opset| {
        let eps = a.f("epsilon").unwrap_or(1e-5) as f64;
        let momentum = a.f("momentum").unwrap_or(0.9) as f64;
        let training_attr = a.i("training_mode").unwrap_or(0) != 0;
        let outputs = a.0.output.len();
        op(move |i| {
            let x = arg(i, 0)?;
            let (scale, bias, mean, var) = (
                floats(arg(i, 1)?, "scale")?,
                floats(arg(i, 2)?, "bias")?,
                floats(arg(i, 3)?, "mean")?,
                floats(arg(i, 4)?, "var")?,
            );
            let (n, c) = (x.shape[0], *x.shape.get(1).unwrap_or(&1));
            let per: usize = x.shape.iter().skip(2).product();
            let xv = floats(x, "BatchNormalization")?;
            // Before opset 14 extra outputs mean training mode.
            let training = training_attr || (opset < 14 && outputs > 1);
            let (use_mean, use_var, run) = if training {
                let mut sm = vec![0f64; c];
                let mut sv = vec![0f64; c];
                for ch in 0..c {
                    let vals: Vec<f64> = (0..n)
                        .flat_map(|ni| xv[(ni * c + ch) * per..(ni * c + ch + 1) * per].to_vec())
                        .collect();
                    let (m, v) = moments(&vals, vals.len())[0];
                    sm[ch] = m;
                    sv[ch] = v;
                }
                let rm: Vec<f64> = (0..c)
                    .map(|k| mean[k] * momentum + sm[k] * (1.0 - momentum))
                    .collect();
                let rv: Vec<f64> = (0..c)
                    .map(|k| var[k] * momentum + sv[k] * (1.0 - momentum))
                    .collect();
                (sm, sv, Some((rm, rv)))
            } else {
                (mean.clone(), var.clone(), None)
            };
            let y: Vec<f64> = xv
                .iter()
                .enumerate()
                .map(|(k, &v)| {
                    let ch = (k / per.max(1)) % c.max(1);
                    scale[ch] * (v - use_mean[ch]) / (use_var[ch] + eps).sqrt() + bias[ch]
                })
                .collect();
            let mut out = vec![Value::Tensor(tensor_f64(x.shape.clone(), x.dtype(), y))];
            if let Some((rm, rv)) = run {
                let dt = arg(i, 3)?.dtype();
                out.push(Value::Tensor(tensor_f64(vec![c], dt, rm)));
                out.push(Value::Tensor(tensor_f64(vec![c], dt, rv)));
            }
            out.truncate(outputs.max(1));
            Ok(out)
        })
    });
    reg.add(&["InstanceNormalization"], |_, a, opset| {
        let eps = a.f("epsilon").unwrap_or(1e-5) as f64;
        op(move |i| normalize_groups("InstanceNormalization", i, None, eps, opset))
    });
    reg.add(&["LayerNormalization", "RMSNormalization"], |name, a, _| {
        let eps = a.f("epsilon").unwrap_or(1e-5) as f64;
        let ax = a.i("axis").unwrap_or(-1);
        let rms = name == "RMSNormalization";
        let outputs = a.0.output.len();
        op(move |i| {
            let x = arg(i, 0)?;
            let a = crate::ml::num::axis(ax, x.shape.len())?;
            let cols: usize = x.shape[a..].iter().product();
            let xv = floats(x, "normalization")?;
            let scale = arg(i, 1)?;
            let bias = if rms { None } else { opt(i, 2)? };
            let mut stats = Vec::new();
            let norm: Vec<f64> = xv
                .chunks(cols.max(1))
                .flat_map(|row| {
                    let n = row.len() as f64;
                    let (m, var) = if rms {
                        (0.0, row.iter().map(|v| v * v).sum::<f64>() / n)
                    } else {
                        let m = row.iter().sum::<f64>() / n;
                        (m, row.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n)
                    };
                    let inv = 1.0 / (var + eps).sqrt();
                    stats.push((m, inv));
                    row.iter().map(move |v| (v - m) * inv).collect::<Vec<_>>()
                })
                .collect();
            let y = tensor_f64(x.shape.clone(), DType::F64, norm);
            let y = mul_add(&y, scale, bias)?;
            let mut out = vec![Value::Tensor(crate::ml::ops::cast(&y, x.dtype())?)];
            if outputs > 1 {
                let mut sshape = x.shape[..a].to_vec();
                sshape.extend(vec![1; x.shape.len() - a]);
                let stash = DType::F32;
                out.push(Value::Tensor(tensor_f64(
                    sshape.clone(),
                    stash,
                    stats.iter().map(|s| s.0).collect(),
                )));
                out.push(Value::Tensor(tensor_f64(
                    sshape,
                    stash,
                    stats.iter().map(|s| s.1).collect(),
                )));
            }
            out.truncate(outputs.max(1));
            Ok(out)
        })
    });
    reg.add(&["GroupNormalization"], |_, a, opset| {
        let eps = a.f("epsilon").unwrap_or(1e-5) as f64;
        let groups = a
            .i("num_groups")
            .ok_or_else(|| {
                KernelError::Attribute("GroupNormalization needs num_groups".to_owned())
            })?
            .max(1) as usize;
        op(move |i| normalize_groups("GroupNormalization", i, Some(groups), eps, opset))
    });
    reg.add(&["LRN"], |_, a, _| {
        let alpha = a.f("alpha").unwrap_or(1e-4) as f64;
        let beta = a.f("beta").unwrap_or(0.75) as f64;
        let bias = a.f("bias").unwrap_or(1.0) as f64;
        let size = a
            .i("size")
            .ok_or_else(|| KernelError::Attribute("LRN needs size".to_owned()))?
            .max(1) as usize;
        op(move |i| {
            let x = arg(i, 0)?;
            let c = *x
                .shape
                .get(1)
                .ok_or_else(|| KernelError::Shape("LRN of a 1-D tensor".to_owned()))?;
            let per: usize = x.shape.iter().skip(2).product();
            let xv = floats(x, "LRN")?;
            let (c1, c2) = ((size - 1) / 2, (size - 1).div_ceil(2) + 1);
            let y: Vec<f64> = xv
                .iter()
                .enumerate()
                .map(|(k, &v)| {
                    let ch = (k / per.max(1)) % c;
                    let base = k - ch * per;
                    let (lo, hi) = (ch.saturating_sub(c1), (ch + c2).min(c));
                    let sq: f64 = (lo..hi).map(|j| xv[base + j * per].powi(2)).sum();
                    v / (bias + alpha / size as f64 * sq).powf(beta)
                })
                .collect();
            one(tensor_f64(x.shape.clone(), x.dtype(), y))
        })
    });
    reg.add(&["MeanVarianceNormalization"], |_, a, _| {
        let axes = a.ints("axes").unwrap_or(vec![0, 2, 3]);
        op(move |i| {
            let x = arg(i, 0)?;
            let mean = super::reduce::reduce(
                &crate::ml::ops::cast(x, DType::F64)?,
                Some(axes.clone()),
                true,
                false,
                super::reduce::Reduce::Mean,
            )?;
            let xv = floats(x, "MeanVarianceNormalization")?;
            let idx = neuride_onnx::broadcast::index_map(&x.shape, &mean.shape);
            let mv = mean.data.to_f64().unwrap_or_default();
            let sq = Tensor {
                shape: x.shape.clone(),
                data: Data::F64(xv.iter().map(|v| v * v).collect()),
            };
            let msq = super::reduce::reduce(
                &sq,
                Some(axes.clone()),
                true,
                false,
                super::reduce::Reduce::Mean,
            )?
            .data
            .to_f64()
            .unwrap_or_default();
            let y: Vec<f64> = xv
                .iter()
                .zip(&idx)
                .map(|(&v, &k)| (v - mv[k]) / ((msq[k] - mv[k] * mv[k]).sqrt() + 1e-9))
                .collect();
            one(tensor_f64(x.shape.clone(), x.dtype(), y))
        })
    });
}

/// `y * scale + bias` with broadcasting, in f64.
fn mul_add(y: &Tensor, scale: &Tensor, bias: Option<&Tensor>) -> Result<Tensor, KernelError> {
    let yv = y.data.to_f64().unwrap_or_default();
    let sv = floats(scale, "scale")?;
    let (shape, v) =
        crate::ml::num::zip_broadcast((&y.shape, &yv), (&scale.shape, &sv), |p, q| p * q)?;
    let (shape, v) = match bias {
        Some(b) => {
            let bv = floats(b, "bias")?;
            crate::ml::num::zip_broadcast((&shape, &v), (&b.shape, &bv), |p, q| p + q)?
        }
        None => (shape, v),
    };
    Ok(Tensor {
        shape,
        data: Data::F64(v),
    })
}

// ---------------------------------------------------------------- losses

fn register_loss(reg: &mut Registry) {
    reg.add(
        &["SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"],
        |name, a, _| {
            let reduction = a.s_or("reduction", "mean");
            if !matches!(reduction.as_str(), "mean" | "sum" | "none") {
                return Err(KernelError::Attribute(format!(
                    "reduction '{reduction}' is not mean, sum or none"
                )));
            }
            let ignore = a.i("ignore_index");
            let softmax = name == "SoftmaxCrossEntropyLoss";
            let outputs = a.0.output.len();
            op(move |i| {
                let (x, target, weight) = (arg(i, 0)?, arg(i, 1)?, opt(i, 2)?);
                loss(x, target, weight, &reduction, ignore, softmax, outputs)
            })
        },
    );
}

fn loss(
    x: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: &str,
    ignore: Option<i64>,
    softmax: bool,
    outputs: usize,
) -> Result<Vec<Value>, KernelError> {
    if x.shape.len() < 2 {
        return Err(KernelError::Shape(format!(
            "loss input {:?}: (N, C, ...) expected",
            x.shape
        )));
    }
    let (n, c) = (x.shape[0], x.shape[1]);
    let d: usize = x.shape[2..].iter().product();
    let mut xv = floats(x, "loss")?;
    if softmax {
        // log-softmax over the class axis, in the input's type as the reference does.
        for ni in 0..n {
            for di in 0..d {
                let at = |k: usize| (ni * c + k) * d + di;
                let m = (0..c).map(|k| xv[at(k)]).fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = (0..c).map(|k| (xv[at(k)] - m).exp()).sum();
                for k in 0..c {
                    let p = (xv[at(k)] - m).exp() / s;
                    xv[at(k)] = p.ln();
                }
            }
        }
        let rounded = tensor_f64(x.shape.clone(), x.dtype(), xv);
        xv = rounded.data.to_f64().unwrap_or_default();
    }
    let t = ints(target)?;
    let wv = weight.map(|w| floats(w, "weight")).transpose()?;
    let mut losses = vec![0f64; n * d];
    let mut weights = vec![0f64; n * d];
    for ni in 0..n {
        for di in 0..d {
            let k = t[ni * d + di];
            if Some(k) == ignore {
                continue;
            }
            let kk = index_below(k, c)
                .ok_or_else(|| KernelError::Value(format!("target {k} outside {c} classes")))?;
            let w = wv.as_ref().map_or(1.0, |w| w[kk]);
            losses[ni * d + di] = -xv[(ni * c + kk) * d + di] * w;
            weights[ni * d + di] = w;
        }
    }
    let value = match reduction {
        "none" => tensor_f64(target.shape.clone(), x.dtype(), losses),
        "sum" => tensor_f64(vec![], x.dtype(), vec![losses.iter().sum()]),
        _ => {
            let total: f64 = losses.iter().sum();
            let denom: f64 = if wv.is_some() || ignore.is_some() {
                weights.iter().sum()
            } else {
                (n * d) as f64
            };
            tensor_f64(vec![], x.dtype(), vec![total / denom])
        }
    };
    let mut out = vec![Value::Tensor(value)];
    if outputs > 1 {
        out.push(Value::Tensor(tensor_f64(x.shape.clone(), x.dtype(), xv)));
    }
    Ok(out)
}

// ---------------------------------------------------------------- training

/// The `ai.onnx.preview.training` optimizers.
pub(super) fn training(name: &str, a: &Attrs) -> Result<BoxKernel, KernelError> {
    let f = |n: &str, d: f32| a.f(n).unwrap_or(d) as f64;
    match name {
        "Adagrad" => {
            let (decay, eps, norm) = (
                f("decay_factor", 0.0),
                f("epsilon", 0.0),
                f("norm_coefficient", 0.0),
            );
            op(move |i| {
                let (r, t) = (scalar(arg(i, 0)?)?, scalar(arg(i, 1)?)?);
                let n = (i.len() - 2) / 3;
                let mut xs = Vec::new();
                let mut hs = Vec::new();
                for k in 0..n {
                    let (x, g, h) = (arg(i, 2 + k)?, arg(i, 2 + n + k)?, arg(i, 2 + 2 * n + k)?);
                    let (xv, gv, hv) = (floats(x, "X")?, floats(g, "G")?, floats(h, "H")?);
                    let r_ = r / (1.0 + t * decay);
                    let mut nx = Vec::new();
                    let mut nh = Vec::new();
                    for j in 0..xv.len() {
                        let gr = norm * xv[j] + gv[j];
                        let h2 = hv[j] + gr * gr;
                        nx.push(xv[j] - r_ * gr / (h2.sqrt() + eps));
                        nh.push(h2);
                    }
                    xs.push(Value::Tensor(tensor_f64(x.shape.clone(), x.dtype(), nx)));
                    hs.push(Value::Tensor(tensor_f64(h.shape.clone(), h.dtype(), nh)));
                }
                xs.extend(hs);
                Ok(xs)
            })
        }
        "Adam" => {
            let (alpha, beta, eps) = (f("alpha", 0.9), f("beta", 0.999), f("epsilon", 0.0));
            let (norm, post) = (f("norm_coefficient", 0.0), f("norm_coefficient_post", 0.0));
            op(move |i| {
                let (r, t) = (scalar(arg(i, 0)?)?, scalar(arg(i, 1)?)?);
                let n = (i.len() - 2) / 4;
                let (mut xs, mut vs, mut hs) = (Vec::new(), Vec::new(), Vec::new());
                for k in 0..n {
                    let x = arg(i, 2 + k)?;
                    let (xv, gv) = (floats(x, "X")?, floats(arg(i, 2 + n + k)?, "G")?);
                    let (v0, h0) = (arg(i, 2 + 2 * n + k)?, arg(i, 2 + 3 * n + k)?);
                    let (vv, hv) = (floats(v0, "V")?, floats(h0, "H")?);
                    let ra = if t > 0.0 {
                        r * (1.0 - beta.powf(t)).sqrt() / (1.0 - alpha.powf(t))
                    } else {
                        r
                    };
                    let (mut nx, mut nv, mut nh) = (Vec::new(), Vec::new(), Vec::new());
                    for j in 0..xv.len() {
                        let gr = norm * xv[j] + gv[j];
                        let v = alpha * vv[j] + (1.0 - alpha) * gr;
                        let h = beta * hv[j] + (1.0 - beta) * gr * gr;
                        let xn = xv[j] - ra * (v / (h.sqrt() + eps));
                        nx.push((1.0 - post) * xn);
                        nv.push(v);
                        nh.push(h);
                    }
                    xs.push(Value::Tensor(tensor_f64(x.shape.clone(), x.dtype(), nx)));
                    vs.push(Value::Tensor(tensor_f64(v0.shape.clone(), v0.dtype(), nv)));
                    hs.push(Value::Tensor(tensor_f64(h0.shape.clone(), h0.dtype(), nh)));
                }
                xs.extend(vs);
                xs.extend(hs);
                Ok(xs)
            })
        }
        "Momentum" => {
            let (alpha, beta, norm) = (f("alpha", 0.0), f("beta", 0.0), f("norm_coefficient", 0.0));
            let nesterov = a.s_or("mode", "standard") == "nesterov";
            op(move |i| {
                let (r, t) = (scalar(arg(i, 0)?)?, scalar(arg(i, 1)?)?);
                let n = (i.len() - 2) / 3;
                let (mut xs, mut vs) = (Vec::new(), Vec::new());
                for k in 0..n {
                    let x = arg(i, 2 + k)?;
                    let v0 = arg(i, 2 + 2 * n + k)?;
                    let (xv, gv, vv) = (
                        floats(x, "X")?,
                        floats(arg(i, 2 + n + k)?, "G")?,
                        floats(v0, "V")?,
                    );
                    let b = if t > 0.0 { beta } else { 1.0 };
                    let (mut nx, mut nv) = (Vec::new(), Vec::new());
                    for j in 0..xv.len() {
                        let gr = norm * xv[j] + gv[j];
                        let v = alpha * vv[j] + b * gr;
                        nx.push(if nesterov {
                            xv[j] - r * (gr + alpha * v)
                        } else {
                            xv[j] - r * v
                        });
                        nv.push(v);
                    }
                    xs.push(Value::Tensor(tensor_f64(x.shape.clone(), x.dtype(), nx)));
                    vs.push(Value::Tensor(tensor_f64(v0.shape.clone(), v0.dtype(), nv)));
                }
                xs.extend(vs);
                Ok(xs)
            })
        }
        other => Err(KernelError::Unsupported(format!(
            "ai.onnx.preview.training op {other} is not supported"
        ))),
    }
}

fn scalar(t: &Tensor) -> Result<f64, KernelError> {
    floats(t, "scalar")?
        .first()
        .copied()
        .ok_or_else(|| KernelError::Value("an empty scalar".to_owned()))
}
