//! What checking a file produces, in editor terms: diagnostics with
//! line/character ranges. This is also the JSON of `neuride check`.

use crate::file_kind::FileKind;
use serde::Serialize;

pub use neuride_onnx::Severity;

/// A zero-based line and a character offset in UTF-16 code units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    pub fn line(line: u32, start: u32, end: u32) -> Range {
        Range {
            start: Position {
                line,
                character: start,
            },
            end: Position {
                line,
                character: end,
            },
        }
    }

    pub fn contains(&self, position: Position) -> bool {
        self.start <= position && position <= self.end
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileDiagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `onnx/undefined-input`, `npz/bad-magic`.
    pub code: String,
    pub message: String,
    /// For `.neuro` files a range in the file; for models and archives a
    /// range in their read-only text view.
    pub range: Range,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileReport {
    pub path: String,
    pub kind: FileKind,
    pub diagnostics: Vec<FileDiagnostic>,
}

impl FileReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}
