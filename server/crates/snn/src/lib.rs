//! neuride-snn: the spiking simulator. Neuron models that step exactly like
//! the reference frameworks (Nengo LIF / SpikingRectifiedLinear, snnTorch
//! Leaky / Synaptic), layers (dense, conv2d, pooling, flatten, add; NCHW,
//! batched), input encoders and output decoders, a simulator that propagates
//! spikes event-driven where they are sparse and by dense matrix products
//! where they are not, the ANN -> SNN conversion math (data-based
//! normalisation) and the metrics a researcher trades off.
//!
//! It is pure: it never reads files, never prints, knows nothing of ONNX or
//! NPZ bytes (the `neuride-convert` crate builds a [`Network`] from those) and
//! never panics on a malformed network: [`Network::validate`] returns typed
//! errors before anything runs.

pub mod decode;
pub mod encode;
mod kernels;
pub mod layer;
pub mod metrics;
pub mod network;
pub mod neuron;
pub mod normalize;
pub mod sim;
mod simd;
pub mod tensor;

pub use decode::Decode;
pub use encode::Encode;
pub use layer::{Layer, PoolWindow, Scaling};
pub use metrics::{LayerRate, SimReport};
pub use network::{Network, Node, NodeId, infer_shape};
pub use neuron::{IfNeuron, Neuron, Reset};
pub use normalize::{Normalize, calibrate, to_spiking};
pub use sim::{Progress, SimOptions, Simulator, simulate};
pub use tensor::Tensor;

/// Everything that can go wrong building or running a network.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("layer '{layer}': {message}")]
    Layer { layer: String, message: String },
    #[error("input data: expected {expected}, found {found}")]
    Data { expected: String, found: String },
    #[error("labels: expected {expected} labels (one per sample), found {found}")]
    Labels { expected: usize, found: usize },
    #[error("invalid option {name}: {message}")]
    Option { name: &'static str, message: String },
    #[error("cancelled")]
    Cancelled,
}
