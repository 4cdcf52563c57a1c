//! Simulator properties: the event-driven and dense paths agree, results
//! do not depend on the batch size, neurons and encoders behave as documented,
//! and bad networks/options are typed errors.

mod support;

use neuride_snn::neuron::{IfParams, NeuronState, if_step, synaptic_step};
use neuride_snn::sim::ann_forward;
use neuride_snn::{
    Decode, Encode, Error, Layer, Network, Neuron, Normalize, Reset, SimOptions, Simulator, Tensor,
    calibrate, simulate, to_spiking,
};
use std::sync::atomic::AtomicBool;
use support::{
    ann_labels, avg_pool, dense, input, node, pseudo, run, samples, samples_for, spiking,
};

/// conv(stride 2, groups 2, asymmetric padding) -> relu -> avgpool -> flatten -> dense, plus an add branch.
fn ann() -> Network {
    Network {
        nodes: vec![
            node("x", input(&[2, 7, 6]), vec![]),
            node(
                "c1",
                Layer::Conv2d {
                    weight: Tensor {
                        shape: vec![4, 1, 3, 3],
                        data: pseudo(36, 1, 0.3),
                    },
                    bias: Some(vec![0.1, -0.1, 0.05, 0.0]),
                    stride: [2, 1],
                    padding: [1, 0, 1, 2],
                    groups: 2,
                },
                vec![0],
            ),
            node("r1", Layer::Relu, vec![1]),
            node(
                "c2",
                Layer::Conv2d {
                    weight: Tensor {
                        shape: vec![4, 4, 1, 1],
                        data: pseudo(16, 2, 0.3),
                    },
                    bias: None,
                    stride: [1, 1],
                    padding: [0; 4],
                    groups: 1,
                },
                vec![2],
            ),
            node("sum", Layer::Add, vec![1, 3]),
            node("r2", Layer::Relu, vec![4]),
            node("p", avg_pool(2, 2), vec![5]),
            node("f", Layer::Flatten, vec![6]),
            node(
                "d",
                dense(5, 24, 3, 0.4, Some(vec![0.0, 0.1, 0.2, 0.3, 0.4])),
                vec![7],
            ),
        ],
        output: 8,
    }
}

#[test]
fn shapes_macs_and_fanout() {
    let net = ann();
    let shapes = net.validate().unwrap();
    assert_eq!(shapes[1], vec![4, 4, 6]);
    assert_eq!(shapes[6], vec![4, 2, 3]);
    assert_eq!(
        net.macs_per_sample(&shapes),
        (4 * 24 * 9 + 4 * 24 * 4 + 5 * 24) as u64
    );
    let fanout = net.fanout(&shapes).unwrap();
    // A neuron of r2 drives, through the 2x2 pool, one pooled cell feeding 5 dense outputs.
    assert!(fanout[5].iter().all(|&f| f == 5.0), "{:?}", &fanout[5][..8]);
    // A neuron of r1 drives 4 (1x1 conv) synapses.
    assert!(fanout[2].iter().all(|&f| f == 4.0));
}

#[test]
fn event_and_dense_paths_agree_and_batch_size_does_not_matter() {
    let net = ann();
    let calib = samples_for(&net, 16);
    let lambdas = calibrate(&net, &calib, Normalize::Percentile { p: 99.0 }, 5, None).unwrap();
    let snn = to_spiking(&net, Neuron::conversion_if(), &lambdas, 0.5).unwrap();
    let x = samples_for(&net, 37);
    let labels: Vec<i64> = (0..37).map(|i| i % 5).collect();
    let mut reports = Vec::new();
    for batch in [1, 37, 8] {
        let opts = SimOptions {
            steps: 30,
            batch,
            encode: Encode::Rate {
                max_rate: None,
                seed: 3,
            },
            decode: Decode::Auto,
            ..SimOptions::default()
        };
        reports.push(run(&snn, &x, Some(&labels), &opts));
    }
    // Batch 1 has sparse inputs per step (events), batch 37 mixes; spikes must be identical.
    for r in &reports[1..] {
        assert_eq!(r.predictions, reports[0].predictions);
        assert_eq!(r.rates, reports[0].rates);
        assert!((r.synops - reports[0].synops).abs() < 1e-3 * r.synops.max(1.0));
    }
    assert!(
        reports[0].rates.iter().all(|r| r.rate > 0.0),
        "{:?}",
        reports[0].rates
    );
}

#[test]
fn a_prepared_simulator_decides_as_simulate_does_one_sample_at_a_time() {
    let net = ann();
    let calib = samples_for(&net, 16);
    let lambdas = calibrate(&net, &calib, Normalize::Percentile { p: 99.0 }, 5, None).unwrap();
    let x = samples_for(&net, 23);
    for (neuron, decode) in [
        (Neuron::conversion_if(), Decode::Auto),
        (Neuron::conversion_if(), Decode::Membrane),
        (
            Neuron::Leaky {
                beta: 0.9,
                threshold: 1.0,
                reset: Reset::Subtract,
            },
            Decode::Count,
        ),
        (
            Neuron::Leaky {
                beta: 0.9,
                threshold: 1.0,
                reset: Reset::Subtract,
            },
            Decode::FirstSpike,
        ),
    ] {
        let mut snn = to_spiking(&net, neuron, &lambdas, 0.5).unwrap();
        if decode != Decode::Auto && decode != Decode::Membrane {
            // A spiking output layer, so that counts and first spikes decide.
            let output = snn.output;
            snn.output = snn.nodes.len();
            snn.nodes
                .push(node("out", spiking(neuron, 4.0), vec![output]));
        }
        let opts = SimOptions {
            steps: 20,
            batch: 8,
            encode: Encode::Rate {
                max_rate: None,
                seed: 5,
            },
            decode,
            ..SimOptions::default()
        };
        let report = run(&snn, &x, None, &opts);
        let mut simulator = Simulator::new(&snn, &opts).unwrap();
        let classes = simulator.output_len(&snn);
        let per_sample = simulator.input_len();
        let mut one_by_one = Vec::new();
        for sample in 0..23 {
            let mut decoded = Vec::new();
            let values = &x.data[sample * per_sample..(sample + 1) * per_sample];
            simulator.run(&snn, sample, values, &mut decoded).unwrap();
            assert_eq!(decoded.len(), classes);
            one_by_one.push(neuride_snn::decode::argmax(&decoded));
        }
        assert_eq!(one_by_one, report.predictions, "{decode:?}");
        // All at once, in the simulator's batches: the same values.
        let mut all = Vec::new();
        simulator.run(&snn, 0, &x.data, &mut all).unwrap();
        let mut again = Vec::new();
        simulator.run(&snn, 0, &x.data, &mut again).unwrap();
        assert_eq!(all, again, "every run starts from rest");
        assert_eq!(all.len(), 23 * classes);
    }
    let mut simulator = Simulator::new(&ann(), &SimOptions::default()).unwrap();
    assert!(
        simulator
            .run(&ann(), 0, &[1.0; 5], &mut Vec::new())
            .is_err()
    );
}

#[test]
fn converted_net_tracks_the_ann_with_current_input() {
    let net = ann();
    let x = samples_for(&net, 40);
    let lambdas = calibrate(&net, &x, Normalize::Max, 64, None).unwrap();
    let snn = to_spiking(&net, Neuron::conversion_if(), &lambdas, 0.5).unwrap();
    // Folding left unit thresholds and amplitudes wherever the graph allowed it.
    let ann_out = ann_forward(&net, &x).unwrap();
    let labels = ann_labels(&ann_out[8], 5);
    let opts = SimOptions {
        steps: 400,
        batch: 40,
        ..SimOptions::default()
    };
    let report = run(&snn, &x, Some(&labels), &opts);
    assert!(
        report.accuracy.unwrap() >= 0.9,
        "agreement with the ANN after 400 steps: {:?}",
        report.accuracy
    );
    assert!(report.accuracy_per_step[399] >= report.accuracy_per_step[4]);
}

#[test]
fn if_neuron_subtract_emits_several_spikes_and_rectifies_when_asked() {
    let mut v = vec![0.5f32, 0.0, 0.0];
    let mut s = vec![0.0f32; 3];
    let if_params = |reset, rectify| IfParams {
        threshold: 1.0,
        reset,
        rectify,
    };
    if_step(
        if_params(Reset::Subtract, false),
        &[2.7, -0.5, 1.0],
        &mut v,
        &mut s,
    );
    assert_eq!(s, vec![3.0, 0.0, 1.0]);
    assert!((v[0] - 0.2).abs() < 1e-6 && v[1] == -0.5 && v[2] == 0.0);
    if_step(
        if_params(Reset::Subtract, true),
        &[0.0, -5.0, 0.0],
        &mut v,
        &mut s,
    );
    assert_eq!(
        v[1], -0.5,
        "rectified: negative current does not lower the membrane"
    );
    let mut v = vec![0.9f32];
    if_step(if_params(Reset::Zero, false), &[2.5], &mut v, &mut s[..1]);
    assert_eq!((v[0], s[0]), (0.0, 1.0));
}

#[test]
fn synaptic_integrates_current_then_membrane() {
    let (mut syn, mut mem, mut spikes) = (vec![0.0f32], vec![0.0f32], vec![0.0f32]);
    let mut trace = Vec::new();
    for _ in 0..4 {
        synaptic_step(
            0.5,
            0.9,
            1.0,
            Reset::Subtract,
            &[0.4],
            &mut syn,
            &mut mem,
            &mut spikes,
        );
        trace.push((syn[0], mem[0], spikes[0]));
    }
    // syn: 0.4, 0.6, 0.7, 0.75; mem: 0.4, 0.96, 1.564 (spike), 0.75+1.4076-1 = 1.1576 (spike)
    assert!((trace[1].1 - 0.96).abs() < 1e-6 && trace[1].2 == 0.0);
    assert!((trace[2].1 - 1.564).abs() < 1e-5 && trace[2].2 == 1.0);
    assert!((trace[3].1 - 1.1576).abs() < 1e-5, "{trace:?}");
    let mut state = NeuronState::new(1, 0.0, true);
    Neuron::Synaptic {
        alpha: 0.5,
        beta: 0.9,
        threshold: 1.0,
        reset: Reset::Subtract,
    }
    .step(0.001, &[0.4], &mut state, &mut spikes);
    assert_eq!((state.aux[0], state.membrane[0]), (0.4, 0.4));
}

#[test]
fn encoders() {
    let net = Network {
        nodes: vec![
            node("x", input(&[4]), vec![]),
            node("s", spiking(Neuron::conversion_if(), 1.0), vec![0]),
        ],
        output: 1,
    };
    let x = Tensor {
        shape: vec![1, 4],
        data: vec![0.0, 0.25, 1.0, 0.6],
    };
    let encoded = |encode| {
        let opts = SimOptions {
            steps: 2000,
            encode,
            ..SimOptions::default()
        };
        run(&net, &x, None, &opts)
    };
    let rate = encoded(Encode::Rate {
        max_rate: None,
        seed: 1,
    });
    let input_rate = rate.rates.iter().find(|r| r.layer == "x").unwrap().rate;
    assert!(
        (input_rate - (0.25 + 1.0 + 0.6) / 4.0).abs() < 0.02,
        "{input_rate}"
    );
    let latency = encoded(Encode::Latency {
        tau: 0.005,
        threshold: 0.01,
    });
    assert_eq!(
        latency
            .rates
            .iter()
            .find(|r| r.layer == "x")
            .unwrap()
            .spikes,
        3.0,
        "one spike per input above threshold"
    );
    let delta = encoded(Encode::Delta { threshold: 0.3 });
    assert_eq!(
        delta.rates.iter().find(|r| r.layer == "x").unwrap().spikes,
        2.0
    );
}

#[test]
fn bad_networks_and_options_are_typed_errors() {
    let mut net = ann();
    net.nodes[8].layer = Layer::Dense {
        weight: Tensor {
            shape: vec![5, 23],
            data: vec![0.0; 115],
        },
        bias: None,
    };
    assert!(matches!(net.validate(), Err(Error::Layer { layer, .. }) if layer == "d"));
    let mut net = ann();
    net.nodes[4].inputs = vec![1, 6];
    assert!(net.validate().is_err());
    let cancel = AtomicBool::new(false);
    let wrong = Tensor {
        shape: vec![2, 3],
        data: vec![0.0; 6],
    };
    assert!(matches!(
        simulate(
            &ann(),
            &wrong,
            None,
            &SimOptions::default(),
            &mut |_| {},
            &cancel
        ),
        Err(Error::Data { .. })
    ));
    let net = ann();
    let three = samples_for(&net, 3);
    let zero_steps = SimOptions {
        steps: 0,
        ..SimOptions::default()
    };
    assert!(matches!(
        simulate(
            &net,
            &samples_for(&net, 1),
            None,
            &zero_steps,
            &mut |_| {},
            &cancel
        ),
        Err(Error::Option { name: "steps", .. })
    ));
    assert!(matches!(
        simulate(
            &net,
            &three,
            Some(&[1]),
            &SimOptions::default(),
            &mut |_| {},
            &cancel
        ),
        Err(Error::Labels {
            expected: 3,
            found: 1
        })
    ));
    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(
        simulate(
            &net,
            &three,
            None,
            &SimOptions::default(),
            &mut |_| {},
            &cancel
        ),
        Err(Error::Cancelled)
    ));
}

/// Two inputs carried in one: `a` = values 0..3, `b` = values 4..8 as
/// `[1, 2, 2]` (value 3 and 8 read by nothing), each through its own
/// dense layer into one spiking layer; and the same network with the
/// dense layers reading the whole input through zero columns.
fn sliced_and_padded() -> (Network, Network) {
    let (da, db) = (
        dense(4, 3, 21, 0.3, Some(vec![0.1, 0.0, -0.05, 0.2])),
        dense(4, 4, 22, 0.3, None),
    );
    let padded_columns = |layer: &Layer, from: usize| {
        let Layer::Dense { weight, bias } = layer else {
            unreachable!("dense")
        };
        let width = weight.shape[1];
        let mut data = vec![0.0; 4 * 9];
        for (row, values) in weight.data.chunks(width).enumerate() {
            data[row * 9 + from..][..width].copy_from_slice(values);
        }
        Layer::Dense {
            weight: Tensor {
                shape: vec![4, 9],
                data,
            },
            bias: bias.clone(),
        }
    };
    let neuron = || spiking(Neuron::conversion_if(), 1.0);
    let sliced = Network {
        nodes: vec![
            node("x", input(&[9]), vec![]),
            node(
                "a",
                Layer::Slice {
                    start: 0,
                    shape: vec![3],
                },
                vec![0],
            ),
            node(
                "b",
                Layer::Slice {
                    start: 4,
                    shape: vec![1, 2, 2],
                },
                vec![0],
            ),
            node("fb", Layer::Flatten, vec![2]),
            node("da", da.clone(), vec![1]),
            node("db", db.clone(), vec![3]),
            node("sum", Layer::Add, vec![4, 5]),
            node("s", neuron(), vec![6]),
        ],
        output: 7,
    };
    let padded = Network {
        nodes: vec![
            node("x", input(&[9]), vec![]),
            node("da", padded_columns(&da, 0), vec![0]),
            node("db", padded_columns(&db, 4), vec![0]),
            node("sum", Layer::Add, vec![1, 2]),
            node("s", neuron(), vec![3]),
        ],
        output: 4,
    };
    (sliced, padded)
}

#[test]
fn slices_read_their_part_of_the_input_in_every_pass() {
    let (sliced, padded) = sliced_and_padded();
    let shapes = sliced.validate().unwrap();
    assert_eq!(shapes[1], vec![3]);
    assert_eq!(shapes[2], vec![1, 2, 2]);
    // A spike at the input drives what its slice feeds, nothing else.
    let fanout = sliced.fanout(&shapes).unwrap();
    assert_eq!(fanout[0], vec![4.0, 4.0, 4.0, 0.0, 4.0, 4.0, 4.0, 4.0, 0.0]);
    let x = samples(23, &[9]);
    // ANN pass: the slice's values are its part of each sample.
    let values = ann_forward(&sliced, &x).unwrap();
    let expected: Vec<f32> = x.data.chunks(9).flat_map(|s| s[4..8].to_vec()).collect();
    assert_eq!(values[2], expected);
    let expected: Vec<f32> = x.data.chunks(9).flat_map(|s| s[..3].to_vec()).collect();
    assert_eq!(values[1], expected);
    // Simulation: the same spikes as the dense layers reading all values
    // through zero weights, for constant (static) and spike inputs, with
    // any batch.
    let encodes = [
        Encode::Current,
        Encode::Rate {
            max_rate: None,
            seed: 5,
        },
    ];
    for encode in encodes {
        for batch in [1, 23] {
            let opts = SimOptions {
                steps: 40,
                batch,
                encode,
                ..SimOptions::default()
            };
            let (a, b) = (run(&sliced, &x, None, &opts), run(&padded, &x, None, &opts));
            assert_eq!(a.predictions, b.predictions, "{encode:?} batch {batch}");
            let spiking = |r: &neuride_snn::SimReport| {
                r.rates
                    .iter()
                    .find(|rate| rate.layer == "s")
                    .map(|rate| rate.rate)
            };
            assert_eq!(spiking(&a), spiking(&b), "{encode:?} batch {batch}");
            assert!(spiking(&a).unwrap() > 0.0);
        }
    }
    let simulator = Simulator::new(&sliced, &SimOptions::default()).unwrap();
    assert_eq!(simulator.input_len(), 9);
}

#[test]
fn a_slice_past_its_input_or_of_nothing_is_an_error_naming_it() {
    let (mut net, _) = sliced_and_padded();
    net.nodes[2].layer = Layer::Slice {
        start: 6,
        shape: vec![1, 2, 2],
    };
    let error = net.validate().unwrap_err().to_string();
    assert_eq!(
        error,
        "layer 'b': takes values 6..10 of an input of 9 values"
    );
    net.nodes[2].layer = Layer::Slice {
        start: usize::MAX,
        shape: vec![2],
    };
    assert!(
        net.validate()
            .unwrap_err()
            .to_string()
            .starts_with("layer 'b': takes values")
    );
    net.nodes[2].layer = Layer::Slice {
        start: 0,
        shape: vec![],
    };
    assert_eq!(
        net.validate().unwrap_err().to_string(),
        "layer 'b': slice shape [] is empty"
    );
    net.nodes[2].layer = Layer::Slice {
        start: 0,
        shape: vec![2],
    };
    net.nodes[2].inputs = vec![0, 1];
    assert!(
        net.validate()
            .unwrap_err()
            .to_string()
            .contains("expects 1 input(s)")
    );
}
