//! The graph as the views see it: nodes of the main graph, where each value
//! comes from (a node, a graph input, an initializer, or nowhere) and the
//! shape to display for it. Built once per request from the proto, borrowing
//! its strings.

use super::ShapeMap;
use super::text::{attribute_summary, tensor_shape, type_display};
use crate::proto::{GraphProto, ModelProto};
use std::collections::HashMap;

/// One node of the main graph.
#[derive(Debug, Clone)]
pub struct ViewNode<'m> {
    pub name: &'m str,
    pub op: &'m str,
    pub domain: &'m str,
    /// `(name, summarised value)` in the order of the proto.
    pub attributes: Vec<(&'m str, String)>,
    /// Input value names; an empty name (an omitted optional input) is kept so
    /// positions match the op's signature.
    pub inputs: Vec<&'m str>,
    pub outputs: Vec<&'m str>,
    /// For a `Constant` node: the shape of its `value` tensor.
    pub constant_shape: Option<String>,
}

/// Where a value comes from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `nodes[i]`.
    Node(usize),
    /// `inputs[i]`: a graph input that is not an initializer.
    Input(usize),
    /// `initializers[i]`.
    Initializer(usize),
    /// `outputs[i]`: a graph output (only ever a destination).
    Output(usize),
    /// `undefined[i]`: a value that nothing produces (a broken model).
    Undefined(usize),
}

/// A value flowing from one endpoint to a node or a graph output.
#[derive(Debug, Clone)]
pub struct ViewEdge<'m> {
    pub from: Endpoint,
    pub to: Endpoint,
    pub value: &'m str,
}

/// An initializer, described by its dims (its data is never touched).
#[derive(Debug, Clone)]
pub struct ViewInitializer<'m> {
    pub name: &'m str,
    pub shape: String,
}

/// The main graph of a model, ready to be drawn or listed.
#[derive(Debug, Clone, Default)]
pub struct GraphView<'m> {
    pub graph_name: &'m str,
    pub nodes: Vec<ViewNode<'m>>,
    pub inputs: Vec<&'m str>,
    pub outputs: Vec<&'m str>,
    pub initializers: Vec<ViewInitializer<'m>>,
    pub undefined: Vec<&'m str>,
    pub edges: Vec<ViewEdge<'m>>,
    /// Shapes declared in the model (inputs, outputs, value_info).
    declared: HashMap<&'m str, String>,
    given: Option<&'m ShapeMap>,
}

impl<'m> GraphView<'m> {
    /// Builds the view of `model.graph`; a model without a graph gives an
    /// empty view.
    pub fn new(model: &'m ModelProto, shapes: Option<&'m ShapeMap>) -> GraphView<'m> {
        match &model.graph {
            Some(graph) => GraphView::of_graph(graph, shapes),
            None => GraphView {
                given: shapes,
                ..GraphView::default()
            },
        }
    }

    /// Builds the view of any graph (also a subgraph of Loop/If/Scan).
    pub fn of_graph(graph: &'m GraphProto, shapes: Option<&'m ShapeMap>) -> GraphView<'m> {
        let mut view = GraphView {
            graph_name: graph.name(),
            given: shapes,
            ..GraphView::default()
        };
        for value in graph
            .input
            .iter()
            .chain(&graph.output)
            .chain(&graph.value_info)
        {
            if let Some(display) = value.r#type.as_ref().and_then(type_display) {
                view.declared.entry(value.name()).or_insert(display);
            }
        }

        let mut producers: HashMap<&'m str, Endpoint> = HashMap::new();
        for tensor in &graph.initializer {
            if producers.contains_key(tensor.name()) {
                continue;
            }
            producers.insert(
                tensor.name(),
                Endpoint::Initializer(view.initializers.len()),
            );
            let shape = tensor_shape(tensor.data_type(), &tensor.dims);
            view.declared
                .entry(tensor.name())
                .or_insert_with(|| shape.clone());
            view.initializers.push(ViewInitializer {
                name: tensor.name(),
                shape,
            });
        }
        // Models before IR 4 list every initializer among the inputs too; such a
        // name is a weight, not something the user feeds.
        for input in &graph.input {
            if !producers.contains_key(input.name()) {
                producers.insert(input.name(), Endpoint::Input(view.inputs.len()));
                view.inputs.push(input.name());
            }
        }
        for (index, node) in graph.node.iter().enumerate() {
            for output in &node.output {
                if !output.is_empty() {
                    producers.insert(output.as_str(), Endpoint::Node(index));
                }
            }
            view.nodes.push(ViewNode {
                name: node.name(),
                op: node.op_type(),
                domain: node.domain(),
                attributes: node
                    .attribute
                    .iter()
                    .map(|a| (a.name(), attribute_summary(a)))
                    .collect(),
                inputs: node.input.iter().map(String::as_str).collect(),
                outputs: node.output.iter().map(String::as_str).collect(),
                constant_shape: (node.op_type() == "Constant")
                    .then(|| crate::attr::tensor(node, "value"))
                    .flatten()
                    .map(|tensor| tensor_shape(tensor.data_type(), &tensor.dims)),
            });
        }

        let mut undefined_index: HashMap<&'m str, usize> = HashMap::new();
        let mut source = |view: &mut GraphView<'m>, value: &'m str| -> Endpoint {
            if let Some(endpoint) = producers.get(value) {
                return *endpoint;
            }
            let index = *undefined_index.entry(value).or_insert_with(|| {
                view.undefined.push(value);
                view.undefined.len() - 1
            });
            Endpoint::Undefined(index)
        };
        for (index, node) in graph.node.iter().enumerate() {
            for input in node.input.iter().filter(|name| !name.is_empty()) {
                let from = source(&mut view, input.as_str());
                view.edges.push(ViewEdge {
                    from,
                    to: Endpoint::Node(index),
                    value: input.as_str(),
                });
            }
        }
        for (index, output) in graph.output.iter().enumerate() {
            view.outputs.push(output.name());
            let from = source(&mut view, output.name());
            view.edges.push(ViewEdge {
                from,
                to: Endpoint::Output(index),
                value: output.name(),
            });
        }
        view
    }

    /// The shape to show for `value`: the caller's inferred shape first, then
    /// the declared type or an initializer's dims.
    pub fn shape_of(&self, value: &str) -> Option<&str> {
        if let Some(shape) = self.given.and_then(|given| given.get(value)) {
            return Some(shape.as_str());
        }
        self.declared.get(value).map(String::as_str)
    }

    /// The stable id used by every view: `n<index>`, `in:<name>`,
    /// `init:<name>`, `out:<name>`, `undef:<name>`.
    pub fn endpoint_id(&self, endpoint: Endpoint) -> String {
        match endpoint {
            Endpoint::Node(index) => format!("n{index}"),
            Endpoint::Input(index) => format!("in:{}", self.inputs[index]),
            Endpoint::Initializer(index) => format!("init:{}", self.initializers[index].name),
            Endpoint::Output(index) => format!("out:{}", self.outputs[index]),
            Endpoint::Undefined(index) => format!("undef:{}", self.undefined[index]),
        }
    }
}
