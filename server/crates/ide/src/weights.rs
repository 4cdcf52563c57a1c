//! ONNX <-> NPZ weight exchange: export every initializer of a model into an
//! `.npz`, import an archive back (by name, or through a map for NengoDL's
//! positional `arr_0`, `arr_1`, ...), propose such a map, and compare a model
//! with the archive beside it. Everything works on decoded models and listed
//! archives; only [`write_atomically`] touches the disk.

mod export;
mod import;
mod map;
mod pairing;

pub use export::export;
pub use import::{ImportReport, import};
pub use map::{MapEntry, WeightMap, propose_map};
pub use pairing::compare;

use neuride_npz::DType;
use neuride_onnx::Severity;
use neuride_onnx::proto::tensor_proto::DataType;
use neuride_onnx::proto::{ModelProto, TensorProto};
use serde::Serialize;
use std::path::Path;

/// One problem with a weight exchange, naming the initializer and/or the
/// array it is about. Codes: `weights/shape-mismatch`, `weights/dtype-mismatch`,
/// `weights/missing-array`, `weights/unused-array`, `weights/unknown-initializer`,
/// `weights/unreadable`, `weights/unsupported-dtype`, `weights/no-match`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeightProblem {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub initializer: Option<String>,
    pub array: Option<String>,
}

/// A model's initializers (none when it has no graph).
fn initializers(model: &ModelProto) -> &[TensorProto] {
    model
        .graph
        .as_ref()
        .map(|g| g.initializer.as_slice())
        .unwrap_or(&[])
}

impl WeightProblem {
    fn error(code: &'static str, message: impl Into<String>) -> Self {
        WeightProblem {
            severity: Severity::Error,
            code,
            message: message.into(),
            initializer: None,
            array: None,
        }
    }

    fn warning(code: &'static str, message: impl Into<String>) -> Self {
        WeightProblem {
            severity: Severity::Warning,
            ..WeightProblem::error(code, message)
        }
    }

    /// Names the initializer and the array the problem is about.
    fn about(self, initializer: Option<&str>, array: Option<&str>) -> Self {
        WeightProblem {
            initializer: initializer.map(str::to_owned),
            array: array.map(str::to_owned),
            ..self
        }
    }
}

impl std::fmt::Display for WeightProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{severity}[{}]: {}", self.code, self.message)
    }
}

/// The numpy dtype that holds an ONNX element type exactly, if numpy has one
/// (bfloat16, the float8 family and packed 2/4-bit types have none).
pub fn npz_dtype(data_type: i32) -> Option<DType> {
    Some(match DataType::try_from(data_type).ok()? {
        DataType::Bool => DType::Bool,
        DataType::Int8 => DType::Int8,
        DataType::Int16 => DType::Int16,
        DataType::Int32 => DType::Int32,
        DataType::Int64 => DType::Int64,
        DataType::Uint8 => DType::Uint8,
        DataType::Uint16 => DType::Uint16,
        DataType::Uint32 => DType::Uint32,
        DataType::Uint64 => DType::Uint64,
        DataType::Float16 => DType::Float16,
        DataType::Float => DType::Float32,
        DataType::Double => DType::Float64,
        DataType::Complex64 => DType::Complex64,
        DataType::Complex128 => DType::Complex128,
        _ => return None,
    })
}

/// Memory-maps a file read-only (an archive to list, or a model), so listing
/// a large `.npz` touches only the pages holding its headers; the map reads
/// zeros rather than faulting if the file is truncated under it.
pub fn map_file(path: &Path) -> std::io::Result<neuride_mapped::Map> {
    neuride_mapped::Map::new(&std::fs::File::open(path)?)
}

/// The protobuf encoding of a model (after [`import`]).
pub fn encode_model(model: &neuride_onnx::proto::ModelProto) -> Vec<u8> {
    prost::Message::encode_to_vec(model)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder
/// (so the rename cannot cross file systems), flushed, then renamed over
/// `path`. Readers see the old file or the new one, never half of either,
/// and a failed write leaves the old file as it was. A replaced file keeps
/// its permissions. The one atomic write of the tree: every command that
/// writes a user's file goes through it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, metadata.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests;
