//! Every fixture classifies as its folder says, and synthetic models cover
//! the cases the fixtures do not: a one-off threshold in an MLP (not
//! spiking), a custom-domain LIF op, the pattern in a Loop body, a mix.

use neuride_onnx::classify::{Classification, Kind, Source, classify};
use neuride_onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
    attribute_proto::AttributeType,
};
use std::path::Path;

fn fixture(rel: &str) -> ModelProto {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(rel);
    neuride_onnx::load::load_file(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .proto
}

#[test]
fn fixtures_classify_as_their_folder_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures");
    let mut seen = 0;
    for (folder, kind) in [("snn", Kind::Snn), ("ml", Kind::Ml), ("dl", Kind::Dl)] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "onnx") {
                continue;
            }
            let c = classify(&neuride_onnx::load::load_file(&path).unwrap().proto);
            assert_eq!(c.kind, kind, "{}: {c:#?}", path.display());
            assert!(
                c.confidence >= 0.8,
                "{}: confidence {}",
                path.display(),
                c.confidence
            );
            assert!(
                c.evidence.first().is_some_and(|e| e.kind == kind),
                "{}: {c:#?}",
                path.display()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 12);
}

#[test]
fn snntorch_export_is_recognised_by_its_unrolled_pattern() {
    let c = classify(&fixture("snn/digits_snntorch.onnx"));
    let pattern = c
        .evidence
        .iter()
        .find(|e| e.source == Source::Pattern && e.kind == Kind::Snn)
        .expect("pattern evidence");
    assert!(
        pattern.message.contains("25 time steps"),
        "{}",
        pattern.message
    );
    assert!(pattern.message.contains("Greater"), "{}", pattern.message);
    assert!(
        pattern.node_count >= 24 && !pattern.nodes.is_empty(),
        "{}",
        pattern.node_count
    );
    assert!(pattern.nodes.iter().all(|n| n.op == "Sub"));
}

#[test]
fn wine_pipeline_with_default_domain_ops_is_ml() {
    let c = classify(&fixture("ml/wine_svc_pipeline.onnx"));
    assert_eq!(c.kind, Kind::Ml);
    assert!(
        c.evidence[0].ops.contains_key("ai.onnx.ml.SVMClassifier"),
        "{:?}",
        c.evidence[0].ops
    );
}

// ---- synthetic models ------------------------------------------------------

fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: Some(format!("{op}_{}", outputs[0])),
        ..Default::default()
    }
}
fn cast_float(input: &str, output: &str) -> NodeProto {
    let mut n = node("Cast", &[input], &[output]);
    n.attribute.push(AttributeProto {
        name: Some("to".into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(1),
        ..Default::default()
    });
    n
}
fn input(name: &str) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        ..Default::default()
    }
}
fn model(nodes: Vec<NodeProto>, inputs: &[&str], outputs: &[&str]) -> ModelProto {
    neuride_onnx::build::model(GraphProto {
        name: Some("g".into()),
        node: nodes,
        input: inputs.iter().map(|n| input(n)).collect(),
        output: outputs.iter().map(|n| input(n)).collect(),
        initializer: vec![TensorProto {
            name: Some("w".into()),
            dims: vec![4, 4],
            data_type: Some(1),
            ..Default::default()
        }],
        ..Default::default()
    })
}

/// One unrolled neuron step: mem_k = beta*mem_{k-1} + input - spike*th.
fn lif_step(k: usize, nodes: &mut Vec<NodeProto>) {
    let prev = if k == 0 {
        "mem_init".to_string()
    } else {
        format!("mem{}", k - 1)
    };
    nodes.push(node("Mul", &["beta", &prev], &[&format!("decay{k}")]));
    nodes.push(node(
        "Add",
        &[&format!("decay{k}"), "current"],
        &[&format!("pre{k}")],
    ));
    nodes.push(node("Greater", &[&prev, "th"], &[&format!("gt{k}")]));
    nodes.push(cast_float(&format!("gt{k}"), &format!("spk{k}")));
    nodes.push(node(
        "Mul",
        &[&format!("spk{k}"), "th"],
        &[&format!("reset{k}")],
    ));
    nodes.push(node(
        "Sub",
        &[&format!("pre{k}"), &format!("reset{k}")],
        &[&format!("mem{k}")],
    ));
}

/// `c` says spiking, and its strongest evidence mentions `phrase`.
fn assert_spiking_because(c: &Classification, phrase: &str) {
    assert_eq!(c.kind, Kind::Snn, "{c:#?}");
    assert!(
        c.evidence[0].message.contains(phrase),
        "{phrase:?} not in {:?}",
        c.evidence[0].message
    );
}

#[test]
fn synthetic_unrolled_neuron_is_snn_with_its_step_count() {
    let mut nodes = Vec::new();
    for k in 0..6 {
        lif_step(k, &mut nodes);
    }
    let c = classify(&model(
        nodes,
        &["current", "mem_init", "beta", "th"],
        &["mem5"],
    ));
    assert_spiking_because(&c, "6 time steps");
}

#[test]
fn mlp_with_one_threshold_is_not_spiking() {
    let nodes = vec![
        node("MatMul", &["x", "w"], &["h"]),
        node("Relu", &["h"], &["a"]),
        node("Greater", &["a", "th"], &["gt"]),
        cast_float("gt", "mask"),
        node("Sub", &["a", "mask"], &["y"]),
    ];
    let c = classify(&model(nodes, &["x", "th"], &["y"]));
    assert_eq!(c.kind, Kind::Dl, "{c:#?}");
    // The threshold is reported, but as weak evidence only.
    assert!(
        c.evidence
            .iter()
            .any(|e| e.kind == Kind::Snn && e.weight < 0.5)
    );
}

#[test]
fn custom_domain_lif_op_is_snn() {
    let mut lif = node("LIF", &["x"], &["s"]);
    lif.domain = Some("com.neuro".into());
    let c = classify(&model(
        vec![node("Gemm", &["in", "w"], &["x"]), lif],
        &["in"],
        &["s"],
    ));
    assert_eq!(c.kind, Kind::Snn);
    assert_eq!(c.evidence[0].source, Source::Op);
    assert!(c.evidence[0].ops.contains_key("com.neuro.LIF"));
    // `If` in the default domain is control flow, not an IF neuron.
    let c = classify(&model(vec![node("If", &["c"], &["y"])], &["c"], &["y"]));
    assert_ne!(c.kind, Kind::Snn);
}

#[test]
fn loop_body_with_the_neuron_step_is_snn() {
    // Body: (iter, cond, mem) -> (cond, mem', spikes)
    let body_nodes = vec![
        node("Mul", &["mem", "beta"], &["decay"]),
        node("Add", &["decay", "current"], &["pre"]),
        node("GreaterOrEqual", &["pre", "th"], &["ge"]),
        cast_float("ge", "spk"),
        node("Sub", &["pre", "spk"], &["mem_out"]),
        node("Identity", &["cond"], &["cond_out"]),
    ];
    let body = GraphProto {
        name: Some("body".into()),
        node: body_nodes,
        input: vec![input("iter"), input("cond"), input("mem")],
        output: vec![input("cond_out"), input("mem_out"), input("spk")],
        ..Default::default()
    };
    let mut lp = node("Loop", &["n", "", "mem0"], &["mem_final", "spikes"]);
    lp.attribute
        .push(neuride_onnx::build::attr_graph("body", body));
    let c = classify(&model(
        vec![lp],
        &["n", "mem0", "beta", "th", "current"],
        &["spikes"],
    ));
    assert_spiking_because(&c, "Loop/Scan body");
}

#[test]
fn ml_and_dl_together_is_mixed() {
    let mut scaler = node("Scaler", &["x"], &["xs"]);
    scaler.domain = Some("ai.onnx.ml".into());
    let nodes = vec![
        scaler,
        node("MatMul", &["xs", "w"], &["h"]),
        node("Relu", &["h"], &["a"]),
        node("MatMul", &["a", "w"], &["y"]),
    ];
    let c = classify(&model(nodes, &["x"], &["y"]));
    assert_eq!(c.kind, Kind::Mixed, "{c:#?}");
    assert!(
        c.evidence.iter().any(|e| e.kind == Kind::Ml)
            && c.evidence.iter().any(|e| e.kind == Kind::Dl)
    );
}

#[test]
fn producer_naming_a_spiking_framework_is_evidence() {
    let mut m = model(vec![node("Add", &["a", "b"], &["c"])], &["a", "b"], &["c"]);
    m.producer_name = Some("norse".into());
    let c = classify(&m);
    assert_eq!(c.kind, Kind::Snn);
    assert_eq!(c.evidence[0].source, Source::Producer);
    let empty = classify(&ModelProto::default());
    assert_eq!((empty.kind, empty.confidence), (Kind::Unknown, 0.0));
}
