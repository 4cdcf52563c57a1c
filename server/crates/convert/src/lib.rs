//! neuride-convert: turns a trained ONNX ReLU network (weights from the model
//! or from an NPZ) into a `neuride_snn` spiking network with data-based
//! normalisation, writes the result as a `.neuro` network + `.npz` weights +
//! an ONNX model whose neurons are ops of the custom domain `ai.neuride.snn`,
//! and runs the `simulate` job (progress per batch, cancellable) that the CLI
//! and the language server share.
//!
//! It does no file IO and never prints: callers pass decoded models, arrays
//! and bytes. Bad input is a typed [`Error`], never a panic; every op that
//! cannot be converted is listed at once ([`Error::Unconvertible`]).

mod export;
mod import;
mod job;
mod onnx_util;

pub use export::{ExportInfo, npz_bytes, onnx_bytes, to_neuro, to_onnx, weight_arrays};
pub use job::{
    ConvertOptions, Converted, LayerScale, SimulateOptions, SimulateReport, ann_accuracy, convert,
    simulate,
};
pub use neuride_snn::{Decode, Encode, Neuron, Normalize, Progress, Reset, SimOptions, Tensor};

use neuride_onnx::proto::ModelProto;
use serde::Serialize;
use std::collections::HashMap;

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
    #[error("{} op(s) cannot be converted to a spiking network: {}", .0.len(), list(.0))]
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

fn list(items: &[Unconvertible]) -> String {
    items
        .iter()
        .map(|u| format!("{} '{}' ({})", u.op_type, u.node, u.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every op of `model` that conversion would reject, as
/// `(node name, op type, reason)`, in graph order (MaxPool counts as
/// unconvertible: conversion turns it into average pooling only when asked).
/// Weights are not read; structural problems (no graph, bad input) come back
/// as a single entry naming the graph.
pub fn unconvertible_ops(model: &ModelProto) -> Vec<(String, String, String)> {
    match import::import(model, None, false, false) {
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
