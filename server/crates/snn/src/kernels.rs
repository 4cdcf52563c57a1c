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
    #[cfg(target_arch = "x86_64")]
    if crate::simd::isa() == crate::simd::Isa::Avx512 {
        // SAFETY: the CPU supports AVX-512F (`isa` detected it).
        return unsafe { push_nonzero_avx512(indices, values) };
    }
    push_nonzero_scalar(indices, values)
}

fn push_nonzero_scalar(indices: &mut Vec<u32>, values: &[f32]) {
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

/// `push_nonzero` 16 values at a time: compare with zero into a mask, and
/// compress the lanes' indices to the front of a vector stored at the end
/// of the list (whole-vector stores stay inside the reserved capacity).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn push_nonzero_avx512(indices: &mut Vec<u32>, values: &[f32]) {
    use std::arch::x86_64::*;
    let start = indices.len();
    indices.reserve(values.len());
    let blocks = values.len() / 16;
    let mut n = start;
    let mut lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
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
    let tail_start = indices.len();
    push_nonzero_scalar(indices, &values[done..]);
    for index in &mut indices[tail_start..] {
        *index += done as u32;
    }
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
    /// What one input event at plane position q touches:
    /// `event_targets[event_starts[q]..event_starts[q + 1]]` are
    /// `(ky * kw + kx, output position)` pairs, precomputed so the event loop
    /// does no index arithmetic or bounds tests.
    event_starts: Vec<u32>,
    event_targets: Vec<(u32, u32)>,
    /// The im2col gather transposed, `[position, row]`, with padding pointing
    /// at a zero slot after the group's input: the direct product's table.
    direct_gather: Vec<u32>,
    padded: Vec<f32>,
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
        let mut event_starts = vec![0u32];
        let mut event_targets = Vec::new();
        for iy in 0..g.in_h {
            for ix in 0..g.in_w {
                for ky in 0..g.kh {
                    let Some(oy) = conv_target(iy, ky, g.pt, g.sh, g.out_h) else {
                        continue;
                    };
                    for kx in 0..g.kw {
                        let Some(ox) = conv_target(ix, kx, g.pl, g.sw, g.out_w) else {
                            continue;
                        };
                        event_targets.push(((ky * g.kw + kx) as u32, (oy * g.out_w + ox) as u32));
                    }
                }
                event_starts.push(event_targets.len() as u32);
            }
        }
        let rows = cin_g * g.kh * g.kw;
        let zero_slot = (cin_g * g.in_h * g.in_w) as u32;
        let mut direct_gather = vec![zero_slot; positions * rows];
        for row in 0..rows {
            for p in 0..positions {
                let i = gather[row * positions + p];
                if i != u32::MAX {
                    direct_gather[p * rows + row] = i;
                }
            }
        }
        ConvKernel {
            geometry,
            weight_gemm: weight.data.clone(),
            weight_scatter,
            bias: bias.cloned(),
            gather,
            event_starts,
            event_targets,
            direct_gather,
            padded: Vec::new(),
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

    /// Whether `forward_direct` handles this geometry (whole blocks of 16
    /// output channels per group).
    pub fn has_direct(&self) -> bool {
        self.geometry.out_per_group().is_multiple_of(16)
    }

    /// The dense product without im2col columns or sgemm's packing: each
    /// output position gathers its inputs straight from the sample through
    /// `direct_gather` and accumulates 16 output channels at a time in
    /// registers (4 positions at once). For the small maps of spiking nets
    /// sgemm spent more time packing and copying than multiplying.
    pub fn forward_direct(&mut self, batch: usize, input: &[f32], out: &mut [f32]) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        let rows = cin_g * g.kh * g.kw;
        let group_in = cin_g * g.in_h * g.in_w;
        let (in_size, out_size) = (self.in_size(), self.out_size());
        self.padded.resize(group_in + 1, 0.0);
        self.channels_last.resize(positions * cout_g, 0.0);
        for sample in 0..batch {
            for group in 0..g.groups {
                self.padded[..group_in]
                    .copy_from_slice(&input[sample * in_size + group * group_in..][..group_in]);
                self.padded[group_in] = 0.0;
                let direct = DirectConv {
                    positions,
                    rows,
                    cout_g,
                    table: &self.direct_gather,
                    weight: &self.weight_scatter
                        [group * rows * cout_g..(group + 1) * rows * cout_g],
                };
                direct.run(&self.padded, &mut self.channels_last);
                let y = &mut out[sample * out_size..(sample + 1) * out_size];
                for o_local in 0..cout_g {
                    let o = group * cout_g + o_local;
                    let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
                    for p in 0..positions {
                        y[o * positions + p] = self.channels_last[p * cout_g + o_local] + b;
                    }
                }
            }
        }
    }

    pub fn forward_events(&mut self, input: &[f32], active: &Active, out: &mut [f32]) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let (in_size, out_size) = (self.in_size(), self.out_size());
        self.channels_last.resize(out_size, 0.0);
        for sample in 0..active.starts.len().saturating_sub(1) {
            let x = &input[sample * in_size..(sample + 1) * in_size];
            let events = &active.indices[active.starts[sample]..active.starts[sample + 1]];
            let acc = &mut self.channels_last;
            acc.fill(0.0);
            let scatter = ConvScatter {
                g: &g,
                weight: &self.weight_scatter,
                starts: &self.event_starts,
                targets: &self.event_targets,
            };
            scatter.run(x, events, acc);
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

/// The conv event loop: each event adds `value * weight[ci, ky, kx, :]` to
/// the channels-last accumulator at each output position it reaches.
struct ConvScatter<'a> {
    g: &'a ConvGeometry,
    weight: &'a [f32],
    starts: &'a [u32],
    targets: &'a [(u32, u32)],
}

impl ConvScatter<'_> {
    /// Runs the loop compiled for the widest vector unit the CPU has (the
    /// crate is built for baseline x86-64, i.e. 4-wide SSE). Multiplies and
    /// adds stay separate (no FMA), so every variant gives the same bits.
    fn run(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::simd::isa() == crate::simd::Isa::Avx512 {
                // SAFETY: the CPU supports the enabled feature (`isa` detected it).
                return unsafe { self.run_avx512(x, events, acc) };
            }
            if crate::simd::isa() == crate::simd::Isa::Avx2 {
                // SAFETY: as above.
                return unsafe { self.run_avx2(x, events, acc) };
            }
        }
        self.body(x, events, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        self.body(x, events, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        self.body(x, events, acc)
    }

    #[inline(always)]
    fn body(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        let g = self.g;
        let plane = g.in_h * g.in_w;
        let taps = g.kh * g.kw;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        for &index in events {
            let index = index as usize;
            let value = x[index];
            let ci = index / plane;
            let q = index - ci * plane;
            let weights = &self.weight[ci * taps * cout_g..(ci + 1) * taps * cout_g];
            let group_offset = (ci / cin_g) * cout_g;
            let targets = &self.targets[self.starts[q] as usize..self.starts[q + 1] as usize];
            for &(tap, position) in targets {
                let w = &weights[tap as usize * cout_g..][..cout_g];
                let base = position as usize * g.out_c + group_offset;
                axpy(&mut acc[base..base + cout_g], value, w);
            }
        }
    }
}

/// One group's direct convolution into a channels-last `[position, cout_g]`
/// accumulator; `weight` is `[row, cout_g]`, `table` `[position, row]`.
struct DirectConv<'a> {
    positions: usize,
    rows: usize,
    cout_g: usize,
    table: &'a [u32],
    weight: &'a [f32],
}

impl DirectConv<'_> {
    /// Dispatches like `ConvScatter::run`: same bits on every CPU (no FMA).
    fn run(&self, x: &[f32], acc: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::simd::isa() == crate::simd::Isa::Avx512 {
                // SAFETY: the CPU supports the enabled feature (`isa` detected it).
                return unsafe { self.run_avx512(x, acc) };
            }
            if crate::simd::isa() == crate::simd::Isa::Avx2 {
                // SAFETY: as above.
                return unsafe { self.run_avx2(x, acc) };
            }
        }
        self.body(x, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, x: &[f32], acc: &mut [f32]) {
        self.body(x, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, x: &[f32], acc: &mut [f32]) {
        self.body(x, acc)
    }

    #[inline(always)]
    fn body(&self, x: &[f32], acc: &mut [f32]) {
        let mut p = 0;
        while p + 4 <= self.positions {
            self.block::<4>(p, x, acc);
            p += 4;
        }
        while p < self.positions {
            self.block::<1>(p, x, acc);
            p += 1;
        }
    }

    /// Positions `p0..p0 + P`, all output channels, 16 at a time; each sum
    /// runs over the rows in order.
    #[inline(always)]
    fn block<const P: usize>(&self, p0: usize, x: &[f32], acc: &mut [f32]) {
        let rows = self.rows;
        let tables: [&[u32]; P] =
            std::array::from_fn(|j| &self.table[(p0 + j) * rows..(p0 + j + 1) * rows]);
        for ob in (0..self.cout_g).step_by(16) {
            let mut sums = [[0.0f32; 16]; P];
            for row in 0..rows {
                let w: [f32; 16] = self.weight[row * self.cout_g + ob..][..16]
                    .try_into()
                    .expect("block of 16");
                for j in 0..P {
                    let v = x[tables[j][row] as usize];
                    for (s, w) in sums[j].iter_mut().zip(w) {
                        *s += v * w;
                    }
                }
            }
            for (j, sum) in sums.iter().enumerate() {
                acc[(p0 + j) * self.cout_g + ob..][..16].copy_from_slice(sum);
            }
        }
    }
}

/// `acc += value * w`, in fixed blocks of 16 so the compiler emits whole
/// vector operations for the usual channel counts (a loop of unknown length
/// 16 ran in the vectoriser's 8-wide remainder path).
#[inline(always)]
fn axpy(acc: &mut [f32], value: f32, w: &[f32]) {
    let mut acc_blocks = acc.chunks_exact_mut(16);
    let mut w_blocks = w.chunks_exact(16);
    for (a, w) in (&mut acc_blocks).zip(&mut w_blocks) {
        let a: &mut [f32; 16] = a.try_into().expect("block of 16");
        let w: [f32; 16] = w.try_into().expect("block of 16");
        let mut sum = *a;
        for (s, w) in sum.iter_mut().zip(w) {
            *s += value * w;
        }
        *a = sum;
    }
    for (a, &w) in acc_blocks
        .into_remainder()
        .iter_mut()
        .zip(w_blocks.remainder())
    {
        *a += value * w;
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
    fn push_nonzero_finds_every_non_zero_in_order() {
        for len in [0, 5, 16, 37, 100] {
            let mut v = values(len, 9, 60);
            if len > 3 {
                v[3] = f32::NAN;
            }
            let mut fast = vec![7u32];
            push_nonzero(&mut fast, &v);
            let mut slow = vec![7u32];
            push_nonzero_scalar(&mut slow, &v);
            let expected: Vec<u32> = std::iter::once(7)
                .chain((0..len as u32).filter(|&i| v[i as usize] != 0.0))
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

    #[test]
    fn conv_direct_equals_im2col_product() {
        for (stride, padding, groups) in [([1, 1], [1, 1, 1, 1], 1), ([2, 1], [0, 2, 1, 0], 2)] {
            let (cin, cout) = (4, 32);
            let weight = Tensor {
                shape: vec![cout, cin / groups, 3, 3],
                data: values(cout * (cin / groups) * 9, 7, 0),
            };
            let net = Network {
                nodes: vec![
                    Node {
                        name: "x".into(),
                        layer: Layer::Input {
                            shape: vec![cin, 5, 6],
                        },
                        inputs: vec![],
                    },
                    Node {
                        name: "c".into(),
                        layer: Layer::Conv2d {
                            weight: weight.clone(),
                            bias: Some(vec![0.2; cout]),
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
                Some(&vec![0.2; cout]),
            );
            assert!(kernel.has_direct());
            let input = values(3 * cin * 30, 8, 40);
            let out_len = 3 * shapes[1].iter().product::<usize>();
            let (mut a, mut b) = (vec![0.0; out_len], vec![0.0; out_len]);
            kernel.forward_direct(3, &input, &mut a);
            kernel.forward_dense(3, &input, &mut b);
            close(&a, &b);
        }
    }
}
