//! Activations fused into the kernel that produces their input. A leaf module:
//! the scalar kernels and the SIMD kernels both apply them.

/// An activation fused into the kernel that produces its input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Act {
    None,
    Relu,
    LeakyRelu(f32),
    Clip(f32, f32),
}

impl Act {
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Act::None => x,
            Act::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            Act::LeakyRelu(alpha) => {
                if x < 0.0 {
                    x * alpha
                } else {
                    x
                }
            }
            Act::Clip(lo, hi) => clip(x, lo, hi),
        }
    }
}

/// ONNX Clip: NaN stays NaN.
#[inline(always)]
pub(crate) fn clip(x: f32, lo: f32, hi: f32) -> f32 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}
