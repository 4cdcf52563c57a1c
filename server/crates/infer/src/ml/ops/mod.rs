//! Default-domain operators: the evaluator as a general ONNX interpreter,
//! for every graph (or node) the native engine and tract cannot take.
//! Semantics follow ONNX's reference implementation (`onnx.reference`),
//! and onnxruntime's CPU kernels where the specification leaves room.
//! Kernels are generic over element types ([`super::num::Num`]): integers
//! compute in their own width, floats in their own type or through f64
//! where the result is rounded once.
//!
//! One file per family, each registering its builders: what
//! [`supports`] answers and what [`build`] builds is the same table.

mod cast;
mod control;
mod elementwise;
mod image;
mod linalg;
mod nn;
mod reduce;
mod rnn;
mod sequence;
mod shape;
mod signal;
mod text;
mod transformer;

use super::{Attrs, BoxKernel, Kernel};
use crate::error::KernelError;
use crate::value::{Tensor, Value};

pub(crate) use cast::cast;
pub(crate) use shape::slice;

struct Op<F: Fn(&[Option<&Value>]) -> Result<Vec<Value>, KernelError> + Send + Sync>(F);

impl<F: Fn(&[Option<&Value>]) -> Result<Vec<Value>, KernelError> + Send + Sync> Kernel for Op<F> {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        (self.0)(inputs)
    }
}

/// A kernel from a closure over the node's inputs.
fn op(
    f: impl Fn(&[Option<&Value>]) -> Result<Vec<Value>, KernelError> + Send + Sync + 'static,
) -> Result<BoxKernel, KernelError> {
    Ok(Box::new(Op(f)))
}

/// Input `i`, which must be a tensor.
fn arg<'a>(inputs: &[Option<&'a Value>], i: usize) -> Result<&'a Tensor, KernelError> {
    super::basic::input_tensor(inputs, i)
}

/// Every input, each a tensor.
fn args<'a>(inputs: &[Option<&'a Value>]) -> Result<Vec<&'a Tensor>, KernelError> {
    (0..inputs.len()).map(|i| arg(inputs, i)).collect()
}

/// Optional input `i`: None when omitted (or past the end).
fn opt<'a>(inputs: &[Option<&'a Value>], i: usize) -> Result<Option<&'a Tensor>, KernelError> {
    match inputs.get(i).copied().flatten() {
        None => Ok(None),
        Some(_) => arg(inputs, i).map(Some),
    }
}

fn one(t: Tensor) -> Result<Vec<Value>, KernelError> {
    Ok(vec![Value::Tensor(t)])
}

/// Builds one op's kernel from its node: `(op name, attributes, opset)`.
type Build = fn(&str, &Attrs, i64) -> Result<BoxKernel, KernelError>;

/// The default-domain ops of the evaluator, by name.
type Registry = crate::registry::Registry<Build>;

static OPS: crate::registry::Ops<Build> = crate::registry::Ops::new(&[
    elementwise::register,
    cast::register,
    shape::register,
    reduce::register,
    linalg::register,
    nn::register,
    rnn::register,
    transformer::register,
    image::register,
    signal::register,
    text::register,
    sequence::register,
    control::register,
]);

/// True when the evaluator runs default-domain op `name`.
pub(crate) fn supports(name: &str) -> bool {
    OPS.table().get(name).is_some()
}

pub(crate) fn build(name: &str, a: &Attrs, opset: i64) -> Result<BoxKernel, KernelError> {
    match OPS.table().get(name) {
        Some(build) => build(name, a, opset),
        None => Err(KernelError::Unsupported(format!(
            "op {name} is not supported by the evaluator"
        ))),
    }
}

/// The ops of the `ai.onnx.preview.training` domain (Adagrad, Adam, Momentum).
pub(crate) fn build_training(name: &str, a: &Attrs) -> Result<BoxKernel, KernelError> {
    nn::training(name, a)
}

pub(crate) fn supports_training(name: &str) -> bool {
    matches!(name, "Adagrad" | "Adam" | "Momentum")
}
