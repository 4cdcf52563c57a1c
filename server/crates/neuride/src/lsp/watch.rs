//! The server-side file watcher, for clients that cannot watch files for
//! us (many Neovim setups, Helix): `notify` over the workspace folders,
//! debounced so a burst of writes to one file is analysed once.
//!
//! It watches folder by folder, not recursively: each folder the
//! workspace walk visits (`.gitignore` and hidden folders skipped, symbolic
//! links not followed) gets one non-recursive watch, and a folder that
//! appears later is walked the same way before it is watched. So an ignored
//! `node_modules/` or `target/` costs no watch at all, and a symlink loop or
//! a DAG of links costs nothing either (a recursive watch follows them:
//! 2^15 paths for 15 levels of two links).

use super::analysis;
use super::state::Shared;
use notify::{RecursiveMode, Watcher};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events for the same burst arrive within this window; waiting for it
/// costs that much latency and saves re-analysing a half-written file.
const DEBOUNCE: Duration = Duration::from_millis(40);

/// A running watcher; dropping it stops watching.
pub struct Watch {
    _folders: Arc<Mutex<Folders>>,
}

/// The folders watched so far.
struct Folders {
    watcher: notify::RecommendedWatcher,
    roots: Vec<PathBuf>,
    watched: HashSet<PathBuf>,
}

impl Folders {
    /// Watches `folder` and every folder the workspace walk visits under
    /// it that is not watched yet.
    fn watch_tree(&mut self, folder: &Path) {
        let Some(root) = self.roots.iter().find(|r| folder.starts_with(r)).cloned() else {
            return;
        };
        if folder != root && neuride_ide::walk::is_ignored(&root, folder) {
            return;
        }
        for folder in neuride_ide::walk::folders(folder) {
            if self.watched.contains(&folder) {
                continue;
            }
            match self.watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(folder);
                }
                // Gone meanwhile, or out of watches (the log says which).
                Err(error) => tracing::warn!(folder = %folder.display(), "cannot watch: {error}"),
            }
        }
    }

    /// Forgets folders that no longer exist (their watches ended with them).
    fn forget_missing(&mut self, paths: &BTreeSet<PathBuf>) {
        for path in paths {
            if self.watched.contains(path) && std::fs::symlink_metadata(path).is_err() {
                self.watched.retain(|folder| !folder.starts_with(path));
            }
        }
    }
}

/// Starts watching `roots`; the returned task ends once every folder of
/// the workspace is watched (the scan waits for it, so a file created after
/// the scan's diagnostics is always seen).
pub fn start(
    shared: Shared,
    roots: &[PathBuf],
) -> notify::Result<(Watch, tokio::task::JoinHandle<()>)> {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let watcher = notify::RecommendedWatcher::new(
        move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for path in event.paths {
                    let _ = sender.send(path);
                }
            }
            Err(error) => tracing::warn!("file watcher: {error}"),
        },
        notify::Config::default().with_follow_symlinks(false),
    )?;
    let folders = Arc::new(Mutex::new(Folders {
        watcher,
        roots: roots.to_vec(),
        watched: HashSet::new(),
    }));
    let walked = {
        let folders = folders.clone();
        let roots = roots.to_vec();
        // The walk of a big workspace must not hold up the dispatcher.
        tokio::task::spawn_blocking(move || {
            let mut folders = lock(&folders);
            for root in &roots {
                folders.watch_tree(root);
            }
            tracing::debug!(folders = folders.watched.len(), "watching");
        })
    };
    // Weak: dropping the `Watch` drops the watcher, which ends this task.
    let watching = Arc::downgrade(&folders);
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
            let Some(folders) = watching.upgrade() else {
                return;
            };
            let shared = shared.clone();
            let applied = tokio::task::spawn_blocking(move || {
                {
                    let mut folders = lock(&folders);
                    folders.forget_missing(&batch);
                    for path in &batch {
                        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                            folders.watch_tree(path);
                        }
                    }
                }
                analysis::disk_changes(&shared, batch);
            })
            .await;
            if let Err(error) = applied {
                tracing::error!("applying file changes failed: {error}");
            }
        }
    });
    Ok((Watch { _folders: folders }, walked))
}

fn lock(folders: &Mutex<Folders>) -> std::sync::MutexGuard<'_, Folders> {
    folders
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
