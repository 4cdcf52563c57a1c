//! ONNX graph -> `neuride_snn::Network` (an ANN with rectifier nodes, or a
//! spiking network when the model already uses `ai.neuride.snn` neuron
//! ops). One pass over the nodes in order:
//! - a node whose inputs are all constants is folded (`constant.rs`, with
//!   the infer crate's evaluator), as are shape queries on activities;
//! - weighted layers and per-channel affine maps (`weighted.rs`): Conv,
//!   Gemm, MatMul, BatchNormalization and Add/Sub/Mul/Div by a constant,
//!   folded into the weighted layer they follow where it alone reads it;
//! - structure (`layout.rs`): Add/Sum of activities, Concat, pools, Pad,
//!   the layout-only reshapes, rectifiers.
//!
//! Every op that has no spiking equivalent is recorded with its reason and
//! the pass goes on, so all of them are reported at once. Shapes come from
//! the graph input and the constants only.

mod constant;
mod layout;
mod weighted;

use crate::{Error, SNN_DOMAIN, Unconvertible, Weights};
use constant::Const;
use neuride_onnx::attr;
use neuride_onnx::load::ModelDir;
use neuride_onnx::proto::{GraphProto, ModelProto, NodeProto};
use neuride_snn::{IfNeuron, Layer, Network, Neuron, Node, NodeId, Reset, Scaling, infer_shape};
use std::collections::HashMap;

#[derive(Clone, Debug)]
enum Value {
    Activity(NodeId),
    /// An activity behind a zero `Pad` (`[top, left, bottom, right]`),
    /// waiting for the Conv or pool that takes the pads as its own.
    Padded(NodeId, [usize; 4]),
    Constant(Const),
    /// Produced by an op that could not be converted (already reported).
    Unknown,
}

/// A node being imported: the node, its op type and its inputs' values
/// (what every op handler reads).
#[derive(Clone, Copy)]
struct Call<'n> {
    node: &'n NodeProto,
    op: &'n str,
    inputs: &'n [Option<Value>],
}

pub(crate) struct Importer<'a> {
    graph: &'a GraphProto,
    opset: i64,
    weights: Option<&'a Weights>,
    dir: Option<&'a ModelDir>,
    /// False when only convertibility is checked: weights keep their shapes
    /// but no values are read (folded constants are still computed).
    load_data: bool,
    max_to_avg: bool,
    values: HashMap<String, Value>,
    uses: HashMap<String, usize>,
    graph_outputs: Vec<String>,
    nodes: Vec<Node>,
    shapes: Vec<Vec<usize>>,
    issues: Vec<Unconvertible>,
    /// True when at least one `ai.neuride.snn` neuron op was read.
    spiking: bool,
}

pub(crate) struct Imported {
    pub network: Network,
    pub spiking: bool,
}

/// What [`import`] reads besides the model.
pub(crate) struct ImportOptions<'a> {
    pub weights: Option<&'a Weights>,
    pub dir: Option<&'a ModelDir>,
    pub max_to_avg: bool,
    pub load_data: bool,
}

/// Reads `model`; the network comes back only when every op converted.
pub(crate) fn import(
    model: &ModelProto,
    options: ImportOptions,
) -> Result<(Option<Imported>, Vec<Unconvertible>), Error> {
    let graph = model.graph.as_ref().ok_or(Error::NoGraph)?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.as_deref().unwrap_or("").is_empty() || o.domain() == "ai.onnx")
        .and_then(|o| o.version)
        .unwrap_or(17);
    let mut importer = Importer {
        graph,
        opset,
        weights: options.weights,
        dir: options.dir,
        load_data: options.load_data,
        max_to_avg: options.max_to_avg,
        values: HashMap::new(),
        uses: HashMap::new(),
        graph_outputs: graph.output.iter().filter_map(|o| o.name.clone()).collect(),
        nodes: Vec::new(),
        shapes: Vec::new(),
        issues: Vec::new(),
        spiking: false,
    };
    for node in &graph.node {
        for input in &node.input {
            *importer.uses.entry(input.clone()).or_default() += 1;
        }
    }
    for output in &importer.graph_outputs {
        *importer.uses.entry(output.clone()).or_default() += 1;
    }
    for init in &graph.initializer {
        let name = init.name.clone().unwrap_or_default();
        importer.values.insert(
            name.clone(),
            Value::Constant(Const::initializer(name, init.clone())),
        );
    }
    importer.add_input()?;
    for node in &graph.node {
        importer.node(node)?;
    }
    let output = importer.output();
    let issues = std::mem::take(&mut importer.issues);
    let Some(output) = output.filter(|_| issues.is_empty()) else {
        return Ok((None, issues));
    };
    Ok((
        Some(Imported {
            network: Network {
                nodes: importer.nodes,
                output,
            },
            spiking: importer.spiking,
        }),
        issues,
    ))
}

fn node_name(node: &NodeProto) -> String {
    match node.name.as_deref() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => node
            .output
            .first()
            .cloned()
            .unwrap_or_else(|| "<unnamed>".into()),
    }
}

impl Importer<'_> {
    fn add_input(&mut self) -> Result<(), Error> {
        let inputs: Vec<_> = self
            .graph
            .input
            .iter()
            .filter(|i| !self.values.contains_key(i.name.as_deref().unwrap_or("")))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(Error::Input(format!(
                "exactly one graph input (besides initializers) was expected, found {}",
                inputs.len()
            )));
        };
        let name = input.name.clone().unwrap_or_default();
        let shape = crate::onnx_util::input_dims(input)
            .ok_or_else(|| Error::Input(format!("input '{name}' has no tensor shape")))?;
        if shape.len() < 2 {
            return Err(Error::Input(format!(
                "input '{name}' must be [batch, ...], found rank {}",
                shape.len()
            )));
        }
        let mut per_sample = Vec::new();
        for (axis, dim) in shape.iter().enumerate().skip(1) {
            match dim {
                Some(d) if *d > 0 => per_sample.push(*d as usize),
                _ => {
                    return Err(Error::Input(format!(
                        "input '{name}': dimension {axis} must be a fixed positive size (only the batch may be symbolic), found {dim:?}"
                    )));
                }
            }
        }
        self.push(
            Node {
                name: name.clone(),
                layer: Layer::Input { shape: per_sample },
                inputs: vec![],
            },
            &name,
        )?;
        Ok(())
    }

    fn output(&mut self) -> Option<NodeId> {
        let name = self.graph_outputs.first()?;
        match self.values.get(name) {
            Some(Value::Activity(id)) => Some(*id),
            _ => {
                if self.issues.is_empty() {
                    self.issues.push(Unconvertible {
                        node: name.clone(),
                        op_type: "output".into(),
                        reason:
                            "the graph output is not computed from the input by convertible ops"
                                .into(),
                    });
                }
                None
            }
        }
    }

    /// Pushes `layer` reading `inputs` as `node`'s first output.
    fn push_node(
        &mut self,
        node: &NodeProto,
        layer: Layer,
        inputs: Vec<NodeId>,
    ) -> Result<NodeId, Error> {
        let out = node.output.first().cloned().unwrap_or_default();
        self.push(
            Node {
                name: node_name(node),
                layer,
                inputs,
            },
            &out,
        )
    }

    /// Pushes `layer` for `node`, reading activity `x`, as the node's first output.
    fn push_layer(&mut self, node: &NodeProto, layer: Layer, x: NodeId) -> Result<NodeId, Error> {
        self.push_node(node, layer, vec![x])
    }

    fn push(&mut self, node: Node, output: &str) -> Result<NodeId, Error> {
        let shape = infer_shape(&node, &self.shapes)?;
        self.nodes.push(node);
        self.shapes.push(shape);
        let id = self.nodes.len() - 1;
        self.values.insert(output.to_string(), Value::Activity(id));
        Ok(id)
    }

    /// `node`'s first output is `value` (no layer).
    fn alias(&mut self, node: &NodeProto, value: Value) {
        if let Some(out) = node.output.first() {
            self.values.insert(out.clone(), value);
        }
    }

    fn reject(&mut self, node: &NodeProto, reason: impl Into<String>) {
        self.issues.push(Unconvertible {
            node: node_name(node),
            op_type: node.op_type.clone().unwrap_or_default(),
            reason: reason.into(),
        });
        for output in &node.output {
            self.values.insert(output.clone(), Value::Unknown);
        }
    }

    fn value(&self, name: &str) -> Option<Value> {
        if name.is_empty() {
            return None;
        }
        self.values.get(name).cloned()
    }

    /// Whether the value `name` is read by exactly one node (so its
    /// producer may be changed in place).
    fn used_once(&self, name: &str) -> bool {
        self.uses.get(name).copied().unwrap_or(0) == 1
    }

    fn node(&mut self, node: &NodeProto) -> Result<(), Error> {
        let op = node.op_type.clone().unwrap_or_default();
        let domain = node.domain.clone().unwrap_or_default();
        let inputs: Vec<Option<Value>> = node.input.iter().map(|i| self.value(i)).collect();
        let call = Call {
            node,
            op: &op,
            inputs: &inputs,
        };
        if domain == SNN_DOMAIN {
            return self.on_activity(call, Self::neuron_op);
        }
        if !(domain.is_empty() || domain == "ai.onnx") {
            self.reject(
                node,
                format!("op of domain '{domain}' has no spiking equivalent"),
            );
            return Ok(());
        }
        if op == "Constant" {
            match constant::of_constant_node(node) {
                Ok(c) => self.alias(node, Value::Constant(c)),
                Err(reason) => self.reject(node, reason),
            }
            return Ok(());
        }
        // An input that comes from a rejected op: report this op only if it is
        // itself unconvertible, without cascading.
        if inputs.iter().any(|v| matches!(v, Some(Value::Unknown))) {
            if !is_supported(&op) {
                self.reject(node, crate::hint::reason(&op));
            } else {
                for output in &node.output {
                    self.values.insert(output.clone(), Value::Unknown);
                }
            }
            return Ok(());
        }
        if self.fold(node, &inputs)? {
            return Ok(());
        }
        match op.as_str() {
            "Identity" | "Dropout" => self.identity(call),
            "Relu" | "Clip" => self.on_activity(call, Self::rectifier)?,
            "Conv" => self.conv(call)?,
            "Gemm" => self.gemm(call)?,
            "MatMul" => self.matmul(call)?,
            "BatchNormalization" => self.on_activity(call, Self::batch_norm)?,
            "Add" | "Sub" | "Mul" | "Div" | "Sum" => self.arithmetic(call)?,
            "Concat" => self.concat(call)?,
            "AveragePool" | "MaxPool" => self.pool(call)?,
            "GlobalAveragePool" | "GlobalMaxPool" => self.global_pool(call)?,
            "Pad" => self.pad(call),
            "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" | "Transpose" => {
                self.on_activity(call, Self::reshape)?
            }
            "Softmax" | "LogSoftmax" => match inputs.first() {
                Some(Some(v)) if self.graph_outputs.iter().any(|o| node.output.contains(o)) => {
                    // The final softmax does not change the argmax: dropped.
                    let v = v.clone();
                    self.alias(node, v);
                }
                _ => self.reject(
                    node,
                    "only a final Softmax (producing a graph output) can be dropped",
                ),
            },
            _ => self.reject(node, crate::hint::reason(&op)),
        }
        Ok(())
    }

    fn identity(&mut self, call: Call) {
        let Call { node, inputs, .. } = call;
        // Dropout's optional mask output is not a layer.
        if node
            .output
            .iter()
            .skip(1)
            .any(|o| self.uses.contains_key(o))
        {
            self.reject(node, "Dropout's mask output does not convert");
            return;
        }
        match inputs.first() {
            Some(Some(v)) => {
                let v = v.clone();
                self.alias(node, v);
            }
            _ => self.reject(node, "input is missing"),
        }
    }

    /// The activity of input `i` (a padded activity is not one: the pads
    /// would be lost).
    fn activity(&self, inputs: &[Option<Value>], i: usize) -> Option<NodeId> {
        match inputs.get(i) {
            Some(Some(Value::Activity(id))) => Some(*id),
            _ => None,
        }
    }

    /// Runs `handler` with the op's first input as an activity; when it is
    /// none, the node is rejected ("OP needs an activity input").
    fn on_activity(
        &mut self,
        call: Call,
        handler: fn(&mut Self, Call, NodeId) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self.activity(call.inputs, 0) {
            Some(x) => handler(self, call, x),
            None => {
                self.reject(call.node, format!("{} needs an activity input", call.op));
                Ok(())
            }
        }
    }

    /// The op's first input for ops that take a zero `Pad` along:
    /// the activity and the pads waiting on it (none: zeros).
    fn padded_input(&mut self, call: Call) -> Option<(NodeId, [usize; 4])> {
        let Call { node, op, inputs } = call;
        match inputs.first() {
            Some(Some(Value::Activity(x))) => Some((*x, [0; 4])),
            Some(Some(Value::Padded(x, pads))) => Some((*x, *pads)),
            _ => {
                self.reject(node, format!("{op} needs an activity input"));
                None
            }
        }
    }

    fn neuron_op(&mut self, call: Call, x: NodeId) -> Result<(), Error> {
        let Call { node, op, .. } = call;
        let reset = match attr::string(node, "reset") {
            None | Some("subtract") => Reset::Subtract,
            Some("zero") => Reset::Zero,
            Some(other) => {
                self.reject(
                    node,
                    format!("reset must be 'subtract' or 'zero', found '{other}'"),
                );
                return Ok(());
            }
        };
        let threshold = attr::float(node, "threshold").unwrap_or(1.0);
        let neuron = match op {
            "IF" => Neuron::If(IfNeuron {
                threshold,
                reset,
                rectify: attr::int(node, "rectify").unwrap_or(0) != 0,
                max_spikes: attr::int(node, "max_spikes")
                    .filter(|&m| m > 0)
                    .map(|m| m.min(u32::MAX as i64) as u32),
                signed: attr::int(node, "signed").unwrap_or(0) != 0,
            }),
            "LIF" => Neuron::Lif {
                tau_rc: attr::float(node, "tau_rc").unwrap_or(0.02),
                tau_ref: attr::float(node, "tau_ref").unwrap_or(0.002),
                min_voltage: attr::float(node, "min_voltage").unwrap_or(0.0),
            },
            "Leaky" => Neuron::Leaky {
                beta: attr::float(node, "beta").unwrap_or(0.9),
                threshold,
                reset,
            },
            "Synaptic" => Neuron::Synaptic {
                alpha: attr::float(node, "alpha").unwrap_or(0.9),
                beta: attr::float(node, "beta").unwrap_or(0.9),
                threshold,
                reset,
            },
            _ => {
                self.reject(
                    node,
                    format!("unknown neuron op '{op}' in domain {SNN_DOMAIN}"),
                );
                return Ok(());
            }
        };
        if let Err(message) = neuron.validate() {
            self.reject(node, message);
            return Ok(());
        }
        // What the export writes (`Scaling::named`); absent ones change nothing.
        let neutral = Scaling::default();
        let layer = Layer::Spiking {
            neuron,
            scaling: Scaling {
                input_scale: attr::float(node, "input_scale").unwrap_or(neutral.input_scale),
                amplitude: attr::float(node, "amplitude").unwrap_or(neutral.amplitude),
                initial_membrane: attr::float(node, "initial_membrane")
                    .unwrap_or(neutral.initial_membrane),
            },
            per_neuron: None,
        };
        self.spiking = true;
        self.push_layer(node, layer, x)?;
        Ok(())
    }
}

/// Ops the importer has a rule for when they read activity (others are
/// unconvertible as such). Ops it only folds (LpPool, Sigmoid... of
/// constants) are not: fed by a rejected op, they would be rejected too.
fn is_supported(op: &str) -> bool {
    matches!(
        op,
        "Identity"
            | "Dropout"
            | "Relu"
            | "Clip"
            | "Conv"
            | "Gemm"
            | "MatMul"
            | "Add"
            | "Sub"
            | "Mul"
            | "Div"
            | "Sum"
            | "Concat"
            | "BatchNormalization"
            | "AveragePool"
            | "MaxPool"
            | "GlobalAveragePool"
            | "GlobalMaxPool"
            | "Pad"
            | "Flatten"
            | "Reshape"
            | "Squeeze"
            | "Unsqueeze"
            | "Transpose"
            | "Softmax"
            | "LogSoftmax"
            | "Constant"
            | "Shape"
            | "Size"
    )
}
