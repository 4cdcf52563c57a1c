//! Neuron models, stepped exactly as the reference frameworks step them
//! (SNN.md). Every step function is generic over f32/f64 because the
//! references differ: Nengo computes in float64, snnTorch in float32, and a
//! trace only matches to 1e-6 when computed in the reference's own precision.

use serde::{Deserialize, Serialize};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The float operations the neuron updates need.
pub trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    fn from_f64(value: f64) -> Self;
    fn exp_m1(self) -> Self;
    fn ln_1p(self) -> Self;
    fn floor(self) -> Self;
}

/// `Real` for a float type by its own methods.
macro_rules! real {
    ($float:ident) => {
        impl Real for $float {
            fn from_f64(value: f64) -> Self {
                value as $float
            }
            fn exp_m1(self) -> Self {
                $float::exp_m1(self)
            }
            fn ln_1p(self) -> Self {
                $float::ln_1p(self)
            }
            fn floor(self) -> Self {
                $float::floor(self)
            }
        }
    };
}

real!(f32);
real!(f64);

/// snnTorch's spike: 1 when the membrane is above the threshold, else 0.
fn heaviside<F: Real>(membrane: F, threshold: F) -> F {
    if membrane - threshold > F::from_f64(0.0) {
        F::from_f64(1.0)
    } else {
        F::from_f64(0.0)
    }
}

fn clip<F: Real>(value: F, low: F, high: F) -> F {
    if value < low {
        low
    } else if value > high {
        high
    } else {
        value
    }
}

/// How a membrane is reset after a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reset {
    /// Subtract the threshold (keeps the residual charge: rate coding stays exact).
    Subtract,
    /// Set the membrane to zero.
    Zero,
}

impl Reset {
    pub fn name(self) -> &'static str {
        match self {
            Reset::Subtract => "subtract",
            Reset::Zero => "zero",
        }
    }
}

/// A spiking neuron model with its parameters (times in seconds).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Neuron {
    /// Nengo `LIF`: zero-order-hold membrane update, refractory period,
    /// sub-step spike time; threshold 1.
    Lif {
        tau_rc: f32,
        tau_ref: f32,
        min_voltage: f32,
    },
    /// Integrate-and-fire. With `Reset::Subtract` and `rectify` it is Nengo's
    /// `SpikingRectifiedLinear` (several spikes per step possible); without
    /// `rectify` negative currents lower the membrane, as ANN->SNN conversion
    /// (Rueckauer 2017) needs. With `Reset::Zero`: one spike, membrane to 0.
    ///
    /// Two conversion variants (docs/snn.md, "Low-latency conversion"):
    /// `max_spikes` caps the spikes of one step (1: the classic single-spike
    /// neuron; more: a burst neuron; `None`: as many as the membrane holds),
    /// and `signed` lets a neuron that has fired take spikes back: when its
    /// membrane drops below 0 it emits -1 (and gains a threshold), never more
    /// than it has emitted, so its output total stays >= 0, as the ReLU's.
    If(IfNeuron),
    /// snnTorch `Leaky` (beta clamped to [0, 1]).
    Leaky {
        beta: f32,
        threshold: f32,
        reset: Reset,
    },
    /// snnTorch `Synaptic`: a synaptic current state feeding a Leaky membrane.
    Synaptic {
        alpha: f32,
        beta: f32,
        threshold: f32,
        reset: Reset,
    },
    /// One of NIR's neuron models (I, LI, IF, LIF, CubaLI, CubaLIF, and
    /// Threshold), its continuous-time equations discretised with forward
    /// Euler (docs/nir.md).
    Nir(NirNeuron),
}

impl Neuron {
    /// Nengo's LIF defaults (tau_rc 20 ms, tau_ref 2 ms, min_voltage 0).
    pub fn nengo_lif() -> Neuron {
        Neuron::Lif {
            tau_rc: 0.02,
            tau_ref: 0.002,
            min_voltage: 0.0,
        }
    }

    /// The IF neuron used for converted networks: subtract reset, no rectification.
    pub fn conversion_if() -> Neuron {
        Neuron::If(IfNeuron::conversion())
    }

    /// Whether the state keeps a second value per neuron (`NeuronState::aux`):
    /// LIF's refractory time, Synaptic's and NIR CubaLI/CubaLIF's current, a
    /// signed IF's spike total.
    pub fn needs_aux(&self) -> bool {
        match self {
            Neuron::Lif { .. } | Neuron::Synaptic { .. } => true,
            Neuron::If(neuron) => neuron.signed,
            Neuron::Leaky { .. } => false,
            Neuron::Nir(nir) => nir.model.has_synapse(),
        }
    }

    /// The most spikes a neuron emits per step: its `max_spikes`, else
    /// unbounded. The rate approximation of a layer (its ANN pass)
    /// saturates there.
    pub fn max_rate(&self) -> f32 {
        match self {
            Neuron::If(neuron) => neuron.spike_cap(),
            _ => f32::INFINITY,
        }
    }

    pub fn threshold(&self) -> f32 {
        match *self {
            Neuron::Nir(nir) => nir.v_threshold,
            Neuron::Lif { .. } => 1.0,
            Neuron::If(IfNeuron { threshold, .. })
            | Neuron::Leaky { threshold, .. }
            | Neuron::Synaptic { threshold, .. } => threshold,
        }
    }

    pub fn op_name(&self) -> &'static str {
        match self {
            Neuron::Lif { .. } => "LIF",
            Neuron::If(_) => "IF",
            Neuron::Leaky { .. } => "Leaky",
            Neuron::Synaptic { .. } => "Synaptic",
            Neuron::Nir(nir) => nir.model.name(),
        }
    }

    /// Whether the layer emits spikes; NIR's integrators (I, LI, CubaLI)
    /// output their membrane instead.
    pub fn is_spiking(&self) -> bool {
        match self {
            Neuron::Nir(nir) => nir.model.is_spiking(),
            _ => true,
        }
    }

    /// The membrane at rest, where a simulation starts it (added to the
    /// layer's `initial_membrane` fraction of the threshold): NIR neurons
    /// rest at `v_leak` (Norse starts them there; snnTorch's `v_leak` is 0).
    pub fn resting(&self) -> f32 {
        match self {
            Neuron::Nir(nir) if nir.model.has_leak() => nir.v_leak as f32,
            _ => 0.0,
        }
    }

    /// Checks parameters that would make the update meaningless.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Neuron::Lif {
                tau_rc,
                tau_ref,
                min_voltage,
            } => {
                positive("tau_rc", tau_rc, "number")?;
                if !(tau_ref.is_finite() && tau_ref >= 0.0) {
                    return Err(format!("tau_ref must be >= 0, found {tau_ref}"));
                }
                if !min_voltage.is_finite() {
                    return Err(format!("min_voltage must be finite, found {min_voltage}"));
                }
                Ok(())
            }
            Neuron::If(neuron) => neuron.validate(),
            Neuron::Leaky { threshold, .. } | Neuron::Synaptic { threshold, .. } => {
                positive("threshold", threshold, "number")
            }
            Neuron::Nir(nir) => nir.validate(),
        }
    }
}

/// The parameters of an integrate-and-fire neuron ([`Neuron::If`], whose
/// documentation says what each does).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IfNeuron {
    pub threshold: f32,
    pub reset: Reset,
    pub rectify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_spikes: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signed: bool,
}

impl IfNeuron {
    /// The neuron of converted networks: threshold 1, subtract reset, no
    /// rectification, no spike cap, unsigned.
    pub fn conversion() -> IfNeuron {
        IfNeuron {
            threshold: 1.0,
            reset: Reset::Subtract,
            rectify: false,
            max_spikes: None,
            signed: false,
        }
    }

    /// The most spikes it emits in a step: `max_spikes`, else infinite.
    pub fn spike_cap(&self) -> f32 {
        self.max_spikes.map_or(f32::INFINITY, |m| m as f32)
    }

    pub fn validate(&self) -> Result<(), String> {
        positive("threshold", self.threshold, "number")?;
        if self.max_spikes == Some(0) {
            return Err("max_spikes must be at least 1 (leave it out for no limit)".into());
        }
        if self.signed && self.reset != Reset::Subtract {
            return Err("a signed neuron needs reset: subtract".into());
        }
        Ok(())
    }

    /// [`Neuron::step_slices`] for this neuron: the plain update when
    /// nothing caps or signs its spikes, else the capped one.
    fn step_slices(
        &self,
        current: &[f32],
        membrane: &mut [f32],
        aux: &mut [f32],
        spikes: &mut [f32],
    ) {
        let params = IfParams {
            threshold: self.threshold,
            reset: self.reset,
            rectify: self.rectify,
        };
        if self.max_spikes.is_none() && !self.signed {
            if_step_f32(params, current, membrane, spikes)
        } else {
            let caps = IfCaps {
                params,
                max_spikes: self.spike_cap(),
                signed: self.signed,
            };
            if_step_capped(caps, current, membrane, aux, spikes)
        }
    }
}

/// `Ok` when parameter `name` is a positive (finite) number, else the error
/// that it must be a positive `what`.
fn positive<T: Copy + Into<f64> + std::fmt::Display>(
    name: &str,
    value: T,
    what: &str,
) -> Result<(), String> {
    let number: f64 = value.into();
    if number.is_finite() && number > 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be a positive {what}, found {value}"))
    }
}

/// The state of one layer of neurons (flat, batch-major).
#[derive(Clone, Debug)]
pub struct NeuronState {
    pub membrane: Vec<f32>,
    /// LIF: remaining refractory time; Synaptic: the synaptic current.
    pub aux: Vec<f32>,
}

impl NeuronState {
    /// `len` neurons at `initial_membrane`; `aux` is allocated only for
    /// neurons that use it ([`Neuron::needs_aux`]), else it stays empty.
    pub fn new(len: usize, initial_membrane: f32, with_aux: bool) -> NeuronState {
        NeuronState {
            membrane: vec![initial_membrane; len],
            aux: if with_aux { vec![0.0; len] } else { Vec::new() },
        }
    }
}

impl Neuron {
    /// Advances `state` by one step of input current `current`, writing the
    /// number of spikes of each neuron into `spikes` (0, 1, or more for IF
    /// with subtract reset).
    pub fn step(&self, dt: f32, current: &[f32], state: &mut NeuronState, spikes: &mut [f32]) {
        self.step_slices(dt, current, &mut state.membrane, &mut state.aux, spikes);
    }

    /// `step` on a part of a state (every neuron's update is independent,
    /// so stepping a layer in pieces gives the same result as in one go).
    /// `aux` may be empty for a neuron that does not need it.
    pub fn step_slices(
        &self,
        dt: f32,
        current: &[f32],
        membrane: &mut [f32],
        aux: &mut [f32],
        spikes: &mut [f32],
    ) {
        match *self {
            Neuron::Lif {
                tau_rc,
                tau_ref,
                min_voltage,
            } => {
                let params = LifParams {
                    tau_rc: tau_rc as f64,
                    tau_ref: tau_ref as f64,
                    min_voltage: min_voltage as f64,
                    amplitude: dt as f64,
                };
                // amplitude = dt makes `out` the spike count (amplitude / dt = 1).
                lif_step(&params, dt, current, membrane, aux, spikes);
            }
            Neuron::If(neuron) => neuron.step_slices(current, membrane, aux, spikes),
            Neuron::Leaky {
                beta,
                threshold,
                reset,
            } => leaky_step(beta, threshold, reset, current, membrane, spikes),
            Neuron::Synaptic {
                alpha,
                beta,
                threshold,
                reset,
            } => synaptic_step(
                alpha, beta, threshold, reset, current, aux, membrane, spikes,
            ),
            Neuron::Nir(nir) => nir_step(&nir.coefficients(dt), current, membrane, aux, spikes),
        }
    }
}

/// Nengo LIF parameters (seconds).
#[derive(Clone, Copy, Debug)]
pub struct LifParams {
    pub tau_rc: f64,
    pub tau_ref: f64,
    pub min_voltage: f64,
    pub amplitude: f64,
}

impl Default for LifParams {
    fn default() -> Self {
        LifParams {
            tau_rc: 0.02,
            tau_ref: 0.002,
            min_voltage: 0.0,
            amplitude: 1.0,
        }
    }
}

/// One step of `nengo.LIF.step`, operation for operation.
pub fn lif_step<F: Real>(
    params: &LifParams,
    dt: impl Into<f64>,
    current: &[F],
    voltage: &mut [F],
    refractory: &mut [F],
    out: &mut [F],
) {
    let dt_f64: f64 = dt.into();
    let dt = F::from_f64(dt_f64);
    let tau_rc = F::from_f64(params.tau_rc);
    let tau_ref = F::from_f64(params.tau_ref);
    let min_voltage = F::from_f64(params.min_voltage);
    let zero = F::from_f64(0.0);
    let one = F::from_f64(1.0);
    let spike_value = F::from_f64(params.amplitude / dt_f64);
    for i in 0..current
        .len()
        .min(voltage.len())
        .min(refractory.len())
        .min(out.len())
    {
        let j = current[i];
        refractory[i] = refractory[i] - dt;
        let delta_t = clip(dt - refractory[i], zero, dt);
        let mut v = voltage[i];
        v = v - (j - v) * (-delta_t / tau_rc).exp_m1();
        let spiked = v > one;
        out[i] = if spiked { spike_value } else { zero };
        if spiked {
            let t_spike = dt + tau_rc * (-(v - one) / (j - one)).ln_1p();
            v = zero;
            refractory[i] = tau_ref + t_spike;
        } else if v < min_voltage {
            v = min_voltage;
        }
        voltage[i] = v;
    }
}

/// `nengo.LIFRate` rate for input current `j` (spikes per second).
pub fn lif_rate(params: &LifParams, j: f64) -> f64 {
    if j > 1.0 {
        params.amplitude / (params.tau_ref + params.tau_rc * (1.0 / (j - 1.0)).ln_1p())
    } else {
        0.0
    }
}

/// `nengo.LIF.gain_bias`: gain and bias giving `max_rate` at x = 1 and
/// threshold crossing at x = `intercept`.
pub fn lif_gain_bias(params: &LifParams, max_rate: f64, intercept: f64) -> (f64, f64) {
    let x = 1.0 / (1.0 - ((params.tau_ref - 1.0 / max_rate) / params.tau_rc).exp());
    let gain = (1.0 - x) / (intercept - 1.0);
    let bias = 1.0 - gain * intercept;
    (gain, bias)
}

/// Integrate-and-fire. `spikes` receives the spike count of each neuron.
/// `if_step` in f32, compiled for AVX-512 when the CPU has it (the crate is
/// built for baseline x86-64: 4-wide SSE). The same operations in the same
/// order (no FMA), so the same bits; the converted nets' hottest update.
fn if_step_f32(params: IfParams<f32>, current: &[f32], membrane: &mut [f32], spikes: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::isa() == crate::simd::Isa::Avx512 {
        #[target_feature(enable = "avx512f")]
        unsafe fn wide(
            params: IfParams<f32>,
            current: &[f32],
            membrane: &mut [f32],
            spikes: &mut [f32],
        ) {
            if_step(params, current, membrane, spikes)
        }
        // SAFETY: the CPU supports AVX-512F (`isa` detected it).
        return unsafe { wide(params, current, membrane, spikes) };
    }
    if_step(params, current, membrane, spikes)
}

/// The parameters of an integrate-and-fire neuron without a spike cap.
#[derive(Clone, Copy, Debug)]
pub struct IfParams<F> {
    pub threshold: F,
    pub reset: Reset,
    /// Negative currents count as zero.
    pub rectify: bool,
}

#[inline]
pub fn if_step<F: Real>(params: IfParams<F>, current: &[F], membrane: &mut [F], spikes: &mut [F]) {
    let IfParams {
        threshold,
        reset,
        rectify,
    } = params;
    let zero = F::from_f64(0.0);
    let one = F::from_f64(1.0);
    let n = current.len().min(membrane.len()).min(spikes.len());
    let (current, membrane, spikes) = (&current[..n], &mut membrane[..n], &mut spikes[..n]);
    match reset {
        Reset::Subtract => {
            // A branch-free pass (vectorises) handling zero or one spike; the
            // rare neurons left at or above threshold get the rest after.
            let mut any_left = false;
            for ((&j, v), s) in current
                .iter()
                .zip(membrane.iter_mut())
                .zip(spikes.iter_mut())
            {
                let j = if rectify && j < zero { zero } else { j };
                let value = *v + j;
                let fired = if value >= threshold { one } else { zero };
                let rest = value - fired * threshold;
                *v = rest;
                *s = fired;
                any_left |= rest >= threshold;
            }
            if any_left {
                for (v, s) in membrane.iter_mut().zip(spikes.iter_mut()) {
                    if *v >= threshold {
                        let more = (*v / threshold).floor();
                        *v = *v - more * threshold;
                        *s = *s + more;
                    }
                }
            }
        }
        Reset::Zero => {
            for ((&j, v), s) in current
                .iter()
                .zip(membrane.iter_mut())
                .zip(spikes.iter_mut())
            {
                let j = if rectify && j < zero { zero } else { j };
                let value = *v + j;
                let fired = value >= threshold;
                *v = if fired { zero } else { value };
                *s = if fired { one } else { zero };
            }
        }
    }
}

/// The parameters of an IF neuron with a spike cap or signed spikes.
#[derive(Clone, Copy, Debug)]
struct IfCaps {
    params: IfParams<f32>,
    /// Spikes per step at most (infinite: no cap).
    max_spikes: f32,
    signed: bool,
}

/// IF with `max_spikes` and/or `signed`: after integrating, up to
/// `max_spikes` spikes leave with subtract reset (charge beyond the cap stays
/// in the membrane); a signed neuron whose membrane is below 0 and that has
/// a positive total (kept in `total`) emits up to that many -1 spikes, each
/// adding a threshold back. With the membrane started at half the threshold,
/// a signed neuron's total is the cumulative input rounded to whole spikes.
fn if_step_capped(
    caps: IfCaps,
    current: &[f32],
    membrane: &mut [f32],
    total: &mut [f32],
    spikes: &mut [f32],
) {
    let IfParams {
        threshold,
        reset,
        rectify,
    } = caps.params;
    if !caps.signed && reset == Reset::Subtract {
        return if_step_capped_subtract(caps, current, membrane, spikes);
    }
    for (i, ((&j, v), s)) in current
        .iter()
        .zip(membrane.iter_mut())
        .zip(spikes.iter_mut())
        .enumerate()
    {
        let j = if rectify && j < 0.0 { 0.0 } else { j };
        let value = *v + j;
        let mut n = 0.0f32;
        if value >= threshold {
            n = match reset {
                Reset::Subtract => (value / threshold).floor().min(caps.max_spikes),
                Reset::Zero => 1.0,
            };
            *v = match reset {
                Reset::Subtract => value - n * threshold,
                Reset::Zero => 0.0,
            };
        } else {
            *v = value;
        }
        if caps.signed {
            let emitted = total[i];
            if n == 0.0 && *v < 0.0 && emitted > 0.0 {
                let back = (-*v / threshold).ceil().min(emitted).min(caps.max_spikes);
                *v += back * threshold;
                n = -back;
            }
            total[i] = emitted + n;
        }
        *s = n;
    }
}

/// `floor(q)` for `q >= 0` without a libm call (the crate's baseline
/// x86-64 has no `roundps`, so `f32::floor` is a call per neuron) and
/// without an int conversion (Rust's saturating cast is scalarised): below
/// 2^23, `(q + 2^23) - 2^23` is q rounded to the nearest integer (the sum's
/// ulp is 1), one less when that rounded up; from 2^23 up every f32 is an
/// integer.
#[inline(always)]
fn floor_nonnegative(q: f32) -> f32 {
    const TWO_23: f32 = 8_388_608.0;
    let nearest = (q + TWO_23) - TWO_23;
    let floor = if nearest > q { nearest - 1.0 } else { nearest };
    if q < TWO_23 { floor } else { q }
}

/// `if_step_capped` for unsigned subtract-reset neurons (`--max-spikes N`,
/// the converted nets' single-spike neurons): the same operations on every
/// neuron without a branch, written in AVX-512 where the CPU has it (the
/// compiler's vectoriser left the loop scalar, a division per neuron);
/// bit-identical to the general loop (the floor is exact, tested).
fn if_step_capped_subtract(
    caps: IfCaps,
    current: &[f32],
    membrane: &mut [f32],
    spikes: &mut [f32],
) {
    let n = current.len().min(membrane.len()).min(spikes.len());
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if crate::simd::isa() == crate::simd::Isa::Avx512 {
        done = n / 16 * 16;
        // SAFETY: the CPU supports AVX-512F (`isa` detected it); the first
        // `done` values of each slice exist.
        unsafe {
            capped_subtract_avx512(
                caps,
                &current[..done],
                &mut membrane[..done],
                &mut spikes[..done],
            )
        };
    }
    let IfParams {
        threshold, rectify, ..
    } = caps.params;
    for ((&j, v), s) in current[done..n]
        .iter()
        .zip(membrane[done..n].iter_mut())
        .zip(spikes[done..n].iter_mut())
    {
        let j = if rectify && j < 0.0 { 0.0 } else { j };
        let value = *v + j;
        let n = floor_nonnegative((value / threshold).max(0.0)).min(caps.max_spikes);
        let n = if value >= threshold { n } else { 0.0 };
        *v = value - n * threshold;
        *s = n;
    }
}

/// The scalar loop of `if_step_capped_subtract`, 16 neurons at a time:
/// every operation and comparison is the scalar one (a NaN sum fires
/// nothing; `max`/`min` return their second operand on NaN, as Rust's do
/// for the constant they are given here).
///
/// # Safety
/// The CPU has AVX-512F; the slices hold a whole number of 16-lane blocks
/// (at least `current.len()` values each).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn capped_subtract_avx512(
    caps: IfCaps,
    current: &[f32],
    membrane: &mut [f32],
    spikes: &mut [f32],
) {
    use std::arch::x86_64::*;
    let IfParams {
        threshold, rectify, ..
    } = caps.params;
    let threshold = _mm512_set1_ps(threshold);
    let zero = _mm512_setzero_ps();
    let one = _mm512_set1_ps(1.0);
    let cap = _mm512_set1_ps(caps.max_spikes);
    let two_23 = _mm512_set1_ps(8_388_608.0);
    for i in (0..current.len() / 16).map(|b| b * 16) {
        // SAFETY: i + 16 <= current.len() <= the other slices' lengths.
        unsafe {
            let mut j = _mm512_loadu_ps(current.as_ptr().add(i));
            if rectify {
                j = _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(j, zero), j, zero);
            }
            let value = _mm512_add_ps(_mm512_loadu_ps(membrane.as_ptr().add(i)), j);
            let q = _mm512_max_ps(_mm512_div_ps(value, threshold), zero);
            // floor_nonnegative
            let nearest = _mm512_sub_ps(_mm512_add_ps(q, two_23), two_23);
            let rounded_up = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(nearest, q);
            let floor = _mm512_mask_blend_ps(rounded_up, nearest, _mm512_sub_ps(nearest, one));
            let floor = _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(q, two_23), q, floor);
            let count = _mm512_min_ps(floor, cap);
            let count =
                _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GE_OQ>(value, threshold), count);
            let v = _mm512_sub_ps(value, _mm512_mul_ps(count, threshold));
            _mm512_storeu_ps(membrane.as_mut_ptr().add(i), v);
            _mm512_storeu_ps(spikes.as_mut_ptr().add(i), count);
        }
    }
}

/// One step of snnTorch 1.0 `Leaky` (the reset is decided on the previous membrane).
pub fn leaky_step<F: Real>(
    beta: F,
    threshold: F,
    reset: Reset,
    input: &[F],
    membrane: &mut [F],
    spikes: &mut [F],
) {
    let zero = F::from_f64(0.0);
    let one = F::from_f64(1.0);
    let beta = clip(beta, zero, one);
    for ((&x, mem), s) in input.iter().zip(membrane.iter_mut()).zip(spikes.iter_mut()) {
        let reset_flag = heaviside(*mem, threshold);
        let next = match reset {
            Reset::Subtract => (beta * *mem + x) - reset_flag * threshold,
            // snnTorch 1.0 `_base_zero` zeroes the previous membrane before the
            // decay (SNN.md's `base - reset * base` would also drop this step's
            // input); the reference trace decides.
            Reset::Zero => beta * ((one - reset_flag) * *mem) + x,
        };
        *mem = next;
        *s = heaviside(next, threshold);
    }
}

/// One step of snnTorch `Synaptic`.
#[allow(clippy::too_many_arguments)]
pub fn synaptic_step<F: Real>(
    alpha: F,
    beta: F,
    threshold: F,
    reset: Reset,
    input: &[F],
    synapse: &mut [F],
    membrane: &mut [F],
    spikes: &mut [F],
) {
    let zero = F::from_f64(0.0);
    let one = F::from_f64(1.0);
    let alpha = clip(alpha, zero, one);
    let beta = clip(beta, zero, one);
    for (((&x, syn), mem), s) in input
        .iter()
        .zip(synapse.iter_mut())
        .zip(membrane.iter_mut())
        .zip(spikes.iter_mut())
    {
        let reset_flag = heaviside(*mem, threshold);
        *syn = alpha * *syn + x;
        let base = beta * *mem + *syn;
        let next = match reset {
            Reset::Subtract => base - reset_flag * threshold,
            Reset::Zero => base - reset_flag * base,
        };
        *mem = next;
        *s = heaviside(next, threshold);
    }
}

/// NIR's neuron models (nir 1.0.8, `nir/ir/neuron.py` and `threshold.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NirModel {
    /// `dv/dt = R I`, output `v`.
    I,
    /// `τ dv/dt = (v_leak - v) + R I`, output `v`.
    Li,
    /// `dv/dt = R I`; spike when `v > v_threshold`, then `v = v_reset`.
    If,
    /// `τ dv/dt = (v_leak - v) + R I`; spike when `v > v_threshold`, then `v = v_reset`.
    Lif,
    /// `τ_syn dI/dt = -I + w_in S`, `τ_mem dv/dt = (v_leak - v) + R I`, output `v`.
    CubaLi,
    /// CubaLI's equations with LIF's spike and reset.
    CubaLif,
    /// `z = 1 if x > θ` (stateless).
    Threshold,
}

impl NirModel {
    /// The NIR node type.
    pub fn name(self) -> &'static str {
        match self {
            NirModel::I => "I",
            NirModel::Li => "LI",
            NirModel::If => "IF",
            NirModel::Lif => "LIF",
            NirModel::CubaLi => "CubaLI",
            NirModel::CubaLif => "CubaLIF",
            NirModel::Threshold => "Threshold",
        }
    }

    pub fn is_spiking(self) -> bool {
        matches!(
            self,
            NirModel::If | NirModel::Lif | NirModel::CubaLif | NirModel::Threshold
        )
    }

    /// Whether the membrane leaks towards `v_leak` with `tau_mem`.
    pub fn has_leak(self) -> bool {
        matches!(
            self,
            NirModel::Li | NirModel::Lif | NirModel::CubaLi | NirModel::CubaLif
        )
    }

    /// Whether a synaptic current (`tau_syn`, `w_in`) comes first.
    pub fn has_synapse(self) -> bool {
        matches!(self, NirModel::CubaLi | NirModel::CubaLif)
    }
}

/// A NIR neuron: its parameters as NIR has them (seconds for time
/// constants; a layer whose neurons differ holds one per neuron in
/// `Layer::Spiking::per_neuron`), used only through the parameters that its
/// model has (`tau_mem` for the leaky ones, `tau_syn` and `w_in` for the
/// current-based ones, `v_threshold` and `v_reset` for the spiking ones;
/// Threshold's θ is `v_threshold`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NirNeuron {
    pub model: NirModel,
    pub tau_mem: f64,
    pub tau_syn: f64,
    pub r: f64,
    pub v_leak: f64,
    pub w_in: f64,
    pub v_threshold: f32,
    pub v_reset: f32,
}

/// The per-step update of a NIR neuron for one `dt`, in f32:
/// `I = syn_decay·I + syn_gain·x` (current-based models, else `I = x`),
/// `v = decay·v + gain·I + leak`, then the spike test and reset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NirCoefficients {
    pub syn_decay: f32,
    pub syn_gain: f32,
    pub decay: f32,
    pub gain: f32,
    pub leak: f32,
    pub v_threshold: f32,
    pub v_reset: f32,
    pub synapse: bool,
    pub spiking: bool,
}

impl NirNeuron {
    /// A neuron of `model` with NIR's defaults for what it does not use
    /// (`r = 1`, `w_in = 1`, `v_leak = v_reset = 0`).
    pub fn new(model: NirModel) -> NirNeuron {
        NirNeuron {
            model,
            tau_mem: 1.0,
            tau_syn: 1.0,
            r: 1.0,
            v_leak: 0.0,
            w_in: 1.0,
            v_threshold: 1.0,
            v_reset: 0.0,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.model.has_leak() {
            positive("tau_mem", self.tau_mem, "time")?;
        }
        if self.model.has_synapse() {
            positive("tau_syn", self.tau_syn, "time")?;
        }
        for (name, value) in [
            ("r", self.r),
            ("v_leak", self.v_leak),
            ("w_in", self.w_in),
            ("v_threshold", self.v_threshold as f64),
            ("v_reset", self.v_reset as f64),
        ] {
            if !value.is_finite() {
                return Err(format!("{name} must be finite, found {value}"));
            }
        }
        Ok(())
    }

    /// Forward-Euler coefficients for a step of `dt` seconds, computed in
    /// f64 and rounded once to f32. With snnTorch's export of a Leaky
    /// (`τ = dt/(1-β)`, `R = τ/dt`, `v_leak = 0`) they are exactly `β`, `1`
    /// and `0` at its dt, so the update is snnTorch's `β·v + x`.
    ///
    /// `dt` arrives as the simulator's f32; it is read back as the shortest
    /// decimal that rounds to it (0.1 ms, not 0.0000999999974...), the step
    /// the user asked for, so that `dt/τ` is computed as they meant it.
    pub fn coefficients(&self, dt: f32) -> NirCoefficients {
        let dt = decimal(dt);
        let (syn_decay, syn_gain) = if self.model.has_synapse() {
            let k = dt / self.tau_syn;
            (1.0 - k, k * self.w_in)
        } else {
            (0.0, 1.0)
        };
        let (decay, gain, leak) = match self.model {
            NirModel::I | NirModel::If => (1.0, dt * self.r, 0.0),
            NirModel::Threshold => (0.0, 1.0, 0.0),
            _ => {
                let k = dt / self.tau_mem;
                (1.0 - k, k * self.r, k * self.v_leak)
            }
        };
        NirCoefficients {
            syn_decay: syn_decay as f32,
            syn_gain: syn_gain as f32,
            decay: decay as f32,
            gain: gain as f32,
            leak: leak as f32,
            v_threshold: self.v_threshold,
            v_reset: self.v_reset,
            synapse: self.model.has_synapse(),
            spiking: self.model.is_spiking(),
        }
    }
}

/// `value` as the shortest decimal that rounds to it, in f64.
fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(value as f64)
}

/// [`nir_step`] for neurons with parameters of their own: neuron `i` steps
/// with `each[i]`.
pub fn nir_step_each(
    each: &[NirCoefficients],
    input: &[f32],
    membrane: &mut [f32],
    current: &mut [f32],
    out: &mut [f32],
) {
    let n = input
        .len()
        .min(membrane.len())
        .min(out.len())
        .min(each.len());
    for i in 0..n {
        let aux = if current.is_empty() {
            &mut []
        } else {
            &mut current[i..=i]
        };
        nir_step(
            &each[i],
            &input[i..=i],
            &mut membrane[i..=i],
            aux,
            &mut out[i..=i],
        );
    }
}

/// One step of a NIR neuron. `spikes` gets 0/1 for the spiking models and
/// the membrane for the integrators; `current` holds the synaptic currents.
pub fn nir_step(
    k: &NirCoefficients,
    input: &[f32],
    membrane: &mut [f32],
    current: &mut [f32],
    out: &mut [f32],
) {
    let n = input.len().min(membrane.len()).min(out.len());
    for i in 0..n {
        let drive = if k.synapse {
            let Some(syn) = current.get_mut(i) else {
                return;
            };
            *syn = k.syn_decay * *syn + k.syn_gain * input[i];
            *syn
        } else {
            input[i]
        };
        let v = k.decay * membrane[i] + k.gain * drive + k.leak;
        if k.spiking {
            let fired = v > k.v_threshold;
            membrane[i] = if fired { k.v_reset } else { v };
            out[i] = if fired { 1.0 } else { 0.0 };
        } else {
            membrane[i] = v;
            out[i] = v;
        }
    }
}
