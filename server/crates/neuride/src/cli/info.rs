//! `neuride info MODEL`: the summary of a model (or, for `.npz`/`.npy`, of
//! a weight archive).

use super::classify::Format;
use neuride_onnx::summary::Summary;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A model (.onnx) or a weight archive (.npz, .npy).
    pub path: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ext = args
        .path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "npz" || ext == "npy" {
        return super::npz_info::run(&args.path, args.format == Format::Json);
    }
    let model = super::classify::load(&args.path)?;
    let shapes = neuride_onnx::shape::infer(&model.proto);
    let summary = neuride_onnx::summary::summarize(&model.proto, &shapes);
    let classification = model.classification;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "path": args.path.display().to_string(),
                "kind": classification.kind,
                "confidence": classification.confidence,
                "summary": summary,
                "shape_diagnostics": shapes.diagnostics,
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Human => {
            write_human(
                &mut out,
                &args.path.display().to_string(),
                &summary,
                classification.kind.as_str(),
            )?;
            for d in &shapes.diagnostics {
                writeln!(out, "  {:?} {}: {}", d.severity, d.code, d.message)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_human(out: &mut impl Write, path: &str, s: &Summary, kind: &str) -> std::io::Result<()> {
    writeln!(out, "{path}")?;
    writeln!(out, "  kind:        {kind}")?;
    writeln!(
        out,
        "  producer:    {} {}",
        s.producer_name, s.producer_version
    )?;
    writeln!(
        out,
        "  ir_version:  {}   opsets: {}",
        s.ir_version,
        neuride_onnx::summary::opsets_text(&s.opsets, ":")
    )?;
    for i in &s.inputs {
        writeln!(out, "  input:       {} {}", i.name, i.ty)?;
    }
    for o in &s.outputs {
        writeln!(out, "  output:      {} {}", o.name, o.ty)?;
    }
    writeln!(
        out,
        "  nodes:       {} ({} incl. subgraphs)",
        s.node_count, s.total_node_count
    )?;
    let hist: Vec<String> = s
        .op_histogram
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    writeln!(out, "  ops:         {}", hist.join(", "))?;
    writeln!(
        out,
        "  parameters:  {} in {} initializers ({} bytes)",
        s.parameters, s.initializer_count, s.parameter_bytes
    )?;
    match &s.macs_note {
        Some(note) => writeln!(out, "  MACs:        {} ({note})", s.macs)?,
        None => writeln!(out, "  MACs:        {}", s.macs)?,
    }
    for e in &s.external_data {
        writeln!(
            out,
            "  external:    {} ({} tensors, {} bytes)",
            e.location, e.tensors, e.bytes
        )?;
    }
    Ok(())
}
