//! stdio for the language server: a reader thread that frames and decodes
//! messages, a writer thread that owns stdout, and [`Client`], the handle
//! handlers use to notify the editor or ask it something.
//!
//! Both ends are plain threads, so a busy async runtime can never stop the
//! server from reading (and so from seeing `$/cancelRequest` or `exit`), and
//! a client that stops reading blocks only the writer.

use super::framing::{Decoder, Frame};
use super::jsonrpc::{self, Error, ErrorCode, Id, Message, Result};
use ls_types::notification::Notification;
use ls_types::request::Request;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What the reader hands the dispatcher.
pub enum Incoming {
    Message(Message),
    /// A body that is no message: answer it (when `answer`) and go on.
    Rejected(jsonrpc::Rejected),
    /// stdin closed.
    Closed,
}

/// Reads stdin until it closes. Framing errors are logged and skipped; a
/// body that is no message goes to the dispatcher to be answered.
pub fn spawn_reader(
    mut input: impl Read + Send + 'static,
    sender: mpsc::UnboundedSender<Incoming>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(move || {
            let mut decoder = Decoder::default();
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let read = match input.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(error) => {
                        tracing::error!("reading stdin: {error}");
                        break;
                    }
                };
                decoder.push(&chunk[..read]);
                while let Some(frame) = decoder.next() {
                    let incoming = match frame {
                        Frame::Body(body) => match Message::decode(&body) {
                            Ok(message) => Incoming::Message(message),
                            Err(rejected) => {
                                tracing::warn!(
                                    "dropped a message: {} ({} bytes)",
                                    rejected.error.message,
                                    body.len()
                                );
                                Incoming::Rejected(rejected)
                            }
                        },
                        Frame::Invalid(error) => {
                            tracing::warn!("framing: {error}; skipped");
                            continue;
                        }
                    };
                    if sender.send(incoming).is_err() {
                        return;
                    }
                }
            }
            let _ = sender.send(Incoming::Closed);
        })
        .expect("spawn the stdin reader")
}

/// What the writer thread is given.
pub enum Outbound {
    Message(Value),
    /// Everything before it is written; stop.
    Close,
}

/// Writes each message as one frame, in the order sent, until
/// [`Outbound::Close`] or until every sender is gone.
pub fn spawn_writer(
    mut output: impl Write + Send + 'static,
) -> (mpsc::UnboundedSender<Outbound>, std::thread::JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<Outbound>();
    let handle = std::thread::Builder::new()
        .name("lsp-writer".into())
        .spawn(move || {
            while let Some(Outbound::Message(message)) = receiver.blocking_recv() {
                let body = serde_json::to_vec(&message).unwrap_or_default();
                let written = write!(output, "Content-Length: {}\r\n\r\n", body.len())
                    .and_then(|()| output.write_all(&body))
                    .and_then(|()| output.flush());
                if let Err(error) = written {
                    tracing::error!("writing stdout: {error}");
                    return;
                }
            }
        })
        .expect("spawn the stdout writer");
    (sender, handle)
}

/// How long the server waits for the editor to answer one of its requests.
const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

type Pending = Arc<Mutex<HashMap<Id, oneshot::Sender<Result<Value>>>>>;

/// The editor, as handlers see it. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    output: mpsc::UnboundedSender<Outbound>,
    pending: Pending,
    next_id: Arc<AtomicI64>,
}

impl Client {
    pub fn new(output: mpsc::UnboundedSender<Outbound>) -> Client {
        Client {
            output,
            pending: Pending::default(),
            next_id: Arc::new(AtomicI64::new(1)),
        }
    }

    pub fn respond(&self, id: Option<&Id>, result: &Result<Value>) {
        self.send(jsonrpc::response_json(id, result));
    }

    /// Stops the writer once what is queued is written.
    pub fn close(&self) {
        let _ = self.output.send(Outbound::Close);
    }

    fn send(&self, message: Value) {
        // After the writer stopped there is nobody to tell.
        let _ = self.output.send(Outbound::Message(message));
    }

    pub fn notify<N: Notification>(&self, params: N::Params) {
        match serde_json::to_value(params) {
            Ok(params) => {
                self.send(jsonrpc::notification_json(N::METHOD, params));
            }
            Err(error) => tracing::error!("{}: params not serializable: {error}", N::METHOD),
        }
    }

    /// Sends a request to the editor and waits for its answer.
    pub async fn request<R: Request>(&self, params: R::Params) -> Result<R::Result> {
        let id = Id::String(format!(
            "neuride-{}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        ));
        let params = serde_json::to_value(params).map_err(|e| internal(e.to_string()))?;
        let (sender, receiver) = oneshot::channel();
        lock(&self.pending).insert(id.clone(), sender);
        self.send(jsonrpc::request_json(&id, R::METHOD, params));
        let answer = tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, receiver).await;
        lock(&self.pending).remove(&id);
        let value = match answer {
            Ok(Ok(result)) => result?,
            Ok(Err(_)) => return Err(internal(format!("{}: no answer", R::METHOD))),
            Err(_) => {
                return Err(internal(format!(
                    "{}: the editor did not answer within {} s",
                    R::METHOD,
                    CLIENT_ANSWER_TIMEOUT.as_secs()
                )));
            }
        };
        serde_json::from_value(value)
            .map_err(|e| internal(format!("{}: unexpected answer: {e}", R::METHOD)))
    }

    /// Routes the editor's answer to the request waiting for it.
    pub fn answer(&self, id: Id, result: Result<Value>) {
        match lock(&self.pending).remove(&id) {
            Some(waiting) => {
                let _ = waiting.send(result);
            }
            None => tracing::warn!("an answer to no request of ours: {id:?}"),
        }
    }

    pub fn publish_diagnostics(
        &self,
        uri: ls_types::Uri,
        diagnostics: Vec<ls_types::Diagnostic>,
        version: Option<i32>,
    ) {
        self.notify::<ls_types::notification::PublishDiagnostics>(
            ls_types::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        );
    }

    pub fn log_message(&self, kind: ls_types::MessageType, message: String) {
        self.notify::<ls_types::notification::LogMessage>(ls_types::LogMessageParams {
            typ: kind,
            message,
        });
    }

    pub async fn register_capability(
        &self,
        registrations: Vec<ls_types::Registration>,
    ) -> Result<()> {
        self.request::<ls_types::request::RegisterCapability>(ls_types::RegistrationParams {
            registrations,
        })
        .await
    }

    pub async fn create_work_done_progress(&self, token: ls_types::ProgressToken) -> Result<()> {
        self.request::<ls_types::request::WorkDoneProgressCreate>(
            ls_types::WorkDoneProgressCreateParams { token },
        )
        .await
    }

    pub async fn show_document(&self, params: ls_types::ShowDocumentParams) -> Result<bool> {
        self.request::<ls_types::request::ShowDocument>(params)
            .await
            .map(|result| result.success)
    }
}

fn internal(message: String) -> Error {
    Error::new(ErrorCode::InternalError, message)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
