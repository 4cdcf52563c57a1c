//! Problems found in an archive, addressed by array name (the text rendering
//! maps a name to its line).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `npz/truncated`.
    pub code: &'static str,
    pub message: String,
    /// The array (entry name without `.npy`) it is about; `None` for the archive.
    pub array: Option<String>,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: &'static str,
        array: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            array: array.map(str::to_owned),
        }
    }

    /// An error diagnostic from a crate error about `array`. Object arrays and
    /// unsupported dtypes are warnings: the archive is fine for numpy, neuride
    /// just will not read those arrays.
    pub fn from_error(error: &crate::NpzError, array: Option<&str>) -> Self {
        let severity = match error {
            crate::NpzError::ObjectArray { .. } | crate::NpzError::UnsupportedDType { .. } => {
                Severity::Warning
            }
            _ => Severity::Error,
        };
        Diagnostic::new(severity, error.code(), array, error.to_string())
    }
}
