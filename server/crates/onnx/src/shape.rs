//! Shape facts: the element type and shape of every value in a model (main
//! graph, subgraphs, local functions are skipped), found by one forward pass
//! over the nodes in order, plus the shape errors that pass can prove.
//!
//! Dims are kept as they are known: a number, a symbol (`batch`) or unknown.
//! Small integer tensors (shapes, axes, Reshape targets) are propagated as
//! values too, so `Shape -> Gather -> Concat -> Reshape` chains resolve as
//! ONNX's own data propagation does. An op without a rule yields unknown, and
//! a mismatch is only reported when both sides are known: never a false error.

mod dim;
mod ml;
mod ops;
mod spatial;

pub use dim::{Dim, ValueType};

use crate::diagnostic::{Anchor, Diagnostic, GraphId};
use crate::hash::HashMap;
use crate::proto::{GraphProto, ModelProto, NodeProto, TypeProto, type_proto};

/// Integer tensors up to this many elements are carried as values.
const MAX_CONST_ELEMENTS: usize = 64;
/// Subgraphs nested deeper than this are not analysed (their values stay unknown).
const MAX_DEPTH: usize = 64;

/// What is known about one value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fact {
    pub ty: ValueType,
    /// The value of a small (rank 0 or 1) integer tensor, dim by dim.
    pub konst: Option<Vec<Dim>>,
}

impl Fact {
    pub fn unknown() -> Fact {
        Fact {
            ty: ValueType::Unknown,
            konst: None,
        }
    }
    pub fn of(ty: ValueType) -> Fact {
        Fact { ty, konst: None }
    }
}

/// Types and shapes of every value of every graph of a model.
#[derive(Clone, Debug, Default)]
pub struct ShapeFacts {
    /// Per graph: value name -> type. Values a subgraph takes from an outer
    /// scope are found through [`ShapeFacts::get`].
    pub graphs: HashMap<GraphId, HashMap<String, ValueType>>,
    /// Proven shape errors (code `onnx/shape-mismatch`) and conflicts with
    /// declared value_info (code `onnx/shape-declared-mismatch`, warning).
    pub diagnostics: Vec<Diagnostic>,
}

impl ShapeFacts {
    /// The type of `name` as seen from `graph` (looking through enclosing graphs).
    pub fn get(&self, graph: &GraphId, name: &str) -> Option<&ValueType> {
        let mut g = graph;
        loop {
            if let Some(t) = self.graphs.get(g).and_then(|m| m.get(name)) {
                return Some(t);
            }
            match g {
                GraphId::Sub(parent, _, _) => g = parent,
                _ => return None,
            }
        }
    }
}

/// Infers the type and shape of every value of `model`.
pub fn infer(model: &ModelProto) -> ShapeFacts {
    let mut facts = ShapeFacts::default();
    let opset = model
        .opset_import
        .iter()
        .find(|o| {
            o.domain.as_deref().unwrap_or("").is_empty() || o.domain.as_deref() == Some("ai.onnx")
        })
        .and_then(|o| o.version)
        .unwrap_or(21);
    if let Some(graph) = &model.graph {
        let mut cx = Cx {
            facts: &mut facts,
            opset,
        };
        infer_graph(&mut cx, graph, GraphId::Main, None, 0, &[]);
    }
    facts
}

pub(crate) struct Cx<'f> {
    pub facts: &'f mut ShapeFacts,
    /// Default-domain opset: attributes moved to inputs across versions.
    pub opset: i64,
}

/// A graph's values while it is being analysed, with its enclosing scope.
pub(crate) struct Env<'a> {
    parent: Option<&'a Env<'a>>,
    values: HashMap<String, Fact>,
}

impl Env<'_> {
    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.values
            .get(name)
            .or_else(|| self.parent.and_then(|p| p.get(name)))
    }
}

/// The node being inferred, for diagnostics that name it.
pub(crate) struct At<'a> {
    pub graph: &'a GraphId,
    pub index: usize,
    pub node: &'a NodeProto,
}

impl At<'_> {
    pub fn label(&self) -> String {
        format!(
            "node {} '{}' ({})",
            self.index,
            self.node.name.as_deref().unwrap_or(""),
            self.node.op_type.as_deref().unwrap_or("")
        )
    }
    pub fn mismatch(&self, cx: &mut Cx, what: impl std::fmt::Display) {
        let anchor = Anchor::Node {
            graph: self.graph.clone(),
            index: self.index,
        };
        cx.facts.diagnostics.push(Diagnostic::error(
            "onnx/shape-mismatch",
            anchor,
            format!("{}: {what}", self.label()),
        ));
    }
}

/// Infers one graph. `bound` gives types for the graph's formal inputs that
/// the caller knows better than the graph declares (Loop/Scan bodies).
/// Returns the facts of the graph's outputs, in order.
fn infer_graph(
    cx: &mut Cx,
    graph: &GraphProto,
    id: GraphId,
    parent: Option<&Env>,
    depth: usize,
    bound: &[Fact],
) -> Vec<Fact> {
    let mut env = Env {
        parent,
        values: HashMap::default(),
    };
    for (i, input) in graph.input.iter().enumerate() {
        let declared = from_type_proto(input.r#type.as_ref());
        let fact = match bound.get(i) {
            Some(b) if declared.is_less_known_than(&b.ty) => b.clone(),
            _ => Fact::of(declared),
        };
        env.values
            .insert(input.name.clone().unwrap_or_default(), fact);
    }
    for init in &graph.initializer {
        env.values.insert(
            init.name.clone().unwrap_or_default(),
            ops::tensor_fact(init),
        );
    }
    for sparse in &graph.sparse_initializer {
        let elem = sparse
            .values
            .as_ref()
            .and_then(|v| v.data_type)
            .unwrap_or(0);
        let ty = ValueType::tensor(elem, sparse.dims.iter().map(|&d| Dim::Known(d)).collect());
        let name = sparse
            .values
            .as_ref()
            .and_then(|v| v.name.clone())
            .unwrap_or_default();
        env.values.insert(name, Fact::of(ty));
    }
    // Declared types of intermediate values and outputs: used where inference
    // knows less, and compared where both know.
    let mut declared: HashMap<&str, ValueType> = HashMap::default();
    for vi in graph.value_info.iter().chain(&graph.output) {
        if let Some(name) = vi.name.as_deref() {
            declared.insert(name, from_type_proto(vi.r#type.as_ref()));
        }
    }

    for (index, node) in graph.node.iter().enumerate() {
        let at = At {
            graph: &id,
            index,
            node,
        };
        let inputs: Vec<Option<&Fact>> = node
            .input
            .iter()
            .map(|n| if n.is_empty() { None } else { env.get(n) })
            .collect();
        let mut outs = if depth < MAX_DEPTH {
            infer_node(cx, &at, &inputs, &env, depth)
        } else {
            Vec::new()
        };
        outs.resize_with(node.output.len(), Fact::unknown);
        for (name, mut fact) in node.output.iter().zip(outs) {
            if name.is_empty() {
                continue;
            }
            if let Some(decl) = declared.get(name.as_str()) {
                if let Some(conflict) = fact.ty.conflict(decl) {
                    let anchor = Anchor::Value {
                        graph: id.clone(),
                        name: name.clone(),
                    };
                    cx.facts.diagnostics.push(Diagnostic::warning(
                        "onnx/shape-declared-mismatch",
                        anchor,
                        format!(
                            "{}: output '{name}' is inferred as {} but declared as {decl} ({conflict})",
                            at.label(),
                            fact.ty
                        ),
                    ));
                } else {
                    fact.ty = fact.ty.refine(decl);
                }
            }
            env.values.insert(name.clone(), fact);
        }
    }

    let outputs = graph
        .output
        .iter()
        .map(|o| {
            let name = o.name.as_deref().unwrap_or("");
            env.get(name)
                .cloned()
                .unwrap_or_else(|| Fact::of(from_type_proto(o.r#type.as_ref())))
        })
        .collect();
    let map = env.values.into_iter().map(|(k, f)| (k, f.ty)).collect();
    cx.facts.graphs.insert(id, map);
    outputs
}

/// Dispatches to the op rules; control flow is handled here because it
/// recurses into subgraphs.
fn infer_node(
    cx: &mut Cx,
    at: &At,
    inputs: &[Option<&Fact>],
    env: &Env,
    depth: usize,
) -> Vec<Fact> {
    let node = at.node;
    let domain = node.domain.as_deref().unwrap_or("");
    let op = node.op_type.as_deref().unwrap_or("");
    let sub = |name: &str| crate::attr::find(node, name).and_then(|a| a.g.as_deref());
    let sub_id = |name: &str| GraphId::Sub(Box::new(at.graph.clone()), at.index, name.to_owned());
    match (domain, op) {
        ("" | "ai.onnx", "If") => {
            let then_out = sub("then_branch")
                .map(|g| infer_graph(cx, g, sub_id("then_branch"), Some(env), depth + 1, &[]));
            let else_out = sub("else_branch")
                .map(|g| infer_graph(cx, g, sub_id("else_branch"), Some(env), depth + 1, &[]));
            match (then_out, else_out) {
                (Some(t), Some(e)) => t
                    .into_iter()
                    .zip(e)
                    .map(|(a, b)| Fact::of(a.ty.merge(&b.ty)))
                    .collect(),
                (Some(t), None) | (None, Some(t)) => {
                    t.into_iter().map(|f| Fact::of(f.ty)).collect()
                }
                (None, None) => Vec::new(),
            }
        }
        ("" | "ai.onnx", "Loop") => {
            // Body inputs: iteration number, condition, then the carried values.
            let carried: Vec<Fact> = inputs
                .iter()
                .skip(2)
                .map(|f| {
                    f.map(|f| Fact::of(f.ty.clone()))
                        .unwrap_or_else(Fact::unknown)
                })
                .collect();
            let mut bound = vec![
                Fact::of(ValueType::tensor(7, vec![])),
                Fact::of(ValueType::tensor(9, vec![])),
            ];
            bound.extend(carried.iter().cloned());
            let Some(body) = sub("body") else {
                return Vec::new();
            };
            let body_out = infer_graph(cx, body, sub_id("body"), Some(env), depth + 1, &bound);
            let n_carried = carried.len();
            let mut outs: Vec<Fact> = body_out
                .iter()
                .skip(1)
                .take(n_carried)
                .map(|f| Fact::of(f.ty.clone()))
                .collect();
            for (i, o) in outs.iter_mut().enumerate() {
                if matches!(o.ty, ValueType::Unknown) {
                    *o = carried[i].clone();
                }
            }
            for scan in body_out.iter().skip(1 + n_carried) {
                outs.push(Fact::of(scan.ty.prepend_dim(Dim::Unknown)));
            }
            outs
        }
        ("" | "ai.onnx", "Scan") => {
            let Some(body) = sub("body") else {
                return Vec::new();
            };
            let n_scan_in = crate::attr::int(node, "num_scan_inputs")
                .unwrap_or(0)
                .max(0) as usize;
            let n_state = inputs.len().saturating_sub(n_scan_in);
            let mut bound: Vec<Fact> = inputs
                .iter()
                .take(n_state)
                .map(|f| f.cloned().unwrap_or_else(Fact::unknown))
                .collect();
            // Each scan input loses its scanned (first, by default) axis in the body.
            for f in inputs.iter().skip(n_state) {
                bound.push(
                    f.map(|f| Fact::of(f.ty.drop_first_dim()))
                        .unwrap_or_else(Fact::unknown),
                );
            }
            let body_out = infer_graph(cx, body, sub_id("body"), Some(env), depth + 1, &bound);
            body_out
                .into_iter()
                .enumerate()
                .map(|(i, f)| {
                    if i < n_state {
                        Fact::of(f.ty)
                    } else {
                        Fact::of(f.ty.prepend_dim(Dim::Unknown))
                    }
                })
                .collect()
        }
        ("" | "ai.onnx", _) => ops::infer(cx, at, inputs),
        ("ai.onnx.ml", _) => ml::infer(at, inputs),
        _ => Vec::new(),
    }
}

/// Reads a declared `TypeProto`.
pub fn from_type_proto(tp: Option<&TypeProto>) -> ValueType {
    use crate::proto::tensor_shape_proto::dimension::Value as D;
    let Some(value) = tp.and_then(|t| t.value.as_ref()) else {
        return ValueType::Unknown;
    };
    let shape = |s: Option<&crate::proto::TensorShapeProto>| {
        s.map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(D::DimValue(v)) => Dim::Known(*v),
                    Some(D::DimParam(p)) if !p.is_empty() => Dim::Sym(p.clone()),
                    _ => Dim::Unknown,
                })
                .collect()
        })
    };
    match value {
        type_proto::Value::TensorType(t) => ValueType::Tensor {
            elem: t.elem_type.unwrap_or(0),
            shape: shape(t.shape.as_ref()),
        },
        type_proto::Value::SparseTensorType(t) => ValueType::Tensor {
            elem: t.elem_type.unwrap_or(0),
            shape: shape(t.shape.as_ref()),
        },
        type_proto::Value::SequenceType(s) => {
            ValueType::Sequence(Box::new(from_type_proto(s.elem_type.as_deref())))
        }
        type_proto::Value::MapType(m) => ValueType::Map {
            key: m.key_type.unwrap_or(0),
            value: Box::new(from_type_proto(m.value_type.as_deref())),
        },
        type_proto::Value::OptionalType(o) => {
            ValueType::Optional(Box::new(from_type_proto(o.elem_type.as_deref())))
        }
        type_proto::Value::OpaqueType(_) => ValueType::Unknown,
    }
}
