//! Op rules of shape inference on small hand-built models: each case is a
//! node list in a tiny text form and the expected type of each output.

use neuride_onnx::GraphId;
use neuride_onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
    attribute_proto::AttributeType, tensor_shape_proto::Dimension, tensor_shape_proto::dimension,
};
use neuride_onnx::shape::infer;

fn vi(name: &str, elem: i32, dims: &[&str]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d.parse::<i64>() {
                Ok(v) => dimension::Value::DimValue(v),
                Err(_) if *d == "?" => return Dimension::default(),
                Err(_) => dimension::Value::DimParam(d.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    neuride_onnx::build::tensor_value_info(name, elem, dim)
}

enum A {
    I(i64),
    Is(Vec<i64>),
    S(&'static str),
    F(Vec<f32>),
}

fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<(&str, A)>) -> NodeProto {
    let (domain, op) = match op.rsplit_once('.') {
        Some((d, o)) => (d.to_string(), o.to_string()),
        None => (String::new(), op.to_string()),
    };
    NodeProto {
        op_type: Some(op),
        domain: Some(domain),
        name: Some(outputs[0].to_string()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs
            .into_iter()
            .map(|(name, a)| {
                let mut p = AttributeProto {
                    name: Some(name.into()),
                    ..Default::default()
                };
                match a {
                    A::I(v) => (p.i, p.r#type) = (Some(v), Some(AttributeType::Int as i32)),
                    A::Is(v) => (p.ints, p.r#type) = (v, Some(AttributeType::Ints as i32)),
                    A::S(v) => {
                        (p.s, p.r#type) = (
                            Some(v.as_bytes().to_vec().into()),
                            Some(AttributeType::String as i32),
                        )
                    }
                    A::F(v) => (p.floats, p.r#type) = (v, Some(AttributeType::Floats as i32)),
                }
                p
            })
            .collect(),
        ..Default::default()
    }
}

fn ints(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![values.len() as i64],
        data_type: Some(7),
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn run(
    inputs: Vec<ValueInfoProto>,
    inits: Vec<TensorProto>,
    nodes: Vec<NodeProto>,
) -> (Vec<String>, Vec<String>) {
    let outs: Vec<String> = nodes.iter().flat_map(|n| n.output.clone()).collect();
    let model = neuride_onnx::build::model(GraphProto {
        node: nodes,
        input: inputs,
        initializer: inits,
        ..Default::default()
    });
    let facts = infer(&model);
    let types = outs
        .iter()
        .map(|o| {
            facts
                .get(&GraphId::Main, o)
                .map_or("none".into(), |t| t.to_string())
        })
        .collect();
    (
        types,
        facts
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect(),
    )
}

#[test]
fn matmul_broadcasts_batches_and_reports_inner_mismatch_naming_both_shapes() {
    let (t, d) = run(
        vec![
            vi("a", 1, &["B", "1", "N", "4"]),
            vi("b", 1, &["8", "4", "10"]),
            vi("c", 1, &["N", "4"]),
            vi("e", 1, &["3", "10"]),
        ],
        vec![],
        vec![
            node("MatMul", &["a", "b"], &["ab"], vec![]),
            node("MatMul", &["c", "e"], &["mm"], vec![]),
        ],
    );
    assert_eq!(t[0], "float[B,8,N,10]");
    assert_eq!(t[1], "float[...]");
    assert_eq!(
        d,
        vec![
            "onnx/shape-mismatch: node 1 'mm' (MatMul): inner dimensions differ: A is [N,4], B is [3,10]"
        ]
    );
}

#[test]
fn gemm_conv_pool_and_friends() {
    let (t, d) = run(
        vec![
            vi("x", 1, &["N", "3", "32", "32"]),
            vi("w", 1, &["16", "3", "3", "3"]),
            vi("dw", 1, &["16", "1", "3", "3"]),
            vi("m", 1, &["N", "64"]),
            vi("g", 1, &["10", "64"]),
        ],
        vec![],
        vec![
            node(
                "Conv",
                &["x", "w"],
                &["c1"],
                vec![
                    ("pads", A::Is(vec![1, 1, 1, 1])),
                    ("strides", A::Is(vec![2, 2])),
                ],
            ),
            node(
                "Conv",
                &["c1", "dw"],
                &["c2"],
                vec![("group", A::I(16)), ("auto_pad", A::S("SAME_UPPER"))],
            ),
            node(
                "MaxPool",
                &["c2"],
                &["p"],
                vec![
                    ("kernel_shape", A::Is(vec![3, 3])),
                    ("strides", A::Is(vec![2, 2])),
                    ("ceil_mode", A::I(1)),
                ],
            ),
            node(
                "AveragePool",
                &["c2"],
                &["ap"],
                vec![
                    ("kernel_shape", A::Is(vec![2, 2])),
                    ("strides", A::Is(vec![2, 2])),
                ],
            ),
            node("GlobalAveragePool", &["p"], &["gp"], vec![]),
            node(
                "Conv",
                &["x", "w"],
                &["dil"],
                vec![("dilations", A::Is(vec![2, 2]))],
            ),
            node(
                "ConvTranspose",
                &["c1", "dw"],
                &["up"],
                vec![
                    ("strides", A::Is(vec![2, 2])),
                    ("pads", A::Is(vec![1, 1, 1, 1])),
                    ("output_padding", A::Is(vec![1, 1])),
                ],
            ),
            node("Gemm", &["m", "g"], &["fc"], vec![("transB", A::I(1))]),
            node(
                "BatchNormalization",
                &["c1", "s", "b", "mu", "var"],
                &["bn"],
                vec![],
            ),
            node("Flatten", &["gp"], &["f"], vec![]),
        ],
    );
    assert_eq!(
        t,
        vec![
            "float[N,16,16,16]",
            "float[N,16,16,16]",
            "float[N,16,8,8]",
            "float[N,16,8,8]",
            "float[N,16,1,1]",
            "float[N,16,28,28]",
            "float[N,1,32,32]",
            "float[N,10]",
            "float[N,16,16,16]",
            "float[N,16]"
        ]
    );
    assert!(d.is_empty(), "{d:?}");
    // Channels: 3 in, a weight expecting 4.
    let (_, d) = run(
        vec![
            vi("x", 1, &["1", "3", "8", "8"]),
            vi("w", 1, &["8", "4", "3", "3"]),
        ],
        vec![],
        vec![node("Conv", &["x", "w"], &["y"], vec![])],
    );
    assert_eq!(
        d,
        vec![
            "onnx/shape-mismatch: node 0 'y' (Conv): input channels differ: X is [1,3,8,8] with 3 channels, W is [8,4,3,3] expecting 4 (group 1)"
        ]
    );
    let (_, d) = run(
        vec![vi("a", 1, &["2", "5"]), vi("b", 1, &["4", "3"])],
        vec![],
        vec![node("Gemm", &["a", "b"], &["y"], vec![])],
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].contains("A is [2,5], B is [4,3]"), "{d:?}");
}

#[test]
fn reshape_and_shape_arithmetic_resolve_through_constants() {
    let (t, d) = run(
        vec![vi("x", 1, &["batch", "3", "4", "5"])],
        vec![
            ints("target", &[0, -1]),
            ints("zero", &[0]),
            ints("axes", &[0]),
            ints("three", &[3, 20]),
            ints("sl_s", &[1]),
            ints("sl_e", &[i64::MAX]),
        ],
        vec![
            node("Reshape", &["x", "target"], &["r"], vec![]),
            node("Shape", &["x"], &["s"], vec![]),
            node("Gather", &["s", "zero"], &["b"], vec![]),
            node(
                "Concat",
                &["b", "three"],
                &["new_shape"],
                vec![("axis", A::I(0))],
            ),
            node("Reshape", &["x", "new_shape"], &["r2"], vec![]),
            node("Slice", &["x", "sl_s", "sl_e", "axes"], &["sl"], vec![]),
            node("Unsqueeze", &["x", "axes"], &["u"], vec![]),
            node("Squeeze", &["u", "axes"], &["sq"], vec![]),
            node(
                "Transpose",
                &["x"],
                &["tr"],
                vec![("perm", A::Is(vec![0, 2, 3, 1]))],
            ),
            node("Expand", &["b", "three"], &["ex"], vec![]),
            node(
                "ReduceMean",
                &["x"],
                &["rm"],
                vec![("axes", A::Is(vec![-1])), ("keepdims", A::I(0))],
            ),
            node("ReduceSum", &["x", "axes"], &["rs"], vec![]),
            node("Split", &["x"], &["sp1", "sp2"], vec![("axis", A::I(2))]),
            node("Where", &["c", "x", "rm_k"], &["w"], vec![]),
        ],
    );
    assert_eq!(
        t,
        vec![
            "float[batch,60]",
            "int64[4]",
            "int64[1]",
            "int64[3]",
            "float[batch,3,20]",
            "float[?,3,4,5]",
            "float[1,batch,3,4,5]",
            "float[batch,3,4,5]",
            "float[batch,4,5,3]",
            "int64[3,20]",
            "float[batch,3,4]",
            "float[1,3,4,5]",
            "float[batch,3,2,5]",
            "float[batch,3,2,5]",
            "float[...]"
        ]
    );
    assert!(d.is_empty(), "{d:?}");
    let (_, d) = run(
        vec![vi("x", 1, &["2", "3"])],
        vec![ints("t", &[4, 2])],
        vec![node("Reshape", &["x", "t"], &["r"], vec![])],
    );
    assert_eq!(
        d,
        vec![
            "onnx/shape-mismatch: node 0 'r' (Reshape): cannot reshape [2,3] (6 elements) to [4,2] (8 elements)"
        ]
    );
}

#[test]
fn elementwise_broadcasting_and_its_errors() {
    let (t, d) = run(
        vec![
            vi("a", 1, &["N", "1", "5"]),
            vi("b", 1, &["4", "1"]),
            vi("c", 1, &["3"]),
            vi("k", 1, &["?", "5"]),
        ],
        vec![],
        vec![
            node("Add", &["a", "b"], &["ab"], vec![]),
            node("Greater", &["a", "b"], &["gt"], vec![]),
            node("Mul", &["a", "k"], &["ak"], vec![]),
            node("Sub", &["b", "c"], &["bc"], vec![]),
            node("Cast", &["ab"], &["i"], vec![("to", A::I(7))]),
            node("Sum", &["a", "b", "c"], &["bad"], vec![]),
        ],
    );
    assert_eq!(
        &t[..5],
        &[
            "float[N,4,5]",
            "bool[N,4,5]",
            "float[N,?,5]",
            "float[4,3]",
            "int64[N,4,5]"
        ]
    );
    assert_eq!(
        d,
        vec![
            "onnx/shape-mismatch: node 5 'bad' (Sum): shapes cannot be broadcast: input 0 is [N,1,5], input 2 is [3]"
        ]
    );
}

#[test]
fn recurrent_and_transformer_blocks() {
    let (t, d) = run(
        vec![
            vi("seq", 1, &["T", "B", "32"]),
            vi("W", 1, &["2", "256", "32"]),
            vi("R", 1, &["2", "256", "64"]),
            vi("h", 1, &["B", "S", "768"]),
            vi("wq", 1, &["768", "768"]),
            vi("gamma", 1, &["768"]),
        ],
        vec![ints("heads", &[0, 0, 12, 64])],
        vec![
            node(
                "LSTM",
                &["seq", "W", "R"],
                &["Y", "Y_h", "Y_c"],
                vec![
                    ("hidden_size", A::I(64)),
                    ("direction", A::S("bidirectional")),
                ],
            ),
            node(
                "GRU",
                &["seq", "W", "R"],
                &["gy"],
                vec![("hidden_size", A::I(64))],
            ),
            node("MatMul", &["h", "wq"], &["q"], vec![]),
            node("Reshape", &["q", "heads"], &["qh"], vec![]),
            node(
                "Transpose",
                &["qh"],
                &["qt"],
                vec![("perm", A::Is(vec![0, 2, 1, 3]))],
            ),
            node(
                "Transpose",
                &["qh"],
                &["kt"],
                vec![("perm", A::Is(vec![0, 2, 3, 1]))],
            ),
            node("MatMul", &["qt", "kt"], &["scores"], vec![]),
            node("Softmax", &["scores"], &["attn"], vec![("axis", A::I(-1))]),
            node(
                "LayerNormalization",
                &["h", "gamma"],
                &["ln", "mean"],
                vec![("axis", A::I(-1))],
            ),
        ],
    );
    assert_eq!(
        t,
        vec![
            "float[T,2,B,64]",
            "float[2,B,64]",
            "float[2,B,64]",
            "float[T,1,B,64]",
            "float[B,S,768]",
            "float[B,S,12,64]",
            "float[B,12,S,64]",
            "float[B,12,64,S]",
            "float[B,12,S,S]",
            "float[B,12,S,S]",
            "float[B,S,768]",
            "float[B,S,1]"
        ]
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn ml_ops_and_unknown_ops() {
    let (t, d) = run(
        vec![vi("x", 1, &["N", "4"])],
        vec![],
        vec![
            node(
                "ai.onnx.ml.Scaler",
                &["x"],
                &["xs"],
                vec![("scale", A::F(vec![1.0; 4]))],
            ),
            node(
                "ai.onnx.ml.LinearClassifier",
                &["xs"],
                &["label", "scores"],
                vec![
                    ("classlabels_ints", A::Is(vec![0, 1, 2])),
                    ("intercepts", A::F(vec![0.0; 3])),
                ],
            ),
            node(
                "ai.onnx.ml.ZipMap",
                &["scores"],
                &["zm"],
                vec![("classlabels_int64s", A::Is(vec![0, 1, 2]))],
            ),
            node(
                "ai.onnx.ml.TreeEnsembleRegressor",
                &["x"],
                &["reg"],
                vec![("n_targets", A::I(2))],
            ),
            node("com.vendor.Mystery", &["x"], &["m"], vec![]),
            node("Relu", &["m"], &["after"], vec![]),
            node("Add", &["m", "x"], &["mix"], vec![]),
        ],
    );
    assert_eq!(
        t,
        vec![
            "float[N,4]",
            "int64[N]",
            "float[N,3]",
            "seq(map(int64, float[]))",
            "float[N,2]",
            "?",
            "?",
            "?"
        ]
    );
    assert!(
        d.is_empty(),
        "an op without a rule must never cause an error: {d:?}"
    );
}

#[test]
fn declared_shapes_fill_gaps_and_conflicts_are_warned() {
    let mut inputs = vec![vi("x", 1, &["N", "4"])];
    inputs.push(vi("y", 1, &["N", "4"]));
    let model = ModelProto {
        graph: Some(GraphProto {
            node: vec![
                node("com.vendor.Op", &["x"], &["m"], vec![]),
                node("Relu", &["x"], &["r"], vec![]),
            ],
            input: inputs,
            value_info: vec![vi("m", 1, &["N", "7"]), vi("r", 1, &["N", "5"])],
            ..Default::default()
        }),
        ..Default::default()
    };
    let facts = infer(&model);
    assert_eq!(
        facts.get(&GraphId::Main, "m").unwrap().to_string(),
        "float[N,7]"
    );
    assert_eq!(facts.diagnostics.len(), 1);
    assert_eq!(facts.diagnostics[0].code, "onnx/shape-declared-mismatch");
    assert!(
        facts.diagnostics[0]
            .message
            .contains("inferred as float[N,4] but declared as float[N,5]"),
        "{}",
        facts.diagnostics[0].message
    );
}

#[test]
fn subgraphs_get_facts_and_see_outer_values() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/text/synthetic_control_flow.onnx");
    let model = neuride_onnx::load::load_file(&path).unwrap().proto;
    let facts = infer(&model);
    let then_id = GraphId::Sub(Box::new(GraphId::Main), 4, "then_branch".into());
    assert_eq!(facts.get(&then_id, "t").unwrap().to_string(), "float[2,3]");
    assert_eq!(
        facts.get(&then_id, "x").unwrap().to_string(),
        "float[2,3]",
        "outer value seen through the subgraph"
    );
    assert_eq!(
        facts.get(&GraphId::Main, "y").unwrap().to_string(),
        "float[2,3]"
    );
    assert_eq!(
        facts.get(&GraphId::Main, "z").unwrap().to_string(),
        "float[2,3]"
    );
}
