//! The one error type of the crate. Messages say what was expected and what
//! was found; node errors name the node and its op.

/// Anything that can go wrong while preparing or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model itself cannot be prepared (bad graph, unsupported op or type).
    #[error("model: {0}")]
    Model(String),
    /// A node failed while being prepared or run.
    #[error("node '{node}' ({op}): {message}")]
    Node {
        node: String,
        op: String,
        message: String,
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
    pub(crate) fn node(node: &str, op: &str, message: impl Into<String>) -> Error {
        Error::Node {
            node: node.to_owned(),
            op: op.to_owned(),
            message: message.into(),
        }
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
