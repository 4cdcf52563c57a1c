//! Editor features as plain functions over a [`Parse`], its [`Analysis`] and
//! (for completion) the [`Workspace`]. They return editor-level data: byte
//! ranges, labels, kinds. The language server converts them to LSP.
//!
//! [`Parse`]: crate::Parse
//! [`Analysis`]: crate::Analysis
//! [`Workspace`]: crate::Workspace

mod actions;
mod completion;
mod find;
mod hints;
mod hover;
mod navigation;
mod symbols;
mod tokens;

pub use actions::{CodeAction, CodeActionKind, code_actions};
pub use completion::{CompletionItem, CompletionKind, completion};
pub use hints::{CodeLens, InlayHint, LensAction, code_lenses, inlay_hints};
pub use hover::{Hover, hover};
pub use navigation::{RenameError, Target, goto_definition, prepare_rename, references, rename};
pub use symbols::{DocumentSymbol, SymbolKind, document_symbols};
pub use tokens::{SemanticToken, TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens};
