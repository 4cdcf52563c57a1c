//! `neuride infer MODEL --input IN.npz [-o OUT.npz] [--labels y] [--format json]`:
//! runs a DL or classic-ML model on data files and optionally scores it.
//! `neuride infer FILE.neuro [--run MODEL]` runs an `infer` block of the file.

use neuride_ide::run::model::{Engine, InferModel, InputFile, infer_model};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct Args {
    /// The model (.onnx), or a .neuro file whose `infer` block runs (see --run).
    pub model: PathBuf,
    /// Input data: FILE.npz (keys = input names), FILE.npy or FILE.json, or
    /// NAME=FILE (.npy, .pb TensorProto, .json) for one input. Repeatable.
    /// Required for ONNX models; a .neuro file names its dataset itself.
    #[arg(long = "input", short = 'i')]
    pub inputs: Vec<InputFile>,
    /// Write the outputs to this file (.npz keyed by output name, or .json;
    /// any other extension is an error), or to a folder (`DIR/`, one
    /// `output_<i>.pb` per output as ONNX's backend tests store them).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Score against labels: a key of an input .npz (e.g. `y`) or a .npy file.
    #[arg(long)]
    pub labels: Option<String>,
    /// How to print the result on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Rows per batch when the model's first dimension is free.
    #[arg(long, default_value_t = InferModel::default().batch)]
    pub batch: usize,
    /// For .neuro files: the infer block to run, by its model's name
    /// (default: the first one); the block's own settings apply.
    #[arg(long)]
    pub run: Option<String>,
    /// The engine: auto (neuride's native kernels when the graph is within
    /// their op set, else tract for the float graphs it runs faithfully,
    /// else neuride's evaluator, else onnxruntime when installed), or always
    /// one of native, tract, evaluator, ort (the onnxruntime you have:
    /// ORT_DYLIB_PATH or a pip-installed onnxruntime).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum EngineArg {
    Auto,
    Native,
    Tract,
    Evaluator,
    Ort,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Auto => Engine::Auto,
            EngineArg::Native => Engine::Native,
            EngineArg::Tract => Engine::Tract,
            EngineArg::Evaluator => Engine::Evaluator,
            EngineArg::Ort => Engine::Ort,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Text,
    Json,
}

impl Args {
    /// The run's options, as the language server would deserialize them.
    pub fn options(&self) -> InferModel {
        InferModel {
            input: self.inputs.clone(),
            labels: self.labels.clone(),
            output: self.output.clone(),
            batch: self.batch,
            engine: self.engine.into(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.model.extension().is_some_and(|e| e == "neuro") {
        return run_neuro(&args);
    }
    let inferred = infer_model(
        &args.model,
        &args.options(),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )?;
    for name in &inferred.not_written {
        eprintln!(
            "neuride: output '{name}' is a sequence or map; .npz cannot hold it (use -o FILE.json)"
        );
    }
    let report = &inferred.report;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(report)?)?,
        Format::Text => {
            writeln!(
                stdout,
                "{}: {} rows in {} batch(es) on {:?}, {:.2} ms",
                args.model.display(),
                report.rows,
                report.batches,
                report.engine,
                report.elapsed_ms
            )?;
            for (name, value) in &report.outputs {
                writeln!(stdout, "  {name}: {}", value.describe())?;
            }
            print_score(&mut stdout, report.score.as_ref())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_score(out: &mut impl Write, score: Option<&neuride_infer::Score>) -> std::io::Result<()> {
    match score {
        Some(neuride_infer::Score::Classification {
            accuracy,
            correct,
            total,
        }) => writeln!(out, "  accuracy: {accuracy:.4} ({correct}/{total})"),
        Some(neuride_infer::Score::Regression { mae, r2, total }) => {
            writeln!(out, "  MAE: {mae:.6}  R²: {r2:.6} ({total} rows)")
        }
        None => Ok(()),
    }
}

/// `neuride infer FILE.neuro [--run MODEL]`: the block as the file says.
fn run_neuro(args: &Args) -> anyhow::Result<ExitCode> {
    let run = neuride_ide::run::infer_neuro(
        &neuride_ide::run::read_neuro(&args.model)?,
        args.run.as_deref(),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&run)?)?,
        Format::Text => {
            writeln!(
                stdout,
                "infer {} on {}: {} rows in {} batch(es) on {:?}, {:.2} ms ({:.4} ms per row)",
                run.model,
                run.dataset,
                run.rows,
                run.batches,
                run.engine,
                run.wall_s * 1e3,
                run.latency_ms
            )?;
            for output in &run.outputs {
                writeln!(stdout, "  {}: {}", output.name, output.value)?;
            }
            print_score(&mut stdout, run.score.as_ref())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
