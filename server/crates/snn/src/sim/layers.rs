//! Computing one stateless node of a batch from its inputs' buffers: the
//! weighted layers (event-driven or dense by the measured input density),
//! pooling, add, concat, scale and the rectifiers. Spiking layers and the
//! spiking max-pool keep state and are stepped by the chunk (`chunk.rs`).

use super::plan::{Kernel, Plan};
use crate::kernels::{Active, DENSE_ABOVE, Scratch, avg_pool_events, pool};
use crate::layer::Layer;

/// Below this batch size a dense layer always takes the event path.
const DENSE_MIN_BATCH: usize = 8;

/// The buffers and event lists of a batch being computed.
pub(crate) struct Values<'a> {
    pub buffers: &'a mut [Vec<f32>],
    /// One list per buffer, valid while the buffer is not rewritten.
    pub actives: &'a mut [Active],
    pub scratch: &'a mut Scratch,
}

impl Values<'_> {
    /// The values of node `input` for the whole batch.
    pub fn of(&self, plan: &Plan, input: usize, batch: usize) -> &[f32] {
        &self.buffers[plan.buffer_of[input]][..plan.sizes[input] * batch]
    }

    /// The event list of node `input`, scanned now if its buffer has none.
    pub fn active(&mut self, plan: &Plan, input: usize, batch: usize) -> &Active {
        let buffer = plan.buffer_of[input];
        if !self.actives[buffer].is_valid(batch) {
            let size = plan.sizes[input];
            self.actives[buffer].scan(&self.buffers[buffer][..size * batch], size);
        }
        &self.actives[buffer]
    }

    /// The input of a weighted layer (node `input`), its event list scanned.
    fn weighted_input(&mut self, plan: &Plan, input: usize, batch: usize) -> WeightedInput<'_> {
        let total = batch * plan.sizes[input];
        let dense = self.active(plan, input, batch).density(total) >= DENSE_ABOVE;
        let buffer = plan.buffer_of[input];
        WeightedInput {
            x: &self.buffers[buffer][..total],
            active: &self.actives[buffer],
            dense,
            scratch: self.scratch,
        }
    }
}

/// What a dense or conv kernel reads: the batch's values, their event list,
/// whether they are dense enough for the dense kernels, and the scratch.
struct WeightedInput<'a> {
    x: &'a [f32],
    active: &'a Active,
    dense: bool,
    scratch: &'a mut Scratch,
}

/// Computes non-spiking node `index` of a batch into its buffer. Spiking
/// layers act as their rate approximation (the ANN pass); a max-pool is the
/// plain max.
pub(crate) fn linear_node(plan: &Plan, index: usize, batch: usize, v: &mut Values) {
    if plan.is_alias[index] {
        return;
    }
    let buffer = plan.buffer_of[index];
    let mut out = std::mem::take(&mut v.buffers[buffer]);
    v.actives[buffer].starts.clear();
    compute(plan, index, batch, v, &mut out[..plan.sizes[index] * batch]);
    v.buffers[buffer] = out;
}

fn compute(plan: &Plan, index: usize, batch: usize, v: &mut Values, out: &mut [f32]) {
    let node = &plan.net.nodes[index];
    let shapes = &plan.shapes;
    match (&node.layer, &plan.kernels[index]) {
        (Layer::Dense { .. }, Kernel::Dense(kernel)) => {
            let WeightedInput {
                x, active, dense, ..
            } = v.weighted_input(plan, node.inputs[0], batch);
            // sgemm packs both operands on every call: for a handful of
            // samples walking the non-zero inputs is cheaper at any density.
            if batch < DENSE_MIN_BATCH || !dense {
                kernel.forward_events(x, active, out);
            } else {
                kernel.forward_dense(batch, x, out);
            }
        }
        (Layer::Conv2d { .. }, Kernel::Conv(kernel)) => {
            let WeightedInput {
                x,
                active,
                dense,
                scratch,
            } = v.weighted_input(plan, node.inputs[0], batch);
            if !dense {
                kernel.forward_events(x, active, out, scratch);
            } else if kernel.is_depthwise() {
                kernel.forward_depthwise(batch, x, out, scratch);
            } else if kernel.has_direct() {
                kernel.forward_direct(batch, x, out, scratch);
            } else {
                kernel.forward_dense(batch, x, out, scratch);
            }
        }
        (
            Layer::AvgPool {
                window,
                count_include_pad,
            },
            _,
        ) => {
            let input = node.inputs[0];
            let buffer = plan.buffer_of[input];
            let size = plan.sizes[input];
            // A spike map (its event list is valid this step): scatter the events.
            if let Some(targets) = &plan.pool_targets[index]
                && v.actives[buffer].is_valid(batch)
                && v.actives[buffer].density(batch * size) < 1.0
            {
                let divisor = 1.0 / (window.kernel[0] * window.kernel[1]) as f32;
                avg_pool_events(
                    targets,
                    divisor,
                    size,
                    &v.buffers[buffer],
                    &v.actives[buffer],
                    out,
                );
                return;
            }
            pool(
                &shapes[input],
                &shapes[index],
                *window,
                true,
                *count_include_pad,
                v.of(plan, input, batch),
                out,
            );
        }
        (Layer::MaxPool { window }, _) => {
            let input = node.inputs[0];
            pool(
                &shapes[input],
                &shapes[index],
                *window,
                false,
                false,
                v.of(plan, input, batch),
                out,
            );
        }
        // A feedback in an ANN pass (no previous step): zeros.
        (Layer::Feedback { .. }, _) => out.fill(0.0),
        // A delay in an ANN pass (rates, no time): the identity. The
        // simulation steps it with its line (`chunk.rs`).
        (Layer::Flatten | Layer::Delay { .. }, _) => {
            out.copy_from_slice(v.of(plan, node.inputs[0], batch))
        }
        (Layer::Slice { start, .. }, _) => {
            let input = node.inputs[0];
            let part = plan.sizes[index];
            for (dst, src) in out
                .chunks_exact_mut(part)
                .zip(v.of(plan, input, batch).chunks_exact(plan.sizes[input]))
            {
                dst.copy_from_slice(&src[*start..*start + part]);
            }
        }
        (Layer::Add, _) => {
            out.copy_from_slice(v.of(plan, node.inputs[0], batch));
            for &other in &node.inputs[1..] {
                for (o, &x) in out.iter_mut().zip(v.of(plan, other, batch)) {
                    *o += x;
                }
            }
        }
        (Layer::Concat, _) => {
            let size = plan.sizes[index];
            let mut offset = 0;
            for &input in &node.inputs {
                let part = plan.sizes[input];
                for (dst, src) in out
                    .chunks_exact_mut(size)
                    .zip(v.of(plan, input, batch).chunks_exact(part))
                {
                    dst[offset..offset + part].copy_from_slice(src);
                }
                offset += part;
            }
        }
        (Layer::Scale { scale, bias }, _) => {
            let input = node.inputs[0];
            let inner = plan.sizes[input] / scale.len().max(1);
            for (dst, src) in out
                .chunks_exact_mut(plan.sizes[input])
                .zip(v.of(plan, input, batch).chunks_exact(plan.sizes[input]))
            {
                for (c, (d, s)) in dst
                    .chunks_exact_mut(inner)
                    .zip(src.chunks_exact(inner))
                    .enumerate()
                {
                    let (k, b) = (scale[c], bias.as_ref().map_or(0.0, |b| b[c]));
                    for (d, &s) in d.iter_mut().zip(s) {
                        *d = s * k + b;
                    }
                }
            }
        }
        (Layer::Relu, _) => {
            for (o, &x) in out.iter_mut().zip(v.of(plan, node.inputs[0], batch)) {
                *o = x.max(0.0);
            }
        }
        (Layer::Clip { max }, _) => {
            for (o, &x) in out.iter_mut().zip(v.of(plan, node.inputs[0], batch)) {
                *o = x.max(0.0).min(*max);
            }
        }
        (
            Layer::Spiking {
                neuron, scaling, ..
            },
            _,
        ) => {
            let (threshold, cap) = (neuron.threshold(), neuron.max_rate());
            let (input_scale, amplitude) = (scaling.input_scale, scaling.amplitude);
            for (o, &x) in out.iter_mut().zip(v.of(plan, node.inputs[0], batch)) {
                *o = ((x * input_scale).max(0.0) / threshold).min(cap) * amplitude;
            }
        }
        _ => {}
    }
}
