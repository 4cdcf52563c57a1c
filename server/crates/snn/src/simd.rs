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
