//! The 1x1 convolutions (ResNets' bottlenecks, projections, MobileNets'
//! pointwise layers) as matrix products with the output positions in the
//! vector lanes: in NCHW an input channel's positions are contiguous, so
//! each input row is read as whole vectors and each output row written as
//! whole vectors, where the direct kernel (channels in the lanes) gathers
//! positions from as many planes as there are input channels and writes
//! through a transpose. Strided ones first gather their positions
//! (a 1x1 window at stride s reads every s-th value).

use super::act::Act;
use super::kernels::ConvGeometry;
use super::product::{self, Finish, Product, R, finish_run};
use super::simd::{Isa, Lanes, Plain, supports};
#[cfg(target_arch = "x86_64")]
use super::simd::{Ymm2, Zmm};

#[derive(Debug)]
pub(crate) struct Pointwise {
    g: ConvGeometry,
    /// The weights packed for [`Product`].
    u: Vec<f32>,
}

impl Pointwise {
    /// 1x1 windows, no padding, one group.
    pub fn applies(g: &ConvGeometry) -> bool {
        g.kh == 1 && g.kw == 1 && g.groups == 1 && g.pads == [0; 4]
    }

    /// Whether it beats the direct kernel: planes of 128 positions or more
    /// (a plane's last partial vector computes unused lanes: 49 positions
    /// take 64).
    pub fn pays(g: &ConvGeometry) -> bool {
        g.out_h * g.out_w >= 128
    }

    /// `weight` is ONNX's `[out_c, in_c, 1, 1]`.
    pub fn new(g: ConvGeometry, weight: &[f32]) -> Pointwise {
        let u = product::pack(g.out_c, g.in_c, |o, c| weight[o * g.in_c + c]);
        Pointwise { g, u }
    }

    /// Scales output channel `o`'s weights by `a[o]` (a folded affine map).
    pub fn scale(&mut self, a: &[f32]) {
        product::scale(&mut self.u, self.g.in_c, product::padded(self.g.out_c), a);
    }

    fn strided(&self) -> bool {
        (self.g.sh, self.g.sw) != (1, 1)
    }

    fn positions(&self) -> usize {
        self.g.out_h * self.g.out_w
    }

    /// Scratch values a run needs: the gathered positions (strided only)
    /// and each input row's last partial vector.
    pub fn scratch_len(&self) -> usize {
        let gathered = if self.strided() {
            self.g.in_c * self.positions()
        } else {
            0
        };
        gathered + self.g.in_c * 16
    }

    /// One sample: `out = act(conv(x) + bias (+ sum))`, all NCHW.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        isa: Isa,
        x: &[f32],
        bias: &[f32],
        sum: Option<&[f32]>,
        act: Act,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        let g = &self.g;
        let positions = self.positions();
        let out_len = g.out_c * positions;
        assert!(x.len() >= g.in_c * g.in_h * g.in_w && out.len() >= out_len);
        assert!(bias.len() >= g.out_c && sum.is_none_or(|s| s.len() >= out_len));
        assert!(scratch.len() >= self.scratch_len());
        let (gathered, tail) = scratch.split_at_mut(scratch.len() - g.in_c * 16);
        let source: &[f32] = if self.strided() {
            let gathered = &mut gathered[..g.in_c * positions];
            for c in 0..g.in_c {
                let plane = &x[c * g.in_h * g.in_w..][..g.in_h * g.in_w];
                let dst = &mut gathered[c * positions..][..positions];
                for oy in 0..g.out_h {
                    let row = &plane[oy * g.sh * g.in_w..];
                    for (ox, d) in dst[oy * g.out_w..][..g.out_w].iter_mut().enumerate() {
                        *d = row[ox * g.sw];
                    }
                }
            }
            gathered
        } else {
            &x[..g.in_c * positions]
        };
        // The last partial vector of every row, zero beyond the row.
        let full = positions / 16;
        let rest = positions % 16;
        if rest > 0 {
            for c in 0..g.in_c {
                let t = &mut tail[c * 16..][..16];
                t[..rest].copy_from_slice(&source[c * positions + 16 * full..][..rest]);
                t[rest..].fill(0.0);
            }
        }
        let run = Run {
            w: self,
            source,
            tail,
            bias,
            sum,
            act,
        };
        let isa = if supports(isa) { isa } else { Isa::Base };
        match isa {
            // SAFETY: the CPU has the features the variant is compiled for.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { run_avx512(&run, out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { run_avx2(&run, out) },
            // SAFETY: Plain needs no instruction set.
            _ => unsafe { run.vectors::<Plain, 1, 1, 1>(out) },
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn run_avx512(run: &Run, out: &mut [f32]) {
    // 6 output channels x 4 vectors of 16 positions: 24 zmm sums (and
    // 24 x 1 or 12 x 2 for the last vectors).
    unsafe { run.vectors::<Zmm, 4, 4, 2>(out) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(run: &Run, out: &mut [f32]) {
    // 6 output channels x 1 vector of 16 positions: 12 ymm sums of the 16.
    unsafe { run.vectors::<Ymm2, 1, 1, 1>(out) }
}

/// One sample's run.
struct Run<'a> {
    w: &'a Pointwise,
    /// `in_c` rows of the positions.
    source: &'a [f32],
    /// Each row's last partial vector (16 values a row).
    tail: &'a [f32],
    bias: &'a [f32],
    sum: Option<&'a [f32]>,
    act: Act,
}

impl Run<'_> {
    /// The positions in bands whose input rows stay in the L2 cache
    /// (~512 KB); in a band, each block of `R` output channels walks the
    /// band `V` vectors at a time, so its weights stay in L1 and each of its
    /// output rows (and residual rows) is a long contiguous run, which the
    /// hardware prefetchers follow (bands of 64 positions through every
    /// channel touched 2 x out_c rows 256 bytes at a time: 1.3x slower on
    /// ResNet-50's 64 -> 256 layers). Then the partial vector.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set; sizes as `Pointwise::run` asserts.
    #[inline(always)]
    unsafe fn vectors<L: Lanes, const V: usize, const K1: usize, const K2: usize>(
        &self,
        out: &mut [f32],
    ) {
        let w = self.w;
        let g = &w.g;
        let positions = w.positions();
        let full = positions / 16;
        let band = (8192 / g.in_c).max(V) / V * V;
        let product = |v: *const f32, v_stride: usize| Product {
            in_c: g.in_c,
            out_pad: product::padded(g.out_c),
            u: w.u.as_ptr(),
            v,
            v_stride,
            // Rows more than 2 KB apart are past the stride prefetcher:
            // 8 rows ahead (256 -> 64 at 56x56: 0.88x).
            ahead: if v_stride * 4 > 2048 { 8 } else { 0 },
        };
        let mut finish = Epilogue {
            run: self,
            out: out.as_mut_ptr(),
            positions,
            p: 0,
            n: 0,
        };
        let mut start = 0;
        loop {
            let end = (start + band).min(full);
            let whole = start + (end - start) / V * V;
            for o0 in (0..product::padded(g.out_c)).step_by(R) {
                finish.n = 16 * V;
                for b0 in (start..whole).step_by(V) {
                    finish.p = 16 * b0;
                    // SAFETY: `b0 + V <= full` vectors of every row.
                    unsafe {
                        product(self.source.as_ptr().add(16 * b0), positions)
                            .tile::<L, V, 1>(o0, &mut finish)
                    };
                }
            }
            // The band's last vectors and the plane's partial one, several
            // blocks of channels at a time (one vector against 6 channels'
            // broadcast weights keeps too few sums in flight).
            (finish.p, finish.n) = (16 * whole, 16 * (end - whole));
            // SAFETY: `end <= full` vectors of every row; the partial one
            // is read from `tail`, 16 values a row.
            unsafe {
                let last = product(self.source.as_ptr().add(16 * whole), positions);
                match end - whole {
                    0 => {}
                    1 => last.run::<L, 1, K1>(&mut finish),
                    2 => last.run::<L, 2, K2>(&mut finish),
                    _ => last.run::<L, 3, 1>(&mut finish),
                }
                if end == full && !positions.is_multiple_of(16) {
                    (finish.p, finish.n) = (16 * full, positions % 16);
                    product(self.tail.as_ptr(), 16).run::<L, 1, K1>(&mut finish);
                }
            }
            if end == full {
                break;
            }
            start = end;
        }
    }
}

/// Output row `o`'s sums at positions `p..`, of which `n` are written:
/// bias, the residual sum and the activation on the way.
struct Epilogue<'a> {
    run: &'a Run<'a>,
    out: *mut f32,
    positions: usize,
    p: usize,
    n: usize,
}

impl<L: Lanes, const V: usize> Finish<L, V> for Epilogue<'_> {
    #[inline(always)]
    unsafe fn row(&mut self, o: usize, sums: [L; V]) {
        let run = self.run;
        if o >= run.w.g.out_c {
            return;
        }
        // SAFETY: `o < out_c` and `p + n <= positions` (sizes asserted in
        // `Pointwise::run`).
        unsafe {
            let bias = L::splat(*run.bias.get_unchecked(o));
            let at = o * self.positions + self.p;
            for (b, s) in sums.iter().enumerate() {
                let n = self.n.saturating_sub(16 * b).min(16);
                let sum = run.sum.map(|s| s.as_ptr().add(at + 16 * b));
                finish_run(*s, bias, sum, run.act, self.out.add(at + 16 * b), n);
            }
        }
    }
}
