//! The text view: a model in ONNX's textual syntax, byte for byte as
//! `onnx.printer.to_text` prints it (onnx/defs/printer.cc), with a map from
//! every [`Anchor`] (model header, graph, node, value, initializer, function)
//! to where it is printed, and back from a position to the anchor under it.
//!
//! `onnx.printer` writes every element of every inline tensor; [`print`]
//! does the same. [`print_with`] can elide the data of tensors above a size
//! (written `...`, which the printer itself uses for data it cannot show), so
//! an editor never renders hundreds of megabytes of digits.

mod number;
mod printer;

pub use number::{f32_text, f64_text};

use crate::diagnostic::Anchor;
use crate::proto::ModelProto;

use crate::position::LineIndex;
pub use crate::position::{Position, Range};

/// One place an anchor is printed.
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub anchor: Anchor,
    /// Byte offsets into [`TextView::text`].
    pub start: usize,
    pub end: usize,
    /// True where the thing is defined (a node's line, a graph input, a node
    /// output, an initializer), false where it is used.
    pub definition: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrintOptions {
    /// Tensors with more stored elements than this print their data as `...`.
    /// `None` prints everything, as onnx.printer does.
    pub max_tensor_elements: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct TextView {
    pub text: String,
    /// Every occurrence, sorted by start offset.
    pub occurrences: Vec<Occurrence>,
    lines: LineIndex,
}

/// Prints `model` exactly as `onnx.printer.to_text` does.
pub fn print(model: &ModelProto) -> TextView {
    print_with(model, &PrintOptions::default())
}

pub fn print_with(model: &ModelProto, options: &PrintOptions) -> TextView {
    let (text, mut occurrences) = printer::print_model(model, options);
    occurrences.sort_by_key(|o| (o.start, std::cmp::Reverse(o.end)));
    let lines = LineIndex::new(&text);
    TextView {
        text,
        occurrences,
        lines,
    }
}

impl TextView {
    /// Byte offset -> position (character in UTF-16 code units).
    pub fn position(&self, offset: usize) -> Position {
        self.lines.position(&self.text, offset)
    }

    /// Position -> byte offset (clamped to the line), if the line exists.
    pub fn offset(&self, pos: Position) -> Option<usize> {
        self.lines.line_start(pos.line)?;
        Some(self.lines.offset(&self.text, pos))
    }

    fn range_of_occurrence(&self, o: &Occurrence) -> Range {
        Range {
            start: self.position(o.start),
            end: self.position(o.end),
        }
    }

    /// Where `anchor` is defined (or first printed).
    pub fn range(&self, anchor: &Anchor) -> Option<Range> {
        let mut found = None;
        for o in self.occurrences.iter().filter(|o| &o.anchor == anchor) {
            if o.definition {
                return Some(self.range_of_occurrence(o));
            }
            found.get_or_insert(o);
        }
        found.map(|o| self.range_of_occurrence(o))
    }

    /// Every place `anchor` is printed (definition and uses).
    pub fn ranges(&self, anchor: &Anchor) -> Vec<(Range, bool)> {
        self.occurrences
            .iter()
            .filter(|o| &o.anchor == anchor)
            .map(|o| (self.range_of_occurrence(o), o.definition))
            .collect()
    }

    /// The innermost anchor printed at `pos` (a value name inside a node's
    /// line wins over the node), for hover and go-to-definition.
    pub fn anchor_at(&self, pos: Position) -> Option<&Occurrence> {
        let offset = self.offset(pos)?;
        let line_start = self.lines.line_start(pos.line)?;
        let upto = self.occurrences.partition_point(|o| o.start <= offset);
        let mut best: Option<&Occurrence> = None;
        for o in self.occurrences[..upto].iter().rev() {
            // Spans that start on an earlier line can still enclose this one
            // (a node with a subgraph), so look back until a full line is passed
            // and keep the narrowest enclosing span.
            if o.end >= offset
                && o.start <= offset
                && best.is_none_or(|b| o.end - o.start < b.end - b.start)
            {
                best = Some(o);
            }
            if o.start < line_start && best.is_some() {
                break;
            }
        }
        best
    }

    pub fn line_count(&self) -> usize {
        self.lines.line_count()
    }
}
