//! The analysis of a `.npz` archive or a `.npy` array: its diagnostics and
//! its read-only text view (the NPZ reader's table of arrays), each
//! diagnostic placed on the row of the array it is about.

use crate::file_kind::FileKind;
use crate::report::{FileDiagnostic, Range, Severity};
use bytes::Bytes;
use neuride_npz::{ArchiveSummary, SummaryOptions};
use std::path::{Path, PathBuf};

/// Archives up to this size are read in full when checked (CRCs, NaN/Inf,
/// statistics); bigger ones only by their headers so checking stays fast.
pub const READ_DATA_LIMIT: u64 = 64 * 1024 * 1024;

pub struct ArchiveAnalysis {
    pub path: PathBuf,
    pub kind: FileKind,
    pub size: u64,
    pub summary: Option<ArchiveSummary>,
    pub text: String,
    /// Array name -> line of its row in `text`.
    pub lines: std::collections::BTreeMap<String, u32>,
    pub diagnostics: Vec<FileDiagnostic>,
    /// The memory map the archive was read from (big files only), kept to
    /// tell whether the file was truncated under it.
    pub map: Option<neuride_mapped::Map>,
}

impl ArchiveAnalysis {
    pub fn new(path: &Path, kind: FileKind, bytes: Bytes) -> ArchiveAnalysis {
        ArchiveAnalysis::with_file(path, kind, bytes, None)
    }

    /// [`ArchiveAnalysis::new`] for `bytes` that are a memory map of `file`:
    /// an archive's headers are then read from the file with positioned
    /// reads (`neuride_npz::list_mapped`) rather than by touching the map,
    /// which keeps listing a large `.npz` at a few MB resident instead of
    /// 64 KiB or more per array.
    pub fn with_file(
        path: &Path,
        kind: FileKind,
        bytes: Bytes,
        file: Option<&std::fs::File>,
    ) -> ArchiveAnalysis {
        let size = bytes.len() as u64;
        let options = SummaryOptions {
            read_data: size <= READ_DATA_LIMIT,
        };
        let listed = match kind {
            FileKind::Npy => {
                let name = path.file_stem().unwrap_or_default().to_string_lossy();
                Ok(neuride_npz::list_npy(&bytes, &name))
            }
            _ => match file {
                Some(file) => neuride_npz::list_mapped(&bytes, file),
                None => neuride_npz::list(&bytes),
            },
        };
        let (summary, text, lines, diagnostics) = match listed {
            Ok(archive) => {
                let summary = neuride_npz::summarize(&archive, options);
                let view = neuride_npz::render(&summary);
                let diagnostics = summary
                    .diagnostics
                    .iter()
                    .map(|d| {
                        diagnostic(d, line_range(&view.text, view.line_of(d.array.as_deref())))
                    })
                    .collect();
                (Some(summary), view.text, view.lines, diagnostics)
            }
            Err(error) => {
                let text = format!(
                    "# {}: {error}\n",
                    path.file_name().unwrap_or_default().to_string_lossy()
                );
                let d = neuride_npz::Diagnostic::from_error(&error, None);
                let range = line_range(&text, 0);
                (None, text, Default::default(), vec![diagnostic(&d, range)])
            }
        };
        ArchiveAnalysis {
            path: path.to_owned(),
            kind,
            size,
            summary,
            text,
            lines,
            diagnostics,
            map: None,
        }
    }
}

fn diagnostic(d: &neuride_npz::Diagnostic, range: Range) -> FileDiagnostic {
    FileDiagnostic {
        severity: match d.severity {
            neuride_npz::Severity::Error => Severity::Error,
            neuride_npz::Severity::Warning => Severity::Warning,
            neuride_npz::Severity::Info => Severity::Info,
        },
        code: d.code.to_owned(),
        message: d.message.clone(),
        range,
    }
}

/// The whole of line `line` of `text`.
pub fn line_range(text: &str, line: u32) -> Range {
    let content = text.lines().nth(line as usize).unwrap_or("");
    Range::line(line, 0, content.encode_utf16().count() as u32)
}
