//! The vector unit the kernels use, decided once per process: every SIMD
//! dispatch in the crate asks [`isa`] instead of probing the CPU again.

use std::sync::OnceLock;

/// The widest instruction set the kernels have a variant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Base,
    /// AVX2 is present (the AVX2 variants may run).
    Avx2,
    /// AVX-512F is present (the AVX-512 variants may run).
    Avx512,
}

pub(crate) fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(detected)
}

fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Isa::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Isa::Avx2;
        }
    }
    Isa::Base
}

/// Sixteen f32 lanes: one zmm register with AVX-512, two ymm with AVX2, an
/// array otherwise. The kernels are written once over this trait and
/// compiled per instruction set (the compiler's own vectoriser left the
/// 16-wide conv updates scalar). Multiplies and adds stay separate (no
/// FMA), so every variant gives the same bits.
pub(crate) trait F32x16: Copy {
    /// # Safety
    /// The CPU has the instruction set; `p` points at 16 readable f32.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// The CPU has the instruction set; `p` points at 16 writable f32.
    unsafe fn store(self, p: *mut f32);
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn splat(x: f32) -> Self;
    /// `self + a * b`, the product rounded before the sum.
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn add_mul(self, a: Self, b: Self) -> Self;
}

#[derive(Clone, Copy)]
pub(crate) struct Scalar16([f32; 16]);

impl F32x16 for Scalar16 {
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 16 readable values.
        Scalar16(unsafe { std::ptr::read_unaligned(p as *const [f32; 16]) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 16 writable values.
        unsafe { std::ptr::write_unaligned(p as *mut [f32; 16], self.0) }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Scalar16([x; 16])
    }
    #[inline(always)]
    unsafe fn add_mul(self, a: Self, b: Self) -> Self {
        Scalar16(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Ymm2, Zmm};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F32x16;
    use std::arch::x86_64::{
        __m256, __m512, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps,
        _mm256_storeu_ps, _mm512_add_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps,
        _mm512_storeu_ps,
    };

    #[derive(Clone, Copy)]
    pub(crate) struct Zmm(__m512);

    impl F32x16 for Zmm {
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { Zmm(_mm512_loadu_ps(p)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm512_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { Zmm(_mm512_set1_ps(x)) }
        }
        #[inline(always)]
        unsafe fn add_mul(self, a: Self, b: Self) -> Self {
            unsafe { Zmm(_mm512_add_ps(self.0, _mm512_mul_ps(a.0, b.0))) }
        }
    }

    #[derive(Clone, Copy)]
    pub(crate) struct Ymm2(__m256, __m256);

    impl F32x16 for Ymm2 {
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { Ymm2(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe {
                _mm256_storeu_ps(p, self.0);
                _mm256_storeu_ps(p.add(8), self.1);
            }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { Ymm2(_mm256_set1_ps(x), _mm256_set1_ps(x)) }
        }
        #[inline(always)]
        unsafe fn add_mul(self, a: Self, b: Self) -> Self {
            unsafe {
                Ymm2(
                    _mm256_add_ps(self.0, _mm256_mul_ps(a.0, b.0)),
                    _mm256_add_ps(self.1, _mm256_mul_ps(a.1, b.1)),
                )
            }
        }
    }
}
