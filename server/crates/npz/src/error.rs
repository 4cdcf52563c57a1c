//! The one error type of the crate. Each variant has a stable diagnostic code
//! (`npz/truncated`, ...) so the CLI and the editor report it the same way.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NpzError {
    #[error("not a .npy file: expected the magic bytes \\x93NUMPY, found {found:?}")]
    NotNpy { found: String },
    #[error("unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are supported)")]
    UnsupportedVersion { major: u8, minor: u8 },
    #[error("bad .npy header: {0}")]
    BadHeader(String),
    #[error("truncated: {what} needs {expected} bytes but only {found} are there")]
    Truncated {
        what: String,
        expected: u64,
        found: u64,
    },
    #[error("not a zip archive: {0}")]
    NotZip(String),
    #[error("corrupt zip archive: {0}")]
    BadZip(String),
    #[error(
        "zip entry '{name}' uses compression method {method}; only stored (0) and deflated (8) are supported"
    )]
    UnsupportedCompression { name: String, method: u16 },
    #[error("zip entry '{name}' is encrypted")]
    Encrypted { name: String },
    #[error("zip entry '{name}' does not inflate: {message}")]
    Inflate { name: String, message: String },
    #[error("zip entry '{name}': CRC-32 is {found:#010x}, the directory says {expected:#010x}")]
    CrcMismatch {
        name: String,
        expected: u32,
        found: u32,
    },
    #[error("array '{name}' holds Python objects (a pickle); neuride never unpickles")]
    ObjectArray { name: String },
    #[error("array '{name}' has dtype {descr}, which neuride does not read (numeric dtypes only)")]
    UnsupportedDType { name: String, descr: String },
    #[error("no array named '{0}' in the archive")]
    NoSuchArray(String),
    #[error("array '{name}' holds {found}, not unicode strings (<U..)")]
    NotText { name: String, found: String },
    #[error("array '{name}': element {index} holds {code:#x}, which is not a Unicode character")]
    BadCharacter { name: String, index: u64, code: u32 },
    #[error("the array holds {found}, {expected} expected")]
    WrongDType {
        expected: &'static str,
        found: &'static str,
    },
    #[error("shape {shape:?} holds {expected} elements, {found} given")]
    ElementCount {
        shape: Vec<u64>,
        expected: u64,
        found: u64,
    },
    #[error("array data is {found} bytes but dtype {dtype} x shape {shape:?} needs {expected}")]
    DataLength {
        dtype: &'static str,
        shape: Vec<u64>,
        expected: u64,
        found: u64,
    },
}

impl NpzError {
    /// The stable diagnostic code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            NpzError::NotNpy { .. } => "npz/not-npy",
            NpzError::UnsupportedVersion { .. } => "npz/unsupported-version",
            NpzError::BadHeader(_) => "npz/bad-header",
            NpzError::Truncated { .. } => "npz/truncated",
            NpzError::NotZip(_) => "npz/not-zip",
            NpzError::BadZip(_) => "npz/bad-zip",
            NpzError::UnsupportedCompression { .. } => "npz/unsupported-compression",
            NpzError::Encrypted { .. } => "npz/encrypted",
            NpzError::Inflate { .. } => "npz/bad-deflate",
            NpzError::CrcMismatch { .. } => "npz/crc-mismatch",
            NpzError::ObjectArray { .. } => "npz/object-array",
            NpzError::UnsupportedDType { .. } => "npz/unsupported-dtype",
            NpzError::NoSuchArray(_) => "npz/no-such-array",
            NpzError::DataLength { .. } => "npz/data-length",
            NpzError::NotText { .. } => "npz/not-text",
            NpzError::BadCharacter { .. } => "npz/bad-character",
            NpzError::ElementCount { .. } => "npz/element-count",
            NpzError::WrongDType { .. } => "npz/wrong-dtype",
        }
    }
}
