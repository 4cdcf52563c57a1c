//! Graph views of a model for people: a JSON listing of nodes and edges, a
//! laid-out SVG picture and Graphviz DOT text.
//!
//! Everything here is pure: it takes a decoded [`ModelProto`] (and, when the
//! caller has them, inferred shapes as display strings) and returns values.
//! It never reads weights: initializers are described by their dims only.
//!
//! The SVG and DOT views draw the same [`draw::DrawGraph`]: initializers are
//! folded into the node that uses them, and big graphs are collapsed into
//! blocks (by node-name prefix such as `/encoder/layer.3/`, or by runs of the
//! topological order when names carry no structure) so that the picture stays
//! readable and the layout stays fast.

pub mod collapse;
pub mod dot;
pub mod draw;
pub mod family;
pub mod json;
pub mod layout;
pub mod model;
pub mod svg;
pub mod synthetic;
mod text;

use crate::proto::ModelProto;
use std::collections::HashMap;

pub use json::GraphJson;
pub use model::GraphView;
pub use text::xml_escape;

/// Value name -> shape as it should be displayed (e.g. `float[N,64]`). Shape
/// inference lives elsewhere; this module only shows what it is given, falling
/// back to the types declared in the model (inputs, outputs, `value_info`).
pub type ShapeMap = HashMap<String, String>;

/// Which way the layers of the drawing run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Layers are columns, data flows left to right (`LR`).
    #[default]
    LeftRight,
    /// Layers are rows, data flows top to bottom (`TB`).
    TopDown,
}

impl Direction {
    /// Parses the protocol spelling: `LR` or `TB` (also `TD`), any case.
    pub fn parse(text: &str) -> Option<Direction> {
        match text.to_ascii_uppercase().as_str() {
            "LR" => Some(Direction::LeftRight),
            "TB" | "TD" => Some(Direction::TopDown),
            _ => None,
        }
    }
}

/// When to collapse nodes into blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Collapse {
    /// Collapse only graphs with more than [`AUTO_COLLAPSE_NODES`] nodes.
    #[default]
    Auto,
    /// Draw every node, however many there are.
    Never,
    /// Always group nodes into blocks (when names or order allow it).
    Always,
}

/// Graphs with more nodes than this are collapsed by [`Collapse::Auto`].
pub const AUTO_COLLAPSE_NODES: usize = 2000;

/// Options shared by the SVG and DOT views.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewOptions<'a> {
    /// Inferred shapes; `None` uses only the shapes declared in the model.
    pub shapes: Option<&'a ShapeMap>,
    pub direction: Direction,
    pub collapse: Collapse,
}

/// The JSON view: every node of the main graph with its edges.
pub fn to_json(model: &ModelProto, shapes: Option<&ShapeMap>) -> GraphJson {
    json::build(&GraphView::new(model, shapes))
}

/// The SVG view: a self-contained `<svg>` document.
pub fn to_svg(model: &ModelProto, options: &ViewOptions) -> String {
    let view = GraphView::new(model, options.shapes);
    let drawing = collapse::draw_graph(&view, options.collapse);
    svg::render(&drawing, options.direction)
}

/// The DOT view (Graphviz), of the same drawing as the SVG.
pub fn to_dot(model: &ModelProto, options: &ViewOptions) -> String {
    let view = GraphView::new(model, options.shapes);
    let drawing = collapse::draw_graph(&view, options.collapse);
    dot::render(&drawing, options.direction, view.graph_name)
}
