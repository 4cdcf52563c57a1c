//! One module per subcommand; each has `Args` (or `Command`) and `run`.
//! Exit codes: 0 ok, 1 problems found (errors in `check`, mismatches), 2 the
//! command itself failed (bad arguments, unreadable file).

pub mod check;
pub mod classify;
pub mod convert;
pub mod fmt;
pub mod infer;
pub mod info;
pub mod npz_info;
pub mod output;
pub mod print;
pub mod run;
pub mod simulate;
pub mod weights;

/// Parses a subcommand's options given as CLI words after the model
/// (`["--steps", "25", ...]`) with the CLI's defaults and checks: the
/// language server's run commands and `neuride run` build their jobs
/// through this, so every entry point takes the same options.
pub fn args_from_words<A: clap::Args + clap::FromArgMatches>(
    command: &'static str,
    model: &std::path::Path,
    words: impl IntoIterator<Item = String>,
) -> Result<A, clap::Error> {
    let parser = A::augment_args(clap::Command::new(command).no_binary_name(true));
    let all = std::iter::once(model.to_string_lossy().into_owned()).chain(words);
    A::from_arg_matches(&parser.try_get_matches_from(all)?)
}
