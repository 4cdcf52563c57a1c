//! A small graph evaluator for classic-ML models: every `ai.onnx.ml` operator
//! onnxruntime runs on CPU, plus the default-domain operators that converters
//! such as skl2onnx put around them. Kernels parse their attributes once when
//! the plan is built, so a run only moves data.

mod attrs;
mod basic;
mod encode;
mod linear;
pub(crate) mod num;
mod ops;
mod post;
mod svm;
mod tree;

use crate::error::{Error, KernelError};
use crate::tensor_proto;
use crate::value::Value;
use neuride_onnx::proto::{GraphProto, NodeProto};
use std::collections::{BTreeSet, HashMap, HashSet};

pub(crate) use attrs::{Attrs, same_lengths};

/// A prepared operator: attributes parsed, ready to run on values.
pub(crate) trait Kernel: Send + Sync {
    /// `inputs[i]` is None for an omitted optional input.
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError>;
}

pub(crate) type BoxKernel = Box<dyn Kernel>;

pub(crate) const ML_DOMAIN: &str = "ai.onnx.ml";

/// Whether this evaluator has a kernel for `(domain, op)`.
pub fn supports(domain: &str, op: &str) -> bool {
    match domain {
        "" | "ai.onnx" => ops::supports(op),
        ML_DOMAIN => ml_op(op).is_some(),
        TRAINING_DOMAIN => ops::supports_training(op),
        _ => false,
    }
}

/// Whether every node of `graph`, and of the graphs inside its nodes, has
/// a kernel here.
pub fn supports_graph(graph: &GraphProto) -> bool {
    graph.node.iter().all(|n| {
        supports(n.domain(), n.op_type()) && neuride_onnx::attr::graphs(n).all(supports_graph)
    })
}

pub(crate) const TRAINING_DOMAIN: &str = "ai.onnx.preview.training";

/// Builds an `ai.onnx.ml` op's kernel from its attributes.
type MlBuild = fn(&Attrs) -> Result<BoxKernel, KernelError>;

/// The `ai.onnx.ml` ops and their builders: the supported list is this table.
const ML_OPS: &[(&str, MlBuild)] = &[
    ("LinearClassifier", linear::linear_classifier),
    ("LinearRegressor", linear::linear_regressor),
    ("Normalizer", basic::normalizer),
    ("Scaler", basic::scaler),
    ("ZipMap", encode::zipmap),
    ("TreeEnsembleClassifier", tree::classifier),
    ("TreeEnsembleRegressor", tree::regressor),
    ("TreeEnsemble", tree::ensemble5),
    ("SVMClassifier", svm::classifier),
    ("SVMRegressor", svm::regressor),
    ("ArrayFeatureExtractor", |_| {
        basic::array_feature_extractor()
    }),
    ("Binarizer", basic::binarizer),
    ("Imputer", basic::imputer),
    ("LabelEncoder", encode::label_encoder),
    ("OneHotEncoder", encode::one_hot_encoder),
    ("CategoryMapper", encode::category_mapper),
    ("FeatureVectorizer", basic::feature_vectorizer),
    ("DictVectorizer", encode::dict_vectorizer),
    ("CastMap", encode::cast_map),
];

fn ml_op(op: &str) -> Option<MlBuild> {
    ML_OPS
        .iter()
        .find(|(name, _)| *name == op)
        .map(|&(_, build)| build)
}

fn build_kernel(node: &NodeProto, opset: i64) -> Result<BoxKernel, KernelError> {
    let a = Attrs(node);
    let domain = node.domain();
    if domain == ML_DOMAIN {
        return match ml_op(node.op_type()) {
            Some(build) => build(&a),
            None => Err(KernelError::Unsupported(format!(
                "ai.onnx.ml op {} is not supported",
                node.op_type()
            ))),
        };
    }
    if domain.is_empty() || domain == "ai.onnx" {
        return ops::build(node.op_type(), &a, opset);
    }
    if domain == TRAINING_DOMAIN {
        return ops::build_training(node.op_type(), &a);
    }
    Err(KernelError::Unsupported(format!(
        "domain '{domain}' is not supported by the ML evaluator"
    )))
}

/// Evaluates one node on given values (the native engine folds constant
/// subgraphs with this: shape arithmetic, casts, constants).
pub(crate) fn eval_node(
    node: &NodeProto,
    opset: i64,
    inputs: &[Option<&Value>],
) -> Result<Vec<Value>, KernelError> {
    build_kernel(node, opset)?.run(inputs)
}

/// The names a graph reads from enclosing graphs: used by its nodes (or
/// by graphs inside them) but neither its inputs, initializers nor node
/// outputs. Sorted, so a control-flow node and its body agree on the order.
pub(crate) fn free_names(graph: &GraphProto) -> Vec<String> {
    let mut defined: HashSet<&str> = graph
        .input
        .iter()
        .map(|v| v.name())
        .chain(graph.initializer.iter().map(|t| t.name()))
        .collect();
    for node in &graph.node {
        defined.extend(node.output.iter().map(String::as_str));
    }
    let mut free = BTreeSet::new();
    for node in &graph.node {
        for name in node.input.iter().filter(|n| !n.is_empty()) {
            if !defined.contains(name.as_str()) {
                free.insert(name.clone());
            }
        }
        for name in captured_names(node) {
            if !defined.contains(name.as_str()) {
                free.insert(name);
            }
        }
    }
    free.into_iter().collect()
}

/// The values a node with graph attributes (If, Loop, Scan, SequenceMap)
/// reads implicitly from its scope: its bodies' free names, sorted. The
/// plan passes them after the node's own inputs.
pub(crate) fn captured_names(node: &NodeProto) -> Vec<String> {
    let mut names = BTreeSet::new();
    for g in neuride_onnx::attr::graphs(node) {
        names.extend(free_names(g));
    }
    names.into_iter().collect()
}

struct Step {
    name: String,
    op: String,
    kernel: BoxKernel,
    inputs: Vec<Option<usize>>,
    outputs: Vec<usize>,
    /// Slots whose last reader is this step: freed after it.
    last_use: Vec<usize>,
}

/// A graph compiled for the evaluator.
pub struct Plan {
    pub(crate) input_slots: Vec<(String, usize)>,
    pub(crate) output_slots: Vec<(String, usize)>,
    /// Values read from enclosing graphs (a body's free names), by slot.
    captured: Vec<(String, usize)>,
    constants: Vec<Option<Value>>,
    steps: Vec<Step>,
}

impl Plan {
    /// Compiles a model's main graph: every name must be defined in it.
    pub fn build(graph: &GraphProto, default_opset: i64) -> Result<Plan, Error> {
        Plan::build_scoped(graph, default_opset, false)
    }

    /// Compiles the body of a control-flow node: names defined outside it
    /// become captured slots, bound when it runs.
    pub(crate) fn build_body(graph: &GraphProto, default_opset: i64) -> Result<Plan, Error> {
        Plan::build_scoped(graph, default_opset, true)
    }

    fn build_scoped(graph: &GraphProto, default_opset: i64, body: bool) -> Result<Plan, Error> {
        let mut slots: HashMap<String, usize> = HashMap::new();
        let slot_of = |name: &str, slots: &mut HashMap<String, usize>| -> usize {
            let next = slots.len();
            *slots.entry(name.to_owned()).or_insert(next)
        };
        let mut constants: Vec<(usize, Value)> = Vec::new();
        for init in &graph.initializer {
            let tensor = tensor_proto::decode(init).map_err(|e| Error::Model(e.to_string()))?;
            constants.push((slot_of(init.name(), &mut slots), Value::Tensor(tensor)));
        }
        let init_names: HashSet<&str> = graph.initializer.iter().map(|t| t.name()).collect();
        let input_slots: Vec<(String, usize)> = graph
            .input
            .iter()
            .filter(|i| !init_names.contains(i.name()))
            .map(|i| (i.name().to_owned(), slot_of(i.name(), &mut slots)))
            .collect();
        let captured: Vec<(String, usize)> = if body {
            free_names(graph)
                .into_iter()
                .map(|n| {
                    let s = slot_of(&n, &mut slots);
                    (n, s)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut available: HashSet<usize> = constants
            .iter()
            .map(|c| c.0)
            .chain(input_slots.iter().map(|i| i.1))
            .chain(captured.iter().map(|c| c.1))
            .collect();

        // Order nodes so each runs after its producers (graphs should already be
        // sorted; this also tolerates ones that are not).
        let mut pending: Vec<(&NodeProto, Vec<String>)> = graph
            .node
            .iter()
            .map(|n| {
                let mut names: Vec<String> = n.input.clone();
                names.extend(captured_names(n));
                (n, names)
            })
            .collect();
        let mut steps = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for (node, names) in pending {
                let ready = names.iter().all(|n| {
                    n.is_empty() || slots.get(n.as_str()).is_some_and(|s| available.contains(s))
                });
                if !ready {
                    rest.push((node, names));
                    continue;
                }
                let name = node.name().to_owned();
                let op = node.op_type().to_owned();
                let kernel =
                    build_kernel(node, default_opset).map_err(|m| Error::node(&name, &op, m))?;
                let inputs = names
                    .iter()
                    .map(|n| {
                        if n.is_empty() {
                            None
                        } else {
                            Some(slots[n.as_str()])
                        }
                    })
                    .collect();
                let outputs: Vec<usize> =
                    node.output.iter().map(|n| slot_of(n, &mut slots)).collect();
                available.extend(outputs.iter().copied());
                steps.push(Step {
                    name,
                    op,
                    kernel,
                    inputs,
                    outputs,
                    last_use: Vec::new(),
                });
            }
            if rest.len() == before {
                let (node, names) = &rest[0];
                let missing: Vec<&str> = names
                    .iter()
                    .filter(|n| {
                        !n.is_empty()
                            && !slots.get(n.as_str()).is_some_and(|s| available.contains(s))
                    })
                    .map(String::as_str)
                    .collect();
                return Err(Error::node(
                    node.name(),
                    node.op_type(),
                    KernelError::Value(format!(
                        "inputs {missing:?} are never produced (cycle or missing initializer)"
                    )),
                ));
            }
            pending = rest;
        }
        let mut output_slots = Vec::new();
        for out in &graph.output {
            let slot = slots
                .get(out.name())
                .copied()
                .filter(|s| available.contains(s))
                .ok_or_else(|| {
                    Error::Model(format!(
                        "graph output '{}' is produced by no node",
                        out.name()
                    ))
                })?;
            output_slots.push((out.name().to_owned(), slot));
        }
        // Free each computed value after its last reader (graph outputs are kept).
        let kept: HashSet<usize> = output_slots.iter().map(|o| o.1).collect();
        let mut last: HashMap<usize, usize> = HashMap::new();
        for (k, step) in steps.iter().enumerate() {
            for s in step.inputs.iter().flatten() {
                last.insert(*s, k);
            }
        }
        for (slot, k) in last {
            if !kept.contains(&slot) {
                steps[k].last_use.push(slot);
            }
        }
        let mut table: Vec<Option<Value>> = vec![None; slots.len()];
        for (slot, value) in constants {
            table[slot] = Some(value);
        }
        Ok(Plan {
            input_slots,
            output_slots,
            captured,
            constants: table,
            steps,
        })
    }

    /// Runs the plan on inputs given in the order of `input_slots`.
    pub fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        self.run_scoped(inputs, &[])
    }

    /// The names this body reads from its enclosing graphs, in the order
    /// [`Plan::run_scoped`] takes their values.
    pub(crate) fn captured(&self) -> impl Iterator<Item = &str> {
        self.captured.iter().map(|c| c.0.as_str())
    }

    /// Runs with `outer[k]` bound to the k-th captured name.
    pub(crate) fn run_scoped(
        &self,
        inputs: Vec<Value>,
        outer: &[Option<&Value>],
    ) -> Result<Vec<Value>, Error> {
        let mut values: Vec<Option<Value>> = vec![None; self.constants.len()];
        for ((_, slot), value) in self.input_slots.iter().zip(inputs) {
            values[*slot] = Some(value);
        }
        let mut bound: Vec<Option<&Value>> = vec![None; self.constants.len()];
        for ((name, slot), value) in self.captured.iter().zip(outer) {
            bound[*slot] = *value;
            if value.is_none() {
                return Err(Error::Model(format!(
                    "the outer value '{name}' is not computed"
                )));
            }
        }
        for step in &self.steps {
            let outs = {
                let args: Vec<Option<&Value>> = step
                    .inputs
                    .iter()
                    .map(|s| {
                        s.and_then(|s| {
                            self.constants[s]
                                .as_ref()
                                .or(values[s].as_ref())
                                .or(bound[s])
                        })
                    })
                    .collect();
                step.kernel
                    .run(&args)
                    .map_err(|m| Error::node(&step.name, &step.op, m))?
            };
            for (slot, value) in step.outputs.iter().zip(outs) {
                values[*slot] = Some(value);
            }
            for &slot in &step.last_use {
                values[slot] = None;
            }
        }
        self.output_slots
            .iter()
            .map(|(name, slot)| {
                self.constants[*slot]
                    .clone()
                    .or_else(|| values[*slot].take())
                    .or_else(|| bound[*slot].cloned())
                    .ok_or_else(|| Error::Model(format!("output '{name}' was not computed")))
            })
            .collect()
    }
}
