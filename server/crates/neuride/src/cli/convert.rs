//! `neuride convert MODEL.onnx --calib C.npz -o OUT.neuro`: writes the
//! spiking network as OUT.neuro, its weights as OUT.npz and an ONNX model
//! with ai.neuride.snn neuron ops as OUT.snn.onnx; `-o OUT.nir` writes it
//! as one NIR file instead.

use neuride_ide::run::model::{self, ConvertModel, convert_model};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The trained ReLU network (.onnx).
    pub model: PathBuf,
    /// Calibration samples (.npz) for data-based normalisation.
    #[arg(long)]
    pub calib: Option<PathBuf>,
    /// Key of the samples in --calib.
    #[arg(long, default_value_t = defaults().inputs)]
    pub inputs: String,
    /// Output .neuro file (OUT.npz and OUT.snn.onnx are written beside
    /// it), or a .nir file (NIR, the neuromorphic exchange format).
    #[arg(short, long)]
    pub output: PathBuf,
    /// For -o OUT.nir: the step (ms) the neurons are written for (NIR's
    /// neurons are continuous-time; 0.1 is snnTorch's convention).
    #[arg(long, default_value_t = neuride_ide::run::nir::DEFAULT_DT_MS)]
    pub dt_ms: f32,
    /// Weights by initializer name (.npz) replacing the model's.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    #[command(flatten)]
    pub conversion: Conversion,
}

/// How a ReLU network becomes a spiking one: the flags `convert` and
/// `simulate` share (their defaults are [`model::Conversion`]'s).
#[derive(clap::Args)]
pub struct Conversion {
    /// if, lif or leaky.
    #[arg(long, default_value_t = defaults().conversion.neuron)]
    pub neuron: String,
    /// Leak factor for --neuron leaky.
    #[arg(long, default_value_t = defaults().conversion.beta)]
    pub beta: f32,
    /// none, max, percentile:P or qcfs:T (qcfs alone in simulate: fitted to --steps).
    #[arg(long, default_value_t = defaults().conversion.normalize)]
    pub normalize: String,
    /// Turn MaxPool into average pooling (else a spiking max-pool).
    #[arg(long)]
    pub max_to_avg: bool,
    /// if neurons emit at most N spikes per step (default: as many as the membrane holds).
    #[arg(long)]
    pub max_spikes: Option<u32>,
    /// if neurons may take spikes back (signed spikes, total never below 0).
    #[arg(long)]
    pub signed: bool,
    /// Membrane at the first step, as a fraction of the threshold.
    #[arg(long, default_value_t = defaults().conversion.initial_membrane)]
    pub initial_membrane: f32,
}

fn defaults() -> ConvertModel {
    ConvertModel::default()
}

impl Conversion {
    /// These flags as the run's settings.
    pub fn settings(&self) -> model::Conversion {
        model::Conversion {
            neuron: self.neuron.clone(),
            beta: self.beta,
            normalize: self.normalize.clone(),
            max_to_avg: self.max_to_avg,
            max_spikes: self.max_spikes,
            signed: self.signed,
            initial_membrane: self.initial_membrane,
        }
    }
}

impl Args {
    /// The conversion's options, as the language server would deserialize them.
    pub fn options(&self) -> ConvertModel {
        ConvertModel {
            calib: self.calib.clone(),
            inputs: self.inputs.clone(),
            weights: self.weights.clone(),
            conversion: self.conversion.settings(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Checked first: converting takes a while.
    if neuride_ide::run::output_format(&args.output, &["neuro", "nir"])? == "nir" {
        return run_nir(&args);
    }
    let written = convert_model(&args.model, &args.options(), &args.output)?;
    let (converted, npz_path, onnx_path) = (written.converted, written.npz, written.onnx);
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for scale in &converted.scales {
        writeln!(out, "lambda {:<28} {:.4}", scale.layer, scale.lambda)?;
    }
    writeln!(
        out,
        "wrote {}, {}, {}",
        args.output.display(),
        npz_path.display(),
        onnx_path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `-o OUT.nir`: the converted network as one NIR file, and what NIR does
/// not say about it.
fn run_nir(args: &Args) -> anyhow::Result<ExitCode> {
    let (converted, notes) = neuride_ide::run::model::convert_model_to_nir(
        &args.model,
        &args.options(),
        args.dt_ms,
        &args.output,
    )?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for scale in &converted.scales {
        writeln!(out, "lambda {:<28} {:.4}", scale.layer, scale.lambda)?;
    }
    super::export::print_notes(&mut out, &notes)?;
    writeln!(
        out,
        "wrote {} (NIR, dt = {} ms)",
        args.output.display(),
        args.dt_ms
    )?;
    Ok(ExitCode::SUCCESS)
}
