//! The read-only text view of a model: the ONNX core's text view (exactly
//! what `onnx.printer` prints) plus the lookups the editor features need,
//! in this crate's position types: where each anchor is defined, and each
//! use of a value by name.

use crate::report::{Position, Range};
use neuride_onnx::text::{PrintOptions, TextView};
use neuride_onnx::{Anchor, GraphId};
use serde::Serialize;
use std::collections::HashMap;

/// Inline tensors with more elements than this print as `...`, so a view
/// never holds megabytes of digits.
pub const MAX_TENSOR_ELEMENTS: usize = 64;

/// Where something is defined in the view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnchorRange {
    pub anchor: Anchor,
    pub range: Range,
    /// The part to select (same as `range` for now: the printer marks whole items).
    pub selection: Range,
}

/// A use of a value (a node input, a graph output) and which value it names.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueUse {
    pub graph: GraphId,
    pub name: String,
    pub range: Range,
}

#[derive(Clone, Debug, Default)]
pub struct ModelView {
    pub text: String,
    /// Definitions in text order.
    pub anchors: Vec<AnchorRange>,
    pub uses: Vec<ValueUse>,
    by_anchor: HashMap<Anchor, usize>,
}

impl ModelView {
    pub fn of_model(model: &neuride_onnx::proto::ModelProto) -> ModelView {
        let view = neuride_onnx::text::print_with(
            model,
            &PrintOptions {
                max_tensor_elements: Some(MAX_TENSOR_ELEMENTS),
            },
        );
        ModelView::of_text_view(view)
    }

    fn of_text_view(view: TextView) -> ModelView {
        let mut anchors = Vec::new();
        let mut by_anchor = HashMap::new();
        let mut uses = Vec::new();
        for occurrence in &view.occurrences {
            let range = Range {
                start: view.position(occurrence.start),
                end: view.position(occurrence.end),
            };
            if occurrence.definition || !matches!(occurrence.anchor, Anchor::Value { .. }) {
                if !by_anchor.contains_key(&occurrence.anchor) {
                    by_anchor.insert(occurrence.anchor.clone(), anchors.len());
                    anchors.push(AnchorRange {
                        anchor: occurrence.anchor.clone(),
                        range,
                        selection: range,
                    });
                }
            } else if let Anchor::Value { graph, name } = &occurrence.anchor {
                uses.push(ValueUse {
                    graph: graph.clone(),
                    name: name.clone(),
                    range,
                });
            }
        }
        ModelView {
            text: view.text,
            anchors,
            uses,
            by_anchor,
        }
    }

    /// The view of bytes that are not a model: one comment line saying why.
    pub fn of_undecodable(message: &str) -> ModelView {
        let text = format!("# {message}\n");
        let end = text.len() - 1;
        let range = Range {
            start: Position::default(),
            end: Position {
                line: 0,
                character: text[..end].encode_utf16().count() as u32,
            },
        };
        let anchors = vec![AnchorRange {
            anchor: Anchor::Model,
            range,
            selection: range,
        }];
        let by_anchor = HashMap::from([(Anchor::Model, 0)]);
        ModelView {
            text,
            anchors,
            uses: Vec::new(),
            by_anchor,
        }
    }

    pub fn range_of(&self, anchor: &Anchor) -> Option<Range> {
        self.by_anchor.get(anchor).map(|&i| self.anchors[i].range)
    }

    pub fn item(&self, anchor: &Anchor) -> Option<&AnchorRange> {
        self.by_anchor.get(anchor).map(|&i| &self.anchors[i])
    }

    /// The model header's range, where problems without a better place go.
    pub fn header_range(&self) -> Range {
        self.range_of(&Anchor::Model).unwrap_or_default()
    }

    /// The narrowest definition at `position` (a value or initializer wins
    /// over the node or graph around it).
    pub fn anchor_at(&self, position: Position) -> Option<&AnchorRange> {
        self.anchors
            .iter()
            .filter(|a| a.range.contains(position))
            .min_by_key(|a| {
                let rank = match a.anchor {
                    Anchor::Value { .. } | Anchor::Initializer { .. } => 0,
                    Anchor::Node { .. } => 1,
                    _ => 2,
                };
                (rank, a.range.end.line - a.range.start.line)
            })
    }

    pub fn use_at(&self, position: Position) -> Option<&ValueUse> {
        self.uses.iter().find(|u| u.range.contains(position))
    }

    /// Where value `name` of `graph` is defined: the node output or graph
    /// input that declares it, else the initializer.
    pub fn definition_of(&self, graph: &GraphId, name: &str) -> Option<&AnchorRange> {
        let value = Anchor::Value {
            graph: graph.clone(),
            name: name.to_owned(),
        };
        let initializer = Anchor::Initializer {
            graph: graph.clone(),
            name: name.to_owned(),
        };
        self.item(&value).or_else(|| self.item(&initializer))
    }
}
