//! `neuride rules [--format text|json|markdown]` lists every diagnostic code;
//! `neuride explain CODE` prints one rule's explanation. Both read the rule
//! registry (`neuride_ide::rules`), as does `docs/rules.md`.

use anyhow::bail;
use neuride_ide::rules;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// `text` (one rule per line), `json` (`[{code, name, severity, summary, fixable}]`)
    /// or `markdown` (docs/rules.md).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A rule's code, e.g. `onnx/topological-order`.
    pub code: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => {
            let all: Vec<&rules::Rule> = rules::all().collect();
            serde_json::to_writer_pretty(&mut out, &all)?;
            writeln!(out)?;
        }
        Format::Markdown => write!(out, "{}", rules::markdown())?,
        Format::Text => {
            let width = rules::all().map(|r| r.code.len()).max().unwrap_or(0);
            for rule in rules::all() {
                writeln!(
                    out,
                    "{:width$}  {:7}  {}  {}",
                    rule.code,
                    rules::severity_name(rule.severity),
                    if rule.fixable { "fix" } else { "   " },
                    rule.summary,
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let Some(rule) = rules::find(&args.code) else {
        let close: Vec<&str> = rules::all()
            .map(|rule| rule.code)
            .filter(|code| rules::matches(&args.code, code) || code.contains(args.code.as_str()))
            .take(8)
            .collect();
        if close.is_empty() {
            bail!("no rule {:?} (`neuride rules` lists them)", args.code);
        }
        bail!(
            "no rule {:?}; did you mean: {}",
            args.code,
            close.join(", ")
        );
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{}", rules::explain(rule))?;
    Ok(ExitCode::SUCCESS)
}
