//! `neuride weights export|import|map`: move weights between an ONNX model
//! and an `.npz` archive. Outputs are written atomically; a failed import
//! lists every problem and writes nothing.

use anyhow::Context;
use neuride_ide::run::output_format;
use neuride_ide::weights::{self, WeightMap, WeightProblem};
use neuride_npz::WriteOptions;
use neuride_onnx::Severity;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write every initializer of a model (external data included) to an .npz archive.
    Export {
        model: PathBuf,
        /// The archive to write (.npz).
        #[arg(short, long)]
        output: PathBuf,
        /// Deflate the entries (like numpy.savez_compressed).
        #[arg(long)]
        compress: bool,
    },
    /// Replace a model's initializers with the arrays of an archive (by name, or through --map).
    Import {
        model: PathBuf,
        archive: PathBuf,
        /// The model to write (.onnx).
        #[arg(short, long)]
        output: PathBuf,
        /// JSON map from array name to initializer, e.g.
        /// {"arr_0": {"initializer": "fc1.weight", "transpose": true}, "arr_1": "fc1.bias"}
        #[arg(long)]
        map: Option<PathBuf>,
    },
    /// Propose a --map for an archive (matched by shape, order and name similarity): check it before use.
    Map {
        model: PathBuf,
        archive: PathBuf,
        /// Write the map here (.json) instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export {
            model,
            output,
            compress,
        } => {
            output_format(&output, &["npz"])?;
            export(&model, &output, compress)
        }
        Command::Import {
            model,
            archive,
            output,
            map,
        } => {
            output_format(&output, &["onnx"])?;
            import(&model, &archive, &output, map.as_deref())
        }
        Command::Map {
            model,
            archive,
            output,
        } => {
            if let Some(output) = &output {
                output_format(output, &["json"])?;
            }
            propose(&model, &archive, output.as_deref())
        }
    }
}

fn load_model(path: &Path) -> anyhow::Result<neuride_onnx::load::Model> {
    neuride_onnx::load::load_file(path)
        .with_context(|| format!("cannot load model {}", path.display()))
}

/// Prints problems as `FILE: severity[code]: message`; true if any is an error.
fn report(file: &Path, problems: &[WeightProblem]) -> anyhow::Result<bool> {
    let mut err = std::io::stderr().lock();
    for problem in problems {
        writeln!(err, "{}: {problem}", file.display())?;
    }
    Ok(problems.iter().any(|p| p.severity == Severity::Error))
}

fn export(model_path: &Path, output: &Path, compress: bool) -> anyhow::Result<ExitCode> {
    let model = load_model(model_path)?;
    let options = if compress {
        WriteOptions::deflated()
    } else {
        WriteOptions::stored()
    };
    let bytes = match weights::export(&model.proto, model.dir().as_ref(), options) {
        Ok(bytes) => bytes,
        Err(problems) => {
            report(model_path, &problems)?;
            writeln!(std::io::stderr(), "{}: nothing written", output.display())?;
            return Ok(ExitCode::from(1));
        }
    };
    weights::write_atomically(output, &bytes)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let count = model
        .proto
        .graph
        .as_ref()
        .map_or(0, |g| g.initializer.len());
    writeln!(
        std::io::stdout().lock(),
        "wrote {count} arrays ({} bytes) to {}",
        bytes.len(),
        output.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn list_archive<'a>(path: &Path, bytes: &'a [u8]) -> anyhow::Result<neuride_npz::Archive<'a>> {
    neuride_npz::list(bytes).with_context(|| format!("{}: cannot list the archive", path.display()))
}

fn import(
    model_path: &Path,
    archive_path: &Path,
    output: &Path,
    map_path: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let mut model = load_model(model_path)?;
    let bytes = weights::map_file(archive_path)
        .with_context(|| format!("cannot read {}", archive_path.display()))?;
    let archive = list_archive(archive_path, &bytes)?;
    let map = match map_path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read map {}", path.display()))?;
            Some(WeightMap::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    match weights::import(&mut model.proto, &archive, map.as_ref()) {
        Ok(result) => {
            report(archive_path, &result.warnings)?;
            let encoded = weights::encode_model(&model.proto);
            weights::write_atomically(output, &encoded)
                .with_context(|| format!("cannot write {}", output.display()))?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "replaced {}",
                counted(&result.replaced, "initializers")
            )?;
            if !result.kept.is_empty() {
                let kept = counted(&result.kept, "initializers unchanged");
                writeln!(out, "kept {kept}")?;
            }
            writeln!(out, "wrote {}", output.display())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            report(archive_path, &problems)?;
            writeln!(
                std::io::stderr(),
                "{} problem(s); {} not written",
                problems.len(),
                output.display()
            )?;
            Ok(ExitCode::from(1))
        }
    }
}

fn propose(
    model_path: &Path,
    archive_path: &Path,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let model = load_model(model_path)?;
    let bytes = weights::map_file(archive_path)
        .with_context(|| format!("cannot read {}", archive_path.display()))?;
    let archive = list_archive(archive_path, &bytes)?;
    let map = weights::propose_map(&model.proto, &archive);
    let json = map.to_json() + "\n";
    match output {
        Some(path) => {
            weights::write_atomically(path, json.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(
                std::io::stdout().lock(),
                "wrote a map of {} arrays to {} (check it before importing)",
                map.entries.len(),
                path.display()
            )?;
        }
        None => write!(std::io::stdout().lock(), "{json}")?,
    }
    let unmatched: Vec<&str> = archive
        .names()
        .filter(|n| !map.entries.contains_key(*n))
        .collect();
    if !unmatched.is_empty() {
        writeln!(
            std::io::stderr(),
            "{}: no initializer fits array(s): {}",
            archive_path.display(),
            unmatched.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `N WHAT: a, b, c`.
fn counted(names: &[String], what: &str) -> String {
    format!("{} {what}: {}", names.len(), names.join(", "))
}
