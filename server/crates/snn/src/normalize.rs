//! ANN -> SNN conversion math (Diehl 2015, Rueckauer 2017; SNN.md): find
//! each ReLU layer's activation scale λ on calibration data, replace the
//! ReLU by spiking neurons driven by `input / λ` that emit `λ` per spike (the
//! same dynamics as normalised weights), then fold those factors into the
//! weights wherever the graph allows it, giving `W_l <- W_l λ_{l-1} / λ_l`
//! and `b_l <- b_l / λ_l` with unit thresholds and amplitudes.

use crate::Error;
use crate::layer::Layer;
use crate::network::{Network, NodeId};
use crate::neuron::Neuron;
use crate::sim::ann_forward;
use crate::tensor::Tensor;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Normalize {
    /// λ = 1 for every layer (weights used as trained).
    None,
    /// λ = the largest activation (the 100th percentile).
    Max,
    /// λ = the p-th percentile of the activations (Rueckauer: 99.9).
    Percentile { p: f32 },
}

/// λ of each ReLU node, in node order. Activations are collected over all of
/// `calib` (`[N, ...]`), in batches of `batch` samples.
pub fn calibrate(
    net: &Network,
    calib: &Tensor,
    method: Normalize,
    batch: usize,
) -> Result<Vec<(NodeId, f32)>, Error> {
    let relus: Vec<NodeId> = net
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.layer, Layer::Relu))
        .map(|(i, _)| i)
        .collect();
    if method == Normalize::None {
        return Ok(relus.into_iter().map(|r| (r, 1.0)).collect());
    }
    if let Normalize::Percentile { p } = method
        && !(p > 0.0 && p <= 100.0)
    {
        return Err(Error::Option {
            name: "normalize",
            message: format!("percentile must be in (0, 100], found {p}"),
        });
    }
    if calib.shape.first().copied().unwrap_or(0) == 0 {
        return Err(Error::Data {
            expected: "at least one calibration sample".into(),
            found: format!("shape {:?}", calib.shape),
        });
    }
    let samples = calib.shape[0];
    let per_sample = calib.data.len() / samples;
    let mut activations: Vec<Vec<f32>> = vec![Vec::new(); relus.len()];
    for first in (0..samples).step_by(batch.max(1)) {
        let count = batch.max(1).min(samples - first);
        let mut shape = calib.shape.clone();
        shape[0] = count;
        let chunk = Tensor::new(
            shape,
            calib.data[first * per_sample..(first + count) * per_sample].to_vec(),
        )?;
        let values = ann_forward(net, &chunk)?;
        for (k, &r) in relus.iter().enumerate() {
            activations[k].extend_from_slice(&values[r]);
        }
    }
    Ok(relus
        .into_iter()
        .zip(activations)
        .map(|(r, mut a)| (r, scale_of(&mut a, method)))
        .collect())
}

/// The percentile with numpy's default linear interpolation; never 0 or
/// NaN (a dead layer keeps λ = 1 rather than dividing by zero).
fn scale_of(values: &mut Vec<f32>, method: Normalize) -> f32 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return 1.0;
    }
    let p = match method {
        Normalize::None => return 1.0,
        Normalize::Max => 100.0,
        Normalize::Percentile { p } => p as f64,
    };
    let position = p / 100.0 * (values.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = (low + 1).min(values.len() - 1);
    let (_, &mut low_value, upper) = values.select_nth_unstable_by(low, f32::total_cmp);
    let high_value = if high == low {
        low_value
    } else {
        upper.iter().copied().fold(f32::INFINITY, f32::min)
    };
    let fraction = (position - low as f64) as f32;
    let lambda = low_value + (high_value - low_value) * fraction;
    if lambda > 0.0 && lambda.is_finite() {
        return lambda;
    }
    // Most activations zero: fall back to the largest one.
    let max = values.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 { max } else { 1.0 }
}

/// Replaces every ReLU by `neuron` with the given scales and folds the scales
/// into the weights. `initial_membrane` is the starting membrane as a fraction
/// of the threshold (0.5 is one of SNN.md's two accuracy details).
pub fn to_spiking(
    net: &Network,
    neuron: Neuron,
    lambdas: &[(NodeId, f32)],
    initial_membrane: f32,
) -> Result<Network, Error> {
    net.validate()?;
    neuron.validate().map_err(|message| Error::Option {
        name: "neuron",
        message,
    })?;
    let mut out = net.clone();
    for &(node, lambda) in lambdas {
        if node >= out.nodes.len() || !matches!(out.nodes[node].layer, Layer::Relu) {
            return Err(Error::Layer {
                layer: format!("node {node}"),
                message: "a scale was given for a node that is not a ReLU".into(),
            });
        }
        out.nodes[node].layer = Layer::Spiking {
            neuron,
            input_scale: 1.0 / lambda,
            amplitude: lambda,
            initial_membrane,
        };
    }
    let consumers = out.consumers();
    for &(node, _) in lambdas {
        fold_input_scale(&mut out, &consumers, node);
        fold_amplitude(&mut out, &consumers, node);
    }
    Ok(out)
}

/// The weighted layers whose outputs reach `start`'s input only through
/// linear pass-through layers, each used by nothing else; `None` when the
/// path meets anything else (then the scale stays on the neuron).
fn exclusive_producers(
    net: &Network,
    consumers: &[Vec<NodeId>],
    start: NodeId,
) -> Option<Vec<NodeId>> {
    let mut found = Vec::new();
    let mut stack: Vec<NodeId> = net.nodes[start].inputs.clone();
    while let Some(node) = stack.pop() {
        if consumers[node].len() != 1 || node == net.output {
            return None;
        }
        let layer = &net.nodes[node].layer;
        if layer.is_weighted() {
            found.push(node);
        } else if matches!(
            layer,
            Layer::Add | Layer::AvgPool { .. } | Layer::MaxPool { .. } | Layer::Flatten
        ) {
            stack.extend(net.nodes[node].inputs.iter().copied());
        } else {
            return None;
        }
    }
    if found.is_empty() { None } else { Some(found) }
}

fn fold_input_scale(net: &mut Network, consumers: &[Vec<NodeId>], node: NodeId) {
    let Layer::Spiking { input_scale, .. } = net.nodes[node].layer else {
        return;
    };
    let Some(producers) = exclusive_producers(net, consumers, node) else {
        return;
    };
    for producer in producers {
        scale_weighted(&mut net.nodes[producer].layer, input_scale, true);
    }
    if let Layer::Spiking { input_scale, .. } = &mut net.nodes[node].layer {
        *input_scale = 1.0;
    }
}

/// The weighted layers `start`'s spikes reach through pooling/flatten only;
/// `None` when they reach anything else (an add, another neuron, the output).
fn weighted_consumers(
    net: &Network,
    consumers: &[Vec<NodeId>],
    start: NodeId,
) -> Option<Vec<NodeId>> {
    if start == net.output {
        return None;
    }
    let mut found = Vec::new();
    let mut stack: Vec<NodeId> = consumers[start].clone();
    while let Some(node) = stack.pop() {
        let layer = &net.nodes[node].layer;
        if layer.is_weighted() {
            found.push(node);
        } else if matches!(
            layer,
            Layer::AvgPool { .. } | Layer::MaxPool { .. } | Layer::Flatten
        ) && node != net.output
        {
            stack.extend(consumers[node].iter().copied());
        } else {
            return None;
        }
    }
    if found.is_empty() { None } else { Some(found) }
}

fn fold_amplitude(net: &mut Network, consumers: &[Vec<NodeId>], node: NodeId) {
    let Layer::Spiking { amplitude, .. } = net.nodes[node].layer else {
        return;
    };
    let Some(targets) = weighted_consumers(net, consumers, node) else {
        return;
    };
    for target in targets {
        scale_weighted(&mut net.nodes[target].layer, amplitude, false);
    }
    if let Layer::Spiking { amplitude, .. } = &mut net.nodes[node].layer {
        *amplitude = 1.0;
    }
}

fn scale_weighted(layer: &mut Layer, factor: f32, bias_too: bool) {
    match layer {
        Layer::Dense { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
            weight.data.iter_mut().for_each(|w| *w *= factor);
            if bias_too && let Some(bias) = bias {
                bias.iter_mut().for_each(|b| *b *= factor);
            }
        }
        _ => {}
    }
}
