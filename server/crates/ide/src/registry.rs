//! Registry entries: one per model of the workspace, what the lab's ONNX
//! registry shows (kind, size, IR and opsets, producer, counts).

use crate::model::ModelAnalysis;
use neuride_onnx::summary::Opset;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelEntry {
    pub path: PathBuf,
    /// `snn`, `ml`, `dl`, `mixed` or `unknown`.
    pub kind: String,
    pub confidence: f32,
    /// File size in bytes.
    pub size: u64,
    pub ir_version: Option<i64>,
    pub opsets: Vec<Opset>,
    pub producer: String,
    /// Nodes of the main graph.
    pub nodes: usize,
    /// Elements of all initializers.
    pub parameters: u64,
    pub errors: usize,
    pub warnings: usize,
}

/// The model's kind; `unknown` for a model that does not decode.
pub fn model_kind(model: &ModelAnalysis) -> String {
    crate::model::kind(model).to_owned()
}

pub fn entry(model: &ModelAnalysis) -> ModelEntry {
    let count = |s| model.diagnostics.iter().filter(|d| d.severity == s).count();
    let facts = model.facts.as_ref();
    let summary = facts.map(|f| &f.summary);
    ModelEntry {
        path: model.path.clone(),
        kind: model_kind(model),
        confidence: facts.map_or(0.0, |f| f.classification.confidence),
        size: model.size,
        ir_version: summary.map(|s| s.ir_version),
        opsets: summary.map(|s| s.opsets.clone()).unwrap_or_default(),
        producer: summary
            .map(|s| {
                format!("{} {}", s.producer_name, s.producer_version)
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default(),
        nodes: summary.map_or(0, |s| s.node_count),
        parameters: summary.map_or(0, |s| s.parameters),
        errors: count(crate::Severity::Error),
        warnings: count(crate::Severity::Warning),
    }
}
