//! The layers real CNNs need (concat, per-channel scale, clip, max-pool,
//! n-ary add) in the ANN pass and simulated after conversion; the
//! conversion neurons (spike cap, signed spikes); threads and chunks.

mod support;

use neuride_snn::sim::ann_forward;
use neuride_snn::{
    Decode, Encode, IfNeuron, Layer, Network, Neuron, Normalize, PoolWindow, Reset, SimOptions,
    Tensor, calibrate, to_spiking,
};
use support::{ann_labels, avg_pool, dense, input, node, pseudo, run, samples_for, spiking};

fn conv(out: usize, input: usize, k: usize, groups: usize, seed: u32) -> Layer {
    Layer::Conv2d {
        weight: Tensor {
            shape: vec![out, input / groups, k, k],
            data: pseudo(out * input / groups * k * k, seed, 0.4),
        },
        bias: Some(pseudo(out, seed + 7, 0.5)),
        stride: [1, 1],
        padding: [k / 2; 4],
        groups,
    }
}

/// A fire module and an inverted residual in one: conv -> relu -> max-pool
/// -> {1x1, depthwise 3x3} -> concat -> scale -> clip -> add -> avgpool ->
/// flatten -> concat of features -> dense.
fn net() -> Network {
    Network {
        nodes: vec![
            node("x", input(&[2, 8, 8]), vec![]),
            node("c1", conv(6, 2, 3, 1, 1), vec![0]),
            node("r1", Layer::Relu, vec![1]),
            node(
                "mp",
                Layer::MaxPool {
                    window: PoolWindow::new([3, 3], [2, 2], [1, 1, 0, 0]),
                },
                vec![2],
            ),
            node("e1", conv(6, 6, 1, 1, 2), vec![3]),
            node("e3", conv(6, 6, 3, 6, 3), vec![3]),
            node("r2", Layer::Relu, vec![4]),
            node("r3", Layer::Clip { max: 0.6 }, vec![5]),
            node("cat", Layer::Concat, vec![6, 7]),
            node(
                "bn",
                Layer::Scale {
                    scale: pseudo(12, 4, 0.0),
                    bias: Some(pseudo(12, 5, 0.6)),
                },
                vec![8],
            ),
            node("r4", Layer::Clip { max: 6.0 }, vec![9]),
            node("proj", conv(6, 12, 1, 1, 6), vec![10]),
            node("sum", Layer::Add, vec![11, 3, 4]),
            node("r5", Layer::Relu, vec![12]),
            node("gap", avg_pool(4, 1), vec![13]),
            node("flat", Layer::Flatten, vec![14]),
            node("feat", Layer::Concat, vec![15, 15]),
            node("fc", dense(5, 12, 8, 0.5, None), vec![16]),
        ],
        output: 17,
    }
}

#[test]
fn new_layers_compute_their_definitions() {
    let net = net();
    let shapes = net.validate().unwrap();
    assert_eq!(shapes[3], vec![6, 4, 4], "3x3/2 max-pool with top-left pad");
    assert_eq!(shapes[8], vec![12, 4, 4]);
    assert_eq!(shapes[16], vec![12]);
    let x = samples_for(&net, 2);
    let v = ann_forward(&net, &x).unwrap();
    // concat: r2 then r3 per sample.
    for sample in 0..2 {
        let cat = &v[8][sample * 192..(sample + 1) * 192];
        assert_eq!(&cat[..96], &v[6][sample * 96..(sample + 1) * 96]);
        assert_eq!(&cat[96..], &v[7][sample * 96..(sample + 1) * 96]);
    }
    // scale: per channel (16 values each).
    let Layer::Scale { scale, bias } = &net.nodes[9].layer else {
        unreachable!()
    };
    for (i, (&y, &c)) in v[9].iter().zip(&v[8]).enumerate() {
        let channel = (i / 16) % 12;
        let expected = c * scale[channel] + bias.as_ref().unwrap()[channel];
        assert!((y - expected).abs() < 1e-6);
    }
    assert!(v[7].iter().all(|&y| (0.0..=0.6).contains(&y)));
    assert!(
        v[7].iter().any(|&y| y == 0.6),
        "the clip saturates somewhere"
    );
    // The max-pool's first window (rows -1..1, cols -1..1) is the max of 4 cells.
    let r1 = &v[2][..64];
    let expected = r1[0].max(r1[1]).max(r1[8]).max(r1[9]);
    assert_eq!(v[3][0], expected);
    // add of three inputs.
    for i in 0..v[12].len() {
        assert!((v[12][i] - (v[11][i] + v[3][i] + v[4][i])).abs() < 1e-5);
    }
}

#[test]
fn converted_architecture_tracks_the_ann_and_threads_do_not_matter() {
    let net = net();
    let x = samples_for(&net, 24);
    let ann = ann_forward(&net, &x).unwrap();
    let labels = ann_labels(&ann[17], 5);
    let lambdas = calibrate(&net, &x, Normalize::Max, 7, None).unwrap();
    assert_eq!(lambdas.len(), 5, "every ReLU and clip is calibrated");
    let clip = lambdas.iter().find(|(n, _)| *n == 7).unwrap().1;
    assert!(
        clip <= 0.6,
        "a clip's scale never exceeds its maximum: {clip}"
    );
    let snn = to_spiking(&net, Neuron::conversion_if(), &lambdas, 0.5).unwrap();
    // Clip layers saturate: at most max / λ spikes a step.
    match snn.nodes[7].layer {
        Layer::Spiking {
            neuron:
                Neuron::If(IfNeuron {
                    max_spikes: Some(m),
                    ..
                }),
            ..
        } => assert!(m >= 1),
        ref other => panic!("a clip becomes a capped IF, found {other:?}"),
    }
    let mut reports = Vec::new();
    for (batch, threads) in [(24, 1), (5, 2), (1, 3)] {
        let opts = SimOptions {
            steps: 200,
            batch,
            threads,
            ..SimOptions::default()
        };
        reports.push(run(&snn, &x, Some(&labels), &opts));
    }
    assert!(
        reports[0].accuracy.unwrap() >= 0.9,
        "agreement with the ANN after 200 steps: {:?}",
        reports[0].accuracy
    );
    for r in &reports[1..] {
        assert_eq!(r.predictions, reports[0].predictions);
        assert_eq!(r.rates, reports[0].rates);
    }
}

#[test]
fn spiking_max_pool_emits_the_max_of_its_inputs_rates() {
    // Two windows of two neurons: (0.5, 0.49) out of phase, and (0.55, 0).
    // The running max emits 50 and 55 spikes over 100 steps (window 1
    // wins); a max of each step's spikes would give window 0 about 74.
    let net = Network {
        nodes: vec![
            node("x", input(&[1, 4, 1]), vec![]),
            node("s", spiking(Neuron::conversion_if(), 1.0), vec![0]),
            node(
                "p",
                Layer::MaxPool {
                    window: PoolWindow::new([2, 1], [2, 1], [0; 4]),
                },
                vec![1],
            ),
        ],
        output: 2,
    };
    let x = Tensor {
        shape: vec![1, 1, 4, 1],
        data: vec![0.5, 0.49, 0.55, 0.0],
    };
    let opts = SimOptions {
        steps: 100,
        decode: Decode::Membrane,
        ..SimOptions::default()
    };
    let report = run(&net, &x, None, &opts);
    assert_eq!(report.rates[0].spikes, 50.0 + 49.0 + 55.0);
    assert_eq!(report.predictions, vec![1]);
}

#[test]
fn capped_and_signed_if_neurons() {
    let step = |neuron: Neuron, inputs: &[f32], start: f32| -> (Vec<f32>, f32) {
        let mut state = neuride_snn::neuron::NeuronState::new(1, start, neuron.needs_aux());
        let mut spikes = vec![0.0];
        let mut out = Vec::new();
        for &j in inputs {
            neuron.step(0.001, &[j], &mut state, &mut spikes);
            out.push(spikes[0]);
        }
        (out, state.membrane[0])
    };
    let if_neuron = |reset, max_spikes, signed| {
        Neuron::If(IfNeuron {
            reset,
            max_spikes,
            signed,
            ..IfNeuron::conversion()
        })
    };
    let capped = if_neuron(Reset::Subtract, Some(1), false);
    let (spikes, membrane) = step(capped, &[2.5, 0.0, 0.0], 0.0);
    assert_eq!(spikes, vec![1.0, 1.0, 0.0], "one a step; the charge stays");
    assert!((membrane - 0.5).abs() < 1e-6);

    let signed = if_neuron(Reset::Subtract, None, true);
    // Overshoot, then negative input: it takes back what it gave, never more.
    let (spikes, _) = step(signed, &[1.2, -0.9, -0.9, -0.9], 0.5);
    assert_eq!(spikes, vec![1.0, -1.0, 0.0, 0.0]);
    // Its total is the cumulative input rounded (start at half threshold).
    let inputs = pseudo(200, 3, 0.5);
    let (spikes, _) = step(signed, &inputs, 0.5);
    let mut total = 0.0f32;
    let mut cumulative = 0.0f32;
    for (s, j) in spikes.iter().zip(&inputs) {
        total += s;
        cumulative += j;
        assert!(total >= 0.0);
        if cumulative >= 0.0 {
            assert_eq!(total, (cumulative + 0.5).floor(), "rounded total");
        }
    }
    assert!(signed.validate().is_ok());
    assert!(if_neuron(Reset::Zero, None, true).validate().is_err());
    assert!(
        if_neuron(Reset::Subtract, Some(0), false)
            .validate()
            .is_err()
    );
}

/// The capped unsigned IF runs a branch-free loop (no libm floor; AVX-512
/// when the CPU has it): the same bits as the rule written out with
/// `f32::floor`, on slices long enough for the vector loop and its
/// remainder, with values around each multiple of the threshold, negative,
/// and beyond 2^23 thresholds.
#[test]
fn capped_if_matches_the_floor_rule_bit_for_bit() {
    let inputs: Vec<f32> = pseudo(1003, 7, 1.0)
        .iter()
        .enumerate()
        .map(|(i, v)| match i % 7 {
            0 => v * 40.0,
            1 => 3.0e7 * v,
            2 => (i % 5) as f32 * 0.7,
            3 => -v.abs(),
            _ => *v * 3.0,
        })
        .collect();
    for (threshold, cap, rectify) in [(1.0f32, 1u32, false), (0.7, 3, true), (2.5, 1000, false)] {
        let neuron = Neuron::If(IfNeuron {
            threshold,
            rectify,
            max_spikes: Some(cap),
            ..IfNeuron::conversion()
        });
        let mut state = neuride_snn::neuron::NeuronState::new(inputs.len(), 0.5, false);
        let mut membrane = state.membrane.clone();
        let mut spikes = vec![0.0f32; inputs.len()];
        for _ in 0..3 {
            neuron.step(0.001, &inputs, &mut state, &mut spikes);
            for (i, &j) in inputs.iter().enumerate() {
                let j = if rectify && j < 0.0 { 0.0 } else { j };
                let value = membrane[i] + j;
                let n = if value >= threshold {
                    (value / threshold).floor().min(cap as f32)
                } else {
                    0.0
                };
                membrane[i] = value - n * threshold;
                assert_eq!(spikes[i].to_bits(), n.to_bits(), "spikes of {i}");
                assert_eq!(
                    state.membrane[i].to_bits(),
                    membrane[i].to_bits(),
                    "membrane of {i}"
                );
            }
        }
    }
}

#[test]
fn qcfs_scales_fit_the_steps() {
    let net = net();
    let x = samples_for(&net, 16);
    let short = calibrate(&net, &x, Normalize::Qcfs { steps: 4 }, 16, Some(1)).unwrap();
    let long = calibrate(&net, &x, Normalize::Qcfs { steps: 64 }, 16, Some(1)).unwrap();
    let max = calibrate(&net, &x, Normalize::Max, 16, None).unwrap();
    for ((s, l), m) in short.iter().zip(&long).zip(&max) {
        assert!(
            s.1 > 0.0 && s.1 <= m.1 * 1.0001,
            "{s:?} within (0, max {m:?}]"
        );
        assert!(l.1 > 0.0 && l.1 <= m.1 * 1.0001);
    }
    // More levels make clipping the costlier error: the scale grows with T.
    let grew = short.iter().zip(&long).filter(|(s, l)| l.1 >= s.1).count();
    assert!(grew >= 4, "{short:?} vs {long:?}");
    let rate = SimOptions {
        encode: Encode::Rate {
            max_rate: None,
            seed: 1,
        },
        ..SimOptions::default()
    };
    assert_eq!(rate.threads, 0, "one thread per core unless told");
}
