//! Summaries of the fixtures: parameters, MACs with the symbolic batch
//! counted as 1, per-node facts for hovers, and tensor statistics.

use neuride_onnx::GraphId;
use neuride_onnx::shape::infer;
use neuride_onnx::summary::{Opset, node_summary, opsets_text, summarize};
use std::path::Path;

fn fixture(rel: &str) -> neuride_onnx::proto::ModelProto {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(rel);
    neuride_onnx::load::load_file(&path).unwrap().proto
}

#[test]
fn mlp_summary_counts_parameters_and_macs() {
    let m = fixture("dl/digits_mlp.onnx");
    let s = summarize(&m, &infer(&m));
    assert_eq!((s.producer_name.as_str(), s.ir_version), ("pytorch", 8));
    assert_eq!(s.opsets[0].version, 17);
    assert_eq!(s.inputs[0].ty.to_string(), "float[batch,1,8,8]");
    assert_eq!(s.outputs[0].ty.to_string(), "float[batch,10]");
    assert_eq!(s.node_count, 4);
    assert_eq!(s.op_histogram.get("Gemm"), Some(&2));
    // 64x64 + 64 + 10x64 + 10 weights, float32.
    assert_eq!(s.parameters, 4810);
    assert_eq!(s.parameter_bytes, 4810 * 4);
    assert_eq!(s.macs, 64 * 64 + 64 * 10);
    assert!(s.macs_note.as_deref().unwrap().contains("counted as 1"));
    let gemm = s.nodes.iter().find(|n| n.op_type == "Gemm").unwrap();
    assert_eq!(gemm.parameters, 64 * 64 + 64);
    assert_eq!(gemm.macs, Some(64 * 64));
    assert!(gemm.macs_assumed);
    assert_eq!(gemm.inputs[0].ty.to_string(), "float[batch,64]");
    assert!(
        gemm.attributes
            .iter()
            .any(|a| a.name == "transB" && a.value == "1" && a.ty == "int")
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["inputs"][0]["type"], "float[batch,1,8,8]");
}

#[test]
fn cnn_macs_follow_the_conv_shapes() {
    let m = fixture("dl/digits_cnn.onnx");
    let facts = infer(&m);
    let s = summarize(&m, &facts);
    let convs: Vec<u64> = s
        .nodes
        .iter()
        .filter(|n| n.op_type == "Conv")
        .map(|n| n.macs.unwrap())
        .collect();
    // conv1: 8 out channels x 8x8 positions x (1 x 3 x 3); conv2: 16 x 4x4 x (8 x 3 x 3).
    assert_eq!(convs, vec![8 * 8 * 8 * 9, 16 * 4 * 4 * 8 * 9]);
    let hover = node_summary(&m, &facts, &GraphId::Main, 0).unwrap();
    assert_eq!(hover.op_type, "Conv");
    assert_eq!(hover.outputs[0].ty.to_string(), "float[batch,8,8,8]");
    assert!(node_summary(&m, &facts, &GraphId::Main, 999).is_none());
}

#[test]
fn ml_summary_has_no_macs_and_counts_attribute_free_models() {
    let m = fixture("ml/iris_logreg.onnx");
    let s = summarize(&m, &infer(&m));
    assert_eq!(s.producer_name, "skl2onnx");
    assert_eq!(s.macs, 0);
    assert!(s.macs_note.is_none());
    assert_eq!(s.op_histogram.get("ai.onnx.ml.LinearClassifier"), Some(&1));
    assert!(
        s.outputs
            .iter()
            .any(|o| o.ty.to_string().starts_with("seq(map(")),
        "{:?}",
        s.outputs
    );
    let lc = &s
        .nodes
        .iter()
        .find(|n| n.op_type == "LinearClassifier")
        .unwrap();
    let coef = lc
        .attributes
        .iter()
        .find(|a| a.name == "coefficients")
        .unwrap();
    assert!(coef.value.contains("... (12 values)"), "{}", coef.value);
}

#[test]
fn external_data_is_counted_by_length_without_reading_it() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/text/synthetic_attributes.onnx");
    let m = neuride_onnx::load::load_file(&path).unwrap().proto;
    let s = summarize(&m, &infer(&m));
    assert_eq!(s.external_data.len(), 1);
    assert_eq!(
        (
            s.external_data[0].location.as_str(),
            s.external_data[0].bytes
        ),
        ("weights.bin", 16)
    );
}

#[test]
fn tensor_stats_over_real_weights() {
    let m = fixture("dl/digits_mlp.onnx");
    let g = m.graph.as_ref().unwrap();
    let w = g
        .initializer
        .iter()
        .find(|t| t.name.as_deref() == Some("fc1.weight"))
        .unwrap();
    let st = neuride_onnx::tensor::stats(w).unwrap();
    assert_eq!(st.count, 4096);
    assert_eq!((st.nan, st.inf), (0, 0));
    let (min, max, mean) = (st.min.unwrap(), st.max.unwrap(), st.mean.unwrap());
    assert!(min < 0.0 && max > 0.0 && min <= mean && mean <= max);
    assert!(st.std.unwrap() > 0.0);
    // The same numbers by a plain two-pass computation.
    let mut values = Vec::new();
    neuride_onnx::tensor::for_each(w, |v| values.push(v.as_f64())).unwrap();
    let plain_mean = values.iter().sum::<f64>() / values.len() as f64;
    assert!((plain_mean - mean).abs() < 1e-12);
}

#[test]
fn opsets_read_as_text_with_the_default_domain_named() {
    let opsets = [
        Opset {
            domain: String::new(),
            version: 17,
        },
        Opset {
            domain: "ai.onnx.ml".to_owned(),
            version: 3,
        },
    ];
    assert_eq!(opsets_text(&opsets, " "), "ai.onnx 17, ai.onnx.ml 3");
    assert_eq!(opsets_text(&opsets, ":"), "ai.onnx:17, ai.onnx.ml:3");
    assert_eq!(opsets_text(&[], " "), "");
}
