//! Input encoders: how a static sample becomes a per-step input.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encode {
    /// The sample itself is the input current at every step.
    Current,
    /// Bernoulli spikes with probability `clamp(x, 0, 1)` per step (snnTorch
    /// `spikegen.rate`), or `x * max_rate * dt` when `max_rate` is given (Hz).
    /// Each sample has its own stream seeded from `seed` and the sample's index
    /// in the data set, so results do not depend on the batch size.
    Rate { max_rate: Option<f32>, seed: u64 },
    /// One spike per input at `t = tau * ln(x / (x - threshold))` (seconds),
    /// i.e. at step `floor(t / dt)`; inputs at or below threshold never spike.
    Latency { tau: f32, threshold: f32 },
    /// A spike (+1 or -1) where the input changed by more than `threshold`
    /// since the previous step; a static sample changes once, from 0 at step 0.
    Delta { threshold: f32 },
}

impl Encode {
    /// Whether the encoded input is the same at every step (layers fed only by
    /// it are then computed once per batch).
    pub fn is_static(&self) -> bool {
        matches!(self, Encode::Current)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Encode::Current => "current",
            Encode::Rate { .. } => "rate",
            Encode::Latency { .. } => "latency",
            Encode::Delta { .. } => "delta",
        }
    }

    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        let bad = |message: String| {
            Err(crate::Error::Option {
                name: "encode",
                message,
            })
        };
        match *self {
            Encode::Rate {
                max_rate: Some(rate),
                ..
            } if !(rate.is_finite() && rate > 0.0) => {
                bad(format!("max_rate must be positive, found {rate}"))
            }
            Encode::Latency { tau, threshold }
                if !(tau.is_finite() && tau > 0.0 && threshold.is_finite()) =>
            {
                bad(format!(
                    "latency needs tau > 0 and a finite threshold, found tau {tau}, threshold {threshold}"
                ))
            }
            Encode::Delta { threshold } if !(threshold.is_finite() && threshold >= 0.0) => {
                bad(format!("delta threshold must be >= 0, found {threshold}"))
            }
            _ => Ok(()),
        }
    }

    /// Writes the input of `step` for a batch whose first sample is
    /// `first_sample` of the data set.
    pub(crate) fn step(
        &self,
        step: usize,
        dt: f32,
        first_sample: usize,
        samples: &[f32],
        per_sample: usize,
        out: &mut [f32],
    ) {
        match *self {
            Encode::Current => out.copy_from_slice(samples),
            Encode::Rate { max_rate, seed } => {
                for (index, (x, y)) in samples
                    .chunks_exact(per_sample)
                    .zip(out.chunks_exact_mut(per_sample))
                    .enumerate()
                {
                    let mut rng =
                        SplitMix::for_step(seed, (first_sample + index) as u64, step as u64);
                    for (&value, spike) in x.iter().zip(y.iter_mut()) {
                        let p = match max_rate {
                            Some(rate) => value * rate * dt,
                            None => value.clamp(0.0, 1.0),
                        };
                        *spike = if rng.next_f32() < p { 1.0 } else { 0.0 };
                    }
                }
            }
            Encode::Latency { tau, threshold } => {
                for (&x, spike) in samples.iter().zip(out.iter_mut()) {
                    *spike = 0.0;
                    if x > threshold {
                        let t = tau * (x / (x - threshold)).ln();
                        let at = (t / dt).floor();
                        if at.is_finite() && at >= 0.0 && at as usize == step {
                            *spike = 1.0;
                        }
                    }
                }
            }
            Encode::Delta { threshold } => {
                for (&x, spike) in samples.iter().zip(out.iter_mut()) {
                    // Static data: the only change is from 0 to x at step 0.
                    *spike = if step == 0 && x.abs() > threshold {
                        x.signum()
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// SplitMix64: tiny, fast and good enough for Bernoulli spike trains.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// An independent stream per (seed, sample, step): any step of any sample
    /// can be drawn without replaying the others.
    pub fn for_step(seed: u64, sample: u64, step: u64) -> SplitMix {
        let mut mixer = SplitMix(seed ^ sample.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let a = mixer.next_u64();
        SplitMix(a ^ step.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }
}
