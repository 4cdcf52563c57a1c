//! The analysis of one `.onnx` file: the decoded model (weights stay views
//! into the file's bytes), its shape facts, classification and summary, its
//! diagnostics (checker and shape inference), and its read-only text view
//! with the anchor -> range map that places diagnostics, hovers and symbols.

pub mod check;
pub mod nir;
pub mod view;

use crate::report::{FileDiagnostic, Range};
use bytes::Bytes;
use neuride_onnx::classify::Classification;
use neuride_onnx::proto::{GraphProto, ModelProto, NodeProto};
use neuride_onnx::shape::ShapeFacts;
use neuride_onnx::summary::Summary;
use neuride_onnx::{Anchor, Diagnostic, GraphId};
use std::path::{Path, PathBuf};

pub use view::ModelView;

/// What a decoded model yields.
pub struct Facts {
    pub proto: ModelProto,
    pub shapes: ShapeFacts,
    pub classification: Classification,
    pub summary: Summary,
}

pub struct ModelAnalysis {
    pub path: PathBuf,
    /// Size of the file in bytes.
    pub size: u64,
    /// `None` when the bytes are not a ModelProto.
    pub facts: Option<Facts>,
    pub diagnostics: Vec<Diagnostic>,
    pub view: ModelView,
    /// The memory map the model's weights are views into (big files only),
    /// kept to tell whether the file was truncated under it.
    pub map: Option<neuride_mapped::Map>,
    /// `Onnx`, or `Nir` for a NIR file shown through its ONNX view ([`nir`]).
    pub kind: crate::file_kind::FileKind,
}

impl ModelAnalysis {
    pub fn new(path: &Path, bytes: Bytes) -> ModelAnalysis {
        let size = bytes.len() as u64;
        ModelAnalysis::from_decoded(path, size, neuride_onnx::load::decode(bytes))
    }

    /// The analysis of a model already decoded (e.g. by
    /// `neuride_onnx::load::decode_mapped`, which keeps weight pages out of memory).
    pub fn from_decoded(
        path: &Path,
        size: u64,
        decoded: Result<ModelProto, neuride_onnx::load::LoadError>,
    ) -> ModelAnalysis {
        match decoded {
            Ok(proto) => {
                let shapes = neuride_onnx::shape::infer(&proto);
                let mut diagnostics = check::check(path, &proto);
                diagnostics.extend(shapes.diagnostics.iter().cloned());
                let classification = neuride_onnx::classify::classify(&proto);
                let summary = neuride_onnx::summary::summarize(&proto, &shapes);
                let view = ModelView::of_model(&proto);
                let facts = Facts {
                    proto,
                    shapes,
                    classification,
                    summary,
                };
                ModelAnalysis {
                    path: path.to_owned(),
                    size,
                    facts: Some(facts),
                    diagnostics,
                    view,
                    map: None,
                    kind: crate::file_kind::FileKind::Onnx,
                }
            }
            Err(error) => {
                let code = error.code();
                let diagnostic = Diagnostic::error(code, Anchor::Model, error.to_string());
                let view = ModelView::of_undecodable(&diagnostic.message);
                ModelAnalysis {
                    path: path.to_owned(),
                    size,
                    facts: None,
                    diagnostics: vec![diagnostic],
                    view,
                    map: None,
                    kind: crate::file_kind::FileKind::Onnx,
                }
            }
        }
    }

    /// Whether weights read from the map since it was made met zeros where
    /// the truncated file's pages were (see `neuride-mapped`).
    pub fn was_truncated(&self) -> bool {
        self.map
            .as_ref()
            .is_some_and(neuride_mapped::Map::was_truncated)
    }

    pub fn proto(&self) -> Option<&ModelProto> {
        self.facts.as_ref().map(|f| &f.proto)
    }

    /// Diagnostics placed on the text view's lines (problems about things
    /// the view does not show go on the model header).
    pub fn file_diagnostics(&self) -> Vec<FileDiagnostic> {
        place(&self.diagnostics, &self.view)
    }

    pub fn anchor_range(&self, anchor: &Anchor) -> Option<Range> {
        self.view.range_of(anchor)
    }
}

/// `diagnostics` placed on the lines of `view` (problems about things the
/// view does not show go on the model header).
pub fn place(diagnostics: &[Diagnostic], view: &ModelView) -> Vec<FileDiagnostic> {
    diagnostics
        .iter()
        .map(|d| FileDiagnostic {
            severity: d.severity,
            code: d.code.to_owned(),
            message: d.message.clone(),
            range: view
                .range_of(&d.anchor)
                .unwrap_or_else(|| view.header_range()),
        })
        .collect()
}

/// The graph `id` names in `model`, if it exists (function bodies are not
/// graphs and give `None`).
pub fn graph<'m>(model: &'m ModelProto, id: &GraphId) -> Option<&'m GraphProto> {
    match id {
        GraphId::Training(index, which) => {
            let info = model.training_info.get(*index)?;
            match which.as_str() {
                "initialization" => info.initialization.as_ref(),
                _ => info.algorithm.as_ref(),
            }
        }
        other => neuride_onnx::summary::find_graph(model, other),
    }
}

pub fn node<'m>(model: &'m ModelProto, id: &GraphId, index: usize) -> Option<&'m NodeProto> {
    graph(model, id)?.node.get(index)
}

/// The model's kind as the registry shows it; `unknown` for a model that
/// does not decode.
pub fn kind(model: &ModelAnalysis) -> &'static str {
    model
        .facts
        .as_ref()
        .map_or("unknown", |f| f.classification.kind.as_str())
}

/// The graph as `json`, `svg` or `dot`, laid out `LR` or `TB`.
pub fn graph_view(
    model: &ModelAnalysis,
    format: &str,
    direction: &str,
    collapse: Option<&str>,
) -> Result<String, String> {
    let facts = model
        .facts
        .as_ref()
        .ok_or("the file does not decode as an ONNX model")?;
    crate::graph_view::render(&facts.proto, &facts.shapes, format, direction, collapse)
}

/// The model's summary as JSON (the ONNX core's summary, plus its kind).
pub fn summary_json(model: &ModelAnalysis) -> serde_json::Value {
    let Some(facts) = &model.facts else {
        return serde_json::Value::Null;
    };
    let mut summary = serde_json::to_value(&facts.summary).unwrap_or_default();
    if let Some(object) = summary.as_object_mut() {
        object.insert("kind".into(), facts.classification.kind.as_str().into());
        object.insert("path".into(), model.path.display().to_string().into());
        object.insert("size".into(), model.size.into());
    }
    summary
}
