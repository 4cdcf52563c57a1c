//! Accuracy goals on the real fixtures (issue 6): the digits CNN and MLP,
//! converted with 99.9th-percentile normalisation on digits_calib, stay
//! within 1.0 point of the ANN on digits_test. The ANN accuracy is computed
//! here by an independent ReLU forward pass over the PyTorch state_dict NPZ
//! and checked against MANIFEST.json.

use neuride_convert::{
    ConvertOptions, Encode, SimOptions, SimulateOptions, Tensor, Weights, simulate,
};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(relative)
}

fn npz(relative: &str) -> Vec<(String, Vec<usize>, Vec<f64>)> {
    let bytes = std::fs::read(fixture(relative)).unwrap();
    let archive = neuride_npz::list(&bytes).unwrap();
    let names: Vec<String> = archive.names().map(String::from).collect();
    names
        .into_iter()
        .map(|name| {
            let array = archive.array(&name).unwrap();
            let shape = array.shape.iter().map(|&d| d as usize).collect();
            (name.clone(), shape, array.to_f64_vec().unwrap())
        })
        .collect()
}

fn get(arrays: &[(String, Vec<usize>, Vec<f64>)], name: &str) -> (Vec<usize>, Vec<f32>) {
    let (_, shape, values) = arrays
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("array {name} missing"));
    (shape.clone(), values.iter().map(|&v| v as f32).collect())
}

/// The values of the weights `names` in the archive `relative`, in order.
fn weights<const N: usize>(relative: &str, names: [&str; N]) -> [Vec<f32>; N] {
    let arrays = npz(relative);
    names.map(|name| get(&arrays, name).1)
}

fn model(relative: &str) -> neuride_onnx::proto::ModelProto {
    neuride_onnx::load::load_file(&fixture(relative))
        .unwrap()
        .proto
}

fn manifest_accuracy(model: &str) -> f64 {
    let text = std::fs::read_to_string(fixture("MANIFEST.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json[model]["test_accuracy"].as_f64().unwrap()
}

struct Data {
    x: Tensor,
    y: Vec<i64>,
    calib: Tensor,
}

fn data() -> Data {
    let test = npz("data/digits_test.npz");
    let (shape, x) = get(&test, "x");
    let (_, y) = get(&test, "y");
    let (calib_shape, calib) = get(&npz("data/digits_calib.npz"), "x");
    Data {
        x: Tensor { shape, data: x },
        y: y.iter().map(|&v| v as i64).collect(),
        calib: Tensor {
            shape: calib_shape,
            data: calib,
        },
    }
}

fn dense(x: &[f32], w: &[f32], b: Option<&[f32]>, out: usize) -> Vec<f32> {
    let inputs = x.len();
    (0..out)
        .map(|o| {
            (0..inputs).map(|i| w[o * inputs + i] * x[i]).sum::<f32>() + b.map_or(0.0, |b| b[o])
        })
        .collect()
}

fn relu(x: Vec<f32>) -> Vec<f32> {
    x.into_iter().map(|v| v.max(0.0)).collect()
}

/// 3x3 convolution, padding 1, stride 1, no bias; input [c, h, w].
fn conv3x3(x: &[f32], c: usize, h: usize, w: usize, weight: &[f32], out_c: usize) -> Vec<f32> {
    let mut y = vec![0.0; out_c * h * w];
    for o in 0..out_c {
        for oy in 0..h {
            for ox in 0..w {
                let mut sum = 0.0;
                for ci in 0..c {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) =
                                (oy as isize + ky as isize - 1, ox as isize + kx as isize - 1);
                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                sum += weight[((o * c + ci) * 3 + ky) * 3 + kx]
                                    * x[(ci * h + iy as usize) * w + ix as usize];
                            }
                        }
                    }
                }
                y[(o * h + oy) * w + ox] = sum;
            }
        }
    }
    y
}

fn avgpool2(x: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut y = vec![0.0; c * oh * ow];
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let at = |dy: usize, dx: usize| x[(ch * h + oy * 2 + dy) * w + ox * 2 + dx];
                y[(ch * oh + oy) * ow + ox] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0;
            }
        }
    }
    y
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

fn accuracy_of(d: &Data, forward: impl Fn(&[f32]) -> Vec<f32>) -> f64 {
    let correct =
        d.x.data
            .chunks_exact(64)
            .zip(&d.y)
            .filter(|(x, y)| argmax(&forward(x)) as i64 == **y)
            .count();
    correct as f64 / d.y.len() as f64
}

fn run(
    model_path: &str,
    steps: usize,
    d: &Data,
    weights: Option<&Weights>,
) -> neuride_convert::SimulateReport {
    let opts = SimulateOptions {
        convert: ConvertOptions::default(),
        sim: SimOptions {
            steps,
            encode: Encode::Current,
            batch: 128,
            ..SimOptions::default()
        },
        limit: None,
    };
    let mut batches = 0;
    let report = simulate(
        &model(model_path),
        weights,
        &d.x,
        Some(&d.y),
        Some(&d.calib),
        &opts,
        // Chunk ends (step == steps); long chunks also report steps between.
        &mut |p| batches += (p.step == p.steps) as usize,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(batches, 4, "450 samples in batches of 128");
    report
}

/// The claim of the two tests below: our own ANN forward of `model` scores
/// `ann` as the MANIFEST says, the converter's ANN pass agrees, and the SNN
/// at 50 steps is within one point of it. The report, for more checks.
fn converts_within_one_point(model: &str, ann: f64, d: &Data) -> neuride_convert::SimulateReport {
    assert!(
        (ann - manifest_accuracy(model)).abs() < 1e-9,
        "{model}: own ANN forward {ann} vs MANIFEST"
    );
    let report = run(model, 50, d, None);
    let snn = report.sim.accuracy.unwrap();
    assert_eq!(
        report.ann_accuracy,
        Some(ann),
        "{model}: the converter's ANN pass agrees with ours"
    );
    assert!(
        snn >= ann - 0.01,
        "{model}: SNN {snn} vs ANN {ann} at 50 steps"
    );
    report
}

#[test]
fn digits_mlp_converts_within_one_point_at_50_steps() {
    let d = data();
    let [w1, b1, w2, b2] = weights(
        "dl/digits_mlp.npz",
        ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
    );
    let ann = accuracy_of(&d, |x| {
        dense(&relu(dense(x, &w1, Some(&b1), 64)), &w2, Some(&b2), 10)
    });
    let report = converts_within_one_point("dl/digits_mlp.onnx", ann, &d);
    assert_eq!(report.sim.accuracy_per_step.len(), 50);
    assert_eq!(
        report.sim.accuracy_per_step[49],
        report.sim.accuracy.unwrap()
    );
    assert!(report.sim.synops > 0.0 && report.sim.macs == 450.0 * (64.0 * 64.0 + 64.0 * 10.0));
    assert_eq!(report.sim.rates.len(), 1);
}

#[test]
fn digits_cnn_converts_within_one_point_at_50_steps() {
    let d = data();
    let [c1, c2, fc] = weights(
        "dl/digits_cnn.npz",
        ["conv1.weight", "conv2.weight", "fc.weight"],
    );
    let ann = accuracy_of(&d, |x| {
        let a = avgpool2(&relu(conv3x3(x, 1, 8, 8, &c1, 8)), 8, 8, 8);
        let b = avgpool2(&relu(conv3x3(&a, 8, 4, 4, &c2, 16)), 16, 4, 4);
        dense(&b, &fc, None, 10)
    });
    let report = converts_within_one_point("dl/digits_cnn.onnx", ann, &d);
    assert_eq!(
        report.sim.rates.len(),
        2,
        "two spiking layers: {:?}",
        report.sim.rates
    );
    assert!(report.sim.sparsity > 0.0 && report.sim.sparsity < 1.0);

    // The same conversion with the weights taken from the state_dict NPZ
    // (by initializer name) gives the same network.
    let mut weights = Weights::new();
    for (name, shape, values) in npz("dl/digits_cnn.npz") {
        weights.insert(
            name,
            Tensor {
                shape,
                data: values.iter().map(|&v| v as f32).collect(),
            },
        );
    }
    let from_npz = run("dl/digits_cnn.onnx", 50, &d, Some(&weights));
    assert_eq!(from_npz.sim.predictions, report.sim.predictions);
}
