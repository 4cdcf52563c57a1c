//! Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms
//! for Convolutional Neural Networks", 2016) for the 3x3 stride-1
//! convolutions that dominate ResNets and VGGs: every 4x4 block of outputs
//! ("tile") is `Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A` over its 6x6 input window
//! `d`, i.e. 36 products per tile and channel pair instead of 144
//! multiply-adds (4x fewer). The sum over input channels is, for each of
//! the 36 transformed positions ξ, a matrix product
//! `M_ξ[out][tile] = Σ_c U_ξ[c][out] · V_ξ[c][tile]`, which runs in register
//! tiles like the direct kernel's (6 output channels x 64 tiles).
//!
//! The tiles of a sample are taken in bands of [`BAND`] so a band's
//! transformed inputs and products stay in the caches between the three
//! stages (input transform, products, output transform). Rounding differs
//! from the direct sum (the transforms scale by up to 8 and cancel): the
//! kernel test holds it to 1e-4 relative of a plain sum, and the model-zoo
//! networks that use it still equal onnxruntime (rtol 1e-3, atol 1e-4).

use super::act::Act;
use super::kernels::ConvGeometry;
use super::product::{self, Product, R, Store, finish_run};
use super::simd::{Isa, Lanes, Plain, supports};
#[cfg(target_arch = "x86_64")]
use super::simd::{Ymm2, Zmm};

/// Transformed positions per tile (6 x 6).
const XI: usize = 36;
/// Tiles per band (4 register blocks of 16).
const BAND: usize = 64;
/// A band's row stride in the transformed buffers: 16 values of slack so a
/// vector written at a row segment's end never reaches the next row.
const STRIDE: usize = BAND + 16;

#[derive(Debug)]
pub(crate) struct Winograd {
    g: ConvGeometry,
    tiles_h: usize,
    tiles_w: usize,
    /// Length of an input row's column phases (`tiles_w + 1` used, whole
    /// vectors and one more read past it).
    row_len: usize,
    /// `U = G g Gᵀ` packed as `[ξ][block of R out channels][in_c][R]`
    /// (zero past `out_c`), so a register tile reads it in order.
    u: Vec<f32>,
}

impl Winograd {
    /// The convolutions this form computes: 3x3, stride 1, no dilation,
    /// one group.
    pub fn applies(g: &ConvGeometry) -> bool {
        g.kh == 3 && g.kw == 3 && (g.sh, g.sw, g.dh, g.dw, g.groups) == (1, 1, 1, 1, 1)
    }

    /// Whether it beats the direct kernel (measured on this kernel's
    /// shapes): channels enough for the products to outweigh the
    /// transforms; lanes: the transforms take a tile row's tiles 16 at a
    /// time, so a narrow plane fills few of them (against direct: 64
    /// channels at 56x56 0.65x, 128 at 28x28 0.66x, 128 at 16x16 0.85x;
    /// 64 channels at 13x13, 4 tiles a row, ran 2.1x slower in a first
    /// version); and more than 196 outputs (14x14): `U` holds 4x the
    /// direct weights and at batch 1 they come from memory every run, so
    /// 256 channels at 14x14 (0.66x alone, 9.5 MB of `U`) gained nothing
    /// inside ResNet-50 on a CPU with a 32 MB L3 cache, and, once the
    /// direct kernel walked its rows in blocks (`simd::blocking`), nothing
    /// on one with 260 MB either (0.996x of the network over 14
    /// alternating runs), so the lighter form runs; 7x7 (4 tiles) was
    /// 1.03x there.
    /// `U` is also capped at 2^25 values (128 MB) a layer, so a model the
    /// direct form runs never fails to compile for Winograd's memory.
    pub fn pays(g: &ConvGeometry) -> bool {
        let tiles_w = g.out_w.div_ceil(4);
        g.in_c >= 16
            && g.out_c >= 16
            && g.out_h * g.out_w > 196
            && XI * g.in_c * product::padded(g.out_c) <= 1 << 25
            && g.in_c.min(g.out_c) * tiles_w >= 24 * tiles_w.div_ceil(16) * 16
    }

    /// `weight` is ONNX's `[out_c, in_c, 3, 3]`.
    pub fn new(g: ConvGeometry, weight: &[f32]) -> Winograd {
        let (in_c, out_c) = (g.in_c, g.out_c);
        let out_pad = product::padded(out_c);
        let mut u = vec![0.0; XI * in_c * out_pad];
        // G's rows applied to three values (a column or a row of g),
        // multiplied by reciprocals rather than divided.
        let (sixth, twelfth, twenty_fourth) = (1.0 / 6.0, 1.0 / 12.0, 1.0 / 24.0);
        let apply_g = |[a, b, c]: [f32; 3]| -> [f32; 6] {
            [
                a * 0.25,
                -(a + b + c) * sixth,
                -(a - b + c) * sixth,
                a * twenty_fourth + b * twelfth + c * sixth,
                a * twenty_fourth - b * twelfth + c * sixth,
                c,
            ]
        };
        // A block of R output channels at a time, so each of the 36 planes
        // is written in order (VGG-19's `U` is ~300 MB).
        for o0 in (0..out_c).step_by(R) {
            for c in 0..in_c {
                for o in o0..(o0 + R).min(out_c) {
                    let k = &weight[(o * in_c + c) * 9..][..9];
                    // G g (6 x 3), column by column, then (G g) Gᵀ row by row.
                    let columns: [[f32; 6]; 3] =
                        std::array::from_fn(|j| apply_g([k[j], k[3 + j], k[6 + j]]));
                    for r in 0..6 {
                        let row = apply_g([columns[0][r], columns[1][r], columns[2][r]]);
                        for (s, v) in row.iter().enumerate() {
                            let block = (r * 6 + s) * out_pad + o0;
                            u[block * in_c + c * R + o - o0] = *v;
                        }
                    }
                }
            }
        }
        let tiles_w = g.out_w.div_ceil(4);
        Winograd {
            g,
            tiles_h: g.out_h.div_ceil(4),
            tiles_w,
            row_len: (tiles_w + 1).div_ceil(16) * 16 + 16,
            u,
        }
    }

    /// Scales output channel `o`'s weights by `a[o]` (a folded affine map).
    pub fn scale(&mut self, a: &[f32]) {
        let out_pad = self.out_pad();
        product::scale(&mut self.u, self.g.in_c, out_pad, a);
    }

    fn out_pad(&self) -> usize {
        product::padded(self.g.out_c)
    }

    /// Most input rows a band's tile rows read.
    fn band_rows(&self) -> usize {
        4 * (BAND.div_ceil(self.tiles_w) + 1) + 6
    }

    /// Scratch values a run needs: the band's transformed inputs and
    /// products, each input row's 4 column phases, their row transforms
    /// (6 x 4) and one zero-bordered row (4 phases long).
    pub fn scratch_len(&self) -> usize {
        XI * (self.g.in_c + self.out_pad()) * STRIDE
            + (4 * self.band_rows() + 24 + 4) * self.row_len
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
        let out_len = g.out_c * g.out_h * g.out_w;
        assert!(x.len() >= g.in_c * g.in_h * g.in_w && out.len() >= out_len);
        assert!(bias.len() >= g.out_c && sum.is_none_or(|s| s.len() >= out_len));
        assert!(scratch.len() >= self.scratch_len());
        let run = Run {
            w: self,
            x,
            bias,
            sum,
            act,
        };
        let isa = if supports(isa) { isa } else { Isa::Base };
        match isa {
            // SAFETY: the CPU has the features the variant is compiled for.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { run_avx512(&run, out, scratch) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { run_avx2(&run, out, scratch) },
            // SAFETY: Plain needs no instruction set.
            _ => unsafe { run.bands::<Plain, 1, 1, 1>(out, scratch) },
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn run_avx512(run: &Run, out: &mut [f32], scratch: &mut [f32]) {
    // 6 output channels x 4 blocks of 16 tiles: 24 zmm sums; for narrower
    // bands 12 channels x 2 blocks or 24 x 1.
    unsafe { run.bands::<Zmm, 4, 4, 2>(out, scratch) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(run: &Run, out: &mut [f32], scratch: &mut [f32]) {
    // 6 output channels x 1 block of 16 tiles: 12 ymm sums of the 16.
    unsafe { run.bands::<Ymm2, 1, 1, 1>(out, scratch) }
}

/// One sample's run.
struct Run<'a> {
    w: &'a Winograd,
    x: &'a [f32],
    bias: &'a [f32],
    sum: Option<&'a [f32]>,
    act: Act,
}

impl Run<'_> {
    /// Every band: transform its inputs, multiply, transform back.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set; sizes as `Winograd::run` asserts.
    #[inline(always)]
    unsafe fn bands<L: Lanes, const V: usize, const K1: usize, const K2: usize>(
        &self,
        out: &mut [f32],
        scratch: &mut [f32],
    ) {
        let w = self.w;
        let g = &w.g;
        let tiles = w.tiles_h * w.tiles_w;
        let (v, rest) = scratch.split_at_mut(XI * g.in_c * STRIDE);
        let out_pad = w.out_pad();
        let (m, rows) = rest.split_at_mut(XI * out_pad * STRIDE);
        for start in (0..tiles).step_by(BAND) {
            let count = BAND.min(tiles - start);
            unsafe {
                self.transform_input::<L>(start, count, v, rows);
                let blocks = count.div_ceil(16);
                for xi in 0..XI {
                    for b0 in (0..blocks).step_by(V) {
                        let product = Product {
                            in_c: g.in_c,
                            out_pad,
                            u: w.u[xi * g.in_c * out_pad..].as_ptr(),
                            v: v[xi * g.in_c * STRIDE + 16 * b0..].as_ptr(),
                            v_stride: STRIDE,
                            ahead: 0,
                        };
                        let store = &mut Store {
                            m: m[xi * out_pad * STRIDE + 16 * b0..].as_mut_ptr(),
                            stride: STRIDE,
                        };
                        match (blocks - b0).min(V) {
                            1 => product.run::<L, 1, K1>(store),
                            2 => product.run::<L, 2, K2>(store),
                            3 => product.run::<L, 3, 1>(store),
                            _ => product.run::<L, 4, 1>(store),
                        }
                    }
                }
                self.transform_output::<L>(start, count, m, out);
            }
        }
    }

    /// The tile rows band `start..start + count` touches, each with the
    /// range of its columns inside the band.
    fn tile_rows(&self, start: usize, count: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let tw = self.w.tiles_w;
        let end = start + count;
        (start / tw..end.div_ceil(tw)).map(move |ty| {
            let row = ty * tw;
            (ty, start.max(row) - row, end.min(row + tw) - row)
        })
    }

    /// `V_ξ[c][t] = (Bᵀ d B)_ξ` for the band's tiles, `d` the tile's 6x6
    /// input window (zero outside the input).
    ///
    /// # Safety
    /// As `bands`; `v` holds `XI * in_c * STRIDE` values, `rows` the rest
    /// of the scratch.
    #[inline(always)]
    unsafe fn transform_input<L: Lanes>(
        &self,
        start: usize,
        count: usize,
        v: &mut [f32],
        rows: &mut [f32],
    ) {
        let w = self.w;
        let g = &w.g;
        let (len, tw) = (w.row_len, w.tiles_w);
        let first_ty = start / tw;
        let last_ty = (start + count - 1) / tw;
        let input_rows = 4 * (last_ty - first_ty) + 6;
        let (phases, rest) = rows.split_at_mut(4 * w.band_rows() * len);
        let (combos, line) = rest.split_at_mut(24 * len);
        // One input row between zero borders, so every column read is a
        // whole vector (the borders are never written).
        let line = &mut line[..4 * len];
        line.fill(0.0);
        let top = (4 * first_ty) as isize - g.pads[0] as isize;
        // The columns of each phase the tiles read (up to tx + 1), whole
        // vectors.
        let used = (tw + 1).div_ceil(16) * 16;
        for c in 0..g.in_c {
            let plane = &self.x[c * g.in_h * g.in_w..][..g.in_h * g.in_w];
            // The band's input rows as 4 column phases: phase k holds
            // columns 4 tx + k - left (zero outside the input).
            for r in 0..input_rows {
                let row = &mut phases[4 * r * len..(4 * r + 4) * len];
                let y = top + r as isize;
                if y < 0 || y >= g.in_h as isize {
                    row.fill(0.0);
                    continue;
                }
                line[g.pads[1]..][..g.in_w]
                    .copy_from_slice(&plane[y as usize * g.in_w..][..g.in_w]);
                unsafe { split_phases::<L>(line, row, len, used) };
            }
            for (ty, tx0, tx1) in self.tile_rows(start, count) {
                let r0 = 4 * (ty - first_ty);
                // Bᵀ d down the 6 rows, for each column phase.
                for k in (0..used).step_by(16) {
                    for phase in 0..4 {
                        unsafe {
                            let d: [L; 6] = std::array::from_fn(|r| {
                                L::load(phases[(4 * (r0 + r) + phase) * len + k..].as_ptr())
                            });
                            for (i, e) in b_transpose(d).iter().enumerate() {
                                e.store(combos[(4 * i + phase) * len + k..].as_mut_ptr());
                            }
                        }
                    }
                }
                // And across columns: column 4 tx + j is phase j at tx for
                // j < 4, phases 0 and 1 at tx + 1 for j = 4, 5.
                let row_start = ty * tw;
                for tx in (tx0..tx1).step_by(16) {
                    for i in 0..6 {
                        unsafe {
                            let at = |phase: usize, shift: usize| {
                                L::load(combos[(4 * i + phase) * len + tx + shift..].as_ptr())
                            };
                            let d = [at(0, 0), at(1, 0), at(2, 0), at(3, 0), at(0, 1), at(1, 1)];
                            for (j, e) in b_transpose(d).iter().enumerate() {
                                let xi = i * 6 + j;
                                let at = (xi * g.in_c + c) * STRIDE + row_start + tx - start;
                                e.store(v[at..].as_mut_ptr());
                            }
                        }
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ M A` per tile and output channel, then bias, the residual
    /// sum and the activation, written to the tile's 4x4 outputs inside
    /// the output plane.
    ///
    /// # Safety
    /// As `bands`; `m` holds `XI * out_pad * STRIDE` values.
    #[inline(always)]
    unsafe fn transform_output<L: Lanes>(
        &self,
        start: usize,
        count: usize,
        m: &[f32],
        out: &mut [f32],
    ) {
        let g = &self.w.g;
        let tw = self.w.tiles_w;
        let plane = g.out_h * g.out_w;
        let out_pad = self.w.out_pad();
        for o in 0..g.out_c {
            let b = self.bias[o];
            for (ty, tx0, tx1) in self.tile_rows(start, count) {
                let row_start = ty * tw;
                for tx in (tx0..tx1).step_by(16) {
                    // SAFETY: the instruction set as `bands`; reads inside
                    // the band's rows of `m`.
                    let y: [[L; 4]; 4] = unsafe {
                        let t = row_start + tx - start;
                        let at = |xi: usize| L::load(m[(xi * out_pad + o) * STRIDE + t..].as_ptr());
                        // Aᵀ M down each column j, then across the columns.
                        let s: [[L; 4]; 6] = std::array::from_fn(|j| {
                            a_transpose(std::array::from_fn(|i| at(i * 6 + j)))
                        });
                        std::array::from_fn(|a| a_transpose(std::array::from_fn(|j| s[j][a])))
                    };
                    let lanes = 16.min(tx1 - tx);
                    for (a, y) in y.iter().enumerate() {
                        let oy = 4 * ty + a;
                        if oy >= g.out_h {
                            break;
                        }
                        let row = o * plane + oy * g.out_w;
                        let ox0 = 4 * tx;
                        let width = (4 * lanes).min(g.out_w - ox0);
                        let dst = &mut out[row + ox0..][..width];
                        let add = self.sum.map(|s| &s[row + ox0..][..width]);
                        // SAFETY: the instruction set as `bands`; `n`
                        // values stored (and read) inside the row.
                        unsafe {
                            // Columns 4 tx + 0..4 of 16 tiles, interleaved
                            // by 4 in two rounds.
                            let (lo02, hi02) = y[0].interleave(y[2]);
                            let (lo13, hi13) = y[1].interleave(y[3]);
                            let (o0, o1) = lo02.interleave(lo13);
                            let (o2, o3) = hi02.interleave(hi13);
                            let bias = L::splat(b);
                            for (k, v) in [o0, o1, o2, o3].iter().enumerate() {
                                let n = width.saturating_sub(16 * k).min(16);
                                if n == 0 {
                                    break;
                                }
                                let add = add.map(|a| a[16 * k..].as_ptr());
                                finish_run(*v, bias, add, self.act, dst[16 * k..].as_mut_ptr(), n);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `Bᵀ d` for 6 values (a column or a row of the input window):
/// `4 d0 - 5 d2 + d4`, `∓4 d1 - 4 d2 ± d3 + d4`, `∓2 d1 - d2 ± 2 d3 + d4`,
/// `4 d1 - 5 d3 + d5`.
///
/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn b_transpose<L: Lanes>([d0, d1, d2, d3, d4, d5]: [L; 6]) -> [L; 6] {
    unsafe {
        let (four, five) = (L::splat(4.0), L::splat(-5.0));
        let a = L::fma(L::splat(-4.0), d2, d4);
        let b = L::fma(four, d1, L::splat(0.0).sub(d3));
        let c = d4.sub(d2);
        let e = L::fma(L::splat(2.0), d3.sub(d1), L::splat(0.0));
        [
            L::fma(four, d0, L::fma(five, d2, d4)),
            a.sub(b),
            a.add(b),
            c.add(e),
            c.sub(e),
            L::fma(four, d1, L::fma(five, d3, d5)),
        ]
    }
}

/// `Aᵀ m` for 6 values: `m0 + m1 + m2 + m3 + m4`, `m1 - m2 + 2 (m3 - m4)`,
/// `m1 + m2 + 4 (m3 + m4)`, `m1 - m2 + 8 (m3 - m4) + m5`.
///
/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn a_transpose<L: Lanes>([m0, m1, m2, m3, m4, m5]: [L; 6]) -> [L; 4] {
    unsafe {
        let (plus, minus) = (m1.add(m2), m1.sub(m2));
        let (sum, diff) = (m3.add(m4), m3.sub(m4));
        [
            m0.add(plus).add(sum),
            L::fma(L::splat(2.0), diff, minus),
            L::fma(L::splat(4.0), sum, plus),
            L::fma(L::splat(8.0), diff, minus).add(m5),
        ]
    }
}

/// `phases[k * len + tx] = line[4 tx + k]` for `tx < used` (`line` holds
/// 4 `len` values), 16 columns of each phase from 4 vectors.
///
/// # Safety
/// The CPU has `L`'s instruction set.
#[inline(always)]
unsafe fn split_phases<L: Lanes>(line: &[f32], phases: &mut [f32], len: usize, used: usize) {
    assert!(used.is_multiple_of(16) && used <= len);
    assert!(line.len() >= 4 * len && phases.len() >= 4 * len);
    for tx in (0..used).step_by(16) {
        // SAFETY: inside the lengths asserted above.
        unsafe {
            let src = line.as_ptr().add(4 * tx);
            let [v0, v1, v2, v3] = std::array::from_fn(|k| L::load(src.add(16 * k)));
            // Even and odd columns, then the even and odd of each.
            let (even_lo, odd_lo) = v0.deinterleave(v1);
            let (even_hi, odd_hi) = v2.deinterleave(v3);
            let (p0, p2) = even_lo.deinterleave(even_hi);
            let (p1, p3) = odd_lo.deinterleave(odd_hi);
            for (k, p) in [p0, p1, p2, p3].iter().enumerate() {
                p.store(phases.as_mut_ptr().add(k * len + tx));
            }
        }
    }
}
