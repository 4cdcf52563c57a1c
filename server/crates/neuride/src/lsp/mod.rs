//! `neuride lsp`: the language server on stdio. The protocol adapter lives
//! here and only here: [`server`] implements the LSP methods as thin
//! `from_proto -> ide -> to_proto` adapters over the analysis host, state
//! changes are applied synchronously in notification handlers, analysis runs
//! on snapshots in `spawn_blocking`, and every request runs under
//! `catch_unwind`.

mod analysis;
mod apps;
mod commands;
mod custom;
mod dispatch;
mod fixes;
pub mod framing;
mod guard;
mod jobs;
mod jsonrpc;
mod neuro;
mod runs;
mod scan;
mod server;
mod state;
mod to_proto;
mod transport;
mod uri;

use std::process::ExitCode;
use std::time::{Duration, Instant};

/// glibc gives each thread that allocates its own heap arena (up to 8 per
/// core) and rarely hands their free pages back: a long session of re-checks
/// on the blocking pool grew the resident set by a third for nothing. Two
/// arenas keep it flat at no measurable cost to latency (bench/lsp_bench.py).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // the server starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// Accepted for compatibility with clients that pass it; stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    init_tracing();
    limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (output, writer) = transport::spawn_writer(std::io::stdout());
    let (sender, incoming) = tokio::sync::mpsc::unbounded_channel();
    transport::spawn_reader(std::io::stdin(), sender);
    let client = transport::Client::new(output);
    let ended = runtime.block_on(dispatch::run(incoming, client.clone()));
    // Answers already queued reach the editor before the process ends; a
    // client that stopped reading cannot hold the exit for long.
    client.close();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !writer.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Analyses still running on the blocking pool must not keep a client
    // waiting for the process to end after `exit`.
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(if ended.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Logs go to stderr (stdout is the protocol), filtered by `NEURIDE_LOG`
/// (`error`, `warn`, `info`, `debug`, `trace` or a tracing filter; default
/// `info`). A panic is logged as an error line too.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEURIDE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
}
