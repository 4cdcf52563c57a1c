//! `neuride convert` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("'neuride convert' is not implemented yet")
}
