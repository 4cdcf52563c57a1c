//! A NIR file (`.nir`) as the analysis host shows models: its graph as an
//! ONNX model whose nodes are ops of the domain [`NIR_DOMAIN`] (op type =
//! NIR node type, float parameters as initializers, integer and text
//! parameters as attributes, a nested `NIRGraph` as a graph attribute), so
//! the text view, hovers, symbols, the graph view, the summary and the
//! registry work on it as on any model. Diagnostics are NIR's own
//! (`neuride_nir`'s reading, type inference and what the simulator cannot
//! run), placed on the node they are about; the ONNX checker does not run
//! on this view, whose ops it does not know.

use super::{Facts, ModelAnalysis, ModelView};
use crate::file_kind::FileKind;
use neuride_nir::graph::{Document, Graph, Node, Param};
use neuride_nir::schema::{self, ParamKind};
use neuride_onnx::build::{
    attr_graph, attr_int, attr_ints, attr_string, attr_strings, float_initializer, opset,
    value_info,
};
use neuride_onnx::classify::{Classification, Evidence, Kind, NodeRef, Source};
use neuride_onnx::proto::{GraphProto, ModelProto, NodeProto, StringStringEntryProto};
use neuride_onnx::{Anchor, Diagnostic, GraphId, Severity};
use std::path::Path;

/// The ONNX domain of NIR node types in the view.
pub const NIR_DOMAIN: &str = "org.nir";

impl ModelAnalysis {
    /// The analysis of a `.nir` file's bytes.
    pub fn from_nir(path: &Path, bytes: &[u8]) -> ModelAnalysis {
        let read = neuride_nir::read(bytes);
        let Some(document) = read.document else {
            let message = read
                .problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            let diagnostics: Vec<Diagnostic> = read
                .problems
                .iter()
                .map(|p| diagnostic(&GraphProto::default(), p))
                .collect();
            return ModelAnalysis {
                path: path.to_owned(),
                size: bytes.len() as u64,
                facts: None,
                diagnostics,
                view: ModelView::of_undecodable(&message),
                map: None,
                kind: FileKind::Nir,
            };
        };
        let proto = model_of(&document);
        let main = proto.graph.as_ref().expect("model_of makes a graph");
        let mut diagnostics: Vec<Diagnostic> =
            read.problems.iter().map(|p| diagnostic(main, p)).collect();
        // Only a file that reads cleanly is worth asking the simulator about.
        if diagnostics.iter().all(|d| d.severity != Severity::Error)
            && let Err(error) = neuride_nir::lower(&document, &neuride_nir::LowerOptions::default())
        {
            diagnostics.extend(error.0.iter().map(|p| {
                let mut d = diagnostic(main, p);
                d.severity = Severity::Warning;
                d.message = format!("neuride cannot simulate this: {}", d.message);
                d
            }));
        }
        let shapes = neuride_onnx::shape::infer(&proto);
        let summary = neuride_onnx::summary::summarize(&proto, &shapes);
        let view = ModelView::of_model(&proto);
        ModelAnalysis {
            path: path.to_owned(),
            size: bytes.len() as u64,
            facts: Some(Facts {
                classification: classification(&proto),
                proto,
                shapes,
                summary,
            }),
            diagnostics,
            view,
            map: None,
            kind: FileKind::Nir,
        }
    }
}

/// A problem of the file as a diagnostic on the view: on the node its path
/// starts with (an Input node is the graph input of its name), else on the
/// model.
fn diagnostic(graph: &GraphProto, problem: &neuride_nir::Problem) -> Diagnostic {
    let anchor = match problem.path.first() {
        Some(first) => match graph.node.iter().position(|n| n.name() == first) {
            Some(index) => Anchor::Node {
                graph: GraphId::Main,
                index,
            },
            None if graph.input.iter().any(|i| i.name() == first) => Anchor::Value {
                graph: GraphId::Main,
                name: first.clone(),
            },
            None => Anchor::Model,
        },
        None => Anchor::Model,
    };
    let severity = match problem.severity {
        neuride_nir::Severity::Error => Severity::Error,
        neuride_nir::Severity::Warning => Severity::Warning,
    };
    let message = match problem.path.len() {
        0 | 1 => problem.message.clone(),
        _ => format!("{}: {}", problem.path.join("."), problem.message),
    };
    Diagnostic {
        severity,
        code: problem.code,
        message,
        anchor,
    }
}

/// A NIR file is a spiking network by what it is; its neuron nodes are
/// the evidence.
fn classification(proto: &ModelProto) -> Classification {
    let neurons: Vec<NodeRef> = proto
        .graph
        .iter()
        .flat_map(|g| g.node.iter().enumerate())
        .filter(|(_, n)| {
            let op = n.op_type.as_deref().unwrap_or("");
            schema::is_neuron(op) || op == "Threshold"
        })
        .map(|(index, node)| NodeRef::new(&GraphId::Main, index, node))
        .collect();
    let evidence = if neurons.is_empty() {
        Evidence::text(
            Source::Producer,
            Kind::Snn,
            0.6,
            "a NIR file: the Neuromorphic Intermediate Representation of spiking networks".into(),
        )
    } else {
        Evidence::ops(Source::Op, Kind::Snn, 1.0, &neurons, "NIR neuron nodes")
    };
    Classification {
        kind: Kind::Snn,
        confidence: evidence.weight,
        evidence: vec![evidence],
    }
}

/// The ONNX view of `document`.
pub fn model_of(document: &Document) -> ModelProto {
    ModelProto {
        ir_version: Some(9),
        producer_name: Some("nir".into()),
        producer_version: Some(document.version.clone()),
        opset_import: vec![opset("", 17), opset(NIR_DOMAIN, 1)],
        metadata_props: metadata(&document.graph.metadata),
        graph: Some(graph_of(&document.graph, "nir")),
        ..Default::default()
    }
}

fn metadata(entries: &[(String, Param)]) -> Vec<StringStringEntryProto> {
    entries
        .iter()
        .map(|(key, value)| StringStringEntryProto {
            key: Some(key.clone()),
            value: Some(match value {
                Param::Text { value } => value.clone(),
                Param::Texts { values, .. } => values.join(", "),
                Param::Array(array) => format!("{}{:?}", array.dtype.name(), array.values),
            }),
        })
        .collect()
}

/// A graph's nodes in file order: Input nodes are the graph's inputs,
/// every other node (Output included) a node whose inputs are the sources
/// of its edges (NIR sums them).
fn graph_of(graph: &Graph, name: &str) -> GraphProto {
    let (shapes, _) = neuride_nir::shapes::infer(graph, &[]);
    let mut out = GraphProto {
        name: Some(name.into()),
        ..Default::default()
    };
    for index in reading_order(graph) {
        let (node, node_shapes) = (&graph.nodes[index], &shapes[index]);
        let dims = |shape: &Option<Vec<usize>>| -> Vec<Option<usize>> {
            shape.iter().flatten().map(|&d| Some(d)).collect()
        };
        if node.type_name == "Input" {
            out.input
                .push(value_info(&node.name, &dims(&node_shapes.output)));
            continue;
        }
        let sources = graph
            .edges
            .iter()
            .filter(|e| e.to == node.name)
            .map(|e| e.from.clone());
        let mut proto = NodeProto {
            name: Some(node.name.clone()),
            op_type: Some(node.type_name.clone()),
            domain: Some(NIR_DOMAIN.into()),
            input: sources.collect(),
            output: vec![node.name.clone()],
            ..Default::default()
        };
        parameters(node, &mut proto, &mut out);
        if let Some(inner) = &node.graph {
            proto
                .attribute
                .push(attr_graph("graph", graph_of(inner, &node.name)));
        }
        if node.type_name == "Output" {
            out.output
                .push(value_info(&node.name, &dims(&node_shapes.input)));
        } else if node_shapes.output.is_some() {
            out.value_info
                .push(value_info(&node.name, &dims(&node_shapes.output)));
        }
        out.node.push(proto);
    }
    out
}

/// The nodes from the inputs on, each after what feeds it (HDF5 lists a
/// group's members by name, which is no reading order); ties keep the
/// file's order, nodes on a cycle come last.
fn reading_order(graph: &Graph) -> Vec<usize> {
    let index: std::collections::HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let mut indegree = vec![0usize; graph.nodes.len()];
    let mut successors = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        if let (Some(&from), Some(&to)) =
            (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
        {
            indegree[to] += 1;
            successors[from].push(to);
        }
    }
    let mut ready: std::collections::BTreeSet<(bool, usize)> = (0..graph.nodes.len())
        .filter(|&i| indegree[i] == 0)
        .map(|i| (graph.nodes[i].type_name != "Input", i))
        .collect();
    let mut order = Vec::with_capacity(graph.nodes.len());
    while let Some(first) = ready.pop_first() {
        let node = first.1;
        order.push(node);
        for &next in &successors[node] {
            indegree[next] -= 1;
            if indegree[next] == 0 {
                ready.insert((graph.nodes[next].type_name != "Input", next));
            }
        }
    }
    let placed: std::collections::HashSet<usize> = order.iter().copied().collect();
    order.extend((0..graph.nodes.len()).filter(|i| !placed.contains(i)));
    order
}

/// A node's parameters: float arrays as initializers (`node.param`) fed as
/// extra inputs, integers (shapes, strides) and text as attributes.
fn parameters(node: &Node, proto: &mut NodeProto, graph: &mut GraphProto) {
    let spec = schema::find(&node.type_name);
    for (name, param) in &node.params {
        let kind = spec
            .and_then(|s| s.params.iter().find(|p| p.name == name))
            .map(|p| p.kind);
        match param {
            Param::Text { value } => proto.attribute.push(attr_string(name, value)),
            Param::Texts { values, .. } => proto
                .attribute
                .push(attr_strings(name, values.iter().map(String::as_str))),
            Param::Array(array) if kind != Some(ParamKind::Floats) && !array.dtype.is_float() => {
                let ints = array.values.iter().map(|&v| v as i64);
                proto.attribute.push(if array.shape.is_empty() {
                    attr_int(name, array.values.first().map_or(0, |&v| v as i64))
                } else {
                    attr_ints(name, ints)
                });
            }
            Param::Array(array) => {
                let initializer = format!("{}.{name}", node.name);
                graph.initializer.push(float_initializer(
                    &initializer,
                    &array.shape,
                    &array.to_f32(),
                ));
                proto.input.push(initializer);
            }
        }
    }
}

/// What NIR says a node type is: its summary, equation and parameters.
pub fn type_markdown(type_name: &str) -> Option<String> {
    let spec = schema::find(type_name)?;
    let mut out = format!("NIR {}", spec.summary);
    if !spec.equation.is_empty() {
        out.push_str(&format!(": `{}`", spec.equation));
    }
    for param in spec.params {
        let optional = if param.required { "" } else { " (optional)" };
        out.push_str(&format!("\n- `{}`{optional}: {}", param.name, param.doc));
    }
    Some(out)
}
