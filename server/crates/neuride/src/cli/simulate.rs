//! `neuride simulate`: convert an ONNX ReLU network (or read an
//! `ai.neuride.snn` model) and simulate a data set through it, printing the
//! accuracy / steps / rates / synops report (text or JSON). A `.neuro` file
//! runs one of its `simulate` blocks instead (`--run NETWORK`), with the
//! settings the file gives (`neuride_ide::run`).

use neuride_convert::SimulateReport;
use neuride_ide::run::model::{SimulateModel, simulate_model};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct Args {
    /// The model: an ONNX ReLU network, an ONNX model with ai.neuride.snn
    /// neurons, or a NIR file (.nir; .neuro files: see --run).
    pub model: PathBuf,
    /// Samples (.npz): inputs under --inputs, labels under --labels.
    /// Required for ONNX models; a .neuro file names its dataset itself.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Key of the inputs in --data. A NIR graph of several Inputs reads
    /// the array of each Input's name, or NAME=KEY,NAME=KEY.
    #[arg(long, default_value_t = defaults().inputs)]
    pub inputs: String,
    /// Key of the labels in --data (accuracy is reported when present).
    #[arg(long, default_value_t = defaults().labels)]
    pub labels: String,
    #[arg(long, default_value_t = defaults().steps)]
    pub steps: usize,
    #[command(flatten)]
    pub conversion: super::convert::Conversion,
    /// Calibration samples (.npz, key --inputs); defaults to --data.
    #[arg(long)]
    pub calib: Option<PathBuf>,
    /// Weights by initializer name (.npz) replacing the model's.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// current or rate (or latency, delta).
    #[arg(long, default_value_t = defaults().encode)]
    pub encode: String,
    /// auto, count, membrane or first_spike.
    #[arg(long, default_value_t = defaults().decode)]
    pub decode: String,
    #[arg(long, default_value_t = defaults().batch)]
    pub batch: usize,
    /// Simulate only the first N samples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Step length in milliseconds (default 1; for .nir files 0.1, the
    /// step snnTorch's exporter writes for; Norse's files: 1).
    #[arg(long)]
    pub dt_ms: Option<f32>,
    /// Seed of the rate encoder.
    #[arg(long, default_value_t = defaults().seed)]
    pub seed: u64,
    /// Simulation threads (0: one per core).
    #[arg(long, default_value_t = defaults().threads)]
    pub threads: usize,
    /// For .neuro files: the simulate block to run, by its network's name
    /// (`--run snn`, or `--run "snn on test"`); default: the first one. The
    /// block's own settings apply; the options above are for ONNX models.
    #[arg(long)]
    pub run: Option<String>,
    /// text or json (`neuride sweep`: also csv).
    #[arg(long, default_value = "text")]
    pub format: String,
}

fn defaults() -> SimulateModel {
    SimulateModel::default()
}

impl Args {
    /// The run's options, as the language server would deserialize them.
    pub fn options(&self) -> SimulateModel {
        SimulateModel {
            data: self.data.clone(),
            inputs: self.inputs.clone(),
            labels: self.labels.clone(),
            steps: self.steps,
            conversion: self.conversion.settings(),
            calib: self.calib.clone(),
            weights: self.weights.clone(),
            encode: self.encode.clone(),
            decode: self.decode.clone(),
            batch: self.batch,
            limit: self.limit,
            dt_ms: self.dt_ms,
            seed: self.seed,
            threads: self.threads,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let json = super::is_json(&args.format)?;
    if args.model.extension().is_some_and(|e| e == "neuro") {
        return run_neuro(&args, json);
    }
    run_model(&args.model, &args.options(), json)
}

/// Simulates the ONNX model at `model` and prints the report (`json`, else text).
pub fn run_model(model: &Path, options: &SimulateModel, json: bool) -> anyhow::Result<ExitCode> {
    let report = simulate_model(model, options, &mut |_| {}, &AtomicBool::new(false))?;
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        use std::io::Write;
        writeln!(stdout)?;
    } else {
        print_text(&mut stdout, model, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `neuride simulate FILE.neuro [--run NETWORK]`: the block as the file says.
fn run_neuro(args: &Args, json: bool) -> anyhow::Result<ExitCode> {
    let run = neuride_ide::run::simulate_neuro(
        &neuride_ide::run::read_neuro(&args.model)?,
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
        print_text(&mut stdout, &args.model, &run.report)?;
        for note in &run.notes {
            writeln!(stdout, "note          {note}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(
    out: &mut impl std::io::Write,
    model: &Path,
    r: &SimulateReport,
) -> std::io::Result<()> {
    let s = &r.sim;
    writeln!(
        out,
        "{}: {} samples x {} steps, neuron {}, normalize {}, encode {}, decode {}",
        model.display(),
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
