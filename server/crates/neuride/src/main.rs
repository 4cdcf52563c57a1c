//! `neuride`: the command-line tool and the language server in one binary.
//! This crate is the only one that knows clap, tokio and the LSP protocol;
//! everything it does is a thin adapter over the core crates.

#![deny(clippy::print_stdout)]

mod cli;
mod config;
mod lsp;
mod mqtt;
mod serve;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: decoding a model allocates a string
/// for every name of every node, and malloc, free and their page faults were
/// a third of checking an exporter's 16,000-node transformer.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "neuride",
    version,
    about = "IDE backend and CLI for neuromorphic IoT workspaces (.onnx, .npz, .neuro)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check models, weight archives and .neuro files (files or folders, recursive).
    Check(cli::check::Args),
    /// Classify models as snn, ml, dl, mixed or unknown, with evidence.
    Classify(cli::classify::Args),
    /// Summarise a model or a weight archive.
    Info(cli::info::Args),
    /// Print a model in ONNX's textual syntax.
    Print(cli::print::Args),
    /// Move weights between ONNX models and .npz archives.
    #[command(subcommand)]
    Weights(cli::weights::Command),
    /// Prepare data sets (tables to images).
    #[command(subcommand)]
    Data(cli::data::Command),
    /// Convert a trained ReLU network into a spiking network.
    Convert(cli::convert::Args),
    /// Run a spiking simulation.
    Simulate(cli::simulate::Args),
    /// Write a network of a .neuro file in another format (NIR).
    #[command(subcommand)]
    Export(cli::export::Command),
    /// Simulate over a grid of settings in parallel: accuracy vs steps and synops, Pareto front.
    Sweep(cli::sweep::Args),
    /// Run inference on a DL or classic-ML model.
    Infer(cli::infer::Args),
    /// Run a model where its kind says it belongs (simulator or ONNX runtime).
    Run(cli::infer::Args),
    /// Format .neuro files.
    Fmt(cli::fmt::Args),
    /// Run the apps of .neuro files (sensors, pipelines, rules).
    #[command(subcommand)]
    App(cli::app::Command),
    /// List every diagnostic code (name, severity, fixable, summary).
    Rules(cli::rules::Args),
    /// Explain one diagnostic code: what it means, an example that fails, the fix.
    Explain(cli::rules::ExplainArgs),
    /// Start the language server on stdio.
    Lsp(lsp::Args),
    /// Serve the workspace's models: registry, web page and Open Inference Protocol.
    Serve(serve::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Classify(args) => cli::classify::run(args),
        Command::Info(args) => cli::info::run(args),
        Command::Print(args) => cli::print::run(args),
        Command::Weights(command) => cli::weights::run(command),
        Command::Data(command) => cli::data::run(command),
        Command::Convert(args) => cli::convert::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Export(command) => cli::export::run(command),
        Command::Sweep(args) => cli::sweep::run(args),
        Command::Infer(args) => cli::infer::run(args),
        Command::Run(args) => cli::run::run(args),
        Command::Fmt(args) => cli::fmt::run(args),
        Command::App(command) => cli::app::run(command),
        Command::Rules(args) => cli::rules::run(args),
        Command::Explain(args) => cli::rules::explain(args),
        Command::Lsp(args) => lsp::run(args),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("neuride: {error:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        // clap checks ids, groups and defaults only when asked (or at parse time in debug builds).
        super::Cli::command().debug_assert();
    }
}
