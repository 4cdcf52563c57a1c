//! A read-only text rendering of an archive: a table with one line per
//! array, plus a map from array name to its line, so the editor can place
//! diagnostics, hovers and symbols (binary files are never sent as text).

use crate::summary::{ArchiveSummary, ArraySummary};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq)]
pub struct TextView {
    pub text: String,
    /// Array name -> zero-based line of its row.
    pub lines: BTreeMap<String, u32>,
}

impl TextView {
    /// The line a diagnostic about `array` belongs on (line 0, the title,
    /// for the archive as a whole or an array without a row).
    pub fn line_of(&self, array: Option<&str>) -> u32 {
        array
            .and_then(|name| self.lines.get(name).copied())
            .unwrap_or(0)
    }
}

const COLUMNS: [&str; 12] = [
    "name",
    "dtype",
    "shape",
    "order",
    "byteorder",
    "nbytes",
    "min",
    "max",
    "mean",
    "std",
    "nan",
    "inf",
];

pub fn render(summary: &ArchiveSummary) -> TextView {
    let rows: Vec<[String; 12]> = summary.arrays.iter().map(row).collect();
    let mut widths = COLUMNS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let total: u64 = summary.arrays.iter().map(|a| a.nbytes).sum();
    let mut text = format!(
        "# {} arrays, {} bytes of data\n",
        summary.arrays.len(),
        total
    );
    push_row(&mut text, &COLUMNS.map(str::to_owned), &widths);
    let mut lines = BTreeMap::new();
    for (index, (array, row)) in summary.arrays.iter().zip(&rows).enumerate() {
        // A duplicate name keeps the last line, the array numpy would read.
        lines.insert(array.name.clone(), index as u32 + 2);
        push_row(&mut text, row, &widths);
    }
    TextView { text, lines }
}

fn push_row(text: &mut String, cells: &[String; 12], widths: &[usize; 12]) {
    let mut line = String::new();
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if index > 0 {
            line.push_str("  ");
        }
        // Names and words align left, numbers right.
        if index <= 4 {
            let _ = write!(line, "{cell:<width$}");
        } else {
            let _ = write!(line, "{cell:>width$}");
        }
    }
    text.push_str(line.trim_end());
    text.push('\n');
}

fn row(array: &ArraySummary) -> [String; 12] {
    let shape = format!(
        "[{}]",
        array
            .shape
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    [
        array.name.clone(),
        array.dtype.clone(),
        shape,
        if array.fortran_order { "F" } else { "C" }.to_owned(),
        array.byte_order.clone(),
        array.nbytes.to_string(),
        number(array.stats.min),
        number(array.stats.max),
        number(array.stats.mean),
        number(array.stats.std),
        array.stats.nan.to_string(),
        array.stats.inf.to_string(),
    ]
}

/// Six significant digits, scientific outside [1e-3, 1e6); `-` when absent.
pub fn number(value: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".to_owned();
    };
    if v == 0.0 {
        return "0".to_owned();
    }
    if (1e-3..1e6).contains(&v.abs()) {
        let digits = (5 - v.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{v:.digits$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        }
    } else {
        format!("{v:.5e}")
    }
}
