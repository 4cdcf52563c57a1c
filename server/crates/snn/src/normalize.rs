//! ANN -> SNN conversion math (Diehl 2015, Rueckauer 2017; SNN.md): find
//! each ReLU layer's activation scale λ on calibration data, replace the
//! ReLU by spiking neurons driven by `input / λ` that emit `λ` per spike (the
//! same dynamics as normalised weights), then fold those factors into the
//! weights wherever the graph allows it, giving `W_l <- W_l λ_{l-1} / λ_l`
//! and `b_l <- b_l / λ_l` with unit thresholds and amplitudes.

use crate::Error;
use crate::layer::{Layer, Scaling};
use crate::network::{Network, NodeId};
use crate::neuron::{Neuron, Reset};
use crate::sim::ann_forward_visit;
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
    /// λ that makes the spike count after `steps` steps the best quantised
    /// copy of the activations: the λ minimising the squared error between an
    /// activation `a` and `λ/T · clip(round(a·T/λ), 0, T·m)` (T = `steps`, m
    /// the neuron's spike cap, 1 without one) over the calibration data.
    /// This is QCFS's quantised clip (Bu et al. 2022) fitted after training
    /// instead of trained; with the membrane started at half the threshold
    /// the spike count is that rounding.
    Qcfs { steps: u32 },
}

impl Normalize {
    /// `none`, `max`, `percentile:P` or `qcfs:T`.
    pub fn name(&self) -> String {
        match self {
            Normalize::None => "none".into(),
            Normalize::Max => "max".into(),
            Normalize::Percentile { p } => format!("percentile:{p}"),
            Normalize::Qcfs { steps } => format!("qcfs:{steps}"),
        }
    }
}

/// Activations kept per layer for the percentile (a strided sample of them
/// beyond this; the largest is always tracked exactly).
const KEPT_PER_LAYER: usize = 1 << 20;

/// λ of each rectifier node (ReLU or clip), in node order. Activations are
/// collected over all of `calib` (`[N, ...]`), in batches of at most
/// `batch` samples. `spike_cap` is the spikes per step the neurons will
/// emit at most (QCFS fits λ to it; `None`: no cap). A clip's λ never
/// exceeds its maximum.
pub fn calibrate(
    net: &Network,
    calib: &Tensor,
    method: Normalize,
    batch: usize,
    spike_cap: Option<u32>,
) -> Result<Vec<(NodeId, f32)>, Error> {
    let rectifiers: Vec<NodeId> = net
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.layer.is_rectifier())
        .map(|(i, _)| i)
        .collect();
    if method == Normalize::None {
        return Ok(rectifiers.into_iter().map(|r| (r, 1.0)).collect());
    }
    match method {
        Normalize::Percentile { p } if !(p > 0.0 && p <= 100.0) => {
            return Err(Error::Option {
                name: "normalize",
                message: format!("percentile must be in (0, 100], found {p}"),
            });
        }
        Normalize::Qcfs { steps: 0 } => {
            return Err(Error::Option {
                name: "normalize",
                message: "qcfs needs at least 1 step".into(),
            });
        }
        _ => {}
    }
    let samples = calib.shape.first().copied().unwrap_or(0);
    if samples == 0 {
        return Err(Error::Data {
            expected: "at least one calibration sample".into(),
            found: format!("shape {:?}", calib.shape),
        });
    }
    let shapes = net.validate()?;
    let slot: std::collections::HashMap<NodeId, usize> = rectifiers
        .iter()
        .enumerate()
        .map(|(k, &r)| (r, k))
        .collect();
    let strides: Vec<usize> = rectifiers
        .iter()
        .map(|&r| {
            let total = shapes[r].iter().product::<usize>() * samples;
            total.div_ceil(KEPT_PER_LAYER).max(1)
        })
        .collect();
    let mut kept: Vec<Vec<f32>> = vec![Vec::new(); rectifiers.len()];
    let mut largest = vec![0.0f32; rectifiers.len()];
    let mut seen = vec![0usize; rectifiers.len()];
    ann_forward_visit(net, calib, batch, &mut |node, _, values| {
        let Some(&k) = slot.get(&node) else { return };
        let stride = strides[k];
        // The first kept value of this chunk continues the layer's stride.
        let start = (stride - seen[k] % stride) % stride;
        kept[k].extend(values.iter().skip(start).step_by(stride));
        seen[k] += values.len();
        largest[k] = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(largest[k], f32::max);
    })?;
    Ok(rectifiers
        .into_iter()
        .zip(kept)
        .zip(largest)
        .map(|((r, mut values), max)| {
            let mut lambda = match method {
                Normalize::Max => positive_or_one(max),
                Normalize::Qcfs { steps } => {
                    qcfs_scale(&mut values, max, steps, spike_cap.unwrap_or(1))
                }
                _ => scale_of(&mut values, method, max),
            };
            if let Layer::Clip { max: clip } = net.nodes[r].layer {
                lambda = lambda.min(clip);
            }
            (r, lambda)
        })
        .collect())
}

fn positive_or_one(value: f32) -> f32 {
    if value > 0.0 && value.is_finite() {
        value
    } else {
        1.0
    }
}

/// The percentile with numpy's default linear interpolation; never 0 or
/// NaN (a dead layer keeps λ = 1 rather than dividing by zero).
fn scale_of(values: &mut Vec<f32>, method: Normalize, max: f32) -> f32 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return 1.0;
    }
    let p = match method {
        Normalize::Percentile { p } => p as f64,
        _ => 100.0,
    };
    let lambda = percentile(values, p);
    if lambda > 0.0 && lambda.is_finite() {
        return lambda;
    }
    // Most activations zero: fall back to the largest one.
    positive_or_one(max)
}

fn percentile(values: &mut [f32], p: f64) -> f32 {
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
    low_value + (high_value - low_value) * fraction
}

/// The λ whose `T`-step spike count (at most `T·cap` spikes, rounded by the
/// half-threshold start) copies `values` with the least squared error:
/// a search over λ from the 50th percentile of the positive activations to
/// their maximum (64 points, geometric, then refined around the best).
fn qcfs_scale(values: &mut Vec<f32>, max: f32, steps: u32, cap: u32) -> f32 {
    values.retain(|v| v.is_finite() && *v > 0.0);
    if values.is_empty() {
        return positive_or_one(max);
    }
    let low = percentile(values, 50.0).max(max * 1e-3);
    let high = positive_or_one(max);
    if low >= high {
        return high;
    }
    let values = &*values;
    let levels = (steps as f32) * cap.max(1) as f32;
    let t = steps as f32;
    let error = |lambda: f32| -> f64 {
        let step = lambda / t;
        values
            .iter()
            .map(|&a| {
                let q = (a / step + 0.5).floor().clamp(0.0, levels) * step;
                ((a - q) as f64).powi(2)
            })
            .sum()
    };
    let points = 64;
    let ratio = (high / low).powf(1.0 / (points - 1) as f32);
    let candidates: Vec<f32> = (0..points).map(|k| low * ratio.powi(k)).collect();
    let mut best = (f64::INFINITY, high);
    for &lambda in &candidates {
        let e = error(lambda);
        if e < best.0 {
            best = (e, lambda);
        }
    }
    // Refine between the neighbours of the best grid point.
    let (lo, hi) = ((best.1 / ratio).max(low), (best.1 * ratio).min(high));
    for k in 0..=16 {
        let lambda = lo + (hi - lo) * k as f32 / 16.0;
        let e = error(lambda);
        if e < best.0 {
            best = (e, lambda);
        }
    }
    best.1
}

/// Replaces every rectifier by `neuron` with the given scales and folds the
/// scales into the weights. `initial_membrane` is the starting membrane as a
/// fraction of the threshold (0.5 is one of SNN.md's two accuracy details).
/// A clip's neurons saturate at its maximum: at most `max / λ` spikes a step
/// (and at most the neuron's own cap).
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
        let layer = out.nodes.get(node).map(|n| &n.layer);
        let clip = match layer {
            Some(Layer::Relu) => None,
            Some(Layer::Clip { max }) => Some(*max),
            _ => {
                return Err(Error::Layer {
                    layer: format!("node {node}"),
                    message: "a scale was given for a node that is not a ReLU or clip".into(),
                });
            }
        };
        let mut layer_neuron = neuron;
        if let (Some(max), Neuron::If(if_neuron)) = (clip, &mut layer_neuron)
            && if_neuron.reset == Reset::Subtract
        {
            let saturation = ((max / lambda).floor() as u32).max(1);
            if_neuron.max_spikes = Some(
                if_neuron
                    .max_spikes
                    .map_or(saturation, |m| m.min(saturation)),
            );
        }
        out.nodes[node].layer = Layer::Spiking {
            neuron: layer_neuron,
            scaling: Scaling {
                input_scale: 1.0 / lambda,
                amplitude: lambda,
                initial_membrane,
            },
            per_neuron: None,
        };
    }
    let consumers = out.consumers();
    for &(node, _) in lambdas {
        Factor::InputScale.fold(&mut out, &consumers, node);
        Factor::Amplitude.fold(&mut out, &consumers, node);
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
        } else if layer.is_linear_passthrough() {
            stack.extend(net.nodes[node].inputs.iter().copied());
        } else {
            return None;
        }
    }
    if found.is_empty() { None } else { Some(found) }
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

/// A factor of a spiking layer that the weighted layers around it can take.
#[derive(Clone, Copy)]
enum Factor {
    /// Moves into the layers feeding the neuron (bias included).
    InputScale,
    /// Moves into the layers the spikes reach (bias not: it is added after).
    Amplitude,
}

impl Factor {
    fn of(self, layer: &mut Layer) -> Option<&mut f32> {
        match (self, layer) {
            (Factor::InputScale, Layer::Spiking { scaling, .. }) => Some(&mut scaling.input_scale),
            (Factor::Amplitude, Layer::Spiking { scaling, .. }) => Some(&mut scaling.amplitude),
            _ => None,
        }
    }

    /// Moves the factor of `node` into the weighted layers that can take it
    /// alone (then it is 1 on the neuron); else leaves it where it is.
    fn fold(self, net: &mut Network, consumers: &[Vec<NodeId>], node: NodeId) {
        let Some(&mut factor) = self.of(&mut net.nodes[node].layer) else {
            return;
        };
        let (targets, bias_too) = match self {
            Factor::InputScale => (exclusive_producers(net, consumers, node), true),
            Factor::Amplitude => (weighted_consumers(net, consumers, node), false),
        };
        let Some(targets) = targets else {
            return;
        };
        for target in targets {
            scale_weighted(&mut net.nodes[target].layer, factor, bias_too);
        }
        if let Some(factor) = self.of(&mut net.nodes[node].layer) {
            *factor = 1.0;
        }
    }
}

fn scale_weighted(layer: &mut Layer, factor: f32, bias_too: bool) {
    let (weights, bias) = match layer {
        Layer::Dense { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
            (&mut weight.data, bias)
        }
        Layer::Scale { scale, bias } => (scale, bias),
        _ => return,
    };
    weights.iter_mut().for_each(|w| *w *= factor);
    if bias_too && let Some(bias) = bias {
        bias.iter_mut().for_each(|b| *b *= factor);
    }
}
