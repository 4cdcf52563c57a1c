//! Multiply-accumulates of the layers that dominate cost: Conv,
//! ConvTranspose, Gemm, MatMul (and their integer/quantised forms).

use crate::proto::NodeProto;
use crate::shape::{Dim, ValueType};

/// Product of dims, counting symbolic/unknown ones as 1; the flag says one was.
fn product(dims: &[Dim]) -> (u64, bool) {
    dims.iter().fold((1u64, false), |(p, assumed), d| match d {
        Dim::Known(v) if *v >= 0 => (p.saturating_mul(*v as u64), assumed),
        _ => (p, true),
    })
}

/// MACs of `node` given its input and output types, and whether a symbolic
/// or unknown dim was counted as 1. `None` for other ops or unknown ranks.
pub fn node_macs(
    node: &NodeProto,
    inputs: &[ValueType],
    outputs: &[ValueType],
) -> Option<(u64, bool)> {
    let domain = node.domain.as_deref().unwrap_or("");
    if !(domain.is_empty() || domain == "ai.onnx") {
        return None;
    }
    fn shape(v: Option<&ValueType>) -> Option<&[Dim]> {
        v.and_then(|t| t.shape())
    }
    let op = node.op_type.as_deref().unwrap_or("");
    let group = crate::attr::int(node, "group").unwrap_or(1).max(1) as u64;
    match op {
        "Conv" | "ConvInteger" | "QLinearConv" => {
            let w_idx = if op == "QLinearConv" { 3 } else { 1 };
            let out = shape(outputs.first())?;
            let w = shape(inputs.get(w_idx))?;
            if w.len() < 2 {
                return None;
            }
            // Every output element: C_in/group x kernel products.
            let (o, a1) = product(out);
            let (k, a2) = product(&w[1..]);
            Some((o.saturating_mul(k), a1 || a2))
        }
        "ConvTranspose" => {
            let x = shape(inputs.first())?;
            let w = shape(inputs.get(1))?;
            if w.len() < 3 {
                return None;
            }
            // Every input element scatters into M/group x kernel outputs.
            let (xi, a1) = product(x);
            let (k, a2) = product(&w[1..]);
            let _ = group;
            Some((xi.saturating_mul(k), a1 || a2))
        }
        "Gemm" | "MatMul" | "MatMulInteger" | "QLinearMatMul" => {
            let a_idx = 0;
            let b_idx = if op == "QLinearMatMul" { 3 } else { 1 };
            let out = shape(outputs.first())?;
            let a = shape(inputs.get(a_idx))?;
            let _ = shape(inputs.get(b_idx))?;
            // K is A's reduced dim (its last, or first with transA).
            let trans_a = op == "Gemm" && crate::attr::int(node, "transA") == Some(1);
            let k = if trans_a { a.first() } else { a.last() }?;
            let (o, a1) = product(out);
            let (kk, a2) = product(std::slice::from_ref(k));
            Some((o.saturating_mul(kk), a1 || a2))
        }
        _ => None,
    }
}
