//! NIR's type inference (`NIRGraph.infer_types` / `check_types`): every
//! node's per-sample input and output shape, from the shapes its parameters
//! fix (a weight, a neuron's parameters, an Input's `shape`) and, for the
//! nodes whose shape follows their input (convolutions without
//! `input_shape`, pooling, Flatten), from the node feeding them. Where an
//! edge joins two known shapes that differ it is a problem, as in `nir.read`.

use crate::graph::{Graph, Node, Param};
use crate::{Problem, codes};
use std::collections::{HashMap, HashSet, VecDeque};

/// The shapes of one node (`None`: not known).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeShapes {
    pub input: Option<Vec<usize>>,
    pub output: Option<Vec<usize>>,
}

/// Shapes of every node of `graph` (in node order) and the problems found:
/// edges naming missing nodes, duplicate edges, shapes that do not meet.
/// `path` is the graph's own path (empty for the root).
pub fn infer(graph: &Graph, path: &[String]) -> (Vec<NodeShapes>, Vec<Problem>) {
    let mut problems = Vec::new();
    let index: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let at = |name: &str| {
        let mut p = path.to_vec();
        p.push(name.to_owned());
        p
    };
    let mut seen = HashSet::new();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        let (Some(&from), Some(&to)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
        else {
            let missing = if index.contains_key(edge.from.as_str()) {
                &edge.to
            } else {
                &edge.from
            };
            problems.push(Problem::error(
                codes::EDGE,
                path.to_vec(),
                format!(
                    "edge ({}, {}) names '{missing}', which is not a node of the graph",
                    edge.from, edge.to
                ),
            ));
            continue;
        };
        if !seen.insert((from, to)) {
            problems.push(Problem::error(
                codes::EDGE,
                path.to_vec(),
                format!("duplicate edge ({}, {})", edge.from, edge.to),
            ));
            continue;
        }
        successors[from].push(to);
        predecessors[to].push(from);
    }
    let mut shapes: Vec<NodeShapes> = graph.nodes.iter().map(intrinsic).collect();
    drop_batch_dimension(graph, &mut shapes, &successors, &predecessors);
    // Breadth-first from the nodes nothing feeds (Inputs first), as NIR does;
    // a recurrent loop is walked once.
    let mut queue: VecDeque<usize> = (0..graph.nodes.len())
        .filter(|&i| predecessors[i].is_empty())
        .collect();
    let mut visited = vec![false; graph.nodes.len()];
    while let Some(node) = queue.pop_front() {
        if visited[node] {
            continue;
        }
        visited[node] = true;
        if let Some(output) = shapes[node].output.clone() {
            for &next in &successors[node] {
                match &shapes[next].input {
                    Some(input) if *input != output => problems.push(Problem::error(
                        codes::SHAPE,
                        at(&graph.nodes[next].name),
                        format!(
                            "'{}' gives {output:?}, '{}' takes {input:?}",
                            graph.nodes[node].name, graph.nodes[next].name
                        ),
                    )),
                    Some(_) => {}
                    None => {
                        shapes[next].input = Some(output.clone());
                        if shapes[next].output.is_none() {
                            match derived_output(&graph.nodes[next], &output) {
                                Ok(out) => shapes[next].output = out,
                                Err(message) => problems.push(Problem::error(
                                    codes::SHAPE,
                                    at(&graph.nodes[next].name),
                                    message,
                                )),
                            }
                        }
                    }
                }
            }
        }
        queue.extend(successors[node].iter().copied().filter(|&n| !visited[n]));
    }
    (shapes, problems)
}

/// Exporters that keep the batch dimension (Norse through nirtorch without
/// `ignore_dims`) write Input and Output shapes `[1, ...]` around nodes that
/// take `[...]`: such an Input or Output is read per sample.
fn drop_batch_dimension(
    graph: &Graph,
    shapes: &mut [NodeShapes],
    successors: &[Vec<usize>],
    predecessors: &[Vec<usize>],
) {
    for index in 0..graph.nodes.len() {
        let is_input = match graph.nodes[index].type_name.as_str() {
            "Input" => true,
            "Output" => false,
            _ => continue,
        };
        let Some([1, inner @ ..]) = shapes[index].output.as_deref() else {
            continue;
        };
        if inner.is_empty() {
            continue;
        }
        let inner = inner.to_vec();
        let neighbours = if is_input {
            &successors[index]
        } else {
            &predecessors[index]
        };
        let fits = |&n: &usize| {
            let side = if is_input {
                &shapes[n].input
            } else {
                &shapes[n].output
            };
            side.as_ref() == Some(&inner)
        };
        if !neighbours.is_empty() && neighbours.iter().all(fits) {
            shapes[index] = NodeShapes {
                input: Some(inner.clone()),
                output: Some(inner),
            };
        }
    }
}

/// Shapes a node's own parameters fix.
fn intrinsic(node: &Node) -> NodeShapes {
    let param_shape = |name: &str| match node.param(name) {
        Some(Param::Array(a)) => Some(a.shape.clone()),
        _ => None,
    };
    let ints = |name: &str| -> Option<Vec<usize>> {
        match node.param(name) {
            Some(Param::Array(a)) if a.values.iter().all(|v| *v >= 0.0 && v.fract() == 0.0) => {
                Some(a.values.iter().map(|&v| v as usize).collect())
            }
            _ => None,
        }
    };
    let same = |shape: Option<Vec<usize>>| NodeShapes {
        input: shape.clone(),
        output: shape,
    };
    match node.type_name.as_str() {
        "Input" | "Output" => same(ints("shape")),
        "Affine" | "Linear" => match param_shape("weight") {
            Some(w) if w.len() >= 2 => {
                let batch = &w[..w.len() - 2];
                NodeShapes {
                    input: Some([batch, &w[w.len() - 1..]].concat()),
                    output: Some([batch, &w[w.len() - 2..w.len() - 1]].concat()),
                }
            }
            _ => NodeShapes::default(),
        },
        "Scale" => same(param_shape("scale")),
        "Delay" => same(param_shape("delay")),
        "Threshold" => same(param_shape("threshold")),
        "I" | "LI" | "IF" | "LIF" => same(param_shape("r")),
        "CubaLI" | "CubaLIF" => same(param_shape("tau_mem")),
        "Conv1d" | "Conv2d" => {
            let spatial = ints("input_shape");
            let weight = param_shape("weight");
            match (spatial, weight) {
                (Some(spatial), Some(w)) if w.len() == spatial.len() + 2 => {
                    let groups = ints("groups").and_then(|g| g.first().copied()).unwrap_or(1);
                    let input: Vec<usize> = [&[w[1] * groups][..], &spatial].concat();
                    let output = conv_output(node, &input).ok();
                    NodeShapes {
                        input: Some(input),
                        output,
                    }
                }
                _ => NodeShapes::default(),
            }
        }
        "Flatten" => match ints("input_type") {
            Some(input) => NodeShapes {
                output: flatten_output(node, &input).ok(),
                input: Some(input),
            },
            None => NodeShapes::default(),
        },
        "NIRGraph" => match &node.graph {
            Some(graph) => {
                let port = |kind: &str| -> Option<Vec<usize>> {
                    let mut ports = graph.nodes.iter().filter(|n| n.type_name == kind);
                    let first = ports.next()?;
                    if ports.next().is_some() {
                        return None;
                    }
                    intrinsic(first).input
                };
                NodeShapes {
                    input: port("Input"),
                    output: port("Output"),
                }
            }
            None => NodeShapes::default(),
        },
        _ => NodeShapes::default(),
    }
}

/// The output of a node whose shape follows its input.
fn derived_output(node: &Node, input: &[usize]) -> Result<Option<Vec<usize>>, String> {
    match node.type_name.as_str() {
        "Conv1d" | "Conv2d" | "SumPool2d" | "AvgPool2d" => conv_output(node, input).map(Some),
        "Flatten" => flatten_output(node, input).map(Some),
        "Output" => Ok(Some(input.to_vec())),
        _ => Ok(None),
    }
}

/// A parameter that is one integer per spatial axis, or one for all.
pub fn per_axis(
    node: &Node,
    name: &str,
    axes: usize,
    default: usize,
) -> Result<Vec<usize>, String> {
    match node.param(name) {
        None => Ok(vec![default; axes]),
        Some(Param::Array(a)) => {
            let values: Option<Vec<usize>> = a
                .values
                .iter()
                .map(|&v| (v >= 0.0 && v.fract() == 0.0 && v < 1e9).then_some(v as usize))
                .collect();
            match values {
                Some(v) if v.len() == 1 => Ok(vec![v[0]; axes]),
                Some(v) if v.len() == axes => Ok(v),
                _ => Err(format!(
                    "`{name}` of '{}' must be {axes} whole number(s) >= 0, found {:?}",
                    node.name, a.values
                )),
            }
        }
        Some(other) => Err(format!(
            "`{name}` of '{}' is {}, whole numbers were expected",
            node.name,
            other.type_text()
        )),
    }
}

/// How a convolution or pool pads each spatial axis (before, after).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    Explicit(Vec<usize>),
    Same,
    Valid,
}

pub fn padding(node: &Node, axes: usize) -> Result<Padding, String> {
    match node.param("padding") {
        Some(Param::Text { value }) if value == "same" => Ok(Padding::Same),
        Some(Param::Text { value }) if value == "valid" => Ok(Padding::Valid),
        Some(Param::Text { value }) => Err(format!(
            "padding '{value}' of '{}': 'same', 'valid' or numbers expected",
            node.name
        )),
        _ => per_axis(node, "padding", axes, 0).map(Padding::Explicit),
    }
}

/// `nir.ir.utils.calculate_conv_output` over `[C, spatial...]`.
fn conv_output(node: &Node, input: &[usize]) -> Result<Vec<usize>, String> {
    let is_pool = node.type_name.ends_with("Pool2d");
    let axes = if node.type_name == "Conv1d" { 1 } else { 2 };
    if input.len() != axes + 1 {
        return Err(format!(
            "{} '{}' takes [C, {}] inputs, found {input:?}",
            node.type_name,
            node.name,
            if axes == 1 { "L" } else { "H, W" }
        ));
    }
    let (channels, kernel) = if is_pool {
        (input[0], per_axis(node, "kernel_size", axes, 1)?)
    } else {
        match node.param("weight") {
            Some(Param::Array(w)) if w.shape.len() == axes + 2 => {
                (w.shape[0], w.shape[2..].to_vec())
            }
            _ => {
                return Err(format!(
                    "{} '{}' has no usable weight",
                    node.type_name, node.name
                ));
            }
        }
    };
    let stride = per_axis(node, "stride", axes, 1)?;
    let dilation = if is_pool {
        vec![1; axes]
    } else {
        per_axis(node, "dilation", axes, 1)?
    };
    let padding = padding(node, axes)?;
    let mut out = vec![channels];
    for axis in 0..axes {
        let size = input[axis + 1];
        let n = match &padding {
            Padding::Same => size,
            Padding::Valid | Padding::Explicit(_) => {
                let pad = match &padding {
                    Padding::Explicit(p) => p[axis],
                    _ => 0,
                };
                let reach = dilation[axis] * kernel[axis].saturating_sub(1) + 1;
                let padded = size + 2 * pad;
                if stride[axis] == 0 || padded < reach {
                    return Err(format!(
                        "{} '{}': kernel {kernel:?} (dilation {dilation:?}, stride {stride:?}) does not fit input {input:?}",
                        node.type_name, node.name
                    ));
                }
                (padded - reach) / stride[axis] + 1
            }
        };
        out.push(n);
    }
    Ok(out)
}

/// `nir.ir.utils.calc_flatten_output`.
fn flatten_output(node: &Node, input: &[usize]) -> Result<Vec<usize>, String> {
    let int = |name: &str, default: i64| -> i64 {
        match node.param(name) {
            Some(Param::Array(a)) if a.values.len() == 1 => a.values[0] as i64,
            _ => default,
        }
    };
    let rank = input.len() as i64;
    let resolve = |d: i64| if d < 0 { d + rank } else { d };
    let (start, end) = (resolve(int("start_dim", 1)), resolve(int("end_dim", -1)));
    if start < 0 || end >= rank || start > end {
        return Err(format!(
            "Flatten '{}': dims {}..{} do not fit an input of rank {rank}",
            node.name,
            int("start_dim", 1),
            int("end_dim", -1)
        ));
    }
    let (start, end) = (start as usize, end as usize);
    let mut out = input[..start].to_vec();
    out.push(input[start..=end].iter().product());
    out.extend_from_slice(&input[end + 1..]);
    Ok(out)
}
