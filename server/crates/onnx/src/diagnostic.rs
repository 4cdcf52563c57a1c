//! Problems found in a model, addressed by what they are about (a node, a
//! value, an initializer) rather than by a position: the text view maps an
//! [`Anchor`] to lines, so the CLI and the editor point at the same place.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Which graph a node lives in: the main graph, a subgraph held by an
/// attribute of a node (`If.then_branch`, `Loop.body`, ...), or a local
/// function's body. Written as a path so nested subgraphs stay distinct.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum GraphId {
    Main,
    /// A subgraph: the parent graph, the node index in it, and the attribute name.
    Sub(Box<GraphId>, usize, String),
    /// The body of local function `domain` / `name` (and `overload`, IR 10+).
    Function {
        domain: String,
        name: String,
        overload: String,
    },
    /// A training-info graph (`initialization` or `algorithm`) at this index.
    Training(usize, String),
}

/// What a diagnostic, a hover or a symbol is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Anchor {
    /// The model as a whole (ir_version, opset_import, metadata).
    Model,
    /// A graph's header (its name, inputs, outputs).
    Graph(GraphId),
    /// The node at `index` in `graph.node`.
    Node { graph: GraphId, index: usize },
    /// A value (graph input, output, node output or value_info) by name.
    Value { graph: GraphId, name: String },
    /// An initializer (dense or sparse) by name.
    Initializer { graph: GraphId, name: String },
    /// A local function's header.
    Function {
        domain: String,
        name: String,
        overload: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `onnx/undefined-input`.
    pub code: &'static str,
    /// Names the node (name, index, op) and says what was expected and found.
    pub message: String,
    pub anchor: Anchor,
}

impl Diagnostic {
    pub fn error(code: &'static str, anchor: Anchor, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            anchor,
        }
    }
    pub fn warning(code: &'static str, anchor: Anchor, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            message: message.into(),
            anchor,
        }
    }
    pub fn info(code: &'static str, anchor: Anchor, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Info,
            code,
            message: message.into(),
            anchor,
        }
    }
}
