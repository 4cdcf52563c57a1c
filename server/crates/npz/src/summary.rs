//! Per-array summaries of a listed archive (the `info --format json` shape)
//! and the diagnostics that need the data: CRC, NaN and Inf.

use crate::archive::{Archive, Entry};
use crate::diagnostic::{Diagnostic, Severity};
use crate::dtype::ElementType;
use crate::stats::{Stats, stats};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArraySummary {
    pub name: String,
    /// numpy's name (`float32`, `bool`, `object`) or the raw descr for unsupported types.
    pub dtype: String,
    pub shape: Vec<u64>,
    pub fortran_order: bool,
    /// `<`, `>` or `|`, as in numpy's `dtype.byteorder`.
    pub byte_order: String,
    pub nbytes: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub nan: u64,
    pub inf: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchiveSummary {
    pub arrays: Vec<ArraySummary>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Options for [`summarize`].
#[derive(Clone, Copy, Debug)]
pub struct SummaryOptions {
    /// Read the data for min/max/mean/std, NaN/Inf and CRC checks. Off, only
    /// headers are used (the listing is then as cheap as [`crate::list`]).
    pub read_data: bool,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions { read_data: true }
    }
}

/// Summarises every entry that has a `.npy` header, in archive order.
pub fn summarize(archive: &Archive<'_>, options: SummaryOptions) -> ArchiveSummary {
    let mut diagnostics = archive.diagnostics.clone();
    let mut arrays = Vec::with_capacity(archive.entries.len());
    for entry in &archive.entries {
        if let Some(summary) = summarize_entry(entry, options, &mut diagnostics) {
            arrays.push(summary);
        }
    }
    ArchiveSummary {
        arrays,
        diagnostics,
    }
}

fn summarize_entry(
    entry: &Entry<'_>,
    options: SummaryOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ArraySummary> {
    let header = entry.header.as_ref().ok()?;
    let payload = entry.size.saturating_sub(header.data_offset as u64);
    let mut summary = ArraySummary {
        name: entry.name.clone(),
        dtype: header.element.name(),
        shape: header.shape.clone(),
        fortran_order: header.fortran_order,
        byte_order: header.element.byte_order_char().to_string(),
        nbytes: header.data_len().unwrap_or(payload),
        min: None,
        max: None,
        mean: None,
        std: None,
        nan: 0,
        inf: 0,
    };
    if !options.read_data || !matches!(header.element, ElementType::Numeric { .. }) {
        return Some(summary);
    }
    let array = match entry.verify_crc().and_then(|()| entry.read()) {
        Ok(array) => array,
        Err(error) => {
            diagnostics.push(Diagnostic::from_error(&error, Some(&entry.name)));
            return Some(summary);
        }
    };
    let Stats {
        min,
        max,
        mean,
        std,
        nan,
        inf,
    } = stats(&array);
    (
        summary.min,
        summary.max,
        summary.mean,
        summary.std,
        summary.nan,
        summary.inf,
    ) = (min, max, mean, std, nan, inf);
    let total = array.element_count();
    for (count, code, what) in [(nan, "npz/nan", "NaN"), (inf, "npz/inf", "Inf")] {
        if count > 0 {
            diagnostics.push(Diagnostic::new(
                Severity::Warning,
                code,
                Some(&entry.name),
                format!(
                    "array '{}' has {count} {what} value(s) out of {total}",
                    entry.name
                ),
            ));
        }
    }
    Some(summary)
}
