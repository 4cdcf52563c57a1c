//! The DOT view (Graphviz): the same boxes and edges as the SVG, coloured by
//! op family, for users who lay graphs out with `dot` themselves.

use super::Direction;
use super::draw::{BoxKind, DrawGraph};
use super::text::dot_escape;
use std::fmt::Write;

/// Renders `drawing` as a `digraph`.
pub fn render(drawing: &DrawGraph, direction: Direction, graph_name: &str) -> String {
    let mut out = String::with_capacity(128 * (drawing.boxes.len() + drawing.edges.len()) + 256);
    let name = if graph_name.is_empty() {
        "model"
    } else {
        graph_name
    };
    let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(name));
    let rankdir = match direction {
        Direction::LeftRight => "LR",
        Direction::TopDown => "TB",
    };
    let _ = writeln!(out, "  rankdir={rankdir};");
    out.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=10];\n",
    );
    out.push_str("  edge [color=\"#64748b\", fontname=\"monospace\", fontsize=8];\n");
    for draw_box in &drawing.boxes {
        let label: Vec<&str> = draw_box.lines().map(|(_, text)| text).collect();
        let (fill, stroke) = draw_box.family.colors();
        let shape = match draw_box.kind {
            BoxKind::Input | BoxKind::Output => ", shape=box, style=\"rounded,filled,bold\"",
            BoxKind::Block => ", style=\"rounded,filled,dashed\"",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\", tooltip=\"{}\", fillcolor=\"{fill}\", color=\"{stroke}\"{shape}];",
            dot_escape(&draw_box.id),
            dot_escape(&label.join("\n")),
            dot_escape(&draw_box.tooltip),
        );
    }
    for edge in &drawing.edges {
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\", tooltip=\"{}\"];",
            dot_escape(&drawing.boxes[edge.from].id),
            dot_escape(&drawing.boxes[edge.to].id),
            dot_escape(&edge.label),
            dot_escape(&edge.tooltip),
        );
    }
    out.push_str("}\n");
    out
}
