//! Loading a model: the file is read (small) or memory-mapped (from 16 MB,
//! through `neuride-mapped`, safe against truncation) and decoded with
//! `bytes::Bytes` over it, so `raw_data` fields are views into the map and
//! weights are never read unless asked for. Tensors stored outside the model
//! (`data_location = EXTERNAL`) are resolved only inside the model's folder
//! ([`external`]), and [`tensor_bytes`] hands any tensor's payload to consumers.

pub mod external;
mod sparse;
mod tensor_data;

use crate::proto::ModelProto;
use bytes::Bytes;
use prost::Message;
use std::path::{Path, PathBuf};

pub use external::{ExternalData, ExternalDataError, ModelDir};
pub use tensor_data::{TensorBytes, TensorDataError, element_count, embedded, tensor_bytes};

/// A decoded model and the bytes its `raw_data` views point into.
pub struct Model {
    pub proto: ModelProto,
    /// The file it came from, if any; external data resolves relative to its folder.
    pub path: Option<PathBuf>,
    /// The whole encoded model (a memory map for big files).
    pub bytes: Bytes,
    /// The map behind `bytes`, if they are one.
    map: Option<neuride_mapped::Map>,
}

impl Model {
    /// Whether the file shrank under the map and a read of the model's
    /// bytes met zeros: whatever was computed from the weights since
    /// loading may be wrong, and the file should be loaded again.
    pub fn was_truncated(&self) -> bool {
        self.map
            .as_ref()
            .is_some_and(neuride_mapped::Map::was_truncated)
    }

    /// The folder external data is read from, `None` for models decoded from bytes.
    pub fn dir(&self) -> Option<ModelDir> {
        let path = self.path.as_ref()?;
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Some(ModelDir::new(if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a valid ONNX model (protobuf ModelProto expected): {0}")]
    Decode(#[from] prost::DecodeError),
    #[error(
        "not a valid ONNX model: messages are nested deeper than the decoder allows (100 levels, \
         about 33 levels of subgraphs); a real model nests far less, so the file is corrupt or hostile"
    )]
    TooDeep,
    #[error("empty file: an ONNX model (protobuf ModelProto) was expected")]
    Empty,
}

impl LoadError {
    /// A stable diagnostic code for the error, for the CLI and the editor.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::Io { .. } => "onnx/io-error",
            LoadError::Decode(_) => "onnx/decode-error",
            LoadError::TooDeep => "onnx/too-deep",
            LoadError::Empty => "onnx/empty-file",
        }
    }
}

/// Decodes a model from bytes without copying tensor payloads.
///
/// prost stops at 100 levels of message nesting (its default recursion
/// limit), so a file of deeply nested subgraphs fails with
/// [`LoadError::TooDeep`] instead of overflowing the stack.
pub fn decode(bytes: Bytes) -> Result<ModelProto, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty);
    }
    ModelProto::decode(bytes).map_err(|error| {
        // prost has no typed variant for this; its description is stable.
        if error.to_string().contains("recursion limit") {
            LoadError::TooDeep
        } else {
            LoadError::Decode(error)
        }
    })
}

/// Files at least this big are decoded without mapping their weight pages.
pub const SPARSE_DECODE_FROM: u64 = 16 * 1024 * 1024;

/// Decodes `map`, the memory map of `file`, reading the protobuf structure
/// with positioned reads so that weight pages are never mapped in (see
/// `sparse.rs`); falls back to decoding the map directly.
pub fn decode_mapped(map: &Bytes, file: &std::fs::File) -> Result<ModelProto, LoadError> {
    // Small files: their pages are few, and the direct decode is faster.
    #[cfg(unix)]
    if map.len() as u64 >= SPARSE_DECODE_FROM {
        use std::os::unix::fs::FileExt;
        let read_at = |offset: u64, buffer: &mut [u8]| file.read_at(buffer, offset);
        if let Some(model) = sparse::decode(map, &read_at) {
            return Ok(model);
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    decode(map.clone())
}

/// Reads (below 16 MB) or memory-maps `path` and decodes it.
pub fn load_file(path: &Path) -> Result<Model, LoadError> {
    let contents = neuride_mapped::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let map = contents.map().cloned();
    let proto = match (contents.file(), &map) {
        (Some(file), Some(map)) => {
            // Decoding touches only the small fields between tensor
            // payloads, so reading ahead into the payloads is wasted I/O on
            // a cold cache.
            map.advise_random();
            decode_mapped(&contents.bytes, file)?
        }
        _ => decode(contents.bytes.clone())?,
    };
    Ok(Model {
        proto,
        path: Some(path.to_owned()),
        bytes: contents.bytes,
        map,
    })
}

/// The whole file as `Bytes`: read below 16 MB, a map from there up.
pub(crate) fn read_file(path: &Path) -> std::io::Result<Bytes> {
    neuride_mapped::read(path).map(|contents| contents.bytes)
}
