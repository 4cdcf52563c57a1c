//! The server-side file watcher, for clients that cannot watch files for
//! us (many Neovim setups, Helix): `notify` over the workspace folders,
//! debounced so a burst of writes to one file is analysed once.

use super::analysis;
use super::state::Shared;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Events for the same burst arrive within this window; waiting for it
/// costs that much latency and saves re-analysing a half-written file.
const DEBOUNCE: Duration = Duration::from_millis(40);

/// Starts watching `roots`; the watcher lives as long as the returned value.
pub fn start(shared: Shared, roots: &[PathBuf]) -> notify::Result<notify::RecommendedWatcher> {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for path in event.paths {
                    let _ = sender.send(path);
                }
            }
            Err(error) => tracing::warn!("file watcher: {error}"),
        })?;
    for root in roots {
        if let Err(error) = watcher.watch(root, RecursiveMode::Recursive) {
            tracing::warn!(root = %root.display(), "cannot watch folder: {error}");
        }
    }
    tokio::spawn(async move {
        while let Some(first) = receiver.recv().await {
            let mut batch = BTreeSet::from([first]);
            let deadline = tokio::time::Instant::now() + DEBOUNCE;
            while let Ok(Some(path)) = tokio::time::timeout_at(deadline, receiver.recv()).await {
                batch.insert(path);
            }
            tracing::debug!(
                paths = batch.len(),
                "file changes from the server-side watcher"
            );
            analysis::disk_changes(&shared, batch);
        }
    });
    Ok(watcher)
}
