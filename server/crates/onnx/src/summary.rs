//! A model at a glance: producer, IR, opsets, inputs/outputs with shapes,
//! op histogram, parameters (count and bytes, external ones by length),
//! MACs of the Conv/Gemm/MatMul layers, external data files, and per-node
//! facts for hovers. Reads no weight: sizes come from dims and lengths.

mod macs;

pub use macs::node_macs;

use crate::diagnostic::GraphId;
use crate::proto::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use crate::shape::{ShapeFacts, ValueType};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub producer_name: String,
    pub producer_version: String,
    pub ir_version: i64,
    pub model_version: Option<i64>,
    pub domain: String,
    pub doc_string: String,
    pub opsets: Vec<Opset>,
    pub metadata: BTreeMap<String, String>,
    pub graph_name: String,
    pub inputs: Vec<ValueSummary>,
    pub outputs: Vec<ValueSummary>,
    /// Nodes of the main graph.
    pub node_count: usize,
    /// Nodes including subgraphs and local functions.
    pub total_node_count: usize,
    /// `op` (or `domain.op` outside the default domain) -> count, over every graph.
    pub op_histogram: BTreeMap<String, usize>,
    pub initializer_count: usize,
    /// Elements of all initializers (dense and sparse) of every graph.
    pub parameters: u64,
    /// Bytes they take (external ones by their declared length).
    pub parameter_bytes: u64,
    /// Multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul in the main graph.
    pub macs: u64,
    /// Set when a symbolic or unknown dim was counted as 1.
    pub macs_note: Option<String>,
    pub external_data: Vec<ExternalFile>,
    pub local_functions: Vec<String>,
    /// Per node of the main graph, in order.
    pub nodes: Vec<NodeSummary>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Opset {
    pub domain: String,
    pub version: i64,
}

impl Opset {
    /// The domain as people name it: `ai.onnx` for the default (empty) one.
    pub fn domain_name(&self) -> &str {
        domain_name(&self.domain)
    }
}

/// A domain as people name it: `ai.onnx` for the default (empty) one.
pub fn domain_name(domain: &str) -> &str {
    if domain.is_empty() { "ai.onnx" } else { domain }
}

/// `opsets` as a list for people: each domain and version joined by
/// `separator` (`ai.onnx 17, ai.onnx.ml 3` for a space).
pub fn opsets_text(opsets: &[Opset], separator: &str) -> String {
    let each: Vec<String> = opsets
        .iter()
        .map(|o| format!("{}{separator}{}", o.domain_name(), o.version))
        .collect();
    each.join(", ")
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ValueSummary {
    pub name: String,
    /// `float[N,3]`, `seq(map(int64, float))`, `?`.
    #[serde(rename = "type")]
    pub ty: ValueType,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExternalFile {
    pub location: String,
    pub tensors: usize,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AttributeSummary {
    pub name: String,
    /// `int`, `floats`, `graph`, ...
    #[serde(rename = "type")]
    pub ty: String,
    /// Short rendering; long lists are cut with a count.
    pub value: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeSummary {
    pub index: usize,
    pub name: String,
    pub op_type: String,
    pub domain: String,
    pub inputs: Vec<ValueSummary>,
    pub outputs: Vec<ValueSummary>,
    pub attributes: Vec<AttributeSummary>,
    /// Elements / bytes of the initializers this node reads.
    pub parameters: u64,
    pub parameter_bytes: u64,
    pub macs: Option<u64>,
    /// True when `macs` counted a symbolic/unknown dim as 1.
    pub macs_assumed: bool,
}

/// Summarises `model` using its shape facts.
pub fn summarize(model: &ModelProto, shapes: &ShapeFacts) -> Summary {
    let empty = GraphProto::default();
    let graph = model.graph.as_ref().unwrap_or(&empty);
    let main = GraphId::Main;
    let value = |name: &str, declared: Option<&crate::proto::TypeProto>| ValueSummary {
        name: name.to_owned(),
        ty: shapes
            .get(&main, name)
            .cloned()
            .unwrap_or_else(|| crate::shape::from_type_proto(declared)),
    };
    let mut totals = Totals::default();
    walk_graph(graph, 0, &mut totals);
    for f in &model.functions {
        for n in &f.node {
            totals.nodes += 1;
            *totals.ops.entry(op_key(n)).or_insert(0) += 1;
        }
    }
    let initializers: BTreeMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_deref().unwrap_or(""), t))
        .collect();
    let nodes: Vec<NodeSummary> = graph
        .node
        .iter()
        .enumerate()
        .map(|(i, n)| node_summary_in(n, i, &main, shapes, &initializers))
        .collect();
    let macs = nodes.iter().filter_map(|n| n.macs).sum();
    let assumed = nodes.iter().any(|n| n.macs_assumed);
    Summary {
        producer_name: model.producer_name.clone().unwrap_or_default(),
        producer_version: model.producer_version.clone().unwrap_or_default(),
        ir_version: model.ir_version.unwrap_or(0),
        model_version: model.model_version,
        domain: model.domain.clone().unwrap_or_default(),
        doc_string: model.doc_string.clone().unwrap_or_default(),
        opsets: model
            .opset_import
            .iter()
            .map(|o| Opset {
                domain: o.domain.clone().unwrap_or_default(),
                version: o.version.unwrap_or(0),
            })
            .collect(),
        metadata: model
            .metadata_props
            .iter()
            .map(|p| {
                (
                    p.key.clone().unwrap_or_default(),
                    p.value.clone().unwrap_or_default(),
                )
            })
            .collect(),
        graph_name: graph.name.clone().unwrap_or_default(),
        inputs: graph
            .input
            .iter()
            .filter(|i| !initializers.contains_key(i.name.as_deref().unwrap_or("")))
            .map(|i| value(i.name.as_deref().unwrap_or(""), i.r#type.as_ref()))
            .collect(),
        outputs: graph
            .output
            .iter()
            .map(|o| value(o.name.as_deref().unwrap_or(""), o.r#type.as_ref()))
            .collect(),
        node_count: graph.node.len(),
        total_node_count: totals.nodes,
        op_histogram: totals.ops,
        initializer_count: totals.initializers,
        parameters: totals.parameters,
        parameter_bytes: totals.parameter_bytes,
        macs,
        macs_note: assumed
            .then(|| "symbolic or unknown dims (e.g. the batch) were counted as 1".to_owned()),
        external_data: totals
            .external
            .into_iter()
            .map(|(location, (tensors, bytes))| ExternalFile {
                location,
                tensors,
                bytes,
            })
            .collect(),
        local_functions: model
            .functions
            .iter()
            .map(|f| {
                format!(
                    "{}.{}",
                    f.domain.as_deref().unwrap_or(""),
                    f.name.as_deref().unwrap_or("")
                )
            })
            .collect(),
        nodes,
    }
}

#[derive(Default)]
struct Totals {
    nodes: usize,
    ops: BTreeMap<String, usize>,
    initializers: usize,
    parameters: u64,
    parameter_bytes: u64,
    external: BTreeMap<String, (usize, u64)>,
}

fn op_key(n: &NodeProto) -> String {
    match n.domain.as_deref() {
        Some(d) if !d.is_empty() && d != "ai.onnx" => {
            format!("{d}.{}", n.op_type.as_deref().unwrap_or(""))
        }
        _ => n.op_type.clone().unwrap_or_default(),
    }
}

fn walk_graph(g: &GraphProto, depth: usize, t: &mut Totals) {
    for init in &g.initializer {
        add_tensor(init, t);
    }
    for sparse in &g.sparse_initializer {
        t.initializers += 1;
        t.parameters = t
            .parameters
            .saturating_add(crate::tensor::element_count(&sparse.dims).unwrap_or(0));
        let bytes = sparse
            .values
            .as_ref()
            .map_or(0, crate::tensor::stored_bytes)
            + sparse
                .indices
                .as_ref()
                .map_or(0, crate::tensor::stored_bytes);
        t.parameter_bytes = t.parameter_bytes.saturating_add(bytes);
    }
    for n in &g.node {
        t.nodes += 1;
        *t.ops.entry(op_key(n)).or_insert(0) += 1;
        if depth < 32 {
            for a in &n.attribute {
                for sg in a.g.as_deref().into_iter().chain(&a.graphs) {
                    walk_graph(sg, depth + 1, t);
                }
            }
        }
    }
}

fn add_tensor(init: &TensorProto, t: &mut Totals) {
    t.initializers += 1;
    t.parameters = t
        .parameters
        .saturating_add(crate::tensor::element_count(&init.dims).unwrap_or(0));
    let bytes = crate::tensor::stored_bytes(init);
    t.parameter_bytes = t.parameter_bytes.saturating_add(bytes);
    if crate::tensor::is_external(init) {
        let location = crate::tensor::external_entry(init, "location")
            .unwrap_or("")
            .to_owned();
        let e = t.external.entry(location).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.saturating_add(bytes);
    }
}

/// Facts about node `index` of `graph` (main graph or a subgraph), for a hover.
pub fn node_summary(
    model: &ModelProto,
    shapes: &ShapeFacts,
    graph: &GraphId,
    index: usize,
) -> Option<NodeSummary> {
    let g = find_graph(model, graph)?;
    let node = g.node.get(index)?;
    let initializers: BTreeMap<&str, &TensorProto> = g
        .initializer
        .iter()
        .map(|t| (t.name.as_deref().unwrap_or(""), t))
        .collect();
    Some(node_summary_in(node, index, graph, shapes, &initializers))
}

/// The graph a [`GraphId`] names (main graph or nested subgraph).
pub fn find_graph<'m>(model: &'m ModelProto, id: &GraphId) -> Option<&'m GraphProto> {
    match id {
        GraphId::Main => model.graph.as_ref(),
        GraphId::Sub(parent, index, attr) => {
            let p = find_graph(model, parent)?;
            let a = p
                .node
                .get(*index)
                .and_then(|node| crate::attr::find(node, attr))?;
            a.g.as_deref().or(a.graphs.first())
        }
        _ => None,
    }
}

fn node_summary_in(
    node: &NodeProto,
    index: usize,
    graph: &GraphId,
    shapes: &ShapeFacts,
    initializers: &BTreeMap<&str, &TensorProto>,
) -> NodeSummary {
    let ty = |name: &str| {
        shapes
            .get(graph, name)
            .cloned()
            .unwrap_or(ValueType::Unknown)
    };
    let values = |names: &[String]| {
        names
            .iter()
            .map(|n| ValueSummary {
                name: n.clone(),
                ty: ty(n),
            })
            .collect::<Vec<_>>()
    };
    let mut parameters = 0u64;
    let mut parameter_bytes = 0u64;
    for i in &node.input {
        if let Some(t) = initializers.get(i.as_str()) {
            parameters =
                parameters.saturating_add(crate::tensor::element_count(&t.dims).unwrap_or(0));
            parameter_bytes = parameter_bytes.saturating_add(crate::tensor::stored_bytes(t));
        }
    }
    let input_types: Vec<ValueType> = node.input.iter().map(|n| ty(n)).collect();
    let output_types: Vec<ValueType> = node.output.iter().map(|n| ty(n)).collect();
    let m = node_macs(node, &input_types, &output_types);
    NodeSummary {
        index,
        name: node.name.clone().unwrap_or_default(),
        op_type: node.op_type.clone().unwrap_or_default(),
        domain: node.domain.clone().unwrap_or_default(),
        inputs: values(&node.input),
        outputs: values(&node.output),
        attributes: node.attribute.iter().map(attribute_summary).collect(),
        parameters,
        parameter_bytes,
        macs: m.map(|m| m.0),
        macs_assumed: m.is_some_and(|m| m.1),
    }
}

const MAX_LISTED: usize = 8;

fn cut<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(MAX_LISTED)
        .map(|v| v.to_string())
        .collect();
    if items.len() > MAX_LISTED {
        format!("[{}, ... ({} values)]", shown.join(", "), items.len())
    } else {
        format!("[{}]", shown.join(", "))
    }
}

fn attribute_summary(a: &AttributeProto) -> AttributeSummary {
    use crate::proto::attribute_proto::AttributeType as T;
    let ty = T::try_from(a.r#type.unwrap_or(0)).unwrap_or(T::Undefined);
    let value = match ty {
        T::Int => a.i.unwrap_or(0).to_string(),
        T::Float => crate::text::f32_text(a.f.unwrap_or(0.0)),
        T::String => format!(
            "{:?}",
            String::from_utf8_lossy(a.s.as_deref().unwrap_or(b""))
        ),
        T::Ints => cut(&a.ints),
        T::Floats => cut(&a
            .floats
            .iter()
            .map(|&f| crate::text::f32_text(f))
            .collect::<Vec<_>>()),
        T::Strings => cut(&a
            .strings
            .iter()
            .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
            .collect::<Vec<_>>()),
        T::Tensor => a.t.as_deref().map_or(String::new(), |t| {
            let dims: Vec<String> = t.dims.iter().map(|d| d.to_string()).collect();
            format!(
                "{}[{}]",
                crate::dtype::onnx_name(t.data_type.unwrap_or(0)),
                dims.join(",")
            )
        }),
        T::Graph => a.g.as_deref().map_or(String::new(), |g| {
            format!(
                "graph '{}' ({} nodes)",
                g.name.as_deref().unwrap_or(""),
                g.node.len()
            )
        }),
        T::Graphs => format!("{} graphs", a.graphs.len()),
        T::Tensors => format!("{} tensors", a.tensors.len()),
        _ => String::new(),
    };
    let ty_name = match ty {
        T::Undefined => "undefined".to_owned(),
        other => other.as_str_name().to_ascii_lowercase(),
    };
    AttributeSummary {
        name: a.name.clone().unwrap_or_default(),
        ty: ty_name,
        value,
    }
}
