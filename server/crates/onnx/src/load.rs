//! Loading a model: the file is memory-mapped and decoded with `bytes::Bytes`
//! over the map, so `raw_data` fields are views into the map and weights are
//! never read unless asked for.

use crate::proto::ModelProto;
use bytes::Bytes;
use prost::Message;
use std::path::{Path, PathBuf};

/// A decoded model and the bytes its `raw_data` views point into.
pub struct Model {
    pub proto: ModelProto,
    /// The file it came from, if any; external data resolves relative to its folder.
    pub path: Option<PathBuf>,
    /// The whole encoded model (a memory map for files).
    pub bytes: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not a valid ONNX model (protobuf ModelProto expected): {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("empty file: an ONNX model (protobuf ModelProto) was expected")]
    Empty,
}

/// Decodes a model from bytes without copying tensor payloads.
pub fn decode(bytes: Bytes) -> Result<ModelProto, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty);
    }
    Ok(ModelProto::decode(bytes)?)
}

/// Memory-maps `path` and decodes it.
pub fn load_file(path: &Path) -> Result<Model, LoadError> {
    let io = |source| LoadError::Io { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let bytes = if len == 0 {
        Bytes::new()
    } else {
        // SAFETY: the map is read-only; a file truncated underneath us is the
        // accepted risk of every mmap-based reader (rustc, ripgrep do the same).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Bytes::from_owner(map)
    };
    let proto = decode(bytes.clone())?;
    Ok(Model { proto, path: Some(path.to_owned()), bytes })
}
