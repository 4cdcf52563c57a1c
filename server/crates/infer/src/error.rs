//! The one error type of the crate. Messages say what was expected and what
//! was found; node errors name the node and its op.

/// Anything that can go wrong while preparing or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model itself cannot be prepared (bad graph, unsupported op or type).
    #[error("model: {0}")]
    Model(String),
    /// A node failed while being prepared or run; `error` says what kind of
    /// failure it was.
    #[error("node '{node}' ({op}): {error}")]
    Node {
        node: String,
        op: String,
        error: KernelError,
    },
    /// The given inputs do not fit the model's declared inputs; every mismatch is listed.
    #[error("inputs do not match the model:\n  {}", .0.join("\n  "))]
    Inputs(Vec<String>),
    /// An input or output file could not be decoded or encoded.
    #[error("{0}")]
    Format(String),
    /// The model is a spiking network with custom spiking ops; it belongs to the simulator.
    #[error("{0}")]
    NeedsSimulator(String),
    /// The job was cancelled through its cancellation flag.
    #[error("cancelled after {done} of {total} rows")]
    Cancelled { done: usize, total: usize },
    /// A dependency panicked; caught so the caller survives.
    #[error("internal error in {context}: {message} (please report this model)")]
    Panic { context: String, message: String },
}

impl Error {
    pub(crate) fn node(node: &str, op: &str, error: KernelError) -> Error {
        Error::Node {
            node: node.to_owned(),
            op: op.to_owned(),
            error,
        }
    }
}

/// Why a kernel (or the decoding of a value for one) failed, without the
/// node: [`Error::Node`] adds the node's name and op. The message says what
/// was expected and what was found; the variant says what kind of failure
/// it is, so a caller can tell a model the evaluator does not cover
/// ([`KernelError::Unsupported`]) from a model or input that is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum KernelError {
    /// An input or attribute of an element type the op does not take.
    #[error("{0}")]
    Type(String),
    /// Shapes, ranks or axes that do not fit the op or each other.
    #[error("{0}")]
    Shape(String),
    /// An attribute that is missing, malformed or outside its range.
    #[error("{0}")]
    Attribute(String),
    /// A mode, variant or op the evaluator does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// A size or count past what the evaluator allows (memory, lengths).
    #[error("{0}")]
    Limit(String),
    /// An input whose value is wrong: missing, of the wrong kind (a sequence
    /// for a tensor), an index or a key out of range, text that is no number.
    #[error("{0}")]
    Value(String),
}

impl KernelError {
    /// The message, without the kind.
    pub fn message(&self) -> &str {
        match self {
            KernelError::Type(m)
            | KernelError::Shape(m)
            | KernelError::Attribute(m)
            | KernelError::Unsupported(m)
            | KernelError::Limit(m)
            | KernelError::Value(m) => m,
        }
    }

    /// The same kind of failure, its message prefixed with where it happened
    /// (`input 'X': ...`).
    pub(crate) fn context(self, place: impl std::fmt::Display) -> KernelError {
        let prefixed = |m: String| format!("{place}: {m}");
        match self {
            KernelError::Type(m) => KernelError::Type(prefixed(m)),
            KernelError::Shape(m) => KernelError::Shape(prefixed(m)),
            KernelError::Attribute(m) => KernelError::Attribute(prefixed(m)),
            KernelError::Unsupported(m) => KernelError::Unsupported(prefixed(m)),
            KernelError::Limit(m) => KernelError::Limit(prefixed(m)),
            KernelError::Value(m) => KernelError::Value(prefixed(m)),
        }
    }
}

impl From<neuride_onnx::window::WindowError> for KernelError {
    fn from(e: neuride_onnx::window::WindowError) -> Self {
        use neuride_onnx::window::WindowError;
        match e {
            WindowError::LargerThanInput { .. } | WindowError::LargerThanPadded { .. } => {
                KernelError::Shape(e.to_string())
            }
            WindowError::AutoPad(_)
            | WindowError::StridesDilations { .. }
            | WindowError::Pads { .. } => KernelError::Attribute(e.to_string()),
        }
    }
}

/// A tensor whose stored elements cannot be read.
impl From<neuride_onnx::tensor::TensorError> for KernelError {
    fn from(e: neuride_onnx::tensor::TensorError) -> Self {
        KernelError::Value(e.to_string())
    }
}

/// A subgraph (If, Loop, Scan body) failed: the kind of the failure inside
/// it is kept, and the inner node named.
impl From<Error> for KernelError {
    fn from(e: Error) -> Self {
        match e {
            Error::Node { node, op, error } => error.context(format_args!("node '{node}' ({op})")),
            other => KernelError::Value(other.to_string()),
        }
    }
}

impl Error {
    /// An input or output file that cannot be decoded or encoded.
    pub(crate) fn format(e: impl std::fmt::Display) -> Error {
        Error::Format(e.to_string())
    }
}

/// Runs `f`, turning a panic into [`Error::Panic`]. The last line of defence
/// around third-party code (tract) whose invariants a hostile model may
/// break, and around the evaluator.
pub(crate) fn catch_panic<T>(
    context: &str,
    f: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Error::Panic {
                context: context.to_owned(),
                message,
            })
        }
    }
}
