//! 2-D convolution in four forms, all over one weight layout
//! (`[in, kh, kw, out/groups]`: what one input event adds, contiguous over
//! the group's outputs):
//! - `forward_events` walks the active inputs and adds a weight column per
//!   event and kernel tap (cost proportional to the spikes);
//! - `forward_direct` gathers each output position's window from a zero
//!   padded copy of the sample and accumulates 16 output channels x 4
//!   positions in registers (small maps, where sgemm's packing dominated);
//! - `forward_depthwise` for one input channel per group (MobileNet's
//!   depthwise convolutions), plane by plane;
//! - `forward_dense`: im2col columns and an sgemm (`matrixmultiply`).
//!
//! Nothing here is sized by positions x window: the padded copy gives every
//! window's offset as a row offset plus a position offset, so the tables are
//! `rows + positions` long and memory stays proportional to the layer (a
//! ResNet-18 at 224x224 is simulated in memory of the network's order).
//! Scratch space lives in the caller's [`Scratch`], so one kernel serves
//! several threads.

use super::{Active, Scratch, axpy};
use crate::network::{ConvGeometry, conv_target};
use crate::simd::{F32x16, Scalar16};
#[cfg(target_arch = "x86_64")]
use crate::simd::{Ymm2, Zmm};
use crate::tensor::Tensor;

pub(crate) struct ConvKernel {
    pub geometry: ConvGeometry,
    /// `[in, kh, kw, out/groups]`.
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
    /// The padded plane: every window lies inside it.
    padded_h: usize,
    padded_w: usize,
    /// For row `(ci_local, ky, kx)` of a group: its offset in the padded group input.
    row_offsets: Vec<u32>,
    /// For output position `(oy, ox)`: its window's top-left in a padded plane.
    position_offsets: Vec<u32>,
    /// What one input event at plane position q touches:
    /// `event_targets[event_starts[q]..event_starts[q + 1]]` are
    /// `(ky * kw + kx, output position)` pairs, so the event loop does no
    /// index arithmetic or bounds tests.
    event_starts: Vec<u32>,
    event_targets: Vec<(u32, u32)>,
    /// Identifies this kernel's padded layout in a scratch buffer.
    id: usize,
}

impl ConvKernel {
    pub fn new(geometry: ConvGeometry, weight: &Tensor, bias: Option<&Vec<f32>>) -> ConvKernel {
        static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let g = geometry;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        let taps = g.kh * g.kw;
        // The transpose in blocks of 16 outputs: each pass writes whole
        // cache lines and reads 16 sequential streams (output by output it
        // wrote one line per weight: ~60 ms of a ResNet-18's plan).
        let mut scatter = vec![0.0; g.in_c * taps * cout_g];
        for group in 0..g.groups {
            for block in (0..cout_g).step_by(16) {
                let outputs = block..(block + 16).min(cout_g);
                for ci_local in 0..cin_g {
                    let ci = group * cin_g + ci_local;
                    for tap in 0..taps {
                        let row = (ci * taps + tap) * cout_g;
                        for o_local in outputs.clone() {
                            let o = group * cout_g + o_local;
                            scatter[row + o_local] =
                                weight.data[(o * cin_g + ci_local) * taps + tap];
                        }
                    }
                }
            }
        }
        let padded_h = (g.pt + g.in_h).max((g.out_h - 1) * g.sh + g.kh);
        let padded_w = (g.pl + g.in_w).max((g.out_w - 1) * g.sw + g.kw);
        let plane = padded_h * padded_w;
        let mut row_offsets = Vec::with_capacity(cin_g * taps);
        for c in 0..cin_g {
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    row_offsets.push((c * plane + ky * padded_w + kx) as u32);
                }
            }
        }
        let mut position_offsets = Vec::with_capacity(g.out_h * g.out_w);
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                position_offsets.push((oy * g.sh * padded_w + ox * g.sw) as u32);
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
        ConvKernel {
            geometry,
            weight: scatter,
            bias: bias.cloned(),
            padded_h,
            padded_w,
            row_offsets,
            position_offsets,
            event_starts,
            event_targets,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    fn in_size(&self) -> usize {
        self.geometry.in_c * self.geometry.in_h * self.geometry.in_w
    }

    fn out_size(&self) -> usize {
        self.geometry.out_c * self.geometry.out_h * self.geometry.out_w
    }

    fn group_padded(&self) -> usize {
        self.geometry.in_per_group() * self.padded_h * self.padded_w
    }

    /// Whether `forward_direct` handles this geometry (whole blocks of 16
    /// output channels per group).
    pub fn has_direct(&self) -> bool {
        self.geometry.out_per_group().is_multiple_of(16)
    }

    /// One input channel per group: the depthwise form applies.
    pub fn is_depthwise(&self) -> bool {
        self.geometry.in_per_group() == 1
    }

    /// Copies group `group` of `sample` into the zero-padded buffer. The
    /// border is zeroed only when the buffer last held another layout.
    fn pad<'s>(&self, sample: &[f32], group: usize, scratch: &'s mut Scratch) -> &'s [f32] {
        let g = &self.geometry;
        let len = self.group_padded();
        if scratch.padded_for != self.id || scratch.padded.len() != len {
            scratch.padded.clear();
            scratch.padded.resize(len, 0.0);
            scratch.padded_for = self.id;
        }
        let cin_g = g.in_per_group();
        let plane = self.padded_h * self.padded_w;
        for c in 0..cin_g {
            let source = &sample[(group * cin_g + c) * g.in_h * g.in_w..][..g.in_h * g.in_w];
            for (y, row) in source.chunks_exact(g.in_w).enumerate() {
                let start = c * plane + (y + g.pt) * self.padded_w + g.pl;
                scratch.padded[start..start + g.in_w].copy_from_slice(row);
            }
        }
        &scratch.padded
    }

    /// Channels-last `[position, channel]` sums (+ bias) to NCHW, in tiles
    /// of 16 x 16 (channel by channel it re-read the whole accumulator for
    /// every channel: megabytes per channel on a ResNet's first stage).
    fn write_out(&self, acc: &[f32], channels: usize, first: usize, y: &mut [f32]) {
        const TILE: usize = 16;
        let positions = self.geometry.out_h * self.geometry.out_w;
        for p0 in (0..positions).step_by(TILE) {
            let ps = p0..(p0 + TILE).min(positions);
            for o0 in (0..channels).step_by(TILE) {
                for o_local in o0..(o0 + TILE).min(channels) {
                    let o = first + o_local;
                    let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
                    let dst = &mut y[o * positions + ps.start..o * positions + ps.end];
                    for (d, p) in dst.iter_mut().zip(ps.clone()) {
                        *d = acc[p * channels + o_local] + b;
                    }
                }
            }
        }
    }

    /// im2col + sgemm. Samples share one product while the columns stay
    /// small (about 4096 positions), amortising sgemm's packing.
    pub fn forward_dense(&self, batch: usize, input: &[f32], out: &mut [f32], s: &mut Scratch) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let (cout_g, rows) = (g.out_per_group(), self.row_offsets.len());
        let (in_size, out_size) = (self.in_size(), self.out_size());
        let per_call = (4096 / positions).clamp(1, batch.max(1));
        for first in (0..batch).step_by(per_call) {
            let count = per_call.min(batch - first);
            let width = count * positions;
            for group in 0..g.groups {
                let mut columns = std::mem::take(&mut s.columns);
                columns.resize(rows * width, 0.0);
                for k in 0..count {
                    let sample = &input[(first + k) * in_size..][..in_size];
                    let padded = self.pad(sample, group, s);
                    for (row, &offset) in self.row_offsets.iter().enumerate() {
                        let dst = &mut columns[row * width + k * positions..][..positions];
                        for (d, &p) in dst.iter_mut().zip(&self.position_offsets) {
                            *d = padded[(offset + p) as usize];
                        }
                    }
                }
                s.product.resize(cout_g * width, 0.0);
                let a = &self.weight[group * rows * cout_g..(group + 1) * rows * cout_g];
                // SAFETY: a is [cout_g, rows] with strides (1, cout_g) inside
                // its slice, columns [rows, width] and product [cout_g, width]
                // row-major, all sized above.
                unsafe {
                    matrixmultiply::sgemm(
                        cout_g,
                        rows,
                        width,
                        1.0,
                        a.as_ptr(),
                        1,
                        cout_g as isize,
                        columns.as_ptr(),
                        width as isize,
                        1,
                        0.0,
                        s.product.as_mut_ptr(),
                        width as isize,
                        1,
                    );
                }
                s.columns = columns;
                for o_local in 0..cout_g {
                    let o = group * cout_g + o_local;
                    let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
                    for k in 0..count {
                        let src = &s.product[o_local * width + k * positions..][..positions];
                        let dst = &mut out[(first + k) * out_size + o * positions..][..positions];
                        for (d, &v) in dst.iter_mut().zip(src) {
                            *d = v + b;
                        }
                    }
                }
            }
        }
    }

    /// The dense product without im2col columns or sgemm's packing: each
    /// output position gathers its window from the padded sample and
    /// accumulates 16 output channels at a time in registers (4 positions at
    /// once).
    pub fn forward_direct(&self, batch: usize, input: &[f32], out: &mut [f32], s: &mut Scratch) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let (cout_g, rows) = (g.out_per_group(), self.row_offsets.len());
        let (in_size, out_size) = (self.in_size(), self.out_size());
        let mut acc = std::mem::take(&mut s.acc);
        acc.resize(positions * cout_g, 0.0);
        for sample in 0..batch {
            for group in 0..g.groups {
                let padded = self.pad(&input[sample * in_size..][..in_size], group, s);
                let direct = DirectConv {
                    positions,
                    cout_g,
                    rows: &self.row_offsets,
                    position_offsets: &self.position_offsets,
                    weight: &self.weight[group * rows * cout_g..(group + 1) * rows * cout_g],
                };
                direct.run(padded, &mut acc);
                let y = &mut out[sample * out_size..(sample + 1) * out_size];
                self.write_out(&acc, cout_g, group * cout_g, y);
            }
        }
        s.acc = acc;
    }

    /// One input channel per group: every output plane is a sum of shifted,
    /// weighted copies of its input plane (a row at a time, so stride-1
    /// rows vectorise), taps in the same order as the other forms.
    pub fn forward_depthwise(&self, batch: usize, input: &[f32], out: &mut [f32], s: &mut Scratch) {
        let g = self.geometry;
        let positions = g.out_h * g.out_w;
        let cout_g = g.out_per_group();
        let taps = g.kh * g.kw;
        let (in_size, out_size) = (self.in_size(), self.out_size());
        for sample in 0..batch {
            for group in 0..g.groups {
                let padded = self.pad(&input[sample * in_size..][..in_size], group, s);
                for o_local in 0..cout_g {
                    let o = group * cout_g + o_local;
                    let y = &mut out[sample * out_size + o * positions..][..positions];
                    y.fill(0.0);
                    for tap in 0..taps {
                        let w = self.weight[(group * taps + tap) * cout_g + o_local];
                        let (ky, kx) = (tap / g.kw, tap % g.kw);
                        for (oy, row) in y.chunks_exact_mut(g.out_w).enumerate() {
                            let start = (oy * g.sh + ky) * self.padded_w + kx;
                            if g.sw == 1 {
                                for (d, &x) in row.iter_mut().zip(&padded[start..]) {
                                    *d += x * w;
                                }
                            } else {
                                for (ox, d) in row.iter_mut().enumerate() {
                                    *d += padded[start + ox * g.sw] * w;
                                }
                            }
                        }
                    }
                    let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
                    if b != 0.0 {
                        y.iter_mut().for_each(|v| *v += b);
                    }
                }
            }
        }
    }

    pub fn forward_events(&self, input: &[f32], active: &Active, out: &mut [f32], s: &mut Scratch) {
        let g = self.geometry;
        let (in_size, out_size) = (self.in_size(), self.out_size());
        let mut acc = std::mem::take(&mut s.acc);
        acc.resize(out_size, 0.0);
        for sample in 0..active.starts.len().saturating_sub(1) {
            let x = &input[sample * in_size..(sample + 1) * in_size];
            let events = &active.indices[active.starts[sample]..active.starts[sample + 1]];
            acc.fill(0.0);
            let scatter = ConvScatter {
                g: &g,
                weight: &self.weight,
                starts: &self.event_starts,
                targets: &self.event_targets,
            };
            scatter.run(x, events, &mut acc);
            let y = &mut out[sample * out_size..(sample + 1) * out_size];
            self.write_out(&acc, g.out_c, 0, y);
        }
        s.acc = acc;
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
        self.body::<Scalar16>(x, events, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        self.body::<Zmm>(x, events, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        self.body::<Ymm2>(x, events, acc)
    }

    #[inline(always)]
    fn body<L: F32x16>(&self, x: &[f32], events: &[u32], acc: &mut [f32]) {
        let g = self.g;
        let plane = g.in_h * g.in_w;
        let taps = g.kh * g.kw;
        let (cin_g, cout_g) = (g.in_per_group(), g.out_per_group());
        assert!(x.len() >= g.in_c * plane);
        assert!(acc.len() >= g.out_h * g.out_w * g.out_c);
        assert!(self.weight.len() >= g.in_c * taps * cout_g);
        // The event's channel, divided out only when an event leaves the
        // previous one's plane (lists ascend: once per channel, where a
        // division per event cost more than some layers' sums).
        let (mut ci, mut plane_start) = (0, 0);
        for &index in events {
            let index = index as usize;
            assert!(index < g.in_c * plane, "event {index} outside the input");
            if index < plane_start || index >= plane_start + plane {
                ci = index / plane;
                plane_start = ci * plane;
            }
            let q = index - plane_start;
            let value = x[index];
            let weights = ci * taps * cout_g;
            let group_offset = (ci / cin_g) * cout_g;
            let targets = &self.targets[self.starts[q] as usize..self.starts[q + 1] as usize];
            for &(tap, position) in targets {
                // SAFETY: the table holds taps < kh * kw and output
                // positions < out_h * out_w (`ConvKernel::new`), so both
                // runs of cout_g values lie inside the lengths asserted
                // above; the caller compiled this for L's instruction set.
                unsafe {
                    axpy::<L>(
                        acc.as_mut_ptr()
                            .add(position as usize * g.out_c + group_offset),
                        value,
                        self.weight.as_ptr().add(weights + tap as usize * cout_g),
                        cout_g,
                    )
                }
            }
        }
    }
}

/// One group's direct convolution into a channels-last `[position, cout_g]`
/// accumulator; `weight` is `[row, cout_g]`, a window element is at
/// `rows[row] + position_offsets[p]` in the padded group input.
struct DirectConv<'a> {
    positions: usize,
    cout_g: usize,
    rows: &'a [u32],
    position_offsets: &'a [u32],
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
        self.body::<Scalar16>(x, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, x: &[f32], acc: &mut [f32]) {
        self.body::<Zmm>(x, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, x: &[f32], acc: &mut [f32]) {
        self.body::<Ymm2>(x, acc)
    }

    #[inline(always)]
    fn body<L: F32x16>(&self, x: &[f32], acc: &mut [f32]) {
        let mut p = 0;
        while p + 4 <= self.positions {
            self.block::<L, 4>(p, x, acc);
            p += 4;
        }
        while p < self.positions {
            self.block::<L, 1>(p, x, acc);
            p += 1;
        }
    }

    /// Positions `p0..p0 + P`, all output channels, 16 at a time; each sum
    /// runs over the rows in order.
    #[inline(always)]
    fn block<L: F32x16, const P: usize>(&self, p0: usize, x: &[f32], acc: &mut [f32]) {
        let bases: [usize; P] = std::array::from_fn(|j| self.position_offsets[p0 + j] as usize);
        let last = bases[P - 1] + *self.rows.last().unwrap_or(&0) as usize;
        assert!(last < x.len() || self.rows.is_empty());
        assert!(self.weight.len() >= self.rows.len() * self.cout_g);
        assert!(acc.len() >= (p0 + P) * self.cout_g && self.cout_g.is_multiple_of(16));
        for ob in (0..self.cout_g).step_by(16) {
            // SAFETY: the rows' offsets grow, so every window element is at
            // most `last` (asserted inside x); weight rows and the
            // accumulator's blocks are inside the sizes asserted above; the
            // caller compiled this for L's instruction set.
            unsafe {
                let mut sums = [L::splat(0.0); P];
                for (row, &offset) in self.rows.iter().enumerate() {
                    let w = L::load(self.weight.as_ptr().add(row * self.cout_g + ob));
                    for j in 0..P {
                        let v = L::splat(*x.get_unchecked(bases[j] + offset as usize));
                        sums[j] = sums[j].add_mul(v, w);
                    }
                }
                for (j, sum) in sums.iter().enumerate() {
                    sum.store(acc.as_mut_ptr().add((p0 + j) * self.cout_g + ob));
                }
            }
        }
    }
}
