//! `neuride classify MODEL...`: snn | ml | dl | mixed | unknown, with the
//! confidence and the evidence behind it.

use anyhow::Context;
use neuride_onnx::classify::{Classification, classify};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Model files, or folders searched recursively for .onnx files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(serde::Serialize)]
struct Entry<'a> {
    path: String,
    #[serde(flatten)]
    classification: &'a Classification,
}

/// Files named directly, plus `.onnx` files under named folders (sorted).
pub fn model_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "onnx" || e == "nir") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?
        } else {
            out.push(p.clone())
        }
    }
    Ok(out)
}

/// A model and what kind it is.
pub struct Loaded {
    /// The ONNX model, or a NIR file's ONNX view (`neuride_ide::model::nir`).
    pub proto: neuride_onnx::proto::ModelProto,
    pub classification: Classification,
}

/// Loads a model (`.onnx`, or `.nir` through its ONNX view), naming the
/// file in the error.
pub fn load(path: &Path) -> anyhow::Result<Loaded> {
    if neuride_ide::run::nir::is_nir(path) {
        let bytes = neuride_ide::source::read_file(path)
            .with_context(|| format!("{}: cannot read the NIR file", path.display()))?;
        let analysis = neuride_ide::model::ModelAnalysis::from_nir(path, &bytes);
        let Some(facts) = analysis.facts else {
            let problems: Vec<&str> = analysis
                .diagnostics
                .iter()
                .map(|d| d.message.as_str())
                .collect();
            anyhow::bail!(
                "{}: not a NIR file: {}",
                path.display(),
                problems.join("; ")
            );
        };
        return Ok(Loaded {
            proto: facts.proto,
            classification: facts.classification,
        });
    }
    let model = neuride_onnx::load::load_file(path)
        .with_context(|| format!("{}: cannot load the model", path.display()))?;
    let classification = classify(&model.proto);
    Ok(Loaded {
        proto: model.proto,
        classification,
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let files = model_files(&args.paths)?;
    let mut results = Vec::with_capacity(files.len());
    for path in &files {
        let model = load(path)?;
        results.push((path.display().to_string(), model.classification));
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let entries: Vec<Entry> = results
                .iter()
                .map(|(p, c)| Entry {
                    path: p.clone(),
                    classification: c,
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &entries)?;
            writeln!(out)?;
        }
        Format::Human => {
            for (path, c) in &results {
                writeln!(out, "{path}: {} (confidence {:.2})", c.kind, c.confidence)?;
                for e in &c.evidence {
                    writeln!(out, "  - [{}] {}", e.kind, e.message)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
