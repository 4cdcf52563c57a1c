//! `neuride.runApp`: runs an `app` of a `.neuro` file as a job (work-done
//! progress, cancellable like the other jobs), with the same options and
//! code as `neuride app run` (`neuride_ide::run::app`). While it runs, every
//! event goes to the client as a `neuride/appEvent` notification
//! (`{uri, app, event}`), the counts as `neuride/appStatus` (`{uri, app,
//! status}`, at most ten a second) for a live view, and the events that are
//! not per-reading traces into the registry's event log. The result is the
//! run's report.
//!
//! Argument: `{"uri": FILE.neuro, "app"?: NAME, "speed"?: "max" | "realtime"
//! | N, "limit"?: N, "loop"?: bool, "trace"?: bool, "queue"?: N}`.

use super::guard::invalid_params;
use super::jobs::{JobContext, JobError, run_job};
use super::jsonrpc::Result;
use super::runs::{ModelOptions, latest_neuro, neuro_now, run_failed, target};
use super::state::{Outgoing, Shared};
use super::transport::Client;
use ls_types::ProgressToken;
use neuride_ide::events::EventKind as LogKind;
use neuride_ide::run::app::{Event, Observer, Outside, RunApp, Status, log_detail, prepare_app};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

impl ModelOptions for RunApp {
    fn paths_mut(&mut self) -> Vec<&mut PathBuf> {
        Vec::new()
    }
}

/// Status notifications closer together than this are skipped.
const STATUS_INTERVAL: Duration = Duration::from_millis(100);

pub async fn run_app(
    shared: &Shared,
    client: &Client,
    token: Option<ProgressToken>,
    argument: Value,
) -> Result<Value> {
    // Notifications carry the client's own spelling of the URI.
    let uri = argument
        .get("uri")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut run = target(argument)?;
    if run.name.is_some() {
        return Err(invalid_params(
            "neuride.runApp takes \"app\" (the app's name), not \"name\"",
        ));
    }
    if run.path.extension().is_none_or(|e| e != "neuro") {
        return Err(invalid_params(format!(
            "{}: apps are in .neuro files",
            run.path.display()
        )));
    }
    let options: RunApp = run.options()?;
    run.neuro = latest_neuro(shared, &run.path);
    let title = format!(
        "neuride: app {} of {}",
        options.app.as_deref().unwrap_or("(first)"),
        run.path.file_name().unwrap_or_default().to_string_lossy()
    );
    let shared_for_job = shared.clone();
    run_job(shared, client, token, title, move |job: &JobContext| {
        let neuro = neuro_now(&run)?;
        let prepared = prepare_app(&neuro, &options, Outside::default()).map_err(run_failed)?;
        let mut observer = Stream {
            shared: shared_for_job,
            uri,
            app: prepared.name().to_owned(),
            path: run.path.clone(),
            job,
            expected: prepared.expected_readings(),
            last_status: None,
            calls: 0,
        };
        let report = prepared
            .run(&mut observer, job.cancel_flag())
            .map_err(run_failed)?;
        if job.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        Ok(report)
    })
    .await
}

/// The job's observer: events and counts to the client, the log.
struct Stream<'a> {
    shared: Shared,
    uri: String,
    app: String,
    path: PathBuf,
    job: &'a JobContext,
    expected: Option<u64>,
    last_status: Option<Instant>,
    calls: u32,
}

impl Observer for Stream<'_> {
    fn event(&mut self, event: &Event) {
        self.shared.send(Outgoing::AppEvent(json!({
            "uri": self.uri,
            "app": self.app,
            "event": event,
        })));
        if let Some(detail) = log_detail(event) {
            let mut state = self.shared.lock();
            state.host.events.record(&self.path, LogKind::App, detail);
            super::analysis::forward_events(&self.shared, &mut state);
        }
    }

    fn reading_done(&mut self, status: &dyn Fn() -> Status) {
        self.calls = self.calls.wrapping_add(1);
        // Looking at the clock costs more than a replayed reading: only
        // every 64th reading (and the first) does.
        if self.last_status.is_some() && !self.calls.is_multiple_of(64) {
            return;
        }
        if self
            .last_status
            .is_some_and(|t| t.elapsed() < STATUS_INTERVAL)
        {
            return;
        }
        self.last_status = Some(Instant::now());
        let status = status();
        let readings: u64 = status.readings.values().sum();
        let events: u64 = status.events.values().sum();
        let fraction = self
            .expected
            .map_or(0.0, |n| readings as f64 / n.max(1) as f64);
        self.job.report(
            fraction,
            format!("{readings} readings, {events} rule events"),
        );
        self.shared.send(Outgoing::AppStatus(json!({
            "uri": self.uri,
            "app": self.app,
            "status": status,
        })));
    }
}
