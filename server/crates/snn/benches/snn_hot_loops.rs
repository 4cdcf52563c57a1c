//! Hot loops of the simulator on fixed synthetic workloads: neuron updates
//! and whole simulated steps of digits-sized networks at batch 1 and 256,
//! with sparse (event-driven) and dense inputs. Run: `cargo bench -p neuride-snn`.

use criterion::{Criterion, criterion_group, criterion_main};
use neuride_snn::{
    Encode, Layer, Network, Neuron, Node, PoolWindow, Scaling, SimOptions, Tensor, simulate,
};
use std::hint::black_box;
use std::sync::atomic::AtomicBool;

fn weights(shape: Vec<usize>, seed: u32) -> Tensor {
    let len = shape.iter().product();
    let mut state = seed.wrapping_mul(2654435761).max(1);
    let data = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32 - 0.45) * 0.5
        })
        .collect();
    Tensor { shape, data }
}

fn node(name: &str, layer: Layer, inputs: Vec<usize>) -> Node {
    Node {
        name: name.into(),
        layer,
        inputs,
    }
}

fn spiking(name: &str, input: usize) -> Node {
    let layer = Layer::Spiking {
        neuron: Neuron::conversion_if(),
        scaling: Scaling {
            initial_membrane: 0.5,
            ..Scaling::default()
        },
        per_neuron: None,
    };
    node(name, layer, vec![input])
}

/// A dense layer of `shape` `[out, in]` with weights from `seed`.
fn dense(name: &str, shape: Vec<usize>, seed: u32, bias: Option<Vec<f32>>, input: usize) -> Node {
    let weight = weights(shape, seed);
    node(name, Layer::Dense { weight, bias }, vec![input])
}

fn cnn() -> Network {
    let conv = |name: &str, o, i, input, seed| {
        let layer = Layer::Conv2d {
            weight: weights(vec![o, i, 3, 3], seed),
            bias: None,
            stride: [1, 1],
            padding: [1, 1, 1, 1],
            groups: 1,
        };
        node(name, layer, vec![input])
    };
    let pool = |name: &str, input| {
        let layer = Layer::AvgPool {
            window: PoolWindow::new([2, 2], [2, 2], [0; 4]),
            count_include_pad: true,
        };
        node(name, layer, vec![input])
    };
    Network {
        nodes: vec![
            node(
                "x",
                Layer::Input {
                    shape: vec![1, 8, 8],
                },
                vec![],
            ),
            conv("conv1", 8, 1, 0, 1),
            spiking("if1", 1),
            pool("pool1", 2),
            conv("conv2", 16, 8, 3, 2),
            spiking("if2", 4),
            pool("pool2", 5),
            node("flat", Layer::Flatten, vec![6]),
            dense("fc", vec![10, 64], 3, None, 7),
        ],
        output: 8,
    }
}

fn mlp() -> Network {
    Network {
        nodes: vec![
            node("x", Layer::Input { shape: vec![64] }, vec![]),
            dense("fc1", vec![64, 64], 4, Some(vec![0.05; 64]), 0),
            spiking("if1", 1),
            dense("fc2", vec![10, 64], 5, None, 2),
        ],
        output: 3,
    }
}

fn data(samples: usize, per_sample: usize, shape: &[usize]) -> Tensor {
    let mut full = vec![samples];
    full.extend_from_slice(shape);
    let values = weights(vec![samples * per_sample], 9)
        .data
        .iter()
        .map(|v| (v + 0.25).clamp(0.0, 1.0))
        .collect();
    Tensor {
        shape: full,
        data: values,
    }
}

fn bench_networks(c: &mut Criterion) {
    let cancel = AtomicBool::new(false);
    for (name, net, shape) in [("cnn", cnn(), vec![1, 8, 8]), ("mlp", mlp(), vec![64])] {
        for batch in [1usize, 256] {
            for (encode_name, encode) in [
                ("current", Encode::Current),
                (
                    "rate",
                    Encode::Rate {
                        max_rate: None,
                        seed: 1,
                    },
                ),
            ] {
                let x = data(batch, 64, &shape);
                let opts = SimOptions {
                    steps: 20,
                    batch,
                    encode,
                    ..SimOptions::default()
                };
                c.bench_function(
                    &format!("simulate/{name}/{encode_name}/batch{batch}/20steps"),
                    |b| {
                        b.iter(|| {
                            simulate(
                                black_box(&net),
                                black_box(&x),
                                None,
                                &opts,
                                &mut |_| {},
                                &cancel,
                            )
                            .unwrap()
                        })
                    },
                );
            }
        }
    }
}

fn bench_neurons(c: &mut Criterion) {
    let n = 65536;
    let current: Vec<f32> = (0..n).map(|i| (i % 97) as f32 / 50.0).collect();
    let mut spikes = vec![0.0f32; n];
    for neuron in [
        Neuron::conversion_if(),
        Neuron::nengo_lif(),
        Neuron::Leaky {
            beta: 0.9,
            threshold: 1.0,
            reset: neuride_snn::Reset::Subtract,
        },
    ] {
        let mut state = neuride_snn::neuron::NeuronState::new(n, 0.0, false);
        c.bench_function(&format!("neuron/{}/65536", neuron.op_name()), |b| {
            b.iter(|| neuron.step(0.001, black_box(&current), &mut state, &mut spikes))
        });
    }
}

criterion_group!(benches, bench_neurons, bench_networks);
criterion_main!(benches);
