//! `neuride check PATH...`: the same diagnostics the editor shows, headless,
//! as a linter: rules selected and re-graded by `neuride.toml` /
//! `[tool.neuride]` (found upward from each file) or by flags, output for
//! people, scripts and CI (`--format human|json|github|sarif|junit`), and
//! safe fixes of models (`--fix`, `--diff`). Folders are walked recursively
//! (respecting `.gitignore`) for `.onnx`, `.npz`, `.npy` and `.neuro`
//! files; they are checked in parallel. Exit 1 when any error remains.

mod output;

use crate::config::{Resolver, Source};
use anyhow::{Context, bail};
use neuride_ide::config::{Overrides, RuleSet};
use neuride_ide::lint::Checked;
use neuride_ide::{FileKind, Severity};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders (folders are walked recursively, respecting .gitignore).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Rules to check, replacing the config's `select` (codes, families such
    /// as `onnx`, prefixes, `ALL`; comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Rules not to check, added to the config's `ignore` (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Use this configuration file for every file (a neuride.toml or a
    /// pyproject.toml with [tool.neuride]) instead of finding one per file.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
    /// Print how many times each code was reported instead of the diagnostics.
    #[arg(long)]
    pub statistics: bool,
    /// Human format: only the diagnostics and the summary line, no file listing.
    #[arg(long, short)]
    pub quiet: bool,
    /// Apply the safe fixes to models (written atomically, each verified by
    /// the checker), then report what is left.
    #[arg(long)]
    pub fix: bool,
    /// Print the safe fixes as a diff of each model's text view, without
    /// writing anything; exit 1 when there is something to fix.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Each file with what it is and its verdict, its diagnostics, a summary.
    Human,
    /// `{files: [{path, kind, diagnostics}], summary: {errors, warnings}}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...::message`).
    Github,
    /// SARIF 2.1.0, with the rules and the results.
    Sarif,
    /// JUnit XML: one test suite per file, one failing test case per diagnostic.
    Junit,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    overrides.validate()?;
    let source = match (&args.config, args.isolated) {
        (Some(file), _) => Resolver::explicit(file)?,
        (None, true) => Source::Isolated,
        (None, false) => Source::Discover,
    };
    let resolver = Resolver::new(source, overrides);
    let files = collect(&args.paths)?;
    let rules = files
        .iter()
        .map(|file| resolver.rules_for(file))
        .collect::<Result<Vec<_>, _>>()?;
    if args.diff {
        return diff(&files, &rules);
    }
    if args.fix {
        fix(&files, &rules)?;
    }
    let overview = args.format == Format::Human && !args.quiet && !args.statistics;
    let mut checked = check_all(&files, overview)?;
    for (file, rules) in checked.iter_mut().zip(&rules) {
        let diagnostics = std::mem::take(&mut file.report.diagnostics);
        file.report.diagnostics = rules.apply(diagnostics);
    }
    let failed = checked
        .iter()
        .any(|file| file.report.count(Severity::Error) > 0);

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.statistics {
        output::statistics(&mut out, &checked, args.format)?;
    } else {
        match args.format {
            Format::Human if args.quiet => output::quiet(&mut out, &checked)?,
            Format::Human => {
                let colour = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
                output::human(&mut out, &checked, colour)?
            }
            Format::Json => output::json(&mut out, &checked)?,
            Format::Github => output::github(&mut out, &checked)?,
            Format::Sarif => output::sarif(&mut out, &checked)?,
            Format::Junit => output::junit(&mut out, &checked)?,
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The safe fixes of each model, for the rules selected for it.
fn model_fixes<'a>(
    files: &'a [PathBuf],
    rules: &'a [RuleSet],
) -> impl Iterator<Item = anyhow::Result<(&'a PathBuf, neuride_ide::fix::ModelFix)>> + 'a {
    files
        .iter()
        .zip(rules)
        .filter(|(file, _)| FileKind::from_path(file) == Some(FileKind::Onnx))
        .filter_map(|(file, rules)| {
            let contents = match neuride_ide::source::read_contents(file) {
                Ok(contents) => contents,
                Err(error) => {
                    return Some(Err(anyhow::anyhow!(
                        "cannot read {}: {error}",
                        file.display()
                    )));
                }
            };
            let allowed = |code: &str| rules.severity(code, Severity::Error).is_some();
            // A model that does not decode has nothing safe to fix; the
            // check reports it.
            let fix = neuride_ide::fix::fix_model(file, &contents, &allowed).ok()??;
            Some(Ok((file, fix)))
        })
}

/// `--fix`: writes each fixed model atomically and says what changed (on
/// stderr, so stdout stays in the chosen format).
fn fix(files: &[PathBuf], rules: &[RuleSet]) -> anyhow::Result<()> {
    for fixed in model_fixes(files, rules) {
        let (file, fix) = fixed?;
        neuride_ide::weights::write_atomically(file, &fix.bytes())
            .with_context(|| format!("cannot write {}", file.display()))?;
        for applied in &fix.applied {
            eprintln!(
                "fixed {}: {} [{}]",
                file.display(),
                applied.description,
                applied.code
            );
        }
    }
    Ok(())
}

/// `--diff`: the fixes as unified diffs of the text views; exit 1 when
/// there is any.
fn diff(files: &[PathBuf], rules: &[RuleSet]) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any = false;
    for fixed in model_fixes(files, rules) {
        let (file, fix) = fixed?;
        any = true;
        for applied in &fix.applied {
            writeln!(
                out,
                "# {}: {} [{}]",
                file.display(),
                applied.description,
                applied.code
            )?;
        }
        write!(out, "{}", fix.diff(&file.display().to_string()))?;
    }
    out.flush()?;
    Ok(if any {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks every file, on as many threads as there are cores (each takes
/// the next file; results keep the files' order). An unreadable file fails
/// the command, naming it.
fn check_all(files: &[PathBuf], overview: bool) -> anyhow::Result<Vec<Checked>> {
    let check = |path: &PathBuf| -> anyhow::Result<Checked> {
        let contents = neuride_ide::source::read_contents(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(neuride_ide::lint::check_contents(path, contents, overview))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if threads <= 1 {
        return files.iter().map(check).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, anyhow::Result<Checked>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(index) else {
                            return done;
                        };
                        done.push((index, check(path)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The files to check: explicit files of a known kind, and the analysable
/// files under each folder. A missing path or an explicit file of unknown
/// kind fails the command.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if metadata.is_dir() {
            files.extend(neuride_ide::walk::analysable_files(path));
        } else if FileKind::from_path(path).is_some() {
            files.push(path.clone());
        } else {
            bail!("{}: not a .onnx, .npz, .npy or .neuro file", path.display());
        }
    }
    files.dedup();
    Ok(files)
}
