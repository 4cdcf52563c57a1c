//! `neuride simulate`: convert an ONNX ReLU network (or read an
//! `ai.neuride.snn` model) and simulate a data set through it, printing the
//! accuracy / steps / rates / synops report (text or JSON). A `.neuro` file
//! runs one of its `simulate` blocks instead (`--run NETWORK`), with the
//! settings the file gives (`neuride_ide::run`).

use anyhow::{Context, bail};
use neuride_convert::{
    ConvertOptions, Decode, Encode, Neuron, Normalize, Reset, SimOptions, SimulateOptions,
    SimulateReport, Tensor, Weights,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct Args {
    /// The model: an ONNX ReLU network, or an ONNX model with ai.neuride.snn neurons (.neuro files: see --run).
    pub model: PathBuf,
    /// Samples (.npz): inputs under --inputs, labels under --labels.
    /// Required for ONNX models; a .neuro file names its dataset itself.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Key of the inputs in --data.
    #[arg(long, default_value = "x")]
    pub inputs: String,
    /// Key of the labels in --data (accuracy is reported when present).
    #[arg(long, default_value = "y")]
    pub labels: String,
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Neuron replacing each ReLU: if, lif or leaky.
    #[arg(long, default_value = "if")]
    pub neuron: String,
    /// Leak factor for --neuron leaky.
    #[arg(long, default_value_t = 0.95)]
    pub beta: f32,
    /// none, max or percentile:P (e.g. percentile:99.9).
    #[arg(long, default_value = "percentile:99.9")]
    pub normalize: String,
    /// Calibration samples (.npz, key --inputs); defaults to --data.
    #[arg(long)]
    pub calib: Option<PathBuf>,
    /// Weights by initializer name (.npz) replacing the model's.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// current or rate (or latency, delta).
    #[arg(long, default_value = "current")]
    pub encode: String,
    /// auto, count, membrane or first_spike.
    #[arg(long, default_value = "auto")]
    pub decode: String,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Simulate only the first N samples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Step length in milliseconds.
    #[arg(long, default_value_t = 1.0)]
    pub dt_ms: f32,
    /// Seed of the rate encoder.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Turn MaxPool into average pooling.
    #[arg(long)]
    pub max_to_avg: bool,
    /// For .neuro files: the simulate block to run, by its network's name
    /// (`--run snn`, or `--run "snn on test"`); default: the first one. The
    /// block's own settings apply; the options above are for ONNX models.
    #[arg(long)]
    pub run: Option<String>,
    /// text or json.
    #[arg(long, default_value = "text")]
    pub format: String,
}

pub fn parse_neuron(name: &str, beta: f32) -> anyhow::Result<Neuron> {
    Ok(match name {
        "if" => Neuron::conversion_if(),
        "lif" => Neuron::nengo_lif(),
        "leaky" => Neuron::Leaky {
            beta,
            threshold: 1.0,
            reset: Reset::Subtract,
        },
        other => bail!("--neuron must be if, lif or leaky, found '{other}'"),
    })
}

pub fn parse_normalize(text: &str) -> anyhow::Result<Normalize> {
    Ok(match text {
        "none" => Normalize::None,
        "max" => Normalize::Max,
        _ => match text
            .strip_prefix("percentile:")
            .or_else(|| text.strip_prefix("percentile="))
        {
            Some(p) => Normalize::Percentile {
                p: p.parse().with_context(|| {
                    format!("--normalize percentile:P needs a number, found '{p}'")
                })?,
            },
            None => bail!("--normalize must be none, max or percentile:P, found '{text}'"),
        },
    })
}

fn parse_encode(text: &str, seed: u64) -> anyhow::Result<Encode> {
    Ok(match text {
        "current" => Encode::Current,
        "rate" => Encode::Rate {
            max_rate: None,
            seed,
        },
        "latency" => Encode::Latency {
            tau: 0.005,
            threshold: 0.01,
        },
        "delta" => Encode::Delta { threshold: 0.1 },
        other => bail!("--encode must be current, rate, latency or delta, found '{other}'"),
    })
}

fn parse_decode(text: &str) -> anyhow::Result<Decode> {
    Ok(match text {
        "auto" => Decode::Auto,
        "count" => Decode::Count,
        "membrane" => Decode::Membrane,
        "first_spike" | "first-spike" => Decode::FirstSpike,
        other => bail!("--decode must be auto, count, membrane or first_spike, found '{other}'"),
    })
}

/// Reads one array of an `.npz` as f32 with its shape.
pub fn read_array(path: &Path, key: &str) -> anyhow::Result<Tensor> {
    Ok(neuride_ide::run::read_array(path, key)?)
}

fn read_labels(path: &Path, key: &str) -> anyhow::Result<Option<Vec<i64>>> {
    Ok(neuride_ide::run::read_labels(path, key)?)
}

/// All arrays of an `.npz` as weights by name.
pub fn read_weights(path: &Path) -> anyhow::Result<Weights> {
    Ok(neuride_ide::run::read_weights(path)?)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let json = match args.format.as_str() {
        "json" => true,
        "text" => false,
        other => bail!("--format must be text or json, found '{other}'"),
    };
    if args.model.extension().is_some_and(|e| e == "neuro") {
        return run_neuro(&args, json);
    }
    let report = simulate_model(&args, &mut |_| {}, &AtomicBool::new(false))?;
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        use std::io::Write;
        writeln!(stdout)?;
    } else {
        print_text(&mut stdout, &args, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads what `args` names and runs the simulation; shared by the CLI and
/// the language server's `neuride.simulate` (which passes its progress
/// callback and cancel flag).
pub fn simulate_model(
    args: &Args,
    progress: &mut dyn FnMut(neuride_convert::Progress),
    cancel: &AtomicBool,
) -> anyhow::Result<SimulateReport> {
    let model = neuride_onnx::load::load_file(&args.model)
        .with_context(|| format!("cannot load {}", args.model.display()))?;
    let Some(data_path) = args.data.as_deref() else {
        bail!(
            "{}: --data D.npz is required to simulate an ONNX model (a .neuro file names its dataset in `simulate NETWORK on DATASET`)",
            args.model.display()
        );
    };
    let data = read_array(data_path, &args.inputs)?;
    let labels = read_labels(data_path, &args.labels)?;
    let calib = match &args.calib {
        Some(path) => read_array(path, &args.inputs)?,
        None => data.clone(),
    };
    let weights = args.weights.as_deref().map(read_weights).transpose()?;
    let opts = SimulateOptions {
        convert: ConvertOptions {
            neuron: parse_neuron(&args.neuron, args.beta)?,
            normalize: parse_normalize(&args.normalize)?,
            max_to_avg: args.max_to_avg,
            ..ConvertOptions::default()
        },
        sim: SimOptions {
            steps: args.steps,
            dt: args.dt_ms / 1000.0,
            encode: parse_encode(&args.encode, args.seed)?,
            decode: parse_decode(&args.decode)?,
            batch: args.batch,
        },
        limit: args.limit,
    };
    let report = neuride_convert::simulate(
        &model.proto,
        weights.as_ref(),
        &data,
        labels.as_deref(),
        Some(&calib),
        &opts,
        progress,
        cancel,
    )
    .with_context(|| format!("simulating {}", args.model.display()))?;
    super::ensure_not_truncated(&model, &args.model)?;
    Ok(report)
}

/// `neuride simulate FILE.neuro [--run NETWORK]`: the block as the file says.
fn run_neuro(args: &Args, json: bool) -> anyhow::Result<ExitCode> {
    let run = neuride_ide::run::simulate_neuro(
        &args.model,
        args.run.as_deref(),
        &mut |_| {},
        &AtomicBool::new(false),
    )?;
    let mut stdout = std::io::stdout().lock();
    use std::io::Write;
    if json {
        serde_json::to_writer_pretty(&mut stdout, &run)?;
        writeln!(stdout)?;
    } else {
        writeln!(
            stdout,
            "simulate {} on {} ({} network)",
            run.network, run.dataset, run.network_kind
        )?;
        print_text(&mut stdout, args, &run.report)?;
        for note in &run.notes {
            writeln!(stdout, "note          {note}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(
    out: &mut impl std::io::Write,
    args: &Args,
    r: &SimulateReport,
) -> std::io::Result<()> {
    let s = &r.sim;
    writeln!(
        out,
        "{}: {} samples x {} steps, neuron {}, normalize {}, encode {}, decode {}",
        args.model.display(),
        s.samples,
        s.steps,
        r.neuron,
        r.normalize,
        s.encode,
        s.decode
    )?;
    if let Some(accuracy) = s.accuracy {
        let ann = r
            .ann_accuracy
            .map(|a| format!(" (ANN {:.2} %)", a * 100.0))
            .unwrap_or_default();
        writeln!(out, "accuracy      {:.2} %{ann}", accuracy * 100.0)?;
        let marks: Vec<String> = [1usize, 5, 10, 25, 50, 100, 200]
            .iter()
            .filter(|&&t| t <= s.steps)
            .map(|&t| format!("{t}: {:.1}", s.accuracy_per_step[t - 1] * 100.0))
            .collect();
        writeln!(out, "per step      {}", marks.join("  "))?;
    }
    for rate in &s.rates {
        writeln!(
            out,
            "rate          {:<28} {:>7} neurons  {:.4} spikes/step ({:.1} Hz)",
            rate.layer, rate.neurons, rate.rate, rate.rate_hz
        )?;
    }
    writeln!(
        out,
        "synops        {:.0} per sample ({:.2} x the ANN's {:.0} MACs)",
        s.synops_per_sample,
        s.synops_per_sample / s.macs_per_sample.max(1.0),
        s.macs_per_sample
    )?;
    writeln!(out, "sparsity      {:.3}", s.sparsity)?;
    writeln!(
        out,
        "wall          {:.3} s ({:.0} sample-steps/s)",
        s.wall_s,
        (s.samples * s.steps) as f64 / s.wall_s.max(1e-9)
    )?;
    Ok(())
}
