//! The matrix product that the GEMM-shaped forms of the native `Conv`
//! (Winograd's and the 1x1 "pointwise" one) run in register tiles:
//! `m[o][t] = Σ_c u[c][o] · v[c][t]`, with the tiles `t` (output positions
//! or Winograd tiles) in the vector lanes and `R` output channels' weights
//! broadcast, so a row of `v` is read as whole vectors and each output
//! row is written as whole vectors too (no transpose).

use super::act::Act;
use super::simd::Lanes;

/// Output channels per register tile (and per block of the packed weights).
pub(crate) const R: usize = 6;

/// Output channels rounded up to whole blocks of `R`.
pub(crate) fn padded(out_c: usize) -> usize {
    out_c.div_ceil(R) * R
}

/// Weights packed for [`Product`]: `weight(o, c)` at `[o / R][c][o % R]`,
/// zero past `out_c`.
pub(crate) fn pack(out_c: usize, in_c: usize, weight: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let mut u = vec![0.0; padded(out_c) * in_c];
    for (block, values) in u.chunks_exact_mut(in_c * R).enumerate() {
        for (c, row) in values.chunks_exact_mut(R).enumerate() {
            for (r, v) in row.iter_mut().enumerate() {
                let o = block * R + r;
                if o < out_c {
                    *v = weight(o, c);
                }
            }
        }
    }
    u
}

/// Scales output channel `o`'s weights by `a[o]` in packed weights (one or
/// more matrices of `out_pad` rows, one after the other).
pub(crate) fn scale(u: &mut [f32], in_c: usize, out_pad: usize, a: &[f32]) {
    for (block, values) in u.chunks_exact_mut(in_c * R).enumerate() {
        let o0 = block * R % out_pad;
        let scale: [f32; R] = std::array::from_fn(|r| a.get(o0 + r).copied().unwrap_or(0.0));
        for row in values.chunks_exact_mut(R) {
            for (v, s) in row.iter_mut().zip(scale) {
                *v *= s;
            }
        }
    }
}

/// `out[..n] = act(y + bias + sum[..n])` for the first `n` lanes of `y`
/// (`n <= 16`; whole vectors when `n` is 16): the epilogue of the
/// products' forms, whose output rows are runs of positions.
///
/// # Safety
/// The CPU has `L`'s instruction set; `out` (and `sum`) hold `n` values.
#[inline(always)]
pub(crate) unsafe fn finish_run<L: Lanes>(
    y: L,
    bias: L,
    sum: Option<*const f32>,
    act: Act,
    out: *mut f32,
    n: usize,
) {
    unsafe {
        let mut y = y.add(bias);
        if let Some(sum) = sum {
            y = y.add(if n == 16 {
                L::load(sum)
            } else {
                L::load_first(sum, n)
            });
        }
        let y = match act {
            Act::None => y,
            Act::Relu => y.relu(),
            act => y.map(|x| act.apply(x)),
        };
        if n == 16 {
            y.store(out);
        } else {
            y.store_first(out, n);
        }
    }
}

/// What becomes of an output row's sums (a trait, not a closure: a
/// closure is compiled without the caller's instruction set, so its
/// vector operations would not be inlined).
pub(crate) trait Finish<L, const V: usize> {
    /// Output row `o`'s sums over the tile's `16 V` lanes.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set.
    unsafe fn row(&mut self, o: usize, sums: [L; V]);
}

/// Stores each row's sums at `m + o * stride`.
pub(crate) struct Store {
    pub m: *mut f32,
    pub stride: usize,
}

impl<L: Lanes, const V: usize> Finish<L, V> for Store {
    #[inline(always)]
    unsafe fn row(&mut self, o: usize, sums: [L; V]) {
        for (b, sum) in sums.iter().enumerate() {
            unsafe { sum.store(self.m.add(o * self.stride + 16 * b)) };
        }
    }
}

/// One product: `u` packed by [`pack`] (`out_pad` rows), `v` rows of
/// `v_stride` values, `16 V` lanes of them per tile.
pub(crate) struct Product {
    pub in_c: usize,
    pub out_pad: usize,
    pub u: *const f32,
    pub v: *const f32,
    pub v_stride: usize,
    /// Rows of `v` ahead to fetch into L1 (0: none).
    pub ahead: usize,
}

impl Product {
    /// Every block of `R` output channels over `V` vectors of `v`, `K`
    /// blocks of channels at a time (so narrow products still keep ~24
    /// sums in flight: one vector against 6 broadcast weights is bound by
    /// the broadcasts); `finish` takes each output row's sums.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set; `u` holds `out_pad * in_c`
    /// values and `v` `in_c` rows of `16 V` readable values.
    #[inline(always)]
    pub unsafe fn run<L: Lanes, const V: usize, const K: usize>(
        &self,
        finish: &mut impl Finish<L, V>,
    ) {
        let mut o0 = 0;
        unsafe {
            while o0 + K * R <= self.out_pad {
                self.tile::<L, V, K>(o0, finish);
                o0 += K * R;
            }
            while o0 < self.out_pad {
                self.tile::<L, V, 1>(o0, finish);
                o0 += R;
            }
        }
    }

    /// Output channels `o0..o0 + K R`, lanes `0..16 V`.
    ///
    /// # Safety
    /// As `run`, with `o0 + K R <= out_pad`.
    #[inline(always)]
    pub unsafe fn tile<L: Lanes, const V: usize, const K: usize>(
        &self,
        o0: usize,
        finish: &mut impl Finish<L, V>,
    ) {
        unsafe {
            let mut acc = [[[L::splat(0.0); V]; R]; K];
            let mut u: [*const f32; K] =
                std::array::from_fn(|k| self.u.add((o0 + k * R) * self.in_c));
            let mut v = self.v;
            let ahead = self.ahead * self.v_stride;
            for _ in 0..self.in_c {
                if ahead > 0 {
                    for b in 0..V {
                        super::simd::prefetch_l1(v.wrapping_add(ahead + 16 * b));
                    }
                }
                let x: [L; V] = std::array::from_fn(|b| L::load(v.add(16 * b)));
                for k in 0..K {
                    for (r, acc) in acc[k].iter_mut().enumerate() {
                        let w = L::splat(*u[k].add(r));
                        for b in 0..V {
                            acc[b] = L::fma(w, x[b], acc[b]);
                        }
                    }
                    u[k] = u[k].add(R);
                }
                v = v.add(self.v_stride);
            }
            for (k, acc) in acc.iter().enumerate() {
                for (r, sums) in acc.iter().enumerate() {
                    finish.row(o0 + k * R + r, *sums);
                }
            }
        }
    }
}
