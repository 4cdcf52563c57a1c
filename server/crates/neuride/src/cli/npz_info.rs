//! `neuride info` for `.npz` / `.npy` archives (not built yet).

use std::process::ExitCode;

pub fn run(path: &std::path::Path, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("{}: archive summaries are not implemented yet", path.display())
}
