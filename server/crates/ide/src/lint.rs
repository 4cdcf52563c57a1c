//! Checking one file for `neuride check`: its diagnostics (as the editor
//! shows them) and, when asked, a one-line overview of what the file is.
//!
//! A model is checked without what only the editor needs: no summary, and
//! the text view (which places diagnostics on lines) only when there is a
//! diagnostic to place. The checker and shape inference run side by side
//! on two threads when the graph is big enough to gain from it.

use crate::analysis::{FileAnalysis, analyze_contents};
use crate::file_kind::FileKind;
use crate::model::ModelView;
use crate::report::FileReport;
use neuride_onnx::proto::ModelProto;
use serde::Serialize;
use std::path::Path;

/// What a checked file is, for the human listing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    /// File size in bytes.
    pub size: u64,
    /// `dl model, 1,067 nodes`, `6 arrays`, `1 model, 1 dataset, 1 infer`.
    pub detail: String,
}

pub struct Checked {
    pub report: FileReport,
    pub overview: Option<Overview>,
}

/// Graphs with at least this many nodes are checked and shape-inferred on
/// two threads; below it a thread costs more than it saves.
const PARALLEL_NODES: usize = 2_000;

/// Checks the file at `path` (its contents already read).
pub fn check_contents(path: &Path, contents: crate::source::Contents, overview: bool) -> Checked {
    if FileKind::from_path(path) == Some(FileKind::Onnx) {
        let size = contents.bytes.len() as u64;
        let decoded = match contents.file() {
            Some(file) => neuride_onnx::load::decode_mapped(&contents.bytes, file),
            None => neuride_onnx::load::decode(contents.bytes.clone()),
        };
        return check_model(path, size, decoded, overview);
    }
    let analysis = analyze_contents(path, contents);
    let overview = overview.then(|| overview_of(&analysis));
    Checked {
        report: analysis.report(),
        overview,
    }
}

fn check_model(
    path: &Path,
    size: u64,
    decoded: Result<ModelProto, neuride_onnx::load::LoadError>,
    overview: bool,
) -> Checked {
    let proto = match decoded {
        Ok(proto) => proto,
        Err(error) => {
            let analysis = crate::model::ModelAnalysis::from_decoded(path, size, Err(error));
            return Checked {
                report: FileAnalysis::Model(analysis).report(),
                overview: overview.then(|| Overview {
                    size,
                    detail: "not a model".into(),
                }),
            };
        }
    };
    let nodes = proto.graph.as_ref().map_or(0, |g| g.node.len());
    let (mut diagnostics, shapes) = if nodes >= PARALLEL_NODES {
        std::thread::scope(|scope| {
            let shapes = scope.spawn(|| neuride_onnx::shape::infer(&proto));
            let checked = crate::model::check::check(path, &proto);
            let shapes = shapes
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (checked, shapes)
        })
    } else {
        (
            crate::model::check::check(path, &proto),
            neuride_onnx::shape::infer(&proto),
        )
    };
    diagnostics.extend(shapes.diagnostics);
    let file_diagnostics = if diagnostics.is_empty() {
        Vec::new()
    } else {
        let view = ModelView::of_model(&proto);
        crate::model::place(&diagnostics, &view)
    };
    let overview = overview.then(|| {
        let kind = neuride_onnx::classify::classify(&proto).kind;
        Overview {
            size,
            detail: format!("{} model, {}", kind.as_str(), count(nodes, "node")),
        }
    });
    Checked {
        report: FileReport {
            path: path.display().to_string(),
            kind: FileKind::Onnx,
            diagnostics: file_diagnostics,
        },
        overview,
    }
}

fn overview_of(analysis: &FileAnalysis) -> Overview {
    match analysis {
        FileAnalysis::Model(model) => Overview {
            size: model.size,
            detail: match &model.facts {
                Some(facts) => format!(
                    "{} model, {}",
                    facts.classification.kind.as_str(),
                    count(
                        facts.proto.graph.as_ref().map_or(0, |g| g.node.len()),
                        "node"
                    )
                ),
                None => "not a model".into(),
            },
        },
        FileAnalysis::Archive(archive) => Overview {
            size: archive.size,
            detail: match &archive.summary {
                Some(summary) => count(summary.arrays.len(), "array"),
                None => "not an archive".into(),
            },
        },
        FileAnalysis::Neuro(neuro) => {
            let mut kinds: Vec<(&str, usize)> = Vec::new();
            for item in &neuro.parse.ast.items {
                let keyword = item.kind.keyword();
                match kinds.iter_mut().find(|(k, _)| *k == keyword) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((keyword, 1)),
                }
            }
            let detail = if kinds.is_empty() {
                "no items".to_owned()
            } else {
                kinds
                    .iter()
                    .map(|(keyword, n)| format!("{n} {keyword}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Overview {
                size: neuro.text.len() as u64,
                detail,
            }
        }
    }
}

/// `1 node`, `1,067 nodes`.
fn count(n: usize, what: &str) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        // A comma before every group of three digits from the right.
        if i > 0 && matches!((digits.len() - i) % 3, 0) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped} {what}{}", if n == 1 { "" } else { "s" })
}
