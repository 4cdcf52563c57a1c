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
pub const TRANSFORMER_BLOCK_NODES: usize = BLOCK.len();

/// One encoder block of [`transformer_like`], in node order: `name = Op(inputs)`,
/// the name under the block's prefix. An input is the block's `input`,
/// another node's output (a name with a `/`) or a weight of the block.
const BLOCK: [&str; 25] = [
    "attention/ln/LayerNormalization = LayerNormalization(input, ln1.weight, ln1.bias)",
    "attention/q/MatMul = MatMul(attention/ln/LayerNormalization, q.weight)",
    "attention/q/Reshape = Reshape(attention/q/MatMul, heads_shape)",
    "attention/q/Transpose = Transpose(attention/q/Reshape)",
    "attention/k/MatMul = MatMul(attention/ln/LayerNormalization, k.weight)",
    "attention/k/Reshape = Reshape(attention/k/MatMul, heads_shape)",
    "attention/k/Transpose = Transpose(attention/k/Reshape)",
    "attention/v/MatMul = MatMul(attention/ln/LayerNormalization, v.weight)",
    "attention/v/Reshape = Reshape(attention/v/MatMul, heads_shape)",
    "attention/v/Transpose = Transpose(attention/v/Reshape)",
    "attention/scores/MatMul = MatMul(attention/q/Transpose, attention/k/Transpose)",
    "attention/scores/Div = Div(attention/scores/MatMul, scale)",
    "attention/Softmax = Softmax(attention/scores/Div)",
    "attention/context/MatMul = MatMul(attention/Softmax, attention/v/Transpose)",
    "attention/context/Transpose = Transpose(attention/context/MatMul)",
    "attention/context/Reshape = Reshape(attention/context/Transpose, merge_shape)",
    "attention/output/MatMul = MatMul(attention/context/Reshape, o.weight)",
    "attention/residual/Add = Add(attention/output/MatMul, input)",
    "mlp/ln/LayerNormalization = LayerNormalization(attention/residual/Add, ln2.weight, ln2.bias)",
    "mlp/ff1/MatMul = MatMul(mlp/ln/LayerNormalization, ff1.weight)",
    "mlp/ff1/Add = Add(mlp/ff1/MatMul, ff1.bias)",
    "mlp/Gelu = Gelu(mlp/ff1/Add)",
    "mlp/ff2/MatMul = MatMul(mlp/Gelu, ff2.weight)",
    "mlp/ff2/Add = Add(mlp/ff2/MatMul, ff2.bias)",
    "mlp/residual/Add = Add(mlp/ff2/Add, attention/residual/Add)",
];

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
        for line in BLOCK {
            let (name, call) = line.split_once(" = ").expect("name = Op(inputs)");
            let (op, inputs) = call.split_once('(').expect("Op(inputs)");
            let inputs: Vec<String> = inputs
                .trim_end_matches(')')
                .split(", ")
                .map(|input| match input {
                    "input" => hidden.clone(),
                    step if step.contains('/') => v(step),
                    tensor => w(tensor),
                })
                .collect();
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            let output = v(name);
            graph
                .node
                .push(node(&format!("{p}/{name}"), op, &inputs, &[&output]));
        }
        // The block's last node.
        hidden = v("mlp/residual/Add");
    }
    graph.output.push(float_value(&hidden, &[1, 128, 256]));
    model(graph)
}
