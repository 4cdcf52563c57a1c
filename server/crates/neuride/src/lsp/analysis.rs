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

/// Analyses `path` in the background and publishes its diagnostics.
pub fn schedule(shared: &Shared, path: PathBuf) {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let snapshot = {
            let state = shared.lock();
            if state.shutting_down {
                return;
            }
            state.host.snapshot(&path)
        };
        if let Some(snapshot) = snapshot {
            analyze_and_publish(&shared, &snapshot);
        }
    });
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
pub fn publish(shared: &Shared, state: &State, path: &Path, analysis: &FileAnalysis) {
    let diagnostics: Vec<_> = analysis
        .diagnostics()
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
pub fn disk_changes(shared: &Shared, paths: impl IntoIterator<Item = PathBuf>) {
    let mut to_analyse = Vec::new();
    {
        let mut state = shared.lock();
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        // `.neuro` files that bind a changed model or archive are checked
        // again, opened or not (their facts came from the old file).
        let mut dependents: Vec<PathBuf> = paths
            .iter()
            .flat_map(|path| state.host.dependents_of(path))
            .filter(|dependent| !paths.contains(dependent))
            .collect();
        dependents.sort();
        dependents.dedup();
        for dependent in dependents {
            if state.host.file_changed_on_disk(&dependent).is_some() {
                to_analyse.push(dependent);
            }
        }
        for path in paths {
            if is_ignored(&state, &path) {
                continue;
            }
            match std::fs::metadata(&path) {
                Ok(metadata) if metadata.is_file() => {
                    if state.host.file_changed_on_disk(&path).is_some() {
                        to_analyse.push(path);
                    }
                }
                Ok(metadata) if metadata.is_dir() => {
                    // A folder moved in: its files arrive one by one from
                    // some watchers and not at all from others; walk it.
                    for file in neuride_ide::walk::analysable_files(&path) {
                        if !is_ignored(&state, &file)
                            && state.host.file_changed_on_disk(&file).is_some()
                        {
                            to_analyse.push(file);
                        }
                    }
                }
                _ => {
                    let gone: Vec<PathBuf> = if FileKind::from_path(&path).is_some() {
                        vec![path.clone()]
                    } else {
                        state.host.paths_under(&path)
                    };
                    for file in gone {
                        remove(shared, &mut state, &file);
                    }
                }
            }
        }
    }
    for path in to_analyse {
        schedule(shared, path);
    }
}

fn is_ignored(state: &State, path: &Path) -> bool {
    state
        .roots
        .iter()
        .find(|root| path.starts_with(root))
        .is_some_and(|root| neuride_ide::walk::is_ignored(root, path))
}
