//! neuride-nir: the Neuromorphic Intermediate Representation (NIR, the
//! `nir` package's HDF5 files), the format spiking networks move in between
//! snnTorch, Norse, Sinabs, Lava and neuromorphic hardware.
//!
//! - [`read`] / [`write`]: `.nir` bytes <-> a [`Document`] that keeps every
//!   node, parameter and element type as stored, with the problems found
//!   (unknown node types, missing or mistyped parameters, broken edges) as
//!   [`Problem`]s, never a panic; reading is bounded (depth, nodes, values).
//! - [`schema`]: the node types, their parameters and equations, as data.
//! - [`shapes`]: NIR's type inference (every node's input and output shape).
//! - [`lower`] / [`raise`]: a NIR graph <-> a `neuride_snn` network, NIR's
//!   continuous-time equations discretised with a stated `dt`
//!   (docs/nir.md).
//!
//! It does no file IO and never prints: callers hand in bytes and get bytes.

pub mod graph;
pub mod lower;
pub mod raise;
pub mod read;
pub mod schema;
pub mod shapes;
pub mod write;

pub use graph::{Array, Document, Dtype, Edge, Graph, Node, Param};
pub use lower::{LowerError, LowerOptions, Lowered, lower};
pub use raise::{RaiseError, RaiseOptions, Raised, raise};
pub use read::{Read, read};
pub use write::{WriteError, write};

use serde::Serialize;

/// The `nir` version neuride writes into files (the one it is tested against).
pub const NIR_VERSION: &str = "1.0.8";

/// The step (seconds) NIR files are read and written with unless said
/// otherwise: snnTorch's `export_to_nir` and `import_from_nir` use 1e-4 s
/// (Norse uses 1e-3 s).
pub const DEFAULT_DT: f64 = 1e-4;

/// Diagnostic codes of `.nir` files (`ide::rules` explains each).
pub mod codes {
    pub const NOT_HDF5: &str = "nir/not-hdf5";
    pub const LAYOUT: &str = "nir/layout";
    pub const UNKNOWN_TYPE: &str = "nir/unknown-type";
    pub const MISSING_PARAM: &str = "nir/missing-param";
    pub const PARAM_TYPE: &str = "nir/param-type";
    pub const UNKNOWN_PARAM: &str = "nir/unknown-param";
    pub const EDGE: &str = "nir/edge";
    pub const SHAPE: &str = "nir/shape";
    pub const LIMIT: &str = "nir/limit";
    pub const UNSUPPORTED: &str = "nir/unsupported";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem of a file, placed on a node: `path` names it from the root
/// graph down (empty: the file itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub code: &'static str,
    pub path: Vec<String>,
    pub message: String,
}

impl Problem {
    pub fn error(code: &'static str, path: Vec<String>, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            code,
            path,
            message: message.into(),
        }
    }

    pub fn warning(code: &'static str, path: Vec<String>, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            code,
            path,
            message: message.into(),
        }
    }
}
