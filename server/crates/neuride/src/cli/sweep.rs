//! `neuride sweep`: many simulations over a grid of settings, in parallel,
//! with the accuracy / synops / steps of each and the Pareto front
//! (`neuride_ide::run::sweep`). The model options are `neuride simulate`'s.

use anyhow::bail;
use neuride_ide::run::sweep::plot::plot_svg;
use neuride_ide::run::sweep::{
    GridAxis, SWEEP_SETTINGS, Sweep, SweepProgress, SweepReport, pareto_front, sweep_model,
    sweep_neuro, to_csv,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
#[command(after_help = sweepable())]
#[group(id = "sweep_options")]
pub struct Args {
    #[command(flatten)]
    pub simulate: super::simulate::Args,
    /// A setting and its values, NAME=V1,V2,... (repeatable): every
    /// combination runs. For a .neuro file's `sweep` block, leave it out.
    #[arg(long = "grid", value_name = "NAME=V1,V2,...")]
    pub grid: Vec<String>,
    /// Run only N combinations, drawn at random from the grid.
    #[arg(long)]
    pub random: Option<usize>,
    /// Seed of the --random draw.
    #[arg(long, default_value_t = 0)]
    pub draw_seed: u64,
    /// Trials run at once (default: the machine's cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write the plots (accuracy vs steps, accuracy vs synops with the Pareto front) as SVG.
    #[arg(long, value_name = "OUT.svg")]
    pub plot: Option<PathBuf>,
}

fn sweepable() -> String {
    let lines: Vec<String> = SWEEP_SETTINGS
        .iter()
        .map(|(name, doc)| format!("  {name:<17} {doc}"))
        .collect();
    format!("Settings --grid takes:\n{}", lines.join("\n"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format = args.simulate.format.as_str();
    if !matches!(format, "text" | "json" | "csv") {
        bail!("--format must be text, json or csv, found '{format}'");
    }
    if let Some(plot) = &args.plot {
        neuride_ide::run::output_format(plot, &["svg"])?;
    }
    let sweep = Sweep {
        grid: args
            .grid
            .iter()
            .map(|g| GridAxis::parse(g))
            .collect::<Result<_, _>>()?,
        random: args.random,
        seed: args.draw_seed,
        jobs: args.jobs,
    };
    let progress = |p: SweepProgress| {
        let accuracy = p
            .accuracy
            .map(|a| format!(": {:.2} %", a * 100.0))
            .unwrap_or_default();
        eprintln!("trial {}/{} {}{accuracy}", p.done, p.total, p.params);
    };
    let cancel = AtomicBool::new(false);
    let model = &args.simulate.model;
    let report = if model.extension().is_some_and(|e| e == "neuro") {
        let neuro = neuride_ide::run::read_neuro(model)?;
        sweep_neuro(
            &neuro,
            args.simulate.run.as_deref(),
            &sweep,
            &progress,
            &cancel,
        )?
    } else {
        sweep_model(model, &args.simulate.options(), &sweep, &progress, &cancel)?
    };
    if let Some(plot) = &args.plot {
        neuride_ide::weights::write_atomically(plot, plot_svg(&report).as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", plot.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    match format {
        "json" => {
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            writeln!(stdout)?;
        }
        "csv" => write!(stdout, "{}", to_csv(&report))?,
        _ => print_text(&mut stdout, &report)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(out: &mut impl Write, report: &SweepReport) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} trials of {} combinations, {} at once, {:.1} s",
        report.target,
        report.results.len(),
        report.grid_size,
        report.jobs,
        report.wall_s
    )?;
    let front = pareto_front(&report.results);
    let width = report
        .axes
        .iter()
        .map(|a| a.len().max(8))
        .collect::<Vec<_>>();
    let mut header = String::new();
    for (axis, w) in report.axes.iter().zip(&width) {
        header.push_str(&format!("{axis:<w$}  "));
    }
    writeln!(out, "{header}accuracy   synops/sample   wall s  pareto")?;
    for (index, trial) in report.results.iter().enumerate() {
        let mut line = String::new();
        for (axis, w) in report.axes.iter().zip(&width) {
            let value = trial
                .params
                .get(axis)
                .map(|v| v.label())
                .unwrap_or_default();
            line.push_str(&format!("{value:<w$}  "));
        }
        let accuracy = match (&trial.error, trial.accuracy) {
            (Some(_), _) => "failed".to_owned(),
            (None, Some(a)) => format!("{:.2} %", a * 100.0),
            (None, None) => "-".to_owned(),
        };
        writeln!(
            out,
            "{line}{accuracy:<9}  {:>13.0}  {:>7.2}  {}",
            trial.synops,
            trial.wall_s,
            if front.contains(&index) { "*" } else { "" }
        )?;
        if let Some(error) = &trial.error {
            writeln!(out, "  error: {error}")?;
        }
    }
    Ok(())
}
