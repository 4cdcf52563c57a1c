//! Constants: initializers, `Constant` nodes and folded subgraphs. An
//! initializer stays a `TensorProto` (a view into the model's bytes) until
//! its values are needed; external data is read then, through the model's
//! folder and the same safe loader as the checker (`onnx::load::embedded`).
//! Folding evaluates a node whose inputs are all constants with the infer
//! crate's evaluator (`neuride_infer::fold`), and a shape query on an
//! activity from its shape (the batch taken as 1).

use super::{Importer, Value};
use crate::Error;
use neuride_infer::fold;
use neuride_infer::value::{Data, Tensor as Folded};
use neuride_onnx::attr;
use neuride_onnx::proto::{NodeProto, TensorProto};
use neuride_snn::Tensor;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub(super) struct Const {
    /// The initializer's name (NPZ weights replace it by this name), or the
    /// producing node's output for folded and `Constant` values.
    pub name: String,
    pub dims: Vec<usize>,
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    Initializer(TensorProto),
    Node(TensorProto),
    Folded(Arc<Folded>),
}

fn dims_of(tensor: &TensorProto) -> Vec<usize> {
    tensor.dims.iter().map(|&d| d.max(0) as usize).collect()
}

impl Const {
    pub fn initializer(name: String, tensor: TensorProto) -> Const {
        Const {
            name,
            dims: dims_of(&tensor),
            source: Source::Initializer(tensor),
        }
    }

    fn folded(name: String, tensor: Folded) -> Const {
        Const {
            name,
            dims: tensor.shape.clone(),
            source: Source::Folded(Arc::new(tensor)),
        }
    }

    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }
}

/// The value of a `Constant` node (`value` tensor, or the scalar and list
/// attributes of opset 12+).
pub(super) fn of_constant_node(node: &NodeProto) -> Result<Const, String> {
    let name = node.output.first().cloned().unwrap_or_default();
    if let Some(t) = attr::tensor(node, "value") {
        return Ok(Const {
            name,
            dims: dims_of(t),
            source: Source::Node(t.clone()),
        });
    }
    let tensor = if let Some(v) = attr::float(node, "value_float") {
        Folded::scalar(v)
    } else if let Some(v) = attr::int(node, "value_int") {
        Folded::scalar(v)
    } else if let Some(v) = attr::floats(node, "value_floats") {
        Folded::vector(v.to_vec())
    } else if let Some(v) = attr::ints(node, "value_ints") {
        Folded::vector(v.to_vec())
    } else {
        return Err("Constant without a numeric value attribute".into());
    };
    Ok(Const::folded(name, tensor))
}

impl Importer<'_> {
    /// The values of `c` for folding (NPZ weights first, by initializer name).
    fn folded_value(&self, c: &Const) -> Result<Arc<Folded>, String> {
        match &c.source {
            Source::Folded(t) => Ok(t.clone()),
            Source::Initializer(_) if self.npz(&c.name).is_some() => {
                let w = self.weight(c).map_err(|e| e.to_string())?;
                Ok(Arc::new(Folded {
                    shape: w.shape,
                    data: Data::F32(w.data),
                }))
            }
            Source::Initializer(t) | Source::Node(t) => {
                let t = neuride_onnx::load::embedded(t, self.dir).map_err(|e| e.to_string())?;
                neuride_infer::tensor_proto::from_proto(&t)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            }
        }
    }

    fn npz(&self, name: &str) -> Option<&Tensor> {
        self.weights.and_then(|w| w.get(name))
    }

    /// A constant's values as f32 (a weight), preferring the NPZ weights (by
    /// initializer name). When only convertibility is checked, the shape
    /// with no values.
    pub(super) fn weight(&self, c: &Const) -> Result<Tensor, Error> {
        let error = |message: String| Error::Weight {
            name: c.name.clone(),
            message,
        };
        if let (Source::Initializer(_), Some(w)) = (&c.source, self.npz(&c.name)) {
            if w.shape.iter().product::<usize>() != c.len() {
                return Err(error(format!(
                    "NPZ array has shape {:?}, the model's initializer {:?}",
                    w.shape, c.dims
                )));
            }
            return Ok(Tensor {
                shape: c.dims.clone(),
                data: w.data.clone(),
            });
        }
        if !self.load_data {
            return Ok(Tensor {
                shape: c.dims.clone(),
                data: Vec::new(),
            });
        }
        match &c.source {
            Source::Folded(t) => Ok(Tensor {
                shape: t.shape.clone(),
                data: t
                    .data
                    .to_f32()
                    .ok_or_else(|| error(format!("{} values are not numbers", t.dtype())))?,
            }),
            Source::Initializer(t) | Source::Node(t) => {
                let t =
                    neuride_onnx::load::embedded(t, self.dir).map_err(|e| error(e.to_string()))?;
                crate::onnx_util::tensor_f32(&t).map_err(error)
            }
        }
    }

    /// A small integer constant (shapes, axes, pads), read even when only
    /// convertibility is checked.
    pub(super) fn ints(&self, c: &Const) -> Option<Vec<i64>> {
        let t = self.folded_value(c).ok()?;
        match &t.data {
            Data::I64(v) => Some(v.clone()),
            Data::I32(v) => Some(v.iter().map(|&x| x as i64).collect()),
            _ => None,
        }
    }

    /// A small float constant (clip bounds, pad values), read even when only
    /// convertibility is checked.
    pub(super) fn floats(&self, c: &Const) -> Option<Vec<f32>> {
        self.folded_value(c).ok()?.data.to_f32()
    }

    /// Folds `node` when its inputs are all constants and the evaluator runs
    /// it, or when it asks an activity's shape. Returns whether it did
    /// (a failed fold is reported).
    pub(super) fn fold(
        &mut self,
        node: &NodeProto,
        inputs: &[Option<Value>],
    ) -> Result<bool, Error> {
        let name = node.output.first().cloned().unwrap_or_default();
        if let Some(Some(Value::Activity(x) | Value::Padded(x, _))) = inputs.first() {
            let mut shape = vec![1];
            shape.extend(&self.shapes[*x]);
            if let Value::Padded(_, pads) = inputs[0].as_ref().expect("matched above") {
                shape[2] += pads[0] + pads[2];
                shape[3] += pads[1] + pads[3];
            }
            if let Some(t) = fold::shape_query(node, &shape) {
                self.alias(node, Value::Constant(Const::folded(name, t)));
                return Ok(true);
            }
        }
        let all_constant = !inputs.is_empty()
            && inputs
                .iter()
                .all(|v| matches!(v, None | Some(Value::Constant(_))));
        if !all_constant || !fold::can_fold(node) {
            return Ok(false);
        }
        let mut values = Vec::with_capacity(inputs.len());
        for v in inputs {
            values.push(match v {
                Some(Value::Constant(c)) => match self.folded_value(c) {
                    Ok(t) => Some(t),
                    Err(message) => {
                        self.reject(
                            node,
                            format!("cannot fold this constant subgraph: {message}"),
                        );
                        return Ok(true);
                    }
                },
                _ => None,
            });
        }
        let refs: Vec<Option<&Folded>> = values.iter().map(|v| v.as_deref()).collect();
        match fold::eval(node, self.opset, &refs) {
            Ok(outputs) => {
                for (output, t) in node.output.iter().zip(outputs) {
                    self.values.insert(
                        output.clone(),
                        Value::Constant(Const::folded(output.clone(), t)),
                    );
                }
            }
            Err(message) => self.reject(
                node,
                format!("cannot fold this constant subgraph: {message}"),
            ),
        }
        Ok(true)
    }
}
