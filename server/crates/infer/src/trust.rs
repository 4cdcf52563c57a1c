//! When a graph outside the native engine goes to tract rather than the
//! evaluator: tract is the faster of the two on float DL graphs, the
//! evaluator the exact one. ONNX's node conformance suite
//! (scripts/onnx_node_suite.py) showed where tract's results differ from
//! the specification: integer types other than int32/int64/uint8/int8,
//! float16, reverse RNNs, SpaceToDepth's CRD mode, BitShift out of range,
//! attention masks, inputs it needs constant. So tract takes a graph only
//! when every node is one of the ops below (each passed all its cases of
//! the suite on tract, or is plain float arithmetic) and every declared
//! type is float32, int64 or bool; everything else the evaluator runs.

use crate::value::DType;
use neuride_onnx::proto::{GraphProto, type_proto};

/// Ops tract computes as ONNX specifies (on float32 data).
const TRACT_OPS: &[&str] = &[
    "Abs",
    "Acos",
    "Acosh",
    "Add",
    "And",
    "ArgMax",
    "ArgMin",
    "Asin",
    "Asinh",
    "Atan",
    "Atanh",
    "AveragePool",
    "BatchNormalization",
    "Ceil",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "ConvTranspose",
    "Cos",
    "Cosh",
    "DepthToSpace",
    "Div",
    "Dropout",
    "Elu",
    "Equal",
    "Erf",
    "Exp",
    "Expand",
    "Flatten",
    "Floor",
    "Gather",
    "GatherElements",
    "GatherND",
    "Gelu",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Greater",
    "GridSample",
    "GroupNormalization",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "InstanceNormalization",
    "LayerNormalization",
    "LeakyRelu",
    "Less",
    "Log",
    "LogSoftmax",
    "LpNormalization",
    "LRN",
    "MatMul",
    "Max",
    "MaxPool",
    "Mean",
    "Min",
    "Mish",
    "Mul",
    "Neg",
    "Not",
    "Or",
    "PRelu",
    "Pow",
    "Reciprocal",
    "ReduceMean",
    "ReduceSum",
    "ReduceSumSquare",
    "Relu",
    "Reshape",
    "RMSNormalization",
    "RotaryEmbedding",
    "Round",
    "Selu",
    "Shape",
    "Sigmoid",
    "Sign",
    "Sin",
    "Sinh",
    "Softmax",
    "Softplus",
    "Softsign",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Sum",
    "Swish",
    "Tan",
    "Tanh",
    "ThresholdedRelu",
    "Transpose",
    "Unsqueeze",
    "Where",
    "Xor",
];

/// Whether tract's result on `graph` can be trusted: the ops above only,
/// declared types float32, int64 or bool, no subgraphs.
pub(crate) fn tract_is_faithful(graph: &GraphProto) -> bool {
    let types_ok = graph
        .input
        .iter()
        .chain(&graph.output)
        .chain(&graph.value_info)
        .all(|v| match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(type_proto::Value::TensorType(t)) => trusted_type(t.elem_type()),
            _ => false,
        })
        && graph
            .initializer
            .iter()
            .all(|t| trusted_type(t.data_type()));
    types_ok
        && graph.node.iter().all(|n| {
            (n.domain().is_empty() || n.domain() == "ai.onnx")
                && TRACT_OPS.contains(&n.op_type())
                && neuride_onnx::attr::graphs(n).next().is_none()
        })
}

fn trusted_type(code: i32) -> bool {
    matches!(
        DType::from_onnx(code),
        Some(DType::F32 | DType::I64 | DType::Bool)
    )
}
