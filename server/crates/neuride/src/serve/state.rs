//! What the server knows: the workspace's models in an analysis host (the
//! language server's), kept current by the shared file watcher, the
//! prepared models (one per model revision, compiled once and reused), the
//! versions kept by the registry and the event log's live feed.
//!
//! Locks are `std::sync::Mutex`es held for short synchronous sections,
//! never across an `.await`; analyses and model preparation run on
//! blocking threads. A request takes an `Arc` of the prepared model and
//! runs without any lock, so a model replaced meanwhile never breaks it:
//! it finishes on the revision it started with.

use super::Config;
use super::error::ApiError;
use neuride_ide::events::Event;
use neuride_ide::run::model::Predictor;
use neuride_ide::{AnalysisHost, FileAnalysis, FileKind, Revision};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::{Semaphore, broadcast};

/// Where the registry keeps the versions an upload or a delete replaced:
/// `.neuride/versions/NAME/N.onnx` (or `N.nir`) inside the workspace (a hidden folder,
/// so the workspace walk and the watcher skip it).
pub const VERSIONS_DIR: &str = ".neuride/versions";

/// A prepared model, or why it cannot be prepared; computed once.
type Plan = Arc<OnceLock<Result<Arc<Predictor>, String>>>;

/// What identifies the contents a watcher event may or may not have
/// changed: a file we analysed and that still has this stamp is not
/// analysed again (an upload analyses its bytes before writing them, and
/// the watcher's echo of that write is skipped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        })
    }
}

#[derive(Default)]
struct Inner {
    host: AnalysisHost,
    stamps: HashMap<PathBuf, Stamp>,
    /// Model names (file stems) to their files; the first path (in sorted
    /// order) wins when two folders hold the same stem.
    names: BTreeMap<String, PathBuf>,
    /// By model file (or kept version file): the revision prepared and its plan.
    plans: HashMap<PathBuf, (Revision, Plan)>,
}

pub struct Served {
    pub root: PathBuf,
    pub config: Config,
    inner: Mutex<Inner>,
    /// New events of the log, for live feeds (Server-Sent Events).
    pub events: broadcast::Sender<Event>,
    /// Inferences accepted (running or waiting for a core).
    pub inflight: Arc<Semaphore>,
    /// Inferences running at once: one per core.
    pub running: Arc<Semaphore>,
    /// Uploads and deletes, one at a time.
    pub writes: tokio::sync::Mutex<()>,
    /// Set once the start-up scan has analysed the workspace.
    pub scanned: AtomicBool,
    watch: Mutex<Option<crate::watch::Watch>>,
}

/// A model resolved for a request: its prepared plan and version.
pub struct Resolved {
    pub predictor: Arc<Predictor>,
    pub version: u32,
    /// The model's format: `onnx` or `nir`.
    pub platform: &'static str,
}

impl Served {
    /// Watches and scans `root`; returns once every model is analysed.
    pub async fn start(
        root: PathBuf,
        config: Config,
        max_inflight: usize,
    ) -> anyhow::Result<Arc<Served>> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let served = Arc::new(Served {
            root: root.clone(),
            config,
            inner: Mutex::default(),
            events: broadcast::channel(1024).0,
            inflight: Arc::new(Semaphore::new(max_inflight)),
            running: Arc::new(Semaphore::new(cores)),
            writes: tokio::sync::Mutex::new(()),
            scanned: AtomicBool::new(false),
            watch: Mutex::new(None),
        });
        let weak = Arc::downgrade(&served);
        let changed = move |paths: std::collections::BTreeSet<PathBuf>| {
            if let Some(served) = weak.upgrade() {
                let paths: Vec<PathBuf> = paths.into_iter().collect();
                served.apply(&paths);
            }
        };
        let (watch, walked) = crate::watch::start(std::slice::from_ref(&root), changed)?;
        *lock(&served.watch) = Some(watch);
        walked.await?;
        let scanning = served.clone();
        tokio::task::spawn_blocking(move || {
            let files = neuride_ide::walk::analysable_files(&scanning.root);
            scanning.apply(&files);
            scanning.scanned.store(true, Ordering::Release);
        })
        .await?;
        tracing::info!(models = served.names().len(), "workspace analysed");
        Ok(served)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Applies changed paths (from the watcher, the scan or a write of
    /// ours): models that exist are analysed again unless their stamp is
    /// the one analysed, models that are gone are forgotten, and models
    /// without errors are prepared so their first request does not pay for
    /// it. Runs on a blocking thread.
    pub fn apply(&self, paths: &[PathBuf]) {
        let changes = crate::watch::sort_changes(std::slice::from_ref(&self.root), paths);
        let mut analysed = Vec::new();
        for path in changes.present {
            if !is_model(&path) {
                continue;
            }
            let stamp = Stamp::of(&path);
            let snapshot = {
                let mut inner = self.lock();
                if stamp.is_some() && inner.stamps.get(&path) == stamp.as_ref() {
                    continue;
                }
                inner.host.file_changed_on_disk(&path);
                inner.host.snapshot(&path)
            };
            let Some(snapshot) = snapshot else { continue };
            let analysis = match std::panic::catch_unwind(|| snapshot.analyze()) {
                Ok(Some(analysis)) => analysis,
                Ok(None) => continue,
                Err(_) => {
                    tracing::error!(path = %path.display(), "analysis panicked");
                    continue;
                }
            };
            if self.finish(&path, snapshot.revision, analysis, stamp) {
                analysed.push(path);
            }
        }
        if !changes.gone.is_empty() {
            let mut inner = self.lock();
            for gone in &changes.gone {
                let files = if FileKind::from_path(gone).is_some() {
                    vec![gone.clone()]
                } else {
                    inner.host.paths_under(gone)
                };
                for file in files {
                    inner.host.remove(&file);
                    inner.stamps.remove(&file);
                    inner.plans.remove(&file);
                }
            }
            inner.names = names(&inner.host);
            self.publish(&mut inner);
        }
        for path in analysed {
            self.warm(&path);
        }
    }

    /// Stores the analysis of `revision` of `path` (dropped when the file
    /// changed meanwhile) and publishes what it changed.
    fn finish(
        &self,
        path: &Path,
        revision: Revision,
        analysis: FileAnalysis,
        stamp: Option<Stamp>,
    ) -> bool {
        let mut inner = self.lock();
        if inner.host.finish(path, revision, analysis).is_none() {
            return false;
        }
        match stamp {
            Some(stamp) => inner.stamps.insert(path.to_owned(), stamp),
            None => inner.stamps.remove(path),
        };
        inner.names = names(&inner.host);
        self.publish(&mut inner);
        true
    }

    /// Records a file we have just written, analysed from the bytes we
    /// wrote (so the watcher's echo of the write is not analysed again).
    pub fn wrote(&self, path: &Path, analysis: FileAnalysis) {
        let stamp = Stamp::of(path);
        let revision = self.lock().host.file_changed_on_disk(path);
        if let Some(revision) = revision
            && self.finish(path, revision, analysis, stamp)
        {
            self.warm(path);
        }
    }

    /// Records an event of the registry itself (a refused upload).
    pub fn record(&self, path: &Path, kind: neuride_ide::events::EventKind, detail: String) {
        let mut inner = self.lock();
        inner.host.events.record(path, kind, detail);
        self.publish(&mut inner);
    }

    fn publish(&self, inner: &mut Inner) {
        for event in inner.host.events.take_new() {
            tracing::info!("{}", event.log_line());
            // No receiver is fine: nobody is watching the feed.
            let _ = self.events.send(event);
        }
    }

    /// Prepares the current revision of a model without errors.
    fn warm(&self, path: &Path) {
        let clean = self.lock().host.analysis(path).is_some_and(|analysis| {
            analysis
                .diagnostics()
                .iter()
                .all(|d| d.severity != neuride_ide::Severity::Error)
        });
        if clean && let Some(Err(error)) = self.plan(path) {
            tracing::warn!(path = %path.display(), "cannot prepare: {error}");
        }
    }

    /// The prepared current revision of the model file `path`, compiled on
    /// first use. `None` when the file is not a known model.
    fn plan(&self, path: &Path) -> Option<Result<Arc<Predictor>, String>> {
        let revision = self.lock().host.revision(path)?;
        Some(self.plan_of(path, revision))
    }

    /// The plan of `path` at `revision` (kept versions never change: 0).
    fn plan_of(&self, path: &Path, revision: Revision) -> Result<Arc<Predictor>, String> {
        let cell = {
            let mut inner = self.lock();
            match inner.plans.get(path) {
                Some((prepared, cell)) if *prepared == revision => cell.clone(),
                _ => {
                    let cell: Plan = Arc::default();
                    inner
                        .plans
                        .insert(path.to_owned(), (revision, cell.clone()));
                    cell
                }
            }
        };
        // Outside the lock: preparing a big model takes a while, and a
        // second request for the same revision waits for this one.
        cell.get_or_init(
            || match std::panic::catch_unwind(|| Predictor::load(path)) {
                Ok(result) => result.map(Arc::new).map_err(|e| e.to_string()),
                Err(_) => Err(format!(
                    "preparing {} failed (internal error)",
                    path.display()
                )),
            },
        )
        .clone()
    }

    /// Model names and their files, sorted by name.
    pub fn names(&self) -> BTreeMap<String, PathBuf> {
        self.lock().names.clone()
    }

    /// The file of model `name`.
    pub fn model_path(&self, name: &str) -> Option<PathBuf> {
        self.lock().names.get(name).cloned()
    }

    /// The latest analysis of `path`.
    pub fn analysis(&self, path: &Path) -> Option<Arc<FileAnalysis>> {
        self.lock().host.analysis(path)
    }

    pub fn all_events(&self) -> Vec<Event> {
        self.lock().host.events.all()
    }

    /// The folder of the versions of `name` kept by the registry.
    pub fn versions_dir(&self, name: &str) -> PathBuf {
        self.root.join(VERSIONS_DIR).join(name)
    }

    /// Kept versions of `name`, ascending, with their files (`N.onnx` or
    /// `N.nir`: a model may change format between versions).
    fn kept_files(&self, name: &str) -> Vec<(u32, PathBuf)> {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(self.versions_dir(name))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                if !is_model(&path) {
                    return None;
                }
                let version = path.file_stem()?.to_str()?.parse().ok()?;
                Some((version, path))
            })
            .collect();
        versions.sort_unstable();
        versions
    }

    /// Kept versions of `name`, ascending.
    pub fn kept_versions(&self, name: &str) -> Vec<u32> {
        self.kept_files(name).into_iter().map(|(v, _)| v).collect()
    }

    /// The file of kept version `version` of `name`.
    pub fn kept_file(&self, name: &str, version: u32) -> Option<PathBuf> {
        self.kept_files(name)
            .into_iter()
            .find_map(|(v, path)| (v == version).then_some(path))
    }

    /// The version number the current file of `name` has: one past the
    /// last kept version.
    pub fn current_version(&self, name: &str) -> u32 {
        self.kept_versions(name).last().map_or(1, |last| last + 1)
    }

    /// Model `name` (its current file, or a kept version) prepared for a
    /// request; 404 naming what exists, 400 when it cannot run.
    pub fn resolve(&self, name: &str, version: Option<&str>) -> Result<Resolved, ApiError> {
        let path = self.model_path(name);
        let current = self.current_version(name);
        let (path, revision, version) = match version {
            None => (path, None, current),
            Some(text) => {
                let number: u32 = text.parse().map_err(|_| {
                    ApiError::not_found(format!(
                        "model '{name}' has no version '{text}' (versions are numbers)"
                    ))
                })?;
                if number == current {
                    (path, None, current)
                } else if let Some(kept) = self.kept_file(name, number) {
                    (Some(kept), Some(0), number)
                } else {
                    return Err(ApiError::not_found(format!(
                        "model '{name}' has no version {number} (versions: {:?})",
                        self.all_versions(name)
                    )));
                }
            }
        };
        let Some(path) = path else {
            return Err(self.unknown_model(name));
        };
        let plan = match revision {
            Some(revision) => Some(self.plan_of(&path, revision)),
            None => {
                if let Some(errors) = self.errors(&path) {
                    return Err(ApiError::bad_request(format!(
                        "model '{name}' has errors and cannot run: {errors}"
                    )));
                }
                self.plan(&path)
            }
        };
        match plan {
            Some(Ok(predictor)) => Ok(Resolved {
                predictor,
                version,
                platform: model_extension(&path),
            }),
            Some(Err(error)) => Err(ApiError::bad_request(format!(
                "model '{name}' cannot run here: {error}"
            ))),
            None => Err(self.unknown_model(name)),
        }
    }

    /// Every version of `name`: the kept ones and the current one.
    pub fn all_versions(&self, name: &str) -> Vec<u32> {
        let mut versions = self.kept_versions(name);
        if self.model_path(name).is_some() {
            versions.push(self.current_version(name));
        }
        versions
    }

    /// The first error diagnostics of `path`, or `None` when it has none.
    fn errors(&self, path: &Path) -> Option<String> {
        let analysis = self.analysis(path)?;
        let errors: Vec<String> = analysis
            .diagnostics()
            .into_iter()
            .filter(|d| d.severity == neuride_ide::Severity::Error)
            .take(3)
            .map(|d| d.message)
            .collect();
        (!errors.is_empty()).then(|| errors.join("; "))
    }

    pub fn unknown_model(&self, name: &str) -> ApiError {
        let known: Vec<String> = self.names().into_keys().collect();
        ApiError::not_found(format!(
            "no model '{name}' in the workspace (models: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ))
    }

    /// The workspace-relative form of `path`, for clients.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// Whether the server serves `path` as a model: an ONNX model or a NIR
/// graph (`.npz` archives and `.neuro` files are not models).
pub fn is_model(path: &Path) -> bool {
    matches!(
        FileKind::from_path(path),
        Some(FileKind::Onnx | FileKind::Nir)
    )
}

/// The extension a model file of kind `kind` is kept with.
pub fn model_extension(path: &Path) -> &'static str {
    match FileKind::from_path(path) {
        Some(FileKind::Nir) => "nir",
        _ => "onnx",
    }
}

/// Model names from the host's files: every `.onnx` and `.nir` file by its
/// stem.
fn names(host: &AnalysisHost) -> BTreeMap<String, PathBuf> {
    let mut names = BTreeMap::new();
    for path in host.paths() {
        if !is_model(path) {
            continue;
        }
        if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
            names
                .entry(stem.to_owned())
                .or_insert_with(|| path.to_owned());
        }
    }
    names
}

/// Whether `name` may name a model: a file stem, never a path. Letters,
/// digits, `_`, `-` and `.` (not first), at most 128 characters.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "model name {name:?} is not a file stem: use letters, digits, '_', '-' and '.' (not first), no path separators or '..'"
        )))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_are_file_stems_only() {
        for good in ["iris", "digits_cnn", "model-2", "digits.snn"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "..", "../x", "a/b", "a\\b", ".hidden", "a..b", "x\0", "é", "a b", "/etc",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
