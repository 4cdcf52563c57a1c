//! `neuride check PATH... [--format json]`: the same diagnostics the editor
//! shows, headless. Folders are walked recursively (respecting `.gitignore`)
//! for `.onnx`, `.npz`, `.npy` and `.neuro` files. Exit 1 when any error.

use anyhow::{Context, bail};
use neuride_ide::{FileKind, FileReport, Severity};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders (folders are walked recursively, respecting .gitignore).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Serialize)]
struct Output {
    files: Vec<FileReport>,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let files = collect(&args.paths)?;
    let mut reports = Vec::with_capacity(files.len());
    for path in &files {
        let contents = neuride_ide::source::read_contents(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        reports.push(neuride_ide::analysis::analyze_contents(path, contents).report());
    }
    let summary = Summary {
        errors: reports.iter().map(|r| r.count(Severity::Error)).sum(),
        warnings: reports.iter().map(|r| r.count(Severity::Warning)).sum(),
    };
    let failed = summary.errors > 0;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer(
                &mut out,
                &Output {
                    files: reports,
                    summary,
                },
            )?;
            writeln!(out)?;
        }
        Format::Human => print_human(&mut out, &reports, &summary)?,
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The files to check: explicit files of a known kind, and the analysable
/// files under each folder. A missing path or an explicit file of unknown
/// kind fails the command.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if metadata.is_dir() {
            files.extend(neuride_ide::walk::analysable_files(path));
        } else if FileKind::from_path(path).is_some() {
            files.push(path.clone());
        } else {
            bail!("{}: not a .onnx, .npz, .npy or .neuro file", path.display());
        }
    }
    files.dedup();
    Ok(files)
}

/// `path:line:col: error[code]: message`, one per diagnostic (1-based
/// line and column as compilers print them), then a summary line. Model
/// and archive lines refer to their text view (`neuride print`).
fn print_human(
    out: &mut impl Write,
    reports: &[FileReport],
    summary: &Summary,
) -> std::io::Result<()> {
    for report in reports {
        for diagnostic in &report.diagnostics {
            let severity = match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            writeln!(
                out,
                "{}:{}:{}: {severity}[{}]: {}",
                report.path,
                diagnostic.range.start.line + 1,
                diagnostic.range.start.character + 1,
                diagnostic.code,
                diagnostic.message
            )?;
        }
    }
    writeln!(
        out,
        "checked {} file{}: {} error{}, {} warning{}",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        summary.errors,
        if summary.errors == 1 { "" } else { "s" },
        summary.warnings,
        if summary.warnings == 1 { "" } else { "s" },
    )
}
