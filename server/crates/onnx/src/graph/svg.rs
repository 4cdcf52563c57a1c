//! The SVG view: boxes sized from their text, placed by [`super::layout`],
//! edges as curved paths with arrowheads. The document is self-contained (an
//! embedded style sheet, no fonts or scripts to fetch); each box carries
//! `class="node op-<family>"`, `data-id` (the JSON id) and a `<title>` tooltip.

use super::Direction;
use super::draw::{BoxKind, DrawGraph};
use super::family::Family;
use super::layout::{Layout, layout};
use super::text::xml_escape;
use std::fmt::Write;

/// Monospace advance at the body font size (11 px), slightly generous.
const CHAR_WIDTH: f64 = 6.7;
/// Titles are bold and 12 px.
const TITLE_CHAR_WIDTH: f64 = 7.4;
const LINE_HEIGHT: f64 = 14.0;
const PADDING_X: f64 = 9.0;
const PADDING_Y: f64 = 6.0;
const MIN_BOX_WIDTH: f64 = 72.0;

/// The size of each box, from its text.
pub fn box_sizes(drawing: &DrawGraph) -> Vec<(f64, f64)> {
    drawing
        .boxes
        .iter()
        .map(|draw_box| {
            let mut width: f64 = MIN_BOX_WIDTH;
            let mut lines = 0;
            for (class, text) in draw_box.lines() {
                let per_char = if class == "title" {
                    TITLE_CHAR_WIDTH
                } else {
                    CHAR_WIDTH
                };
                width = width.max(text.chars().count() as f64 * per_char + 2.0 * PADDING_X);
                lines += 1;
            }
            (width.ceil(), lines as f64 * LINE_HEIGHT + 2.0 * PADDING_Y)
        })
        .collect()
}

/// Lays out and renders `drawing`.
pub fn render(drawing: &DrawGraph, direction: Direction) -> String {
    let sizes = box_sizes(drawing);
    let edges: Vec<(usize, usize)> = drawing.edges.iter().map(|e| (e.from, e.to)).collect();
    let placed = layout(&sizes, &edges, direction);
    render_placed(drawing, &sizes, &placed, direction)
}

fn style_sheet() -> String {
    let mut css = String::from(
        ".neuride-graph{font-family:ui-monospace,'SFMono-Regular',Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:11px}\
         .bg{fill:#ffffff}\
         .node rect{stroke-width:1.2}\
         .node text{text-anchor:middle;fill:#1f2937}\
         .node .title{font-weight:bold;font-size:12px;fill:#111827}\
         .node .subtitle{fill:#4b5563}\
         .node .detail{fill:#1e40af}\
         .node .weights{fill:#6b7280;font-size:10px}\
         .node:hover rect{stroke-width:2.6}\
         .edge{fill:none;stroke:#94a3b8;stroke-width:1.2}\
         .edge:hover{stroke:#0f172a;stroke-width:2.2}\
         .arrowhead{fill:#64748b}\
         .kind-block rect{stroke-dasharray:5 3}\
         .kind-input rect,.kind-output rect{rx:14px}",
    );
    for family in Family::ALL {
        let (fill, stroke) = family.colors();
        let _ = write!(
            css,
            ".op-{} rect{{fill:{fill};stroke:{stroke}}}",
            family.css()
        );
    }
    css
}

fn kind_class(kind: BoxKind) -> &'static str {
    match kind {
        BoxKind::Input => "kind-input",
        BoxKind::Output => "kind-output",
        BoxKind::Node => "kind-node",
        BoxKind::Block => "kind-block",
        BoxKind::Undefined => "kind-undefined",
    }
}

fn path_data(points: &[(f64, f64)], direction: Direction) -> String {
    let mut d = String::new();
    let Some(&(x0, y0)) = points.first() else {
        return d;
    };
    let _ = write!(d, "M{x0:.1},{y0:.1}");
    for pair in points.windows(2) {
        let ((ax, ay), (bx, by)) = (pair[0], pair[1]);
        // Control points along the layer axis make the path leave and enter
        // boxes straight, then bend in the gap between layers.
        let (c1, c2) = match direction {
            Direction::LeftRight => {
                let mid = (bx - ax) / 2.0;
                ((ax + mid, ay), (bx - mid, by))
            }
            Direction::TopDown => {
                let mid = (by - ay) / 2.0;
                ((ax, ay + mid), (bx, by - mid))
            }
        };
        let _ = write!(
            d,
            " C{:.1},{:.1} {:.1},{:.1} {bx:.1},{by:.1}",
            c1.0, c1.1, c2.0, c2.1
        );
    }
    d
}

/// Renders an already laid-out drawing.
pub fn render_placed(
    drawing: &DrawGraph,
    sizes: &[(f64, f64)],
    placed: &Layout,
    direction: Direction,
) -> String {
    let (width, height) = (placed.width.ceil(), placed.height.ceil());
    let mut out =
        String::with_capacity(256 * drawing.boxes.len() + 160 * drawing.edges.len() + 4096);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"neuride-graph\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" data-boxes=\"{}\" data-collapsed-nodes=\"{}\">",
        drawing.boxes.len(),
        drawing.collapsed_nodes
    );
    let _ = writeln!(out, "<style>{}</style>", style_sheet());
    out.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
         markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">\
         <path class=\"arrowhead\" d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>\n",
    );
    let _ = writeln!(
        out,
        "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\"/>"
    );

    out.push_str("<g class=\"edges\">\n");
    for (edge, points) in drawing.edges.iter().zip(&placed.edge_points) {
        if points.len() < 2 {
            continue;
        }
        let _ = writeln!(
            out,
            "<path class=\"edge\" data-from=\"{}\" data-to=\"{}\" d=\"{}\" marker-end=\"url(#arrow)\"><title>{}</title></path>",
            xml_escape(&drawing.boxes[edge.from].id),
            xml_escape(&drawing.boxes[edge.to].id),
            path_data(points, direction),
            xml_escape(&edge.tooltip)
        );
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for ((draw_box, &(box_width, box_height)), &(cx, cy)) in
        drawing.boxes.iter().zip(sizes).zip(&placed.centers)
    {
        let (left, top) = (cx - box_width / 2.0, cy - box_height / 2.0);
        let _ = write!(
            out,
            "<g class=\"node op-{} {}\" data-id=\"{}\"><title>{}</title>\
             <rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{box_width:.1}\" height=\"{box_height:.1}\" rx=\"4\"/>",
            draw_box.family.css(),
            kind_class(draw_box.kind),
            xml_escape(&draw_box.id),
            xml_escape(&draw_box.tooltip)
        );
        for (line, (class, text)) in draw_box.lines().enumerate() {
            // Baseline of line `i`: padding, then a line height per line, less
            // the descent so text sits centred in its line.
            let baseline = top + PADDING_Y + LINE_HEIGHT * (line as f64 + 1.0) - 3.5;
            let _ = write!(
                out,
                "<text class=\"{class}\" x=\"{cx:.1}\" y=\"{baseline:.1}\">{}</text>",
                xml_escape(text)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n</svg>\n");
    out
}
