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
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Condvar, Mutex};

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
    let rules_of = |files: &[PathBuf]| {
        files
            .iter()
            .map(|file| resolver.rules_for(file))
            .collect::<Result<Vec<_>, _>>()
    };
    let roots = roots(&args.paths)?;
    if args.diff || args.fix {
        let files = walk(&roots);
        let rules = rules_of(&files)?;
        if args.diff {
            return diff(&files, &rules);
        }
        fix(&files, &rules)?;
    }
    let overview = args.format == Format::Human && !args.quiet && !args.statistics;
    let checked = check_all(&roots, overview, &resolver)?;
    let failed = checked
        .iter()
        .any(|file| file.report.count(Severity::Error) > 0);

    let stdout = std::io::stdout();
    // Stdout's own buffer is a line's (1 kB): a report of many files would
    // be hundreds of writes.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    if args.statistics {
        output::statistics(&mut out, &checked, args.format)?;
    } else {
        match args.format {
            Format::Human if args.quiet => output::quiet(&mut out, &checked)?,
            Format::Human => {
                let colour =
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                output::human(&mut out, &checked, colour)?
            }
            Format::Json => output::json(&mut out, &checked)?,
            Format::Github => output::github(&mut out, &checked)?,
            Format::Sarif => output::sarif(&mut out, &checked)?,
            Format::Junit => output::junit(&mut out, &checked)?,
        }
    }
    out.flush()?;
    // The process ends here: freeing every file's model and report one
    // allocation at a time would only delay the exit.
    std::mem::forget(checked);
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

/// A path given on the command line: a folder to walk or a file to check.
enum Root<'a> {
    Folder(&'a Path),
    File(&'a Path),
}

/// What the paths name. A missing path or an explicit file of unknown kind
/// fails the command, before anything is checked.
fn roots(paths: &[PathBuf]) -> anyhow::Result<Vec<Root<'_>>> {
    paths
        .iter()
        .map(|path| {
            let metadata = std::fs::metadata(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if metadata.is_dir() {
                Ok(Root::Folder(path))
            } else if FileKind::from_path(path).is_some() {
                Ok(Root::File(path))
            } else {
                bail!(
                    "{}: not a .onnx, .nir, .npz, .npy or .neuro file",
                    path.display()
                )
            }
        })
        .collect()
}

/// A file to check: the index of the root it was found under, and its path.
type Found = (usize, PathBuf);

/// Calls `found` with the files to check: explicit files, and the
/// analysable files under each folder, as the walk finds them.
fn for_each_file(roots: &[Root], mut found: impl FnMut(Found)) {
    for (index, root) in roots.iter().enumerate() {
        match root {
            Root::Folder(folder) => {
                neuride_ide::walk::for_each_analysable_file(folder, |path| found((index, path)))
            }
            Root::File(file) => found((index, file.to_path_buf())),
        }
    }
}

/// The order files are reported in: root by root as given, each root's
/// files sorted by path; a file named twice in a row is reported once.
fn in_order<T>(mut items: Vec<(Found, T)>) -> Vec<(Found, T)> {
    items.sort_unstable_by(|((a_root, a), _), ((b_root, b), _)| {
        a_root
            .cmp(b_root)
            .then_with(|| neuride_ide::walk::path_order(a, b))
    });
    items.dedup_by(|(b, _), (a, _)| a.1 == b.1);
    items
}

fn walk(roots: &[Root]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for_each_file(roots, |found| files.push((found, ())));
    in_order(files)
        .into_iter()
        .map(|((_, path), ())| path)
        .collect()
}

/// Checks every file under `roots` with the rules in force for it, on as
/// many threads as there are cores, while this thread walks the folders:
/// each worker takes the next file found, so checking starts with the first
/// file instead of after the walk. Results come in [`in_order`]'s order.
/// An unreadable file, or a config file that does not parse, fails the
/// command, naming it.
fn check_all(roots: &[Root], overview: bool, resolver: &Resolver) -> anyhow::Result<Vec<Checked>> {
    let check = |path: &Path| -> anyhow::Result<Checked> {
        let rules = resolver.rules_for(path)?;
        let contents = neuride_ide::source::read_contents(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut checked = neuride_ide::lint::check_contents(path, contents, overview);
        let diagnostics = std::mem::take(&mut checked.report.diagnostics);
        checked.report.diagnostics = rules.apply(diagnostics);
        Ok(checked)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 {
        return walk(roots).iter().map(|file| check(file)).collect();
    }
    let queue = Queue::default();
    let results: Vec<(Found, anyhow::Result<Checked>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(found) = queue.take() {
                        let result = check(&found.1);
                        done.push((found, result));
                    }
                    done
                })
            })
            .collect();
        {
            // Closes the queue even if the walk panics, so that no worker
            // waits for files forever.
            let closing = Closing(&queue);
            for_each_file(roots, |found| closing.0.push(found));
        }
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    in_order(results)
        .into_iter()
        .map(|(_, result)| result)
        .collect()
}

/// Files found by the walk, handed out in order to the workers.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    files: Vec<Found>,
    /// The index of the next file to hand out.
    next: usize,
    /// The walk is over: no more files will come.
    closed: bool,
}

impl Queue {
    fn push(&self, found: Found) {
        self.lock().files.push(found);
        self.changed.notify_one();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// The next file, waiting for the walk to find one; `None` once every
    /// file has been handed out and the walk is over.
    fn take(&self) -> Option<Found> {
        let mut state = self.lock();
        loop {
            if let Some(found) = state.files.get(state.next) {
                let taken = found.clone();
                state.next += 1;
                return Some(taken);
            }
            if state.closed {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Closing<'q>(&'q Queue);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}
