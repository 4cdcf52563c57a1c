//! The hot loops: dense and conv layers in two forms each. `*_events` walks
//! a list of active (non-zero) inputs and adds one weight column per event
//! (cost proportional to the spikes); `*_dense` is a matrix product over all
//! inputs (sgemm, cost independent of sparsity). The simulator picks one per
//! layer and step from the measured input density.

use crate::network::{ConvGeometry, conv_target};
use crate::tensor::Tensor;

/// Above this fraction of non-zero inputs the dense product is faster
/// (measured with `cargo bench -p neuride-snn`, see docs/snn.md).
pub(crate) const DENSE_ABOVE: f32 = 0.3;

/// Non-zero inputs of a batch, per sample: `active[starts[b]..starts[b+1]]`
/// are sample b's indices.
#[derive(Default, Clone, Debug)]
pub(crate) struct Active {
    pub indices: Vec<u32>,
    pub starts: Vec<usize>,
}

impl Active {
    pub fn clear(&mut self) {
        self.indices.clear();
        self.starts.clear();
        self.starts.push(0);
    }

    pub fn scan(&mut self, values: &[f32], per_sample: usize) {
        self.clear();
        for sample in values.chunks_exact(per_sample) {
            push_nonzero(&mut self.indices, sample);
            self.starts.push(self.indices.len());
        }
    }

    /// Marks every input active (density 1): forces the dense product
    /// without scanning, for ANN passes whose activations are dense anyway.
    pub fn mark_dense(&mut self, total: usize, batch: usize) {
        self.indices.resize(total, 0);
        self.starts.clear();
        self.starts.resize(batch + 1, 0);
    }

    pub fn density(&self, total: usize) -> f32 {
        if total == 0 {
            0.0
        } else {
            self.indices.len() as f32 / total as f32
        }
    }
}

/// Appends the indices of the non-zero `values` to `indices`, without a
/// branch per value: every index is written and the length advances only
/// past non-zeros. Spike maps are 10-60 % dense, where a data-dependent
/// branch mispredicts on most spikes (this was ~15 % of a CNN step).
pub(crate) fn push_nonzero(indices: &mut Vec<u32>, values: &[f32]) {
    let start = indices.len();
    indices.reserve(values.len());
    let spare = &mut indices.spare_capacity_mut()[..values.len()];
    let mut n = 0;
    for (i, &v) in values.iter().enumerate() {
        spare[n].write(i as u32);
        n += (v != 0.0) as usize;
    }
    // SAFETY: n <= values.len() <= the reserved spare capacity, and every
    // slot below n was written (slot n is written before n advances past it).
    unsafe { indices.set_len(start + n) };
}

fn fill_bias(out: &mut [f32], bias: Option<&[f32]>, per_sample: usize, inner: usize) {
    match bias {
        None => out.fill(0.0),
        Some(bias) => {
            for sample in out.chunks_exact_mut(per_sample) {
                for (channel, chunk) in sample.chunks_exact_mut(inner).enumerate() {
                    chunk.fill(bias[channel]);
                }
            }
        }
    }
}

pub(crate) struct DenseKernel {
    pub in_features: usize,
    pub out_features: usize,
    /// `[in, out]`: one contiguous row per input, the column an event adds.
    weight_t: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl DenseKernel {
    pub fn new(weight: &Tensor, bias: Option<&Vec<f32>>) -> DenseKernel {
        let (out_features, in_features) = (weight.shape[0], weight.shape[1]);
        let mut weight_t = vec![0.0; in_features * out_features];
        for o in 0..out_features {
            for i in 0..in_features {
                weight_t[i * out_features + o] = weight.data[o * in_features + i];
            }
        }
        DenseKernel {
            in_features,
            out_features,
            weight_t,
            bias: bias.cloned(),
        }
    }

    pub fn forward_dense(&self, batch: usize, input: &[f32], out: &mut [f32]) {
        fill_bias(out, self.bias.as_deref(), self.out_features, 1);
        let (m, k, n) = (batch, self.in_features, self.out_features);
        // SAFETY: the slices hold m*k, k*n and m*n values (checked by the
        // caller's buffer sizes, asserted here) and the strides describe
        // row-major layouts inside them.
        assert!(input.len() >= m * k && out.len() >= m * n && self.weight_t.len() >= k * n);
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                input.as_ptr(),
                k as isize,
                1,
                self.weight_t.as_ptr(),
                n as isize,
                1,
                1.0,
                out.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }

    pub fn forward_events(&self, input: &[f32], active: &Active, out: &mut [f32]) {
        fill_bias(out, self.bias.as_deref(), self.out_features, 1);
        let n = self.out_features;
        for (sample, out) in out.chunks_exact_mut(n).enumerate() {
            let values = &input[sample * self.in_features..(sample + 1) * self.in_features];
            for &i in &active.indices[active.starts[sample]..active.starts[sample + 1]] {
                let i = i as usize;
                let value = values[i];
                let row = &self.weight_t[i * n..(i + 1) * n];
                for (o, &w) in out.iter_mut().zip(row) {
                    *o += value * w;
                }
            }
        }
    }
}

pub(crate) struct ConvKernel {
    pub geometry: ConvGeometry,
    /// `[out, in/groups * kh * kw]` for the im2col product.
    weight_gemm: Vec<f32>,
    /// `[in, kh, kw, out/groups]`: what one input event adds, contiguous over outputs.
    weight_scatter: Vec<f32>,
    bias: Option<Vec<f32>>,
    /// im2col as a gather: for row (ci_local, ky, kx) and output position p,
    /// the input offset inside the group's channels, or `u32::MAX` for padding.
    gather: Vec<u32>,
    columns: Vec<f32>,
    product: Vec<f32>,
    channels_last: Vec<f32>,
}

impl ConvKernel {
    pub fn new(geometry: ConvGeometry, weight: &Tensor, bias: Option<&Vec<f32>>) -> ConvKernel {
        let g = geometry;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        let mut weight_scatter = vec![0.0; g.in_c * g.kh * g.kw * cout_g];
        for o in 0..g.out_c {
            let group = o / cout_g;
            for ci_local in 0..cin_g {
                let ci = group * cin_g + ci_local;
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let w = weight.data[((o * cin_g + ci_local) * g.kh + ky) * g.kw + kx];
                        weight_scatter[((ci * g.kh + ky) * g.kw + kx) * cout_g + (o % cout_g)] = w;
                    }
                }
            }
        }
        let positions = g.out_h * g.out_w;
        let mut gather = Vec::with_capacity(cin_g * g.kh * g.kw * positions);
        for c in 0..cin_g {
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    for oy in 0..g.out_h {
                        let iy = (oy * g.sh + ky) as isize - g.pt as isize;
                        for ox in 0..g.out_w {
                            let ix = (ox * g.sw + kx) as isize - g.pl as isize;
                            let inside = iy >= 0
                                && ix >= 0
                                && (iy as usize) < g.in_h
                                && (ix as usize) < g.in_w;
                            gather.push(if inside {
                                ((c * g.in_h + iy as usize) * g.in_w + ix as usize) as u32
                            } else {
                                u32::MAX
                            });
                        }
                    }
                }
            }
        }
        ConvKernel {
            geometry,
            weight_gemm: weight.data.clone(),
            weight_scatter,
            bias: bias.cloned(),
            gather,
            columns: Vec::new(),
            product: Vec::new(),
            channels_last: Vec::new(),
        }
    }

    fn in_size(&self) -> usize {
        self.geometry.in_c * self.geometry.in_h * self.geometry.in_w
    }

    fn out_size(&self) -> usize {
        self.geometry.out_c * self.geometry.out_h * self.geometry.out_w
    }

    pub fn forward_dense(&mut self, batch: usize, input: &[f32], out: &mut [f32]) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        let k = cin_g * g.kh * g.kw;
        let (in_size, out_size) = (self.in_size(), self.out_size());
        // All samples' columns side by side: one product per group for the
        // whole batch amortises sgemm's packing over the batch.
        let width = batch * positions;
        self.columns.resize(k * width, 0.0);
        self.product.resize(cout_g * width, 0.0);
        for group in 0..g.groups {
            for sample in 0..batch {
                let x = &input
                    [sample * in_size + group * cin_g * g.in_h * g.in_w..(sample + 1) * in_size];
                for row in 0..k {
                    let indices = &self.gather[row * positions..(row + 1) * positions];
                    let dst = &mut self.columns[row * width + sample * positions..][..positions];
                    for (d, &i) in dst.iter_mut().zip(indices) {
                        *d = if i == u32::MAX { 0.0 } else { x[i as usize] };
                    }
                }
            }
            let a = &self.weight_gemm[group * cout_g * k..(group + 1) * cout_g * k];
            // SAFETY: a is [cout_g, k], columns [k, width], product [cout_g, width], row-major.
            unsafe {
                matrixmultiply::sgemm(
                    cout_g,
                    k,
                    width,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    self.columns.as_ptr(),
                    width as isize,
                    1,
                    0.0,
                    self.product.as_mut_ptr(),
                    width as isize,
                    1,
                );
            }
            for o_local in 0..cout_g {
                let o = group * cout_g + o_local;
                let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
                for sample in 0..batch {
                    let src = &self.product[o_local * width + sample * positions..][..positions];
                    let dst = &mut out[sample * out_size + o * positions..][..positions];
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = v + b;
                    }
                }
            }
        }
    }

    pub fn forward_events(&mut self, input: &[f32], active: &Active, out: &mut [f32]) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        let plane = g.in_h * g.in_w;
        let (in_size, out_size) = (self.in_size(), self.out_size());
        self.channels_last.resize(out_size, 0.0);
        for sample in 0..active.starts.len().saturating_sub(1) {
            let x = &input[sample * in_size..(sample + 1) * in_size];
            let acc = &mut self.channels_last;
            acc.fill(0.0);
            for &index in &active.indices[active.starts[sample]..active.starts[sample + 1]] {
                let index = index as usize;
                let value = x[index];
                let ci = index / plane;
                let (iy, ix) = ((index % plane) / g.in_w, index % g.in_w);
                let group_offset = (ci / cin_g) * cout_g;
                for ky in 0..g.kh {
                    let Some(oy) = conv_target(iy, ky, g.pt, g.sh, g.out_h) else {
                        continue;
                    };
                    for kx in 0..g.kw {
                        let Some(ox) = conv_target(ix, kx, g.pl, g.sw, g.out_w) else {
                            continue;
                        };
                        let w = &self.weight_scatter[((ci * g.kh + ky) * g.kw + kx) * cout_g..]
                            [..cout_g];
                        let base = (oy * g.out_w + ox) * g.out_c + group_offset;
                        for (a, &w) in acc[base..base + cout_g].iter_mut().zip(w) {
                            *a += value * w;
                        }
                    }
                }
            }
            let y = &mut out[sample * out_size..(sample + 1) * out_size];
            for o in 0..g.out_c {
                let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
                for p in 0..positions {
                    y[o * positions + p] = acc[p * g.out_c + o] + b;
                }
            }
        }
    }
}

/// For a non-overlapping, unpadded pool (kernel == stride, floor mode): the
/// output cell of each input position (`u32::MAX` for the cut-off border),
/// so a sparse spike map can be pooled by scattering its events.
pub(crate) fn pool_targets(
    input_shape: &[usize],
    output_shape: &[usize],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
) -> Option<Vec<u32>> {
    if kernel != stride || padding != [0; 4] {
        return None;
    }
    let (c, h, w) = (input_shape[0], input_shape[1], input_shape[2]);
    let (oh, ow) = (output_shape[1], output_shape[2]);
    let mut targets = Vec::with_capacity(c * h * w);
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                let (oy, ox) = (y / kernel[0], x / kernel[1]);
                targets.push(if oy < oh && ox < ow {
                    ((ch * oh + oy) * ow + ox) as u32
                } else {
                    u32::MAX
                });
            }
        }
    }
    Some(targets)
}

/// Average pooling of sparse inputs by scattering their events: each
/// non-zero input is added to its window's cell, then every cell is scaled.
/// Bit-identical to `pool`: a window's non-zero values are added in the same
/// (row-major) order, skipped zeros would add +0.0, and the scale is the same
/// `sum * (1 / (kh * kw))`.
pub(crate) fn avg_pool_events(
    targets: &[u32],
    divisor: f32,
    in_size: usize,
    input: &[f32],
    active: &Active,
    out: &mut [f32],
) {
    out.fill(0.0);
    let out_size = out.len() / (active.starts.len() - 1).max(1);
    for (sample, y) in out.chunks_exact_mut(out_size).enumerate() {
        let x = &input[sample * in_size..(sample + 1) * in_size];
        for &i in &active.indices[active.starts[sample]..active.starts[sample + 1]] {
            let t = targets[i as usize];
            if t != u32::MAX {
                y[t as usize] += x[i as usize];
            }
        }
        for v in y.iter_mut() {
            *v *= divisor;
        }
    }
}

/// Pooling over NCHW samples; `average` picks avg (else max).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool(
    input_shape: &[usize],
    output_shape: &[usize],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
    average: bool,
    count_include_pad: bool,
    input: &[f32],
    out: &mut [f32],
) {
    let (c, h, w) = (input_shape[0], input_shape[1], input_shape[2]);
    let (oh, ow) = (output_shape[1], output_shape[2]);
    let in_size = c * h * w;
    let out_size = c * oh * ow;
    if padding == [0; 4] {
        // Without padding every window lies inside the input (floor mode).
        let divisor = 1.0 / (kernel[0] * kernel[1]) as f32;
        for (x, y) in input
            .chunks_exact(in_size)
            .zip(out.chunks_exact_mut(out_size))
        {
            for ch in 0..c {
                let plane = &x[ch * h * w..(ch + 1) * h * w];
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut sum = 0.0f32;
                        let mut best = f32::NEG_INFINITY;
                        for ky in 0..kernel[0] {
                            let row =
                                &plane[(oy * stride[0] + ky) * w + ox * stride[1]..][..kernel[1]];
                            for &v in row {
                                sum += v;
                                best = best.max(v);
                            }
                        }
                        y[(ch * oh + oy) * ow + ox] = if average { sum * divisor } else { best };
                    }
                }
            }
        }
        return;
    }
    for (x, y) in input
        .chunks_exact(in_size)
        .zip(out.chunks_exact_mut(out_size))
    {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = 0.0f32;
                    let mut best = f32::NEG_INFINITY;
                    let mut count = 0usize;
                    for ky in 0..kernel[0] {
                        let iy = (oy * stride[0] + ky) as isize - padding[0] as isize;
                        if iy < 0 || iy as usize >= h {
                            continue;
                        }
                        for kx in 0..kernel[1] {
                            let ix = (ox * stride[1] + kx) as isize - padding[1] as isize;
                            if ix < 0 || ix as usize >= w {
                                continue;
                            }
                            let v = x[(ch * h + iy as usize) * w + ix as usize];
                            sum += v;
                            best = best.max(v);
                            count += 1;
                        }
                    }
                    let divisor = if count_include_pad {
                        kernel[0] * kernel[1]
                    } else {
                        count.max(1)
                    };
                    y[(ch * oh + oy) * ow + ox] = if average {
                        sum / divisor as f32
                    } else if count == 0 {
                        0.0
                    } else {
                        best
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Layer;
    use crate::network::{Network, Node};

    fn values(len: usize, seed: u32, sparsity: u32) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                if (s >> 24) % 100 < sparsity {
                    0.0
                } else {
                    (s >> 8) as f32 / (1 << 24) as f32 - 0.3
                }
            })
            .collect()
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < 1e-4, "element {i}: {x} vs {y}");
        }
    }

    #[test]
    fn avg_pool_events_equal_dense_pool_bit_for_bit() {
        // 3 channels of 5x7 (the last row and column are cut off by a 2x2 pool).
        let (shape, pooled) = ([3, 5, 7], [3, 2, 3]);
        let input: Vec<f32> = values(2 * 105, 5, 75)
            .iter()
            .map(|v| (v * 4.0).round().abs() * 0.37)
            .collect();
        let targets = pool_targets(&shape, &pooled, [2, 2], [2, 2], [0; 4]).unwrap();
        let mut active = Active::default();
        active.scan(&input, 105);
        let (mut a, mut b) = (vec![1.0; 36], vec![0.0; 36]);
        avg_pool_events(&targets, 0.25, 105, &input, &active, &mut a);
        pool(
            &shape,
            &pooled,
            [2, 2],
            [2, 2],
            [0; 4],
            true,
            true,
            &input,
            &mut b,
        );
        assert_eq!(a, b);
        assert!(pool_targets(&shape, &pooled, [3, 3], [2, 2], [0; 4]).is_none());
    }

    #[test]
    fn dense_events_equal_dense_product() {
        let weight = Tensor {
            shape: vec![7, 13],
            data: values(91, 1, 0),
        };
        let kernel = DenseKernel::new(&weight, Some(&vec![0.5; 7]));
        let input = values(3 * 13, 2, 70);
        let mut active = Active::default();
        active.scan(&input, 13);
        let (mut a, mut b) = (vec![0.0; 21], vec![0.0; 21]);
        kernel.forward_events(&input, &active, &mut a);
        kernel.forward_dense(3, &input, &mut b);
        close(&a, &b);
    }

    #[test]
    fn conv_events_equal_im2col_product() {
        for (stride, padding, groups) in [
            ([1, 1], [1, 1, 1, 1], 1),
            ([2, 1], [0, 2, 1, 0], 2),
            ([2, 3], [2, 2, 2, 2], 3),
        ] {
            let weight = Tensor {
                shape: vec![6, 6 / groups, 3, 2],
                data: values(6 * (6 / groups) * 6, 3, 0),
            };
            let net = Network {
                nodes: vec![
                    Node {
                        name: "x".into(),
                        layer: Layer::Input {
                            shape: vec![6, 5, 7],
                        },
                        inputs: vec![],
                    },
                    Node {
                        name: "c".into(),
                        layer: Layer::Conv2d {
                            weight: weight.clone(),
                            bias: Some(vec![0.1; 6]),
                            stride,
                            padding,
                            groups,
                        },
                        inputs: vec![0],
                    },
                ],
                output: 1,
            };
            let shapes = net.validate().unwrap();
            let mut kernel = ConvKernel::new(
                net.conv_geometry_of(1, &shapes).unwrap(),
                &weight,
                Some(&vec![0.1; 6]),
            );
            let input = values(2 * 210, 4, 80);
            let out_len = 2 * shapes[1].iter().product::<usize>();
            let mut active = Active::default();
            active.scan(&input, 210);
            let (mut a, mut b) = (vec![0.0; out_len], vec![0.0; out_len]);
            kernel.forward_events(&input, &active, &mut a);
            kernel.forward_dense(2, &input, &mut b);
            close(&a, &b);
        }
    }
}
