//! `neuride convert MODEL.onnx --calib C.npz -o OUT.neuro`: writes the
//! spiking network as OUT.neuro, its weights as OUT.npz and an ONNX model
//! with ai.neuride.snn neuron ops as OUT.snn.onnx.

use super::simulate::{parse_neuron, parse_normalize, read_array, read_weights};
use anyhow::{Context, bail};
use neuride_convert::{ConvertOptions, ExportInfo, Normalize};
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
    #[arg(long, default_value = "x")]
    pub inputs: String,
    /// Output .neuro file; OUT.npz and OUT.snn.onnx are written beside it.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Weights by initializer name (.npz) replacing the model's.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// if, lif or leaky.
    #[arg(long, default_value = "if")]
    pub neuron: String,
    #[arg(long, default_value_t = 0.95)]
    pub beta: f32,
    /// none, max or percentile:P.
    #[arg(long, default_value = "percentile:99.9")]
    pub normalize: String,
    /// Turn MaxPool into average pooling.
    #[arg(long)]
    pub max_to_avg: bool,
}

/// What a conversion wrote.
pub struct Written {
    pub converted: neuride_convert::Converted,
    pub neuro: PathBuf,
    pub npz: PathBuf,
    pub onnx: PathBuf,
}

/// Converts the model `args` names and writes OUT.neuro, OUT.npz and
/// OUT.snn.onnx; shared by the CLI and the language server's `neuride.convert`.
pub fn convert_model(args: &Args) -> anyhow::Result<Written> {
    // Checked first: converting takes a while, and OUT.npz and OUT.snn.onnx
    // are named after OUT.neuro.
    super::output::output_format(&args.output, &["neuro"])?;
    let model = neuride_onnx::load::load_file(&args.model)
        .with_context(|| format!("cannot load {}", args.model.display()))?;
    let normalize = parse_normalize(&args.normalize)?;
    let calib = match (&args.calib, normalize) {
        (Some(path), _) => Some(read_array(path, &args.inputs)?),
        (None, Normalize::None) => None,
        (None, _) => bail!(
            "--normalize {} needs calibration samples: pass --calib C.npz (or --normalize none)",
            args.normalize
        ),
    };
    let weights = args.weights.as_deref().map(read_weights).transpose()?;
    let opts = ConvertOptions {
        neuron: parse_neuron(&args.neuron, args.beta)?,
        normalize,
        max_to_avg: args.max_to_avg,
        ..ConvertOptions::default()
    };
    let converted = neuride_convert::convert(&model.proto, weights.as_ref(), calib.as_ref(), &opts)
        .with_context(|| format!("converting {}", args.model.display()))?;
    super::ensure_not_truncated(&model, &args.model)?;

    let stem = args
        .output
        .file_stem()
        .and_then(|s| s.to_str())
        .context("-o needs a file name like OUT.neuro")?
        .to_string();
    let dir = args.output.parent().map(PathBuf::from).unwrap_or_default();
    let npz_path = dir.join(format!("{stem}.npz"));
    let onnx_path = dir.join(format!("{stem}.snn.onnx"));
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let info = ExportInfo {
        name: if name.starts_with(|c: char| c.is_ascii_digit()) {
            format!("net_{name}")
        } else {
            name
        },
        source: args
            .model
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        npz_file: format!("{stem}.npz"),
        normalize: args.normalize.clone(),
    };
    let write = |path: &PathBuf, bytes: &[u8]| super::output::write_atomic(path, bytes);
    write(
        &args.output,
        neuride_convert::to_neuro(&converted.network, &info).as_bytes(),
    )?;
    write(&npz_path, &neuride_convert::npz_bytes(&converted.network)?)?;
    write(
        &onnx_path,
        &neuride_convert::onnx_bytes(&converted.network, &info),
    )?;
    Ok(Written {
        converted,
        neuro: args.output.clone(),
        npz: npz_path,
        onnx: onnx_path,
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Written {
        converted,
        npz: npz_path,
        onnx: onnx_path,
        ..
    } = convert_model(&args)?;
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
