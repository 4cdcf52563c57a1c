//! Simulating one chunk of samples for all steps: the unit of work a thread
//! takes. A chunk owns its buffers, event lists, neuron states and max-pool
//! totals; samples never interact, so chunks run on any thread in any order
//! and give the same spikes.

use super::layers::{Values, linear_node};
use super::plan::Plan;
use super::{Run, SimOptions};
use crate::Error;
use crate::decode::{self, Decode};
use crate::kernels::{Active, Scratch, push_nonzero, running_max};
use crate::layer::Layer;
use crate::neuron::{Neuron, NeuronState, nir_step_each};
use std::sync::atomic::Ordering;

/// What a chunk adds to the run's totals.
pub(crate) struct ChunkResult {
    pub first: usize,
    pub predictions: Vec<usize>,
    /// Spikes per node (absolute: a negative spike counts as one).
    pub spikes: Vec<f64>,
    pub synops: f64,
    pub correct_per_step: Vec<u64>,
    /// Each sample's decoded output after the last step: spike counts
    /// (`count`), the membrane readout (`membrane`), or for `first_spike`
    /// scores whose largest entry is the first-spike decision.
    pub decoded: Vec<f32>,
}

/// A thread's working memory, reused from chunk to chunk.
#[derive(Default)]
pub(crate) struct Workspace {
    buffers: Vec<Vec<f32>>,
    actives: Vec<Active>,
    states: Vec<Option<NeuronState>>,
    /// Running max-pools: every input's total and every window's last max.
    pools: Vec<Option<(Vec<f32>, Vec<f32>)>>,
    /// Delay lines: the last `longest + 1` steps of each delay's input.
    delays: Vec<Option<Vec<f32>>>,
    /// Each feedback's values: its source's output at the previous step.
    feedbacks: Vec<Option<Vec<f32>>>,
    scratch: Scratch,
    spikes: Vec<f32>,
    current: Vec<f32>,
}

impl Workspace {
    fn reset(&mut self, plan: &Plan, run: &Run, batch: usize) {
        let net = plan.net;
        self.buffers.resize_with(plan.buffer_sizes.len(), Vec::new);
        for (buffer, &size) in self.buffers.iter_mut().zip(&plan.buffer_sizes) {
            buffer.resize(size * batch, 0.0);
        }
        self.actives
            .resize_with(plan.buffer_sizes.len(), Active::default);
        for active in &mut self.actives {
            active.starts.clear();
        }
        self.states.resize_with(net.nodes.len(), || None);
        self.pools.resize_with(net.nodes.len(), || None);
        self.delays.resize_with(net.nodes.len(), || None);
        self.feedbacks.resize_with(net.nodes.len(), || None);
        for (index, node) in net.nodes.iter().enumerate() {
            let len = plan.sizes[index] * batch;
            self.states[index] = match &node.layer {
                Layer::Spiking {
                    neuron,
                    scaling,
                    per_neuron,
                } => {
                    let start = |n: &Neuron| scaling.initial_membrane * n.threshold() + n.resting();
                    let mut state = NeuronState::new(len, start(neuron), neuron.needs_aux());
                    if let Some(neurons) = per_neuron {
                        let starts: Vec<f32> =
                            neurons.iter().map(|&n| start(&Neuron::Nir(n))).collect();
                        for sample in state.membrane.chunks_mut(starts.len().max(1)) {
                            sample.copy_from_slice(&starts[..sample.len()]);
                        }
                    }
                    Some(state)
                }
                _ => None,
            };
            self.feedbacks[index] = match &node.layer {
                Layer::Feedback { initial, .. } if !initial.is_empty() => {
                    Some(initial.iter().copied().cycle().take(len).collect())
                }
                Layer::Feedback { .. } => Some(vec![0.0; len]),
                _ => None,
            };
            self.delays[index] = match &node.layer {
                Layer::Delay { steps } => Some(vec![0.0; delay_depth(steps) * len]),
                _ => None,
            };
            self.pools[index] = match &node.layer {
                Layer::MaxPool { .. } if !run.is_static[index] => Some((
                    vec![0.0; plan.sizes[node.inputs[0]] * batch],
                    vec![0.0; len],
                )),
                _ => None,
            };
        }
    }
}

/// Bytes per sample a chunk holds (buffers, event lists, states, totals).
pub(crate) fn bytes_per_sample(plan: &Plan, run: &Run) -> usize {
    let mut values = plan.buffer_sizes.iter().sum::<usize>() * 2;
    for (index, node) in plan.net.nodes.iter().enumerate() {
        values += match &node.layer {
            Layer::Spiking { neuron, .. } => plan.sizes[index] * (1 + neuron.needs_aux() as usize),
            Layer::MaxPool { .. } if !run.is_static[index] => {
                plan.sizes[index] + plan.sizes[node.inputs[0]]
            }
            Layer::Delay { steps } => plan.sizes[index] * delay_depth(steps),
            Layer::Feedback { .. } => plan.sizes[index],
            _ => 0,
        };
    }
    values * 4
}

/// How many steps a delay line holds: the longest delay and the present.
fn delay_depth(steps: &[u32]) -> usize {
    steps.iter().max().map_or(0, |&most| most as usize) + 1
}

/// One step of a delay: `input` goes into the line's slot for `step`, and
/// value `i` of each sample comes out of the slot of `step - steps[i]`
/// (0 while `step < steps[i]`).
fn delay_step(steps: &[u32], step: usize, input: &[f32], line: &mut [f32], out: &mut [f32]) {
    let depth = delay_depth(steps);
    let total = input.len();
    line[(step % depth) * total..][..total].copy_from_slice(input);
    let size = steps.len().max(1);
    for (sample, values) in out.chunks_exact_mut(size).enumerate() {
        for (i, (value, &delay)) in values.iter_mut().zip(steps).enumerate() {
            let delay = delay as usize;
            *value = if step >= delay {
                line[((step - delay) % depth) * total + sample * size + i]
            } else {
                0.0
            };
        }
    }
}

/// One sample's spike count (absolute) and synaptic operations (spikes x
/// fan-out), added to `sums` in event order. Kept out of line: inlined into the step
/// loop its two accumulators were spilled to the stack, a store-to-load
/// chain per spike.
#[inline(never)]
fn spike_sums(events: &[u32], spikes: &[f32], fanout: &[f32], sums: (f32, f32)) -> (f32, f32) {
    let (mut count, mut synops) = sums;
    for &i in events {
        let spike = spikes[i as usize].abs();
        count += spike;
        synops += spike * fanout[i as usize];
    }
    (count, synops)
}

/// Neurons updated per pass of a spiking layer (16 KB of each array).
const NEURON_PIECE: usize = 4096;

/// Simulates samples `first..first + batch` (their inputs `x`) for all steps.
pub(crate) fn run_chunk(
    plan: &Plan,
    run: &Run,
    work: &mut Workspace,
    first: usize,
    x: &[f32],
    labels: Option<&[i64]>,
    on_step: &mut dyn FnMut(usize),
) -> Result<ChunkResult, Error> {
    let net = plan.net;
    let opts: &SimOptions = run.opts;
    let batch = x.len() / plan.sizes[0];
    let n = net.nodes.len();
    let output = net.output;
    let classes = plan.sizes[output];
    work.reset(plan, run, batch);
    let mut result = ChunkResult {
        first,
        predictions: vec![0; batch],
        spikes: vec![0.0; n],
        synops: 0.0,
        correct_per_step: vec![0; opts.steps],
        decoded: Vec::new(),
    };
    let mut readout = vec![0.0f32; classes * batch];
    let mut counts = vec![0.0f32; classes * batch];
    let mut first_spike = vec![u32::MAX; classes * batch];
    let Workspace {
        buffers,
        actives,
        states,
        pools,
        delays,
        feedbacks,
        scratch,
        spikes,
        current,
    } = work;
    let mut values = Values {
        buffers,
        actives,
        scratch,
    };

    for step in 0..opts.steps {
        if run.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let input_buffer = plan.buffer_of[0];
        if !(run.is_static[0] && step > 0) {
            let size = plan.sizes[0];
            values.actives[input_buffer].starts.clear();
            opts.encode.step(
                step,
                opts.dt,
                first,
                x,
                size,
                &mut values.buffers[input_buffer][..size * batch],
            );
            if !opts.encode.is_static() {
                let active = &mut values.actives[input_buffer];
                active.scan(&values.buffers[input_buffer][..size * batch], size);
                result.spikes[0] += active.indices.len() as f64;
                for sample in 0..batch {
                    for &i in &active.indices[active.starts[sample]..active.starts[sample + 1]] {
                        result.synops +=
                            (values.buffers[input_buffer][sample * size + i as usize].abs()
                                * run.fanout[0][i as usize]) as f64;
                    }
                }
            }
        }
        for index in 1..n {
            if run.is_static[index] && step > 0 {
                continue;
            }
            let node = &net.nodes[index];
            match &node.layer {
                Layer::Spiking {
                    neuron, scaling, ..
                } => {
                    let (input_scale, amplitude) = (scaling.input_scale, scaling.amplitude);
                    let size = plan.sizes[index];
                    let buffer = plan.buffer_of[index];
                    let mut out = std::mem::take(&mut values.buffers[buffer]);
                    let mut active = std::mem::take(&mut values.actives[buffer]);
                    active.clear();
                    let input = values.of(plan, node.inputs[0], batch);
                    // One sample at a time: its spikes, values and event list
                    // are made while its slice of the layer is in L1 (at
                    // batch 256 the whole-layer passes were memory-bound).
                    spikes.resize(size, 0.0);
                    let state = states[index]
                        .as_mut()
                        .expect("state exists for every spiking layer");
                    let mut n_spikes = 0.0f64;
                    let mut synops = 0.0f64;
                    let layer_fanout = &run.fanout[index];
                    for sample in 0..batch {
                        let sample_start = sample * size;
                        let mut sums = (0.0f32, 0.0f32);
                        // A piece of the sample at a time, so the neuron
                        // update, the values and the event list read what
                        // the previous pass left in L1 (a ResNet's layers are
                        // megabytes per sample).
                        for piece in (0..size).step_by(NEURON_PIECE) {
                            let local = piece..(piece + NEURON_PIECE).min(size);
                            let range = sample_start + local.start..sample_start + local.end;
                            let j = &input[range.clone()];
                            let membrane = &mut state.membrane[range.clone()];
                            let aux: &mut [f32] = if state.aux.is_empty() {
                                &mut []
                            } else {
                                &mut state.aux[range.clone()]
                            };
                            let s = &mut spikes[local.clone()];
                            let j = if input_scale == 1.0 {
                                j
                            } else {
                                current.clear();
                                current.extend(j.iter().map(|v| v * input_scale));
                                &current[..]
                            };
                            match &run.per_neuron[index] {
                                Some(each) => {
                                    nir_step_each(&each[local.clone()], j, membrane, aux, s)
                                }
                                None => neuron.step_slices(opts.dt, j, membrane, aux, s),
                            }
                            // Values first (a branch-free pass), then the rare spikes.
                            for (value, &count) in out[range].iter_mut().zip(s.iter()) {
                                *value = count * amplitude;
                            }
                            let first_event = active.indices.len();
                            push_nonzero(&mut active.indices, s, local.start as u32);
                            let events = &active.indices[first_event..];
                            sums = spike_sums(events, spikes, layer_fanout, sums);
                            if index == output {
                                for &i in events {
                                    let k = sample * classes + i as usize;
                                    counts[k] += spikes[i as usize];
                                    first_spike[k] = first_spike[k].min(step as u32);
                                }
                            }
                        }
                        let (sample_spikes, sample_synops) = sums;
                        n_spikes += sample_spikes as f64;
                        synops += sample_synops as f64;
                        active.starts.push(active.indices.len());
                    }
                    values.buffers[buffer] = out;
                    values.actives[buffer] = active;
                    result.spikes[index] += n_spikes;
                    result.synops += synops;
                }
                Layer::MaxPool { window } if pools[index].is_some() => {
                    let input = node.inputs[0];
                    let buffer = plan.buffer_of[index];
                    let mut out = std::mem::take(&mut values.buffers[buffer]);
                    values.actives[buffer].starts.clear();
                    let (totals, last) = pools[index].as_mut().expect("checked above");
                    let total = plan.sizes[input] * batch;
                    let input_buffer = plan.buffer_of[input];
                    let active = values.actives[input_buffer]
                        .is_valid(batch)
                        .then(|| &values.actives[input_buffer]);
                    running_max(
                        &plan.shapes[input],
                        &plan.shapes[index],
                        *window,
                        &values.buffers[input_buffer][..total],
                        active,
                        totals,
                        last,
                        &mut out[..plan.sizes[index] * batch],
                    );
                    values.buffers[buffer] = out;
                }
                Layer::Feedback { .. } => {
                    let size = plan.sizes[index];
                    let buffer = plan.buffer_of[index];
                    values.actives[buffer].starts.clear();
                    let last = feedbacks[index]
                        .as_ref()
                        .expect("a state for every feedback");
                    values.buffers[buffer][..size * batch].copy_from_slice(last);
                }
                Layer::Delay { steps } => {
                    let size = plan.sizes[index];
                    let buffer = plan.buffer_of[index];
                    let mut out = std::mem::take(&mut values.buffers[buffer]);
                    // No event list: readers take the values densely.
                    values.actives[buffer].starts.clear();
                    let line = delays[index].as_mut().expect("a line for every delay");
                    delay_step(
                        steps,
                        step,
                        values.of(plan, node.inputs[0], batch),
                        line,
                        &mut out[..size * batch],
                    );
                    values.buffers[buffer] = out;
                }
                _ => linear_node(plan, index, batch, &mut values),
            }
        }
        // What the feedbacks carry into the next step.
        for (index, node) in net.nodes.iter().enumerate() {
            if let Layer::Feedback { from, .. } = node.layer
                && let Some(state) = feedbacks[index].as_mut()
            {
                state.copy_from_slice(values.of(plan, from, batch));
            }
        }
        // Decode after this step, for the accuracy-per-step curve.
        let output_values = values.of(plan, output, batch);
        match run.decode {
            Decode::Membrane if !matches!(net.nodes[output].layer, Layer::Spiking { .. }) => {
                for (r, &v) in readout.iter_mut().zip(output_values) {
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
        for (sample, prediction) in result.predictions.iter_mut().enumerate() {
            let range = sample * classes..(sample + 1) * classes;
            *prediction = match run.decode {
                Decode::Count | Decode::Auto => decode::argmax(&counts[range]),
                Decode::FirstSpike => {
                    decode::first_spike(&first_spike[range.clone()], &counts[range])
                }
                Decode::Membrane => decode::argmax(&readout[range]),
            };
        }
        if let Some(labels) = labels {
            result.correct_per_step[step] += result
                .predictions
                .iter()
                .zip(labels)
                .filter(|(p, y)| **p as i64 == **y)
                .count() as u64;
        }
        on_step(step + 1);
    }
    result.decoded = match run.decode {
        Decode::Membrane => readout,
        Decode::Count | Decode::Auto => counts,
        Decode::FirstSpike => {
            decode::first_spike_scores(&first_spike, &counts, opts.steps).collect()
        }
    };
    Ok(result)
}
