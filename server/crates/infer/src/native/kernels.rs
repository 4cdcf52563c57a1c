//! The native engine's kernels on flat f32 buffers, all shapes fixed when the
//! plan is compiled. Booleans are held as 0.0 / 1.0.

pub(crate) use super::act::{Act, clip};
use super::pointwise::Pointwise;
use super::simd::{Aligned, ConvArgs, DenseArgs, Isa, PANEL, isa, panel_index};
use super::winograd::Winograd;

/// `Y[m, n] = act(A[m, k] · B[k, n] + bias[n])`, B constant and packed.
#[derive(Debug)]
pub(crate) struct Dense {
    pub k: usize,
    pub n: usize,
    panels: Aligned,
    bias: Vec<f32>,
    pub act: Act,
}

impl Dense {
    /// `weight(kk, j)` is `B[kk][j]`.
    pub fn new(k: usize, n: usize, weight: impl Fn(usize, usize) -> f32) -> Dense {
        let blocks = n.div_ceil(16);
        let mut panels = Aligned::zeroed(blocks * k * 16);
        for b in 0..blocks {
            for kk in 0..k {
                for l in 0..16.min(n - b * 16) {
                    panels[(b * k + kk) * 16 + l] = weight(kk, b * 16 + l);
                }
            }
        }
        Dense {
            k,
            n,
            panels,
            bias: vec![0.0; blocks * 16],
            act: Act::None,
        }
    }

    /// Adds `bias(j)` to output column `j`.
    pub fn add_bias(&mut self, bias: impl Fn(usize) -> f32) {
        for j in 0..self.n {
            self.bias[j] += bias(j);
        }
    }

    pub fn run(&self, a: &[f32], m: usize, out: &mut [f32]) {
        self.run_on(isa(), a, m, out)
    }

    /// With the kernel compiled for `isa` (tests run every path the CPU has).
    pub fn run_on(&self, isa: Isa, a: &[f32], m: usize, out: &mut [f32]) {
        DenseArgs {
            k: self.k,
            n: self.n,
            panels: &self.panels,
            bias: &self.bias,
            act: self.act,
        }
        .run(isa, a, m, out)
    }
}

/// Geometry of a 2-D convolution (1-D ones have `h = kh = 1`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvGeometry {
    pub in_c: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_c: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    /// Padding at the top, left, bottom, right.
    pub pads: [usize; 4],
    pub groups: usize,
}

/// A direct convolution: the sample is copied into a zero-bordered buffer
/// (when padded), then every output position reads its receptive field at
/// `row_off[row] + pos_off[position]` and accumulates 16 output channels
/// at a time (`simd::ConvArgs`). No im2col matrix, no packing per call.
#[derive(Debug)]
pub(crate) struct Conv {
    pub g: ConvGeometry,
    padded_h: usize,
    padded_w: usize,
    cout_pad: usize,
    /// Per group `rows * cout_pad` values in panels (`simd::panel_index`).
    weight: Aligned,
    pub bias: Vec<f32>,
    row_off: Vec<u32>,
    pos_off: Vec<u32>,
    pub act: Act,
    /// The form that runs instead of the direct kernel, where one pays.
    faster: Option<Faster>,
}

/// The forms of a convolution besides the direct kernel (each a matrix
/// product with the positions in the vector lanes, `product::Product`).
#[derive(Debug)]
enum Faster {
    /// 3x3 stride-1 layers.
    Winograd(Winograd),
    /// 1x1 layers.
    Pointwise(Pointwise),
}

/// Which form runs a convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Form {
    Direct,
    Winograd,
    Pointwise,
}

impl Form {
    /// The fastest form for `g` (each form's `pays` says where it beats
    /// the direct kernel). `NEURIDE_NO_WINOGRAD=1` and
    /// `NEURIDE_NO_POINTWISE=1` turn a form off, for side-by-side runs.
    pub fn best(g: &ConvGeometry) -> Form {
        let off = |var: &str| std::env::var_os(var).is_some();
        if Form::Winograd.applies(g) && Winograd::pays(g) && !off("NEURIDE_NO_WINOGRAD") {
            Form::Winograd
        } else if Form::Pointwise.applies(g) && Pointwise::pays(g) && !off("NEURIDE_NO_POINTWISE") {
            Form::Pointwise
        } else {
            Form::Direct
        }
    }

    /// Whether this form computes `g` at all.
    pub fn applies(self, g: &ConvGeometry) -> bool {
        match self {
            Form::Direct => true,
            Form::Winograd => Winograd::applies(g),
            Form::Pointwise => Pointwise::applies(g),
        }
    }
}

impl Conv {
    /// `weight` is ONNX's `[out_c, in_c / groups, kh, kw]`.
    pub fn new(g: ConvGeometry, weight: &[f32], bias: Option<&[f32]>) -> Conv {
        Conv::in_form(g, weight, bias, Form::best(&g))
    }

    /// In `form`, which must apply to `g`.
    pub fn in_form(g: ConvGeometry, weight: &[f32], bias: Option<&[f32]>, form: Form) -> Conv {
        assert!(form.applies(&g), "{form:?} does not compute {g:?}");
        let cin_g = g.in_c / g.groups;
        let cout_g = g.out_c / g.groups;
        let cout_pad = cout_g.div_ceil(16) * 16;
        let rows = cin_g * g.kh * g.kw;
        let faster = match form {
            Form::Direct => None,
            Form::Winograd => Some(Faster::Winograd(Winograd::new(g, weight))),
            Form::Pointwise => Some(Faster::Pointwise(Pointwise::new(g, weight))),
        };
        // The direct form's weights only when it runs (VGG-19's would be
        // 80 MB beside Winograd's).
        let direct_rows = if faster.is_some() { 0 } else { rows };
        let mut packed = Aligned::zeroed(g.groups * direct_rows * cout_pad);
        // A band of rows at a time, so the strided writes stay in cache.
        for row0 in (0..direct_rows).step_by(64) {
            let band = row0..(row0 + 64).min(rows);
            for o in 0..g.out_c {
                let (group, local) = (o / cout_g, o % cout_g);
                let panel = &mut packed[group * rows * cout_pad..];
                for row in band.clone() {
                    panel[panel_index(rows, cout_pad, row, local)] = weight[o * rows + row];
                }
            }
        }
        let padded_h = g.in_h + g.pads[0] + g.pads[2];
        let padded_w = g.in_w + g.pads[1] + g.pads[3];
        let mut row_off = Vec::with_capacity(rows);
        for c in 0..cin_g {
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    row_off.push(((c * padded_h + ky * g.dh) * padded_w + kx * g.dw) as u32);
                }
            }
        }
        let mut pos_off = Vec::with_capacity(g.out_h * g.out_w);
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                pos_off.push((oy * g.sh * padded_w + ox * g.sw) as u32);
            }
        }
        Conv {
            g,
            padded_h,
            padded_w,
            cout_pad,
            weight: packed,
            bias: bias.map_or_else(|| vec![0.0; g.out_c], <[f32]>::to_vec),
            row_off,
            pos_off,
            act: Act::None,
            faster,
        }
    }

    fn is_padded(&self) -> bool {
        self.g.pads.iter().any(|&p| p > 0)
    }

    /// Scratch values the run needs (the padded sample).
    pub fn scratch_len(&self) -> usize {
        if let Some(Faster::Winograd(w)) = &self.faster {
            w.scratch_len()
        } else if let Some(Faster::Pointwise(p)) = &self.faster {
            p.scratch_len()
        } else if self.is_padded() {
            self.g.in_c * self.padded_h * self.padded_w
        } else {
            0
        }
    }

    /// Folds a per-channel affine map `y = a * conv + b` into the weights.
    pub fn fold_affine(&mut self, a: &[f32], b: &[f32]) {
        let cout_g = self.g.out_c / self.g.groups;
        let rows = self.row_off.len();
        // In the packed order: each value is scaled by its channel's `a`.
        let group_len = rows * self.cout_pad;
        for (group, weights) in self.weight.chunks_mut(group_len.max(1)).enumerate() {
            for (panel, values) in weights.chunks_mut(PANEL * rows.max(1)).enumerate() {
                let width = values.len() / rows.max(1);
                let first = group * cout_g + panel * PANEL;
                let scale: Vec<f32> = (0..width)
                    .map(|j| {
                        if panel * PANEL + j < cout_g {
                            a[first + j]
                        } else {
                            0.0
                        }
                    })
                    .collect();
                for row in values.chunks_mut(width.max(1)) {
                    for (v, s) in row.iter_mut().zip(&scale) {
                        *v *= s;
                    }
                }
            }
        }
        match &mut self.faster {
            Some(Faster::Winograd(w)) => w.scale(a),
            Some(Faster::Pointwise(p)) => p.scale(a),
            None => {}
        }
        for o in 0..self.g.out_c {
            self.bias[o] = self.bias[o] * a[o] + b[o];
        }
    }

    /// `out = act(conv(x) + bias + sum)`, `sum` (when given) of `out`'s shape.
    pub fn run(
        &self,
        x: &[f32],
        sum: Option<&[f32]>,
        batch: usize,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        self.run_on(isa(), x, sum, batch, out, scratch)
    }

    /// With the kernel compiled for `isa` (tests run every path the CPU has).
    pub fn run_on(
        &self,
        isa: Isa,
        x: &[f32],
        sum: Option<&[f32]>,
        batch: usize,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        let g = &self.g;
        let (cin_g, cout_g) = (g.in_c / g.groups, g.out_c / g.groups);
        let plane = g.in_h * g.in_w;
        let padded_plane = self.padded_h * self.padded_w;
        let positions = g.out_h * g.out_w;
        let (in_size, out_size) = (g.in_c * plane, g.out_c * positions);
        let rows = self.row_off.len();
        if let Some(faster) = &self.faster {
            for n in 0..batch {
                let at = n * out_size;
                let x = &x[n * in_size..(n + 1) * in_size];
                let sum = sum.map(|s| &s[at..at + out_size]);
                let out = &mut out[at..at + out_size];
                match faster {
                    Faster::Winograd(w) => w.run(isa, x, &self.bias, sum, self.act, out, scratch),
                    Faster::Pointwise(p) => p.run(isa, x, &self.bias, sum, self.act, out, scratch),
                }
            }
            return;
        }
        let padded = self.is_padded();
        let scratch = &mut scratch[..self.scratch_len()];
        if padded {
            // Borders stay zero across samples: only the interior is rewritten.
            scratch.fill(0.0);
        }
        for n in 0..batch {
            let sample = &x[n * in_size..(n + 1) * in_size];
            let source: &[f32] = if padded {
                for c in 0..g.in_c {
                    for y in 0..g.in_h {
                        let dst = (c * self.padded_h + y + g.pads[0]) * self.padded_w + g.pads[1];
                        scratch[dst..dst + g.in_w]
                            .copy_from_slice(&sample[c * plane + y * g.in_w..][..g.in_w]);
                    }
                }
                &scratch[..g.in_c * padded_plane]
            } else {
                sample
            };
            for group in 0..g.groups {
                let at = n * out_size + group * cout_g * positions;
                let y = &mut out[at..][..cout_g * positions];
                ConvArgs {
                    row_off: &self.row_off,
                    pos_off: &self.pos_off,
                    weight: &self.weight
                        [group * rows * self.cout_pad..(group + 1) * rows * self.cout_pad],
                    cout: cout_g,
                    cout_pad: self.cout_pad,
                    bias: &self.bias[group * cout_g..(group + 1) * cout_g],
                    act: self.act,
                    sum: sum.map(|s| &s[at..][..cout_g * positions]),
                }
                .run(
                    isa,
                    &source[group * cin_g * padded_plane..(group + 1) * cin_g * padded_plane],
                    y,
                );
            }
        }
    }
}

/// Max or average pooling over 2-D windows (1-D ones have height 1).
#[derive(Debug)]
pub(crate) struct Pool {
    pub max: bool,
    /// Batch * channels.
    pub planes: usize,
    pub in_h: usize,
    pub in_w: usize,
    /// Per output position: rows `y0..y1`, columns `x0..x1` (clipped to the
    /// input) and the divisor of an average.
    pub windows: Vec<(u32, u32, u32, u32, f32)>,
    /// Set when no window is clipped (no padding reached): every window is
    /// the full kernel, walked without the per-window table.
    pub regular: Option<Regular>,
    /// The output columns whose windows are whole (every output row has
    /// the same columns).
    pub interior: Interior,
}

/// Output columns `lo..hi` of a row of `out_w` have whole windows of `kw`
/// columns, column `ox`'s starting at `x0 + (ox - lo) * sw`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Interior {
    pub out_w: usize,
    pub lo: usize,
    pub hi: usize,
    pub x0: usize,
    pub kw: usize,
    pub sw: usize,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Regular {
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub out_h: usize,
    pub out_w: usize,
}

impl Pool {
    pub fn run(&self, x: &[f32], out: &mut [f32]) {
        if let Some(regular) = self.regular {
            return self.run_regular(regular, x, out);
        }
        let plane = self.in_h * self.in_w;
        let positions = self.windows.len();
        if self.max {
            return self.max_by_rows(x, out);
        }
        for c in 0..self.planes {
            let src = &x[c * plane..(c + 1) * plane];
            let dst = &mut out[c * positions..(c + 1) * positions];
            for (o, &(y0, y1, x0, x1, divisor)) in dst.iter_mut().zip(&self.windows) {
                let (x0, x1) = (x0 as usize, x1 as usize);
                let mut s = 0.0;
                for y in y0 as usize..y1 as usize {
                    for &v in &src[y * self.in_w + x0..y * self.in_w + x1] {
                        s += v;
                    }
                }
                *o = s / divisor;
            }
        }
    }
}

impl Pool {
    /// Max pooling in two passes per run of windows over the same input
    /// rows (an output row): the column maxima over those rows, for the
    /// whole input width at once, then each window's maximum of its
    /// columns. The same values as window by window (a maximum does not
    /// depend on the order; NaN wins either way), in a third of the
    /// comparisons for 3x3 windows at stride 2.
    fn max_by_rows(&self, x: &[f32], out: &mut [f32]) {
        match isa() {
            // SAFETY: the CPU has the features (isa()).
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { self.max_by_rows_avx512(x, out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { self.max_by_rows_avx2(x, out) },
            _ => self.max_by_rows_on(x, out),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn max_by_rows_avx512(&self, x: &[f32], out: &mut [f32]) {
        self.max_by_rows_on(x, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn max_by_rows_avx2(&self, x: &[f32], out: &mut [f32]) {
        self.max_by_rows_on(x, out)
    }

    /// Compiled for the instruction set of its caller.
    #[inline(always)]
    fn max_by_rows_on(&self, x: &[f32], out: &mut [f32]) {
        let (in_w, plane) = (self.in_w, self.in_h * self.in_w);
        let positions = self.windows.len();
        let mut columns = vec![f32::NEG_INFINITY; in_w];
        for c in 0..self.planes {
            let src = &x[c * plane..(c + 1) * plane];
            let dst = &mut out[c * positions..(c + 1) * positions];
            let mut first = 0;
            while first < positions {
                let (y0, y1) = (self.windows[first].0, self.windows[first].1);
                let same = |w: &(u32, u32, u32, u32, f32)| (w.0, w.1) == (y0, y1);
                // Usually one output row: checked at its ends, not window by window.
                let row_end = first + self.interior.out_w;
                let end = if row_end <= positions
                    && same(&self.windows[row_end - 1])
                    && self.windows.get(row_end).is_none_or(|w| !same(w))
                {
                    row_end
                } else {
                    first + self.windows[first..].iter().take_while(|w| same(w)).count()
                };
                let row = |y: u32| &src[y as usize * in_w..][..in_w];
                match y1 - y0 {
                    0 => columns.fill(f32::NEG_INFINITY),
                    // The common heights in one pass.
                    2 => {
                        for ((m, &a), &b) in columns.iter_mut().zip(row(y0)).zip(row(y0 + 1)) {
                            *m = nan_max(a, b);
                        }
                    }
                    3 => {
                        let rows = row(y0).iter().zip(row(y0 + 1)).zip(row(y0 + 2));
                        for (m, ((&a, &b), &c)) in columns.iter_mut().zip(rows) {
                            *m = nan_max(nan_max(a, b), c);
                        }
                    }
                    _ => {
                        columns.copy_from_slice(row(y0));
                        for y in y0 + 1..y1 {
                            for (m, &v) in columns.iter_mut().zip(row(y)) {
                                *m = nan_max(*m, v);
                            }
                        }
                    }
                }
                let run = &mut dst[first..end];
                // A whole row's whole windows in one loop, the rest (or all,
                // for other widths and strides) window by window.
                let inner = self.interior;
                let fast = end - first == inner.out_w
                    && inner.lo < inner.hi
                    && matches!((inner.kw, inner.sw), (3, 2) | (2, 2) | (3, 1));
                if fast {
                    let (from, whole) = (&columns[inner.x0..], &mut run[inner.lo..inner.hi]);
                    match (inner.kw, inner.sw) {
                        (3, 2) => interior_max::<3, 2>(from, whole),
                        (2, 2) => interior_max::<2, 2>(from, whole),
                        _ => interior_max::<3, 1>(from, whole),
                    }
                }
                let (lo, hi) = if fast { (inner.lo, inner.hi) } else { (0, 0) };
                let windows = &self.windows[first..end];
                for i in (0..lo).chain(hi..run.len()) {
                    let (_, _, x0, x1, _) = windows[i];
                    let window = &columns[x0 as usize..x1 as usize];
                    run[i] = window.iter().fold(f32::NEG_INFINITY, |m, &v| nan_max(m, v));
                }
                first = end;
            }
        }
    }

    fn run_regular(&self, r: Regular, x: &[f32], out: &mut [f32]) {
        match (r.kh, r.kw) {
            (2, 2) => self.regular_windows::<2, 2>(r, x, out),
            (3, 3) => self.regular_windows::<3, 3>(r, x, out),
            _ => self.regular_windows::<0, 0>(r, x, out),
        }
    }

    /// Full windows of `KH x KW` (0: the run-time `r.kh x r.kw`), the sum
    /// in row-major order. An average divides by the area, or multiplies by
    /// its inverse when that is exact (a power of two), which is the same value.
    #[inline(always)]
    fn regular_windows<const KH: usize, const KW: usize>(
        &self,
        r: Regular,
        x: &[f32],
        out: &mut [f32],
    ) {
        let (kh, kw) = if KH == 0 { (r.kh, r.kw) } else { (KH, KW) };
        let plane = self.in_h * self.in_w;
        let positions = r.out_h * r.out_w;
        let area = (kh * kw) as f32;
        let exact_inverse = (kh * kw).is_power_of_two();
        let inverse = 1.0 / area;
        for c in 0..self.planes {
            let src = &x[c * plane..(c + 1) * plane];
            let dst = &mut out[c * positions..(c + 1) * positions];
            for oy in 0..r.out_h {
                let row = &mut dst[oy * r.out_w..(oy + 1) * r.out_w];
                for (ox, o) in row.iter_mut().enumerate() {
                    let at = oy * r.sh * self.in_w + ox * r.sw;
                    let window = &src[at..at + (kh - 1) * self.in_w + kw];
                    if self.max {
                        let mut m = f32::NEG_INFINITY;
                        for ky in 0..kh {
                            for &v in &window[ky * self.in_w..ky * self.in_w + kw] {
                                m = nan_max(m, v);
                            }
                        }
                        *o = m;
                    } else {
                        let mut sum = 0.0;
                        for ky in 0..kh {
                            for &v in &window[ky * self.in_w..ky * self.in_w + kw] {
                                sum += v;
                            }
                        }
                        *o = if exact_inverse {
                            sum * inverse
                        } else {
                            sum / area
                        };
                    }
                }
            }
        }
    }
}

/// `out[i]` = the maximum of `columns[i * SW..i * SW + KW]`: the whole
/// windows of a row, in a loop the compiler vectorises (window by window
/// through the table, ResNet-50's max pool took 1.1 ms; onnxruntime 0.2).
#[inline(always)]
fn interior_max<const KW: usize, const SW: usize>(columns: &[f32], out: &mut [f32]) {
    let Some(last) = out.len().checked_sub(1) else {
        return;
    };
    let columns = &columns[..last * SW + KW];
    for (i, o) in out.iter_mut().enumerate() {
        // SAFETY: `i * SW + KW <= last * SW + KW`, the slice's length.
        let w = unsafe { columns.get_unchecked(i * SW..i * SW + KW) };
        let mut m = w[0];
        for &v in &w[1..] {
            m = nan_max(m, v);
        }
        *o = m;
    }
}

/// The larger of `m` and `v`, or NaN when either is (ONNX's Max).
#[inline(always)]
fn nan_max(m: f32, v: f32) -> f32 {
    if v > m || v.is_nan() { v } else { m }
}

/// Local response normalization across channels (ONNX LRN):
/// `y = x / (bias + alpha / size * sum of x^2 over the channels
/// c - (size - 1) / 2 ..= c + ceil((size - 1) / 2))^beta`, in f32 as
/// onnxruntime computes it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lrn {
    pub batch: usize,
    pub channels: usize,
    /// Values per channel.
    pub inner: usize,
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub bias: f32,
}

impl Lrn {
    pub fn run(&self, x: &[f32], out: &mut [f32]) {
        let (c, inner) = (self.channels, self.inner);
        let (below, above) = ((self.size - 1) / 2, (self.size - 1).div_ceil(2));
        let scale = self.alpha / self.size as f32;
        let mut squares = vec![0.0f32; inner];
        for n in 0..self.batch {
            let xs = &x[n * c * inner..(n + 1) * c * inner];
            let ys = &mut out[n * c * inner..(n + 1) * c * inner];
            for ch in 0..c {
                squares.fill(0.0);
                for j in ch.saturating_sub(below)..(ch + above + 1).min(c) {
                    for (s, &v) in squares.iter_mut().zip(&xs[j * inner..(j + 1) * inner]) {
                        *s += v * v;
                    }
                }
                let (src, dst) = (
                    &xs[ch * inner..(ch + 1) * inner],
                    &mut ys[ch * inner..(ch + 1) * inner],
                );
                for ((y, &v), &s) in dst.iter_mut().zip(src).zip(&squares) {
                    *y = v / (self.bias + scale * s).powf(self.beta);
                }
            }
        }
    }
}

/// Strides of a row-major shape.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// An element-wise loop over an output shape with, per operand, a stride
/// per dimension (0 where the operand is broadcast). Adjacent dimensions
/// that broadcast alike are merged when built, so the common cases (same
/// shapes, a scalar, a per-channel vector) are one or two flat loops.
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    pub shape: Vec<usize>,
    pub strides: Vec<Vec<usize>>,
}

impl Walk {
    /// For operands of `shapes` broadcast to `out` (numpy rules, already checked).
    pub fn new(out: &[usize], shapes: &[&[usize]]) -> Walk {
        let rank = out.len();
        let per = shapes
            .iter()
            .map(|shape| {
                let own = strides(shape);
                let lead = rank - shape.len();
                (0..rank)
                    .map(|d| {
                        if d < lead || shape[d - lead] == 1 {
                            0
                        } else {
                            own[d - lead]
                        }
                    })
                    .collect()
            })
            .collect();
        Walk::strided(out, per)
    }

    /// For operands read at the given strides per output dimension. Size-1
    /// dimensions are dropped and neighbours each operand walks alike merged.
    pub fn strided(out: &[usize], per: Vec<Vec<usize>>) -> Walk {
        let mut merged: Vec<(usize, Vec<usize>)> = Vec::new();
        for (d, &len) in out.iter().enumerate() {
            if len == 1 {
                continue;
            }
            let inner: Vec<usize> = per.iter().map(|s| s[d]).collect();
            if let Some((outer_len, outer)) = merged.last_mut()
                && outer.iter().zip(&inner).all(|(&o, &i)| o == i * len)
            {
                *outer_len *= len;
                *outer = inner;
                continue;
            }
            merged.push((len, inner));
        }
        if merged.is_empty() {
            merged.push((1, vec![0; per.len()]));
        }
        let shape = merged.iter().map(|m| m.0).collect();
        let strides = (0..per.len())
            .map(|i| merged.iter().map(|m| m.1[i]).collect())
            .collect();
        Walk { shape, strides }
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Calls `row(offsets, inner_strides, inner_len, out_offset)` for every
    /// run of the innermost dimension.
    #[inline(always)]
    fn rows<const N: usize>(&self, mut row: impl FnMut([usize; N], [usize; N], usize, usize)) {
        let rank = self.shape.len();
        let inner = self.shape[rank - 1];
        let inner_strides: [usize; N] = std::array::from_fn(|i| self.strides[i][rank - 1]);
        let total = self.len();
        if total == 0 {
            return;
        }
        let mut index = vec![0usize; rank];
        let mut offsets = [0usize; N];
        let mut out = 0;
        loop {
            row(offsets, inner_strides, inner, out);
            out += inner;
            if out >= total {
                return;
            }
            let mut d = rank - 1;
            loop {
                d -= 1;
                index[d] += 1;
                for (i, o) in offsets.iter_mut().enumerate() {
                    *o += self.strides[i][d];
                }
                if index[d] < self.shape[d] {
                    break;
                }
                for (i, o) in offsets.iter_mut().enumerate() {
                    *o -= self.strides[i][d] * self.shape[d];
                }
                index[d] = 0;
            }
        }
    }

    pub fn binary(&self, a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
        self.rows::<2>(|[oa, ob], [sa, sb], n, o| {
            let dst = &mut out[o..o + n];
            match (sa, sb) {
                (1, 1) => {
                    for ((d, &x), &y) in dst.iter_mut().zip(&a[oa..oa + n]).zip(&b[ob..ob + n]) {
                        *d = f(x, y);
                    }
                }
                (0, 1) => {
                    let x = a[oa];
                    for (d, &y) in dst.iter_mut().zip(&b[ob..ob + n]) {
                        *d = f(x, y);
                    }
                }
                (1, 0) => {
                    let y = b[ob];
                    for (d, &x) in dst.iter_mut().zip(&a[oa..oa + n]) {
                        *d = f(x, y);
                    }
                }
                _ => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = f(a[oa + i * sa], b[ob + i * sb]);
                    }
                }
            }
        });
    }

    pub fn ternary(
        &self,
        a: &[f32],
        b: &[f32],
        c: &[f32],
        out: &mut [f32],
        f: impl Fn(f32, f32, f32) -> f32,
    ) {
        self.rows::<3>(|[oa, ob, oc], [sa, sb, sc], n, o| {
            for (i, d) in out[o..o + n].iter_mut().enumerate() {
                *d = f(a[oa + i * sa], b[ob + i * sb], c[oc + i * sc]);
            }
        });
    }

    /// A strided copy (transpose, slice, expand): `out[i] = x[offset(i)]`.
    pub fn copy(&self, base: usize, x: &[f32], out: &mut [f32]) {
        self.rows::<1>(|[ox], [sx], n, o| {
            let dst = &mut out[o..o + n];
            let start = base + ox;
            if sx == 1 {
                dst.copy_from_slice(&x[start..start + n]);
            } else {
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = x[start + i * sx];
                }
            }
        });
    }
}

/// Softmax or log-softmax over `len` values `inner` apart, for each of
/// `outer * inner` lines.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Softmax {
    pub outer: usize,
    pub len: usize,
    pub inner: usize,
    pub log: bool,
}

impl Softmax {
    pub fn run(&self, x: &[f32], out: &mut [f32]) {
        let Softmax {
            outer,
            len,
            inner,
            log,
        } = *self;
        for o in 0..outer {
            for i in 0..inner {
                let at = |j: usize| o * len * inner + j * inner + i;
                let mut max = f32::NEG_INFINITY;
                for j in 0..len {
                    max = max.max(x[at(j)]);
                }
                let mut sum = 0.0f32;
                for j in 0..len {
                    let e = (x[at(j)] - max).exp();
                    out[at(j)] = e;
                    sum += e;
                }
                if log {
                    let log_sum = sum.ln();
                    for j in 0..len {
                        out[at(j)] = x[at(j)] - max - log_sum;
                    }
                } else {
                    for j in 0..len {
                        out[at(j)] /= sum;
                    }
                }
            }
        }
    }
}

/// Batched matrix product of two runtime operands, numpy `matmul` rules
/// (batch dimensions broadcast; shapes resolved at compile time).
#[derive(Clone, Debug)]
pub(crate) struct MatMul {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// Per output matrix: offsets of the A and B matrices.
    pub pairs: Vec<(usize, usize)>,
}

impl MatMul {
    pub fn run(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        let (m, k, n) = (self.m, self.k, self.n);
        for (index, &(oa, ob)) in self.pairs.iter().enumerate() {
            let y = &mut out[index * m * n..(index + 1) * m * n];
            y.fill(0.0);
            for i in 0..m {
                let row = &mut y[i * n..(i + 1) * n];
                for kk in 0..k {
                    let x = a[oa + i * k + kk];
                    for (d, &w) in row.iter_mut().zip(&b[ob + kk * n..ob + (kk + 1) * n]) {
                        *d += x * w;
                    }
                }
            }
        }
    }
}

/// Copies blocks: for each `(from, to, len)`, `out[to..to + len] = x[from..from + len]`.
/// Gather on constant indices and one input of a Concat.
#[derive(Clone, Debug)]
pub(crate) struct Blocks(pub Vec<(usize, usize, usize)>);

impl Blocks {
    pub fn run(&self, x: &[f32], out: &mut [f32]) {
        for &(from, to, len) in &self.0 {
            out[to..to + len].copy_from_slice(&x[from..from + len]);
        }
    }
}

/// `y = x * scale[c] + shift[c]` per channel of `[N, C, inner]`
/// (inference-mode BatchNormalization not folded into a Conv).
#[derive(Clone, Debug)]
pub(crate) struct Affine {
    pub batch: usize,
    pub inner: usize,
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

impl Affine {
    pub fn run(&self, x: &[f32], out: &mut [f32]) {
        let channels = self.scale.len();
        for n in 0..self.batch {
            for c in 0..channels {
                let at = (n * channels + c) * self.inner;
                let (a, b) = (self.scale[c], self.shift[c]);
                for (o, &v) in out[at..at + self.inner]
                    .iter_mut()
                    .zip(&x[at..at + self.inner])
                {
                    *o = v * a + b;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy broadcasting the slow way: every output index mapped back.
    fn naive(out: &[usize], a: (&[usize], &[f32]), b: (&[usize], &[f32])) -> Vec<f32> {
        let total: usize = out.iter().product();
        let at = |shape: &[usize], index: &[usize]| -> usize {
            let lead = out.len() - shape.len();
            let s = strides(shape);
            (0..shape.len())
                .map(|d| {
                    if shape[d] == 1 {
                        0
                    } else {
                        index[lead + d] * s[d]
                    }
                })
                .sum()
        };
        let os = strides(out);
        (0..total)
            .map(|i| {
                let index: Vec<usize> = (0..out.len()).map(|d| i / os[d] % out[d]).collect();
                a.1[at(a.0, &index)] * 10.0 + b.1[at(b.0, &index)]
            })
            .collect()
    }

    #[test]
    fn broadcast_walks_match_numpy_rules() {
        let cases: &[(&[usize], &[usize], &[usize])] = &[
            (&[2, 3, 4], &[2, 3, 4], &[2, 3, 4]),
            (&[2, 3, 4], &[2, 3, 4], &[4]),
            (&[2, 3, 4], &[2, 1, 4], &[3, 1]),
            (&[2, 3, 4], &[], &[2, 3, 4]),
            (&[4, 64], &[1, 64], &[4, 1]),
            (&[2, 5, 3, 3], &[2, 5, 3, 3], &[1, 5, 1, 1]),
            (&[1, 1, 7], &[7], &[1, 1, 1]),
        ];
        for &(out, sa, sb) in cases {
            let a: Vec<f32> = (0..sa.iter().product::<usize>())
                .map(|i| i as f32)
                .collect();
            let b: Vec<f32> = (0..sb.iter().product::<usize>())
                .map(|i| i as f32)
                .collect();
            let walk = Walk::new(out, &[sa, sb]);
            let mut got = vec![0.0; out.iter().product()];
            walk.binary(&a, &b, &mut got, |x, y| x * 10.0 + y);
            assert_eq!(
                got,
                naive(out, (sa, &a), (sb, &b)),
                "{out:?} = {sa:?} op {sb:?}"
            );
        }
        // [2, 3, 4] + [4]: the leading dimensions merge into one.
        assert_eq!(Walk::new(&[2, 3, 4], &[&[2, 3, 4], &[4]]).shape, vec![6, 4]);
        assert_eq!(
            Walk::new(&[2, 3, 4], &[&[2, 3, 4], &[2, 3, 4]]).shape,
            vec![24]
        );
    }

    #[test]
    fn dense_matches_a_plain_product_on_every_instruction_set_path() {
        // Sizes around the tile edges: rows 1..9, columns 1..40.
        for (m, k, n) in [
            (1, 3, 1),
            (3, 5, 17),
            (9, 7, 40),
            (4, 64, 64),
            (8, 64, 10),
            (5, 2, 33),
        ] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 4.0)
                .collect();
            let w: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0)
                .collect();
            let mut dense = Dense::new(k, n, |kk, j| w[kk * n + j]);
            dense.add_bias(|j| j as f32 / 16.0);
            dense.act = Act::Relu;
            for isa in [Isa::Base, Isa::Avx2, Isa::Avx512] {
                if !super::super::simd::supports(isa) {
                    continue;
                }
                let mut out = vec![0.0; m * n];
                dense.run_on(isa, &a, m, &mut out);
                check_product(isa, (m, k, n), &a, &w, &out);
            }
        }
    }

    #[test]
    fn conv_matches_a_plain_sum_on_every_instruction_set_path() {
        // Output channels around the panel edges (16, 64 and 80 = a full
        // panel and a narrow one), positions around the tile widths (a 5x5
        // output is 4 tiles of 6 and one left over), groups, padding,
        // strides, dilation and a folded affine map.
        for (in_c, out_c, size, k, stride, dilation, pad, groups) in [
            (3, 5, 5, 3, 1, 1, 1, 1),
            (4, 16, 7, 1, 1, 1, 0, 1),
            (8, 64, 6, 3, 2, 1, 1, 1),
            (6, 80, 9, 3, 1, 2, 2, 1),
            (4, 130, 4, 2, 1, 1, 0, 1),
            (8, 24, 8, 3, 1, 1, 1, 4),
            (2, 3, 11, 5, 3, 1, 2, 1),
            // 1x1 at stride 1: 81 positions are 13 tiles of 6 and 3 left
            // (directly), or 5 vectors of 16 and 1 left (pointwise); at
            // stride 2, 25 gathered positions; 1100 input channels make
            // the pointwise form's bands 4 vectors wide (two bands).
            (8, 80, 9, 1, 1, 1, 0, 1),
            (5, 20, 9, 1, 1, 1, 0, 1),
            (12, 40, 9, 1, 2, 1, 0, 1),
            (1100, 13, 9, 1, 1, 1, 0, 1),
            // The pointwise form's last 2 and 3 vectors of a band.
            (16, 20, 6, 1, 1, 1, 0, 1),
            (16, 20, 7, 1, 1, 1, 0, 1),
            // The direct kernel in blocks of rows (216 and 1100 rows), 81
            // positions in two bands, two panels (64 + 16 channels).
            (24, 80, 9, 3, 1, 1, 1, 1),
            // Winograd's form (tiles of 4x4 outputs): 81 tiles in two
            // bands that split a tile row, with a partial last tile; 16
            // tiles of an odd output with 70 channels (70 = 11 register
            // tiles of 6 + 4 padded); 25 tiles without padding.
            (16, 20, 34, 3, 1, 1, 1, 1),
            (24, 70, 13, 3, 1, 1, 1, 1),
            (17, 16, 19, 3, 1, 1, 0, 1),
        ] {
            let out_size = (size + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
            let g = ConvGeometry {
                in_c,
                in_h: size,
                in_w: size,
                out_c,
                out_h: out_size,
                out_w: out_size,
                kh: k,
                kw: k,
                sh: stride,
                sw: stride,
                dh: dilation,
                dw: dilation,
                pads: [pad; 4],
                groups,
            };
            let cin_g = in_c / groups;
            let x: Vec<f32> = (0..2 * in_c * size * size)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 4.0)
                .collect();
            let w: Vec<f32> = (0..out_c * cin_g * k * k)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0)
                .collect();
            let bias: Vec<f32> = (0..out_c).map(|o| o as f32 / 16.0 - 1.0).collect();
            let scale: Vec<f32> = (0..out_c).map(|o| 0.5 + (o % 3) as f32).collect();
            let shift: Vec<f32> = (0..out_c).map(|o| (o % 5) as f32 / 10.0).collect();
            // Plainly: every output is its window's sum.
            let mut want = vec![0.0f32; 2 * out_c * out_size * out_size];
            for n in 0..2 {
                for o in 0..out_c {
                    let group = o / (out_c / groups);
                    for oy in 0..out_size {
                        for ox in 0..out_size {
                            let mut sum = 0.0;
                            for c in 0..cin_g {
                                for ky in 0..k {
                                    for kx in 0..k {
                                        let y =
                                            (oy * stride + ky * dilation) as isize - pad as isize;
                                        let xx =
                                            (ox * stride + kx * dilation) as isize - pad as isize;
                                        if y < 0
                                            || xx < 0
                                            || y >= size as isize
                                            || xx >= size as isize
                                        {
                                            continue;
                                        }
                                        let ci = group * cin_g + c;
                                        sum += x[((n * in_c + ci) * size + y as usize) * size
                                            + xx as usize]
                                            * w[((o * cin_g + c) * k + ky) * k + kx];
                                    }
                                }
                            }
                            let v = (sum + bias[o]) * scale[o] + shift[o];
                            want[((n * out_c + o) * out_size + oy) * out_size + ox] = v;
                        }
                    }
                }
            }
            // And with a residual sum added before the activation.
            let residual: Vec<f32> = (0..want.len()).map(|i| (i % 7) as f32 - 3.0).collect();
            // Every form that applies.
            for form in [Form::Direct, Form::Winograd, Form::Pointwise] {
                if !form.applies(&g) {
                    continue;
                }
                let mut conv = Conv::in_form(g, &w, Some(&bias), form);
                conv.fold_affine(&scale, &shift);
                conv.act = Act::Relu;
                for isa in [Isa::Base, Isa::Avx2, Isa::Avx512] {
                    if !super::super::simd::supports(isa) {
                        continue;
                    }
                    for sum in [None, Some(&residual[..])] {
                        let mut out = vec![f32::NAN; want.len()];
                        let mut scratch = vec![f32::NAN; conv.scratch_len()];
                        conv.run_on(isa, &x, sum, 2, &mut out, &mut scratch);
                        for (i, (got, want)) in out.iter().zip(&want).enumerate() {
                            let want = (want + sum.map_or(0.0, |s| s[i])).max(0.0);
                            assert!(
                                (got - want).abs() < 1e-4 * want.abs().max(1.0),
                                "{isa:?} {g:?} {form:?} sum {} output {i}: {got} vs {want}",
                                sum.is_some()
                            );
                        }
                    }
                }
            }
        }
    }

    fn check_product(
        isa: Isa,
        (m, k, n): (usize, usize, usize),
        a: &[f32],
        w: &[f32],
        out: &[f32],
    ) {
        for r in 0..m {
            for j in 0..n {
                let want: f32 =
                    (0..k).map(|kk| a[r * k + kk] * w[kk * n + j]).sum::<f32>() + j as f32 / 16.0;
                let got = out[r * n + j];
                assert!(
                    (got - want.max(0.0)).abs() < 1e-5,
                    "{isa:?} {m}x{k}x{n} [{r},{j}]: {got} vs {want}"
                );
            }
        }
    }
}
