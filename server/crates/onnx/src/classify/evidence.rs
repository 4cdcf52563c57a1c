//! One piece of evidence behind a classification: where it comes from, which
//! kind it points to, how strong it is, the nodes it names, and a sentence.

use super::Kind;
use crate::diagnostic::GraphId;
use crate::proto::NodeProto;
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many nodes are listed per evidence item (counts stay exact).
const MAX_NODES: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Operators present (by op type / domain).
    Op,
    /// A structural pattern over several nodes (the unrolled membrane loop).
    Pattern,
    /// `producer_name` / `producer_version`.
    Producer,
    /// `metadata_props` or doc strings.
    Metadata,
    /// Node or value names (`lif1`, `leaky`), supporting only.
    Names,
}

/// A node named by evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeRef {
    pub graph: GraphId,
    pub index: usize,
    pub name: String,
    pub op: String,
}

impl NodeRef {
    pub fn new(graph: &GraphId, index: usize, node: &NodeProto) -> NodeRef {
        let op = match node.domain.as_deref() {
            Some(d) if !d.is_empty() && d != "ai.onnx" => {
                format!("{d}.{}", node.op_type.as_deref().unwrap_or(""))
            }
            _ => node.op_type.clone().unwrap_or_default(),
        };
        NodeRef {
            graph: graph.clone(),
            index,
            name: node.name.clone().unwrap_or_default(),
            op,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub source: Source,
    /// The kind this evidence points to.
    pub kind: Kind,
    /// 0..1.
    pub weight: f32,
    /// Op histogram of the nodes involved (`"ai.onnx.ml.SVMClassifier": 1`).
    pub ops: BTreeMap<String, usize>,
    /// Total nodes involved; `nodes` lists the first few.
    pub node_count: usize,
    pub nodes: Vec<NodeRef>,
    /// A human sentence.
    pub message: String,
}

impl Evidence {
    /// Evidence from a set of nodes of one family.
    pub fn ops(source: Source, kind: Kind, weight: f32, nodes: &[NodeRef], what: &str) -> Evidence {
        let mut ops = BTreeMap::new();
        for n in nodes {
            *ops.entry(n.op.clone()).or_insert(0) += 1;
        }
        let list: Vec<String> = ops
            .iter()
            .map(|(op, n)| {
                if *n > 1 {
                    format!("{op} x{n}")
                } else {
                    op.clone()
                }
            })
            .collect();
        Evidence {
            source,
            kind,
            weight,
            ops,
            node_count: nodes.len(),
            nodes: nodes.iter().take(MAX_NODES).cloned().collect(),
            message: format!("{what}: {}", list.join(", ")),
        }
    }

    /// Evidence without nodes (producer, metadata).
    pub fn text(source: Source, kind: Kind, weight: f32, message: String) -> Evidence {
        Evidence {
            source,
            kind,
            weight,
            ops: BTreeMap::new(),
            node_count: 0,
            nodes: Vec::new(),
            message,
        }
    }
}
