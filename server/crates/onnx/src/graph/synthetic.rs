//! Synthetic models of any size, for benchmarks and tests of the graph views
//! (and of anything else that needs a big model without a big file): a plain
//! chain, and a transformer-like stack whose node names carry the
//! `/encoder/layer.N/...` structure real exporters emit.

use crate::proto::tensor_proto::DataType;
use crate::proto::tensor_shape_proto::{Dimension, dimension};
use crate::proto::type_proto;
use crate::proto::{
    GraphProto, ModelProto, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// Nodes in one block of [`transformer_like`].
pub const TRANSFORMER_BLOCK_NODES: usize = 25;

fn float_value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| Dimension {
            value: Some(dimension::Value::DimValue(d)),
            denotation: None,
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
            denotation: None,
        }),
        ..Default::default()
    }
}

fn weight(name: &str, dims: &[i64]) -> TensorProto {
    // Dims only: the views never read tensor data.
    TensorProto {
        name: Some(name.to_owned()),
        dims: dims.to_vec(),
        data_type: Some(DataType::Float as i32),
        ..Default::default()
    }
}

/// A default-domain node with no attributes (for synthetic models and tests).
pub fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        name: Some(name.to_owned()),
        op_type: Some(op.to_owned()),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: outputs.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
}

fn model(graph: GraphProto) -> ModelProto {
    ModelProto {
        producer_name: Some("neuride-synthetic".to_owned()),
        ..crate::build::model(graph)
    }
}

/// `x -> Relu -> Relu -> ...`: `nodes` unary nodes in a line.
pub fn chain(nodes: usize) -> ModelProto {
    let mut graph = GraphProto {
        name: Some("chain".to_owned()),
        ..Default::default()
    };
    graph.input.push(float_value("x", &[1, 64]));
    let mut previous = "x".to_owned();
    for index in 0..nodes {
        let output = format!("v{index}");
        let op = ["Relu", "Sigmoid", "Tanh", "Abs"][index % 4];
        graph.node.push(node(
            &format!("/chain/{op}_{index}"),
            op,
            &[&previous],
            &[&output],
        ));
        previous = output;
    }
    graph.output.push(float_value(&previous, &[1, 64]));
    model(graph)
}

/// A stack of encoder blocks (attention + MLP with residuals and layer norms)
/// with at least `nodes` nodes in total, names under `/encoder/layer.N/`.
pub fn transformer_like(nodes: usize) -> ModelProto {
    let layers = nodes.div_ceil(TRANSFORMER_BLOCK_NODES).max(1);
    let mut graph = GraphProto {
        name: Some("encoder".to_owned()),
        ..Default::default()
    };
    graph.input.push(float_value("hidden", &[1, 128, 256]));
    let mut hidden = "hidden".to_owned();
    for layer in 0..layers {
        let p = format!("/encoder/layer.{layer}");
        let v = |name: &str| format!("{p}/{name}_out");
        let w = |name: &str| format!("encoder.layer.{layer}.{name}");
        let add = |graph: &mut GraphProto, name: &str, op: &str, inputs: &[&str]| {
            graph
                .node
                .push(node(&format!("{p}/{name}"), op, inputs, &[&v(name)]));
        };
        for (tensor, dims) in [
            ("ln1.weight", vec![256]),
            ("ln1.bias", vec![256]),
            ("q.weight", vec![256, 256]),
            ("k.weight", vec![256, 256]),
            ("v.weight", vec![256, 256]),
            ("o.weight", vec![256, 256]),
            ("ln2.weight", vec![256]),
            ("ln2.bias", vec![256]),
            ("ff1.weight", vec![256, 1024]),
            ("ff1.bias", vec![1024]),
            ("ff2.weight", vec![1024, 256]),
            ("ff2.bias", vec![256]),
            ("heads_shape", vec![4]),
            ("merge_shape", vec![3]),
            ("scale", vec![]),
        ] {
            graph.initializer.push(weight(&w(tensor), &dims));
        }
        add(
            &mut graph,
            "attention/ln/LayerNormalization",
            "LayerNormalization",
            &[&hidden, &w("ln1.weight"), &w("ln1.bias")],
        );
        let ln = v("attention/ln/LayerNormalization");
        for head in ["q", "k", "v"] {
            add(
                &mut graph,
                &format!("attention/{head}/MatMul"),
                "MatMul",
                &[&ln, &w(&format!("{head}.weight"))],
            );
            add(
                &mut graph,
                &format!("attention/{head}/Reshape"),
                "Reshape",
                &[&v(&format!("attention/{head}/MatMul")), &w("heads_shape")],
            );
            add(
                &mut graph,
                &format!("attention/{head}/Transpose"),
                "Transpose",
                &[&v(&format!("attention/{head}/Reshape"))],
            );
        }
        add(
            &mut graph,
            "attention/scores/MatMul",
            "MatMul",
            &[&v("attention/q/Transpose"), &v("attention/k/Transpose")],
        );
        add(
            &mut graph,
            "attention/scores/Div",
            "Div",
            &[&v("attention/scores/MatMul"), &w("scale")],
        );
        add(
            &mut graph,
            "attention/Softmax",
            "Softmax",
            &[&v("attention/scores/Div")],
        );
        add(
            &mut graph,
            "attention/context/MatMul",
            "MatMul",
            &[&v("attention/Softmax"), &v("attention/v/Transpose")],
        );
        add(
            &mut graph,
            "attention/context/Transpose",
            "Transpose",
            &[&v("attention/context/MatMul")],
        );
        add(
            &mut graph,
            "attention/context/Reshape",
            "Reshape",
            &[&v("attention/context/Transpose"), &w("merge_shape")],
        );
        add(
            &mut graph,
            "attention/output/MatMul",
            "MatMul",
            &[&v("attention/context/Reshape"), &w("o.weight")],
        );
        add(
            &mut graph,
            "attention/residual/Add",
            "Add",
            &[&v("attention/output/MatMul"), &hidden],
        );
        let attended = v("attention/residual/Add");
        add(
            &mut graph,
            "mlp/ln/LayerNormalization",
            "LayerNormalization",
            &[&attended, &w("ln2.weight"), &w("ln2.bias")],
        );
        add(
            &mut graph,
            "mlp/ff1/MatMul",
            "MatMul",
            &[&v("mlp/ln/LayerNormalization"), &w("ff1.weight")],
        );
        add(
            &mut graph,
            "mlp/ff1/Add",
            "Add",
            &[&v("mlp/ff1/MatMul"), &w("ff1.bias")],
        );
        add(&mut graph, "mlp/Gelu", "Gelu", &[&v("mlp/ff1/Add")]);
        add(
            &mut graph,
            "mlp/ff2/MatMul",
            "MatMul",
            &[&v("mlp/Gelu"), &w("ff2.weight")],
        );
        add(
            &mut graph,
            "mlp/ff2/Add",
            "Add",
            &[&v("mlp/ff2/MatMul"), &w("ff2.bias")],
        );
        add(
            &mut graph,
            "mlp/residual/Add",
            "Add",
            &[&v("mlp/ff2/Add"), &attended],
        );
        hidden = v("mlp/residual/Add");
    }
    graph.output.push(float_value(&hidden, &[1, 128, 256]));
    model(graph)
}
