//! Builders the simulator's test files share: deterministic pseudo-random
//! values, nodes, spiking layers, and a simulation run to completion.

use neuride_snn::{
    Layer, Network, Neuron, Node, PoolWindow, Scaling, SimOptions, SimReport, Tensor, simulate,
};
use std::sync::atomic::AtomicBool;

/// `len` values of an xorshift sequence from `seed`, in [-offset, 1 - offset).
pub fn pseudo(len: usize, seed: u32, offset: f32) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as f32 / u32::MAX as f32 - offset
        })
        .collect()
}

pub fn node(name: &str, layer: Layer, inputs: Vec<usize>) -> Node {
    Node {
        name: name.into(),
        layer,
        inputs,
    }
}

/// The network's input: samples of `shape`.
pub fn input(shape: &[usize]) -> Layer {
    Layer::Input {
        shape: shape.to_vec(),
    }
}

/// A square `kernel` average pool with `stride`, no padding.
pub fn avg_pool(kernel: usize, stride: usize) -> Layer {
    Layer::AvgPool {
        window: PoolWindow::new([kernel; 2], [stride; 2], [0; 4]),
        count_include_pad: true,
    }
}

/// A spiking layer of `neuron` that scales its input by `input_scale`.
pub fn spiking(neuron: Neuron, input_scale: f32) -> Layer {
    Layer::Spiking {
        neuron,
        scaling: Scaling {
            input_scale,
            ..Scaling::default()
        },
        per_neuron: None,
    }
}

/// The class each sample's ANN output picks (`classes` values per sample).
pub fn ann_labels(output: &[f32], classes: usize) -> Vec<i64> {
    output
        .chunks(classes)
        .map(|c| neuride_snn::decode::argmax(c) as i64)
        .collect()
}

/// `simulate` without progress or cancellation, which must succeed.
pub fn run(net: &Network, x: &Tensor, labels: Option<&[i64]>, opts: &SimOptions) -> SimReport {
    simulate(net, x, labels, opts, &mut |_| {}, &AtomicBool::new(false)).unwrap()
}

/// `count` samples of `shape` with pseudo-random values in [0, 1).
pub fn samples(count: usize, shape: &[usize]) -> Tensor {
    let per_sample: usize = shape.iter().product();
    Tensor {
        shape: std::iter::once(count)
            .chain(shape.iter().copied())
            .collect(),
        data: pseudo(count * per_sample, 9, 0.0),
    }
}

/// `count` samples of the shape `net`'s input takes (its first node).
pub fn samples_for(net: &Network, count: usize) -> Tensor {
    match &net.nodes[0].layer {
        Layer::Input { shape } => samples(count, shape),
        other => panic!("expected the network to start with its input, found {other:?}"),
    }
}

/// A dense layer from `inputs` values to `out`, pseudo-random weights
/// (from `seed`, in [-offset, 1 - offset)).
pub fn dense(out: usize, inputs: usize, seed: u32, offset: f32, bias: Option<Vec<f32>>) -> Layer {
    Layer::Dense {
        weight: Tensor {
            shape: vec![out, inputs],
            data: pseudo(out * inputs, seed, offset),
        },
        bias,
    }
}
