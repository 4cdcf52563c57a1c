//! What a simulation reports: the trade-offs a researcher reads (accuracy
//! against steps, firing rates, synaptic operations against the ANN's MACs).

use serde::Serialize;

/// Firing of one spiking layer over the whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRate {
    pub layer: String,
    pub neurons: usize,
    pub spikes: f64,
    /// Spikes per neuron per step.
    pub rate: f64,
    /// The same in spikes per second (rate / dt).
    pub rate_hz: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    /// Final accuracy in [0, 1]; `None` without labels.
    pub accuracy: Option<f64>,
    /// Accuracy when decoding after step 1, 2, ... `steps` (empty without labels).
    pub accuracy_per_step: Vec<f64>,
    pub rates: Vec<LayerRate>,
    /// Synaptic operations over the run: every spike times its fan-out
    /// (input spikes included when the input is spike-encoded).
    pub synops: f64,
    /// The ANN's multiply-accumulates for the same samples (one pass each).
    pub macs: f64,
    pub samples: usize,
    pub steps: usize,
    pub wall_s: f64,
    pub synops_per_sample: f64,
    pub macs_per_sample: f64,
    /// MACs of weighted layers fed by a constant (current-encoded) input,
    /// computed once per sample rather than per step.
    pub static_macs: f64,
    /// 1 - spikes / (neurons * steps * samples) over all spiking layers.
    pub sparsity: f64,
    /// Predicted class per sample.
    pub predictions: Vec<usize>,
    pub encode: String,
    pub decode: String,
}
