//! `neuride serve WORKSPACE`: the model registry and the prediction server
//! (docs/serve.md). Predictions speak the Open Inference Protocol (KServe
//! v2) over REST so existing clients (tritonclient, KServe's) work
//! unchanged; the registry API and a web page serve people and scripts.
//!
//! The HTTP layer lives here and only here: handlers are adapters over the
//! analysis host (`neuride_ide`) and `ide::run::model::Predictor`, the same
//! analysis and engines as the language server. State is in [`state`]; the
//! protocol's tensors in [`tensor`].

mod error;
mod oip;
mod page;
mod registry;
mod state;
mod tensor;

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use error::ApiError;
use state::Served;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The workspace whose models are served (default: the current folder).
    pub workspace: Option<PathBuf>,
    /// Address to bind; anything but loopback needs --token.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to bind (0 picks a free one; the address is printed on stderr).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Bearer token that uploads and deletes must present
    /// (`Authorization: Bearer TOKEN`); also read from NEURIDE_SERVE_TOKEN.
    #[arg(long, env = "NEURIDE_SERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Largest model upload, in MiB.
    #[arg(long, default_value_t = 512)]
    pub max_upload_mb: usize,
    /// Largest inference request body, in MiB.
    #[arg(long, default_value_t = 16)]
    pub max_infer_mb: usize,
    /// Inferences accepted at once (running or waiting for a core);
    /// beyond it requests get 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    pub max_inflight: usize,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

/// What the handlers share: the workspace and the limits.
pub struct Config {
    pub token: Option<String>,
    pub timeout: Duration,
}

pub type AppState = Arc<Served>;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::lsp::init_tracing();
    if !args.host.is_loopback() && args.token.as_deref().is_none_or(str::is_empty) {
        bail!(
            "refusing to serve on {} without --token: uploads and deletes from other machines must authenticate (bind 127.0.0.1, or pass --token)",
            args.host
        );
    }
    let workspace = args.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
    let root = workspace
        .canonicalize()
        .with_context(|| format!("workspace {}", workspace.display()))?;
    if !root.is_dir() {
        bail!("workspace {} is not a folder", root.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args, root))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: Args, root: PathBuf) -> anyhow::Result<()> {
    let config = Config {
        token: args.token.clone().filter(|t| !t.is_empty()),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let served = Served::start(root.clone(), config, args.max_inflight.max(1)).await?;
    let app = router(served, &args);
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("cannot bind {}:{}", args.host, args.port))?;
    let address = listener.local_addr()?;
    // Tests and scripts read this line to find a port picked by the system.
    eprintln!("neuride serve: {} on http://{address}/", root.display());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

fn router(served: AppState, args: &Args) -> Router {
    let mib = 1 << 20;
    let (upload, infer) = (args.max_upload_mb * mib, args.max_infer_mb * mib);
    let writes = Router::new()
        .merge(registry::write_routes())
        .layer(DefaultBodyLimit::max(upload))
        .layer(middleware::from_fn(move |request, next| {
            refuse_oversized(upload, "--max-upload-mb", request, next)
        }))
        .route_layer(middleware::from_fn_with_state(served.clone(), authorize));
    let infers = oip::routes()
        .layer(DefaultBodyLimit::max(infer))
        .layer(middleware::from_fn(move |request, next| {
            refuse_oversized(infer, "--max-infer-mb", request, next)
        }));
    Router::new()
        .merge(infers)
        .merge(registry::read_routes())
        .merge(writes)
        .merge(page::routes())
        .fallback(|| async { ApiError::not_found("no such route".to_owned()) })
        .layer(middleware::from_fn_with_state(served.clone(), time_limit))
        .with_state(served)
}

/// Uploads and deletes present the token when one is set.
async fn authorize(State(served): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = served.config.token.as_deref() else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|given| same_secret(given.trim().as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "this server takes uploads and deletes only with its token: send Authorization: Bearer TOKEN".to_owned(),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
    response
}

/// A request that declares a body longer than `limit` is answered 413 after
/// its body has been read and dropped (up to 64 MiB more, for 5 s at most):
/// a client sends its whole body before it reads the answer, and a
/// connection closed under it ends in a broken pipe instead of the 413.
async fn refuse_oversized(
    limit: usize,
    flag: &'static str,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(length) = declared.filter(|&length| length > limit as u64) else {
        return next.run(request).await;
    };
    if length <= limit as u64 + (64 << 20) {
        let mut body = request.into_body().into_data_stream();
        let drain = async { while let Some(Ok(_)) = futures::StreamExt::next(&mut body).await {} };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    }
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the body is {length} bytes; this server takes at most {} MiB here ({flag})",
            limit >> 20
        ),
    )
    .into_response()
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn same_secret(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A request that takes longer than `--timeout` is answered 503 (the work
/// it started on a blocking thread finishes and is dropped; the in-flight
/// bound still counts it until then).
async fn time_limit(State(served): State<AppState>, request: Request, next: Next) -> Response {
    let limit = served.config.timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is running.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
