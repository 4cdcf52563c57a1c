//! The hot loops: dense and conv layers in several forms each. `*_events`
//! walks a list of active (non-zero) inputs and adds one weight column per
//! event (cost proportional to the spikes); the dense forms are products
//! over all inputs (cost independent of sparsity). The simulator picks one
//! per layer and step from the measured input density. Pooling is in
//! [`pool`], convolution in [`conv`].

mod conv;
mod pool;

pub(crate) use conv::ConvKernel;
pub(crate) use pool::{avg_pool_events, pool, pool_targets, running_max};

use crate::simd::F32x16;
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
            push_nonzero(&mut self.indices, sample, 0);
            self.starts.push(self.indices.len());
        }
    }

    /// Marks every input active (density 1), for ANN passes whose
    /// activations are dense anyway: no scan, and a valid list should an
    /// event path still be taken (small batches of dense layers).
    pub fn mark_dense(&mut self, per_sample: usize, batch: usize) {
        self.clear();
        for _ in 0..batch {
            self.indices.extend(0..per_sample as u32);
            self.starts.push(self.indices.len());
        }
    }

    /// Whether the list describes a batch of `batch` samples (lists are
    /// cleared when their buffer is rewritten).
    pub fn is_valid(&self, batch: usize) -> bool {
        self.starts.len() == batch + 1
    }

    pub fn density(&self, total: usize) -> f32 {
        if total == 0 {
            0.0
        } else {
            self.indices.len() as f32 / total as f32
        }
    }
}

/// Appends the indices of the non-zero `values`, plus `base`, to `indices`
/// (`base` places a slice of a sample), without a branch per value: every index is written and the length advances only
/// past non-zeros. Spike maps are 10-60 % dense, where a data-dependent
/// branch mispredicts on most spikes (this was ~15 % of a CNN step).
pub(crate) fn push_nonzero(indices: &mut Vec<u32>, values: &[f32], base: u32) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::isa() == crate::simd::Isa::Avx512 {
        // SAFETY: the CPU supports AVX-512F (`isa` detected it).
        return unsafe { push_nonzero_avx512(indices, values, base) };
    }
    push_nonzero_scalar(indices, values, base)
}

fn push_nonzero_scalar(indices: &mut Vec<u32>, values: &[f32], base: u32) {
    let start = indices.len();
    indices.reserve(values.len());
    let spare = &mut indices.spare_capacity_mut()[..values.len()];
    let mut n = 0;
    for (i, &v) in values.iter().enumerate() {
        spare[n].write(base + i as u32);
        n += (v != 0.0) as usize;
    }
    // SAFETY: n <= values.len() <= the reserved spare capacity, and every
    // slot below n was written (slot n is written before n advances past it).
    unsafe { indices.set_len(start + n) };
}

/// `push_nonzero` 16 values at a time: compare with zero into a mask, and
/// compress the lanes' indices to the front of a vector stored at the end
/// of the list (whole-vector stores stay inside the reserved capacity).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn push_nonzero_avx512(indices: &mut Vec<u32>, values: &[f32], base: u32) {
    use std::arch::x86_64::*;
    let start = indices.len();
    indices.reserve(values.len());
    let blocks = values.len() / 16;
    let mut n = start;
    let mut lanes = _mm512_add_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(base as i32),
    );
    let sixteen = _mm512_set1_epi32(16);
    let zero = _mm512_setzero_ps();
    for block in 0..blocks {
        // SAFETY: block * 16 + 16 <= values.len(); the store writes 16 u32 at
        // n <= start + block * 16, inside the capacity reserved above
        // (start + values.len()). Slots past the final length are not read.
        unsafe {
            let v = _mm512_loadu_ps(values.as_ptr().add(block * 16));
            // Unordered not-equal: NaN counts as non-zero, as `v != 0.0` does.
            let mask = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, zero);
            let packed = _mm512_maskz_compress_epi32(mask, lanes);
            _mm512_storeu_si512(indices.as_mut_ptr().add(n) as *mut __m512i, packed);
            n += mask.count_ones() as usize;
        }
        lanes = _mm512_add_epi32(lanes, sixteen);
    }
    // SAFETY: slots start..n were written with the non-zeros' indices.
    unsafe { indices.set_len(n) };
    let done = blocks * 16;
    push_nonzero_scalar(indices, &values[done..], base + done as u32);
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

/// Working memory of the kernels, one per thread: a padded sample, im2col
/// columns, a product and a channels-last accumulator.
#[derive(Default)]
pub(crate) struct Scratch {
    pub padded: Vec<f32>,
    /// The conv kernel whose layout `padded` holds (its border is zero).
    pub padded_for: usize,
    pub columns: Vec<f32>,
    pub product: Vec<f32>,
    pub acc: Vec<f32>,
}

/// `acc[..n] += value * w[..n]`, 64 lanes per pass (four independent
/// vectors: the usual channel counts are multiples of 64, and one vector a
/// pass spent as many instructions on the loop as on the sums), then 16,
/// then one by one.
///
/// # Safety
/// `acc` and `w` point at `n` values (writable at `acc`); the caller is
/// compiled for `L`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy<L: F32x16>(acc: *mut f32, value: f32, w: *const f32, n: usize) {
    // SAFETY: every offset below is < n (the caller's guarantee).
    unsafe {
        let v = L::splat(value);
        let mut i = 0;
        while i + 64 <= n {
            let sums =
                [0, 16, 32, 48].map(|k| L::load(acc.add(i + k)).add_mul(v, L::load(w.add(i + k))));
            for (k, sum) in [0, 16, 32, 48].into_iter().zip(sums) {
                sum.store(acc.add(i + k));
            }
            i += 64;
        }
        while i + 16 <= n {
            L::load(acc.add(i))
                .add_mul(v, L::load(w.add(i)))
                .store(acc.add(i));
            i += 16;
        }
        while i < n {
            *acc.add(i) += value * *w.add(i);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Layer, PoolWindow};
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
    fn push_nonzero_finds_every_non_zero_in_order() {
        for len in [0, 5, 16, 37, 100] {
            let mut v = values(len, 9, 60);
            if len > 3 {
                v[3] = f32::NAN;
            }
            let mut fast = vec![7u32];
            push_nonzero(&mut fast, &v, 1000);
            let mut slow = vec![7u32];
            push_nonzero_scalar(&mut slow, &v, 1000);
            let expected: Vec<u32> = std::iter::once(7)
                .chain(
                    (0..len as u32)
                        .filter(|&i| v[i as usize] != 0.0)
                        .map(|i| i + 1000),
                )
                .collect();
            assert_eq!(fast, expected);
            assert_eq!(slow, expected);
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
        let two_by_two = PoolWindow::new([2, 2], [2, 2], [0; 4]);
        let targets = pool_targets(&shape, &pooled, two_by_two).unwrap();
        let mut active = Active::default();
        active.scan(&input, 105);
        let (mut a, mut b) = (vec![1.0; 36], vec![0.0; 36]);
        avg_pool_events(&targets, 0.25, 105, &input, &active, &mut a);
        pool(&shape, &pooled, two_by_two, true, true, &input, &mut b);
        assert_eq!(a, b);
        let overlapping = PoolWindow::new([3, 3], [2, 2], [0; 4]);
        assert!(pool_targets(&shape, &pooled, overlapping).is_none());
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

    fn conv_kernel(
        input: [usize; 3],
        weight_shape: [usize; 4],
        stride: [usize; 2],
        padding: [usize; 4],
        groups: usize,
    ) -> ConvKernel {
        let weight = Tensor {
            shape: weight_shape.to_vec(),
            data: values(weight_shape.iter().product(), 3, 0),
        };
        let bias = Some(vec![0.1; weight_shape[0]]);
        let net = Network {
            nodes: vec![
                Node {
                    name: "x".into(),
                    layer: Layer::Input {
                        shape: input.to_vec(),
                    },
                    inputs: vec![],
                },
                Node {
                    name: "c".into(),
                    layer: Layer::Conv2d {
                        weight: weight.clone(),
                        bias: bias.clone(),
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
        ConvKernel::new(
            net.conv_geometry_of(1, &shapes).unwrap(),
            &weight,
            bias.as_ref(),
        )
    }

    /// Every form a geometry allows gives the im2col product's currents.
    #[test]
    fn conv_forms_equal_im2col_product() {
        let cases = [
            // (input, weight, stride, padding, groups)
            ([6, 5, 7], [6, 6, 3, 2], [1, 1], [1, 1, 1, 1], 1),
            ([6, 5, 7], [6, 3, 3, 2], [2, 1], [0, 2, 1, 0], 2),
            ([6, 5, 7], [6, 2, 3, 2], [2, 3], [2, 2, 2, 2], 3),
            ([4, 5, 6], [32, 4, 3, 3], [1, 1], [1, 1, 1, 1], 1),
            ([4, 5, 6], [32, 2, 3, 3], [2, 1], [0, 2, 1, 0], 2),
            // Depthwise (one input channel per group), with a multiplier of 2.
            ([5, 6, 7], [5, 1, 3, 3], [1, 1], [1, 1, 1, 1], 5),
            ([5, 6, 7], [10, 1, 3, 3], [2, 2], [1, 0, 1, 2], 5),
            // A bottom pad the floor-mode output never reaches.
            ([3, 7, 7], [16, 3, 3, 3], [2, 2], [0, 0, 3, 3], 1),
        ];
        for (input, weight, stride, padding, groups) in cases {
            let kernel = conv_kernel(input, weight, stride, padding, groups);
            let in_size: usize = input.iter().product();
            let g = kernel.geometry;
            let out_len = 3 * g.out_c * g.out_h * g.out_w;
            let x = values(3 * in_size, 4, 60);
            let mut active = Active::default();
            active.scan(&x, in_size);
            let mut scratch = Scratch::default();
            let mut reference = vec![0.0; out_len];
            kernel.forward_dense(3, &x, &mut reference, &mut scratch);
            let mut events = vec![0.0; out_len];
            kernel.forward_events(&x, &active, &mut events, &mut scratch);
            close(&events, &reference);
            if kernel.has_direct() {
                let mut direct = vec![0.0; out_len];
                kernel.forward_direct(3, &x, &mut direct, &mut scratch);
                close(&direct, &reference);
            }
            if kernel.is_depthwise() {
                let mut depthwise = vec![0.0; out_len];
                kernel.forward_depthwise(3, &x, &mut depthwise, &mut scratch);
                close(&depthwise, &reference);
            }
        }
    }

    /// The im2col product against a plain loop over the definition.
    #[test]
    fn im2col_product_is_the_convolution() {
        let kernel = conv_kernel([4, 5, 6], [6, 2, 3, 2], [2, 1], [1, 0, 2, 1], 2);
        let g = kernel.geometry;
        let weight = values(6 * 2 * 3 * 2, 3, 0);
        let x = values(4 * 5 * 6, 4, 30);
        let mut out = vec![0.0; 6 * g.out_h * g.out_w];
        kernel.forward_dense(1, &x, &mut out, &mut Scratch::default());
        let mut expected = vec![0.0f32; out.len()];
        for o in 0..6 {
            let group = o / 3;
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let mut sum = 0.1f32;
                    for c in 0..2 {
                        for ky in 0..3 {
                            for kx in 0..2 {
                                let iy = (oy * 2 + ky) as isize - 1;
                                let ix = ox as isize + kx as isize;
                                if iy >= 0 && iy < 5 && ix < 6 {
                                    sum += weight[((o * 2 + c) * 3 + ky) * 2 + kx]
                                        * x[((group * 2 + c) * 5 + iy as usize) * 6 + ix as usize];
                                }
                            }
                        }
                    }
                    expected[(o * g.out_h + oy) * g.out_w + ox] = sum;
                }
            }
        }
        close(&out, &expected);
    }

    /// Steps `running_max` through `steps` (each step's inputs for the
    /// batch, and whether their event list is given) and checks after each
    /// step that the spikes emitted so far, and `last`, are the max-pool of
    /// the input totals.
    fn check_running_max(
        shape: [usize; 3],
        pooled: [usize; 3],
        window: PoolWindow,
        batch: usize,
        steps: impl IntoIterator<Item = (Vec<f32>, bool)>,
    ) {
        let size: usize = shape.iter().product();
        let out_size = pooled.iter().product::<usize>() * batch;
        let mut totals = vec![0.0; size * batch];
        let mut last = vec![0.0; out_size];
        let mut emitted = vec![0.0f32; out_size];
        for (step, (x, with_events)) in steps.into_iter().enumerate() {
            let mut active = Active::default();
            active.scan(&x, size);
            let mut out = vec![0.0; out_size];
            running_max(
                &shape,
                &pooled,
                window,
                &x,
                with_events.then_some(&active),
                &mut totals,
                &mut last,
                &mut out,
            );
            for (e, o) in emitted.iter_mut().zip(&out) {
                *e += o;
            }
            let mut expected = vec![0.0; out_size];
            pool(
                &shape,
                &pooled,
                window,
                false,
                false,
                &totals,
                &mut expected,
            );
            assert_eq!(emitted, expected, "{shape:?} {window:?} step {step}");
            assert_eq!(last, expected, "{shape:?} {window:?} step {step}");
        }
    }

    /// With and without the event list (every other step).
    #[test]
    fn running_max_totals_equal_the_max_of_input_totals() {
        let steps = (0..20u32).map(|step| {
            let x = values(32, step + 1, 70)
                .iter()
                .map(|v| (v * 3.0).round().max(0.0))
                .collect();
            (x, step % 2 == 0)
        });
        let window = PoolWindow::new([3, 3], [2, 2], [1, 1, 0, 0]);
        check_running_max([2, 4, 4], [2, 2, 2], window, 1, steps);
    }

    /// The event path (only the windows around this step's events) against
    /// pooling all totals: batches of two, non-square maps, strides and
    /// asymmetric pads, and steps with negative inputs (signed neurons),
    /// where totals shrink and every window is pooled again.
    #[test]
    fn running_max_events_equal_pooling_all_totals() {
        let configs = [
            ([2, 5, 6], [2, 2, 3], [3, 3], [2, 2], [1, 1, 0, 0]),
            ([3, 6, 6], [3, 3, 3], [2, 2], [2, 2], [0, 0, 0, 0]),
            ([1, 5, 6], [1, 5, 6], [3, 3], [1, 1], [1, 1, 1, 1]),
            ([2, 7, 5], [2, 4, 3], [3, 3], [2, 2], [1, 1, 1, 1]),
        ];
        for (shape, pooled, kernel, stride, padding) in configs {
            let batch = 2;
            let size = shape.iter().product::<usize>() * batch;
            let steps = (0..24u32).map(|step| {
                let signed = step % 7 == 5;
                let x = values(size, step + 11, 60)
                    .iter()
                    .map(|v| {
                        if signed {
                            (v * 3.0).round()
                        } else {
                            (v * 3.0).round().max(0.0)
                        }
                    })
                    .collect();
                (x, true)
            });
            let window = PoolWindow::new(kernel, stride, padding);
            check_running_max(shape, pooled, window, batch, steps);
        }
    }
}
