//! ONNX graph -> `neuride_snn::Network` (an ANN with ReLU nodes, or a
//! spiking network when the model already uses `ai.neuride.snn` neuron ops).
//! One pass over the nodes in order; every op that has no spiking
//! equivalent is recorded and the pass goes on, so all of them are reported
//! at once. Shapes come from the graph input and the initializers only.

use crate::onnx_util::{tensor_f32, tensor_i64};
use crate::{Error, SNN_DOMAIN, Unconvertible, Weights};
use neuride_onnx::attr;
use neuride_onnx::proto::{GraphProto, ModelProto, NodeProto, TensorProto};
use neuride_onnx::window::{AutoPad, Window};
use neuride_snn::{Layer, Network, Neuron, Node, NodeId, Reset, Tensor, infer_shape};
use std::collections::HashMap;

#[derive(Clone, Debug)]
enum Value {
    Activity(NodeId),
    Constant(TensorProto),
    /// Produced by an op that could not be converted (already reported).
    Unknown,
}

pub(crate) struct Importer<'a> {
    graph: &'a GraphProto,
    weights: Option<&'a Weights>,
    load_data: bool,
    max_to_avg: bool,
    values: HashMap<String, Value>,
    uses: HashMap<String, usize>,
    graph_outputs: Vec<String>,
    nodes: Vec<Node>,
    shapes: Vec<Vec<usize>>,
    pub issues: Vec<Unconvertible>,
    /// True when at least one `ai.neuride.snn` neuron op was read.
    pub spiking: bool,
}

pub(crate) struct Imported {
    pub network: Network,
    pub spiking: bool,
}

/// Reads `model`. `load_data = false` only checks convertibility (weights
/// keep their shapes but no values).
pub(crate) fn import(
    model: &ModelProto,
    weights: Option<&Weights>,
    max_to_avg: bool,
    load_data: bool,
) -> Result<(Option<Imported>, Vec<Unconvertible>), Error> {
    let graph = model.graph.as_ref().ok_or(Error::NoGraph)?;
    let mut importer = Importer {
        graph,
        weights,
        load_data,
        max_to_avg,
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
        importer.values.insert(
            init.name.clone().unwrap_or_default(),
            Value::Constant(init.clone()),
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
    let spiking = importer.spiking;
    Ok((
        Some(Imported {
            network: Network {
                nodes: importer.nodes,
                output,
            },
            spiking,
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

    /// Pushes `layer` for ONNX `node`, reading activity `x`, as the node's
    /// first output.
    fn push_layer(&mut self, node: &NodeProto, layer: Layer, x: NodeId) -> Result<NodeId, Error> {
        let out = node.output.first().cloned().unwrap_or_default();
        self.push(
            Node {
                name: node_name(node),
                layer,
                inputs: vec![x],
            },
            &out,
        )
    }

    fn push(&mut self, node: Node, output: &str) -> Result<NodeId, Error> {
        let shape = infer_shape(&node, &self.shapes)?;
        self.nodes.push(node);
        self.shapes.push(shape);
        let id = self.nodes.len() - 1;
        self.values.insert(output.to_string(), Value::Activity(id));
        Ok(id)
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

    /// A constant's values, preferring the NPZ weights (by initializer name).
    fn constant(&self, name: &str, tensor: &TensorProto) -> Result<Tensor, Error> {
        if let Some(w) = self.weights.and_then(|w| w.get(name)) {
            let dims: Vec<usize> = tensor.dims.iter().map(|&d| d.max(0) as usize).collect();
            if w.shape.iter().product::<usize>() != dims.iter().product::<usize>() {
                return Err(Error::Weight {
                    name: name.into(),
                    message: format!(
                        "NPZ array has shape {:?}, the model's initializer {dims:?}",
                        w.shape
                    ),
                });
            }
            return Ok(Tensor {
                shape: dims,
                data: w.data.clone(),
            });
        }
        if !self.load_data {
            return Ok(Tensor {
                shape: tensor.dims.iter().map(|&d| d.max(0) as usize).collect(),
                data: Vec::new(),
            });
        }
        tensor_f32(tensor).map_err(|message| Error::Weight {
            name: name.into(),
            message,
        })
    }

    fn node(&mut self, node: &NodeProto) -> Result<(), Error> {
        let op = node.op_type.clone().unwrap_or_default();
        let domain = node.domain.clone().unwrap_or_default();
        let inputs: Vec<Option<Value>> = node.input.iter().map(|i| self.value(i)).collect();
        if domain == SNN_DOMAIN {
            return self.neuron_op(node, &op, &inputs);
        }
        if !(domain.is_empty() || domain == "ai.onnx") {
            self.reject(
                node,
                format!("op of domain '{domain}' has no spiking equivalent"),
            );
            return Ok(());
        }
        if op == "Constant" {
            match attr::tensor(node, "value").cloned() {
                Some(t) => {
                    if let Some(out) = node.output.first() {
                        self.values.insert(out.clone(), Value::Constant(t));
                    }
                }
                None => self.reject(node, "Constant without a tensor 'value' attribute"),
            }
            return Ok(());
        }
        // An input that comes from a rejected op: report this op only if it is
        // itself unconvertible, without cascading.
        if inputs.iter().any(|v| matches!(v, Some(Value::Unknown))) {
            if !is_supported(&op) {
                self.reject(node, reason_for(&op));
            } else if op == "MaxPool" && !self.max_to_avg {
                self.reject(node, MAXPOOL_REASON);
            } else {
                for output in &node.output {
                    self.values.insert(output.clone(), Value::Unknown);
                }
            }
            return Ok(());
        }
        let activity = |i: usize| match inputs.get(i) {
            Some(Some(Value::Activity(id))) => Some(*id),
            _ => None,
        };
        let out = node.output.first().cloned().unwrap_or_default();
        let name = node_name(node);
        match op.as_str() {
            "Identity" | "Dropout" => match inputs.first() {
                Some(Some(v)) => {
                    self.values.insert(out, v.clone());
                }
                _ => self.reject(node, "input is missing"),
            },
            "Relu" => match activity(0) {
                Some(x) => {
                    self.push_layer(node, Layer::Relu, x)?;
                }
                None => self.reject(node, "Relu of a constant"),
            },
            "Conv" => self.conv(node, &inputs)?,
            "Gemm" => self.gemm(node, &inputs)?,
            "MatMul" => self.matmul(node, &inputs)?,
            "Add" => self.add(node, &inputs)?,
            "BatchNormalization" => self.batch_norm(node, &inputs)?,
            "AveragePool" | "MaxPool" => self.pool(node, &op, activity(0))?,
            "GlobalAveragePool" => match activity(0) {
                Some(x) if self.shapes[x].len() == 3 => {
                    let s = &self.shapes[x];
                    let layer = Layer::AvgPool {
                        kernel: [s[1], s[2]],
                        stride: [1, 1],
                        padding: [0; 4],
                        count_include_pad: true,
                    };
                    let pooled = self.push(
                        Node {
                            name: name.clone(),
                            layer,
                            inputs: vec![x],
                        },
                        &out,
                    )?;
                    // ONNX keeps [N, C, 1, 1]; a later Flatten makes it [N, C].
                    self.values.insert(out, Value::Activity(pooled));
                }
                _ => self.reject(
                    node,
                    "GlobalAveragePool needs a [N, C, H, W] activity input",
                ),
            },
            "Flatten" => match activity(0) {
                Some(x) if attr::int(node, "axis").unwrap_or(1) == 1 => {
                    self.push_layer(node, Layer::Flatten, x)?;
                }
                Some(_) => self.reject(
                    node,
                    "only Flatten with axis = 1 (keeping the batch) converts",
                ),
                None => self.reject(node, "Flatten of a constant"),
            },
            "Reshape" => self.reshape(node, &inputs)?,
            "Softmax" | "LogSoftmax" => match inputs.first() {
                Some(Some(v)) if self.graph_outputs.iter().any(|o| node.output.contains(o)) => {
                    // The final softmax does not change the argmax: dropped.
                    self.values.insert(out, v.clone());
                }
                _ => self.reject(
                    node,
                    "only a final Softmax (producing a graph output) can be dropped",
                ),
            },
            _ => self.reject(node, reason_for(&op)),
        }
        Ok(())
    }

    fn conv(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<(), Error> {
        let Some((x, w)) = activity_and_constant(inputs) else {
            self.reject(node, "Conv needs an activity input and a constant weight");
            return Ok(());
        };
        if w.dims.len() != 4 || self.shapes[x].len() != 3 {
            self.reject(
                node,
                format!(
                    "only 2-D convolution converts (weight rank {}, input rank {})",
                    w.dims.len(),
                    self.shapes[x].len() + 1
                ),
            );
            return Ok(());
        }
        if attr::ints(node, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
            self.reject(node, "dilated convolution does not convert");
            return Ok(());
        }
        let weight = self.constant(&node.input[1], w)?;
        let bias = match inputs.get(2) {
            Some(Some(Value::Constant(b))) => Some(self.constant(&node.input[2], b)?.data),
            Some(Some(_)) => {
                self.reject(node, "Conv bias must be a constant");
                return Ok(());
            }
            _ => None,
        };
        let strides = attr::ints(node, "strides").map_or(vec![1, 1], <[i64]>::to_vec);
        let groups = attr::int(node, "group").unwrap_or(1);
        if strides.len() != 2 || strides.iter().any(|&s| s < 1) || groups < 1 {
            self.reject(
                node,
                format!("strides {strides:?} / group {groups} not usable"),
            );
            return Ok(());
        }
        let (kh, kw) = (w.dims[2] as usize, w.dims[3] as usize);
        let padding = match self.pads(node, [kh, kw], x) {
            Ok(p) => p,
            Err(reason) => {
                self.reject(node, reason);
                return Ok(());
            }
        };
        let bias = if self.load_data || self.weights.is_some() {
            bias
        } else {
            None
        };
        let layer = Layer::Conv2d {
            weight,
            bias,
            stride: [strides[0] as usize, strides[1] as usize],
            padding,
            groups: groups as usize,
        };
        self.push_layer(node, layer, x)?;
        Ok(())
    }

    /// `[top, left, bottom, right]` from `pads` or `auto_pad`, sized as
    /// every engine sizes windows ([`Window`]).
    fn pads(&self, node: &NodeProto, kernel: [usize; 2], x: NodeId) -> Result<[usize; 4], String> {
        let window = Window::of(node, 2).map_err(|e| e.to_string())?;
        if window.auto_pad == AutoPad::NotSet && window.pads.iter().any(|&p| p < 0) {
            return Err(format!(
                "pads {:?} must be 4 non-negative values",
                window.pads
            ));
        }
        let mut pads = [0usize; 4];
        for axis in 0..2 {
            let extent = window
                .extent(axis, self.shapes[x][axis + 1] as i64, kernel[axis] as i64)
                .map_err(|e| e.to_string())?;
            pads[axis] = extent.pad_begin as usize;
            pads[axis + 2] = extent.pad_end as usize;
        }
        Ok(pads)
    }

    fn dense(
        &mut self,
        node: &NodeProto,
        x: NodeId,
        weight: Tensor,
        bias: Option<Vec<f32>>,
    ) -> Result<(), Error> {
        let input_features: usize = self.shapes[x].iter().product();
        if weight.shape.len() != 2 || weight.shape[1] != input_features {
            self.reject(
                node,
                format!(
                    "weight {:?} does not fit an input of {input_features} features",
                    weight.shape
                ),
            );
            return Ok(());
        }
        // A dense layer reads the flattened sample; flatten implicitly like ONNX would not, but
        // [N, F] is the only rank Gemm accepts, so the input is already flat here.
        self.push_layer(node, Layer::Dense { weight, bias }, x)?;
        Ok(())
    }

    fn gemm(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<(), Error> {
        let Some((x, b)) = activity_and_constant(inputs) else {
            self.reject(node, "Gemm needs an activity A and a constant B");
            return Ok(());
        };
        if attr::int(node, "transA").unwrap_or(0) != 0 {
            self.reject(
                node,
                "Gemm with transA = 1 (batch along columns) does not convert",
            );
            return Ok(());
        }
        if b.dims.len() != 2 {
            self.reject(node, format!("Gemm B must be 2-D, found dims {:?}", b.dims));
            return Ok(());
        }
        let alpha = attr::float(node, "alpha").unwrap_or(1.0);
        let beta = attr::float(node, "beta").unwrap_or(1.0);
        let matrix = self.constant(&node.input[1], b)?;
        let mut weight = if attr::int(node, "transB").unwrap_or(0) != 0 {
            matrix
        } else {
            transpose(&matrix)
        };
        weight.data.iter_mut().for_each(|w| *w *= alpha);
        let out_features = weight.shape[0];
        let bias = match inputs.get(2) {
            Some(Some(Value::Constant(c))) => {
                let c = self.constant(&node.input[2], c)?;
                match broadcast_bias(&c, out_features, self.load_data || self.weights.is_some()) {
                    Some(mut bias) => {
                        bias.iter_mut().for_each(|v| *v *= beta);
                        Some(bias)
                    }
                    None => {
                        self.reject(
                            node,
                            format!("Gemm C of shape {:?} is not a per-output bias", c.shape),
                        );
                        return Ok(());
                    }
                }
            }
            Some(Some(_)) => {
                self.reject(node, "Gemm C must be a constant");
                return Ok(());
            }
            _ => None,
        };
        // Without weight data (convertibility check only) there is no bias to keep.
        self.dense(node, x, weight, bias.filter(|b| !b.is_empty()))
    }

    fn matmul(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<(), Error> {
        match (inputs.first(), inputs.get(1)) {
            (Some(Some(Value::Activity(x))), Some(Some(Value::Constant(b))))
                if b.dims.len() == 2 =>
            {
                let x = *x;
                if self.shapes[x].len() != 1 {
                    self.reject(
                        node,
                        format!(
                            "MatMul of a rank-{} activity (a vector per sample expected)",
                            self.shapes[x].len() + 1
                        ),
                    );
                    return Ok(());
                }
                let matrix = self.constant(&node.input[1], b)?;
                self.dense(node, x, transpose(&matrix), None)
            }
            _ => {
                self.reject(
                    node,
                    "only MatMul of an activity by a constant 2-D matrix converts",
                );
                Ok(())
            }
        }
    }

    /// The node producing `value` if it is a weighted layer used only by this op.
    fn exclusive_weighted(&self, name: &str, id: NodeId) -> bool {
        self.uses.get(name).copied().unwrap_or(0) == 1 && self.nodes[id].layer.is_weighted()
    }

    fn add(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<(), Error> {
        let out = node.output[0].clone();
        match (inputs.first(), inputs.get(1)) {
            (Some(Some(Value::Activity(a))), Some(Some(Value::Activity(b)))) => {
                let (a, b) = (*a, *b);
                if self.shapes[a] != self.shapes[b] {
                    self.reject(
                        node,
                        format!(
                            "Add of shapes {:?} and {:?} (broadcasting does not convert)",
                            self.shapes[a], self.shapes[b]
                        ),
                    );
                    return Ok(());
                }
                self.push(
                    Node {
                        name: node_name(node),
                        layer: Layer::Add,
                        inputs: vec![a, b],
                    },
                    &out,
                )?;
            }
            (Some(Some(Value::Activity(a))), Some(Some(Value::Constant(c))))
            | (Some(Some(Value::Constant(c))), Some(Some(Value::Activity(a)))) => {
                let (a, activity_name) = (
                    *a,
                    if matches!(inputs[0], Some(Value::Activity(_))) {
                        &node.input[0]
                    } else {
                        &node.input[1]
                    },
                );
                let const_name = if activity_name == &node.input[0] {
                    &node.input[1]
                } else {
                    &node.input[0]
                };
                if !self.exclusive_weighted(activity_name, a) {
                    self.reject(node, "Add of a constant converts only as the bias of a Conv/Gemm/MatMul it directly follows");
                    return Ok(());
                }
                let c = self.constant(const_name, c)?;
                let channels = self.shapes[a][0];
                let Some(bias) =
                    broadcast_bias(&c, channels, self.load_data || self.weights.is_some())
                else {
                    self.reject(node, format!("constant of shape {:?} is not a per-channel bias for {channels} outputs", c.shape));
                    return Ok(());
                };
                match &mut self.nodes[a].layer {
                    _ if bias.is_empty() => {}
                    Layer::Dense { bias: slot, .. } | Layer::Conv2d { bias: slot, .. } => {
                        match slot {
                            Some(existing) => {
                                existing.iter_mut().zip(&bias).for_each(|(e, b)| *e += b)
                            }
                            None => *slot = Some(bias),
                        }
                    }
                    _ => {}
                }
                self.values.insert(out, Value::Activity(a));
            }
            _ => self.reject(node, "Add needs two activities, or an activity and a bias"),
        }
        Ok(())
    }

    fn batch_norm(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<(), Error> {
        let out = node.output[0].clone();
        let Some(Some(Value::Activity(x))) = inputs.first() else {
            self.reject(node, "BatchNormalization of a constant");
            return Ok(());
        };
        let x = *x;
        if !self.exclusive_weighted(&node.input[0], x) {
            self.reject(
                node,
                "BatchNormalization folds only into a Conv/Gemm/MatMul whose output it alone reads",
            );
            return Ok(());
        }
        let mut params = Vec::new();
        for i in 1..5 {
            match inputs.get(i) {
                Some(Some(Value::Constant(t))) => {
                    params.push(self.constant(&node.input[i], t)?.data)
                }
                _ => {
                    self.reject(
                        node,
                        "BatchNormalization needs constant scale, B, mean and var",
                    );
                    return Ok(());
                }
            }
        }
        let epsilon = attr::float(node, "epsilon").unwrap_or(1e-5);
        if self.load_data || self.weights.is_some() {
            let channels = self.shapes[x][0];
            if params.iter().any(|p| p.len() != channels) {
                self.reject(
                    node,
                    format!("BatchNormalization parameters must have {channels} values"),
                );
                return Ok(());
            }
            let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
            let scale: Vec<f32> = (0..channels)
                .map(|c| gamma[c] / (var[c] + epsilon).sqrt())
                .collect();
            match &mut self.nodes[x].layer {
                Layer::Dense { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
                    let per_channel = weight.data.len() / channels;
                    for (c, chunk) in weight.data.chunks_exact_mut(per_channel).enumerate() {
                        chunk.iter_mut().for_each(|w| *w *= scale[c]);
                    }
                    let old = bias.take().unwrap_or_else(|| vec![0.0; channels]);
                    *bias = Some(
                        (0..channels)
                            .map(|c| (old[c] - mean[c]) * scale[c] + beta[c])
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        self.values.insert(out, Value::Activity(x));
        Ok(())
    }

    fn pool(&mut self, node: &NodeProto, op: &str, x: Option<NodeId>) -> Result<(), Error> {
        let Some(x) = x else {
            self.reject(node, format!("{op} of a constant"));
            return Ok(());
        };
        if op == "MaxPool" && !self.max_to_avg {
            self.reject(node, MAXPOOL_REASON);
            return Ok(());
        }
        if op == "MaxPool" && node.output.len() > 1 && !node.output[1].is_empty() {
            self.reject(node, "MaxPool's indices output does not convert");
            return Ok(());
        }
        let kernel = attr::ints(node, "kernel_shape")
            .unwrap_or_default()
            .to_vec();
        if kernel.len() != 2 || self.shapes[x].len() != 3 || kernel.iter().any(|&k| k < 1) {
            self.reject(
                node,
                format!("only 2-D pooling converts (kernel_shape {kernel:?})"),
            );
            return Ok(());
        }
        if attr::int(node, "ceil_mode").unwrap_or(0) != 0 {
            self.reject(node, "ceil_mode = 1 does not convert");
            return Ok(());
        }
        if attr::ints(node, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1)) {
            self.reject(node, "dilated pooling does not convert");
            return Ok(());
        }
        let kernel = [kernel[0] as usize, kernel[1] as usize];
        let strides = attr::ints(node, "strides").map_or(vec![1, 1], <[i64]>::to_vec);
        if strides.len() != 2 || strides.iter().any(|&s| s < 1) {
            self.reject(node, format!("strides {strides:?} not usable"));
            return Ok(());
        }
        let stride = [strides[0] as usize, strides[1] as usize];
        let padding = match self.pads(node, kernel, x) {
            Ok(p) => p,
            Err(reason) => {
                self.reject(node, reason);
                return Ok(());
            }
        };
        // MaxPool -> AvgPool divides by the window cells that exist.
        let count_include_pad =
            op == "AveragePool" && attr::int(node, "count_include_pad").unwrap_or(0) != 0;
        let layer = Layer::AvgPool {
            kernel,
            stride,
            padding,
            count_include_pad,
        };
        self.push_layer(node, layer, x)?;
        Ok(())
    }

    fn reshape(&mut self, node: &NodeProto, inputs: &[Option<Value>]) -> Result<(), Error> {
        let out = node.output[0].clone();
        let Some((x, shape)) = activity_and_constant(inputs) else {
            self.reject(node, "Reshape needs an activity and a constant shape");
            return Ok(());
        };
        let target = tensor_i64(shape).unwrap_or_default();
        let current = self.shapes[x].clone();
        let features: usize = current.iter().product();
        let batch_ok = |d: i64| d == -1 || d == 0 || d == 1;
        let rest: Vec<i64> = target.iter().skip(1).copied().collect();
        let flat = target.len() == 2
            && batch_ok(target[0])
            && (rest[0] == -1 || rest[0] as usize == features);
        let same = target.len() == current.len() + 1
            && batch_ok(target[0])
            && rest
                .iter()
                .zip(&current)
                .all(|(&t, &c)| t == c as i64 || (t == 0));
        if flat {
            self.push(
                Node {
                    name: node_name(node),
                    layer: Layer::Flatten,
                    inputs: vec![x],
                },
                &out,
            )?;
        } else if same {
            self.values.insert(out, Value::Activity(x));
        } else {
            self.reject(node, format!("Reshape of {current:?} to {target:?}: only flattening to [N, {features}] converts"));
        }
        Ok(())
    }

    fn neuron_op(
        &mut self,
        node: &NodeProto,
        op: &str,
        inputs: &[Option<Value>],
    ) -> Result<(), Error> {
        let Some(&Some(Value::Activity(x))) = inputs.first() else {
            self.reject(node, format!("{op} needs an activity input"));
            return Ok(());
        };
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
            "IF" => Neuron::If {
                threshold,
                reset,
                rectify: attr::int(node, "rectify").unwrap_or(0) != 0,
            },
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
        let layer = Layer::Spiking {
            neuron,
            input_scale: attr::float(node, "input_scale").unwrap_or(1.0),
            amplitude: attr::float(node, "amplitude").unwrap_or(1.0),
            initial_membrane: attr::float(node, "initial_membrane").unwrap_or(0.0),
        };
        self.spiking = true;
        self.push_layer(node, layer, x)?;
        Ok(())
    }
}

const MAXPOOL_REASON: &str = "MaxPool has no exact spiking equivalent; convert with max_to_avg (CLI: --max-to-avg) to use average pooling";

fn is_supported(op: &str) -> bool {
    matches!(
        op,
        "Identity"
            | "Dropout"
            | "Relu"
            | "Conv"
            | "Gemm"
            | "MatMul"
            | "Add"
            | "BatchNormalization"
            | "AveragePool"
            | "MaxPool"
            | "GlobalAveragePool"
            | "Flatten"
            | "Reshape"
            | "Softmax"
            | "LogSoftmax"
            | "Constant"
    )
}

fn reason_for(op: &str) -> String {
    match op {
        "Sigmoid" | "Tanh" | "LeakyRelu" | "Elu" | "Selu" | "Gelu" | "HardSigmoid" | "Softplus"
        | "PRelu" => {
            format!("{op} is not a ReLU: a spiking neuron's rate only approximates a rectifier")
        }
        "Mul" | "Div" | "Sub" | "Pow" => format!("{op} of activities has no synaptic equivalent"),
        "LSTM" | "GRU" | "RNN" | "Attention" => {
            format!("{op}: recurrent/attention layers do not convert")
        }
        _ => format!("{op} has no spiking equivalent"),
    }
}

fn transpose(matrix: &Tensor) -> Tensor {
    let (rows, cols) = (matrix.shape[0], matrix.shape[1]);
    if matrix.data.is_empty() {
        return Tensor {
            shape: vec![cols, rows],
            data: Vec::new(),
        };
    }
    let mut data = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            data[c * rows + r] = matrix.data[r * cols + c];
        }
    }
    Tensor {
        shape: vec![cols, rows],
        data,
    }
}

/// A constant usable as a per-channel bias: `[C]`, `[1, C]`, `[C, 1, 1]`,
/// `[1, C, 1, 1]` or a scalar (broadcast).
fn broadcast_bias(c: &Tensor, channels: usize, have_data: bool) -> Option<Vec<f32>> {
    let count: usize = c.shape.iter().product();
    let non_unit: Vec<usize> = c.shape.iter().copied().filter(|&d| d != 1).collect();
    if !have_data {
        return (count == 1 || (non_unit.len() == 1 && non_unit[0] == channels)).then(Vec::new);
    }
    if count == 1 {
        return Some(vec![c.data[0]; channels]);
    }
    if non_unit.len() == 1 && non_unit[0] == channels {
        // Only the channel axis (the first non-batch one) may be non-unit.
        return Some(c.data.clone());
    }
    None
}

/// The node's first input as an activity and its second as a constant.
fn activity_and_constant(inputs: &[Option<Value>]) -> Option<(NodeId, &TensorProto)> {
    match (inputs.first(), inputs.get(1)) {
        (Some(Some(Value::Activity(x))), Some(Some(Value::Constant(c)))) => Some((*x, c)),
        _ => None,
    }
}
