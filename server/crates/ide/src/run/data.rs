//! Reading the arrays a run needs from `.npz` archives: inputs and
//! calibration data as f32 tensors, labels as class indices, and whole
//! archives as weights by name. The CLI's `simulate` and `convert` use the
//! same readers, so both report a missing key the same way.

use super::RunError;
use neuride_convert::{Tensor, Weights};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn read_bytes(path: &Path) -> Result<bytes::Bytes, RunError> {
    crate::source::read_file(path)
        .map_err(|e| RunError::Data(format!("cannot read {}: {e}", path.display())))
}

fn list<'a>(path: &Path, bytes: &'a [u8]) -> Result<neuride_npz::Archive<'a>, RunError> {
    neuride_npz::list(bytes)
        .map_err(|e| RunError::Data(format!("{} is not a valid .npz: {e}", path.display())))
}

fn tensor_of(
    path: &Path,
    archive: &neuride_npz::Archive<'_>,
    key: &str,
) -> Result<Tensor, RunError> {
    let array = archive.array(key).map_err(|_| {
        RunError::Data(format!(
            "{}: no array '{key}' (arrays: {})",
            path.display(),
            archive.names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let data = array.to_f32_vec().map_err(|e| {
        RunError::Data(format!(
            "{}: array '{key}' is not numeric: {e}",
            path.display()
        ))
    })?;
    Ok(Tensor {
        shape: array.shape.iter().map(|&d| d as usize).collect(),
        data,
    })
}

/// One array of an `.npz` as f32 with its shape.
pub fn read_array(path: &Path, key: &str) -> Result<Tensor, RunError> {
    let bytes = read_bytes(path)?;
    tensor_of(path, &list(path, &bytes)?, key)
}

/// Integer labels under `key`, or `None` when the archive has no such array.
pub fn read_labels(path: &Path, key: &str) -> Result<Option<Vec<i64>>, RunError> {
    let bytes = read_bytes(path)?;
    let archive = list(path, &bytes)?;
    if archive.names().all(|n| n != key) {
        return Ok(None);
    }
    let values = archive
        .array(key)
        .and_then(|a| a.to_f64_vec())
        .map_err(|e| {
            RunError::Data(format!(
                "{}: labels '{key}' are not numeric: {e}",
                path.display()
            ))
        })?;
    Ok(Some(values.into_iter().map(|v| v as i64).collect()))
}

/// All arrays of an `.npz` as weights by name.
pub fn read_weights(path: &Path) -> Result<Weights, RunError> {
    let bytes = read_bytes(path)?;
    let archive = list(path, &bytes)?;
    let mut weights = Weights::new();
    for name in archive.names().map(String::from).collect::<Vec<_>>() {
        weights.insert(name.clone(), tensor_of(path, &archive, &name)?);
    }
    Ok(weights)
}

/// Archives read once per run, by path (a network names many keys of one file).
#[derive(Default)]
pub(crate) struct Archives {
    files: HashMap<PathBuf, bytes::Bytes>,
}

impl Archives {
    pub fn array(&mut self, path: &Path, key: &str) -> Result<Tensor, RunError> {
        if !self.files.contains_key(path) {
            let bytes = read_bytes(path)?;
            self.files.insert(path.to_owned(), bytes);
        }
        let bytes = &self.files[path];
        tensor_of(path, &list(path, bytes)?, key)
    }
}

/// One array of an `.npz` as f64 with its shape (tables keep their
/// precision until they become images).
pub fn read_f64(path: &Path, key: &str) -> Result<(Vec<usize>, Vec<f64>), RunError> {
    let bytes = read_bytes(path)?;
    let archive = list(path, &bytes)?;
    let array = archive.array(key).map_err(|_| {
        RunError::Data(format!(
            "{}: no array '{key}' (arrays: {})",
            path.display(),
            archive.names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let values = array.to_f64_vec().map_err(|e| {
        RunError::Data(format!(
            "{}: array '{key}' is not numeric: {e}",
            path.display()
        ))
    })?;
    Ok((array.shape.iter().map(|&d| d as usize).collect(), values))
}
