//! Long-running commands (simulate, infer, re-check): a job runs in
//! `spawn_blocking` with a cancel flag and a progress callback, reports
//! `$/progress` work-done progress, and stops when the client sends
//! `$/cancelRequest` for the request or `window/workDoneProgress/cancel`
//! for its progress token.

use super::guard::{internal, panic_message};
use super::jsonrpc::{Error, ErrorCode, Result};
use super::state::{Outgoing, Shared};
use super::transport::Client;
use ls_types::{
    NumberOrString, ProgressParams, ProgressParamsValue, ProgressToken, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport,
};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reports closer together than this are dropped (except the last), so a
/// job stepping per sample does not flood the client.
const MIN_REPORT_INTERVAL: Duration = Duration::from_millis(50);

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A work-done progress stream, or nothing when the client has no progress
/// support and gave no token. Cheap to clone; reporting is synchronous.
#[derive(Clone)]
pub struct Progress {
    shared: Shared,
    token: Option<ProgressToken>,
    last_report: Arc<Mutex<Option<Instant>>>,
    ended: Arc<AtomicBool>,
}

impl Progress {
    /// Begins progress on the client's `token`, or on a server-created one
    /// (`window/workDoneProgress/create`) when the client supports it.
    pub async fn start(
        shared: &Shared,
        client: &Client,
        token: Option<ProgressToken>,
        title: &str,
        cancellable: bool,
    ) -> Progress {
        let token = match token {
            Some(token) => Some(token),
            None if shared.lock().client.work_done_progress => {
                let token = NumberOrString::String(format!(
                    "neuride/{}",
                    NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
                ));
                client
                    .create_work_done_progress(token.clone())
                    .await
                    .ok()
                    .map(|()| token)
            }
            None => None,
        };
        let progress = Progress {
            shared: shared.clone(),
            token,
            last_report: Arc::default(),
            ended: Arc::default(),
        };
        progress.send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title: title.to_owned(),
            cancellable: Some(cancellable),
            message: None,
            percentage: Some(0),
        }));
        progress
    }

    pub fn token(&self) -> Option<&ProgressToken> {
        self.token.as_ref()
    }

    pub fn report(&self, percentage: u32, message: String) {
        {
            let mut last = self.last_report.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if percentage < 100 && last.is_some_and(|t| now.duration_since(t) < MIN_REPORT_INTERVAL)
            {
                return;
            }
            *last = Some(now);
        }
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: None,
            message: Some(message),
            percentage: Some(percentage.min(100)),
        }));
    }

    /// Ends the progress once; later calls do nothing.
    pub fn end(&self, message: String) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        self.send(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(message),
        }));
    }

    fn send(&self, value: WorkDoneProgress) {
        if let Some(token) = &self.token
            && (!self.ended.load(Ordering::SeqCst) || matches!(value, WorkDoneProgress::End(_)))
        {
            self.shared.send(Outgoing::Progress(ProgressParams {
                token: token.clone(),
                value: ProgressParamsValue::WorkDone(value),
            }));
        }
    }
}

/// What a job sees: whether to stop, and where to report.
pub struct JobContext {
    cancel: Arc<AtomicBool>,
    progress: Progress,
}

impl JobContext {
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn cancel_flag(&self) -> &Arc<AtomicBool> {
        &self.cancel
    }

    /// `fraction` in 0..=1.
    pub fn report(&self, fraction: f64, message: String) {
        self.progress
            .report((fraction.clamp(0.0, 1.0) * 100.0) as u32, message);
    }
}

/// Sets the cancel flag and ends the progress when the request future is
/// dropped: tower-lsp drops it on `$/cancelRequest`.
struct CancelOnDrop {
    cancel: Arc<AtomicBool>,
    progress: Progress,
    shared: Shared,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.progress.token() {
            self.shared.lock().jobs.remove(token);
        }
        if !self.progress.ended.load(Ordering::SeqCst) {
            self.cancel.store(true, Ordering::SeqCst);
            self.progress.end("cancelled".into());
        }
    }
}

/// Why a job stopped without a result.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

pub async fn run_job<T, F>(
    shared: &Shared,
    client: &Client,
    token: Option<ProgressToken>,
    title: String,
    job: F,
) -> Result<serde_json::Value>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&JobContext) -> std::result::Result<T, JobError> + Send + 'static,
{
    let cancel = Arc::new(AtomicBool::new(false));
    let progress = Progress::start(shared, client, token, &title, true).await;
    if let Some(token) = progress.token() {
        shared.lock().jobs.insert(token.clone(), cancel.clone());
    }
    let guard = CancelOnDrop {
        cancel: cancel.clone(),
        progress: progress.clone(),
        shared: shared.clone(),
    };
    let context = JobContext {
        cancel,
        progress: progress.clone(),
    };
    let started = Instant::now();
    // A thread of its own, not the blocking pool: any number of running
    // jobs must leave the pool to the analyses that hovers wait for.
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("neuride-job".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&context)));
            let _ = sender.send(outcome);
        });
    let outcome = match spawned {
        Ok(_) => receiver
            .await
            .map_err(|_| "the job's thread ended without a result".to_owned()),
        Err(error) => Err(format!("cannot start a thread: {error}")),
    };
    let result = match outcome {
        Ok(Ok(Ok(value))) => {
            progress.end(format!("done in {:.1} s", started.elapsed().as_secs_f64()));
            serde_json::to_value(value)
                .map_err(|e| internal(format!("{title}: result not serializable: {e}")))
        }
        Ok(Ok(Err(JobError::Cancelled))) => {
            progress.end("cancelled".into());
            Err(Error {
                code: ErrorCode::RequestCancelled,
                message: format!("{title}: cancelled").into(),
                data: None,
            })
        }
        Ok(Ok(Err(JobError::Failed(error)))) => {
            progress.end("failed".into());
            Err(internal(format!("{title}: {error:#}")))
        }
        Ok(Err(payload)) => {
            let message = panic_message(payload.as_ref());
            tracing::error!("job '{title}' panicked: {message}");
            progress.end("failed".into());
            Err(internal(format!("{title} failed: {message}")))
        }
        Err(join_error) => {
            progress.end("failed".into());
            Err(internal(format!("{title}: {join_error}")))
        }
    };
    drop(guard);
    result
}
