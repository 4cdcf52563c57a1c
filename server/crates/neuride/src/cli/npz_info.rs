//! `neuride info X.npz|X.npy`: one line per array (dtype, shape, order,
//! bytes, min/max/mean/std, NaN/Inf) and the archive's diagnostics.

use anyhow::Context;
use neuride_npz::{Severity, SummaryOptions, list, list_mapped, list_npy, render, summarize};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    // Large files come back memory-mapped, with the file to read headers from.
    let contents = neuride_ide::source::read_contents(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = &contents.bytes;
    let is_npy = bytes.starts_with(neuride_npz::npy::MAGIC)
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let archive = if is_npy {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        list_npy(bytes, &name)
    } else {
        // A map's headers by pread, so listing faults in none of its pages.
        match contents.file() {
            Some(file) => list_mapped(bytes, file),
            None => list(bytes),
        }
        .with_context(|| format!("{}: cannot list the archive", path.display()))?
    };
    let summary = summarize(&archive, SummaryOptions::default());
    let mut out = std::io::stdout().lock();
    let view = render(&summary);
    if json {
        let value =
            serde_json::json!({ "path": path.display().to_string(), "arrays": summary.arrays });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", path.display())?;
        write!(out, "{}", view.text)?;
    }
    // Diagnostics go to stderr so the JSON on stdout stays exactly the summary.
    let mut err = std::io::stderr().lock();
    for diagnostic in &summary.diagnostics {
        let line = view.line_of(diagnostic.array.as_deref()) + 1;
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        writeln!(
            err,
            "{}:{line}: {severity}[{}]: {}",
            path.display(),
            diagnostic.code,
            diagnostic.message
        )?;
    }
    let has_errors = summary
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    Ok(if has_errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
