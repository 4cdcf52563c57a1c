//! `neuride lsp`: the language server on stdio. The protocol adapter lives
//! here and only here: [`server`] implements the LSP methods as thin
//! `from_proto -> ide -> to_proto` adapters over the analysis host, state
//! changes are applied synchronously in notification handlers, analysis runs
//! on snapshots in `spawn_blocking`, and every request runs under
//! `catch_unwind`.

mod analysis;
mod commands;
mod custom;
mod guard;
mod jobs;
mod neuro;
mod runs;
mod scan;
mod server;
mod state;
mod to_proto;
mod uri;
mod watch;

use std::process::ExitCode;
use tower_lsp_server::{LspService, Server};

#[derive(clap::Args)]
pub struct Args {
    /// Accepted for compatibility with clients that pass it; stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve());
    // Analyses still running on the blocking pool must not keep a client
    // waiting for the process to end after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(ExitCode::SUCCESS)
}

async fn serve() {
    let (service, socket) = LspService::build(server::Server::new)
        .custom_method("neuride/modelText", server::Server::model_text)
        .custom_method("neuride/modelSummary", server::Server::model_summary)
        .custom_method("neuride/classify", server::Server::classify)
        .custom_method("neuride/graph", server::Server::graph)
        .custom_method("neuride/models", server::Server::models)
        .custom_method("neuride/events", server::Server::events)
        .custom_method(
            "window/workDoneProgress/cancel",
            server::Server::work_done_progress_cancel,
        )
        .finish();
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .serve(service)
        .await;
}

/// Logs go to stderr (stdout is the protocol), filtered by `NEURIDE_LOG`
/// (`error`, `warn`, `info`, `debug`, `trace` or a tracing filter; default
/// `info`). A panic is logged as an error line too.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEURIDE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
}
