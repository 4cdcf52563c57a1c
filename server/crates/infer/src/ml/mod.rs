//! A small graph evaluator for classic-ML models: every `ai.onnx.ml` operator
//! onnxruntime runs on CPU, plus the default-domain operators that converters
//! such as skl2onnx put around them. Kernels parse their attributes once when
//! the plan is built, so a run only moves data.

mod attrs;
mod basic;
mod encode;
mod linear;
mod ops;
mod post;
mod svm;
mod tree;

use crate::error::Error;
use crate::tensor_proto;
use crate::value::Value;
use neuride_onnx::proto::{GraphProto, NodeProto};
use std::collections::HashMap;

pub(crate) use attrs::Attrs;

/// A prepared operator: attributes parsed, ready to run on values.
pub(crate) trait Kernel: Send + Sync {
    /// `inputs[i]` is None for an omitted optional input.
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, String>;
}

pub(crate) type BoxKernel = Box<dyn Kernel>;

pub(crate) const ML_DOMAIN: &str = "ai.onnx.ml";

/// Whether this evaluator has a kernel for `(domain, op)`.
pub fn supports(domain: &str, op: &str) -> bool {
    match domain {
        "" | "ai.onnx" => ops::supports(op),
        ML_DOMAIN => ml_op(op).is_some(),
        _ => false,
    }
}

/// The `ai.onnx.ml` ops and their builders: the supported list is this table.
const ML_OPS: &[(&str, fn(&Attrs) -> Result<BoxKernel, String>)] = &[
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

fn ml_op(op: &str) -> Option<fn(&Attrs) -> Result<BoxKernel, String>> {
    ML_OPS
        .iter()
        .find(|(name, _)| *name == op)
        .map(|&(_, build)| build)
}

fn build_kernel(node: &NodeProto, opset: i64) -> Result<BoxKernel, String> {
    let a = Attrs(node);
    let domain = node.domain();
    if domain == ML_DOMAIN {
        return match ml_op(node.op_type()) {
            Some(build) => build(&a),
            None => Err(format!("ai.onnx.ml op {} is not supported", node.op_type())),
        };
    }
    if domain.is_empty() || domain == "ai.onnx" {
        return ops::build(node.op_type(), &a, opset);
    }
    Err(format!(
        "domain '{domain}' is not supported by the ML evaluator"
    ))
}

/// Evaluates one node on given values (the native engine folds constant
/// subgraphs with this: shape arithmetic, casts, constants).
pub(crate) fn eval_node(
    node: &NodeProto,
    opset: i64,
    inputs: &[Option<&Value>],
) -> Result<Vec<Value>, String> {
    build_kernel(node, opset)?.run(inputs)
}

struct Step {
    name: String,
    op: String,
    kernel: BoxKernel,
    inputs: Vec<Option<usize>>,
    outputs: Vec<usize>,
}

/// A graph compiled for the evaluator.
pub struct Plan {
    pub(crate) input_slots: Vec<(String, usize)>,
    pub(crate) output_slots: Vec<(String, usize)>,
    constants: Vec<Option<Value>>,
    steps: Vec<Step>,
}

impl Plan {
    /// Compiles a graph: initializers decoded, nodes ordered, kernels built.
    pub fn build(graph: &GraphProto, default_opset: i64) -> Result<Plan, Error> {
        let mut slots: HashMap<String, usize> = HashMap::new();
        let slot_of = |name: &str, slots: &mut HashMap<String, usize>| -> usize {
            let next = slots.len();
            *slots.entry(name.to_owned()).or_insert(next)
        };
        let mut constants: Vec<(usize, Value)> = Vec::new();
        for init in &graph.initializer {
            let tensor = tensor_proto::decode(init).map_err(Error::Model)?;
            constants.push((slot_of(init.name(), &mut slots), Value::Tensor(tensor)));
        }
        let init_names: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name()).collect();
        let input_slots: Vec<(String, usize)> = graph
            .input
            .iter()
            .filter(|i| !init_names.contains(i.name()))
            .map(|i| (i.name().to_owned(), slot_of(i.name(), &mut slots)))
            .collect();
        let mut available: std::collections::HashSet<usize> = constants
            .iter()
            .map(|c| c.0)
            .chain(input_slots.iter().map(|i| i.1))
            .collect();

        // Order nodes so each runs after its producers (graphs should already be
        // sorted; this also tolerates ones that are not).
        let mut pending: Vec<&NodeProto> = graph.node.iter().collect();
        let mut steps = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for node in pending {
                let ready = node.input.iter().all(|n| {
                    n.is_empty() || slots.get(n.as_str()).is_some_and(|s| available.contains(s))
                });
                if !ready {
                    rest.push(node);
                    continue;
                }
                let name = node.name().to_owned();
                let op = node.op_type().to_owned();
                let kernel =
                    build_kernel(node, default_opset).map_err(|m| Error::node(&name, &op, m))?;
                let inputs = node
                    .input
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
                });
            }
            if rest.len() == before {
                let node = rest[0];
                let missing: Vec<&str> = node
                    .input
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
                    format!("inputs {missing:?} are never produced (cycle or missing initializer)"),
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
        let mut table: Vec<Option<Value>> = vec![None; slots.len()];
        for (slot, value) in constants {
            table[slot] = Some(value);
        }
        Ok(Plan {
            input_slots,
            output_slots,
            constants: table,
            steps,
        })
    }

    /// Runs the plan on inputs given in the order of `input_slots`.
    pub fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        let mut values: Vec<Option<Value>> = vec![None; self.constants.len()];
        for ((_, slot), value) in self.input_slots.iter().zip(inputs) {
            values[*slot] = Some(value);
        }
        for step in &self.steps {
            let args: Vec<Option<&Value>> = step
                .inputs
                .iter()
                .map(|s| s.and_then(|s| self.constants[s].as_ref().or(values[s].as_ref())))
                .collect();
            let outs = step
                .kernel
                .run(&args)
                .map_err(|m| Error::node(&step.name, &step.op, m))?;
            for (slot, value) in step.outputs.iter().zip(outs) {
                values[*slot] = Some(value);
            }
        }
        self.output_slots
            .iter()
            .map(|(name, slot)| {
                self.constants[*slot]
                    .clone()
                    .or_else(|| values[*slot].take())
                    .ok_or_else(|| Error::Model(format!("output '{name}' was not computed")))
            })
            .collect()
    }
}
