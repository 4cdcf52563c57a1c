//! External tensor data (`data_location = EXTERNAL`): the `external_data`
//! entries (`location`, `offset`, `length`, `checksum`) and the only place
//! such a file is looked at, [`ModelDir`].
//!
//! A location must stay inside the model's folder. Absolute paths and `..`
//! are refused by looking at the string alone; a symlink leaving the folder is
//! refused after resolving the path (readlink/lstat, which do not open the
//! file). A refused file is never opened.

use crate::proto::TensorProto;
use bytes::Bytes;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where a tensor's bytes live outside the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalData {
    /// Relative to the model's folder, as written in the model.
    pub location: String,
    pub offset: u64,
    /// `None`: from `offset` to the end of the file.
    pub length: Option<u64>,
    /// SHA-1 of the bytes, if the writer recorded one (not verified: that
    /// would read every weight).
    pub checksum: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExternalDataError {
    #[error(
        "external data has no 'location' entry: one of the external_data keys must be 'location'"
    )]
    NoLocation,
    #[error(
        "external data location is empty: a file name relative to the model's folder was expected"
    )]
    EmptyLocation,
    #[error(
        "external data location '{0}' is an absolute path: only paths relative to the model's folder are read"
    )]
    Absolute(String),
    #[error(
        "external data location '{0}' leaves the model's folder ('..'): only files inside it are read"
    )]
    ParentDir(String),
    #[error(
        "external data location '{location}' is a symlink resolving outside the model's folder"
    )]
    SymlinkOutside { location: String, target: PathBuf },
    #[error("external data entry '{key}' = '{value}': a non-negative integer was expected")]
    BadNumber { key: &'static str, value: String },
    #[error("external data file '{0}' does not exist or is not accessible in the model's folder")]
    Missing(String),
    #[error("external data location '{0}' is not a regular file")]
    NotRegularFile(String),
    #[error(
        "external data range offset {offset} + length {length} ends past the end of '{location}' ({file_len} bytes)"
    )]
    OutOfRange {
        location: String,
        offset: u64,
        length: u64,
        file_len: u64,
    },
    #[error(
        "external data cannot be read: the model was not loaded from a file, so it has no folder"
    )]
    NoModelDir,
    #[error("cannot read external data file {path}: {message}")]
    Io { path: PathBuf, message: String },
}

impl ExternalData {
    /// Reads the `external_data` entries of `tensor` (unknown keys are ignored,
    /// as onnx does). Checks the location lexically; does no IO.
    pub fn of(tensor: &TensorProto) -> Result<ExternalData, ExternalDataError> {
        let mut location = None;
        let mut offset = 0;
        let mut length = None;
        let mut checksum = None;
        for entry in &tensor.external_data {
            let number = |key: &'static str| {
                entry
                    .value()
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| ExternalDataError::BadNumber {
                        key,
                        value: entry.value().to_owned(),
                    })
            };
            match entry.key() {
                "location" => location = Some(entry.value().to_owned()),
                "offset" => offset = number("offset")?,
                "length" => length = Some(number("length")?),
                "checksum" => checksum = Some(entry.value().to_owned()),
                _ => {}
            }
        }
        let location = location.ok_or(ExternalDataError::NoLocation)?;
        check_location(&location)?;
        Ok(ExternalData {
            location,
            offset,
            length,
            checksum,
        })
    }
}

/// Refuses, by the string alone, a location that could leave the model's
/// folder: empty, absolute (`/x`, `\x`, `C:...`), or with a `..` component.
/// Both `/` and `\` count as separators so a Windows-style path cannot slip by.
pub fn check_location(location: &str) -> Result<(), ExternalDataError> {
    if location.is_empty() {
        return Err(ExternalDataError::EmptyLocation);
    }
    let bytes = location.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if location.starts_with('/') || location.starts_with('\\') || drive || location.contains('\0') {
        return Err(ExternalDataError::Absolute(location.to_owned()));
    }
    if location.split(['/', '\\']).any(|part| part == "..") {
        return Err(ExternalDataError::ParentDir(location.to_owned()));
    }
    Ok(())
}

/// The model's folder: resolves and maps external data files inside it.
pub struct ModelDir {
    dir: PathBuf,
    /// Files mapped so far, so many tensors in one file share one map.
    maps: Mutex<HashMap<PathBuf, Bytes>>,
}

impl ModelDir {
    pub fn new(dir: PathBuf) -> ModelDir {
        ModelDir {
            dir,
            maps: Mutex::new(HashMap::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The real path of `location`, refused if it is not a regular file
    /// inside the folder. Resolving symlinks does not open the file.
    pub fn resolve(&self, location: &str) -> Result<PathBuf, ExternalDataError> {
        check_location(location)?;
        let joined = self.dir.join(location);
        let missing = || ExternalDataError::Missing(location.to_owned());
        let real = std::fs::canonicalize(&joined).map_err(|_| missing())?;
        let real_dir = std::fs::canonicalize(&self.dir).map_err(|_| missing())?;
        if !real.starts_with(&real_dir) {
            return Err(ExternalDataError::SymlinkOutside {
                location: location.to_owned(),
                target: real,
            });
        }
        let metadata = std::fs::metadata(&real).map_err(|_| missing())?;
        if !metadata.is_file() {
            return Err(ExternalDataError::NotRegularFile(location.to_owned()));
        }
        Ok(real)
    }

    /// The length in bytes of the file at `location` (resolved as [`Self::resolve`]).
    pub fn file_len(&self, location: &str) -> Result<u64, ExternalDataError> {
        let real = self.resolve(location)?;
        let metadata = std::fs::metadata(&real)
            .map_err(|_| ExternalDataError::Missing(location.to_owned()))?;
        Ok(metadata.len())
    }

    /// The bytes `external` points at, as a view into a memory map of the file.
    pub fn read(&self, external: &ExternalData) -> Result<Bytes, ExternalDataError> {
        let real = self.resolve(&external.location)?;
        let whole = self.map(&real)?;
        let file_len = whole.len() as u64;
        let length = external
            .length
            .unwrap_or_else(|| file_len.saturating_sub(external.offset));
        let end = external
            .offset
            .checked_add(length)
            .filter(|end| *end <= file_len);
        let Some(end) = end else {
            let location = external.location.clone();
            return Err(ExternalDataError::OutOfRange {
                location,
                offset: external.offset,
                length,
                file_len,
            });
        };
        // Both bounds are <= file_len, which came from a usize.
        Ok(whole.slice(external.offset as usize..end as usize))
    }

    fn map(&self, real: &Path) -> Result<Bytes, ExternalDataError> {
        let mut maps = self
            .maps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bytes) = maps.get(real) {
            return Ok(bytes.clone());
        }
        let bytes = super::read_file(real).map_err(|error| ExternalDataError::Io {
            path: real.to_owned(),
            message: error.to_string(),
        })?;
        maps.insert(real.to_owned(), bytes.clone());
        Ok(bytes)
    }
}
