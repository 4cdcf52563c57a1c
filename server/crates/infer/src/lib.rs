//! neuride-infer runs ONNX models on data: deep-learning graphs (and spiking
//! networks exported as plain ops) through tract, classic-ML graphs with
//! `ai.onnx.ml` operators through a small evaluator of its own that follows
//! onnxruntime's CPU kernels. Spiking models with custom neuron ops are routed
//! to the simulator, never run here.
//!
//! It takes bytes and returns values: it never reads or writes files, never
//! prints, and never panics on a bad model or bad input (tract calls run under
//! `catch_unwind` as a last line of defence).

#[cfg(feature = "tract")]
mod dl;
mod error;
pub mod fold;
pub mod io;
pub mod job;
pub mod json;
mod ml;
#[cfg(feature = "tract")]
mod native;
mod npz;
#[cfg(feature = "ort")]
pub mod onnxruntime;
mod packed;
mod registry;
pub mod session;
pub mod signature;
pub mod tensor_proto;
mod trust;
pub mod value;

pub use error::{Error, KernelError};
pub use job::{DEFAULT_BATCH_ROWS, InferReport, Score, infer, score};
pub use session::{Engine, EngineChoice, Route, Session, route};
pub use signature::{Dim, Port, Signature, ValueType};
pub use value::{DType, Data, Map, MapKeys, Tensor, Value};
