//! Pooling: average and max over NCHW samples, average pooling of sparse
//! spike maps by scattering their events, and the running max of the
//! spiking max-pool.

use super::Active;
use crate::layer::PoolWindow;

/// For a non-overlapping, unpadded pool (kernel == stride, floor mode): the
/// output cell of each input position (`u32::MAX` for the cut-off border),
/// so a sparse spike map can be pooled by scattering its events.
pub(crate) fn pool_targets(
    input_shape: &[usize],
    output_shape: &[usize],
    window: PoolWindow,
) -> Option<Vec<u32>> {
    let PoolWindow {
        kernel,
        stride,
        padding,
    } = window;
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
pub(crate) fn pool(
    input_shape: &[usize],
    output_shape: &[usize],
    window: PoolWindow,
    average: bool,
    count_include_pad: bool,
    input: &[f32],
    out: &mut [f32],
) {
    let PoolWindow {
        kernel,
        stride,
        padding,
    } = window;
    let (h, w) = (input_shape[1], input_shape[2]);
    let (oh, ow) = (output_shape[1], output_shape[2]);
    // NCHW: every sample's channels are planes one after the other.
    let planes = input.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow));
    if padding == [0; 4] {
        // Without padding every window lies inside the input (floor mode).
        let divisor = 1.0 / (kernel[0] * kernel[1]) as f32;
        for (plane, y) in planes {
            for oy in 0..oh {
                for ox in 0..ow {
                    let start = oy * stride[0] * w + ox * stride[1];
                    let (sum, best) = sum_and_max(plane, w, start, kernel[0], kernel[1]);
                    y[oy * ow + ox] = if average { sum * divisor } else { best };
                }
            }
        }
        return;
    }
    // With padding: each window's part inside the input, clipped once per
    // row and column instead of tested per element (the same elements in the
    // same order as a per-element test, so the same bits).
    let clip = |o: usize, k: usize, s: usize, pad: usize, len: usize| {
        let start = (o * s) as isize - pad as isize;
        let lo = (-start).clamp(0, k as isize) as usize;
        let hi = (len as isize - start).clamp(lo as isize, k as isize) as usize;
        ((start + lo as isize) as usize, hi - lo)
    };
    for (plane, y) in planes {
        for oy in 0..oh {
            let (iy, rows) = clip(oy, kernel[0], stride[0], padding[0], h);
            for ox in 0..ow {
                let (ix, cols) = clip(ox, kernel[1], stride[1], padding[1], w);
                let (sum, best) = sum_and_max(plane, w, iy * w + ix, rows, cols);
                let count = rows * cols;
                let divisor = if count_include_pad {
                    kernel[0] * kernel[1]
                } else {
                    count.max(1)
                };
                y[oy * ow + ox] = if average {
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

/// The sum and the max of the `rows` x `cols` window starting at `start` of
/// a plane `w` wide, row by row.
#[inline(always)]
fn sum_and_max(plane: &[f32], w: usize, start: usize, rows: usize, cols: usize) -> (f32, f32) {
    let mut sum = 0.0f32;
    let mut best = f32::NEG_INFINITY;
    for r in 0..rows {
        let row = start + r * w;
        for &v in &plane[row..row + cols] {
            sum += v;
            best = best.max(v);
        }
    }
    (sum, best)
}

/// One step of the spiking max-pool over a batch: every input's total grows
/// by this step's value (`totals`), each window takes its largest total, and
/// the output is that maximum's increase since the last step (`last` keeps
/// the previous maxima, starting at 0). So the output total after any step is
/// the max of the inputs' totals: the max of their rates, emitted as the
/// leader's spikes (Rueckauer et al. 2017 gate the currently fastest input;
/// here a change of leader neither loses nor repeats spikes). `active`, when
/// it lists this step's non-zero inputs, limits the update to them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn running_max(
    input_shape: &[usize],
    output_shape: &[usize],
    window: PoolWindow,
    input: &[f32],
    active: Option<&Active>,
    totals: &mut [f32],
    last: &mut [f32],
    out: &mut [f32],
) {
    let in_size: usize = input_shape.iter().product();
    let out_size: usize = output_shape.iter().product();
    match active {
        Some(active) => {
            let mut growing = true;
            for sample in 0..active.starts.len() - 1 {
                let x = &input[sample * in_size..];
                let t = &mut totals[sample * in_size..];
                for &i in &active.indices[active.starts[sample]..active.starts[sample + 1]] {
                    t[i as usize] += x[i as usize];
                    growing &= x[i as usize] >= 0.0;
                }
            }
            if growing {
                // No total went down: a window's max is its last max or one
                // of the totals that grew, so only the windows around this
                // step's events change (the same maxima as pooling all).
                let samples = active.starts.len() - 1;
                out[..samples * out_size].copy_from_slice(&last[..samples * out_size]);
                let windows = WindowsOf::new(input_shape, output_shape, window);
                for sample in 0..samples {
                    let t = &totals[sample * in_size..(sample + 1) * in_size];
                    let o = &mut out[sample * out_size..(sample + 1) * out_size];
                    let events = &active.indices[active.starts[sample]..active.starts[sample + 1]];
                    windows.raise(events, t, o);
                }
                emit_increase(&mut out[..samples * out_size], last);
                return;
            }
        }
        None => {
            for (t, &x) in totals.iter_mut().zip(input) {
                *t += x;
            }
        }
    }
    pool(input_shape, output_shape, window, false, false, totals, out);
    emit_increase(out, last);
}

/// `out` holds this step's maxima: it becomes their increase since `last`,
/// which takes the maxima.
fn emit_increase(out: &mut [f32], last: &mut [f32]) {
    for (o, l) in out.iter_mut().zip(last.iter_mut()) {
        let max = *o;
        *o = max - *l;
        *l = max;
    }
}

/// The output windows around each position of an input plane, for the
/// event path of `running_max`: rows `ys[p].0..ys[p].1` and columns
/// `xs[p]` (no division per event).
struct WindowsOf {
    plane: usize,
    out_plane: usize,
    out_w: usize,
    /// Per input position: output rows and columns (start, end).
    ranges: Vec<[u16; 4]>,
}

impl WindowsOf {
    fn new(input_shape: &[usize], output_shape: &[usize], window: PoolWindow) -> WindowsOf {
        let (h, w) = (input_shape[1], input_shape[2]);
        let (oh, ow) = (output_shape[1], output_shape[2]);
        // Windows o with o * stride - pad <= i < o * stride - pad + kernel.
        let range = |i: usize, axis: usize, len: usize| {
            let (k, s) = (window.kernel[axis], window.stride[axis]);
            let pad = window.padding[axis];
            let lo = (i + pad + 1).saturating_sub(k).div_ceil(s).min(len);
            let hi = ((i + pad) / s + 1).clamp(lo, len);
            (lo as u16, hi as u16)
        };
        let columns: Vec<(u16, u16)> = (0..w).map(|ix| range(ix, 1, ow)).collect();
        let mut ranges = Vec::with_capacity(h * w);
        for iy in 0..h {
            let (y0, y1) = range(iy, 0, oh);
            for &(x0, x1) in &columns {
                ranges.push([y0, y1, x0, x1]);
            }
        }
        WindowsOf {
            plane: h * w,
            out_plane: oh * ow,
            out_w: ow,
            ranges,
        }
    }

    /// Raises the max of every window holding an event (indices of one
    /// sample, NCHW, ascending as event lists are) to at least its total.
    fn raise(&self, events: &[u32], totals: &[f32], out: &mut [f32]) {
        let (mut channel, mut channel_end) = (0, self.plane);
        for &i in events {
            let i = i as usize;
            if i + self.plane < channel_end {
                // Not ascending (event lists are, as `push_nonzero` makes them).
                channel = i / self.plane;
                channel_end = (channel + 1) * self.plane;
            }
            while i >= channel_end {
                channel += 1;
                channel_end += self.plane;
            }
            let value = totals[i];
            let [y0, y1, x0, x1] = self.ranges[i + self.plane - channel_end];
            let out_channel = &mut out[channel * self.out_plane..][..self.out_plane];
            for oy in y0 as usize..y1 as usize {
                let row = &mut out_channel[oy * self.out_w..][..self.out_w];
                for o in &mut row[x0 as usize..x1 as usize] {
                    *o = o.max(value);
                }
            }
        }
    }
}
