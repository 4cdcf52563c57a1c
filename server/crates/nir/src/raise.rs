//! A `neuride_snn` network as a NIR graph another tool can run.
//!
//! Dense layers become Affine (Linear without bias), convolutions Conv2d
//! (a depthwise one with kernels of ones and no bias SumPool2d), average
//! pools AvgPool2d, flatten Flatten, an add layer the edges of its inputs
//! into each consumer (NIR sums what comes in). Neurons become the NIR
//! neuron their equations match at the export's `dt` (docs/nir.md):
//! - snnTorch's Leaky: LIF with `τ = dt/(1-β)`, `R = τ/dt`, `v_leak = 0`
//!   (snnTorch's own `export_to_nir`); β = 1: IF with `R = 1/dt`;
//! - snnTorch's Synaptic: CubaLIF with `τ_syn = dt/(1-α)`, `w_in = τ_syn/dt`;
//! - the IF: IF with `R = 1/dt`; Nengo's LIF: LIF with `τ = τ_rc`, `R = 1`;
//! - NIR neurons: themselves.
//!
//! The input scale goes into `R` (`w_in` for current-based neurons), a
//! spike amplitude other than 1 into a Scale node after the neuron. What
//! NIR cannot say (subtract reset, `v >= θ` where NIR fires at `v > θ`,
//! several spikes per step, a starting membrane, Nengo's refractory
//! period) is listed in [`Raised::notes`] with what another tool will do,
//! and the exact layer is kept in the node's metadata (`neuride`, JSON), so
//! neuride reads its own file back exactly ([`crate::lower`]).

use crate::graph::{Array, Document, Edge, Graph, Node, Param};
use neuride_snn::neuron::{NirModel, NirNeuron};
use neuride_snn::{IfNeuron, Layer, Network, Neuron, PoolWindow, Reset, Scaling};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Metadata key of a neuron node's exact neuride layer.
pub const META_KEY: &str = "neuride";
/// Metadata value of a Scale node that carries a neuron's spike amplitude.
pub const AMPLITUDE_ROLE: &str = "amplitude";
/// A time constant standing for "no leak" (β or α of 1).
const NO_LEAK_TAU: f64 = 1e9;

/// The exact layer of a neuron node, as stored in its metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeurideMeta {
    /// The step the NIR parameters were computed for (seconds).
    pub dt: f64,
    pub neuron: Neuron,
    #[serde(flatten)]
    pub scaling: Scaling,
}

impl NeurideMeta {
    pub fn layer(&self) -> Layer {
        Layer::Spiking {
            neuron: self.neuron,
            scaling: self.scaling,
            per_neuron: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RaiseOptions {
    /// The step (seconds) step-based neurons (Leaky, Synaptic, IF) are
    /// expressed for: snnTorch's exporter uses 1e-4, Norse 1e-3.
    pub dt: f64,
}

impl Default for RaiseOptions {
    fn default() -> Self {
        RaiseOptions {
            dt: crate::DEFAULT_DT,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Raised {
    pub document: Document,
    /// Per node, what NIR does not say and what another tool will do.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct RaiseError(pub Vec<String>);

/// `net` as a NIR document.
pub fn raise(net: &Network, opts: &RaiseOptions) -> Result<Raised, RaiseError> {
    let shapes = net
        .validate()
        .map_err(|e| RaiseError(vec![e.to_string()]))?;
    let names = nir_names(net);
    let mut graph = Graph::default();
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    let split = split_input(net, &shapes[0], &names, &mut notes);
    // NIR sources of each network node's value: itself, or for an add
    // layer (which NIR spells as edges) the sources of its inputs.
    let mut sources: Vec<Vec<String>> = Vec::with_capacity(net.nodes.len());
    for (index, node) in net.nodes.iter().enumerate() {
        let name = names[index].clone();
        let input_sources: Vec<String> = node
            .inputs
            .iter()
            .flat_map(|&i| sources[i].clone())
            .collect();
        let edge_from = |graph: &mut Graph, to: &str| {
            for source in &input_sources {
                graph.edges.push(Edge::new(source.clone(), to));
            }
        };
        let shape = &shapes[index];
        let input_shape = node.inputs.first().map(|&i| shapes[i].as_slice());
        let made = match &node.layer {
            // Carried in slices, each a NIR Input of its own.
            Layer::Input { .. } if split => {
                sources.push(Vec::new());
                continue;
            }
            Layer::Input { shape } => {
                Ok(Some(Node::new(&name, "Input").with("shape", ints(shape))))
            }
            Layer::Slice { shape, .. } if split && node.inputs == [0] => {
                Ok(Some(Node::new(&name, "Input").with("shape", ints(shape))))
            }
            // A recurrent edge: the sources of `from`, once they are known
            // (it comes later); a placeholder until then.
            Layer::Feedback { from, .. } => {
                sources.push(vec![feedback_placeholder(*from)]);
                continue;
            }
            Layer::Add => {
                let unique: HashSet<&String> = input_sources.iter().collect();
                if unique.len() != input_sources.len() {
                    errors.push(format!(
                        "'{}': an add of a value to itself has no NIR form (edges cannot repeat)",
                        node.name
                    ));
                }
                sources.push(input_sources.clone());
                continue;
            }
            Layer::Spiking {
                neuron,
                scaling,
                per_neuron,
            } => {
                let layer = &node.layer;
                match neurons_node(&name, layer, opts.dt, shape) {
                    Ok(mut nir_node) => {
                        let exact =
                            matches!(neuron, Neuron::Nir(_)) && *scaling == Scaling::default();
                        if !exact {
                            notes.extend(differences(&node.name, layer));
                        }
                        // The metadata holds one neuron: per-neuron values
                        // are in the node's arrays only.
                        if !exact && per_neuron.is_none() {
                            let meta = NeurideMeta {
                                dt: opts.dt,
                                neuron: *neuron,
                                scaling: *scaling,
                            };
                            let json = serde_json::to_string(&meta).unwrap_or_default();
                            nir_node.metadata.push((META_KEY.into(), Param::text(json)));
                        }
                        edge_from(&mut graph, &name);
                        graph.nodes.push(nir_node);
                        let amplitude = scaling.amplitude;
                        if amplitude != 1.0 {
                            let scale_name = format!("{name}.amplitude");
                            let count = shape.iter().product::<usize>();
                            let mut scale = Node::new(&scale_name, "Scale").with(
                                "scale",
                                Param::Array(Array::f32(shape.clone(), &vec![amplitude; count])),
                            );
                            scale
                                .metadata
                                .push((META_KEY.into(), Param::text(AMPLITUDE_ROLE)));
                            graph.nodes.push(scale);
                            graph.edges.push(Edge::new(&name, &scale_name));
                            sources.push(vec![scale_name]);
                        } else {
                            sources.push(vec![name]);
                        }
                        continue;
                    }
                    Err(e) => Err(e),
                }
            }
            other => layer_node(&name, other, input_shape.unwrap_or(&[]), opts.dt),
        };
        match made {
            Ok(Some(nir_node)) => {
                edge_from(&mut graph, &name);
                graph.nodes.push(nir_node);
                sources.push(vec![name]);
            }
            Ok(None) => sources.push(input_sources),
            Err(message) => {
                errors.push(format!("'{}': {message}", node.name));
                sources.push(vec![name]);
            }
        }
    }
    if !errors.is_empty() {
        return Err(RaiseError(errors));
    }
    // Recurrent edges: from what feeds back, now that every node is named.
    let edges = std::mem::take(&mut graph.edges);
    for edge in edges {
        match (0..net.nodes.len()).find(|&i| edge.from == feedback_placeholder(i)) {
            Some(from) => {
                for source in &sources[from] {
                    graph.edges.push(Edge::new(source.clone(), edge.to.clone()));
                }
            }
            None => graph.edges.push(edge),
        }
    }
    let output = unique_name("output", &names);
    graph
        .nodes
        .push(Node::new(&output, "Output").with("shape", ints(&shapes[net.output])));
    for source in &sources[net.output] {
        graph.edges.push(Edge::new(source.clone(), &output));
    }
    graph.metadata.push((
        "neuride_dt".into(),
        Param::Array(Array::f64(Vec::new(), vec![opts.dt])),
    ));
    Ok(Raised {
        document: Document {
            version: crate::NIR_VERSION.to_owned(),
            graph,
        },
        notes,
    })
}

/// Whether the network's input carries several inputs: every node reading
/// it is a slice, and the slices cover its values once, one after another
/// (what [`crate::lower`] makes of a graph with several Inputs). Each is
/// then written as an Input. A note says when their names (the order NIR
/// readers list them in, and `lower` concatenates them in) do not follow
/// their order in the input.
fn split_input(net: &Network, input: &[usize], names: &[String], notes: &mut Vec<String>) -> bool {
    let mut slices: Vec<(usize, usize, usize)> = Vec::new();
    for (index, node) in net.nodes.iter().enumerate().skip(1) {
        if !node.inputs.contains(&0) {
            continue;
        }
        match &node.layer {
            Layer::Slice { start, shape } if node.inputs.len() == 1 => {
                slices.push((*start, shape.iter().product(), index))
            }
            _ => return false,
        }
    }
    slices.sort();
    let mut end = 0;
    for &(start, size, _) in &slices {
        if start != end {
            return false;
        }
        end += size;
    }
    if slices.is_empty() || end != input.iter().product::<usize>() {
        return false;
    }
    if slices.windows(2).any(|w| names[w[0].2] > names[w[1].2]) {
        let order: Vec<&str> = slices.iter().map(|s| names[s.2].as_str()).collect();
        notes.push(format!(
            "the inputs {} are written as NIR Inputs of those names; read back, their samples are concatenated in the order of the names, not this one",
            order.join(", ")
        ));
    }
    true
}

/// NIR node names for the network's nodes: no `/` (an HDF5 path separator),
/// unique, and `output` kept free for the Output node.
fn nir_names(net: &Network) -> Vec<String> {
    net.unique_names(&["output"], 1, |node| {
        let base = node.name.replace('/', "_");
        if base.is_empty() || base == "." || base == ".." {
            node.layer.op_name().to_owned()
        } else {
            base
        }
    })
}

fn unique_name(base: &str, names: &[String]) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while names.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn ints(values: &[usize]) -> Param {
    Param::Array(Array::ints(
        &values.iter().map(|&v| v as i64).collect::<Vec<_>>(),
    ))
}

/// Every per-neuron parameter of `node` as an array of the layer's shape.
fn shaped(mut node: Node, shape: &[usize]) -> Node {
    let count: usize = shape.iter().product();
    for (_, param) in node.params.iter_mut() {
        if let Param::Array(array) = param
            && array.shape.is_empty()
        {
            *array = Array::f64(shape.to_vec(), vec![array.values[0]; count]);
        }
    }
    node
}

/// Stands for the NIR sources of network node `from` in edges written
/// before `from` is (a recurrent edge); replaced once every node is written.
fn feedback_placeholder(from: usize) -> String {
    format!("\u{0}feedback {from}")
}

/// The NIR neuron node for a spiking layer of per-sample shape `shape` at
/// `dt`: its parameters arrays of that shape, one value per neuron.
fn neurons_node(name: &str, layer: &Layer, dt: f64, shape: &[usize]) -> Result<Node, String> {
    let Layer::Spiking {
        per_neuron: Some(neurons),
        scaling,
        ..
    } = layer
    else {
        return neuron_node(name, layer, dt).map(|node| shaped(node, shape));
    };
    let each = neurons
        .iter()
        .map(|&nir| {
            let one = Layer::Spiking {
                neuron: Neuron::Nir(nir),
                scaling: Scaling {
                    input_scale: scaling.input_scale,
                    ..Scaling::default()
                },
                per_neuron: None,
            };
            neuron_node(name, &one, dt)
        })
        .collect::<Result<Vec<Node>, String>>()?;
    let Some(first) = each.first() else {
        return Err("a layer of no neurons".into());
    };
    let mut node = first.clone();
    for (key, param) in node.params.iter_mut() {
        if matches!(param, Param::Array(array) if array.shape.is_empty()) {
            let values = each
                .iter()
                .map(|n| match n.param(key) {
                    Some(Param::Array(array)) => array.values.first().copied().unwrap_or(0.0),
                    _ => 0.0,
                })
                .collect();
            *param = Param::Array(Array::f64(shape.to_vec(), values));
        }
    }
    Ok(node)
}

/// The NIR neuron node (scalar parameters) for a spiking layer at `dt`.
pub fn neuron_node(name: &str, layer: &Layer, dt: f64) -> Result<Node, String> {
    let Layer::Spiking {
        neuron, scaling, ..
    } = layer
    else {
        return Err("not a layer of neurons".into());
    };
    let scale = scaling.input_scale as f64;
    let nir = match *neuron {
        Neuron::Nir(nir) => {
            let mut nir = nir;
            if nir.model.has_synapse() {
                nir.w_in *= scale;
            } else if nir.model == NirModel::Threshold {
                if scale <= 0.0 {
                    return Err("a Threshold with an input scale <= 0".into());
                }
                nir.v_threshold = (nir.v_threshold as f64 / scale) as f32;
            } else {
                nir.r *= scale;
            }
            nir
        }
        Neuron::Leaky {
            beta, threshold, ..
        } => {
            let beta = (beta as f64).clamp(0.0, 1.0);
            if beta >= 1.0 {
                NirNeuron {
                    r: scale / dt,
                    v_threshold: threshold,
                    ..NirNeuron::new(NirModel::If)
                }
            } else {
                let tau = dt / (1.0 - beta);
                NirNeuron {
                    tau_mem: tau,
                    r: scale * tau / dt,
                    v_threshold: threshold,
                    ..NirNeuron::new(NirModel::Lif)
                }
            }
        }
        Neuron::Synaptic {
            alpha,
            beta,
            threshold,
            ..
        } => {
            let tau = |k: f32| {
                let k = (k as f64).clamp(0.0, 1.0);
                if k >= 1.0 {
                    NO_LEAK_TAU
                } else {
                    dt / (1.0 - k)
                }
            };
            let (tau_syn, tau_mem) = (tau(alpha), tau(beta));
            NirNeuron {
                tau_syn,
                tau_mem,
                w_in: scale * tau_syn / dt,
                r: tau_mem / dt,
                v_threshold: threshold,
                ..NirNeuron::new(NirModel::CubaLif)
            }
        }
        Neuron::If(IfNeuron { threshold, .. }) => NirNeuron {
            r: scale / dt,
            v_threshold: threshold,
            ..NirNeuron::new(NirModel::If)
        },
        Neuron::Lif { tau_rc, .. } => NirNeuron {
            tau_mem: tau_rc as f64,
            r: scale,
            v_threshold: 1.0,
            ..NirNeuron::new(NirModel::Lif)
        },
    };
    Ok(nir_node(name, &nir))
}

fn nir_node(name: &str, nir: &NirNeuron) -> Node {
    let value = |v: f64| Param::Array(Array::f64(Vec::new(), vec![v]));
    let mut node = Node::new(name, nir.model.name());
    match nir.model {
        NirModel::Threshold => return node.with("threshold", value(nir.v_threshold as f64)),
        NirModel::I | NirModel::If => node = node.with("r", value(nir.r)),
        NirModel::Li | NirModel::Lif => {
            node = node
                .with("tau", value(nir.tau_mem))
                .with("r", value(nir.r))
                .with("v_leak", value(nir.v_leak));
        }
        NirModel::CubaLi | NirModel::CubaLif => {
            node = node
                .with("tau_syn", value(nir.tau_syn))
                .with("tau_mem", value(nir.tau_mem))
                .with("r", value(nir.r))
                .with("v_leak", value(nir.v_leak))
                .with("w_in", value(nir.w_in));
        }
    }
    if nir.model.is_spiking() {
        node = node
            .with("v_threshold", value(nir.v_threshold as f64))
            .with("v_reset", value(nir.v_reset as f64));
    }
    node
}

/// What NIR's node does not say about a spiking layer, and what another
/// tool does instead.
fn differences(name: &str, layer: &Layer) -> Vec<String> {
    let Layer::Spiking {
        neuron, scaling, ..
    } = layer
    else {
        return Vec::new();
    };
    let Scaling {
        amplitude,
        initial_membrane,
        ..
    } = scaling;
    let mut notes = Vec::new();
    let reset = match neuron {
        Neuron::If(IfNeuron { reset, .. })
        | Neuron::Leaky { reset, .. }
        | Neuron::Synaptic { reset, .. } => Some(*reset),
        _ => None,
    };
    if reset == Some(Reset::Subtract) {
        notes.push(format!(
            "'{name}': subtract reset has no NIR form: written with v_reset = 0, so snnTorch, Norse and hardware reset to zero (spike counts drop for inputs above threshold); neuride reads the exact layer back from metadata.neuride"
        ));
    }
    match neuron {
        Neuron::If(_) => notes.push(format!(
            "'{name}': neuride's IF fires at v >= threshold (several spikes per step with subtract reset); NIR's IF fires once at v > v_threshold"
        )),
        Neuron::Lif { tau_ref, .. } if *tau_ref > 0.0 => notes.push(format!(
            "'{name}': Nengo's LIF refractory period ({tau_ref} s) and exact zero-order-hold update have no NIR form: written as NIR's LIF (Euler, no refractory period)"
        )),
        Neuron::Synaptic {
            reset: Reset::Zero, ..
        } => notes.push(format!(
            "'{name}': snnTorch's Synaptic zero reset clears the whole step after a spike; NIR's CubaLIF sets v = v_reset and adds the step's input"
        )),
        _ => {}
    }
    if *initial_membrane != 0.0 {
        notes.push(format!(
            "'{name}': starts at {initial_membrane} x threshold; NIR has no starting state (other tools start at v_leak = 0)"
        ));
    }
    if *amplitude != 1.0 {
        notes.push(format!(
            "'{name}': spikes of {amplitude} are written as 1-spikes followed by a Scale node"
        ));
    }
    notes
}

/// A non-neuron layer as a NIR node (`None`: it moves no data in NIR).
fn layer_node(name: &str, layer: &Layer, input: &[usize], dt: f64) -> Result<Option<Node>, String> {
    let floats = |shape: &[usize], data: &[f32]| Param::Array(Array::f32(shape.to_vec(), data));
    match layer {
        Layer::Dense { weight, bias } => {
            let node = match bias {
                Some(b) => Node::new(name, "Affine")
                    .with("weight", floats(&weight.shape, &weight.data))
                    .with("bias", floats(&[b.len()], b)),
                None => {
                    Node::new(name, "Linear").with("weight", floats(&weight.shape, &weight.data))
                }
            };
            Ok(Some(node))
        }
        Layer::Conv2d {
            weight,
            bias,
            stride,
            padding,
            groups,
        } => {
            symmetric(padding, "Conv2d")?;
            let channels = weight.shape[0];
            let is_sum_pool = bias.is_none()
                && *groups == channels
                && weight.shape[1] == 1
                && input.first() == Some(&channels)
                && weight.data.iter().all(|&w| w == 1.0);
            let pair = |v: [usize; 2]| ints(&v);
            if is_sum_pool {
                return Ok(Some(
                    Node::new(name, "SumPool2d")
                        .with("kernel_size", pair([weight.shape[2], weight.shape[3]]))
                        .with("stride", pair(*stride))
                        .with("padding", pair([padding[0], padding[1]])),
                ));
            }
            let zeros = vec![0.0; channels];
            let bias = bias.as_deref().unwrap_or(&zeros);
            Ok(Some(
                Node::new(name, "Conv2d")
                    .with("weight", floats(&weight.shape, &weight.data))
                    .with("bias", floats(&[channels], bias))
                    .with("stride", pair(*stride))
                    .with("padding", pair([padding[0], padding[1]]))
                    .with("dilation", pair([1, 1]))
                    .with("groups", Param::Array(Array::scalar_int(*groups as i64)))
                    .with("input_shape", ints(input.get(1..).unwrap_or(&[]))),
            ))
        }
        Layer::AvgPool {
            window:
                PoolWindow {
                    kernel,
                    stride,
                    padding,
                },
            count_include_pad,
        } => {
            symmetric(padding, "AvgPool2d")?;
            if !count_include_pad && padding.iter().any(|&p| p > 0) {
                return Err(
                    "an average over padded windows that leaves the padding out has no NIR form"
                        .into(),
                );
            }
            Ok(Some(
                Node::new(name, "AvgPool2d")
                    .with("kernel_size", ints(kernel))
                    .with("stride", ints(stride))
                    .with("padding", ints(&padding[..2])),
            ))
        }
        Layer::Flatten => Ok(Some(
            Node::new(name, "Flatten")
                .with("start_dim", Param::Array(Array::scalar_int(0)))
                .with("end_dim", Param::Array(Array::scalar_int(-1)))
                .with("input_type", ints(input)),
        )),
        Layer::Scale { scale, bias: None } => {
            // NIR scales element by element: each channel's factor repeated
            // over the channel's values.
            let count: usize = input.iter().product();
            let per_channel = count / scale.len().max(1);
            let values: Vec<f32> = scale
                .iter()
                .flat_map(|&s| std::iter::repeat_n(s, per_channel))
                .collect();
            Ok(Some(
                Node::new(name, "Scale").with("scale", floats(input, &values)),
            ))
        }
        // NIR's Scale has no bias: `x * s + b` per channel is a depthwise
        // 1x1 convolution with a bias for images, and an Affine with a
        // diagonal weight for vectors (exactly the same sums).
        Layer::Scale {
            scale,
            bias: Some(bias),
        } => match *input {
            [channels, _, _] => Ok(Some(
                Node::new(name, "Conv2d")
                    .with("weight", floats(&[channels, 1, 1, 1], scale))
                    .with("bias", floats(&[channels], bias))
                    .with("stride", ints(&[1, 1]))
                    .with("padding", ints(&[0, 0]))
                    .with("dilation", ints(&[1, 1]))
                    .with("groups", Param::Array(Array::scalar_int(channels as i64)))
                    .with("input_shape", ints(&input[1..])),
            )),
            [features] => {
                let mut weight = vec![0.0; features * features];
                for (i, &s) in scale.iter().enumerate() {
                    weight[i * features + i] = s;
                }
                Ok(Some(
                    Node::new(name, "Affine")
                        .with("weight", floats(&[features, features], &weight))
                        .with("bias", floats(&[features], bias)),
                ))
            }
            _ => Err(format!(
                "a scale with a bias over {input:?}: NIR has no bias for Scale, and neuride writes it for [C, H, W] or [F] only"
            )),
        },
        // Delays in seconds: the steps at the export's `dt`.
        Layer::Delay { steps } => Ok(Some(Node::new(name, "Delay").with(
            "delay",
            Param::Array(Array::f64(
                input.to_vec(),
                steps.iter().map(|&s| s as f64 * dt).collect(),
            )),
        ))),
        Layer::Slice { start, shape } => Err(format!(
            "a slice of values {start}..{} has no NIR form (NIR writes the slices that split the network's input into Inputs, and no other)",
            start + shape.iter().product::<usize>()
        )),
        other => Err(format!(
            "{} layers have no NIR node (NIR has no max pooling, rectifiers or concatenation)",
            other.op_name()
        )),
    }
}

/// NIR's `padding` is one value per axis, on both sides: `padding` (top,
/// left, bottom, right) must be symmetric for `op` to say it.
fn symmetric(padding: &[usize; 4], op: &str) -> Result<(), String> {
    if padding[0] != padding[2] || padding[1] != padding[3] {
        return Err(format!(
            "padding {padding:?} is not the same on both sides, which NIR's {op} cannot say"
        ));
    }
    Ok(())
}
