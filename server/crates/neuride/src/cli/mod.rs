//! One module per subcommand; each has `Args` (or `Command`) and `run`.
//! Exit codes: 0 ok, 1 problems found (errors in `check`, mismatches), 2 the
//! command itself failed (bad arguments, unreadable file).

pub mod app;
pub mod check;
pub mod classify;
pub mod convert;
pub mod data;
pub mod export;
pub mod fmt;
pub mod infer;
pub mod info;
pub mod npz_info;
pub mod print;
pub mod rules;
pub mod run;
pub mod simulate;
pub mod sweep;
pub mod weights;

/// `--format text|json` of a command that prints a report: whether it is json.
pub fn is_json(format: &str) -> anyhow::Result<bool> {
    match format {
        "json" => Ok(true),
        "text" => Ok(false),
        other => anyhow::bail!("--format must be text or json, found '{other}'"),
    }
}
