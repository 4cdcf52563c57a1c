//! Which files neuride analyses, decided by extension.

use serde::Serialize;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// An ONNX model (`.onnx`).
    Onnx,
    /// A numpy weight archive (`.npz`).
    Npz,
    /// A single numpy array (`.npy`).
    Npy,
    /// A Neuro language file (`.neuro`).
    Neuro,
    /// A NIR file (`.nir`): a spiking network in the Neuromorphic
    /// Intermediate Representation (HDF5).
    Nir,
}

impl FileKind {
    /// The kind of `path` by its extension (case-insensitive), `None` for
    /// files neuride does not analyse.
    pub fn from_path(path: &Path) -> Option<FileKind> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "onnx" => Some(FileKind::Onnx),
            "npz" => Some(FileKind::Npz),
            "npy" => Some(FileKind::Npy),
            "neuro" => Some(FileKind::Neuro),
            "nir" => Some(FileKind::Nir),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Onnx => "onnx",
            FileKind::Npz => "npz",
            FileKind::Npy => "npy",
            FileKind::Neuro => "neuro",
            FileKind::Nir => "nir",
        }
    }

    /// Binary kinds are never sent to an editor as text; they get a
    /// read-only text view instead.
    pub fn is_binary(self) -> bool {
        !matches!(self, FileKind::Neuro)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        let kind = |p: &str| FileKind::from_path(Path::new(p));
        assert_eq!(kind("a/b.onnx"), Some(FileKind::Onnx));
        assert_eq!(kind("W.NPZ"), Some(FileKind::Npz));
        assert_eq!(kind("x.npy"), Some(FileKind::Npy));
        assert_eq!(kind("app.neuro"), Some(FileKind::Neuro));
        assert_eq!(kind("snn.NIR"), Some(FileKind::Nir));
        assert_eq!(kind("README.md"), None);
        assert_eq!(kind("onnx"), None);
    }
}
