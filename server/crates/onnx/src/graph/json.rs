//! The JSON view: every node of the main graph with its attributes and the
//! shapes of its inputs and outputs, every edge, and the graph's inputs,
//! outputs and initializers (dims only). Ids: `n<index>` for nodes,
//! `in:<name>`, `init:<name>`, `out:<name>`, `undef:<name>` for the rest.

use super::family::family_of;
use super::model::{Endpoint, GraphView};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphJson {
    pub name: String,
    pub nodes: Vec<NodeJson>,
    pub edges: Vec<EdgeJson>,
    pub inputs: Vec<ValueJson>,
    pub outputs: Vec<ValueJson>,
    pub initializers: Vec<ValueJson>,
    /// Values used but produced by nothing (a broken model); usually empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undefined: Vec<ValueJson>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeJson {
    pub id: String,
    pub index: usize,
    pub name: String,
    pub op: String,
    pub domain: String,
    /// The colour family (`conv`, `matmul`, `activation`, `spiking`, ...).
    pub family: &'static str,
    pub attributes: Vec<AttributeJson>,
    pub inputs: Vec<ValueJson>,
    pub outputs: Vec<ValueJson>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttributeJson {
    pub name: String,
    pub value: String,
}

/// A value name and its shape when known (`float[N,64]`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ValueJson {
    pub name: String,
    pub shape: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EdgeJson {
    pub from: String,
    pub to: String,
    pub value: String,
    pub shape: Option<String>,
}

/// Lists `view`.
pub fn build(view: &GraphView) -> GraphJson {
    let value = |name: &str| ValueJson {
        name: name.to_owned(),
        shape: view.shape_of(name).map(str::to_owned),
    };
    GraphJson {
        name: view.graph_name.to_owned(),
        nodes: view
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| NodeJson {
                id: view.endpoint_id(Endpoint::Node(index)),
                index,
                name: node.name.to_owned(),
                op: node.op.to_owned(),
                domain: node.domain.to_owned(),
                family: family_of(node.op, node.domain).css(),
                attributes: node
                    .attributes
                    .iter()
                    .map(|(name, summary)| AttributeJson {
                        name: (*name).to_owned(),
                        value: summary.clone(),
                    })
                    .collect(),
                inputs: node.inputs.iter().map(|name| value(name)).collect(),
                outputs: node.outputs.iter().map(|name| value(name)).collect(),
            })
            .collect(),
        edges: view
            .edges
            .iter()
            .map(|edge| EdgeJson {
                from: view.endpoint_id(edge.from),
                to: view.endpoint_id(edge.to),
                value: edge.value.to_owned(),
                shape: view.shape_of(edge.value).map(str::to_owned),
            })
            .collect(),
        inputs: view.inputs.iter().map(|name| value(name)).collect(),
        outputs: view.outputs.iter().map(|name| value(name)).collect(),
        initializers: view
            .initializers
            .iter()
            .map(|init| value(init.name))
            .collect(),
        undefined: view.undefined.iter().map(|name| value(name)).collect(),
    }
}
