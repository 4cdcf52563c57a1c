//! What kind of model this is: a spiking network (`snn`), classic machine
//! learning (`ml`), deep learning (`dl`), a mix of ML and DL, or unknown.
//!
//! Two stages (DESIGN.md, "Model classification"). First spiking or not:
//! custom neuron ops in any domain, the unrolled membrane pattern exporters
//! emit (a Heaviside comparison cast to float, a reset Sub fed by the spikes,
//! a decay Mul carrying the membrane into the next step), that pattern in a
//! Loop/Scan body, or a producer/metadata naming a spiking framework. Then ML
//! vs DL by operators. Every verdict carries its evidence. Linear in the
//! number of nodes; no weight is read.

mod evidence;
mod spiking;

pub use evidence::{Evidence, NodeRef, Source};

use crate::diagnostic::GraphId;
use crate::proto::{GraphProto, ModelProto};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Snn,
    Ml,
    Dl,
    Mixed,
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Snn => "snn",
            Kind::Ml => "ml",
            Kind::Dl => "dl",
            Kind::Mixed => "mixed",
            Kind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    pub kind: Kind,
    /// 0..1: how sure the strongest evidence makes us.
    pub confidence: f32,
    /// Strongest first.
    pub evidence: Vec<Evidence>,
}

/// Ops that make a model deep learning when they carry weights.
const DL_WEIGHT_OPS: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "QLinearConv",
    "QLinearMatMul",
    "ConvInteger",
    "MatMulInteger",
];
/// Recurrent and attention ops: deep learning on their own.
const DL_SEQUENCE_OPS: &[&str] = &["LSTM", "GRU", "RNN", "Attention", "MultiHeadAttention"];
/// Neural activations and normalisations that accompany weight ops.
const DL_ACTIVATIONS: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Elu",
    "Selu",
    "Celu",
    "Gelu",
    "Sigmoid",
    "Tanh",
    "HardSigmoid",
    "HardSwish",
    "Softplus",
    "Softsign",
    "Mish",
    "Softmax",
    "LogSoftmax",
    "BatchNormalization",
    "LayerNormalization",
    "InstanceNormalization",
    "GroupNormalization",
    "Dropout",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
];

/// Counts of op families over every graph (main, subgraphs, functions).
#[derive(Default)]
struct OpCensus {
    ml: Vec<NodeRef>,
    dl_weight: Vec<NodeRef>,
    dl_sequence: Vec<NodeRef>,
    dl_activation: Vec<NodeRef>,
}

fn census_graph(census: &mut OpCensus, graph: &GraphProto, id: &GraphId, depth: usize) {
    for (index, node) in graph.node.iter().enumerate() {
        let op = node.op_type.as_deref().unwrap_or("");
        let domain = node.domain.as_deref().unwrap_or("");
        let r = || NodeRef::new(id, index, node);
        if domain == "ai.onnx.ml" {
            census.ml.push(r());
        } else if domain.is_empty() || domain == "ai.onnx" || domain == "com.microsoft" {
            if DL_WEIGHT_OPS.contains(&op) {
                census.dl_weight.push(r());
            } else if DL_SEQUENCE_OPS.contains(&op) {
                census.dl_sequence.push(r());
            } else if DL_ACTIVATIONS.contains(&op) {
                census.dl_activation.push(r());
            }
        }
        if depth < 32 {
            for a in &node.attribute {
                let name = a.name.clone().unwrap_or_default();
                for g in a.g.as_deref().into_iter().chain(&a.graphs) {
                    census_graph(
                        census,
                        g,
                        &GraphId::Sub(Box::new(id.clone()), index, name.clone()),
                        depth + 1,
                    );
                }
            }
        }
    }
}

/// Classifies `model`; see the module comment for the rules.
pub fn classify(model: &ModelProto) -> Classification {
    let mut evidence = spiking::evidence(model);
    let spiking_strength = evidence
        .iter()
        .filter(|e| e.kind == Kind::Snn)
        .map(|e| e.weight)
        .fold(0.0f32, f32::max);

    let mut census = OpCensus::default();
    if let Some(g) = &model.graph {
        census_graph(&mut census, g, &GraphId::Main, 0);
    }
    for f in &model.functions {
        let id = GraphId::Function {
            domain: f.domain.clone().unwrap_or_default(),
            name: f.name.clone().unwrap_or_default(),
            overload: f.overload.clone().unwrap_or_default(),
        };
        let g = GraphProto {
            node: f.node.clone(),
            ..Default::default()
        };
        census_graph(&mut census, &g, &id, 0);
    }

    let ml_weight: f32 = if census.ml.is_empty() { 0.0 } else { 0.95 };
    if ml_weight > 0.0 {
        evidence.push(Evidence::ops(
            Source::Op,
            Kind::Ml,
            ml_weight,
            &census.ml,
            "ai.onnx.ml operators (classic machine learning)",
        ));
    }
    let dl_weight: f32 = if !census.dl_sequence.is_empty() {
        0.95
    } else if !census.dl_weight.is_empty() && !census.dl_activation.is_empty() {
        0.9
    } else if census.dl_weight.len() >= 2 {
        0.75
    } else if !census.dl_weight.is_empty() {
        0.6
    } else {
        0.0
    };
    if !census.dl_sequence.is_empty() {
        evidence.push(Evidence::ops(
            Source::Op,
            Kind::Dl,
            0.95,
            &census.dl_sequence,
            "recurrent or attention operators",
        ));
    }
    if !census.dl_weight.is_empty() {
        evidence.push(Evidence::ops(
            Source::Op,
            Kind::Dl,
            dl_weight.min(0.9),
            &census.dl_weight,
            "weight layers (Conv/Gemm/MatMul)",
        ));
    }
    if !census.dl_activation.is_empty() && dl_weight > 0.0 {
        evidence.push(Evidence::ops(
            Source::Op,
            Kind::Dl,
            0.5,
            &census.dl_activation,
            "neural activations / normalisation / pooling",
        ));
    }

    let (kind, confidence) = if spiking_strength >= 0.6 {
        (Kind::Snn, spiking_strength)
    } else if ml_weight > 0.0 && dl_weight >= 0.75 {
        (Kind::Mixed, ml_weight.min(dl_weight))
    } else if ml_weight > 0.0 {
        // A lone Gemm/MatMul next to ai.onnx.ml ops is skl2onnx plumbing, not a network.
        (Kind::Ml, if dl_weight > 0.0 { 0.8 } else { ml_weight })
    } else if dl_weight > 0.0 {
        (Kind::Dl, dl_weight)
    } else {
        (
            Kind::Unknown,
            if model.graph.as_ref().is_some_and(|g| !g.node.is_empty()) {
                0.3
            } else {
                0.0
            },
        )
    };
    // Strongest evidence for the verdict first, the rest after.
    evidence.sort_by(|a, b| {
        (b.kind == kind)
            .cmp(&(a.kind == kind))
            .then(b.weight.total_cmp(&a.weight))
    });
    Classification {
        kind,
        confidence,
        evidence,
    }
}
