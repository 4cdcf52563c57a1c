//! neuride -> NIR -> neuride: a network raised to NIR, written as bytes,
//! read back and lowered gives the same spikes; and a file read without
//! neuride's metadata runs with NIR's equations (the way another tool runs
//! it), which for snnTorch's Leaky with zero reset are the same spikes.

use neuride_nir::{LowerOptions, RaiseOptions, lower, raise, read, write};
use neuride_snn::neuron::{NirModel, NirNeuron};
use neuride_snn::{
    Decode, Encode, Layer, Network, Neuron, Node, PoolWindow, Reset, Scaling, SimOptions,
    Simulator, Tensor,
};

/// A deterministic pseudo-random sequence in [-1, 1).
fn numbers(seed: u64, count: usize) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn node(name: &str, layer: Layer, inputs: Vec<usize>) -> Node {
    Node {
        name: name.to_owned(),
        layer,
        inputs,
    }
}

fn dense(rows: usize, cols: usize, seed: u64, bias: bool) -> Layer {
    Layer::Dense {
        weight: Tensor::new(vec![rows, cols], numbers(seed, rows * cols)).unwrap(),
        bias: bias.then(|| {
            numbers(seed + 1, rows)
                .iter()
                .map(|b| b * 0.1 + 0.3)
                .collect()
        }),
    }
}

fn spiking(neuron: Neuron, input_scale: f32, amplitude: f32, initial_membrane: f32) -> Layer {
    Layer::Spiking {
        neuron,
        scaling: Scaling {
            input_scale,
            amplitude,
            initial_membrane,
        },
        per_neuron: None,
    }
}

/// An MLP with every neuron kind neuride has, scaled inputs, amplitudes
/// and starting membranes (what NIR cannot say travels in metadata), a
/// residual add and a per-channel scale.
fn mlp() -> Network {
    let leaky_zero = Neuron::Leaky {
        beta: 0.9,
        threshold: 0.8,
        reset: Reset::Zero,
    };
    let synaptic = Neuron::Synaptic {
        alpha: 0.7,
        beta: 0.85,
        threshold: 1.0,
        reset: Reset::Subtract,
    };
    Network {
        nodes: vec![
            node("in", Layer::Input { shape: vec![12] }, vec![]),
            node("fc1", dense(16, 12, 1, true), vec![0]),
            node(
                "if1",
                spiking(Neuron::conversion_if(), 0.5, 2.0, 0.5),
                vec![1],
            ),
            node("fc2", dense(16, 16, 3, false), vec![2]),
            node("leaky", spiking(leaky_zero, 1.0, 1.0, 0.0), vec![3]),
            node("sum", Layer::Add, vec![4, 2]),
            node(
                "scale",
                Layer::Scale {
                    scale: numbers(9, 16).iter().map(|s| s + 1.5).collect(),
                    bias: None,
                },
                vec![5],
            ),
            node("fc3", dense(8, 16, 5, true), vec![6]),
            node("syn", spiking(synaptic, 1.0, 1.0, 0.25), vec![7]),
            node("fc4", dense(4, 8, 7, true), vec![8]),
            node(
                "lif",
                spiking(Neuron::nengo_lif(), 200.0, 1.0, 0.0),
                vec![9],
            ),
        ],
        output: 10,
    }
}

/// A CNN: convolution, sum pool (a depthwise conv of ones), average pool,
/// flatten, dense, NIR neurons.
fn cnn() -> Network {
    let lif = NirNeuron {
        tau_mem: 2e-3,
        r: 20.0,
        v_threshold: 0.6,
        ..NirNeuron::new(NirModel::Lif)
    };
    let li = NirNeuron {
        tau_mem: 5e-3,
        ..NirNeuron::new(NirModel::Li)
    };
    Network {
        nodes: vec![
            node(
                "in",
                Layer::Input {
                    shape: vec![2, 8, 8],
                },
                vec![],
            ),
            node(
                "conv",
                Layer::Conv2d {
                    weight: Tensor::new(vec![4, 2, 3, 3], numbers(11, 72)).unwrap(),
                    bias: Some(vec![0.1, -0.1, 0.0, 0.2]),
                    stride: [1, 1],
                    padding: [1, 1, 1, 1],
                    groups: 1,
                },
                vec![0],
            ),
            node("lif1", spiking(Neuron::Nir(lif), 1.0, 1.0, 0.0), vec![1]),
            node(
                "sumpool",
                Layer::Conv2d {
                    weight: Tensor::new(vec![4, 1, 2, 2], vec![1.0; 16]).unwrap(),
                    bias: None,
                    stride: [2, 2],
                    padding: [0, 0, 0, 0],
                    groups: 4,
                },
                vec![2],
            ),
            node(
                "avgpool",
                Layer::AvgPool {
                    window: PoolWindow::new([2, 2], [2, 2], [0, 0, 0, 0]),
                    count_include_pad: true,
                },
                vec![3],
            ),
            node("flat", Layer::Flatten, vec![4]),
            node("fc", dense(5, 16, 13, true), vec![5]),
            node("li", spiking(Neuron::Nir(li), 1.0, 1.0, 0.0), vec![6]),
        ],
        output: 7,
    }
}

/// Each sample's decoded output (spike counts, or the membrane readout of
/// a non-spiking output) after `steps` steps of `dt`.
fn outputs(net: &Network, samples: &[f32], steps: usize, dt: f32, encode: Encode) -> Vec<f32> {
    let opts = SimOptions {
        steps,
        dt,
        encode,
        decode: Decode::Auto,
        batch: 3,
        threads: 1,
    };
    let mut simulator = Simulator::new(net, &opts).unwrap();
    let mut decoded = Vec::new();
    simulator.run(net, 0, samples, &mut decoded).unwrap();
    decoded
}

/// `net` raised, written, read and lowered.
fn through_nir(net: &Network, dt: f64, use_metadata: bool) -> Network {
    let raised = raise(net, &RaiseOptions { dt }).unwrap();
    let bytes = write(&raised.document).unwrap();
    let read = read(&bytes);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let document = read.document.unwrap();
    // HDF5 lists a group's members by name: compare in that order.
    assert!(
        sorted(&document) == sorted(&raised.document),
        "the file holds what was written"
    );
    let opts = LowerOptions {
        dt: dt as f32,
        use_metadata,
    };
    lower(&document, &opts).unwrap().network
}

fn sorted(document: &neuride_nir::Document) -> neuride_nir::Document {
    let mut document = document.clone();
    document.graph.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    for node in &mut document.graph.nodes {
        node.params.sort_by(|a, b| a.0.cmp(&b.0));
    }
    document
}

#[test]
fn an_mlp_keeps_its_spikes_exactly() {
    let net = mlp();
    let samples: Vec<f32> = numbers(21, 12 * 7).iter().map(|x| x.abs()).collect();
    for encode in [
        Encode::Current,
        Encode::Rate {
            max_rate: None,
            seed: 3,
        },
    ] {
        let before = outputs(&net, &samples, 40, 1e-3, encode);
        let back = through_nir(&net, 1e-3, true);
        let after = outputs(&back, &samples, 40, 1e-3, encode);
        assert_eq!(before, after, "{encode:?}");
        let active = before
            .chunks(4)
            .filter(|c| c.iter().any(|&v| v > 0.0))
            .count();
        assert!(active >= 4, "the test network spikes: {before:?}");
    }
}

#[test]
fn a_cnn_keeps_its_outputs_exactly() {
    let net = cnn();
    let samples: Vec<f32> = numbers(5, 2 * 64 * 4).iter().map(|x| x.abs()).collect();
    let before = outputs(&net, &samples, 30, 1e-4, Encode::Current);
    let back = through_nir(&net, 1e-4, true);
    // NIR writes the sum pool as SumPool2d and reads it back as the same
    // depthwise convolution.
    assert!(matches!(
        back.nodes[3].layer,
        Layer::Conv2d { groups: 4, .. }
    ));
    assert_eq!(before, outputs(&back, &samples, 30, 1e-4, Encode::Current));
    assert!(before.iter().any(|&v| v != 0.0));
}

#[test]
fn snntorch_leaky_with_zero_reset_is_nir_lif_at_its_dt() {
    // What snnTorch's export_to_nir writes for Leaky(beta) (tau = dt/(1-beta),
    // r = tau/dt, v_leak = v_reset = 0) run with NIR's equations alone fires
    // where snnTorch's Leaky with zero reset fires.
    let leaky = Neuron::Leaky {
        beta: 0.9,
        threshold: 1.0,
        reset: Reset::Zero,
    };
    let net = Network {
        nodes: vec![
            node("in", Layer::Input { shape: vec![10] }, vec![]),
            node("fc1", dense(20, 10, 31, true), vec![0]),
            node("lif1", spiking(leaky, 1.0, 1.0, 0.0), vec![1]),
            node("fc2", dense(6, 20, 33, true), vec![2]),
            node("lif2", spiking(leaky, 1.0, 1.0, 0.0), vec![3]),
        ],
        output: 4,
    };
    let samples: Vec<f32> = numbers(7, 10 * 9).iter().map(|x| x.abs() * 2.0).collect();
    let before = outputs(&net, &samples, 60, 1e-4, Encode::Current);
    let nir_only = through_nir(&net, 1e-4, false);
    assert!(
        nir_only.nodes.iter().all(|n| !matches!(
            n.layer,
            Layer::Spiking {
                neuron: Neuron::Leaky { .. },
                ..
            }
        )),
        "without metadata the neurons are NIR's"
    );
    assert_eq!(
        before,
        outputs(&nir_only, &samples, 60, 1e-4, Encode::Current)
    );
    assert!(before.iter().sum::<f32>() > 10.0);
}

#[test]
fn metadata_for_another_dt_is_not_used() {
    let net = mlp();
    let raised = raise(&net, &RaiseOptions { dt: 1e-3 }).unwrap();
    let opts = LowerOptions {
        dt: 1e-4,
        use_metadata: true,
    };
    let lowered = lower(&raised.document, &opts).unwrap();
    assert!(lowered.exact_from_metadata.is_empty());
    assert!(
        lowered
            .network
            .nodes
            .iter()
            .filter(|n| matches!(n.layer, Layer::Spiking { .. }))
            .all(|n| matches!(
                n.layer,
                Layer::Spiking {
                    neuron: Neuron::Nir(_),
                    ..
                }
            ))
    );
}

#[test]
fn a_scale_with_a_bias_is_written_as_a_convolution_or_an_affine() {
    // Per-channel x * s + b over an image, and per value over a vector:
    // NIR's Scale has no bias, so they go as a depthwise 1x1 Conv2d and a
    // diagonal Affine, which compute the same numbers.
    let mut net = cnn();
    let image = node(
        "bn",
        Layer::Scale {
            scale: vec![0.5, 1.5, -1.0, 2.0],
            bias: Some(vec![0.1, -0.2, 0.3, 0.0]),
        },
        vec![1],
    );
    let vector = node(
        "bn2",
        Layer::Scale {
            scale: numbers(17, 5).iter().map(|x| 1.0 + x).collect(),
            bias: Some(numbers(19, 5)),
        },
        vec![7],
    );
    net.nodes.insert(2, image);
    for node in &mut net.nodes[3..] {
        for input in &mut node.inputs {
            *input += 1;
        }
    }
    net.nodes.insert(8, vector);
    net.nodes[9].inputs = vec![8];
    net.output = 9;
    net.validate().unwrap();
    let samples: Vec<f32> = numbers(5, 2 * 64 * 4).iter().map(|x| x.abs()).collect();
    let before = outputs(&net, &samples, 30, 1e-4, Encode::Current);
    let raised = raise(&net, &RaiseOptions { dt: 1e-4 }).unwrap();
    let types: Vec<&str> = raised
        .document
        .graph
        .nodes
        .iter()
        .filter(|n| n.name.starts_with("bn"))
        .map(|n| n.type_name.as_str())
        .collect();
    assert_eq!(types, ["Conv2d", "Affine"]);
    let back = through_nir(&net, 1e-4, true);
    let after = outputs(&back, &samples, 30, 1e-4, Encode::Current);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert!(
            (b - a).abs() <= 1e-4 * b.abs().max(1.0),
            "{before:?}\n{after:?}"
        );
    }
    assert!(before.iter().any(|&v| v != 0.0));
}

#[test]
fn the_export_says_what_nir_cannot() {
    let raised = raise(&mlp(), &RaiseOptions::default()).unwrap();
    let notes = raised.notes.join("\n");
    for expected in [
        "'if1': subtract reset has no NIR form",
        "'if1': starts at 0.5 x threshold",
        "'if1': spikes of 2 are written as 1-spikes followed by a Scale node",
        "'lif': Nengo's LIF refractory period",
    ] {
        assert!(notes.contains(expected), "missing {expected:?} in\n{notes}");
    }
}

/// Why `net` cannot be written as NIR.
fn refusal(net: &Network) -> String {
    raise(net, &RaiseOptions::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn layers_without_a_nir_node_are_listed() {
    let mut net = mlp();
    net.nodes[3].layer = Layer::Relu;
    net.nodes[6].layer = Layer::Clip { max: 6.0 };
    let error = refusal(&net);
    assert!(
        error.contains("'fc2': relu layers have no NIR node"),
        "{error}"
    );
    assert!(
        error.contains("'scale': clip layers have no NIR node"),
        "{error}"
    );
}

/// Two inputs carried in one (`left`: values 0..5, `right`: 5..12), each
/// through its own dense layer into one spiking layer.
fn two_inputs(left: &str, right: &str) -> Network {
    let slice = |start, shape: &[usize]| Layer::Slice {
        start,
        shape: shape.to_vec(),
    };
    Network {
        nodes: vec![
            node("inputs", Layer::Input { shape: vec![12] }, vec![]),
            node(left, slice(0, &[5]), vec![0]),
            node(right, slice(5, &[7]), vec![0]),
            node("fc_left", dense(6, 5, 31, true), vec![1]),
            node("fc_right", dense(6, 7, 33, false), vec![2]),
            node("sum", Layer::Add, vec![3, 4]),
            node(
                "lif",
                spiking(
                    Neuron::Leaky {
                        beta: 0.9,
                        threshold: 0.8,
                        reset: Reset::Zero,
                    },
                    1.0,
                    1.0,
                    0.0,
                ),
                vec![5],
            ),
        ],
        output: 6,
    }
}

#[test]
fn slices_of_the_input_are_written_as_inputs_and_read_back() {
    let net = two_inputs("left", "right");
    let raised = raise(&net, &RaiseOptions::default()).unwrap();
    let mut inputs: Vec<(&str, &neuride_nir::Param)> = raised
        .document
        .graph
        .nodes
        .iter()
        .filter(|n| n.type_name == "Input")
        .map(|n| (n.name.as_str(), n.param("shape").unwrap()))
        .collect();
    inputs.sort_by_key(|(name, _)| *name);
    assert_eq!(inputs.len(), 2, "{:?}", raised.document.graph.nodes);
    assert_eq!(inputs[0].0, "left");
    assert_eq!(inputs[1].0, "right");
    assert!(raised.notes.is_empty(), "{:?}", raised.notes);
    let samples: Vec<f32> = numbers(8, 12 * 9).iter().map(|x| x.abs()).collect();
    let before = outputs(&net, &samples, 40, 1e-4, Encode::Current);
    let back = through_nir(&net, 1e-4, true);
    assert_eq!(back.nodes[1].layer, net.nodes[1].layer);
    assert_eq!(back.nodes[2].layer, net.nodes[2].layer);
    assert_eq!(outputs(&back, &samples, 40, 1e-4, Encode::Current), before);
    assert!(before.iter().sum::<f32>() > 20.0, "{before:?}");
}

#[test]
fn inputs_whose_names_do_not_follow_their_order_are_said() {
    // `b` holds the first values and `a` the next: read back, the Inputs
    // are concatenated by name (a, b), the same spikes for samples given by
    // name.
    let net = two_inputs("b", "a");
    let raised = raise(&net, &RaiseOptions::default()).unwrap();
    assert!(
        raised
            .notes
            .iter()
            .any(|n| n.contains("the inputs b, a are written as NIR Inputs")),
        "{:?}",
        raised.notes
    );
    let read = read(&write(&raised.document).unwrap());
    let lowered = lower(&read.document.unwrap(), &LowerOptions::default()).unwrap();
    let order: Vec<(&str, usize)> = lowered
        .inputs
        .iter()
        .map(|input| (input.name.as_str(), input.start))
        .collect();
    assert_eq!(order, [("a", 0), ("b", 7)]);
    // In whatever order a graph lists them (the written one lists b first).
    let unread = lower(&raised.document, &LowerOptions::default()).unwrap();
    assert_eq!(unread.inputs, lowered.inputs);
    // The same samples reordered (b's 5 values after a's 7) spike the same.
    let samples: Vec<f32> = numbers(8, 12 * 9).iter().map(|x| x.abs()).collect();
    let reordered: Vec<f32> = samples
        .chunks(12)
        .flat_map(|s| [&s[5..], &s[..5]].concat())
        .collect();
    let before = outputs(&net, &samples, 40, 1e-4, Encode::Current);
    assert_eq!(
        outputs(&lowered.network, &reordered, 40, 1e-4, Encode::Current),
        before
    );
}

#[test]
fn a_slice_that_is_not_an_input_has_no_nir_form() {
    // The slices overlap: not the Inputs of a graph.
    let mut net = two_inputs("left", "right");
    net.nodes[2].layer = Layer::Slice {
        start: 4,
        shape: vec![7],
    };
    let error = refusal(&net);
    assert!(
        error.contains("'left': a slice of values 0..5 has no NIR form"),
        "{error}"
    );
}
