//! `neuride infer MODEL --input IN.npz [-o OUT.npz] [--labels y] [--format json]`:
//! runs a DL or classic-ML model on data files and optionally scores it.
//! `neuride infer FILE.neuro [--run MODEL]` runs an `infer` block of the file.

use anyhow::{Context, bail};
use neuride_infer::{DType, Session, Tensor, Value, io};
use std::io::Write;
use std::path::{Path, PathBuf};
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
    pub inputs: Vec<String>,
    /// Write the outputs to this file (.npz keyed by output name, or .json;
    /// any other extension is an error).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Score against labels: a key of an input .npz (e.g. `y`) or a .npy file.
    #[arg(long)]
    pub labels: Option<String>,
    /// How to print the result on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Rows per batch when the model's first dimension is free.
    #[arg(long, default_value_t = neuride_infer::DEFAULT_BATCH_ROWS)]
    pub batch: usize,
    /// For .neuro files: the infer block to run, by its model's name
    /// (default: the first one); the block's own settings apply.
    #[arg(long)]
    pub run: Option<String>,
    /// The engine for DL models: native (neuride's kernels) when the graph
    /// is within its op set else tract (auto), or always one of them.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum EngineArg {
    Auto,
    Native,
    Tract,
}

impl From<EngineArg> for neuride_infer::EngineChoice {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Auto => neuride_infer::EngineChoice::Auto,
            EngineArg::Native => neuride_infer::EngineChoice::Native,
            EngineArg::Tract => neuride_infer::EngineChoice::Tract,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Loads every `--input`, plus the arrays of .npz inputs (where labels may live).
pub(crate) fn load_inputs(
    specs: &[String],
    labels: Option<&str>,
    session: &Session,
) -> anyhow::Result<(Vec<(String, Value)>, Vec<(String, Tensor)>)> {
    let signature = &session.signature;
    let mut inputs = Vec::new();
    let mut side_arrays = Vec::new();
    for spec in specs {
        let (name, file) = match spec.split_once('=') {
            Some((n, f)) if !n.is_empty() && !Path::new(spec).exists() => {
                (Some(n.to_owned()), PathBuf::from(f))
            }
            _ => (None, PathBuf::from(spec)),
        };
        let bytes = read(&file)?;
        let context = || format!("reading {}", file.display());
        match (extension(&file).as_str(), name) {
            ("npz", None) => {
                side_arrays.extend(
                    io::read_npz(&bytes)
                        .map_err(anyhow::Error::msg)
                        .with_context(context)?,
                );
                inputs.extend(
                    io::inputs_from_npz(&bytes, signature, labels.as_slice())
                        .map_err(anyhow::Error::msg)
                        .with_context(context)?,
                );
            }
            ("json", None) => {
                let text = String::from_utf8(bytes).with_context(context)?;
                inputs.extend(
                    neuride_infer::json::inputs_from_json(&text, signature)
                        .map_err(anyhow::Error::msg)
                        .with_context(context)?,
                );
            }
            ("npy", None) => {
                let [port] = signature.inputs.as_slice() else {
                    bail!(
                        "{} is one array but the model has {} inputs; use NAME=FILE.npy",
                        file.display(),
                        signature.inputs.len()
                    );
                };
                inputs.push((
                    port.name.clone(),
                    Value::Tensor(
                        io::read_npy(&bytes)
                            .map_err(anyhow::Error::msg)
                            .with_context(context)?,
                    ),
                ));
            }
            ("pb", None) => bail!(
                "{}: a .pb input needs its name: --input NAME={}",
                file.display(),
                file.display()
            ),
            (ext, Some(name)) => {
                let ty = signature
                    .inputs
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.ty.clone())
                    .unwrap_or(neuride_infer::ValueType::Unknown);
                let value = match ext {
                    "npy" => Value::Tensor(
                        io::read_npy(&bytes)
                            .map_err(anyhow::Error::msg)
                            .with_context(context)?,
                    ),
                    "json" => {
                        let text = String::from_utf8(bytes).with_context(context)?;
                        let wrapped = format!("{{{}: {text}}}", serde_json::to_string(&name)?);
                        neuride_infer::json::inputs_from_json(&wrapped, signature)
                            .map_err(anyhow::Error::msg)
                            .with_context(context)?
                            .remove(0)
                            .1
                    }
                    _ => io::read_pb(&bytes, &ty)
                        .map_err(anyhow::Error::msg)
                        .with_context(context)?,
                };
                inputs.push((name, value));
            }
            (ext, None) => bail!(
                "{}: unknown input format '.{ext}' (expected .npz, .npy, .json, or NAME=FILE.pb)",
                file.display()
            ),
        }
    }
    Ok((inputs, side_arrays))
}

fn load_labels(spec: &str, side_arrays: &[(String, Tensor)]) -> anyhow::Result<Tensor> {
    if let Some((_, t)) = side_arrays.iter().find(|(n, _)| n == spec) {
        return Ok(t.clone());
    }
    let path = Path::new(spec);
    if path.exists() {
        return io::read_npy(&read(path)?)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("reading labels {spec}"));
    }
    let keys: Vec<&str> = side_arrays.iter().map(|(n, _)| n.as_str()).collect();
    bail!("labels '{spec}': no such array in the input .npz (arrays: {keys:?}) and no such file")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if extension(&args.model) == "neuro" {
        return run_neuro(&args);
    }
    let bytes = read(&args.model)?;
    let session = Session::load_with(&bytes, args.engine.into())
        .with_context(|| format!("preparing {}", args.model.display()))?;
    run_session(&args, &session)
}

/// Reads the inputs `args` names, runs `session` on them (progress per
/// batch: rows done, rows in all), scores against the labels and writes
/// `-o`; shared by the CLI and the language server's `neuride.infer`.
pub(crate) fn infer_session(
    args: &Args,
    session: &Session,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> anyhow::Result<neuride_infer::InferReport> {
    if args.inputs.is_empty() {
        bail!(
            "{}: --input is required to run an ONNX model (a .neuro file names its dataset in `infer MODEL on DATASET`)",
            args.model.display()
        );
    }
    // Checked before the run, which may take long, rather than after it.
    let output_format = args
        .output
        .as_deref()
        .map(|out| super::output::output_format(out, &["npz", "json"]))
        .transpose()?;
    let (mut inputs, side_arrays) = load_inputs(&args.inputs, args.labels.as_deref(), session)?;
    // Widen integer data (e.g. u8 spike rasters) to a float input losslessly.
    for (name, value) in inputs.iter_mut() {
        let Some(want) = session.signature.inputs.iter().find(|p| &p.name == name) else {
            continue;
        };
        if let (
            neuride_infer::ValueType::Tensor {
                dtype: Some(DType::F32),
                ..
            },
            Value::Tensor(t),
        ) = (&want.ty, &*value)
            && matches!(t.dtype(), DType::U8 | DType::I8 | DType::Bool)
        {
            let data = t.data.to_f32().unwrap_or_default();
            *value = Value::Tensor(Tensor {
                shape: t.shape.clone(),
                data: data.into(),
            });
        }
    }
    let labels = args
        .labels
        .as_deref()
        .map(|l| load_labels(l, &side_arrays))
        .transpose()?;
    let mut report = neuride_infer::infer(session, inputs, args.batch, progress, cancel)
        .with_context(|| format!("running {}", args.model.display()))?;
    if let Some(labels) = &labels {
        report.score = Some(
            neuride_infer::score(&report.outputs, labels).context("scoring against the labels")?,
        );
    }
    if let (Some(out), Some(format)) = (&args.output, output_format) {
        if format == "json" {
            super::output::write_atomic(
                out,
                &serde_json::to_vec_pretty(&io::outputs_to_json(&report.outputs))?,
            )?;
        } else {
            let (bytes, skipped) =
                io::outputs_to_npz(&report.outputs).map_err(anyhow::Error::msg)?;
            super::output::write_atomic(out, &bytes)?;
            for name in skipped {
                eprintln!(
                    "neuride: output '{name}' is a sequence or map; .npz cannot hold it (use -o FILE.json)"
                );
            }
        }
    }
    Ok(report)
}

pub(crate) fn run_session(args: &Args, session: &Session) -> anyhow::Result<ExitCode> {
    let report = infer_session(args, session, &mut |_, _| {}, &AtomicBool::new(false))?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?,
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
            match &report.score {
                Some(neuride_infer::Score::Classification {
                    accuracy,
                    correct,
                    total,
                }) => writeln!(stdout, "  accuracy: {:.4} ({correct}/{total})", accuracy)?,
                Some(neuride_infer::Score::Regression { mae, r2, total }) => {
                    writeln!(stdout, "  MAE: {mae:.6}  R²: {r2:.6} ({total} rows)")?
                }
                None => {}
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `neuride infer FILE.neuro [--run MODEL]`: the block as the file says.
fn run_neuro(args: &Args) -> anyhow::Result<ExitCode> {
    let run = neuride_ide::run::infer_neuro(
        &args.model,
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
            match &run.score {
                Some(neuride_infer::Score::Classification {
                    accuracy,
                    correct,
                    total,
                }) => writeln!(stdout, "  accuracy: {accuracy:.4} ({correct}/{total})")?,
                Some(neuride_infer::Score::Regression { mae, r2, total }) => {
                    writeln!(stdout, "  MAE: {mae:.6}  R²: {r2:.6} ({total} rows)")?
                }
                None => {}
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
