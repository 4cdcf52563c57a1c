//! The simulator: runs a network over a data set for a number of steps, in
//! chunks of samples spread over threads, and the plain ANN forward pass
//! used for calibration and checks.
//!
//! Work is split by samples, which never interact: each thread takes the
//! next chunk (at most `batch` samples, fewer when a chunk's buffers and
//! states would pass [`CACHE_BYTES`], or when there are fewer chunks than
//! threads) and simulates it for all steps with its own memory, so threads
//! share nothing but the read-only kernels and a run's results do not depend
//! on the thread count.

mod chunk;
mod layers;
mod plan;

use crate::Error;
use crate::decode::Decode;
use crate::encode::Encode;
use crate::kernels::{Active, Scratch};
use crate::layer::Layer;
use crate::metrics::{LayerRate, SimReport};
use crate::network::{Network, NodeId};
use crate::neuron::NirCoefficients;
use crate::tensor::Tensor;
use chunk::{ChunkResult, Workspace, bytes_per_sample, run_chunk};
use layers::{Values, linear_node};
use plan::Plan;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    pub steps: usize,
    /// Step length in seconds (LIF time constants and rate encoding use it).
    pub dt: f32,
    pub encode: Encode,
    pub decode: Decode,
    /// Samples simulated together (at most; see the module comment).
    pub batch: usize,
    /// Threads; 0 means one per core.
    pub threads: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            steps: 50,
            dt: 0.001,
            encode: Encode::Current,
            decode: Decode::Auto,
            batch: 64,
            threads: 0,
        }
    }
}

/// Reported after every chunk, and during a long chunk every
/// [`PROGRESS_EVERY`] at the end of a step.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Progress {
    /// Chunks done and in all.
    pub batch: usize,
    pub batches: usize,
    pub samples_done: usize,
    pub samples_total: usize,
    /// Correct predictions so far (0 without labels).
    pub correct: usize,
    /// Steps done of the chunk in progress (`steps` after a chunk ends).
    pub step: usize,
    pub steps: usize,
}

/// A chunk's buffers, event lists and states stay below this (per thread):
/// a big network at a big batch runs in several chunks instead of
/// allocating all its activations at once.
pub const CHUNK_BYTES: usize = 256 << 20;

/// The state of the samples [`simulate`] steps together is kept to about
/// this much, so that a step's layers pass through the caches rather than
/// memory: events gain nothing from simulating samples together (only
/// dense layers at batch 8 or more do, and their nets are small), while a
/// ResNet-18 at 224x224 holds ~40 MB per sample. Results do not depend on
/// it (samples are independent), only the speed: that ResNet-18 simulated
/// 64 samples together ran ~15 % slower per sample than one at a time.
pub const CACHE_BYTES: usize = 8 << 20;

/// Step progress of a long chunk is reported at most this often.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What every chunk of a run reads.
pub(crate) struct Run<'a> {
    pub opts: &'a SimOptions,
    pub decode: Decode,
    /// Nodes fed only by a constant input: computed at step 0 only.
    pub is_static: Vec<bool>,
    pub fanout: Vec<Vec<f32>>,
    /// The step coefficients of each layer of per-neuron NIR neurons, one
    /// per neuron (computed once for the run's `dt`).
    pub per_neuron: Vec<Option<Vec<NirCoefficients>>>,
    pub cancel: &'a AtomicBool,
}

/// [`Run::per_neuron`] for `net` stepped at `dt`.
fn per_neuron_coefficients(net: &Network, dt: f32) -> Vec<Option<Vec<NirCoefficients>>> {
    net.nodes
        .iter()
        .map(|node| match &node.layer {
            Layer::Spiking {
                per_neuron: Some(neurons),
                ..
            } => Some(neurons.iter().map(|n| n.coefficients(dt)).collect()),
            _ => None,
        })
        .collect()
}

fn check_data(net: &Network, data: &Tensor) -> Result<usize, Error> {
    let per_sample: usize = net.input_shape().iter().product();
    let found: usize = data.shape.iter().skip(1).product();
    if data.shape.is_empty()
        || found != per_sample
        || data.data.len() != data.shape.iter().product::<usize>()
    {
        return Err(Error::Data {
            expected: format!(
                "[N, {}] ({per_sample} values per sample)",
                dims(net.input_shape())
            ),
            found: format!("{:?}", data.shape),
        });
    }
    Ok(data.shape[0])
}

fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ANN forward pass over `input` (`[N, ...]`) in chunks of at most
/// `batch` samples (fewer where a chunk's activations would pass
/// [`CHUNK_BYTES`]), calling `visit(node, first_sample, values)` with every
/// node's output values for the chunk (`[count, ...node shape]`) as soon as
/// they are computed. Buffers are reused once no later node reads them, so
/// memory stays that of a few activations. Spiking layers act as their rate
/// approximation, max-pools as the max.
pub fn ann_forward_visit(
    net: &Network,
    input: &Tensor,
    batch: usize,
    visit: &mut dyn FnMut(NodeId, usize, &[f32]),
) -> Result<(), Error> {
    let keep: Vec<bool> = (0..net.nodes.len()).map(|i| i == net.output).collect();
    let plan = Plan::new(net, &keep)?;
    let samples = check_data(net, input)?;
    let per_sample_bytes = plan.buffer_sizes.iter().sum::<usize>() * 8;
    let chunk = batch
        .max(1)
        .min((CHUNK_BYTES / per_sample_bytes.max(1)).max(1));
    let mut buffers: Vec<Vec<f32>> = Vec::new();
    let mut actives: Vec<Active> = (0..plan.buffer_sizes.len())
        .map(|_| Active::default())
        .collect();
    let mut scratch = Scratch::default();
    let per_input = plan.sizes[0];
    for first in (0..samples).step_by(chunk) {
        let count = chunk.min(samples - first);
        buffers.resize_with(plan.buffer_sizes.len(), Vec::new);
        for (buffer, &size) in buffers.iter_mut().zip(&plan.buffer_sizes) {
            buffer.resize(size * count, 0.0);
        }
        let x = &input.data[first * per_input..(first + count) * per_input];
        buffers[plan.buffer_of[0]][..x.len()].copy_from_slice(x);
        visit(0, first, x);
        for active in &mut actives {
            active.starts.clear();
        }
        let mut values = Values {
            buffers: &mut buffers,
            actives: &mut actives,
            scratch: &mut scratch,
        };
        for index in 1..net.nodes.len() {
            // Scanning dense ANN activations for events is pointless: mark all.
            for &i in &net.nodes[index].inputs {
                let buffer = plan.buffer_of[i];
                if !values.actives[buffer].is_valid(count) {
                    values.actives[buffer].mark_dense(plan.sizes[i], count);
                }
            }
            linear_node(&plan, index, count, &mut values);
            visit(index, first, values.of(&plan, index, count));
        }
    }
    Ok(())
}

/// The ANN forward pass of `input` (`[N, ...]`): every node's output values
/// for all samples. Holds every activation at once; [`ann_forward_visit`]
/// does not.
pub fn ann_forward(net: &Network, input: &Tensor) -> Result<Vec<Vec<f32>>, Error> {
    let mut all = vec![Vec::new(); net.nodes.len()];
    ann_forward_visit(net, input, usize::MAX, &mut |node, _, values| {
        all[node].extend_from_slice(values)
    })?;
    Ok(all)
}

fn validate_options(opts: &SimOptions) -> Result<(), Error> {
    if opts.steps == 0 {
        return Err(Error::Option {
            name: "steps",
            message: "must be at least 1, found 0".into(),
        });
    }
    if opts.batch == 0 {
        return Err(Error::Option {
            name: "batch",
            message: "must be at least 1, found 0".into(),
        });
    }
    if !(opts.dt.is_finite() && opts.dt > 0.0) {
        return Err(Error::Option {
            name: "dt",
            message: format!("must be a positive time in seconds, found {}", opts.dt),
        });
    }
    opts.encode.validate()
}

/// The threads a run uses: `threads`, or one per core.
fn thread_count(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

enum Message {
    Step { step: usize },
    Done(Result<ChunkResult, Error>),
}

/// Which nodes only a constant input feeds (computed at step 0 only).
fn static_nodes(net: &Network, opts: &SimOptions) -> Vec<bool> {
    let n = net.nodes.len();
    let mut is_static = vec![false; n];
    is_static[0] = opts.encode.is_static();
    for index in 1..n {
        let node = &net.nodes[index];
        // Neurons and delays change with time even under a constant input.
        is_static[index] = !matches!(
            node.layer,
            Layer::Spiking { .. } | Layer::Delay { .. } | Layer::Feedback { .. }
        ) && node.inputs.iter().all(|&i| is_static[i]);
    }
    is_static
}

/// The decoder in effect: `Auto` resolved by the output layer, spike
/// decoders on a non-spiking output read the membrane.
fn decoder(net: &Network, opts: &SimOptions) -> Decode {
    let output_spiking = matches!(&net.nodes[net.output].layer, Layer::Spiking { neuron, .. } if neuron.is_spiking());
    match opts.decode {
        Decode::Auto if output_spiking => Decode::Count,
        Decode::Auto => Decode::Membrane,
        Decode::Count | Decode::FirstSpike if !output_spiking => Decode::Membrane,
        other => other,
    }
}

/// A network checked once with its options, to simulate samples as they
/// come: an app's stage runs each reading (or a few) through it, each from
/// rest, with the same chunk code as [`simulate`] (one thread; the kernels
/// are rebuilt per call, which for an app's readings costs less than a
/// step).
pub struct Simulator {
    opts: SimOptions,
    decode: Decode,
    is_static: Vec<bool>,
    fanout: Vec<Vec<f32>>,
    sizes: Vec<usize>,
    workspace: Workspace,
}

impl Simulator {
    /// Checks `opts` and `net`.
    pub fn new(net: &Network, opts: &SimOptions) -> Result<Simulator, Error> {
        validate_options(opts)?;
        let shapes = net.validate()?;
        let sizes = shapes.iter().map(|s| s.iter().product()).collect();
        Ok(Simulator {
            opts: opts.clone(),
            decode: decoder(net, opts),
            is_static: static_nodes(net, opts),
            fanout: net.fanout(&shapes)?,
            sizes,
            workspace: Workspace::default(),
        })
    }

    /// Values per sample going in.
    pub fn input_len(&self) -> usize {
        self.sizes[0]
    }

    /// Values per sample coming out (the output layer's size).
    pub fn output_len(&self, net: &Network) -> usize {
        self.sizes[net.output]
    }

    /// The decoder in effect.
    pub fn decode(&self) -> Decode {
        self.decode
    }

    /// Simulates `samples` (whole samples, one after the other) through
    /// `net` (the network it was made for), each from rest, and appends
    /// each sample's decoded output to `decoded`: spike counts (`count`),
    /// the membrane readout (`membrane`), or for `first_spike` a score
    /// whose largest entry is the first-spike decision. `first` is the
    /// first sample's index in its stream (the rate encoder's seed).
    pub fn run(
        &mut self,
        net: &Network,
        first: usize,
        samples: &[f32],
        decoded: &mut Vec<f32>,
    ) -> Result<(), Error> {
        let per_sample = self.input_len().max(1);
        if net.nodes.len() != self.sizes.len() || !samples.len().is_multiple_of(per_sample) {
            return Err(Error::Data {
                expected: format!("whole samples of {per_sample} values for the prepared network"),
                found: format!("{} values", samples.len()),
            });
        }
        let fed_back = net.fed_back();
        let keep: Vec<bool> = (0..net.nodes.len())
            .map(|i| self.is_static[i] || i == net.output || fed_back[i])
            .collect();
        let plan = Plan::new(net, &keep)?;
        let never = AtomicBool::new(false);
        let run = Run {
            opts: &self.opts,
            decode: self.decode,
            fanout: std::mem::take(&mut self.fanout),
            is_static: std::mem::take(&mut self.is_static),
            per_neuron: per_neuron_coefficients(net, self.opts.dt),
            cancel: &never,
        };
        let mut outcome = Ok(());
        for (index, chunk) in samples.chunks(self.opts.batch * per_sample).enumerate() {
            let at = first + index * self.opts.batch;
            match run_chunk(
                &plan,
                &run,
                &mut self.workspace,
                at,
                chunk,
                None,
                &mut |_| {},
            ) {
                Ok(result) => decoded.extend_from_slice(&result.decoded),
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
        }
        self.fanout = run.fanout;
        self.is_static = run.is_static;
        outcome
    }
}

/// Simulates `data` (`[N, ...input shape]`) through `net`.
pub fn simulate(
    net: &Network,
    data: &Tensor,
    labels: Option<&[i64]>,
    opts: &SimOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<SimReport, Error> {
    let started = Instant::now();
    validate_options(opts)?;
    net.validate()?;
    let samples = check_data(net, data)?;
    if let Some(labels) = labels
        && labels.len() != samples
    {
        return Err(Error::Labels {
            expected: samples,
            found: labels.len(),
        });
    }
    let is_static = static_nodes(net, opts);
    // Fed-back nodes keep their buffers: a feedback reads them after the step.
    let fed_back = net.fed_back();
    let keep: Vec<bool> = (0..net.nodes.len())
        .map(|i| is_static[i] || i == net.output || fed_back[i])
        .collect();
    let plan = Plan::new(net, &keep)?;
    let decode = decoder(net, opts);
    let run = Run {
        opts,
        decode,
        fanout: net.fanout(&plan.shapes)?,
        is_static,
        per_neuron: per_neuron_coefficients(net, opts.dt),
        cancel,
    };
    let threads = thread_count(opts.threads).min(samples.max(1));
    let by_memory = (CACHE_BYTES / bytes_per_sample(&plan, &run).max(1)).max(1);
    let chunk = opts
        .batch
        .min(by_memory)
        .min(samples.div_ceil(threads).max(1));
    let chunks = samples.div_ceil(chunk);
    let per_sample = plan.sizes[0];

    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<ChunkResult> = Vec::with_capacity(chunks);
    let mut failure = None;
    let mut correct = 0usize;
    let mut samples_done = 0usize;
    let work = |sender: &mpsc::Sender<Message>| {
        let mut workspace = Workspace::default();
        let mut last_report = Instant::now();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= chunks || stop.load(Ordering::Relaxed) {
                return;
            }
            let first = index * chunk;
            let count = chunk.min(samples - first);
            let x = &data.data[first * per_sample..(first + count) * per_sample];
            let chunk_labels = labels.map(|l| &l[first..first + count]);
            let mut on_step = |step: usize| {
                if last_report.elapsed() >= PROGRESS_EVERY {
                    last_report = Instant::now();
                    let _ = sender.send(Message::Step { step });
                }
            };
            let result = run_chunk(
                &plan,
                &run,
                &mut workspace,
                first,
                x,
                chunk_labels,
                &mut on_step,
            );
            let _ = sender.send(Message::Done(result));
        }
    };
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..threads {
            let sender = sender.clone();
            let work = &work;
            scope.spawn(move || work(&sender));
        }
        drop(sender);
        let mut last = Instant::now();
        let report = |batch: usize, samples_done: usize, correct: usize, step: usize| Progress {
            batch,
            batches: chunks,
            samples_done,
            samples_total: samples,
            correct,
            step,
            steps: opts.steps,
        };
        for message in receiver {
            match message {
                Message::Step { step } => {
                    if last.elapsed() >= PROGRESS_EVERY {
                        last = Instant::now();
                        progress(report(results.len(), samples_done, correct, step));
                    }
                }
                Message::Done(Ok(result)) => {
                    let count = result.predictions.len();
                    if let Some(labels) = labels {
                        let l = &labels[result.first..result.first + count];
                        correct += result
                            .predictions
                            .iter()
                            .zip(l)
                            .filter(|(p, y)| **p as i64 == **y)
                            .count();
                    }
                    samples_done += count;
                    results.push(result);
                    last = Instant::now();
                    progress(report(results.len(), samples_done, correct, opts.steps));
                    // Cancelled from the callback (or meanwhile): no more results.
                    if cancel.load(Ordering::Relaxed) {
                        stop.store(true, Ordering::Relaxed);
                        failure.get_or_insert(Error::Cancelled);
                        break;
                    }
                }
                Message::Done(Err(error)) => {
                    stop.store(true, Ordering::Relaxed);
                    failure.get_or_insert(error);
                }
            }
        }
    });
    if let Some(error) = failure {
        return Err(error);
    }
    results.sort_by_key(|r| r.first);
    report(net, &plan, &run, labels, samples, results, started)
}

fn report(
    net: &Network,
    plan: &Plan,
    run: &Run,
    labels: Option<&[i64]>,
    samples: usize,
    results: Vec<ChunkResult>,
    started: Instant,
) -> Result<SimReport, Error> {
    let opts = run.opts;
    let n = net.nodes.len();
    let mut spikes = vec![0.0f64; n];
    let mut synops = 0.0f64;
    let mut correct_per_step = vec![0u64; opts.steps];
    let mut predictions = Vec::with_capacity(samples);
    for result in results {
        for (total, s) in spikes.iter_mut().zip(&result.spikes) {
            *total += s;
        }
        synops += result.synops;
        for (total, c) in correct_per_step.iter_mut().zip(&result.correct_per_step) {
            *total += c;
        }
        predictions.extend(result.predictions);
    }
    let correct = labels.map_or(0, |l| {
        predictions
            .iter()
            .zip(l)
            .filter(|(p, y)| **p as i64 == **y)
            .count()
    });
    let mut rates = Vec::new();
    let mut all_spikes = 0.0;
    let mut all_neurons = 0usize;
    let sample_count = samples.max(1);
    for (index, node) in net.nodes.iter().enumerate() {
        let counts_input = index == 0 && !opts.encode.is_static();
        // NIR's LI and I neurons are spiking layers that never spike: no rate.
        let spiking = matches!(&node.layer, Layer::Spiking { neuron, .. } if neuron.is_spiking());
        if spiking || counts_input {
            let neurons = plan.sizes[index];
            let denominator = (neurons * opts.steps * sample_count) as f64;
            let rate = spikes[index] / denominator;
            if !counts_input {
                all_spikes += spikes[index];
                all_neurons += neurons;
            }
            rates.push(LayerRate {
                layer: node.name.clone(),
                neurons,
                spikes: spikes[index],
                rate,
                rate_hz: rate / opts.dt as f64,
            });
        }
    }
    let macs_per_sample = net.macs_per_sample(&plan.shapes) as f64;
    let static_macs_per_sample = static_macs(net, &plan.shapes, &run.is_static);
    let accuracy_per_step: Vec<f64> = match labels {
        Some(_) => correct_per_step
            .iter()
            .map(|&c| c as f64 / sample_count as f64)
            .collect(),
        None => Vec::new(),
    };
    Ok(SimReport {
        accuracy: labels.map(|_| correct as f64 / sample_count as f64),
        accuracy_per_step,
        rates,
        synops,
        macs: macs_per_sample * samples as f64,
        samples,
        steps: opts.steps,
        wall_s: started.elapsed().as_secs_f64(),
        synops_per_sample: synops / sample_count as f64,
        macs_per_sample,
        static_macs: static_macs_per_sample * samples as f64,
        sparsity: if all_neurons == 0 {
            1.0
        } else {
            1.0 - all_spikes / (all_neurons * opts.steps * sample_count) as f64
        },
        predictions,
        encode: opts.encode.name().into(),
        decode: run.decode.name().into(),
    })
}

/// MACs of the weighted layers computed once per sample (fed by a constant input).
fn static_macs(net: &Network, shapes: &[Vec<usize>], is_static: &[bool]) -> f64 {
    (0..net.nodes.len())
        .filter(|&index| is_static[index])
        .map(|index| net.node_macs(index, shapes) as f64)
        .sum()
}
