//! From a [`GraphView`] to the [`DrawGraph`] that is actually drawn:
//! initializers and single-purpose `Constant` nodes are folded into the nodes
//! that use them, and, when asked or when the graph is big, nodes are grouped
//! into blocks.
//!
//! Blocks come from node-name prefixes (`/encoder/layer.3/attention/MatMul`
//! belongs to `/encoder/layer.3/attention`, `/encoder/layer.3`, `/encoder`):
//! the deepest prefix depth that brings the box count under the target wins.
//! Names without that structure fall back to runs of consecutive nodes, which
//! ONNX keeps in topological order, so blocks still read as a chain.

use super::draw::{BoxKind, DrawBox, DrawEdge, DrawGraph};
use super::family::{Family, family_of};
use super::model::{Endpoint, GraphView};
use super::text::{ellipsize_end, ellipsize_start};
use super::{AUTO_COLLAPSE_NODES, Collapse};
use std::collections::HashMap;
use std::fmt::Write;

/// A collapsed drawing aims at no more boxes than this.
const TARGET_BOXES: usize = 400;
/// Name prefixes deeper than this are not considered for blocks.
const MAX_PREFIX_DEPTH: usize = 8;
/// Characters kept of long names and shapes in a box.
const LABEL_CHARS: usize = 36;

/// Builds the drawing of `view`.
pub fn draw_graph(view: &GraphView, collapse: Collapse) -> DrawGraph {
    let folded = folded_constants(view);
    let drawn: Vec<usize> = (0..view.nodes.len())
        .filter(|&index| !folded[index])
        .collect();
    let grouping = match collapse {
        Collapse::Never => None,
        Collapse::Auto if drawn.len() <= AUTO_COLLAPSE_NODES => None,
        Collapse::Auto => Some(group_nodes(view, &drawn, TARGET_BOXES)),
        Collapse::Always => Some(group_nodes(
            view,
            &drawn,
            (drawn.len() / 4).clamp(1, TARGET_BOXES),
        )),
    };
    build(view, &folded, &drawn, grouping.as_ref())
}

/// `Constant` nodes whose outputs feed only other nodes are shown inside
/// those nodes, like initializers (exporters emit hundreds of them).
fn folded_constants(view: &GraphView) -> Vec<bool> {
    let mut folded: Vec<bool> = view
        .nodes
        .iter()
        .map(|node| {
            node.op == "Constant" && matches!(node.domain, "" | "ai.onnx") && node.inputs.is_empty()
        })
        .collect();
    let mut used = vec![false; view.nodes.len()];
    for edge in &view.edges {
        if let Endpoint::Node(from) = edge.from {
            used[from] = true;
            if matches!(edge.to, Endpoint::Output(_)) {
                folded[from] = false;
            }
        }
    }
    for (index, used) in used.into_iter().enumerate() {
        folded[index] &= used;
    }
    folded
}

/// Node index -> group index, and the groups' labels.
struct Grouping {
    group_of: HashMap<usize, usize>,
    groups: Vec<Group>,
}

struct Group {
    label: String,
    members: Vec<usize>,
}

fn prefix_segments(name: &str) -> Vec<&str> {
    let mut segments: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    segments.pop();
    segments
}

fn group_nodes(view: &GraphView, drawn: &[usize], target: usize) -> Grouping {
    let segments: Vec<Vec<&str>> = drawn
        .iter()
        .map(|&index| prefix_segments(view.nodes[index].name))
        .collect();
    let max_depth = segments
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .min(MAX_PREFIX_DEPTH);
    for depth in (1..=max_depth).rev() {
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut ungrouped = 0;
        for node_segments in &segments {
            if node_segments.len() >= depth {
                *keys.entry(node_segments[..depth].join("/")).or_default() += 1;
            } else {
                ungrouped += 1;
            }
        }
        // A prefix depth that groups nothing is not worth drawing as blocks.
        if ungrouped + keys.len() <= target && keys.len() < drawn.len() {
            return group_by_prefix(drawn, &segments, depth);
        }
    }
    group_by_order(drawn, target)
}

fn group_by_prefix(drawn: &[usize], segments: &[Vec<&str>], depth: usize) -> Grouping {
    let mut grouping = Grouping {
        group_of: HashMap::new(),
        groups: Vec::new(),
    };
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (&index, node_segments) in drawn.iter().zip(segments) {
        if node_segments.len() < depth {
            continue;
        }
        let key = format!("/{}", node_segments[..depth].join("/"));
        let group = *by_key.entry(key.clone()).or_insert_with(|| {
            grouping.groups.push(Group {
                label: key,
                members: Vec::new(),
            });
            grouping.groups.len() - 1
        });
        grouping.groups[group].members.push(index);
        grouping.group_of.insert(index, group);
    }
    grouping
}

fn group_by_order(drawn: &[usize], target: usize) -> Grouping {
    let chunk = drawn.len().div_ceil(target.max(1)).max(1);
    let mut grouping = Grouping {
        group_of: HashMap::new(),
        groups: Vec::new(),
    };
    for members in drawn.chunks(chunk) {
        let label = format!("nodes {}–{}", members[0], members[members.len() - 1]);
        for &index in members {
            grouping.group_of.insert(index, grouping.groups.len());
        }
        grouping.groups.push(Group {
            label,
            members: members.to_vec(),
        });
    }
    grouping
}

/// Up to `count` most frequent ops of `members`, as `MatMul×4 Add×2`.
fn op_histogram(view: &GraphView, members: &[usize], count: usize) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for &index in members {
        *counts.entry(view.nodes[index].op).or_default() += 1;
    }
    let mut sorted: Vec<(&str, usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out = String::new();
    for (op, n) in sorted.iter().take(count) {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{op}×{n}");
    }
    if sorted.len() > count {
        out.push_str(" …");
    }
    out
}

/// `float[64,64]` -> `[64,64]`; a scalar (`float[]`) -> ` scalar`.
fn dims_only(shape: &str) -> &str {
    match shape.find('[').map(|start| &shape[start..]) {
        Some("[]") => " scalar",
        Some(dims) => dims,
        None => "[?]",
    }
}

fn node_box(
    view: &GraphView,
    index: usize,
    folded: &[bool],
    node_inputs: &[Vec<(Endpoint, &str)>],
) -> DrawBox {
    let node = &view.nodes[index];
    let shape_or_unknown = |value: &str| view.shape_of(value).unwrap_or("?").to_owned();
    // An unknown shape is left out of the box (a `?` line says nothing) but
    // stays in the tooltip.
    let mut detail = node
        .outputs
        .first()
        .and_then(|out| view.shape_of(out))
        .unwrap_or_default()
        .to_owned();
    if node.outputs.len() > 1 {
        let _ = write!(detail, " +{}", node.outputs.len() - 1);
    }
    let mut weights = String::new();
    let mut tooltip = format!("{}\n{}", node.op, node.name);
    if !node.domain.is_empty() {
        let _ = write!(tooltip, " (domain {})", node.domain);
    }
    for (from, value) in &node_inputs[index] {
        let is_weight = match *from {
            Endpoint::Initializer(_) => true,
            Endpoint::Node(producer) => folded[producer],
            _ => false,
        };
        if is_weight {
            let shape = match *from {
                Endpoint::Node(producer) => view.nodes[producer].constant_shape.as_deref(),
                _ => None,
            };
            let shape = shape.or_else(|| view.shape_of(value)).unwrap_or("[?]");
            let marker = if matches!(from, Endpoint::Initializer(_)) {
                "w"
            } else {
                "c"
            };
            if !weights.is_empty() {
                weights.push(' ');
            }
            let _ = write!(weights, "{marker}{}", dims_only(shape));
        }
        let _ = write!(tooltip, "\nin  {value}: {}", shape_or_unknown(value));
    }
    for output in &node.outputs {
        let _ = write!(tooltip, "\nout {output}: {}", shape_or_unknown(output));
    }
    for (name, value) in &node.attributes {
        let _ = write!(tooltip, "\n@{name} = {value}");
    }
    DrawBox {
        id: format!("n{index}"),
        kind: BoxKind::Node,
        family: family_of(node.op, node.domain),
        title: ellipsize_end(node.op, LABEL_CHARS),
        // skl2onnx names nodes after their op; saying it twice is noise.
        subtitle: match node.name {
            "" => format!("#{index}"),
            name if name == node.op => String::new(),
            name => ellipsize_start(name, LABEL_CHARS),
        },
        detail: ellipsize_end(&detail, LABEL_CHARS),
        weights: ellipsize_end(&weights, LABEL_CHARS),
        tooltip,
    }
}

fn value_box(view: &GraphView, id: String, kind: BoxKind, name: &str) -> DrawBox {
    let (family, role) = match kind {
        BoxKind::Input => (Family::Input, "input"),
        BoxKind::Output => (Family::Output, "output"),
        _ => (Family::Undefined, "undefined value"),
    };
    let shape = view.shape_of(name).unwrap_or("?");
    DrawBox {
        id,
        kind,
        family,
        title: ellipsize_start(name, LABEL_CHARS),
        subtitle: role.to_owned(),
        detail: ellipsize_end(shape, LABEL_CHARS),
        weights: String::new(),
        tooltip: format!("{role} {name}: {shape}"),
    }
}

fn build(
    view: &GraphView,
    folded: &[bool],
    drawn: &[usize],
    grouping: Option<&Grouping>,
) -> DrawGraph {
    let mut node_inputs: Vec<Vec<(Endpoint, &str)>> = vec![Vec::new(); view.nodes.len()];
    for edge in &view.edges {
        if let Endpoint::Node(to) = edge.to {
            node_inputs[to].push((edge.from, edge.value));
        }
    }

    let mut drawing = DrawGraph::default();
    let mut input_box = Vec::with_capacity(view.inputs.len());
    for name in &view.inputs {
        input_box.push(drawing.boxes.len());
        drawing
            .boxes
            .push(value_box(view, format!("in:{name}"), BoxKind::Input, name));
    }
    let mut node_box_index: Vec<Option<usize>> = vec![None; view.nodes.len()];
    let mut group_box: HashMap<usize, usize> = HashMap::new();
    for &index in drawn {
        let group = grouping.and_then(|g| g.group_of.get(&index).map(|&group| (g, group)));
        match group {
            Some((g, group)) if g.groups[group].members.len() > 1 => {
                let box_index = *group_box.entry(group).or_insert_with(|| {
                    let members = &g.groups[group].members;
                    drawing.collapsed_nodes += members.len();
                    drawing.boxes.push(DrawBox {
                        id: format!("block:{group}"),
                        kind: BoxKind::Block,
                        family: Family::Block,
                        title: ellipsize_start(&g.groups[group].label, LABEL_CHARS),
                        subtitle: format!("{} nodes", members.len()),
                        detail: ellipsize_end(&op_histogram(view, members, 3), LABEL_CHARS),
                        weights: String::new(),
                        tooltip: format!(
                            "{}\n{} nodes: {}",
                            g.groups[group].label,
                            members.len(),
                            op_histogram(view, members, 12)
                        ),
                    });
                    drawing.boxes.len() - 1
                });
                node_box_index[index] = Some(box_index);
            }
            _ => {
                node_box_index[index] = Some(drawing.boxes.len());
                drawing
                    .boxes
                    .push(node_box(view, index, folded, &node_inputs));
            }
        }
    }
    // A box per graph output and per undefined value; their indices by name order.
    let mut value_boxes = |names: &[&str], prefix: &str, kind: BoxKind| -> Vec<usize> {
        names
            .iter()
            .map(|name| {
                let id = format!("{prefix}:{name}");
                drawing.boxes.push(value_box(view, id, kind, name));
                drawing.boxes.len() - 1
            })
            .collect()
    };
    let output_box = value_boxes(&view.outputs, "out", BoxKind::Output);
    let undefined_box = value_boxes(&view.undefined, "undef", BoxKind::Undefined);

    let box_of = |endpoint: Endpoint| match endpoint {
        Endpoint::Node(index) => node_box_index[index],
        Endpoint::Input(index) => Some(input_box[index]),
        Endpoint::Output(index) => Some(output_box[index]),
        Endpoint::Undefined(index) => Some(undefined_box[index]),
        Endpoint::Initializer(_) => None,
    };
    let mut edge_index: HashMap<(usize, usize), usize> = HashMap::new();
    let mut values_per_edge: Vec<usize> = Vec::new();
    for edge in &view.edges {
        let (Some(from), Some(to)) = (box_of(edge.from), box_of(edge.to)) else {
            continue;
        };
        if from == to {
            continue;
        }
        let shape = view.shape_of(edge.value).unwrap_or("?");
        match edge_index.get(&(from, to)) {
            Some(&existing) => {
                values_per_edge[existing] += 1;
                let draw_edge = &mut drawing.edges[existing];
                draw_edge.label = format!("{} values", values_per_edge[existing]);
                // Keep tooltips bounded: a block edge can carry hundreds of values.
                if values_per_edge[existing] <= 16 {
                    let _ = write!(draw_edge.tooltip, "\n{}: {shape}", edge.value);
                } else if values_per_edge[existing] == 17 {
                    draw_edge.tooltip.push_str("\n…");
                }
            }
            None => {
                edge_index.insert((from, to), drawing.edges.len());
                values_per_edge.push(1);
                drawing.edges.push(DrawEdge {
                    from,
                    to,
                    // The shape is what a reader wants on an edge; the value
                    // name is in the tooltip.
                    label: view.shape_of(edge.value).unwrap_or_default().to_owned(),
                    tooltip: format!("{}: {shape}", edge.value),
                });
            }
        }
    }
    drawing
}
