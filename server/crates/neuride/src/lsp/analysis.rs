//! Running analyses off the request path and publishing their results.
//!
//! A change only bumps a revision (synchronously, in the handler); the
//! analysis then runs on a snapshot in `spawn_blocking`, and its result is
//! published only if the file has not changed meanwhile. Publishing goes
//! through the ordered outgoing channel while the state lock is held, so a
//! stale list can never overtake a fresh one.

use super::state::{Outgoing, Shared, State};
use super::{to_proto, uri};
use neuride_ide::{FileAnalysis, FileKind, Snapshot};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The background analyses waiting and running. At most [`WORKERS`] run at
/// once, and a file is analysed by one worker at a time from its newest
/// snapshot: ten quick edits of a big `.neuro` file while one analysis runs
/// cost that one and one more, not ten in parallel (memory stays bounded,
/// and superseded revisions are never analysed).
#[derive(Default)]
pub struct Queue {
    waiting: std::collections::VecDeque<PathBuf>,
    queued: std::collections::HashSet<PathBuf>,
    running: std::collections::HashSet<PathBuf>,
    workers: usize,
}

impl Queue {
    /// Files waiting or being analysed.
    pub fn len(&self) -> usize {
        self.waiting.len() + self.running.len()
    }

    /// The next waiting file no worker is analysing, marked as running.
    fn take(&mut self) -> Option<PathBuf> {
        let index = self
            .waiting
            .iter()
            .position(|path| !self.running.contains(path))?;
        let path = self.waiting.remove(index)?;
        self.queued.remove(&path);
        self.running.insert(path.clone());
        Some(path)
    }
}

/// Background analyses at once: enough to use the cores, few enough that
/// their working memory (and the allocator's per-thread arenas) stays
/// bounded.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// Analyses `path` in the background and publishes its diagnostics.
pub fn schedule(shared: &Shared, path: PathBuf) {
    let mut state = shared.lock();
    if state.shutting_down {
        return;
    }
    let queue = &mut state.queue;
    if queue.queued.insert(path.clone()) {
        queue.waiting.push_back(path);
    }
    if queue.workers < workers() {
        queue.workers += 1;
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || work(&shared));
    }
}

/// A worker: analyses waiting files until none is left.
fn work(shared: &Shared) {
    loop {
        let (path, snapshot) = {
            let mut state = shared.lock();
            let next = if state.shutting_down {
                None
            } else {
                state.queue.take()
            };
            let Some(path) = next else {
                state.queue.workers -= 1;
                return;
            };
            let snapshot = state.host.snapshot(&path);
            (path, snapshot)
        };
        if let Some(snapshot) = snapshot {
            analyze_and_publish(shared, &snapshot);
        }
        shared.lock().queue.running.remove(&path);
    }
}

/// Analyses one snapshot on the current (blocking) thread and publishes the
/// result if it is still current. Returns the analysis, current or not.
pub fn analyze_and_publish(shared: &Shared, snapshot: &Snapshot) -> Option<Arc<FileAnalysis>> {
    // A newer revision queued meanwhile makes this work pointless.
    if shared.lock().host.revision(&snapshot.path) != Some(snapshot.revision) {
        return None;
    }
    let analysis = match std::panic::catch_unwind(|| snapshot.analyze()) {
        Ok(Some(analysis)) => analysis,
        // Unreadable: deleted or replaced meanwhile; its watcher event follows.
        Ok(None) => return None,
        Err(payload) => {
            let message = super::guard::panic_message(payload.as_ref());
            tracing::error!(path = %snapshot.path.display(), "analysis panicked: {message}");
            return None;
        }
    };
    let mut state = shared.lock();
    match state
        .host
        .finish(&snapshot.path, snapshot.revision, analysis)
    {
        Some(analysis) => {
            publish(shared, &state, &snapshot.path, &analysis);
            forward_events(shared, &mut state);
            Some(analysis)
        }
        None => None,
    }
}

/// Sends the diagnostics of `analysis` (an empty list when clean) on the
/// file URI, and on the model's virtual URI when a client views it.
/// The rules of the file's configuration apply, as in `neuride check`.
pub fn publish(shared: &Shared, state: &State, path: &Path, analysis: &FileAnalysis) {
    let rules = state.config.rules_for(path).unwrap_or_else(|error| {
        tracing::warn!("{error}; checking {} with every rule", path.display());
        shared.send(Outgoing::Log(format!(
            "{error}; checking {} with every rule",
            path.display()
        )));
        Default::default()
    });
    let diagnostics: Vec<_> = rules
        .apply(analysis.diagnostics())
        .iter()
        .map(to_proto::diagnostic)
        .collect();
    let version = match state.host.snapshot(path).map(|s| s.source) {
        Some(neuride_ide::host::Source::Overlay { version, .. }) => Some(version),
        _ => None,
    };
    if state.viewed.contains(path)
        && let Some(view) = uri::virtual_from_path(path)
    {
        shared.send(Outgoing::Diagnostics {
            uri: view,
            diagnostics: diagnostics.clone(),
            version: None,
        });
    }
    if let Some(file) = uri::from_path(path) {
        shared.send(Outgoing::Diagnostics {
            uri: file,
            diagnostics,
            version,
        });
    }
}

/// A file is gone: forget it and clear its diagnostics.
pub fn remove(shared: &Shared, state: &mut State, path: &Path) {
    if !state.host.remove(path) {
        return;
    }
    if state.viewed.remove(path)
        && let Some(view) = uri::virtual_from_path(path)
    {
        shared.send(Outgoing::Diagnostics {
            uri: view,
            diagnostics: Vec::new(),
            version: None,
        });
    }
    if let Some(file) = uri::from_path(path) {
        shared.send(Outgoing::Diagnostics {
            uri: file,
            diagnostics: Vec::new(),
            version: None,
        });
    }
    forward_events(shared, state);
}

/// Mirrors new registry events to the client's log (`window/logMessage`)
/// and tells it the registry changed (`neuride/events` notification).
pub fn forward_events(shared: &Shared, state: &mut State) {
    let events = state.host.events.take_new();
    if events.is_empty() {
        return;
    }
    for event in &events {
        shared.send(Outgoing::Log(event.log_line()));
    }
    let params = serde_json::to_value(&events).unwrap_or_default();
    shared.send(Outgoing::Events(params));
}

/// Applies a batch of disk changes (from the client's watcher or ours):
/// existing files are (re)analysed, missing ones removed, with everything
/// under a removed folder. Ignored files and unknown kinds are skipped.
/// Folders are walked (and ignore files read) before the state lock is
/// taken: a big folder takes seconds, during which requests go on.
pub fn disk_changes(shared: &Shared, paths: impl IntoIterator<Item = PathBuf>) {
    let (configs, paths): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .into_iter()
        .partition(|path| crate::config::is_config_file(path));
    if !configs.is_empty() {
        config_changed(shared);
    }
    let roots = shared.lock().roots.clone();
    let crate::watch::Changes { present, gone } = crate::watch::sort_changes(&roots, &paths);
    let mut to_analyse = Vec::new();
    {
        let mut state = shared.lock();
        // `.neuro` files that bind a changed model or archive are checked
        // again, opened or not (their facts came from the old file).
        let mut dependents: Vec<PathBuf> = paths
            .iter()
            .flat_map(|path| state.host.dependents_of(path))
            .filter(|dependent| !paths.contains(dependent))
            .collect();
        dependents.sort();
        dependents.dedup();
        for path in dependents.into_iter().chain(present) {
            if state.host.file_changed_on_disk(&path).is_some() {
                to_analyse.push(path);
            }
        }
        for path in gone {
            let files: Vec<PathBuf> = if FileKind::from_path(&path).is_some() {
                vec![path]
            } else {
                state.host.paths_under(&path)
            };
            for file in files {
                remove(shared, &mut state, &file);
            }
        }
    }
    to_analyse.sort();
    to_analyse.dedup();
    for path in to_analyse {
        schedule(shared, path);
    }
}

/// A `neuride.toml` or `pyproject.toml` changed: the rules are read again
/// and every file's current diagnostics published under them (nothing is
/// analysed again: the rules only filter and re-grade).
fn config_changed(shared: &Shared) {
    let state = shared.lock();
    state.config.clear();
    let paths: Vec<PathBuf> = state.host.paths().map(Path::to_owned).collect();
    let mut published = 0;
    for path in paths {
        if let Some(analysis) = state.host.current_analysis(&path) {
            publish(shared, &state, &path, &analysis);
            published += 1;
        }
    }
    tracing::info!(published, "lint configuration changed");
}
