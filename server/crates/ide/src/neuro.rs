//! The analysis of a `.neuro` file: the language crate's parse and check
//! against real facts about the models and archives it binds, and its
//! diagnostics converted from byte ranges to line / UTF-16 positions.

pub mod workspace;

use crate::report::{FileDiagnostic, Range, Severity};
use neuride_onnx::position::LineIndex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use workspace::DiskWorkspace;

pub struct NeuroAnalysis {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub line_index: LineIndex,
    pub parse: neuride_dsl::Parse,
    pub analysis: neuride_dsl::Analysis,
    pub diagnostics: Vec<FileDiagnostic>,
    /// The models and archives the check read facts from.
    pub dependencies: Vec<PathBuf>,
}

impl NeuroAnalysis {
    /// The file's top-level items, in order.
    pub fn items(&self) -> &[neuride_dsl::syntax::ast::Item] {
        &self.parse.ast.items
    }

    pub fn new(path: &Path, text: Arc<str>) -> NeuroAnalysis {
        let workspace = DiskWorkspace::new(path.parent().unwrap_or(Path::new(".")));
        let line_index = LineIndex::new(&text);
        let parse = neuride_dsl::parse(&text);
        let analysis = neuride_dsl::check(&parse, &workspace);
        let diagnostics = analysis
            .diagnostics
            .iter()
            .map(|d| FileDiagnostic {
                severity: match d.severity {
                    neuride_dsl::Severity::Error => Severity::Error,
                    neuride_dsl::Severity::Warning => Severity::Warning,
                    neuride_dsl::Severity::Information | neuride_dsl::Severity::Hint => {
                        Severity::Info
                    }
                },
                code: d.code.to_owned(),
                message: d.message.clone(),
                range: line_index.range(&text, d.range.start, d.range.end),
            })
            .collect();
        NeuroAnalysis {
            path: path.to_owned(),
            text,
            line_index,
            parse,
            analysis,
            diagnostics,
            dependencies: workspace.dependencies(),
        }
    }

    /// A `.neuro` file that is not UTF-8 cannot be parsed at all.
    pub fn not_utf8(path: &Path, error: std::str::Utf8Error) -> NeuroAnalysis {
        let mut analysis = NeuroAnalysis::new(path, Arc::from(""));
        analysis.diagnostics = vec![FileDiagnostic {
            severity: Severity::Error,
            code: "neuro/not-utf8".into(),
            message: format!(
                "a .neuro file must be UTF-8 text: invalid byte at offset {}",
                error.valid_up_to()
            ),
            range: Range::default(),
        }];
        analysis
    }

    pub fn range(&self, range: neuride_dsl::TextRange) -> Range {
        self.line_index.range(&self.text, range.start, range.end)
    }

    pub fn offset(&self, position: crate::Position) -> usize {
        self.line_index.offset(&self.text, position)
    }
}
