//! neuride-dsl: the Neuro language (`.neuro`) — lexer, error-recovering
//! parser with a lossless tree, semantic checker with shape propagation and
//! units, formatter, and every editor feature (hover, completion, navigation,
//! symbols, semantic tokens, inlay hints, code lenses, code actions) as plain
//! functions returning editor-level data (byte ranges, labels, kinds).
//!
//! It must never do IO, know LSP types, print, or panic on any input: facts
//! about other files (ONNX models, NPZ archives, directory listings) come in
//! through the [`Workspace`] trait that the caller implements.

pub mod catalog;
pub mod check;
pub mod format;
mod fxhash;
pub mod ide;
pub mod syntax;
pub mod workspace;

pub use check::{Analysis, Def, Diagnostic, Fix, Reference, Severity, TextEdit, check};
pub use format::{format, format_edits};
pub use ide::*;
pub use syntax::{Parse, SyntaxError, TextRange, parse};
pub use workspace::{
    ArchiveFacts, ArrayFact, ArrayStats, Dim, DirEntry, EmptyWorkspace, FileFact, ModelFacts,
    ModelKind, OpFact, Shape, TensorFact, Workspace,
};
