//! Per-array summaries of a listed archive (the `info --format json` shape)
//! and the diagnostics that need the data: CRC, NaN and Inf.

use crate::archive::{Archive, Compression, Entry};
use crate::diagnostic::{Diagnostic, Severity};
use crate::dtype::ElementType;
use crate::stats::{Stats, stats, stats_streamed};
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
    /// Empty (no min/max/mean/std, no NaN/Inf counted) when the data was not read.
    #[serde(flatten)]
    pub stats: Stats,
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

/// Deflated entries inflating to more than this are streamed for their
/// statistics instead of inflated into memory.
const STREAM_FROM: u64 = 64 << 20;

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
        stats: Stats::default(),
    };
    if !options.read_data || !matches!(header.element, ElementType::Numeric { .. }) {
        return Some(summary);
    }
    let ElementType::Numeric { dtype, byte_order } = &header.element else {
        return Some(summary);
    };
    let (dtype, byte_order) = (*dtype, *byte_order);
    // A big deflated entry is streamed (twice) rather than inflated whole:
    // its inflated size is the directory's word, and a small archive can
    // claim gigabytes of zeros.
    let streamed = entry.compression == Compression::Deflated && entry.size > STREAM_FROM;
    let computed = if streamed {
        stats_streamed(dtype, byte_order, |visit| entry.for_each_data_piece(visit))
    } else {
        entry
            .verify_crc()
            .and_then(|()| entry.read())
            .map(|array| stats(&array))
    };
    summary.stats = match computed {
        Ok(stats) => stats,
        Err(error) => {
            diagnostics.push(Diagnostic::from_error(&error, Some(&entry.name)));
            return Some(summary);
        }
    };
    let Stats { nan, inf, .. } = summary.stats;
    let total: u64 = header.shape.iter().product();
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
