//! The main loop: every message from the editor, in the order it came.
//!
//! Notifications are applied right here, before the next message is looked
//! at, so a request sees every change sent before it (LSP's ordering rule).
//! Each request then runs in a task of its own, with no limit on how many
//! run at once: a long simulation never holds up a hover, a `didChange` or
//! a `$/cancelRequest`. A cancelled request's task is dropped (which stops
//! its job) and answered with `RequestCancelled`. Every request with an id
//! gets exactly one answer, also unknown and `$/` ones.

use super::guard::guard;
use super::jsonrpc::{Error, ErrorCode, Id, Message, Result};
use super::server::Server;
use super::transport::{Client, Incoming};
use ls_types::notification::{self as note, Notification};
use ls_types::request::{self as req, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Before `initialize`: requests are refused with `ServerNotInitialized`.
    Uninitialized,
    Running,
    /// After `shutdown`: only `exit` is expected.
    ShutDown,
}

/// How the session ended: `exit` after `shutdown` is a success (0), any
/// other end an error (1), as the specification says.
pub struct Ended {
    pub clean: bool,
}

type Running = Arc<Mutex<HashMap<Id, oneshot::Sender<()>>>>;

pub async fn run(mut incoming: mpsc::UnboundedReceiver<Incoming>, client: Client) -> Ended {
    let server = Arc::new(Server::new(client.clone()));
    let running = Running::default();
    let mut phase = Phase::Uninitialized;
    while let Some(message) = incoming.recv().await {
        match message {
            Incoming::Closed => {
                tracing::info!("stdin closed");
                return Ended {
                    clean: phase == Phase::ShutDown,
                };
            }
            Incoming::Rejected(rejected) => {
                // A notification that does not decode has no one to tell.
                client.respond(rejected.id.as_ref(), &Err(rejected.error));
            }
            Incoming::Message(Message::Response { id, result }) => client.answer(id, result),
            Incoming::Message(Message::Notification { method, params }) => {
                if method == note::Exit::METHOD {
                    return Ended {
                        clean: phase == Phase::ShutDown,
                    };
                }
                if phase == Phase::Running {
                    notification(&server, &running, &method, params).await;
                } else {
                    tracing::debug!(method, ?phase, "notification ignored");
                }
            }
            Incoming::Message(Message::Request { id, method, params }) => {
                match (phase, method.as_str()) {
                    (Phase::Uninitialized, req::Initialize::METHOD) => {
                        let result = guard(&method, call(params, |p| server.initialize(p))).await;
                        if result.is_ok() {
                            phase = Phase::Running;
                        }
                        client.respond(Some(&id), &result);
                    }
                    (Phase::Uninitialized, _) => client.respond(
                        Some(&id),
                        &Err(Error::new(
                            ErrorCode::ServerNotInitialized,
                            format!("{method}: the server is not initialized yet"),
                        )),
                    ),
                    (Phase::Running, req::Shutdown::METHOD) => {
                        let result = guard(&method, async {
                            server.shutdown().await?;
                            Ok(Value::Null)
                        })
                        .await;
                        phase = Phase::ShutDown;
                        client.respond(Some(&id), &result);
                    }
                    (Phase::Running, _) => {
                        spawn_request(&server, &running, &client, id, method, params)
                    }
                    (Phase::ShutDown, _) => client.respond(
                        Some(&id),
                        &Err(Error::new(
                            ErrorCode::InvalidRequest,
                            format!("{method}: the server is shutting down"),
                        )),
                    ),
                }
            }
        }
    }
    Ended { clean: false }
}

fn spawn_request(
    server: &Arc<Server>,
    running: &Running,
    client: &Client,
    id: Id,
    method: String,
    params: Value,
) {
    let (cancel, cancelled) = oneshot::channel();
    lock(running).insert(id.clone(), cancel);
    let (server, running, client) = (server.clone(), running.clone(), client.clone());
    tokio::spawn(async move {
        let work = guard(&method, request(&server, &method, params));
        let result = tokio::select! {
            result = work => result,
            _ = cancelled => Err(Error::new(
                ErrorCode::RequestCancelled,
                format!("{method}: cancelled"),
            )),
        };
        lock(&running).remove(&id);
        client.respond(Some(&id), &result);
    });
}

/// Routes a request to its handler.
async fn request(server: &Server, method: &str, params: Value) -> Result<Value> {
    match method {
        req::HoverRequest::METHOD => call(params, |p| server.hover(p)).await,
        req::GotoDefinition::METHOD => call(params, |p| server.goto_definition(p)).await,
        req::DocumentSymbolRequest::METHOD => call(params, |p| server.document_symbol(p)).await,
        req::WorkspaceSymbolRequest::METHOD => call(params, |p| server.symbol(p)).await,
        req::References::METHOD => call(params, |p| server.references(p)).await,
        req::PrepareRenameRequest::METHOD => call(params, |p| server.prepare_rename(p)).await,
        req::Rename::METHOD => call(params, |p| server.rename(p)).await,
        req::Completion::METHOD => call(params, |p| server.completion(p)).await,
        req::SemanticTokensFullRequest::METHOD => {
            call(params, |p| server.semantic_tokens_full(p)).await
        }
        req::Formatting::METHOD => call(params, |p| server.formatting(p)).await,
        req::InlayHintRequest::METHOD => call(params, |p| server.inlay_hint(p)).await,
        req::CodeLensRequest::METHOD => call(params, |p| server.code_lens(p)).await,
        req::CodeActionRequest::METHOD => call(params, |p| server.code_action(p)).await,
        req::ExecuteCommand::METHOD => call(params, |p| server.execute_command(p)).await,
        "neuride/modelText" => call(params, |p| server.model_text(p)).await,
        "neuride/modelSummary" => call(params, |p| server.model_summary(p)).await,
        "neuride/classify" => call(params, |p| server.classify(p)).await,
        "neuride/graph" => call(params, |p| server.graph(p)).await,
        "neuride/models" => call(params, |p| server.models(p)).await,
        "neuride/events" => call(params, |p| server.events(p)).await,
        req::Initialize::METHOD => Err(Error::new(
            ErrorCode::InvalidRequest,
            "initialize: the server is already initialized",
        )),
        _ => Err(Error::new(
            ErrorCode::MethodNotFound,
            format!("unknown method {method}"),
        )),
    }
}

/// Applies a notification. Handlers only change state and schedule work,
/// so awaiting them here is immediate.
async fn notification(server: &Arc<Server>, running: &Running, method: &str, params: Value) {
    let outcome = match method {
        note::DidOpenTextDocument::METHOD => notify(params, |p| server.did_open(p)).await,
        note::DidChangeTextDocument::METHOD => notify(params, |p| server.did_change(p)).await,
        note::DidCloseTextDocument::METHOD => notify(params, |p| server.did_close(p)).await,
        note::DidChangeWatchedFiles::METHOD => {
            notify(params, |p| server.did_change_watched_files(p)).await
        }
        note::WorkDoneProgressCancel::METHOD => {
            notify(params, |p| server.work_done_progress_cancel(p)).await
        }
        note::Cancel::METHOD => {
            notify(params, |p: ls_types::CancelParams| async move {
                let id = match p.id {
                    ls_types::NumberOrString::Number(n) => Id::Number(n.into()),
                    ls_types::NumberOrString::String(s) => Id::String(s),
                };
                if let Some(cancel) = lock(running).remove(&id) {
                    let _ = cancel.send(());
                }
            })
            .await
        }
        // It asks the editor to register file watching and waits for the
        // answer, which only this loop can deliver: it must not block it.
        note::Initialized::METHOD => {
            let server = server.clone();
            tokio::spawn(async move {
                let _ = notify(params, |p| server.initialized(p)).await;
            });
            Ok(())
        }
        _ => {
            tracing::debug!(method, "notification without a handler ignored");
            Ok(())
        }
    };
    if let Err(error) = outcome {
        tracing::warn!("{method}: {error}; notification dropped");
    }
}

async fn call<P, R, F, Fut>(params: Value, handler: F) -> Result<Value>
where
    P: DeserializeOwned,
    R: Serialize,
    F: FnOnce(P) -> Fut,
    Fut: Future<Output = Result<R>>,
{
    let params = decode_params(params)?;
    let result = handler(params).await?;
    serde_json::to_value(result).map_err(|e| {
        Error::new(
            ErrorCode::InternalError,
            format!("result not serializable: {e}"),
        )
    })
}

async fn notify<P, F, Fut>(params: Value, handler: F) -> Result<()>
where
    P: DeserializeOwned,
    F: FnOnce(P) -> Fut,
    Fut: Future<Output = ()>,
{
    let params = decode_params(params)?;
    // A panic in a notification handler must not end the loop either.
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(handler(params)));
    outcome.await.map_err(|payload| {
        Error::new(
            ErrorCode::InternalError,
            format!(
                "handler panicked: {}",
                super::guard::panic_message(payload.as_ref())
            ),
        )
    })
}

fn decode_params<P: DeserializeOwned>(params: Value) -> Result<P> {
    serde_json::from_value(params)
        .map_err(|e| Error::new(ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
