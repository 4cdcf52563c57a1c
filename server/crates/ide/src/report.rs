//! What checking a file produces, in editor terms: diagnostics with
//! line/character ranges. This is also the JSON of `neuride check`.

use crate::file_kind::FileKind;
use serde::Serialize;

pub use neuride_onnx::Severity;

pub use neuride_onnx::position::{Position, Range};

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
