//! The analysis host: what the server knows about every file of the
//! workspace, and a cache of analyses keyed by (path, revision).
//!
//! The server mutates it synchronously in notification handlers (a change
//! only bumps a revision), takes a [`Snapshot`] of one file to analyse on a
//! worker thread, and hands the result back with [`AnalysisHost::finish`],
//! which drops it when the file changed meanwhile.

use crate::analysis::FileAnalysis;
use crate::events::{EventKind, EventLog};
use crate::file_kind::FileKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bumped on every change of a file; a result for an older revision is stale.
pub type Revision = u64;

/// Where a file's contents come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The file on disk (binary files are always read from disk).
    Disk,
    /// The text an editor holds for an open document, and its version.
    Overlay { text: Arc<str>, version: i32 },
}

#[derive(Clone)]
struct Entry {
    revision: Revision,
    source: Source,
    analysis: Option<(Revision, Arc<FileAnalysis>)>,
}

/// What a worker needs to analyse one file, detached from the host.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub path: PathBuf,
    pub revision: Revision,
    pub source: Source,
}

/// How many times a file truncated under its map while being analysed is
/// read again before the analysis gives up (the writer is still writing; the
/// change it makes arrives as a new revision).
const READ_ATTEMPTS: usize = 3;

impl Snapshot {
    /// Reads (disk) or takes (overlay) the contents and analyses them.
    /// A file that cannot be read yields `None` (it was deleted meanwhile),
    /// and so does one that keeps being truncated under its map while it is
    /// analysed: an analysis of zeros is not one of the file.
    pub fn analyze(&self) -> Option<FileAnalysis> {
        if let Source::Overlay { text, .. } = &self.source {
            let bytes = bytes::Bytes::copy_from_slice(text.as_bytes());
            let contents = crate::source::Contents::from_bytes(bytes);
            return Some(crate::analysis::analyze_contents(&self.path, contents));
        }
        (0..READ_ATTEMPTS).find_map(|_| {
            let contents = crate::source::read_contents(&self.path).ok()?;
            let analysis = crate::analysis::analyze_contents(&self.path, contents);
            (!analysis.was_truncated()).then_some(analysis)
        })
    }
}

#[derive(Default)]
pub struct AnalysisHost {
    files: BTreeMap<PathBuf, Entry>,
    next_revision: Revision,
    pub events: EventLog,
}

impl AnalysisHost {
    pub fn new() -> AnalysisHost {
        AnalysisHost::default()
    }

    fn bump(&mut self) -> Revision {
        self.next_revision += 1;
        self.next_revision
    }

    /// The entry of `path` (a file on disk when it is new) at a new revision.
    fn bump_entry(&mut self, path: &Path) -> (Revision, &mut Entry) {
        let revision = self.bump();
        let entry = self.files.entry(path.to_owned()).or_insert(Entry {
            revision,
            source: Source::Disk,
            analysis: None,
        });
        entry.revision = revision;
        (revision, entry)
    }

    /// A file appeared or changed on disk. Returns its new revision, or
    /// `None` when it is not a kind neuride analyses. An open document keeps
    /// its overlay: the editor's text wins over the disk.
    pub fn file_changed_on_disk(&mut self, path: &Path) -> Option<Revision> {
        FileKind::from_path(path)?;
        Some(self.bump_entry(path).0)
    }

    /// An editor opened or changed a text document.
    pub fn set_overlay(&mut self, path: &Path, text: Arc<str>, version: i32) -> Revision {
        let (revision, entry) = self.bump_entry(path);
        entry.source = Source::Overlay { text, version };
        revision
    }

    /// An editor closed a document: the disk is the truth again.
    pub fn remove_overlay(&mut self, path: &Path) -> Option<Revision> {
        let revision = self.bump();
        let entry = self.files.get_mut(path)?;
        entry.source = Source::Disk;
        entry.revision = revision;
        Some(revision)
    }

    /// A file was deleted. Returns whether it was known.
    pub fn remove(&mut self, path: &Path) -> bool {
        let removed = self.files.remove(path);
        if let Some(Entry {
            analysis: Some((_, analysis)),
            ..
        }) = &removed
            && analysis.kind() == FileKind::Onnx
        {
            self.events
                .record(path, EventKind::Removed, "model deleted".into());
        }
        removed.is_some()
    }

    /// Every file under `folder` (all files when `None`), for a folder removal.
    pub fn paths_under(&self, folder: &Path) -> Vec<PathBuf> {
        self.files
            .keys()
            .filter(|p| p.starts_with(folder))
            .cloned()
            .collect()
    }

    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }

    pub fn contains(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    pub fn revision(&self, path: &Path) -> Option<Revision> {
        self.files.get(path).map(|e| e.revision)
    }

    pub fn snapshot(&self, path: &Path) -> Option<Snapshot> {
        let entry = self.files.get(path)?;
        Some(Snapshot {
            path: path.to_owned(),
            revision: entry.revision,
            source: entry.source.clone(),
        })
    }

    /// Stores the analysis of `revision`; returns it when it is still the
    /// current revision, `None` (dropping it) when the file changed or
    /// disappeared meanwhile.
    pub fn finish(
        &mut self,
        path: &Path,
        revision: Revision,
        analysis: FileAnalysis,
    ) -> Option<Arc<FileAnalysis>> {
        let entry = self.files.get_mut(path)?;
        if entry.revision != revision {
            return None;
        }
        let analysis = Arc::new(analysis);
        let previous = entry
            .analysis
            .replace((revision, analysis.clone()))
            .map(|(_, a)| a);
        self.events
            .model_analysed(path, previous.as_deref(), &analysis);
        Some(analysis)
    }

    /// The latest finished analysis of `path`, even if a newer revision is
    /// being analysed (requests answer from it rather than wait). Not one
    /// whose file was truncated under its map since: requests then analyse
    /// the file again rather than answer from zeros.
    pub fn analysis(&self, path: &Path) -> Option<Arc<FileAnalysis>> {
        self.files
            .get(path)?
            .analysis
            .as_ref()
            .map(|(_, a)| a.clone())
            .filter(|a| !a.was_truncated())
    }

    /// The analysis of `path` only if it is of the current revision (and
    /// its file was not truncated under its map).
    pub fn current_analysis(&self, path: &Path) -> Option<Arc<FileAnalysis>> {
        let entry = self.files.get(path)?;
        match &entry.analysis {
            Some((revision, analysis))
                if *revision == entry.revision && !analysis.was_truncated() =>
            {
                Some(analysis.clone())
            }
            _ => None,
        }
    }

    /// The `.neuro` files whose last analysis read facts from `changed`:
    /// they must be checked again when it changes.
    pub fn dependents_of(&self, changed: &Path) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter_map(
                |(path, entry)| match entry.analysis.as_ref().map(|(_, a)| a.as_ref()) {
                    Some(FileAnalysis::Neuro(neuro))
                        if neuro.dependencies.iter().any(|d| d == changed) =>
                    {
                        Some(path.clone())
                    }
                    _ => None,
                },
            )
            .collect()
    }

    /// All finished analyses, sorted by path.
    pub fn analyses(&self) -> Vec<Arc<FileAnalysis>> {
        self.files
            .values()
            .filter_map(|e| e.analysis.as_ref().map(|(_, a)| a.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_results_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.neuro");
        let mut host = AnalysisHost::new();
        let first = host.set_overlay(&path, Arc::from("a"), 1);
        let first_snapshot = host.snapshot(&path).unwrap();
        let second = host.set_overlay(&path, Arc::from("b"), 2);
        assert!(second > first);
        let stale = first_snapshot.analyze().unwrap();
        assert!(host.finish(&path, first, stale).is_none());
        assert!(host.analysis(&path).is_none());
        let fresh = host.snapshot(&path).unwrap().analyze().unwrap();
        assert!(host.finish(&path, second, fresh).is_some());
        assert!(host.current_analysis(&path).is_some());
        host.file_changed_on_disk(&path);
        assert!(host.current_analysis(&path).is_none());
        assert!(host.analysis(&path).is_some());
        assert!(host.remove(&path));
        assert!(!host.contains(&path));
    }

    #[test]
    fn unknown_kinds_are_not_tracked() {
        let mut host = AnalysisHost::new();
        assert_eq!(host.file_changed_on_disk(Path::new("/w/readme.md")), None);
        assert!(host.file_changed_on_disk(Path::new("/w/m.onnx")).is_some());
    }
}
