//! `neuride print MODEL`: the model in ONNX's textual syntax, as
//! `onnx.printer.to_text` writes it.

use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The model file.
    pub path: std::path::PathBuf,
    /// Print tensors with more elements than this as `...` (default: all data).
    #[arg(long)]
    pub max_tensor_elements: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let model = super::classify::load(&args.path)?;
    let options = neuride_onnx::text::PrintOptions {
        max_tensor_elements: args.max_tensor_elements,
    };
    let view = neuride_onnx::text::print_with(&model.proto, &options);
    let mut out = std::io::stdout().lock();
    out.write_all(view.text.as_bytes())?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}
