//! The file watcher of the language server (for clients that cannot watch
//! files for us: many Neovim setups, Helix) and of `neuride serve`: `notify`
//! over the workspace folders, debounced so a burst of writes to one file is
//! analysed once, and the sorting of a batch of changed paths into files to
//! (re)analyse and paths that are gone.
//!
//! It watches folder by folder, not recursively: each folder the
//! workspace walk visits (`.gitignore` and hidden folders skipped, symbolic
//! links not followed) gets one non-recursive watch, and a folder that
//! appears later is walked the same way before it is watched. So an ignored
//! `node_modules/` or `target/` costs no watch at all, and a symlink loop or
//! a DAG of links costs nothing either (a recursive watch follows them:
//! 2^15 paths for 15 levels of two links).

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

/// Starts watching `roots`; each debounced batch of changed paths is
/// handed to `on_changes` on a blocking thread. The returned task ends once
/// every folder of the workspace is watched (a scan waits for it, so a file
/// created after the scan is always seen).
pub fn start(
    roots: &[PathBuf],
    on_changes: impl Fn(BTreeSet<PathBuf>) + Send + Sync + 'static,
) -> notify::Result<(Watch, tokio::task::JoinHandle<()>)> {
    let on_changes = Arc::new(on_changes);
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
            let on_changes = on_changes.clone();
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
                on_changes(batch);
            })
            .await;
            if let Err(error) = applied {
                tracing::error!("applying file changes failed: {error}");
            }
        }
    });
    Ok((Watch { _folders: folders }, walked))
}

/// A batch of changed paths sorted for the analysis host.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Files of a kind neuride analyses that exist now (also every such
    /// file under a folder that moved in), outside ignored folders.
    pub present: Vec<PathBuf>,
    /// Paths that no longer exist (files, or folders with files under them).
    pub gone: Vec<PathBuf>,
}

/// Sorts `paths` (from a watcher, ours or a client's) into what exists and
/// what is gone. Ignored paths are skipped; a folder is walked, but only
/// inside `roots` (a client may report any folder). Walking a big folder
/// takes seconds: callers do it before taking their state lock.
pub fn sort_changes(roots: &[PathBuf], paths: &[PathBuf]) -> Changes {
    let ignored = |path: &Path| {
        roots
            .iter()
            .find(|root| path.starts_with(root))
            .is_some_and(|root| neuride_ide::walk::is_ignored(root, path))
    };
    let mut changes = Changes::default();
    for path in paths {
        if ignored(path) {
            continue;
        }
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_file() => changes.present.push(path.clone()),
            // A folder moved in: its files arrive one by one from some
            // watchers and not at all from others.
            Ok(metadata) if metadata.is_dir() => {
                if roots.iter().any(|root| path.starts_with(root)) {
                    changes.present.extend(
                        neuride_ide::walk::analysable_files(path)
                            .into_iter()
                            .filter(|file| !ignored(file)),
                    );
                }
            }
            Ok(_) => {}
            Err(_) => changes.gone.push(path.clone()),
        }
    }
    changes
}

fn lock(folders: &Mutex<Folders>) -> std::sync::MutexGuard<'_, Folders> {
    folders
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
