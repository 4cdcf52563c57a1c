//! Conversion API behaviour on the fixtures: every unconvertible op listed
//! at once, MaxPool only with max_to_avg, the ai.neuride.snn ONNX export read
//! back to the same network, the .neuro text, cancellation and progress.

use neuride_convert::{
    ConvertOptions, Error, ExportInfo, SimOptions, SimulateOptions, SimulateReport, Tensor,
    convert, simulate, to_neuro, to_onnx, unconvertible_ops,
};
use neuride_onnx::proto::ModelProto;
use prost::Message;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(relative)
}

fn model(relative: &str) -> ModelProto {
    neuride_onnx::load::load_file(&fixture(relative))
        .unwrap()
        .proto
}

fn calib() -> Tensor {
    let bytes = std::fs::read(fixture("data/digits_calib.npz")).unwrap();
    let archive = neuride_npz::list(&bytes).unwrap();
    let x = archive.array("x").unwrap();
    Tensor {
        shape: x.shape.iter().map(|&d| d as usize).collect(),
        data: x.to_f32_vec().unwrap(),
    }
}

fn set_op(model: &mut ModelProto, node_name: &str, op: &str) {
    let node = model
        .graph
        .as_mut()
        .unwrap()
        .node
        .iter_mut()
        .find(|n| n.name.as_deref() == Some(node_name))
        .unwrap();
    node.op_type = Some(op.into());
}

#[test]
fn all_unconvertible_ops_are_listed_at_once() {
    let mut m = model("dl/digits_cnn.onnx");
    set_op(&mut m, "/Relu", "Sigmoid");
    set_op(&mut m, "/pool2/AveragePool", "LpPool");
    let listed = unconvertible_ops(&m);
    let ops: Vec<(&str, &str)> = listed
        .iter()
        .map(|(n, o, _)| (n.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![("/Relu", "Sigmoid"), ("/pool2/AveragePool", "LpPool")],
        "{listed:?}"
    );
    match convert(&m, None, Some(&calib()), &ConvertOptions::default()) {
        Err(error @ Error::Unconvertible(_)) => {
            let text = error.to_string();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 3, "a header and one line per op type: {text}");
            assert!(lines[0].contains("2 op(s) of 2 type(s)"), "{text}");
            assert!(lines[1].contains("Sigmoid x1: /Relu"), "{text}");
            assert!(lines[1].contains("hint: retrain with ReLU"), "{text}");
            assert!(lines[2].contains("LpPool x1: /pool2/AveragePool"), "{text}");
        }
        other => panic!(
            "expected both ops listed, got {:?}",
            other.map(|c| c.network.nodes.len())
        ),
    }
    assert!(unconvertible_ops(&model("dl/digits_mlp.onnx")).is_empty());
    assert!(
        !unconvertible_ops(&model("ml/iris_logreg.onnx")).is_empty(),
        "classic ML ops are not convertible"
    );
}

#[test]
fn onnx_export_reads_back_as_the_same_spiking_network() {
    let converted = convert(
        &model("dl/digits_cnn.onnx"),
        None,
        Some(&calib()),
        &ConvertOptions::default(),
    )
    .unwrap();
    let info = ExportInfo {
        name: "digits_snn".into(),
        source: "digits_cnn.onnx".into(),
        npz_file: "digits_snn.npz".into(),
        normalize: "percentile:99.9".into(),
    };
    let onnx = to_onnx(&converted.network, &info);
    let bytes = onnx.encode_to_vec();
    let decoded = neuride_onnx::load::decode(bytes.into()).unwrap();
    let ops: Vec<String> = decoded
        .graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .map(|n| {
            format!(
                "{}{}",
                n.domain
                    .as_deref()
                    .map(|d| format!("{d}:"))
                    .unwrap_or_default(),
                n.op_type.as_deref().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            "Conv",
            "ai.neuride.snn:IF",
            "AveragePool",
            "Conv",
            "ai.neuride.snn:IF",
            "AveragePool",
            "Flatten",
            "Gemm"
        ]
    );
    let again = convert(&decoded, None, None, &ConvertOptions::default()).unwrap();
    assert!(again.already_spiking);
    let ours: Vec<_> = converted.network.nodes.iter().map(|n| &n.layer).collect();
    let theirs: Vec<_> = again.network.nodes.iter().map(|n| &n.layer).collect();
    assert_eq!(ours, theirs);
    // The npz holds exactly the arrays the .neuro text names.
    let npz = neuride_convert::npz_bytes(&converted.network).unwrap();
    let archive = neuride_npz::list(&npz).unwrap();
    let names: Vec<&str> = archive.names().collect();
    let neuro = to_neuro(&converted.network, &info);
    for name in &names {
        assert!(
            neuro.contains(&format!("w[\"{name}\"]")),
            "{name} not referenced in:\n{neuro}"
        );
    }
    assert!(neuro.contains("network digits_snn {"), "{neuro}");
    assert!(
        neuro.contains("if(conv1_Conv, threshold: 1.0, reset: subtract, initial_membrane: 0.5)"),
        "{neuro}"
    );
    assert!(neuro.contains("output fc_MatMul = dense("), "{neuro}");
}

#[test]
fn simulate_reports_progress_per_batch_and_stops_when_cancelled() {
    let data = calib();
    let cancel = AtomicBool::new(false);
    let opts = SimulateOptions {
        sim: SimOptions {
            steps: 10,
            batch: 50,
            ..SimOptions::default()
        },
        ..SimulateOptions::default()
    };
    let mut seen = Vec::new();
    let result = simulate(
        &model("dl/digits_mlp.onnx"),
        None,
        &data,
        None,
        Some(&data),
        &opts,
        &mut |p| {
            seen.push(p.samples_done);
            if p.batch == 2 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert!(
        matches!(result, Err(Error::Cancelled)),
        "{:?}",
        result.map(|r| r.sim.samples)
    );
    assert_eq!(seen, vec![50, 100]);

    cancel.store(false, Ordering::Relaxed);
    let limited = SimulateOptions {
        limit: Some(30),
        ..opts
    };
    let report = simulate(
        &model("dl/digits_mlp.onnx"),
        None,
        &data,
        None,
        Some(&data),
        &limited,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    assert_eq!(
        (report.sim.samples, report.sim.steps, report.sim.accuracy),
        (30, 10, None)
    );
    let json = serde_json::to_value(&report).unwrap();
    for key in SimulateReport::JSON_FIELDS {
        assert!(json.get(key).is_some(), "JSON lacks {key}: {json}");
    }
}

#[test]
fn percentile_needs_calibration_data() {
    let result = convert(
        &model("dl/digits_mlp.onnx"),
        None,
        None,
        &ConvertOptions::default(),
    );
    assert!(matches!(result, Err(Error::NoCalibration("percentile"))));
}
