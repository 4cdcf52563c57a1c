//! The simulator: runs a network over a data set in batches for a number of
//! steps, and the plain ANN forward pass used for calibration and checks.

use crate::Error;
use crate::decode::{self, Decode};
use crate::encode::Encode;
use crate::kernels::{
    Active, ConvKernel, DENSE_ABOVE, DenseKernel, avg_pool_events, pool, pool_targets, push_nonzero,
};
use crate::layer::Layer;
use crate::metrics::{LayerRate, SimReport};
use crate::network::Network;
use crate::neuron::NeuronState;
use crate::tensor::Tensor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    pub steps: usize,
    /// Step length in seconds (LIF time constants and rate encoding use it).
    pub dt: f32,
    pub encode: Encode,
    pub decode: Decode,
    /// Samples simulated together.
    pub batch: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            steps: 50,
            dt: 0.001,
            encode: Encode::Current,
            decode: Decode::Auto,
            batch: 64,
        }
    }
}

/// Reported after every batch.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Progress {
    pub batch: usize,
    pub batches: usize,
    pub samples_done: usize,
    pub samples_total: usize,
    /// Correct predictions so far (0 without labels).
    pub correct: usize,
}

enum Kernel {
    None,
    Dense(DenseKernel),
    Conv(ConvKernel),
}

/// Per-network data derived once (kernels, shapes, fan-outs).
struct Prepared {
    shapes: Vec<Vec<usize>>,
    sizes: Vec<usize>,
    kernels: Vec<Kernel>,
    /// Per average-pool node without overlap or padding: each input's output cell.
    pool_targets: Vec<Option<Vec<u32>>>,
}

fn prepare(net: &Network) -> Result<Prepared, Error> {
    let shapes = net.validate()?;
    let sizes = shapes.iter().map(|s| s.iter().product()).collect();
    let mut kernels = Vec::with_capacity(net.nodes.len());
    for (index, node) in net.nodes.iter().enumerate() {
        kernels.push(match &node.layer {
            Layer::Dense { weight, bias } => Kernel::Dense(DenseKernel::new(weight, bias.as_ref())),
            Layer::Conv2d { weight, bias, .. } => Kernel::Conv(ConvKernel::new(
                net.conv_geometry_of(index, &shapes)?,
                weight,
                bias.as_ref(),
            )),
            _ => Kernel::None,
        });
    }
    let pool_targets = net
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| match &node.layer {
            Layer::AvgPool {
                kernel,
                stride,
                padding,
                ..
            } => pool_targets(
                &shapes[node.inputs[0]],
                &shapes[index],
                *kernel,
                *stride,
                *padding,
            ),
            _ => None,
        })
        .collect();
    Ok(Prepared {
        shapes,
        sizes,
        kernels,
        pool_targets,
    })
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

/// Below this batch size a dense layer always takes the event path.
const DENSE_MIN_BATCH: usize = 8;

/// Computes a linear (non-spiking) node from its inputs' values.
fn linear_node(
    net: &Network,
    prepared: &mut Prepared,
    index: usize,
    batch: usize,
    before: &[Vec<f32>],
    actives: &mut [Active],
    out: &mut [f32],
) {
    let node = &net.nodes[index];
    let shapes = &prepared.shapes;
    match (&node.layer, &mut prepared.kernels[index]) {
        (Layer::Dense { .. }, Kernel::Dense(kernel)) => {
            let input = node.inputs[0];
            let total = batch * prepared.sizes[input];
            if actives[input].starts.len() != batch + 1 {
                actives[input].scan(&before[input][..total], prepared.sizes[input]);
            }
            // sgemm packs both operands on every call: for a handful of
            // samples walking the non-zero inputs is cheaper at any density.
            if batch < DENSE_MIN_BATCH || actives[input].density(total) < DENSE_ABOVE {
                kernel.forward_events(&before[input], &actives[input], out);
            } else {
                kernel.forward_dense(batch, &before[input], out);
            }
        }
        (Layer::Conv2d { .. }, Kernel::Conv(kernel)) => {
            let input = node.inputs[0];
            let total = batch * prepared.sizes[input];
            if actives[input].starts.len() != batch + 1 {
                actives[input].scan(&before[input][..total], prepared.sizes[input]);
            }
            if actives[input].density(total) < DENSE_ABOVE {
                kernel.forward_events(&before[input], &actives[input], out);
            } else if kernel.has_direct() {
                kernel.forward_direct(batch, &before[input], out);
            } else {
                kernel.forward_dense(batch, &before[input], out);
            }
        }
        (
            Layer::AvgPool {
                kernel,
                stride,
                padding,
                count_include_pad,
            },
            _,
        ) => {
            let input = node.inputs[0];
            // A spike map (its event list is valid this step): scatter the events.
            if let Some(targets) = &prepared.pool_targets[index]
                && actives[input].starts.len() == batch + 1
                && actives[input].density(batch * prepared.sizes[input]) < 1.0
            {
                let divisor = 1.0 / (kernel[0] * kernel[1]) as f32;
                avg_pool_events(
                    targets,
                    divisor,
                    prepared.sizes[input],
                    &before[input],
                    &actives[input],
                    out,
                );
                return;
            }
            pool(
                &shapes[input],
                &shapes[index],
                *kernel,
                *stride,
                *padding,
                true,
                *count_include_pad,
                &before[input],
                out,
            );
        }
        (
            Layer::MaxPool {
                kernel,
                stride,
                padding,
            },
            _,
        ) => {
            let input = node.inputs[0];
            pool(
                &shapes[input],
                &shapes[index],
                *kernel,
                *stride,
                *padding,
                false,
                false,
                &before[input],
                out,
            );
        }
        (Layer::Flatten, _) => out.copy_from_slice(&before[node.inputs[0]][..out.len()]),
        (Layer::Add, _) => {
            out.copy_from_slice(&before[node.inputs[0]][..out.len()]);
            for &other in &node.inputs[1..] {
                for (o, &v) in out.iter_mut().zip(&before[other]) {
                    *o += v;
                }
            }
        }
        (Layer::Relu, _) => {
            for (o, &v) in out.iter_mut().zip(&before[node.inputs[0]]) {
                *o = v.max(0.0);
            }
        }
        // In an ANN pass a spiking layer stands for its rate approximation.
        (
            Layer::Spiking {
                input_scale,
                amplitude,
                ..
            },
            _,
        ) => {
            for (o, &v) in out.iter_mut().zip(&before[node.inputs[0]]) {
                *o = (v * input_scale).max(0.0) * amplitude;
            }
        }
        _ => {}
    }
}

/// The ANN forward pass of one batch `[N, ...]`: every node's output values.
/// Spiking layers act as rectifiers (their rate approximation).
pub fn ann_forward(net: &Network, input: &Tensor) -> Result<Vec<Vec<f32>>, Error> {
    let mut prepared = prepare(net)?;
    let batch = check_data(net, input)?;
    let mut values: Vec<Vec<f32>> = prepared
        .sizes
        .iter()
        .map(|s| vec![0.0; s * batch])
        .collect();
    values[0].copy_from_slice(&input.data);
    // Scanning for events is pointless on dense ANN activations: mark none.
    let mut actives: Vec<Active> = (0..net.nodes.len()).map(|_| Active::default()).collect();
    for index in 1..net.nodes.len() {
        let (before, after) = values.split_at_mut(index);
        for &i in &net.nodes[index].inputs {
            actives[i].mark_dense(prepared.sizes[i], batch);
        }
        linear_node(
            net,
            &mut prepared,
            index,
            batch,
            before,
            &mut actives,
            &mut after[0],
        );
    }
    Ok(values)
}

struct Totals {
    spikes: Vec<f64>,
    synops: f64,
    correct_per_step: Vec<u64>,
    predictions: Vec<usize>,
}

/// A network prepared once (kernels, shapes, fan-outs, which layers are
/// static) with its options checked, to simulate samples as they come: an
/// app's stage runs each reading (or a few) through it, each from rest.
pub struct Simulator {
    prepared: Prepared,
    fanout: Vec<Vec<f32>>,
    is_static: Vec<bool>,
    opts: SimOptions,
    /// The decoder in effect (`Auto` resolved by the output layer).
    decode: Decode,
    nodes: usize,
}

impl Simulator {
    /// Checks `opts` and prepares `net`.
    pub fn new(net: &Network, opts: &SimOptions) -> Result<Simulator, Error> {
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
        opts.encode.validate()?;
        let prepared = prepare(net)?;
        let fanout = net.fanout(&prepared.shapes)?;
        let n = net.nodes.len();
        let mut is_static = vec![false; n];
        is_static[0] = opts.encode.is_static();
        for index in 1..n {
            let node = &net.nodes[index];
            is_static[index] = !matches!(node.layer, Layer::Spiking { .. })
                && node.inputs.iter().all(|&i| is_static[i]);
        }
        let output_spiking = matches!(&net.nodes[net.output].layer, Layer::Spiking { neuron, .. } if neuron.is_spiking());
        let decode = match opts.decode {
            Decode::Auto if output_spiking => Decode::Count,
            Decode::Auto => Decode::Membrane,
            Decode::Count | Decode::FirstSpike if !output_spiking => Decode::Membrane,
            other => other,
        };
        Ok(Simulator {
            prepared,
            fanout,
            is_static,
            opts: opts.clone(),
            decode,
            nodes: n,
        })
    }

    /// Values per sample going in.
    pub fn input_len(&self) -> usize {
        self.prepared.sizes[0]
    }

    /// Values per sample coming out (the output layer's size).
    pub fn output_len(&self, net: &Network) -> usize {
        self.prepared.sizes[net.output]
    }

    /// The decoder in effect.
    pub fn decode(&self) -> Decode {
        self.decode
    }

    /// Simulates `samples` (whole samples, one after the other) through
    /// `net` (the network it was prepared for), each from rest, and appends
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
        let per_sample = self.input_len();
        if net.nodes.len() != self.nodes || !samples.len().is_multiple_of(per_sample.max(1)) {
            return Err(Error::Data {
                expected: format!("whole samples of {per_sample} values for the prepared network"),
                found: format!("{} values", samples.len()),
            });
        }
        let mut totals = Totals::new(self.nodes, self.opts.steps, 0);
        let never = AtomicBool::new(false);
        for (index, chunk) in samples
            .chunks(self.opts.batch * per_sample.max(1))
            .enumerate()
        {
            let batch = chunk.len() / per_sample.max(1);
            self.run_batch(
                net,
                first + index * self.opts.batch,
                batch,
                chunk,
                None,
                &mut totals,
                Some(decoded),
                &never,
            )?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn run_batch(
        &mut self,
        net: &Network,
        first: usize,
        batch: usize,
        x: &[f32],
        labels: Option<&[i64]>,
        totals: &mut Totals,
        decoded: Option<&mut Vec<f32>>,
        cancel: &AtomicBool,
    ) -> Result<Vec<usize>, Error> {
        let classes = self.prepared.sizes[net.output];
        run_batch(
            net,
            &mut self.prepared,
            &self.fanout,
            &self.is_static,
            &self.opts,
            self.decode,
            first,
            batch,
            x,
            labels,
            classes,
            totals,
            decoded,
            cancel,
        )
    }
}

impl Totals {
    fn new(nodes: usize, steps: usize, samples: usize) -> Totals {
        Totals {
            spikes: vec![0.0; nodes],
            synops: 0.0,
            correct_per_step: vec![0; steps],
            predictions: Vec::with_capacity(samples),
        }
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
    let mut simulator = Simulator::new(net, opts)?;
    let samples = check_data(net, data)?;
    if let Some(labels) = labels
        && labels.len() != samples
    {
        return Err(Error::Labels {
            expected: samples,
            found: labels.len(),
        });
    }
    let n = net.nodes.len();
    let decode = simulator.decode;
    let per_sample = simulator.input_len();
    let batches = samples.div_ceil(opts.batch);
    let mut totals = Totals::new(n, opts.steps, samples);
    let mut correct = 0usize;

    for (batch_index, first) in (0..samples).step_by(opts.batch).enumerate() {
        let batch = opts.batch.min(samples - first);
        let x = &data.data[first * per_sample..(first + batch) * per_sample];
        let batch_labels = labels.map(|l| &l[first..first + batch]);
        let predictions = simulator.run_batch(
            net,
            first,
            batch,
            x,
            batch_labels,
            &mut totals,
            None,
            cancel,
        )?;
        if let Some(l) = batch_labels {
            correct += predictions
                .iter()
                .zip(l)
                .filter(|(p, y)| **p as i64 == **y)
                .count();
        }
        totals.predictions.extend(predictions);
        progress(Progress {
            batch: batch_index + 1,
            batches,
            samples_done: first + batch,
            samples_total: samples,
            correct,
        });
    }

    let mut rates = Vec::new();
    let mut all_spikes = 0.0;
    let mut all_neurons = 0usize;
    let sample_count = samples.max(1);
    for (index, node) in net.nodes.iter().enumerate() {
        let counts_input = index == 0 && !opts.encode.is_static();
        let spiking = matches!(&node.layer, Layer::Spiking { neuron, .. } if neuron.is_spiking());
        if spiking || counts_input {
            let neurons = simulator.prepared.sizes[index];
            let denominator = (neurons * opts.steps * sample_count) as f64;
            let rate = totals.spikes[index] / denominator;
            if !counts_input {
                all_spikes += totals.spikes[index];
                all_neurons += neurons;
            }
            rates.push(LayerRate {
                layer: node.name.clone(),
                neurons,
                spikes: totals.spikes[index],
                rate,
                rate_hz: rate / opts.dt as f64,
            });
        }
    }
    let shapes = &simulator.prepared.shapes;
    let macs_per_sample = net.macs_per_sample(shapes) as f64;
    let static_macs_per_sample = static_macs(net, shapes, &simulator.is_static);
    let accuracy_per_step: Vec<f64> = match labels {
        Some(_) => totals
            .correct_per_step
            .iter()
            .map(|&c| c as f64 / sample_count as f64)
            .collect(),
        None => Vec::new(),
    };
    Ok(SimReport {
        accuracy: labels.map(|_| correct as f64 / sample_count as f64),
        accuracy_per_step,
        rates,
        synops: totals.synops,
        macs: macs_per_sample * samples as f64,
        samples,
        steps: opts.steps,
        wall_s: started.elapsed().as_secs_f64(),
        synops_per_sample: totals.synops / sample_count as f64,
        macs_per_sample,
        static_macs: static_macs_per_sample * samples as f64,
        sparsity: if all_neurons == 0 {
            1.0
        } else {
            1.0 - all_spikes / (all_neurons * opts.steps * sample_count) as f64
        },
        predictions: totals.predictions,
        encode: opts.encode.name().into(),
        decode: decode.name().into(),
    })
}

fn static_macs(net: &Network, shapes: &[Vec<usize>], is_static: &[bool]) -> f64 {
    let mut only_static = net.clone();
    for (index, node) in only_static.nodes.iter_mut().enumerate() {
        if !is_static[index] && node.layer.is_weighted() {
            node.layer = Layer::Flatten;
        }
    }
    only_static.macs_per_sample(shapes) as f64
}

/// One sample's spike count and synaptic operations (spikes x fan-out), summed
/// in event order. Kept out of line: inlined into `run_batch` its two
/// accumulators were spilled to the stack, a store-to-load chain per spike.
#[inline(never)]
fn spike_sums(events: &[u32], spikes: &[f32], fanout: &[f32]) -> (f32, f32) {
    let (mut count, mut synops) = (0.0f32, 0.0f32);
    for &i in events {
        let spike = spikes[i as usize];
        count += spike;
        synops += spike * fanout[i as usize];
    }
    (count, synops)
}

#[allow(clippy::too_many_arguments)]
fn run_batch(
    net: &Network,
    prepared: &mut Prepared,
    fanout: &[Vec<f32>],
    is_static: &[bool],
    opts: &SimOptions,
    decode: Decode,
    first: usize,
    batch: usize,
    x: &[f32],
    labels: Option<&[i64]>,
    classes: usize,
    totals: &mut Totals,
    decoded: Option<&mut Vec<f32>>,
    cancel: &AtomicBool,
) -> Result<Vec<usize>, Error> {
    let n = net.nodes.len();
    let output = net.output;
    let mut values: Vec<Vec<f32>> = prepared
        .sizes
        .iter()
        .map(|s| vec![0.0; s * batch])
        .collect();
    let mut actives: Vec<Active> = (0..n).map(|_| Active::default()).collect();
    let mut states: Vec<Option<NeuronState>> = net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| match &node.layer {
            Layer::Spiking {
                neuron,
                initial_membrane,
                ..
            } => Some(NeuronState::new(
                prepared.sizes[i] * batch,
                initial_membrane * neuron.threshold() + neuron.resting(),
            )),
            _ => None,
        })
        .collect();
    let mut current = Vec::new();
    let mut spikes = Vec::new();
    let mut readout = vec![0.0f32; classes * batch];
    let mut counts = vec![0.0f32; classes * batch];
    let mut first_spike = vec![u32::MAX; classes * batch];
    let mut predictions = vec![0usize; batch];

    for step in 0..opts.steps {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        // Event lists are valid for one step only.
        for active in actives.iter_mut() {
            active.starts.clear();
        }
        if !(is_static[0] && step > 0) {
            opts.encode
                .step(step, opts.dt, first, x, prepared.sizes[0], &mut values[0]);
            if !opts.encode.is_static() {
                let size = prepared.sizes[0];
                actives[0].scan(&values[0], size);
                totals.spikes[0] += actives[0].indices.len() as f64;
                for sample in 0..batch {
                    for &i in &actives[0].indices
                        [actives[0].starts[sample]..actives[0].starts[sample + 1]]
                    {
                        totals.synops += (values[0][sample * size + i as usize].abs()
                            * fanout[0][i as usize])
                            as f64;
                    }
                }
            }
        }
        for index in 1..n {
            if is_static[index] && step > 0 {
                continue;
            }
            let (before, after) = values.split_at_mut(index);
            let out = &mut after[0];
            let node = &net.nodes[index];
            match &node.layer {
                Layer::Spiking {
                    neuron,
                    input_scale,
                    amplitude,
                    ..
                } => {
                    let input = &before[node.inputs[0]];
                    let size = prepared.sizes[index];
                    // One sample at a time: its spikes, values and event list
                    // are made while its slice of the layer is in L1 (at
                    // batch 256 the whole-layer passes were memory-bound).
                    spikes.resize(size, 0.0);
                    let state = states[index]
                        .as_mut()
                        .expect("state exists for every spiking layer");
                    let active = &mut actives[index];
                    active.clear();
                    let mut n_spikes = 0.0f64;
                    let mut synops = 0.0f64;
                    let layer_fanout = &fanout[index];
                    for (sample, ((o, j), (membrane, aux))) in out
                        .chunks_exact_mut(size)
                        .zip(input.chunks_exact(size))
                        .zip(
                            state
                                .membrane
                                .chunks_exact_mut(size)
                                .zip(state.aux.chunks_exact_mut(size)),
                        )
                        .enumerate()
                    {
                        let s = &mut spikes[..];
                        if *input_scale == 1.0 {
                            neuron.step_slices(opts.dt, j, membrane, aux, s);
                        } else {
                            current.clear();
                            current.extend(j.iter().map(|v| v * input_scale));
                            neuron.step_slices(opts.dt, &current, membrane, aux, s);
                        }
                        // Values first (a branch-free pass), then the rare spikes.
                        for (value, &count) in o.iter_mut().zip(s.iter()) {
                            *value = count * amplitude;
                        }
                        let first_event = active.indices.len();
                        push_nonzero(&mut active.indices, s);
                        let events = &active.indices[first_event..];
                        let (sample_spikes, sample_synops) = spike_sums(events, s, layer_fanout);
                        if index == output {
                            for &i in events {
                                let k = sample * classes + i as usize;
                                counts[k] += s[i as usize];
                                first_spike[k] = first_spike[k].min(step as u32);
                            }
                        }
                        n_spikes += sample_spikes as f64;
                        synops += sample_synops as f64;
                        active.starts.push(active.indices.len());
                    }
                    totals.spikes[index] += n_spikes;
                    totals.synops += synops;
                }
                _ => linear_node(net, prepared, index, batch, before, &mut actives, out),
            }
        }
        // Decode after this step, for the accuracy-per-step curve.
        match decode {
            Decode::Membrane if !matches!(net.nodes[output].layer, Layer::Spiking { .. }) => {
                for (r, &v) in readout.iter_mut().zip(&values[output]) {
                    *r += v;
                }
            }
            Decode::Membrane => readout.copy_from_slice(
                &states[output]
                    .as_ref()
                    .expect("spiking output has a state")
                    .membrane,
            ),
            _ => {}
        }
        for (sample, prediction) in predictions.iter_mut().enumerate() {
            let range = sample * classes..(sample + 1) * classes;
            *prediction = match decode {
                Decode::Count | Decode::Auto => decode::argmax(&counts[range]),
                Decode::FirstSpike => {
                    decode::first_spike(&first_spike[range.clone()], &counts[range])
                }
                Decode::Membrane => decode::argmax(&readout[range]),
            };
        }
        if let Some(labels) = labels {
            totals.correct_per_step[step] += predictions
                .iter()
                .zip(labels)
                .filter(|(p, y)| **p as i64 == **y)
                .count() as u64;
        }
    }
    if let Some(decoded) = decoded {
        match decode {
            Decode::Membrane => decoded.extend_from_slice(&readout),
            Decode::Count | Decode::Auto => decoded.extend_from_slice(&counts),
            Decode::FirstSpike => decoded.extend(decode::first_spike_scores(
                &first_spike,
                &counts,
                opts.steps,
            )),
        }
    }
    Ok(predictions)
}
