use super::*;
use crate::build::opset;
use crate::proto::tensor_proto::DataType;
use crate::proto::type_proto::{Tensor, Value as TypeValue};
use crate::proto::{
    AttributeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType, tensor_shape_proto,
};

fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(output.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

fn value(name: &str) -> ValueInfoProto {
    let dim = tensor_shape_proto::Dimension {
        value: Some(tensor_shape_proto::dimension::Value::DimValue(2)),
        ..Default::default()
    };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim: vec![dim] }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn tensor(name: &str) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![2],
        data_type: Some(DataType::Float as i32),
        float_data: vec![1.0, 2.0],
        ..Default::default()
    }
}

fn model(nodes: Vec<NodeProto>) -> ModelProto {
    crate::build::model(GraphProto {
        name: Some("g".into()),
        node: nodes,
        input: vec![value("x")],
        output: vec![value("y")],
        ..Default::default()
    })
}

fn codes(model: &ModelProto) -> Vec<&'static str> {
    check_model(model, &CheckContext::default())
        .into_iter()
        .chain(unused(model))
        .map(|d| d.code)
        .collect()
}

/// `model` with every fix applied, and the descriptions of what was done.
fn fix_all(model: &ModelProto) -> (ModelProto, Vec<String>) {
    let (fixed, applied) = fix(model, &CheckContext::default(), &|_| true);
    (fixed, applied.into_iter().map(|a| a.description).collect())
}

fn order(model: &ModelProto) -> Vec<&str> {
    model
        .graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .map(|n| n.name())
        .collect()
}

#[test]
fn sorts_nodes_keeping_valid_order() {
    let unsorted = model(vec![
        node("Relu", &["b"], "y"),
        node("Neg", &["x"], "a"),
        node("Abs", &["a"], "b"),
        node("Neg", &["x"], "c"),
    ]);
    assert!(codes(&unsorted).contains(&codes::TOPOLOGICAL_ORDER));
    let (fixed, applied) = fix(&unsorted, &CheckContext::default(), &|_| true);
    assert_eq!(order(&fixed), ["a", "b", "y", "c"]);
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].code, codes::TOPOLOGICAL_ORDER);
    assert!(codes(&fixed).is_empty(), "{:?}", codes(&fixed));
    // A sorted model is left alone.
    let (again, descriptions) = fix_all(&fixed);
    assert!(descriptions.is_empty(), "{descriptions:?}");
    assert_eq!(again, fixed);
}

#[test]
fn a_subgraph_reading_a_later_value_moves_its_node() {
    // `If` reads `t` (produced after it) inside its then/else branches.
    let branch = |name: &str| GraphProto {
        name: Some(name.into()),
        node: vec![node("Identity", &["t"], &format!("{name}_out"))],
        output: vec![value(&format!("{name}_out"))],
        ..Default::default()
    };
    let mut cond = node("If", &["c"], "y");
    for (attribute, graph) in [
        ("then_branch", branch("then")),
        ("else_branch", branch("else")),
    ] {
        cond.attribute.push(AttributeProto {
            name: Some(attribute.into()),
            r#type: Some(AttributeType::Graph as i32),
            g: Some(Box::new(graph)),
            ..Default::default()
        });
    }
    let mut m = model(vec![
        cond,
        node("Neg", &["x"], "t"),
        node("ReduceMin", &["x"], "m"),
    ]);
    m.graph.as_mut().unwrap().node.push(NodeProto {
        op_type: Some("Cast".into()),
        name: Some("c".into()),
        input: vec!["m".into()],
        output: vec!["c".into()],
        attribute: vec![AttributeProto {
            name: Some("to".into()),
            r#type: Some(AttributeType::Int as i32),
            i: Some(DataType::Bool as i64),
            ..Default::default()
        }],
        ..Default::default()
    });
    let (fixed, descriptions) = fix_all(&m);
    assert_eq!(descriptions.len(), 1, "{descriptions:?}");
    assert_eq!(order(&fixed), ["t", "m", "c", "y"]);
    assert!(!codes(&fixed).contains(&codes::TOPOLOGICAL_ORDER));
    assert!(!codes(&fixed).contains(&codes::UNDEFINED_INPUT));
}

#[test]
fn cycles_are_not_fixed() {
    let m = model(vec![
        node("Add", &["x", "b"], "a"),
        node("Relu", &["a"], "b"),
        node("Identity", &["b"], "y"),
    ]);
    let (fixed, descriptions) = fix_all(&m);
    assert!(descriptions.is_empty(), "{descriptions:?}");
    assert_eq!(fixed, m);
}

#[test]
fn removes_unused_initializers_inputs_and_value_info() {
    let mut m = model(vec![node("Add", &["x", "w"], "y")]);
    let graph = m.graph.as_mut().unwrap();
    graph.initializer = vec![tensor("w"), tensor("unused"), tensor("default")];
    graph.input.push(value("default"));
    graph.value_info = vec![value("y"), value("gone")];
    let found: Vec<_> = unused(&m)
        .into_iter()
        .map(|d| (d.code, d.message))
        .collect();
    assert_eq!(
        found,
        [
            (
                UNUSED_INITIALIZER,
                "initializer 'unused' is used by no node or output".to_owned()
            ),
            (
                UNUSED_INPUT,
                "graph input 'default' (an initializer too) is used by no node or output"
                    .to_owned()
            ),
            (
                UNUSED_VALUE_INFO,
                "value_info 'gone' describes no value of the graph".to_owned()
            ),
        ]
    );
    let (fixed, descriptions) = fix_all(&m);
    assert_eq!(
        descriptions,
        [
            "removed 2 unused initializers (unused, default)",
            "removed 1 value_info entry naming no value"
        ]
    );
    let graph = fixed.graph.as_ref().unwrap();
    let names = |values: &[ValueInfoProto]| {
        values
            .iter()
            .map(|v| v.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&graph.input), ["x"]);
    assert_eq!(names(&graph.value_info), ["y"]);
    assert_eq!(graph.initializer.len(), 1);
    assert!(codes(&fixed).is_empty(), "{:?}", codes(&fixed));
}

#[test]
fn merges_duplicate_opsets_and_sets_the_ir_version() {
    let mut m = model(vec![node("Relu", &["x"], "y")]);
    m.ir_version = None;
    m.opset_import = vec![opset("", 13), opset("ai.onnx.ml", 3), opset("", 17)];
    let (fixed, descriptions) = fix_all(&m);
    assert_eq!(
        descriptions,
        [
            "merged 1 duplicate opset import (now '' 17, 'ai.onnx.ml' 3)",
            "set ir_version to 8 (from the opset imports)"
        ]
    );
    assert_eq!(fixed.ir_version, Some(8));
    assert!(codes(&fixed).is_empty(), "{:?}", codes(&fixed));
    assert_eq!(ir_for_opset("", 8), Some(3));
    assert_eq!(ir_for_opset("", 13), Some(7));
    assert_eq!(ir_for_opset("ai.onnx", 21), Some(10));
    assert_eq!(ir_for_opset("custom", 1), None);
}

#[test]
fn only_allowed_codes_are_fixed() {
    let mut m = model(vec![node("Relu", &["b"], "y"), node("Neg", &["x"], "b")]);
    m.graph.as_mut().unwrap().initializer = vec![tensor("unused")];
    let (fixed, applied) = fix(&m, &CheckContext::default(), &|code| {
        code == UNUSED_INITIALIZER
    });
    assert_eq!(applied.len(), 1);
    assert_eq!(order(&fixed), ["y", "b"]);
    assert!(fixed.graph.as_ref().unwrap().initializer.is_empty());
}
