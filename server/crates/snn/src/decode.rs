//! Output decoders: how the output layer's activity over time becomes a class.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decode {
    /// Membrane readout for a non-spiking output layer (the converted nets'
    /// default), spike count for a spiking one.
    Auto,
    /// The class with the most output spikes (ties: the lowest index).
    Count,
    /// The class with the highest membrane: a non-spiking output layer's
    /// accumulated input current, or a spiking output layer's membrane.
    Membrane,
    /// The class that spiked first (ties: more spikes, then lowest index).
    FirstSpike,
}

impl Decode {
    pub fn name(&self) -> &'static str {
        match self {
            Decode::Auto => "auto",
            Decode::Count => "count",
            Decode::Membrane => "membrane",
            Decode::FirstSpike => "first_spike",
        }
    }
}

/// Index of the largest value; the first one wins ties; NaN never wins.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] || values[best].is_nan() {
            best = i;
        }
    }
    best
}

/// First-spike decision: earliest first spike, then most spikes, then lowest index.
pub fn first_spike(first_step: &[u32], counts: &[f32]) -> usize {
    let mut best = 0;
    for i in 1..first_step.len() {
        let better = first_step[i] < first_step[best]
            || (first_step[i] == first_step[best] && counts[i] > counts[best]);
        if better {
            best = i;
        }
    }
    best
}

/// Scores whose argmax is [`first_spike`]'s decision (per sample of
/// `classes`): the steps left after the first spike, plus the spike count
/// as a fraction below one step; 0 for a class that never spiked.
pub fn first_spike_scores<'a>(
    first_step: &'a [u32],
    counts: &'a [f32],
    steps: usize,
) -> impl Iterator<Item = f32> + 'a {
    let most = counts.iter().copied().fold(0.0f32, f32::max);
    first_step.iter().zip(counts).map(move |(&first, &count)| {
        if first == u32::MAX {
            0.0
        } else {
            (steps as f32 - first as f32) + count / (most + 1.0)
        }
    })
}
