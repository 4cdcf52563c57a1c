//! `neuride weights export|import|map` (not built yet).

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write every initializer of a model to an .npz archive.
    Export { model: std::path::PathBuf },
}

pub fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("'neuride weights' is not implemented yet")
}
