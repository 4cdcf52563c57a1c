//! The analysis host: a cache of per-file analyses keyed by (path, revision),
//! and the features (checking, hover, symbols, definition, registry entries,
//! the event log) as plain functions returning editor-level data: line and
//! UTF-16 character ranges, labels, plain structs that serialize to JSON.
//!
//! It knows no LSP types and no tokio: the `neuride` binary converts its
//! results to the protocol and decides on which thread they run. It never
//! panics on bad input and never prints; reading files is limited to
//! [`source::read_file`] and the workspace walk in [`walk`].

pub mod analysis;
pub mod archive;
/// Lint configuration (`neuride.toml`, `[tool.neuride]`): select, ignore, severity.
pub mod config;
pub mod events;
pub mod file_kind;
/// Safe fixes of model files (`--fix`, `--diff`, code actions).
pub mod fix;
pub mod graph_view;
pub mod host;
pub mod hover;
/// Checking a file for `neuride check` (diagnostics and an overview).
pub mod lint;
pub mod model;
pub mod neuro;
pub mod registry;
pub mod report;
/// Every diagnostic code as data (name, severity, explanation, fixable).
pub mod rules;
/// Running the `simulate` and `infer` blocks of `.neuro` files.
pub mod run;
pub mod source;
pub mod symbols;
pub mod walk;

/// ONNX <-> NPZ weight exchange and model/archive pairing.
pub mod weights;

pub use analysis::{FileAnalysis, analyze_file, check_file};
pub use file_kind::FileKind;
pub use host::{AnalysisHost, Revision, Snapshot};
pub use neuride_onnx::position::LineIndex;
pub use report::{FileDiagnostic, FileReport, Position, Range, Severity};
