//! Analysing one file of any kind, and its report (what `neuride check`
//! prints and the server publishes).

use crate::archive::ArchiveAnalysis;
use crate::file_kind::FileKind;
use crate::model::ModelAnalysis;
use crate::neuro::NeuroAnalysis;
use crate::report::{FileDiagnostic, FileReport};
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;

pub enum FileAnalysis {
    Model(ModelAnalysis),
    Archive(ArchiveAnalysis),
    Neuro(NeuroAnalysis),
}

impl FileAnalysis {
    pub fn kind(&self) -> FileKind {
        match self {
            FileAnalysis::Model(model) => model.kind,
            FileAnalysis::Archive(archive) => archive.kind,
            FileAnalysis::Neuro(_) => FileKind::Neuro,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            FileAnalysis::Model(model) => &model.path,
            FileAnalysis::Archive(archive) => &archive.path,
            FileAnalysis::Neuro(neuro) => &neuro.path,
        }
    }

    pub fn diagnostics(&self) -> Vec<FileDiagnostic> {
        match self {
            FileAnalysis::Model(model) => model.file_diagnostics(),
            FileAnalysis::Archive(archive) => archive.diagnostics.clone(),
            FileAnalysis::Neuro(neuro) => neuro.diagnostics.clone(),
        }
    }

    pub fn report(&self) -> FileReport {
        FileReport {
            path: self.path().display().to_string(),
            kind: self.kind(),
            diagnostics: self.diagnostics(),
        }
    }

    /// Whether the file was truncated under the map the analysis reads:
    /// what it computed from the lost pages (zeros) is wrong, and the file
    /// must be read again.
    pub fn was_truncated(&self) -> bool {
        let map = match self {
            FileAnalysis::Model(model) => &model.map,
            FileAnalysis::Archive(archive) => &archive.map,
            FileAnalysis::Neuro(_) => return false,
        };
        map.as_ref().is_some_and(neuride_mapped::Map::was_truncated)
    }

    pub fn as_model(&self) -> Option<&ModelAnalysis> {
        match self {
            FileAnalysis::Model(model) => Some(model),
            _ => None,
        }
    }
}

/// Analyses `bytes` as the file at `path` (its kind by extension; an unknown
/// extension is read as a `.neuro` file). `path` also locates a model's
/// external data.
pub fn analyze_file(path: &Path, bytes: Bytes) -> FileAnalysis {
    match FileKind::from_path(path) {
        Some(FileKind::Onnx) => FileAnalysis::Model(ModelAnalysis::new(path, bytes)),
        Some(FileKind::Nir) => FileAnalysis::Model(ModelAnalysis::from_nir(path, &bytes)),
        Some(kind @ (FileKind::Npz | FileKind::Npy)) => {
            FileAnalysis::Archive(ArchiveAnalysis::new(path, kind, bytes))
        }
        Some(FileKind::Neuro) | None => match std::str::from_utf8(&bytes) {
            Ok(text) => FileAnalysis::Neuro(NeuroAnalysis::new(path, Arc::from(text))),
            Err(error) => FileAnalysis::Neuro(NeuroAnalysis::not_utf8(path, error)),
        },
    }
}

/// [`analyze_file`] for contents read from disk by
/// [`crate::source::read_contents`]: a mapped archive is listed through its
/// file, so its headers do not fault in pages of the map, and the analysis
/// keeps the map to tell whether it was truncated under it.
pub fn analyze_contents(path: &Path, contents: crate::source::Contents) -> FileAnalysis {
    let map = contents.map().cloned();
    let mut analysis = match (FileKind::from_path(path), contents.file()) {
        (Some(kind @ (FileKind::Npz | FileKind::Npy)), Some(file)) => FileAnalysis::Archive(
            ArchiveAnalysis::with_file(path, kind, contents.bytes.clone(), Some(file)),
        ),
        (Some(FileKind::Onnx), Some(file)) => {
            let decoded = neuride_onnx::load::decode_mapped(&contents.bytes, file);
            FileAnalysis::Model(ModelAnalysis::from_decoded(
                path,
                contents.bytes.len() as u64,
                decoded,
            ))
        }
        _ => analyze_file(path, contents.bytes),
    };
    match &mut analysis {
        FileAnalysis::Model(model) => model.map = map,
        FileAnalysis::Archive(archive) => archive.map = map,
        FileAnalysis::Neuro(_) => {}
    }
    analysis
}

/// The diagnostics of the file at `path` with contents `bytes`.
pub fn check_file(path: &Path, bytes: Bytes) -> FileReport {
    analyze_file(path, bytes).report()
}
