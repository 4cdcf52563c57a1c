//! The two hot kernels of the native engine, dense (matrix product with a
//! constant right side) and direct 2-D convolution, each compiled three
//! times: for AVX-512 + FMA, AVX2 + FMA and baseline x86-64 / other targets,
//! chosen at run time. The bodies are written on fixed blocks of 16 lanes so
//! the compiler emits whole vector instructions (one zmm, or two ymm).
//! Sums may differ from a plain multiply-add in the last bit (FMA rounds
//! once); onnxruntime's kernels use FMA too.

use super::act::Act;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    Avx512,
    Avx2,
    Base,
}

/// The instruction set the kernels run on: the widest this CPU has (with
/// FMA), or a narrower one named by `NEURIDE_ISA=avx2|base` (to test every
/// path on one machine).
pub(crate) fn isa() -> Isa {
    static CHOSEN: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let widest = detected();
        let wanted = match std::env::var("NEURIDE_ISA").as_deref() {
            Ok("base") => Isa::Base,
            Ok("avx2") => Isa::Avx2,
            _ => widest,
        };
        if wanted == Isa::Avx2 && widest == Isa::Base {
            Isa::Base
        } else {
            wanted
        }
    })
}

fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return Isa::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Isa::Avx2;
        }
    }
    Isa::Base
}

/// 16 f32 lanes in the registers of one instruction set: one zmm, two ymm,
/// or a plain array (baseline, where the compiler picks SSE).
/// Floats whose first value starts a cache line (64 bytes), so vectors at
/// multiples of 16 values never straddle two lines (a large `Vec` from the
/// system allocator starts 16 bytes into a page, and a load across two
/// lines costs two).
#[derive(Debug, Default)]
pub(crate) struct Aligned {
    data: Vec<f32>,
    start: usize,
    len: usize,
}

impl Aligned {
    pub fn zeroed(len: usize) -> Aligned {
        let data = vec![0.0f32; len + 15];
        let start = data.as_ptr().align_offset(64).min(15);
        Aligned { data, start, len }
    }
}

impl std::ops::Deref for Aligned {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.data[self.start..self.start + self.len]
    }
}

impl std::ops::DerefMut for Aligned {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.data[self.start..self.start + self.len]
    }
}

pub(crate) trait Lanes: Copy {
    /// # Safety
    /// The CPU has the instruction set; `p` points at 16 readable f32.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn splat(x: f32) -> Self;
    /// `a * b + c`.
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self;
    /// # Safety
    /// The CPU has the instruction set; `p` points at 16 writable f32.
    unsafe fn store(self, p: *mut f32);
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn add(self, b: Self) -> Self;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn sub(self, b: Self) -> Self;
    /// `max(0, self)`, NaN kept (as `Act::Relu`).
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn relu(self) -> Self {
        unsafe { self.map(|x| if x < 0.0 { 0.0 } else { x }) }
    }
    /// `(a0 b0 a1 b1 .. a7 b7, a8 b8 .. a15 b15)`.
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn interleave(self, b: Self) -> (Self, Self) {
        unsafe {
            let (a, b) = (self.to_array(), b.to_array());
            let lo: [f32; 16] =
                std::array::from_fn(|l| if l % 2 == 0 { a[l / 2] } else { b[l / 2] });
            let hi: [f32; 16] = std::array::from_fn(|l| {
                if l % 2 == 0 {
                    a[8 + l / 2]
                } else {
                    b[8 + l / 2]
                }
            });
            (Self::load(lo.as_ptr()), Self::load(hi.as_ptr()))
        }
    }
    /// The even and the odd lanes of `self` then `hi` (the inverse of
    /// `interleave`).
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn deinterleave(self, hi: Self) -> (Self, Self) {
        unsafe {
            let (a, b) = (self.to_array(), hi.to_array());
            let at = |i: usize| if i < 16 { a[i] } else { b[i - 16] };
            let even: [f32; 16] = std::array::from_fn(|l| at(2 * l));
            let odd: [f32; 16] = std::array::from_fn(|l| at(2 * l + 1));
            (Self::load(even.as_ptr()), Self::load(odd.as_ptr()))
        }
    }
    /// Writes a tile's 6 positions (`rows[j]`: 16 channels of position
    /// `j`) as `block` says, with bias, sum and Relu (when `relu`); false
    /// when this instruction set has no such transpose (the caller writes
    /// it lane by lane).
    /// # Safety
    /// The CPU has the instruction set; `block` as `Block::write` needs
    /// for 16 channels and 6 positions.
    #[inline(always)]
    unsafe fn write_columns6(rows: &[Self; 6], block: &Block, relu: bool) -> bool {
        let _ = (rows, block, relu);
        false
    }
    /// Stores the first `n` lanes (`n <= 16`).
    /// # Safety
    /// The CPU has the instruction set; `p` points at `n` writable f32.
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        unsafe {
            let values = self.to_array();
            std::ptr::copy_nonoverlapping(values.as_ptr(), p, n.min(16));
        }
    }
    /// Loads `n` values (`n <= 16`), zero in the other lanes.
    /// # Safety
    /// The CPU has the instruction set; `p` points at `n` readable f32.
    #[inline(always)]
    unsafe fn load_first(p: *const f32, n: usize) -> Self {
        let mut values = [0.0; 16];
        unsafe {
            std::ptr::copy_nonoverlapping(p, values.as_mut_ptr(), n.min(16));
            Self::load(values.as_ptr())
        }
    }
    /// # Safety
    /// The CPU has the instruction set.
    #[inline(always)]
    unsafe fn to_array(self) -> [f32; 16] {
        let mut out = [0.0; 16];
        unsafe { self.store(out.as_mut_ptr()) };
        out
    }
    /// # Safety
    /// The CPU has the instruction set.
    #[inline(always)]
    unsafe fn map(self, f: impl Fn(f32) -> f32) -> Self {
        unsafe {
            let values = self.to_array().map(f);
            Self::load(values.as_ptr())
        }
    }
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, __m512, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps,
    _mm256_storeu_ps, _mm256_sub_ps, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_max_ps, _mm512_permutex2var_ps,
    _mm512_set1_ps, _mm512_setr_epi32, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps,
};

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Zmm(__m512);

#[cfg(target_arch = "x86_64")]
impl Lanes for Zmm {
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        unsafe { Zmm(_mm512_loadu_ps(p)) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        unsafe { Zmm(_mm512_set1_ps(x)) }
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        unsafe { Zmm(_mm512_fmadd_ps(a.0, b.0, c.0)) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        unsafe { Zmm(_mm512_add_ps(self.0, b.0)) }
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        unsafe { Zmm(_mm512_sub_ps(self.0, b.0)) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        unsafe { _mm512_mask_storeu_ps(p, first_lanes(n), self.0) }
    }
    #[inline(always)]
    unsafe fn write_columns6(rows: &[Self; 6], block: &Block, relu: bool) -> bool {
        use std::arch::x86_64::*;
        unsafe {
            let bias = _mm512_loadu_ps(block.bias);
            let zero = _mm512_setzero_ps();
            let a: [__m512; 8] = std::array::from_fn(|j| {
                if j < 6 {
                    _mm512_add_ps(rows[j].0, bias)
                } else {
                    zero
                }
            });
            // Within each 128-bit lane: pairs of rows, then groups of four,
            // so lane q of u[k] is channel 4 q + k at positions 0..4 and
            // lane q of w[k] the same at positions 4..8.
            let t: [__m512; 8] = std::array::from_fn(|i| {
                let (x, y) = (a[i / 2 * 2], a[i / 2 * 2 + 1]);
                if i % 2 == 0 {
                    _mm512_unpacklo_ps(x, y)
                } else {
                    _mm512_unpackhi_ps(x, y)
                }
            });
            let quads = |t0: __m512, t1: __m512, t2: __m512, t3: __m512| {
                [
                    _mm512_shuffle_ps::<0x44>(t0, t2),
                    _mm512_shuffle_ps::<0xEE>(t0, t2),
                    _mm512_shuffle_ps::<0x44>(t1, t3),
                    _mm512_shuffle_ps::<0xEE>(t1, t3),
                ]
            };
            let u = quads(t[0], t[1], t[2], t[3]);
            let w = quads(t[4], t[5], t[6], t[7]);
            let zero4 = _mm_setzero_ps();
            let finish = |x: __m128, sum: Option<*const f32>, n: usize| {
                let x = match sum {
                    Some(s) if n == 4 => _mm_add_ps(x, _mm_loadu_ps(s)),
                    // Two floats as one (unaligned) 8-byte value.
                    Some(s) => _mm_add_ps(
                        x,
                        _mm_castpd_ps(_mm_set_sd(std::ptr::read_unaligned(s as *const f64))),
                    ),
                    None => x,
                };
                if relu { _mm_max_ps(zero4, x) } else { x }
            };
            for q in 0..4 {
                for k in 0..4 {
                    let (lo, hi) = match q {
                        0 => (
                            _mm512_extractf32x4_ps::<0>(u[k]),
                            _mm512_extractf32x4_ps::<0>(w[k]),
                        ),
                        1 => (
                            _mm512_extractf32x4_ps::<1>(u[k]),
                            _mm512_extractf32x4_ps::<1>(w[k]),
                        ),
                        2 => (
                            _mm512_extractf32x4_ps::<2>(u[k]),
                            _mm512_extractf32x4_ps::<2>(w[k]),
                        ),
                        _ => (
                            _mm512_extractf32x4_ps::<3>(u[k]),
                            _mm512_extractf32x4_ps::<3>(w[k]),
                        ),
                    };
                    let l = 4 * q + k;
                    let out = block.out.add(l * block.positions);
                    let sum = block.sum.map(|s| s.add(l * block.positions));
                    _mm_storeu_ps(out, finish(lo, sum, 4));
                    let pair = _mm_cvtsd_f64(_mm_castps_pd(finish(hi, sum.map(|s| s.add(4)), 2)));
                    std::ptr::write_unaligned(out.add(4) as *mut f64, pair);
                }
            }
        }
        true
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, n: usize) -> Self {
        unsafe { Zmm(_mm512_maskz_loadu_ps(first_lanes(n), p)) }
    }
    #[inline(always)]
    unsafe fn relu(self) -> Self {
        // maxps returns its second operand when either is NaN (or both zero).
        unsafe { Zmm(_mm512_max_ps(_mm512_setzero_ps(), self.0)) }
    }
    #[inline(always)]
    unsafe fn interleave(self, b: Self) -> (Self, Self) {
        unsafe {
            let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            let hi =
                _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            (
                Zmm(_mm512_permutex2var_ps(self.0, lo, b.0)),
                Zmm(_mm512_permutex2var_ps(self.0, hi, b.0)),
            )
        }
    }
    #[inline(always)]
    unsafe fn deinterleave(self, hi: Self) -> (Self, Self) {
        unsafe {
            let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            (
                Zmm(_mm512_permutex2var_ps(self.0, even, hi.0)),
                Zmm(_mm512_permutex2var_ps(self.0, odd, hi.0)),
            )
        }
    }
}

/// The mask of lanes `0..n` (all for `n >= 16`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn first_lanes(n: usize) -> u16 {
    if n >= 16 { u16::MAX } else { (1u16 << n) - 1 }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Ymm2(__m256, __m256);

#[cfg(target_arch = "x86_64")]
impl Lanes for Ymm2 {
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        unsafe { Ymm2(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        unsafe { Ymm2(_mm256_set1_ps(x), _mm256_set1_ps(x)) }
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        unsafe {
            Ymm2(
                _mm256_fmadd_ps(a.0, b.0, c.0),
                _mm256_fmadd_ps(a.1, b.1, c.1),
            )
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe {
            _mm256_storeu_ps(p, self.0);
            _mm256_storeu_ps(p.add(8), self.1);
        }
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        unsafe { Ymm2(_mm256_add_ps(self.0, b.0), _mm256_add_ps(self.1, b.1)) }
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        unsafe { Ymm2(_mm256_sub_ps(self.0, b.0), _mm256_sub_ps(self.1, b.1)) }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Plain([f32; 16]);

impl Lanes for Plain {
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        unsafe { Plain(*(p as *const [f32; 16])) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Plain([x; 16])
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        // No FMA here: a separate multiply and add, as baseline x86-64 has.
        Plain(std::array::from_fn(|l| a.0[l] * b.0[l] + c.0[l]))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { *(p as *mut [f32; 16]) = self.0 }
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        Plain(std::array::from_fn(|l| self.0[l] + b.0[l]))
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        Plain(std::array::from_fn(|l| self.0[l] - b.0[l]))
    }
}

/// `out[m, n] = act(a[m, k] · B[k, n] + bias)` with B packed in panels of 16
/// columns, `[panel][k][16]`, zero beyond `n`.
pub(crate) struct DenseArgs<'a> {
    pub k: usize,
    pub n: usize,
    pub panels: &'a [f32],
    /// `panels * 16` values, zero beyond `n`.
    pub bias: &'a [f32],
    pub act: Act,
}

/// Whether this CPU can run code compiled for `isa` (every AVX-512 CPU
/// has AVX2 and FMA).
pub(crate) fn supports(isa: Isa) -> bool {
    matches!(
        (isa, detected()),
        (Isa::Base, _) | (Isa::Avx2, Isa::Avx2 | Isa::Avx512) | (Isa::Avx512, Isa::Avx512)
    )
}

impl DenseArgs<'_> {
    /// Runs the variant for `isa`, which must be supported (else the
    /// baseline one runs).
    pub fn run(&self, isa: Isa, a: &[f32], m: usize, out: &mut [f32]) {
        let blocks = self.n.div_ceil(16);
        assert!(a.len() >= m * self.k && out.len() >= m * self.n);
        assert!(self.panels.len() >= blocks * self.k * 16 && self.bias.len() >= blocks * 16);
        let isa = if supports(isa) { isa } else { Isa::Base };
        match isa {
            // SAFETY: the CPU has the features the variant is compiled for (isa()).
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { dense_avx512(self, a, m, out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { dense_avx2(self, a, m, out) },
            _ => dense_plain(self, a, m, out),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn dense_avx512(d: &DenseArgs, a: &[f32], m: usize, out: &mut [f32]) {
    // Up to 4 rows x 4 panels (16 zmm accumulators of the 32); 8 rows
    // when one panel holds every column, so 8 sums are in flight.
    unsafe {
        if d.n <= 16 {
            dense_body::<Zmm, 8, 1>(d, a, m, out)
        } else {
            dense_body::<Zmm, 4, 4>(d, a, m, out)
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dense_avx2(d: &DenseArgs, a: &[f32], m: usize, out: &mut [f32]) {
    // 4 rows x 1 panel of 16 = 8 ymm accumulators of the 16.
    unsafe { dense_body::<Ymm2, 4, 1>(d, a, m, out) }
}

fn dense_plain(d: &DenseArgs, a: &[f32], m: usize, out: &mut [f32]) {
    // SAFETY: Plain needs no instruction set; bounds are asserted in run.
    unsafe { dense_body::<Plain, 2, 1>(d, a, m, out) }
}

/// # Safety
/// The CPU has `L`'s instruction set; `a`, `out` and the panels hold the
/// values `DenseArgs::run` asserts.
#[inline(always)]
unsafe fn dense_body<L: Lanes, const MR: usize, const NV: usize>(
    d: &DenseArgs,
    a: &[f32],
    m: usize,
    out: &mut [f32],
) {
    let blocks = d.n.div_ceil(16);
    let mut r = 0;
    while r + MR <= m {
        let mut b = 0;
        while b + NV <= blocks {
            unsafe { dense_tile::<L, MR, NV>(d, a, r, b, out) };
            b += NV;
        }
        while b < blocks {
            unsafe { dense_tile::<L, MR, 1>(d, a, r, b, out) };
            b += 1;
        }
        r += MR;
    }
    while r < m {
        for b in 0..blocks {
            unsafe { dense_tile::<L, 1, 1>(d, a, r, b, out) };
        }
        r += 1;
    }
}

/// Rows `r0..r0 + R`, panels `b0..b0 + V`.
///
/// # Safety
/// As `dense_body`, with `r0 + R <= m` and `b0 + V <= panels`.
#[inline(always)]
unsafe fn dense_tile<L: Lanes, const R: usize, const V: usize>(
    d: &DenseArgs,
    a: &[f32],
    r0: usize,
    b0: usize,
    out: &mut [f32],
) {
    let k = d.k;
    unsafe {
        let rows: [*const f32; R] = std::array::from_fn(|r| a.as_ptr().add((r0 + r) * k));
        let panels: [*const f32; V] =
            std::array::from_fn(|v| d.panels.as_ptr().add((b0 + v) * k * 16));
        let bias: [L; V] = std::array::from_fn(|v| L::load(d.bias.as_ptr().add((b0 + v) * 16)));
        let mut acc: [[L; V]; R] = [bias; R];
        for kk in 0..k {
            let w: [L; V] = std::array::from_fn(|v| L::load(panels[v].add(kk * 16)));
            for r in 0..R {
                let x = L::splat(*rows[r].add(kk));
                for v in 0..V {
                    acc[r][v] = L::fma(x, w[v], acc[r][v]);
                }
            }
        }
        let mut lanes = [0.0f32; 16];
        for (r, row_acc) in acc.iter().enumerate() {
            let row = &mut out[(r0 + r) * d.n..(r0 + r + 1) * d.n];
            for (v, sum) in row_acc.iter().enumerate() {
                sum.store(lanes.as_mut_ptr());
                let c0 = (b0 + v) * 16;
                let width = 16.min(d.n - c0);
                for (o, &x) in row[c0..c0 + width].iter_mut().zip(&lanes) {
                    *o = d.act.apply(x);
                }
            }
        }
    }
}

/// One panel of a group's weights: `stride` values a row (its width),
/// output channels from `o0`, `blocks` blocks of 16.
#[derive(Clone, Copy)]
struct Panel {
    w: *const f32,
    stride: usize,
    o0: usize,
    blocks: usize,
    /// The next panel's weights and their count (0 after the last panel).
    next: (*const f32, usize),
}

/// Output channels in one weight panel: the channels one register tile of
/// the widest instruction set covers (4 zmm), so a panel's weights (in
/// blocks of rows, see `blocking`) stay in the cache while every output
/// position of the sample streams past them.
pub(crate) const PANEL: usize = 64;

/// One group of a direct convolution over one (padded) sample: for every
/// output position `p` and output channel `o` of the group,
/// `sum over rows r of x[row_off[r] + pos_off[p]] * weight[r][o]`, written to
/// `out[o * positions + p]` (NCHW) after bias and activation.
pub(crate) struct ConvArgs<'a> {
    pub row_off: &'a [u32],
    pub pos_off: &'a [u32],
    /// Panels of `PANEL` channels, `[panel][rows][width]` where `width` is
    /// `PANEL` but for the last panel (`cout_pad - panel * PANEL`); zero
    /// beyond `cout` (see `panel_index`).
    pub weight: &'a [f32],
    pub cout: usize,
    pub cout_pad: usize,
    /// `cout` values.
    pub bias: &'a [f32],
    pub act: Act,
    /// Added to the sums before the activation, laid out as `out`.
    pub sum: Option<&'a [f32]>,
}

/// Where weight `(row, channel)` of a group lives in `ConvArgs::weight`.
pub(crate) fn panel_index(rows: usize, cout_pad: usize, row: usize, channel: usize) -> usize {
    let (panel, within) = (channel / PANEL, channel % PANEL);
    let width = PANEL.min(cout_pad - panel * PANEL);
    panel * PANEL * rows + row * width + within
}

impl ConvArgs<'_> {
    /// Runs the variant for `isa`, which must be supported (else the
    /// baseline one runs).
    pub fn run(&self, isa: Isa, x: &[f32], out: &mut [f32]) {
        let positions = self.pos_off.len();
        let rows = self.row_off.len();
        assert!(self.cout_pad.is_multiple_of(16) && self.cout <= self.cout_pad);
        assert!(self.weight.len() >= rows * self.cout_pad && self.bias.len() >= self.cout);
        assert!(out.len() >= self.cout * positions);
        assert!(self.sum.is_none_or(|s| s.len() >= self.cout * positions));
        // Every gathered index must fall inside x: checked once here so the
        // loops can read unchecked.
        let max_row = self.row_off.iter().max().copied().unwrap_or(0) as usize;
        let max_pos = self.pos_off.iter().max().copied().unwrap_or(0) as usize;
        assert!(rows == 0 || positions == 0 || max_row + max_pos < x.len());
        let isa = if supports(isa) { isa } else { Isa::Base };
        match isa {
            // SAFETY: the CPU has the features the variant is compiled for (isa()).
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { conv_avx512(self, x, out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { conv_avx2(self, x, out) },
            _ => conv_plain(self, x, out),
        }
    }

    /// The panels in order.
    fn panels(&self) -> impl Iterator<Item = Panel> + '_ {
        let rows = self.row_off.len();
        (0..self.cout_pad.div_ceil(PANEL)).map(move |panel| {
            let o0 = panel * PANEL;
            let width = PANEL.min(self.cout_pad - o0);
            let after = (o0 + width) * rows;
            Panel {
                w: self.weight[o0 * rows..].as_ptr(),
                stride: width,
                o0,
                blocks: width / 16,
                next: (
                    self.weight[after..].as_ptr(),
                    self.weight.len().min(self.cout_pad * rows) - after,
                ),
            }
        })
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn conv_avx512(c: &ConvArgs, x: &[f32], out: &mut [f32]) {
    // Register tiles of positions x blocks of 16 channels: 24 zmm
    // accumulators of the 32 for a full panel (6 x 4), as many as fit
    // beside the weights and the broadcast value for a narrower one.
    for panel in c.panels() {
        unsafe {
            match panel.blocks {
                4 => conv_panel::<Zmm, 6, 4>(c, x, out, panel),
                3 => conv_panel::<Zmm, 8, 3>(c, x, out, panel),
                2 => conv_panel::<Zmm, 12, 2>(c, x, out, panel),
                _ => conv_panel::<Zmm, 12, 1>(c, x, out, panel),
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn conv_avx2(c: &ConvArgs, x: &[f32], out: &mut [f32]) {
    // 6 positions x 1 block: 12 ymm accumulators of the 16.
    for panel in c.panels() {
        unsafe { conv_panel::<Ymm2, 6, 1>(c, x, out, panel) }
    }
}

fn conv_plain(c: &ConvArgs, x: &[f32], out: &mut [f32]) {
    for panel in c.panels() {
        // SAFETY: Plain needs no instruction set; bounds are asserted in run.
        unsafe { conv_panel::<Plain, 2, 1>(c, x, out, panel) }
    }
}

/// Every output position of one panel (`blocks` blocks of 16 channels from
/// channel `o0`; weights at `w`, `stride` values a row), in tiles of `P`
/// positions x `V` blocks; the rest in tiles of one position or one block.
///
/// # Safety
/// The CPU has `L`'s instruction set; the slices hold what `ConvArgs::run`
/// asserts and `w` is a panel of `ConvArgs::weight`.
#[inline(always)]
unsafe fn conv_panel<L: Lanes, const P: usize, const V: usize>(
    c: &ConvArgs,
    x: &[f32],
    out: &mut [f32],
    panel: Panel,
) {
    let blocks = panel.blocks;
    let positions = c.pos_off.len();
    let tile = Tile {
        c,
        x: x.as_ptr(),
        panel,
    };
    // The next block's weights (the next panel's after a panel's last
    // rows) come into the cache while this one computes: its first tile
    // waits for this block's weights from memory (when they are not
    // cached), so the next four each fetch a quarter of the next block, a
    // cache line per row summed.
    let rows = c.row_off.len();
    let (next, next_len) = panel.next;
    let weights_end = next.wrapping_add(next_len);
    let fetch_for = |tile: usize, k: &Rows| {
        let block = panel.w.wrapping_add(k.k1 * panel.stride);
        let start = block.wrapping_add(tile.checked_sub(1)? * (k.k1 - k.k0) * 16);
        (tile <= 4 && start < weights_end).then_some(start)
    };
    let (kc, band) = blocking(rows, positions, P);
    // Only a blocked panel keeps partial sums (zeroing 16 KB per panel
    // would be work for nothing otherwise).
    let mut partial = (kc < rows).then(|| Partial([0.0; PARTIAL]));
    let part = partial
        .as_mut()
        .map_or(std::ptr::null_mut(), |p| p.0.as_mut_ptr());
    let mut p_start = 0;
    while p_start < positions {
        let p_end = (p_start + band).min(positions);
        // Blocks of rows (at least one, so a conv without rows writes its bias).
        let mut k0 = 0;
        loop {
            let k = Rows {
                k0,
                k1: (k0 + kc).min(rows),
                p_start,
                partial: part,
            };
            let mut p = p_start;
            while p + P <= p_end {
                let mut b = 0;
                while b + V <= blocks {
                    let fetch = if b == 0 {
                        fetch_for((p - p_start) / P, &k)
                    } else {
                        None
                    };
                    unsafe { tile.run::<L, P, V>(p, b, out, fetch, b == 0, &k) };
                    b += V;
                }
                while b < blocks {
                    unsafe { tile.run::<L, P, 1>(p, b, out, None, false, &k) };
                    b += 1;
                }
                p += P;
            }
            while p < p_end {
                let mut b = 0;
                while b + V <= blocks {
                    unsafe { tile.run::<L, 1, V>(p, b, out, None, false, &k) };
                    b += V;
                }
                while b < blocks {
                    unsafe { tile.run::<L, 1, 1>(p, b, out, None, false, &k) };
                    b += 1;
                }
                p += 1;
            }
            k0 = k.k1;
            if k0 >= rows {
                break;
            }
        }
        p_start = p_end;
    }
}

/// Partial sums of a band of positions between blocks of rows:
/// `[position - p_start][PANEL]`.
const PARTIAL: usize = 64 * PANEL;

#[repr(align(64))]
struct Partial([f32; PARTIAL]);

/// Rows per block when a panel's rows are blocked: 64 rows of a 64-wide
/// panel are 16 KB of weights, which stay in L1 beside a band's partial
/// sums (16 KB) on both the 32 KB and the 48 KB L1s measured.
const KC: usize = 64;

/// Panels of up to this many rows (40 KB) are walked whole: the stem of
/// ResNet-50 (147 rows) ran 1.06x slower in two blocks.
const WHOLE: usize = 160;

/// Rows per block and positions per band. A panel's weights for all rows
/// stream from L2 once per tile of positions when they do not fit L1
/// (512 -> 512 3x3 layers: 1.2 MB a panel for every 6 positions); in
/// blocks of `KC` rows a band of positions walks one block's weights
/// (kept in L1) before the next, its sums kept in `Partial` between
/// blocks. ResNet-50's 512-channel 3x3 layers: 1.6x faster.
fn blocking(rows: usize, positions: usize, p: usize) -> (usize, usize) {
    if rows <= WHOLE {
        return (rows.max(1), positions);
    }
    // Bands of whole tiles (bands of 64 at 6 positions a tile ended in 4
    // one-position tiles each), as even as they come.
    let max_band = BAND / p * p;
    let blocks = rows.div_ceil(KC);
    let bands = positions.div_ceil(max_band);
    let band = positions.div_ceil(bands).div_ceil(p) * p;
    (rows.div_ceil(blocks), band)
}

/// Most positions in a band (the rows of `Partial`).
const BAND: usize = PARTIAL / PANEL;

/// The rows `k0..k1` of a tile's sums; the band of positions from
/// `p_start` keeps its sums at `partial` between blocks (null when the
/// panel is one block: then never read or written).
struct Rows {
    k0: usize,
    k1: usize,
    p_start: usize,
    partial: *mut f32,
}

/// A panel of a convolution, walked one register tile at a time.
struct Tile<'a> {
    c: &'a ConvArgs<'a>,
    x: *const f32,
    panel: Panel,
}

impl Tile<'_> {
    /// Positions `p0..p0 + P`, the panel's blocks `b0..b0 + V`; each sum
    /// runs over the rows in order. `ahead`: each row's input a cache line
    /// past the tile is fetched for the tiles that follow (a row per input
    /// channel and window offset: more streams than the hardware
    /// prefetchers follow; ResNet-50 0.97x).
    ///
    /// # Safety
    /// As `conv_panel`, with `p0 + P <= positions` and `b0 + V` within the
    /// panel.
    #[inline(always)]
    unsafe fn run<L: Lanes, const P: usize, const V: usize>(
        &self,
        p0: usize,
        b0: usize,
        out: &mut [f32],
        fetch: Option<*const f32>,
        ahead: bool,
        k: &Rows,
    ) {
        let c = self.c;
        let positions = c.pos_off.len();
        let rows = c.row_off.len();
        unsafe {
            let xs: [*const f32; P] =
                std::array::from_fn(|j| self.x.add(*c.pos_off.get_unchecked(p0 + j) as usize));
            let partial =
                |j: usize, v: usize| k.partial.add((p0 - k.p_start + j) * PANEL + (b0 + v) * 16);
            let mut acc: [[L; V]; P] = if k.k0 == 0 {
                [[L::splat(0.0); V]; P]
            } else {
                std::array::from_fn(|j| std::array::from_fn(|v| L::load(partial(j, v))))
            };
            let stride = self.panel.stride;
            let mut w_row = self.panel.w.add(k.k0 * stride + b0 * 16);
            let mut fetch = fetch;
            for &row_off in c.row_off.get_unchecked(k.k0..k.k1) {
                if let Some(line) = fetch {
                    prefetch(line);
                    fetch = Some(line.wrapping_add(16));
                }
                let base = row_off as usize;
                if ahead {
                    prefetch(xs[P - 1].wrapping_add(base + 16));
                }
                let w: [L; V] = std::array::from_fn(|v| L::load(w_row.add(v * 16)));
                for j in 0..P {
                    let value = L::splat(*xs[j].add(base));
                    for v in 0..V {
                        acc[j][v] = L::fma(value, w[v], acc[j][v]);
                    }
                }
                w_row = w_row.add(stride);
            }
            if k.k1 < rows {
                for (j, acc) in acc.iter().enumerate() {
                    for (v, a) in acc.iter().enumerate() {
                        a.store(partial(j, v));
                    }
                }
                return;
            }
            // Each block: its sums for the P positions laid out
            // `[position][channel]`, then written channel by channel as
            // runs of P positions (NCHW), bias and activation on the way.
            let mut sums = [[0.0f32; 16]; P];
            for v in 0..V {
                let o0 = self.panel.o0 + (b0 + v) * 16;
                let channels = c.cout.saturating_sub(o0).min(16);
                if channels == 0 {
                    continue;
                }
                let at = o0 * positions + p0;
                let block = Block {
                    channels,
                    positions,
                    bias: c.bias.as_ptr().add(o0),
                    sum: c.sum.map(|s| s.as_ptr().add(at)),
                    out: out.as_mut_ptr().add(at),
                };
                // A full tile of 6 positions x 16 channels transposed in
                // registers (the scalar walk below was a tenth of
                // ResNet-50's convolution time).
                if P == 6 && channels == 16 && matches!(c.act, Act::None | Act::Relu) {
                    let rows: [L; 6] = std::array::from_fn(|j| acc[j][v]);
                    if L::write_columns6(&rows, &block, c.act == Act::Relu) {
                        continue;
                    }
                }
                for j in 0..P {
                    acc[j][v].store(sums[j].as_mut_ptr());
                }
                match c.act {
                    Act::None => block.write(&sums, |x| x),
                    Act::Relu => block.write(&sums, |x| Act::Relu.apply(x)),
                    act => block.write(&sums, |x| act.apply(x)),
                }
            }
        }
    }
}

/// Where one block of 16 channels of a tile goes: `out` (and `sum`) at
/// its first channel and position, `positions` apart a channel.
pub(crate) struct Block {
    channels: usize,
    positions: usize,
    bias: *const f32,
    sum: Option<*const f32>,
    out: *mut f32,
}

impl Block {
    /// `out[l * positions + j] = act(sums[j][l] + bias[l] (+ sum[...]))`
    /// for the first `channels` channels.
    ///
    /// # Safety
    /// `bias` holds `channels` values; `out` (and `sum`) every index written.
    #[inline(always)]
    unsafe fn write<const P: usize>(&self, sums: &[[f32; 16]; P], act: impl Fn(f32) -> f32) {
        for l in 0..self.channels {
            unsafe {
                let b = *self.bias.add(l);
                let row = self.out.add(l * self.positions);
                match self.sum {
                    None => {
                        for (j, s) in sums.iter().enumerate() {
                            *row.add(j) = act(s[l] + b);
                        }
                    }
                    Some(sum) => {
                        let add = sum.add(l * self.positions);
                        for (j, s) in sums.iter().enumerate() {
                            *row.add(j) = act(s[l] + b + *add.add(j));
                        }
                    }
                }
            }
        }
    }
}

/// As `prefetch`, into the L1 cache.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn prefetch_l1(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that does not access memory.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }
}

/// Asks for the cache line at `p` to be brought into the L2 cache (a hint:
/// never faults, whatever `p` is).
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
fn prefetch(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that does not access memory.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T1>(p as *const i8)
    }
}
