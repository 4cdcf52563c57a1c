//! The conversion and simulation jobs shared by the CLI and the language
//! server: plain functions with a progress callback and a cancel flag.

use crate::import::{ImportOptions, import};
use crate::{Error, Source, Weights};
use neuride_snn::metrics::SimReport;
use neuride_snn::sim::ann_forward_visit;
use neuride_snn::{
    Network, Neuron, Normalize, Progress, SimOptions, Tensor, calibrate, to_spiking,
};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Debug, PartialEq)]
pub struct ConvertOptions {
    /// The neuron that replaces each ReLU.
    pub neuron: Neuron,
    pub normalize: Normalize,
    /// Turn MaxPool into average pooling (else it is a spiking max-pool).
    pub max_to_avg: bool,
    /// Starting membrane as a fraction of the threshold (SNN.md: 0.5).
    pub initial_membrane: f32,
    /// Samples per calibration batch.
    pub calib_batch: usize,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            neuron: Neuron::conversion_if(),
            normalize: Normalize::Percentile { p: 99.9 },
            max_to_avg: false,
            initial_membrane: 0.5,
            calib_batch: 256,
        }
    }
}

/// λ found for one ReLU layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerScale {
    pub layer: String,
    pub lambda: f32,
}

#[derive(Clone, Debug)]
pub struct Converted {
    /// The spiking network (weights normalised, neurons in place of ReLUs).
    pub network: Network,
    /// The ANN it came from (ReLU nodes), for checks and MAC counts.
    pub ann: Network,
    pub scales: Vec<LayerScale>,
    /// The model already had `ai.neuride.snn` neurons: nothing was normalised.
    pub already_spiking: bool,
}

/// Converts `source` (weights from `weights` by initializer name where given,
/// else from the model or its external data), normalising on `calib`
/// (`[N, ...input]`).
pub fn convert<'a>(
    source: impl Into<Source<'a>>,
    weights: Option<&Weights>,
    calib: Option<&Tensor>,
    opts: &ConvertOptions,
) -> Result<Converted, Error> {
    let source = source.into();
    let options = ImportOptions {
        weights,
        dir: source.dir,
        max_to_avg: opts.max_to_avg,
        load_data: true,
    };
    let (imported, issues) = import(source.model, options)?;
    let imported = match imported {
        Some(imported) if issues.is_empty() => imported,
        _ => return Err(Error::Unconvertible(issues)),
    };
    let ann = imported.network;
    ann.validate()?;
    if imported.spiking {
        return Ok(Converted {
            network: ann.clone(),
            ann,
            scales: Vec::new(),
            already_spiking: true,
        });
    }
    let spike_cap = match opts.neuron {
        Neuron::If(neuron) => neuron.max_spikes,
        _ => Some(1),
    };
    let lambdas = match (opts.normalize, calib) {
        (Normalize::None, _) => {
            calibrate(&ann, &Tensor::zeros(vec![0]), Normalize::None, 1, spike_cap)?
        }
        (Normalize::Max, None) => return Err(Error::NoCalibration("max")),
        (Normalize::Percentile { .. }, None) => return Err(Error::NoCalibration("percentile")),
        (Normalize::Qcfs { .. }, None) => return Err(Error::NoCalibration("qcfs")),
        (method, Some(calib)) => calibrate(&ann, calib, method, opts.calib_batch, spike_cap)?,
    };
    let network = to_spiking(&ann, opts.neuron, &lambdas, opts.initial_membrane)?;
    let scales = lambdas
        .iter()
        .map(|&(node, lambda)| LayerScale {
            layer: ann.nodes[node].name.clone(),
            lambda,
        })
        .collect();
    Ok(Converted {
        network,
        ann,
        scales,
        already_spiking: false,
    })
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SimulateOptions {
    pub convert: ConvertOptions,
    pub sim: SimOptions,
    /// Simulate only the first `limit` samples.
    pub limit: Option<usize>,
}

/// The JSON the CLI prints and `neuride.simulate` returns: the simulator's
/// report (`accuracy`, `accuracy_per_step`, `rates`, `synops`, `macs`,
/// `samples`, `steps`, `wall_s`, ...) plus what conversion decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimulateReport {
    #[serde(flatten)]
    pub sim: SimReport,
    /// The source ANN's accuracy on the same samples (None without labels or
    /// for an already spiking model).
    pub ann_accuracy: Option<f64>,
    pub scales: Vec<LayerScale>,
    pub neuron: String,
    pub normalize: String,
}

impl SimulateReport {
    /// The fields every report's JSON has, whatever the run: what the
    /// editor's plots and scripts reading `--format json` may rely on.
    pub const JSON_FIELDS: &'static [&'static str] = &[
        "accuracy",
        "accuracy_per_step",
        "rates",
        "synops",
        "macs",
        "samples",
        "steps",
        "wall_s",
    ];
}

/// Converts `model` and simulates `data` (`[N, ...input]`, labels optional).
/// `progress` is called after each batch; `cancel` is checked before
/// conversion, per batch and per step, and yields [`Error::Cancelled`].
#[allow(clippy::too_many_arguments)]
pub fn simulate<'a>(
    source: impl Into<Source<'a>>,
    weights: Option<&Weights>,
    data: &Tensor,
    labels: Option<&[i64]>,
    calib: Option<&Tensor>,
    opts: &SimulateOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<SimulateReport, Error> {
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    let converted = convert(source, weights, calib, &opts.convert)?;
    let (data, labels) = first_samples(data, labels, opts.limit)?;
    let sim = neuride_snn::simulate(
        &converted.network,
        &data,
        labels,
        &opts.sim,
        progress,
        cancel,
    )
    .map_err(|e| match e {
        neuride_snn::Error::Cancelled => Error::Cancelled,
        other => Error::Snn(other),
    })?;
    let ann_accuracy = match (labels, converted.already_spiking) {
        (Some(labels), false) => Some(ann_accuracy(&converted.ann, &data, labels, cancel)?),
        _ => None,
    };
    Ok(SimulateReport {
        sim,
        ann_accuracy,
        scales: converted.scales,
        neuron: neuron_name(&opts.convert.neuron),
        normalize: opts.convert.normalize.name(),
    })
}

fn neuron_name(neuron: &Neuron) -> String {
    neuron.op_name().to_lowercase()
}

/// The first `limit` samples of `data` (and their labels); all of them
/// without a limit.
pub fn first_samples<'a>(
    data: &Tensor,
    labels: Option<&'a [i64]>,
    limit: Option<usize>,
) -> Result<(Tensor, Option<&'a [i64]>), Error> {
    let samples = data.shape.first().copied().unwrap_or(0);
    let keep = limit.map_or(samples, |l| l.min(samples));
    if keep == samples {
        return Ok((data.clone(), labels));
    }
    let per_sample = data.data.len().checked_div(samples).unwrap_or(0);
    let mut shape = data.shape.clone();
    shape[0] = keep;
    let tensor = Tensor::new(shape, data.data[..keep * per_sample].to_vec())?;
    Ok((tensor, labels.map(|l| &l[..keep.min(l.len())])))
}

/// Accuracy of the ANN (argmax of its output) on `data`, batch by batch.
pub fn ann_accuracy(
    ann: &Network,
    data: &Tensor,
    labels: &[i64],
    cancel: &AtomicBool,
) -> Result<f64, Error> {
    let samples = data.shape.first().copied().unwrap_or(0);
    if samples == 0 {
        return Ok(0.0);
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    let shapes = ann.validate()?;
    let classes: usize = shapes[ann.output].iter().product::<usize>().max(1);
    let mut correct = 0usize;
    ann_forward_visit(ann, data, 256, &mut |node, first, values| {
        if node != ann.output {
            return;
        }
        for i in 0..values.len() / classes {
            let predicted = neuride_snn::decode::argmax(&values[i * classes..(i + 1) * classes]);
            correct += (labels.get(first + i) == Some(&(predicted as i64))) as usize;
        }
    })?;
    Ok(correct as f64 / samples as f64)
}
