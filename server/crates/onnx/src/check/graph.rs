//! Graph rules: names, value infos, initializers, SSA, every node input
//! defined before use (telling an unsorted graph from a real cycle), and
//! graph outputs produced.

use super::node::NodeCx;
use super::scope::{Def, Scope};
use super::{Checker, GraphCx, Opsets, codes};
use crate::diagnostic::Anchor;
use crate::hash::HashMap;
use crate::proto::type_proto::Value as TypeValue;
use crate::proto::{GraphProto, NodeProto, ValueInfoProto};

/// `node 3 'fc1' (Gemm)`, the way every message names a node.
pub(crate) fn node_label(index: usize, node: &NodeProto) -> String {
    let op = match node.domain() {
        "" | "ai.onnx" => node.op_type().to_owned(),
        domain => format!("{domain}:{}", node.op_type()),
    };
    match node.name() {
        "" => format!("node {index} ({op})"),
        name => format!("node {index} '{name}' ({op})"),
    }
}

/// Whether a node list is a graph's or a function body's (they differ in
/// what an input may refer to and how messages say it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    Graph,
    Function,
}

impl<'m, 'c> Checker<'m, 'c> {
    /// Checks `graph` and returns the names it defines.
    pub(crate) fn check_graph<'p>(
        &mut self,
        graph: &'m GraphProto,
        gcx: &GraphCx<'m>,
        parent: Option<&'p Scope<'m, 'p>>,
        opsets: &Opsets<'m>,
    ) -> HashMap<&'m str, Def> {
        let graph_anchor = || Anchor::Graph(gcx.id.clone());
        if graph.name().is_empty() {
            self.error(
                codes::GRAPH_NAME,
                graph_anchor(),
                format!(
                    "graph{} has an empty name: GraphProto.name is required",
                    gcx.place
                ),
            );
        }
        for (role, values) in [("input", &graph.input), ("output", &graph.output)] {
            for (index, value) in values.iter().enumerate() {
                self.check_value_info(value, role, index, gcx);
            }
        }
        self.check_value_info_entries(graph, gcx);

        let mut scope = match parent {
            Some(parent) => Scope::child(parent),
            None => Scope::with_capacity(
                graph.input.len() + graph.initializer.len() + graph.node.len() * 2,
            ),
        };
        for input in &graph.input {
            if input.name().is_empty() {
                continue; // reported by check_value_info
            }
            if scope.this_graph(input.name()).is_some() {
                let message = format!(
                    "graph input '{}'{} is declared more than once: each name must be defined once (SSA)",
                    input.name(),
                    gcx.place
                );
                self.error(
                    codes::SSA,
                    Anchor::Value {
                        graph: gcx.id.clone(),
                        name: input.name().to_owned(),
                    },
                    message,
                );
            }
            scope.add(input.name(), Def::GraphInput);
        }
        self.check_initializers(graph, gcx, &mut scope);
        self.check_nodes(&graph.node, gcx, &mut scope, opsets, Body::Graph);

        for output in &graph.output {
            let name = output.name();
            if !name.is_empty() && scope.find(name).is_none() {
                let message = format!(
                    "graph output '{name}'{} is produced by no node and is no graph input or initializer",
                    gcx.place
                );
                self.error(
                    codes::UNDEFINED_OUTPUT,
                    Anchor::Value {
                        graph: gcx.id.clone(),
                        name: name.to_owned(),
                    },
                    message,
                );
            }
        }
        scope.names
    }

    /// onnx's `check_value_info`: names always; type, element type and shape
    /// only for the main graph's inputs and outputs.
    fn check_value_info(
        &mut self,
        value: &ValueInfoProto,
        role: &str,
        index: usize,
        gcx: &GraphCx<'m>,
    ) {
        let name = value.name();
        let anchor = || Anchor::Value {
            graph: gcx.id.clone(),
            name: name.to_owned(),
        };
        if name.is_empty() {
            let message = format!(
                "graph {role} {index}{} has an empty name: ValueInfoProto.name is required",
                gcx.place
            );
            self.error(codes::VALUE_INFO, Anchor::Graph(gcx.id.clone()), message);
            return;
        }
        if let Some(problem) = unknown_element_type(value) {
            self.error(
                codes::VALUE_INFO,
                anchor(),
                format!("graph {role} '{name}'{}: {problem}", gcx.place),
            );
        }
        if !gcx.is_main {
            return;
        }
        let missing = |what: &str| {
            format!(
                "graph {role} '{name}': {what} is required for inputs and outputs of the main graph, none found"
            )
        };
        let Some(ty) = &value.r#type else {
            return self.error(codes::VALUE_INFO, anchor(), missing("a type"));
        };
        let problem = match &ty.value {
            Some(TypeValue::TensorType(t)) if t.elem_type.is_none() => {
                Some(missing("tensor element type"))
            }
            Some(TypeValue::TensorType(t)) if t.shape.is_none() => {
                Some(missing("a tensor shape (an empty shape means a scalar)"))
            }
            Some(TypeValue::SparseTensorType(t)) if t.elem_type.is_none() => {
                Some(missing("sparse tensor element type"))
            }
            Some(TypeValue::SparseTensorType(t)) if t.shape.is_none() => {
                Some(missing("a sparse tensor shape"))
            }
            Some(TypeValue::SequenceType(t)) if t.elem_type.is_none() => {
                Some(missing("sequence element type"))
            }
            Some(TypeValue::OptionalType(t)) if t.elem_type.is_none() => {
                Some(missing("optional element type"))
            }
            Some(TypeValue::MapType(t)) if t.key_type.is_none() || t.value_type.is_none() => {
                Some(missing("map key and value types"))
            }
            Some(_) => None,
            None => Some(missing(
                "a type case (tensor_type, sequence_type, map_type, ...)",
            )),
        };
        if let Some(message) = problem {
            self.error(codes::VALUE_INFO, anchor(), message);
        }
    }

    /// `graph.value_info` (intermediate values): onnx checks nothing, but an
    /// empty name or an element type outside TensorProto.DataType is broken.
    fn check_value_info_entries(&mut self, graph: &GraphProto, gcx: &GraphCx<'m>) {
        for (index, value) in graph.value_info.iter().enumerate() {
            if value.name().is_empty() {
                let message = format!("value_info {index}{} has an empty name", gcx.place);
                self.error(codes::VALUE_INFO, Anchor::Graph(gcx.id.clone()), message);
            } else if let Some(problem) = unknown_element_type(value) {
                let anchor = Anchor::Value {
                    graph: gcx.id.clone(),
                    name: value.name().to_owned(),
                };
                self.error(
                    codes::VALUE_INFO,
                    anchor,
                    format!("value_info '{}'{}: {problem}", value.name(), gcx.place),
                );
            }
        }
    }

    fn check_initializers<'p>(
        &mut self,
        graph: &'m GraphProto,
        gcx: &GraphCx<'m>,
        scope: &mut Scope<'m, 'p>,
    ) {
        let mut seen = crate::hash::HashSet::with_capacity_and_hasher(
            graph.initializer.len(),
            Default::default(),
        );
        let dense = graph.initializer.iter().map(|t| (t.name(), None));
        let sparse = graph
            .sparse_initializer
            .iter()
            .map(|s| (s.values.as_ref().map_or("", |v| v.name()), Some(s)));
        for (index, (name, sparse)) in dense.chain(sparse).enumerate() {
            let kind = if sparse.is_some() {
                "sparse initializer"
            } else {
                "initializer"
            };
            let anchor = Anchor::Initializer {
                graph: gcx.id.clone(),
                name: name.to_owned(),
            };
            if name.is_empty() {
                let message = format!(
                    "{kind} at position {index}{} has an empty name: initializers must be named",
                    gcx.place
                );
                self.error(codes::INITIALIZER_NAME, anchor.clone(), message);
            } else if !seen.insert(name) {
                let message = format!(
                    "{kind} '{name}'{} repeats the name of another initializer: names must be unique",
                    gcx.place
                );
                self.error(codes::DUPLICATE_INITIALIZER, anchor.clone(), message);
            }
            let what = super::Lazy(|f: &mut std::fmt::Formatter| {
                write!(f, "{kind} '{name}'{}", gcx.place)
            });
            match sparse {
                Some(sparse) => self.check_sparse_tensor(sparse, &anchor, &what),
                None => {
                    self.check_tensor(&graph.initializer[index], &anchor, &what);
                }
            }
            if name.is_empty() {
                continue;
            }
            if self.ir_version() <= 3 && sparse.is_none() {
                // Initializers were a subset of the graph inputs before IR 4.
                if scope.this_graph(name) != Some(Def::GraphInput) {
                    let message = format!(
                        "initializer '{name}'{} is not a graph input: with ir_version {} (<= 3) every initializer must also be listed in graph.input",
                        gcx.place,
                        self.ir_version()
                    );
                    self.error(codes::INITIALIZER_NOT_INPUT, anchor, message);
                }
            } else if scope.this_graph(name).is_none() {
                scope.add(name, Def::Initializer);
            }
        }
    }

    /// Walks nodes in order: inputs defined before use, the node itself, then
    /// its outputs defined exactly once. Inputs defined by later nodes are
    /// collected and sorted out afterwards into cycles and mere misordering.
    pub(crate) fn check_nodes<'p>(
        &mut self,
        nodes: &'m [NodeProto],
        gcx: &GraphCx<'m>,
        scope: &mut Scope<'m, 'p>,
        opsets: &Opsets<'m>,
        body: Body,
    ) {
        // Built on the first input that is not yet defined.
        let mut producers: Option<HashMap<&'m str, usize>> = None;
        let mut late_edges: Vec<(usize, &'m str, usize)> = Vec::new();
        for (index, node) in nodes.iter().enumerate() {
            for input in &node.input {
                if input.is_empty() {
                    continue; // an omitted optional input
                }
                let visible = match body {
                    Body::Graph => scope.find(input).is_some(),
                    Body::Function => scope.this_graph(input).is_some(),
                };
                if visible {
                    continue;
                }
                let producers = producers.get_or_insert_with(|| producer_map(nodes));
                match producers.get(input.as_str()) {
                    Some(&producer) if producer >= index => {
                        late_edges.push((index, input, producer))
                    }
                    _ => {
                        let sources = match body {
                            Body::Graph => {
                                "any earlier node, graph input, initializer or enclosing graph"
                            }
                            Body::Function => "any earlier node or function input",
                        };
                        let message = format!(
                            "{}{}: input '{input}' is not defined by {sources}",
                            node_label(index, node),
                            gcx.place
                        );
                        self.error(
                            codes::UNDEFINED_INPUT,
                            Anchor::Node {
                                graph: gcx.id.clone(),
                                index,
                            },
                            message,
                        );
                    }
                }
            }
            self.check_node(&NodeCx {
                node,
                index,
                gcx,
                scope,
                opsets,
            });
            for output in &node.output {
                if output.is_empty() {
                    continue; // an omitted optional output
                }
                if let Some((def, outer)) = scope.find(output) {
                    let whose = if outer {
                        format!("{} of an enclosing graph", def.describe())
                    } else {
                        def.describe()
                    };
                    let message = format!(
                        "{}{}: output '{output}' is already defined by {whose}: each name must be defined once (SSA)",
                        node_label(index, node),
                        gcx.place
                    );
                    self.error(
                        codes::SSA,
                        Anchor::Node {
                            graph: gcx.id.clone(),
                            index,
                        },
                        message,
                    );
                } else {
                    scope.add(output, Def::Node(index));
                }
            }
        }
        if !late_edges.is_empty() {
            let producers = producers.unwrap_or_default();
            self.report_order(nodes, gcx, &producers, &late_edges);
        }
    }

    /// Splits uses of later-defined values into cycles (reported once per
    /// cycle, naming its nodes) and plain ordering mistakes.
    fn report_order(
        &mut self,
        nodes: &[NodeProto],
        gcx: &GraphCx<'m>,
        producers: &HashMap<&'m str, usize>,
        late_edges: &[(usize, &'m str, usize)],
    ) {
        // Edges from a node to the nodes producing its inputs.
        let edges: Vec<Vec<(usize, &str)>> = nodes
            .iter()
            .map(|node| {
                node.input
                    .iter()
                    .filter_map(|input| producers.get(input.as_str()).map(|&p| (p, input.as_str())))
                    .collect()
            })
            .collect();
        let component = strongly_connected_components(&edges);
        let mut reported = crate::hash::HashSet::default();
        for &(consumer, value, producer) in late_edges {
            let same = component[consumer] == component[producer];
            if same {
                if reported.insert(component[consumer]) {
                    let cycle = find_cycle(consumer, &edges, &component);
                    let steps: Vec<String> = cycle
                        .iter()
                        .map(|&(node, value, next)| {
                            format!(
                                "{} needs '{value}' from {}",
                                node_label(node, &nodes[node]),
                                node_label(next, &nodes[next])
                            )
                        })
                        .collect();
                    let message = format!("nodes form a cycle{}: {}", gcx.place, steps.join(", "));
                    self.error(
                        codes::CYCLE,
                        Anchor::Node {
                            graph: gcx.id.clone(),
                            index: consumer,
                        },
                        message,
                    );
                }
            } else {
                let message = format!(
                    "{}{}: input '{value}' is produced by {}, which comes later: nodes must be sorted topologically",
                    node_label(consumer, &nodes[consumer]),
                    gcx.place,
                    node_label(producer, &nodes[producer])
                );
                self.error(
                    codes::TOPOLOGICAL_ORDER,
                    Anchor::Node {
                        graph: gcx.id.clone(),
                        index: consumer,
                    },
                    message,
                );
            }
        }
    }
}

/// The first node producing each name.
fn producer_map(nodes: &[NodeProto]) -> HashMap<&str, usize> {
    let mut producers = HashMap::with_capacity_and_hasher(nodes.len() * 2, Default::default());
    for (index, node) in nodes.iter().enumerate() {
        for output in node.output.iter().filter(|o| !o.is_empty()) {
            producers.entry(output.as_str()).or_insert(index);
        }
    }
    producers
}

fn unknown_element_type(value: &ValueInfoProto) -> Option<String> {
    let elem_type = match value.r#type.as_ref()?.value.as_ref()? {
        TypeValue::TensorType(t) => t.elem_type?,
        TypeValue::SparseTensorType(t) => t.elem_type?,
        _ => return None,
    };
    crate::proto::tensor_proto::DataType::try_from(elem_type)
        .is_err()
        .then(|| {
            format!("element type {elem_type} is not a TensorProto.DataType (0..=27 expected)")
        })
}

/// Tarjan's algorithm without recursion (a long chain of nodes must not
/// overflow the stack): the component id of every node.
fn strongly_connected_components(edges: &[Vec<(usize, &str)>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut index_of = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index_of[root] != UNSEEN {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if *edge == 0 && index_of[node] == UNSEEN {
                index_of[node] = next_index;
                low[node] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&(next, _)) = edges[node].get(*edge) {
                *edge += 1;
                if index_of[next] == UNSEEN {
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index_of[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index_of[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// A shortest cycle through `start` inside its component, as
/// (node, value it needs, node producing it) steps.
fn find_cycle<'e>(
    start: usize,
    edges: &[Vec<(usize, &'e str)>],
    component: &[usize],
) -> Vec<(usize, &'e str, usize)> {
    let mut came_from: HashMap<usize, (usize, &str)> = HashMap::default();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(next, value) in &edges[node] {
            if component[next] != component[start] {
                continue;
            }
            if next == start {
                // Walk back from `node` to `start`, then close the loop.
                let mut steps = vec![(node, value, start)];
                let mut at = node;
                while at != start {
                    let (previous, value) = came_from[&at];
                    steps.push((previous, value, at));
                    at = previous;
                }
                steps.reverse();
                return steps;
            }
            if let std::collections::hash_map::Entry::Vacant(entry) = came_from.entry(next) {
                entry.insert((node, value));
                queue.push_back(next);
            }
        }
    }
    Vec::new()
}
