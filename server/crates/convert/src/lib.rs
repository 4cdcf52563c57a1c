//! neuride-convert: turns a trained ONNX ReLU network (weights from the model
//! or from an NPZ) into a `neuride_snn` spiking network with data-based
//! normalisation, writes the result as a `.neuro` network + `.npz` weights +
//! an ONNX model whose neurons are ops of the custom domain `ai.neuride.snn`,
//! and runs the `simulate` job (progress per batch, cancellable) that the CLI
//! and the language server share.
//!
//! Constants computed in the graph are folded first (with the infer crate's
//! evaluator), and weights stored as external data are read through the
//! model's folder ([`Source::dir`]) by the same safe loader as the checker.
//!
//! It does no file IO of its own and never prints: callers pass decoded
//! models, arrays and bytes. Bad input is a typed [`Error`], never a panic;
//! every op that cannot be converted is listed at once, grouped by op type
//! with a hint each ([`Error::Unconvertible`], [`hint::group`]).

mod export;
pub mod hint;
mod import;
mod job;
mod onnx_util;

pub use export::{ExportInfo, npz_bytes, onnx_bytes, to_neuro, to_onnx, weight_arrays};
pub use job::{
    ConvertOptions, Converted, LayerScale, SimulateOptions, SimulateReport, ann_accuracy, convert,
    first_samples, simulate,
};
pub use neuride_snn::{
    Decode, Encode, IfNeuron, Neuron, Normalize, Progress, Reset, SimOptions, Tensor,
};

use neuride_onnx::load::ModelDir;
use neuride_onnx::proto::ModelProto;
use serde::Serialize;
use std::collections::HashMap;

/// A model to convert and the folder its external data is read from
/// (`None` for a model decoded from bytes: external weights then fail with
/// a message naming the tensor).
#[derive(Clone, Copy)]
pub struct Source<'a> {
    pub model: &'a ModelProto,
    pub dir: Option<&'a ModelDir>,
}

impl<'a> From<&'a ModelProto> for Source<'a> {
    fn from(model: &'a ModelProto) -> Source<'a> {
        Source { model, dir: None }
    }
}

/// The ONNX domain of neuride's spiking neuron ops (`IF`, `LIF`, `Leaky`, `Synaptic`).
pub const SNN_DOMAIN: &str = "ai.neuride.snn";

/// Weights by initializer name (e.g. read from an NPZ); they replace the
/// model's initializers of the same name.
pub type Weights = HashMap<String, Tensor>;

/// One op that has no spiking equivalent, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unconvertible {
    pub node: String,
    pub op_type: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", hint::report(.0))]
    Unconvertible(Vec<Unconvertible>),
    #[error("the model has no graph")]
    NoGraph,
    #[error("model input: {0}")]
    Input(String),
    #[error("weights of '{name}': {message}")]
    Weight { name: String, message: String },
    #[error("{0}")]
    Snn(#[from] neuride_snn::Error),
    #[error("calibration data is needed for '{0}' normalisation (none was given)")]
    NoCalibration(&'static str),
    #[error("writing the NPZ: {0}")]
    Npz(String),
    #[error("cancelled")]
    Cancelled,
}

/// Every op of `model` that conversion would reject, as
/// `(node name, op type, reason)`, in graph order. Weights are not read
/// (constants computed in the graph are folded); structural problems (no
/// graph, bad input) come back as a single entry naming the graph.
pub fn unconvertible_ops<'a>(source: impl Into<Source<'a>>) -> Vec<(String, String, String)> {
    let source = source.into();
    let options = import::ImportOptions {
        weights: None,
        dir: source.dir,
        max_to_avg: false,
        load_data: false,
    };
    match import::import(source.model, options) {
        Ok((_, issues)) => issues
            .into_iter()
            .map(|u| (u.node, u.op_type, u.reason))
            .collect(),
        Err(Error::Unconvertible(issues)) => issues
            .into_iter()
            .map(|u| (u.node, u.op_type, u.reason))
            .collect(),
        Err(other) => vec![("<graph>".into(), "graph".into(), other.to_string())],
    }
}
