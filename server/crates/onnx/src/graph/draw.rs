//! The drawing model shared by the SVG and DOT views: boxes with up to four
//! lines of text, and edges between boxes.

use super::family::Family;

/// What a box stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxKind {
    Input,
    Output,
    Node,
    /// Several nodes collapsed together.
    Block,
    /// A value that nothing produces.
    Undefined,
}

/// One box of the drawing.
#[derive(Debug, Clone)]
pub struct DrawBox {
    /// The id the JSON view uses (`n3`, `in:x`, ...; `block:<n>` for blocks).
    pub id: String,
    pub kind: BoxKind,
    pub family: Family,
    /// The op type, the input's name, or the block's prefix.
    pub title: String,
    /// The node name, or the number of nodes in a block.
    pub subtitle: String,
    /// The output shape (or the block's ops).
    pub detail: String,
    /// Folded weights and constants, e.g. `W float[64,64]`; empty if none.
    pub weights: String,
    /// Everything about the box, for a hover tooltip.
    pub tooltip: String,
}

impl DrawBox {
    /// The non-empty text lines, top to bottom.
    pub fn lines(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("title", &self.title),
            ("subtitle", &self.subtitle),
            ("detail", &self.detail),
            ("weights", &self.weights),
        ]
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(class, text)| (class, text.as_str()))
    }
}

/// A connection between two boxes, carrying one or more values.
#[derive(Debug, Clone)]
pub struct DrawEdge {
    pub from: usize,
    pub to: usize,
    /// The value's shape (empty if unknown), or `N values` when several run
    /// between the boxes.
    pub label: String,
    /// Value names with shapes.
    pub tooltip: String,
}

/// What the SVG and DOT renderers draw.
#[derive(Debug, Clone, Default)]
pub struct DrawGraph {
    pub boxes: Vec<DrawBox>,
    pub edges: Vec<DrawEdge>,
    /// How many graph nodes were folded into blocks (0 when not collapsed).
    pub collapsed_nodes: usize,
}
