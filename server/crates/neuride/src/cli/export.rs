//! `neuride export nir FILE.neuro --network NAME -o OUT.nir`: a network of a
//! `.neuro` file written as NIR, for snnTorch, Norse, Sinabs, Lava and the
//! neuromorphic hardware that reads it (`neuride_ide::run::nir`).

use neuride_ide::run::nir::{DEFAULT_DT_MS, export_neuro};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a network as NIR (.nir): what NIR cannot say is printed.
    Nir(NirArgs),
}

#[derive(clap::Args)]
pub struct NirArgs {
    /// The .neuro file.
    pub file: PathBuf,
    /// The network to export (written layer by layer, or `convert(MODEL)`).
    #[arg(long)]
    pub network: String,
    /// The NIR file to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The step (ms) step-based neurons are written for (NIR's neurons are
    /// continuous-time; 0.1 is snnTorch's convention, Norse's is 1).
    #[arg(long, default_value_t = DEFAULT_DT_MS)]
    pub dt_ms: f32,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Nir(args) => {
            neuride_ide::run::output_format(&args.output, &["nir"])?;
            let exported = export_neuro(&args.file, &args.network, args.dt_ms, &args.output)?;
            let mut out = std::io::stdout().lock();
            print_notes(&mut out, &exported.notes)?;
            use std::io::Write;
            writeln!(
                out,
                "wrote {} ({} network `{}` as NIR, dt = {} ms)",
                args.output.display(),
                exported.network_kind,
                args.network,
                args.dt_ms
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What NIR does not say about an exported network, one note a line.
pub fn print_notes(out: &mut impl std::io::Write, notes: &[String]) -> std::io::Result<()> {
    for note in notes {
        writeln!(out, "note  {note}")?;
    }
    Ok(())
}
