//! A NIR graph as a `neuride_snn` network the simulator runs.
//!
//! Node by node (docs/nir.md): Affine/Linear become dense layers;
//! Conv2d a convolution (a dilated kernel is run as the larger kernel with
//! zeros between its taps, which computes the same sums); Conv1d a
//! convolution over `[C, 1, L]` (every rank-2 NIR shape `[C, L]` is held as
//! `[C, 1, L]`, the same values in the same order); SumPool2d a depthwise
//! convolution with kernels of ones; AvgPool2d an average pool (PyTorch's
//! `count_include_pad`); Flatten a flatten; Scale a diagonal dense layer;
//! the neurons and Threshold a layer of [`Neuron::Nir`] neurons, their
//! equations discretised with the run's `dt`. Several edges into a node sum
//! their sources (an add layer); nested graphs are inlined.
//!
//! A neuron node written by neuride carries its exact layer in its metadata
//! (`neuride`, see [`crate::raise`]); when those parameters still agree
//! with the node's NIR parameters and the run's `dt` is the one it was
//! written with, that layer is used as it is, so a network survives the
//! round trip exactly (subtract reset, starting membranes and all).
//!
//! Neuron parameters may differ from neuron to neuron (a NIR file holds one
//! value per neuron): the layer then steps each neuron with its own.
//!
//! A recurrent edge (a cycle) carries its source's value of the previous
//! step, through a feedback node, as discrete-time simulators run it.
//!
//! Several Inputs are carried in the network's one input, concatenated,
//! each read back by a slice ([`Input`]).
//!
//! What the simulator cannot run is listed, every node at once:
//! delays too long to hold, unknown node types.

mod layers;

use crate::graph::{Document, Graph, Node, Param};
use crate::raise::{self, NeurideMeta};
use crate::shapes::{self, NodeShapes};
use crate::{Problem, codes};
use layers::{conv, floats, floats_f64, held_shape, pool, scale_layer};
use neuride_snn::neuron::{NirModel, NirNeuron};
use neuride_snn::{Layer, Network, Neuron, Node as SnnNode, PoolWindow, Scaling, Tensor};
use std::collections::{HashMap, HashSet};

/// How a NIR graph is turned into a network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LowerOptions {
    /// The simulation step (seconds) the equations are discretised with.
    pub dt: f32,
    /// Use the exact layers neuride wrote into its own files' metadata
    /// (when they still agree with the NIR parameters). Off: the file runs
    /// with NIR's semantics alone, as another tool runs it.
    pub use_metadata: bool,
}

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions {
            dt: crate::DEFAULT_DT as f32,
            use_metadata: true,
        }
    }
}

/// The network, and how it came about.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub network: Network,
    /// The graph's Input nodes in the order their samples are concatenated
    /// into the network's input (by name; one Input is the input itself).
    pub inputs: Vec<Input>,
    /// NIR node names whose exact neuride layer was taken from metadata.
    pub exact_from_metadata: Vec<String>,
    /// What was decided on the way (which output was read, ...).
    pub notes: Vec<String>,
}

/// A NIR Input node: what a run reads for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The node's name (nested graphs' Inputs are inlined, never inputs).
    pub name: String,
    /// Per-sample shape, as NIR states it (a batch dimension of 1 dropped).
    pub shape: Vec<usize>,
    /// Where its values start in a sample of the network's input.
    pub start: usize,
}

/// Why a graph does not lower: every node that cannot be simulated.
#[derive(Debug, thiserror::Error)]
#[error("{}", list(.0))]
pub struct LowerError(pub Vec<Problem>);

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            if p.path.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.path.join("."), p.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A flat node: a NIR node with its name made unique across nested graphs.
struct Flat<'g> {
    name: String,
    node: &'g Node,
}

/// Lowers `document`'s graph.
pub fn lower(document: &Document, opts: &LowerOptions) -> Result<Lowered, LowerError> {
    let mut problems = Vec::new();
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    inline(
        &document.graph,
        "",
        &mut nodes,
        &mut edges,
        &mut problems,
        0,
    );
    if !problems.is_empty() {
        return Err(LowerError(problems));
    }
    let flat_graph = Graph {
        nodes: nodes.iter().map(|f| rename(f.node, &f.name)).collect(),
        edges: edges
            .iter()
            .map(|(a, b): &(String, String)| crate::Edge::new(a.clone(), b.clone()))
            .collect(),
        metadata: Vec::new(),
    };
    let (shapes, shape_problems) = shapes::infer(&flat_graph, &[]);
    problems.extend(shape_problems);
    let mut lowering = Lowering {
        graph: &flat_graph,
        shapes: &shapes,
        opts,
        problems,
        network: Vec::new(),
        id_of: HashMap::new(),
        exact: Vec::new(),
        notes: Vec::new(),
        back_edges: HashSet::new(),
        feedbacks: Vec::new(),
    };
    let order = lowering.order();
    let network = lowering.build(&order);
    let Lowering {
        problems,
        exact,
        notes,
        ..
    } = lowering;
    let (errors, warnings): (Vec<Problem>, Vec<Problem>) = problems
        .into_iter()
        .partition(|p| p.severity == crate::Severity::Error);
    let mut notes = notes;
    notes.extend(warnings.iter().map(|w| list(std::slice::from_ref(w))));
    match network {
        Some((network, inputs)) if errors.is_empty() => {
            network.validate().map_err(|e| {
                LowerError(vec![Problem::error(
                    codes::UNSUPPORTED,
                    Vec::new(),
                    e.to_string(),
                )])
            })?;
            Ok(Lowered {
                network,
                inputs,
                exact_from_metadata: exact,
                notes,
            })
        }
        _ => Err(LowerError(errors)),
    }
}

fn rename(node: &Node, name: &str) -> Node {
    Node {
        name: name.to_owned(),
        type_name: node.type_name.clone(),
        params: node.params.clone(),
        metadata: node.metadata.clone(),
        graph: None,
    }
}

/// Flattens nested graphs: a `NIRGraph` node with one Input and one Output
/// is replaced by its nodes (named `outer.inner`); edges into it go to what
/// its Input feeds, edges out of it leave from what feeds its Output.
fn inline<'g>(
    graph: &'g Graph,
    prefix: &str,
    nodes: &mut Vec<Flat<'g>>,
    edges: &mut Vec<(String, String)>,
    problems: &mut Vec<Problem>,
    depth: usize,
) {
    // Names of each subgraph's entry (what its Input feeds) and exit (what
    // feeds its Output), to rewire the outer edges.
    let mut entries: HashMap<&str, Vec<String>> = HashMap::new();
    let mut exits: HashMap<&str, Vec<String>> = HashMap::new();
    for node in &graph.nodes {
        let name = format!("{prefix}{}", node.name);
        match &node.graph {
            Some(inner) => {
                let inputs: Vec<&Node> = inner
                    .nodes
                    .iter()
                    .filter(|n| n.type_name == "Input")
                    .collect();
                let outputs: Vec<&Node> = inner
                    .nodes
                    .iter()
                    .filter(|n| n.type_name == "Output")
                    .collect();
                if inputs.len() != 1 || outputs.len() != 1 || depth > crate::read::MAX_DEPTH {
                    problems.push(Problem::error(
                        codes::UNSUPPORTED,
                        path_of(&name),
                        format!(
                            "subgraph '{}' has {} Input and {} Output nodes: neuride inlines subgraphs with one of each",
                            node.name,
                            inputs.len(),
                            outputs.len()
                        ),
                    ));
                    continue;
                }
                let inner_prefix = format!("{name}.");
                let before = nodes.len();
                inline(inner, &inner_prefix, nodes, edges, problems, depth + 1);
                // The subgraph's Input/Output nodes vanish; remember their neighbours.
                let input_name = format!("{inner_prefix}{}", inputs[0].name);
                let output_name = format!("{inner_prefix}{}", outputs[0].name);
                let entry: Vec<String> = edges
                    .iter()
                    .filter(|(a, _)| *a == input_name)
                    .map(|(_, b)| b.clone())
                    .collect();
                let exit: Vec<String> = edges
                    .iter()
                    .filter(|(_, b)| *b == output_name)
                    .map(|(a, _)| a.clone())
                    .collect();
                edges.retain(|(a, b)| *a != input_name && *b != output_name);
                let mut kept = Vec::new();
                for flat in nodes.drain(before..) {
                    if flat.name != input_name && flat.name != output_name {
                        kept.push(flat);
                    }
                }
                nodes.extend(kept);
                entries.insert(node.name.as_str(), entry);
                exits.insert(node.name.as_str(), exit);
            }
            None => nodes.push(Flat { name, node }),
        }
    }
    for edge in &graph.edges {
        let sources = match exits.get(edge.from.as_str()) {
            Some(exit) => exit.clone(),
            None => vec![format!("{prefix}{}", edge.from)],
        };
        let targets = match entries.get(edge.to.as_str()) {
            Some(entry) => entry.clone(),
            None => vec![format!("{prefix}{}", edge.to)],
        };
        for source in &sources {
            for target in &targets {
                edges.push((source.clone(), target.clone()));
            }
        }
    }
}

fn path_of(name: &str) -> Vec<String> {
    name.split('.').map(str::to_owned).collect()
}

struct Lowering<'a> {
    graph: &'a Graph,
    shapes: &'a [NodeShapes],
    opts: &'a LowerOptions,
    problems: Vec<Problem>,
    network: Vec<SnnNode>,
    /// Network node id of each NIR node index (its value).
    id_of: HashMap<usize, usize>,
    exact: Vec<String>,
    notes: Vec<String>,
    /// Recurrent edges (from, to) by node index: carried a step late.
    back_edges: HashSet<(usize, usize)>,
    /// Feedback nodes made for them, and the NIR node each carries back.
    feedbacks: Vec<(usize, usize)>,
}

impl Lowering<'_> {
    fn unsupported(&mut self, index: usize, message: impl Into<String>) {
        let name = &self.graph.nodes[index].name;
        self.problems.push(Problem::error(
            codes::UNSUPPORTED,
            path_of(name),
            message.into(),
        ));
    }

    /// The nodes feeding `index` in the same step (recurrent edges left out).
    fn predecessors(&self, index: usize) -> Vec<usize> {
        self.all_predecessors(index)
            .into_iter()
            .filter(|&p| !self.back_edges.contains(&(p, index)))
            .collect()
    }

    fn all_predecessors(&self, index: usize) -> Vec<usize> {
        let name = &self.graph.nodes[index].name;
        self.graph
            .edges
            .iter()
            .filter(|e| &e.to == name)
            .filter_map(|e| self.graph.nodes.iter().position(|n| n.name == e.from))
            .collect()
    }

    /// Every edge as (from, to) node indices.
    fn edge_indices(&self) -> Vec<(usize, usize)> {
        let index: HashMap<&str, usize> = self
            .graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.name.as_str(), i))
            .collect();
        self.graph
            .edges
            .iter()
            .filter_map(|edge| {
                Some((
                    *index.get(edge.from.as_str())?,
                    *index.get(edge.to.as_str())?,
                ))
            })
            .collect()
    }

    /// The recurrent edges: those a depth-first walk from the Inputs (then
    /// from any node not reached) meets going back to a node it is still
    /// inside. Left out, the graph is acyclic.
    fn find_back_edges(&mut self) {
        let n = self.graph.nodes.len();
        let mut successors = vec![Vec::new(); n];
        let mut has_predecessor = vec![false; n];
        for (a, b) in self.edge_indices() {
            successors[a].push(b);
            has_predecessor[b] = true;
        }
        // 0: not seen, 1: on the walk's path, 2: done.
        let mut state = vec![0u8; n];
        let roots = (0..n)
            .filter(|&i| !has_predecessor[i])
            .chain(0..n)
            .collect::<Vec<_>>();
        for root in roots {
            if state[root] != 0 {
                continue;
            }
            state[root] = 1;
            let mut path = vec![(root, 0usize)];
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                if let Some(&to) = successors[node].get(*next) {
                    *next += 1;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            path.push((to, 0));
                        }
                        1 => {
                            self.back_edges.insert((node, to));
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    path.pop();
                }
            }
        }
    }

    /// Kahn's order from the Input over the edges that are not recurrent.
    fn order(&mut self) -> Vec<usize> {
        self.find_back_edges();
        let n = self.graph.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut successors = vec![Vec::new(); n];
        for (a, b) in self.edge_indices() {
            if !self.back_edges.contains(&(a, b)) {
                indegree[b] += 1;
                successors[a].push(b);
            }
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        ready.reverse();
        let mut order = Vec::with_capacity(n);
        while let Some(node) = ready.pop() {
            order.push(node);
            for &next in successors[node].iter().rev() {
                indegree[next] -= 1;
                if indegree[next] == 0 {
                    ready.push(next);
                }
            }
        }
        let cyclic: Vec<usize> = (0..n).filter(|&i| indegree[i] > 0).collect();
        if let Some(&first) = cyclic.first() {
            let names: Vec<&str> = cyclic
                .iter()
                .map(|&i| self.graph.nodes[i].name.as_str())
                .collect();
            self.unsupported(
                first,
                format!(
                    "{} are on a cycle the recurrent edges do not break",
                    names.join(", ")
                ),
            );
        }
        order
    }

    fn build(&mut self, order: &[usize]) -> Option<(Network, Vec<Input>)> {
        let inputs: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| self.graph.nodes[i].type_name == "Input")
            .collect();
        let outputs: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| self.graph.nodes[i].type_name == "Output")
            .collect();
        if inputs.is_empty() {
            self.problems.push(Problem::error(
                codes::UNSUPPORTED,
                Vec::new(),
                "the graph has no Input node",
            ));
            return None;
        }
        let inputs = self.inputs(inputs)?;
        for &index in order {
            let node_type = self.graph.nodes[index].type_name.as_str();
            if node_type == "Input" || node_type == "Output" {
                continue;
            }
            self.node(index);
        }
        let output = match outputs.as_slice() {
            [] => {
                self.problems.push(Problem::error(
                    codes::UNSUPPORTED,
                    Vec::new(),
                    "the graph has no Output node",
                ));
                return None;
            }
            [only] => *only,
            [first, rest @ ..] => {
                self.notes.push(format!(
                    "the graph has {} Output nodes: '{}' is read, not {}",
                    rest.len() + 1,
                    self.graph.nodes[*first].name,
                    rest.iter()
                        .map(|&i| format!("'{}'", self.graph.nodes[i].name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                *first
            }
        };
        let source = self.source(output)?;
        for (feedback, carried) in std::mem::take(&mut self.feedbacks) {
            let Some(&from) = self.id_of.get(&carried) else {
                return None; // the node itself could not be lowered (said)
            };
            if let Layer::Feedback { from: slot, .. } = &mut self.network[feedback].layer {
                *slot = from;
            }
        }
        if !self.back_edges.is_empty() {
            let mut edges: Vec<String> = self
                .back_edges
                .iter()
                .map(|&(a, b)| {
                    format!(
                        "{} -> {}",
                        self.graph.nodes[a].name, self.graph.nodes[b].name
                    )
                })
                .collect();
            edges.sort();
            self.notes.push(format!(
                "recurrent edges carry the previous step's value, as discrete-time simulators do: {}",
                edges.join(", ")
            ));
        }
        Some((
            Network {
                nodes: std::mem::take(&mut self.network),
                output: source,
            },
            inputs,
        ))
    }

    /// The network's input from the graph's Input nodes: one Input is the
    /// network's input; several are carried in one, their samples
    /// flattened and concatenated in the order of their names, each read
    /// back by a slice node of its name and shape.
    fn inputs(&mut self, mut nodes: Vec<usize>) -> Option<Vec<Input>> {
        nodes.sort_by(|&a, &b| self.graph.nodes[a].name.cmp(&self.graph.nodes[b].name));
        let mut inputs = Vec::with_capacity(nodes.len());
        let mut start = 0;
        for &index in &nodes {
            let Some(shape) = self.shapes[index].output.clone() else {
                self.unsupported(index, "the shape of this Input is not known");
                continue;
            };
            let size: usize = shape.iter().product();
            inputs.push(Input {
                name: self.graph.nodes[index].name.clone(),
                shape,
                start,
            });
            start += size;
        }
        if inputs.len() != nodes.len() {
            return None;
        }
        if let [only] = inputs.as_slice() {
            self.push(
                only.name.clone(),
                Layer::Input {
                    shape: held_shape(&only.shape),
                },
                Vec::new(),
            );
            self.id_of.insert(nodes[0], 0);
            return Some(inputs);
        }
        let taken: HashSet<&str> = self.graph.nodes.iter().map(|n| n.name.as_str()).collect();
        let name = (0..)
            .map(|n| match n {
                0 => "inputs".to_owned(),
                n => format!("inputs_{n}"),
            })
            .find(|name| !taken.contains(name.as_str()))
            .expect("some name is free");
        self.push(name, Layer::Input { shape: vec![start] }, Vec::new());
        for (&index, input) in nodes.iter().zip(&inputs) {
            let slice = Layer::Slice {
                start: input.start,
                shape: held_shape(&input.shape),
            };
            let id = self.push(input.name.clone(), slice, vec![0]);
            self.id_of.insert(index, id);
        }
        Some(inputs)
    }

    /// The network node carrying the sum of `index`'s inputs (an add layer
    /// when several edges come in).
    fn source(&mut self, index: usize) -> Option<usize> {
        let mut ids = Vec::new();
        for p in self.predecessors(index) {
            match self.id_of.get(&p) {
                Some(&id) => ids.push(id),
                None => return None,
            }
        }
        // A recurrent edge: the source's value of the previous step, read
        // through a feedback node (its source is set once it exists).
        for p in self.all_predecessors(index) {
            if !self.back_edges.contains(&(p, index)) {
                continue;
            }
            let Some(shape) = self.shapes[p].output.clone() else {
                self.unsupported(p, "its output shape is not known");
                return None;
            };
            let name = format!("{}.previous", self.graph.nodes[p].name);
            let layer = Layer::Feedback {
                from: usize::MAX,
                shape: held_shape(&shape),
                initial: at_rest(&self.graph.nodes[p], &shape),
            };
            let id = self.push(name, layer, Vec::new());
            self.feedbacks.push((id, p));
            ids.push(id);
        }
        match ids.len() {
            0 => {
                self.unsupported(index, "nothing feeds this node");
                None
            }
            1 => Some(ids[0]),
            _ => {
                let name = format!("{}.sum", self.graph.nodes[index].name);
                Some(self.push(name, Layer::Add, ids))
            }
        }
    }

    fn push(&mut self, name: String, layer: Layer, inputs: Vec<usize>) -> usize {
        self.network.push(SnnNode {
            name,
            layer,
            inputs,
        });
        self.network.len() - 1
    }

    fn node(&mut self, index: usize) {
        let Some(source) = self.source(index) else {
            return;
        };
        let node = &self.graph.nodes[index];
        let shapes = &self.shapes[index];
        let layer = match self.layer(index, node, shapes) {
            Ok(Some(layer)) => layer,
            // The node moves no data (a flatten to the shape it has, a zero delay).
            Ok(None) => {
                self.id_of.insert(index, source);
                return;
            }
            Err(message) => {
                self.unsupported(index, message);
                return;
            }
        };
        let id = self.push(node.name.clone(), layer, vec![source]);
        self.id_of.insert(index, id);
    }

    fn layer(
        &mut self,
        index: usize,
        node: &Node,
        shapes: &NodeShapes,
    ) -> Result<Option<Layer>, String> {
        let input = shapes
            .input
            .clone()
            .ok_or_else(|| format!("the input shape of '{}' is not known", node.name))?;
        match node.type_name.as_str() {
            "Affine" | "Linear" => {
                let weight = floats(node, "weight")?;
                if weight.shape.len() != 2 {
                    return Err(format!(
                        "weight {:?}: neuride runs 2-D weights ([out, in])",
                        weight.shape
                    ));
                }
                let bias = match node.type_name.as_str() {
                    "Affine" => Some(floats(node, "bias")?.data),
                    _ => None,
                };
                Ok(Some(Layer::Dense { weight, bias }))
            }
            "Scale" => {
                // A neuron's spike amplitude, already inside its exact layer.
                let amplitude = node.meta(raise::META_KEY).and_then(Param::as_text)
                    == Some(raise::AMPLITUDE_ROLE);
                let after_exact = self
                    .predecessors(index)
                    .iter()
                    .any(|&p| self.exact.contains(&self.graph.nodes[p].name));
                if amplitude && after_exact {
                    return Ok(None);
                }
                let scale = floats(node, "scale")?;
                scale_layer(&input, &scale.data).map(Some)
            }
            "Conv2d" | "Conv1d" => conv(node).map(Some),
            "SumPool2d" => {
                let PoolWindow {
                    kernel,
                    stride,
                    padding,
                } = pool(node)?;
                let channels = *input.first().ok_or("an empty input shape")?;
                let taps = kernel[0] * kernel[1];
                Ok(Some(Layer::Conv2d {
                    weight: Tensor {
                        shape: vec![channels, 1, kernel[0], kernel[1]],
                        data: vec![1.0; channels * taps],
                    },
                    bias: None,
                    stride,
                    padding,
                    groups: channels,
                }))
            }
            "AvgPool2d" => Ok(Some(Layer::AvgPool {
                window: pool(node)?,
                count_include_pad: true,
            })),
            "Flatten" => {
                let output = shapes
                    .output
                    .clone()
                    .ok_or("its output shape is not known")?;
                if held_shape(&output) == held_shape(&input) {
                    Ok(None)
                } else if output.len() == 1 {
                    Ok(Some(Layer::Flatten))
                } else {
                    Err(format!(
                        "Flatten {input:?} -> {output:?}: neuride flattens to a vector only"
                    ))
                }
            }
            "Delay" => {
                // Seconds to whole steps of the run's `dt` (rounded; a delay
                // between two steps is a note), one per value.
                let delay = floats_f64(node, "delay")?;
                // The step as written (0.1 ms, not f32's 1.0000000475e-4).
                let dt: f64 = self
                    .opts
                    .dt
                    .to_string()
                    .parse()
                    .unwrap_or(self.opts.dt as f64);
                let size: usize = input.iter().product();
                if delay.len() != 1 && delay.len() != size {
                    return Err(format!(
                        "{} delays for {size} values (one per value, or one for all)",
                        delay.len()
                    ));
                }
                let mut steps = Vec::with_capacity(size);
                for i in 0..size {
                    let seconds = delay[if delay.len() == 1 { 0 } else { i }];
                    let exact = seconds / dt;
                    if !(exact.is_finite() && exact >= 0.0) {
                        return Err(format!("a delay of {seconds} s"));
                    }
                    if exact > neuride_snn::network::MAX_DELAY as f64 {
                        return Err(format!(
                            "a delay of {seconds} s is {exact:.0} steps of {dt} s (at most {})",
                            neuride_snn::network::MAX_DELAY
                        ));
                    }
                    steps.push(exact.round() as u32);
                }
                if delay
                    .iter()
                    .any(|&d| ((d / dt) - (d / dt).round()).abs() > 1e-6)
                {
                    self.notes.push(format!(
                        "{}: delays between two steps of {dt} s are rounded to whole steps",
                        node.name
                    ));
                }
                if steps.iter().all(|&s| s == 0) {
                    Ok(None)
                } else {
                    Ok(Some(Layer::Delay { steps }))
                }
            }
            name if crate::schema::is_neuron(name) || name == "Threshold" => {
                self.neuron(index, node).map(Some)
            }
            other => Err(match crate::schema::find(other) {
                Some(_) => format!("{other} nodes are not simulated here"),
                None => format!("unknown node type '{other}'"),
            }),
        }
    }

    fn neuron(&mut self, index: usize, node: &Node) -> Result<Layer, String> {
        let model = match node.type_name.as_str() {
            "I" => NirModel::I,
            "LI" => NirModel::Li,
            "IF" => NirModel::If,
            "LIF" => NirModel::Lif,
            "CubaLI" => NirModel::CubaLi,
            "CubaLIF" => NirModel::CubaLif,
            _ => NirModel::Threshold,
        };
        // The parameters the model uses, each one value or one per neuron.
        let mut names: Vec<&str> = Vec::new();
        match model {
            NirModel::Threshold => names.push("threshold"),
            _ => {
                names.push("r");
                if model.has_leak() {
                    names.push(if model.has_synapse() {
                        "tau_mem"
                    } else {
                        "tau"
                    });
                    names.push("v_leak");
                }
                if model.has_synapse() {
                    names.push("tau_syn");
                    if node.param("w_in").is_some() {
                        names.push("w_in");
                    }
                }
                if model.is_spiking() {
                    names.push("v_threshold");
                    if node.param("v_reset").is_some() {
                        names.push("v_reset");
                    }
                }
            }
        }
        let params = names
            .iter()
            .map(|&name| {
                let values = floats_f64(node, name)?;
                if values.is_empty() {
                    return Err(format!("`{name}` is empty"));
                }
                Ok((name, values))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let count = params.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
        if let Some((name, values)) = params
            .iter()
            .find(|(_, v)| v.len() != 1 && v.len() != count)
        {
            return Err(format!(
                "`{name}` has {} values where the node's other parameters have {count} (one per neuron)",
                values.len()
            ));
        }
        let neuron_at = |i: usize| {
            let mut nir = NirNeuron::new(model);
            for (name, values) in &params {
                let value = values[if values.len() == 1 { 0 } else { i }];
                match *name {
                    "threshold" | "v_threshold" => nir.v_threshold = value as f32,
                    "v_reset" => nir.v_reset = value as f32,
                    "r" => nir.r = value,
                    "tau" | "tau_mem" => nir.tau_mem = value,
                    "v_leak" => nir.v_leak = value,
                    "tau_syn" => nir.tau_syn = value,
                    _ => nir.w_in = value,
                }
            }
            nir
        };
        let uniform = params.iter().all(|(_, v)| v.iter().all(|&x| x == v[0]));
        let per_neuron = (!uniform).then(|| (0..count).map(neuron_at).collect::<Vec<_>>());
        let plain = Layer::Spiking {
            neuron: Neuron::Nir(neuron_at(0)),
            scaling: Scaling::default(),
            per_neuron,
        };
        if !self.opts.use_metadata {
            return Ok(plain);
        }
        match exact_layer(node, self.opts.dt) {
            Some(Ok(layer)) => {
                self.exact.push(node.name.clone());
                Ok(layer)
            }
            Some(Err(reason)) => {
                self.problems.push(Problem::warning(
                    codes::UNSUPPORTED,
                    path_of(&self.graph.nodes[index].name),
                    format!("neuride's metadata is not used: {reason}; NIR's equations are"),
                ));
                Ok(plain)
            }
            None => Ok(plain),
        }
    }
}

/// What a node on a recurrent edge gives before the first step, when the
/// neurons before it are at rest (no spikes): an Affine's or a Conv2d's
/// bias (snnTorch's RLeaky applies its recurrent Linear to the zero spikes
/// of step 0); empty (zeros) for the others.
fn at_rest(node: &Node, shape: &[usize]) -> Vec<f32> {
    let Ok(bias) = floats(node, "bias") else {
        return Vec::new();
    };
    if !matches!(node.type_name.as_str(), "Affine" | "Conv2d") {
        return Vec::new();
    }
    let count: usize = shape.iter().product();
    let per_channel = count / bias.data.len().max(1);
    bias.data
        .iter()
        .flat_map(|&b| std::iter::repeat_n(b, per_channel))
        .collect()
}

/// The exact layer neuride stored in `node`'s metadata, if there is one:
/// `Err` when it no longer agrees with the node or the run's `dt`.
fn exact_layer(node: &Node, dt: f32) -> Option<Result<Layer, String>> {
    let text = node.meta(raise::META_KEY)?.as_text()?;
    Some((|| {
        let meta: NeurideMeta =
            serde_json::from_str(text).map_err(|e| format!("it does not parse ({e})"))?;
        if meta.dt as f32 != dt {
            return Err(format!(
                "it was written for dt = {} s and this run steps {dt} s",
                meta.dt
            ));
        }
        let expected = raise::neuron_node(&node.name, &meta.layer(), meta.dt)
            .map_err(|e| format!("it describes no neuron ({e})"))?;
        if expected.type_name != node.type_name
            || expected.params.iter().any(|(name, value)| {
                node.param(name)
                    .is_none_or(|have| !same_values(have, value))
            })
        {
            return Err("the node's NIR parameters were changed since neuride wrote it".into());
        }
        Ok(meta.layer())
    })())
}

/// Whether every value of the file's `have` is the scalar `want`.
fn same_values(have: &Param, want: &Param) -> bool {
    match (have, want) {
        (Param::Array(have), Param::Array(want)) if want.values.len() == 1 => {
            let y = want.values[0];
            have.values
                .iter()
                .all(|&x| x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()))
        }
        _ => have == want,
    }
}
