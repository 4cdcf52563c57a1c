//! Why an op does not convert and what to do about it, and the report of
//! all unconvertible ops grouped by op type (`MaxPool x5: a, b, c, +2 more`),
//! one line per type, for errors and diagnostics.

use crate::Unconvertible;
use serde::Serialize;
use std::fmt::Write;

/// Names listed per op type before `+N more`.
const NAMES_SHOWN: usize = 3;

/// The reason an op with no rule in the importer does not convert.
pub(crate) fn reason(op: &str) -> String {
    match op {
        "Sigmoid" | "Tanh" | "LeakyRelu" | "Elu" | "Selu" | "Gelu" | "HardSigmoid"
        | "HardSwish" | "Softplus" | "PRelu" | "Mish" => {
            format!("{op} is not a ReLU: a spiking neuron's rate only approximates a rectifier")
        }
        "Mul" | "Div" | "Sub" | "Pow" => format!("{op} of activities has no synaptic equivalent"),
        "LSTM" | "GRU" | "RNN" | "Attention" => {
            format!("{op}: recurrent/attention layers do not convert")
        }
        _ => format!("{op} has no spiking equivalent"),
    }
}

/// What a user can do about an op type that does not convert.
pub fn hint(op: &str) -> &'static str {
    match op {
        "Sigmoid" | "Tanh" | "LeakyRelu" | "Elu" | "Selu" | "Gelu" | "HardSigmoid"
        | "HardSwish" | "Softplus" | "PRelu" | "Mish" => {
            "retrain with ReLU or ReLU6 (Clip(0, c)) activations, which spiking rates reproduce"
        }
        "LSTM" | "GRU" | "RNN" | "Attention" | "Softmax" | "LogSoftmax" => {
            "convert the feed-forward part: cut the graph before this op (only a final softmax is dropped)"
        }
        "Mul" | "Div" | "Sub" | "Pow" => {
            "only products with constants (one value or one per channel) convert"
        }
        "Reshape" | "Transpose" | "Squeeze" | "Unsqueeze" | "Flatten" => {
            "only reshapes that move no data convert: keep the shape or flatten to [N, F]"
        }
        "MaxPool" | "AveragePool" | "GlobalAveragePool" | "GlobalMaxPool" => {
            "2-D pools without dilation or an indices output convert; --max-to-avg turns max-pools into average pools"
        }
        "Pad" => "pad with zeros in front of a Conv or pool, or use the Conv's own pads",
        "Conv" | "Gemm" | "MatMul" => {
            "weights must be constants (initializers or folded subgraphs) and the layer 2-D"
        }
        "Concat" => "concatenate activities along channels (or features after a flatten)",
        "Clip" => "only Clip(0, c) (ReLU6 and kin) is a rectifier",
        "BatchNormalization" => {
            "inference-mode BatchNormalization with constant statistics converts"
        }
        "output" => "the graph's first output must be computed from the input by convertible ops",
        _ => {
            "replace it by a convertible op (docs/snn.md lists them) or convert the part of the graph before it"
        }
    }
}

/// The unconvertible ops of one op type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpGroup {
    pub op_type: String,
    pub count: usize,
    /// The first few nodes, in graph order.
    pub nodes: Vec<String>,
    /// The first node's reason.
    pub reason: String,
    pub hint: String,
}

/// `items` grouped by op type, in order of first appearance.
pub fn group(items: &[Unconvertible]) -> Vec<OpGroup> {
    let mut groups: Vec<OpGroup> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|g| g.op_type == item.op_type) {
            Some(group) => {
                group.count += 1;
                if group.nodes.len() < NAMES_SHOWN {
                    group.nodes.push(item.node.clone());
                }
            }
            None => groups.push(OpGroup {
                op_type: item.op_type.clone(),
                count: 1,
                nodes: vec![item.node.clone()],
                reason: item.reason.clone(),
                hint: hint(&item.op_type).to_string(),
            }),
        }
    }
    groups
}

impl OpGroup {
    /// `MaxPool x5: a, b, c, +2 more`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} x{}: {}",
            self.op_type,
            self.count,
            self.nodes.join(", ")
        );
        if self.count > self.nodes.len() {
            let _ = write!(s, ", +{} more", self.count - self.nodes.len());
        }
        s
    }
}

/// The grouped report: a header line, then one line per op type with its
/// first nodes, reason and hint.
pub(crate) fn report(items: &[Unconvertible]) -> String {
    let groups = group(items);
    let mut s = format!(
        "{} op(s) of {} type(s) cannot be converted to a spiking network:",
        items.len(),
        groups.len()
    );
    for g in &groups {
        let _ = write!(s, "\n  {} ({}; hint: {})", g.summary(), g.reason, g.hint);
    }
    s
}
