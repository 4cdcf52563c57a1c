//! Constant folding: the values of nodes that depend only on constants
//! (initializers, `Constant` nodes, earlier folded nodes) and of shape
//! queries on values whose shape is known. The native engine folds its
//! graphs with this before compiling them, and the ANN -> SNN converter
//! folds the graphs it imports (older exporters compute weights and
//! reshape targets in the graph: `Shape`/`Gather`/`Unsqueeze`/`Concat`
//! chains, `ConstantOfShape`, transposed weights). The kernels are the ML
//! evaluator's, so every op it runs folds.

use crate::ml;
use crate::value::{Data, Tensor, Value};
use neuride_onnx::attr;
use neuride_onnx::proto::NodeProto;

/// Whether `node` can be folded once all its inputs are constants.
pub fn can_fold(node: &NodeProto) -> bool {
    ml::supports(node.domain(), node.op_type())
}

/// Evaluates `node` on constant `inputs` (`None`: an omitted optional
/// input); every output must be a tensor.
pub fn eval(
    node: &NodeProto,
    opset: i64,
    inputs: &[Option<&Tensor>],
) -> Result<Vec<Tensor>, String> {
    let values: Vec<Option<Value>> = inputs
        .iter()
        .map(|t| t.map(|t| Value::Tensor(t.clone())))
        .collect();
    let refs: Vec<Option<&Value>> = values.iter().map(Option::as_ref).collect();
    ml::eval_node(node, opset, &refs)?
        .into_iter()
        .map(|value| match value {
            Value::Tensor(t) => Ok(t),
            other => Err(format!(
                "folds to a {} value, not a tensor",
                other.describe()
            )),
        })
        .collect()
}

/// `Shape` (with `start`/`end`) or `Size` of a value of shape `shape`;
/// `None` for any other op.
pub fn shape_query(node: &NodeProto, shape: &[usize]) -> Option<Tensor> {
    match node.op_type() {
        "Size" => Some(Tensor {
            shape: vec![],
            data: Data::I64(vec![shape.iter().product::<usize>() as i64]),
        }),
        "Shape" => {
            let rank = shape.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
            let start = clamp(attr::int(node, "start").unwrap_or(0));
            let end = clamp(attr::int(node, "end").unwrap_or(rank)).max(start);
            let dims: Vec<i64> = shape[start..end].iter().map(|&d| d as i64).collect();
            Some(Tensor {
                shape: vec![dims.len()],
                data: Data::I64(dims),
            })
        }
        _ => None,
    }
}
