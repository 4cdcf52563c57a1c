//! Writing a converted network: `.neuro` text (the Neuro language's
//! `network` block), the `.npz` weights it names, and an ONNX model whose
//! neurons are `ai.neuride.snn` ops (which `convert`/`simulate` read back).

use crate::{Error, SNN_DOMAIN};
use neuride_onnx::build::{
    self, attr_float as attr_f, attr_int as attr_i, attr_string as attr_s, float_initializer,
    opset, value_info,
};
use neuride_onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto,
};
use neuride_snn::{Layer, Network, Neuron, PoolWindow, Tensor};
use std::fmt::Write;

/// Names and provenance written into the outputs.
#[derive(Clone, Debug, Default)]
pub struct ExportInfo {
    /// The network's name in the `.neuro` file.
    pub name: String,
    /// The source model (shown in comments and metadata).
    pub source: String,
    /// The NPZ file name the `.neuro` file refers to (relative to it).
    pub npz_file: String,
    /// How it was normalised, e.g. `percentile:99.9`.
    pub normalize: String,
}

const KEYWORDS: &[&str] = &[
    "model", "weights", "dataset", "network", "convert", "input", "layer", "output", "neuron",
    "simulate", "infer", "on", "app", "sensor", "pipeline", "rule", "when", "for", "emit", "true",
    "false", "if", "lif", "leaky", "dense", "conv2d", "avgpool", "maxpool", "flatten", "add",
    "concat", "scale", "clip", "relu", "w",
];

/// Identifiers for every node: the ONNX name made a Neuro identifier, unique.
fn identifiers(net: &Network) -> Vec<String> {
    net.unique_names(&[], 2, |node| {
        let mut id: String = node
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        id = id.trim_matches('_').to_string();
        if id.is_empty()
            || id.starts_with(|c: char| c.is_ascii_digit())
            || KEYWORDS.contains(&id.as_str())
        {
            id = format!("{}_{id}", node.layer.op_name().to_lowercase())
                .trim_end_matches('_')
                .to_string();
        }
        id
    })
}

/// The weight arrays by the names the `.neuro` and ONNX outputs use
/// (`<layer>.weight`, `<layer>.bias`), PyTorch layout.
pub fn weight_arrays(net: &Network) -> Vec<(String, Tensor)> {
    let ids = identifiers(net);
    let mut arrays = Vec::new();
    let vector = |values: &Vec<f32>| Tensor {
        shape: vec![values.len()],
        data: values.clone(),
    };
    for (node, id) in net.nodes.iter().zip(&ids) {
        let bias = match &node.layer {
            Layer::Dense { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
                arrays.push((format!("{id}.weight"), weight.clone()));
                bias
            }
            Layer::Scale { scale, bias } => {
                arrays.push((format!("{id}.scale"), vector(scale)));
                bias
            }
            _ => continue,
        };
        if let Some(bias) = bias {
            arrays.push((format!("{id}.bias"), vector(bias)));
        }
    }
    arrays
}

/// The weights as `.npz` bytes (stored, float32).
pub fn npz_bytes(net: &Network) -> Result<Vec<u8>, Error> {
    let arrays = weight_arrays(net);
    let mut converted = Vec::with_capacity(arrays.len());
    for (name, tensor) in &arrays {
        let shape = tensor.shape.iter().map(|&d| d as u64).collect();
        converted.push((
            name.as_str(),
            neuride_npz::Array::from_f32(shape, &tensor.data)
                .map_err(|e| Error::Npz(e.to_string()))?,
        ));
    }
    let refs: Vec<(&str, &neuride_npz::Array<'_>)> =
        converted.iter().map(|(n, a)| (*n, a)).collect();
    neuride_npz::write_npz(&refs, neuride_npz::WriteOptions::stored())
        .map_err(|e| Error::Npz(e.to_string()))
}

fn number(value: f32) -> String {
    if value.fract() == 0.0 && value.abs() < 1e7 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

fn time(seconds: f32) -> String {
    let ms = seconds * 1000.0;
    if (ms - ms.round()).abs() < 1e-4 {
        format!("{}ms", ms.round())
    } else {
        format!("{ms}ms")
    }
}

/// The last arguments of a layer whose parameters are in the archive:
/// `, PARAM: w["ID.PARAM"]`, the bias when it has one, and `)`.
fn archive_args(id: &str, param: &str, has_bias: bool) -> String {
    let mut args = format!(", {param}: w[\"{id}.{param}\"]");
    if has_bias {
        let _ = write!(args, ", bias: w[\"{id}.bias\"]");
    }
    args + ")"
}

fn pair(values: [usize; 2]) -> String {
    if values[0] == values[1] {
        values[0].to_string()
    } else {
        format!("[{}, {}]", values[0], values[1])
    }
}

fn padding(p: [usize; 4]) -> String {
    if p.iter().all(|&v| v == p[0]) {
        p[0].to_string()
    } else {
        format!("[{}, {}, {}, {}]", p[0], p[1], p[2], p[3])
    }
}

/// A neuron parameter as both writers see it.
#[derive(Clone, Copy)]
enum Param {
    /// A number; Neuro text leaves it out when it equals the second value
    /// (its default there).
    Number(f32, Option<f32>),
    /// Seconds (Neuro writes milliseconds: `20ms`).
    Time(f32),
    /// A NIR parameter: Neuro writes it as it is, ONNX as a float.
    Wide(f64),
    Word(&'static str),
    /// A switch: Neuro writes it only when on, ONNX as 0 or 1.
    Flag(bool),
    /// A spike cap: Neuro writes it only when set, ONNX 0 for none.
    Cap(Option<u32>),
}

/// Every parameter of `neuron` by name, in the order both the Neuro call
/// and the ONNX node write them.
fn neuron_params(neuron: &Neuron) -> Vec<(&'static str, Param)> {
    let number = |value| Param::Number(value, None);
    match *neuron {
        Neuron::Lif {
            tau_rc,
            tau_ref,
            min_voltage,
        } => vec![
            ("tau_rc", Param::Time(tau_rc)),
            ("tau_ref", Param::Time(tau_ref)),
            ("min_voltage", Param::Number(min_voltage, Some(0.0))),
        ],
        Neuron::If(neuron) => vec![
            ("threshold", number(neuron.threshold)),
            ("reset", Param::Word(neuron.reset.name())),
            ("rectify", Param::Flag(neuron.rectify)),
            ("max_spikes", Param::Cap(neuron.max_spikes)),
            ("signed", Param::Flag(neuron.signed)),
        ],
        // Synaptic is a Leaky membrane fed by a synaptic current: its
        // parameters are the current's `alpha`, then the Leaky ones.
        Neuron::Leaky {
            beta,
            threshold,
            reset,
        }
        | Neuron::Synaptic {
            beta,
            threshold,
            reset,
            ..
        } => {
            let alpha = match *neuron {
                Neuron::Synaptic { alpha, .. } => Some(("alpha", number(alpha))),
                _ => None,
            };
            alpha
                .into_iter()
                .chain([
                    ("beta", number(beta)),
                    ("threshold", number(threshold)),
                    ("reset", Param::Word(reset.name())),
                ])
                .collect()
        }
        Neuron::Nir(nir) => vec![
            ("tau_mem", Param::Wide(nir.tau_mem)),
            ("tau_syn", Param::Wide(nir.tau_syn)),
            ("r", Param::Wide(nir.r)),
            ("v_leak", Param::Wide(nir.v_leak)),
            ("w_in", Param::Wide(nir.w_in)),
            ("v_threshold", number(nir.v_threshold)),
            ("v_reset", number(nir.v_reset)),
        ],
    }
}

/// The Neuro call of `neuron` on `input`, without its closing `)`. NIR's
/// neurons have no Neuro syntax of their own (a NIR network is
/// `network N = nir("file.nir")`): the call names the model and its
/// parameters, and the checker reports the unknown layer.
fn neuron_call(neuron: &Neuron, input: &str) -> String {
    let mut call = match neuron {
        Neuron::Nir(nir) => format!("nir_{}({input}", nir.model.name().to_lowercase()),
        other => format!("{}({input}", other.op_name().to_lowercase()),
    };
    for (key, param) in neuron_params(neuron) {
        let _ = match param {
            Param::Number(value, default) if default != Some(value) => {
                write!(call, ", {key}: {}", number(value))
            }
            Param::Time(seconds) => write!(call, ", {key}: {}", time(seconds)),
            Param::Wide(value) => write!(call, ", {key}: {value}"),
            Param::Word(word) => write!(call, ", {key}: {word}"),
            Param::Flag(true) => write!(call, ", {key}: true"),
            Param::Cap(Some(cap)) => write!(call, ", {key}: {cap}"),
            _ => Ok(()),
        };
    }
    call
}

/// The ONNX attribute of a neuron parameter.
fn attribute(key: &str, param: Param) -> AttributeProto {
    match param {
        Param::Number(value, _) | Param::Time(value) => attr_f(key, value),
        Param::Wide(value) => attr_f(key, value as f32),
        Param::Word(word) => attr_s(key, word),
        Param::Flag(on) => attr_i(key, on as i64),
        Param::Cap(cap) => attr_i(key, cap.map_or(0, i64::from)),
    }
}

/// The network as a `.neuro` file (DSL.md's `network NAME { ... }`).
pub fn to_neuro(net: &Network, info: &ExportInfo) -> String {
    let ids = identifiers(net);
    let shapes = net.validate().unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Spiking network converted by neuride from {} (normalize: {}).",
        info.source, info.normalize
    );
    let _ = writeln!(
        s,
        "// Its output layer is read as a membrane (non-spiking integrator): simulate with decode = membrane."
    );
    let _ = writeln!(s, "weights w = npz(\"{}\")\n", info.npz_file);
    let _ = writeln!(s, "network {} {{", info.name);
    for (index, node) in net.nodes.iter().enumerate() {
        let id = &ids[index];
        let input = node.inputs.first().map(|&i| ids[i].as_str()).unwrap_or("");
        let call = match &node.layer {
            Layer::Input { shape } => {
                let dims = shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(s, "    input {id}: f32[{dims}]");
                continue;
            }
            Layer::Dense { weight, bias } => {
                format!("dense({input}, out: {}", weight.shape[0])
                    + &archive_args(id, "weight", bias.is_some())
            }
            Layer::Conv2d {
                weight,
                bias,
                stride,
                padding: pads,
                groups,
            } => {
                let mut c = format!(
                    "conv2d({input}, out: {}, kernel: {}",
                    weight.shape[0],
                    pair([weight.shape[2], weight.shape[3]])
                );
                if *stride != [1, 1] {
                    let _ = write!(c, ", stride: {}", pair(*stride));
                }
                if *pads != [0; 4] {
                    let _ = write!(c, ", padding: {}", padding(*pads));
                }
                if *groups != 1 {
                    let _ = write!(c, ", groups: {groups}");
                }
                c + &archive_args(id, "weight", bias.is_some())
            }
            Layer::AvgPool { window, .. } | Layer::MaxPool { window } => {
                let mut c = format!(
                    "{}({input}, kernel: {}, stride: {}",
                    node.layer.op_name(),
                    pair(window.kernel),
                    pair(window.stride)
                );
                if window.padding != [0; 4] {
                    let _ = write!(c, ", padding: {}", padding(window.padding));
                    if let Layer::AvgPool {
                        count_include_pad, ..
                    } = node.layer
                    {
                        let _ = write!(c, ", count_include_pad: {count_include_pad}");
                    }
                }
                c + ")"
            }
            Layer::Flatten => format!("flatten({input})"),
            // Delays come from NIR files, never from a conversion; Neuro
            // has no delay, so a network holding one does not pass for one.
            Layer::Delay { steps } => format!("delay({input}, steps: {steps:?})"),
            // Slices too (a NIR graph's several Inputs in the one input).
            Layer::Slice { start, shape } => {
                format!("slice({input}, start: {start}, shape: {shape:?})")
            }
            Layer::Feedback { from, .. } => format!("feedback({})", ids[*from]),
            Layer::Add | Layer::Concat => format!(
                "{}({})",
                node.layer.op_name(),
                node.inputs
                    .iter()
                    .map(|&i| ids[i].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Layer::Scale { bias, .. } => {
                format!("scale({input}") + &archive_args(id, "scale", bias.is_some())
            }
            Layer::Relu => format!("relu({input})"),
            Layer::Clip { max } => format!("clip({input}, max: {})", number(*max)),
            // Only conversions are written here: their neurons have no
            // per-neuron parameters (those come from NIR files).
            Layer::Spiking {
                neuron,
                scaling,
                per_neuron: _,
            } => {
                let mut c = neuron_call(neuron, input);
                for (name, value, neutral) in scaling.named() {
                    if value != neutral {
                        let _ = write!(c, ", {name}: {}", number(value));
                    }
                }
                c + ")"
            }
        };
        let keyword = if index == net.output {
            "output"
        } else {
            "layer"
        };
        let shape = shapes
            .get(index)
            .map(|s| {
                format!(
                    "  // [{}]",
                    s.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .unwrap_or_default();
        let _ = writeln!(s, "    {keyword} {id} = {call}{shape}");
    }
    s.push_str("}\n");
    s
}

fn initializer(name: &str, tensor: &Tensor) -> TensorProto {
    float_initializer(name, &tensor.shape, &tensor.data)
}

/// A weighted layer's `<id>.weight` and (when it has one) `<id>.bias`
/// initializers, with the names the node takes them under, in input order.
fn weight_initializers(
    id: &str,
    weight: &Tensor,
    bias: Option<&[f32]>,
) -> Vec<(String, TensorProto)> {
    let weight_name = format!("{id}.weight");
    let mut out = vec![(weight_name.clone(), initializer(&weight_name, weight))];
    if let Some(bias) = bias {
        let bias_name = format!("{id}.bias");
        let tensor = float_initializer(&bias_name, &[bias.len()], bias);
        out.push((bias_name, tensor));
    }
    out
}

fn attr_ints(name: &str, values: &[usize]) -> AttributeProto {
    build::attr_ints(name, values.iter().map(|&v| v as i64))
}

/// A pool's window as ONNX's AveragePool and MaxPool both write it.
fn window_attributes(window: &PoolWindow) -> [AttributeProto; 3] {
    [
        attr_ints("kernel_shape", &window.kernel),
        attr_ints("strides", &window.stride),
        attr_ints("pads", &window.padding),
    ]
}

/// The network as an ONNX model: standard ops for synapses and pooling,
/// `ai.neuride.snn` ops (`IF`, `LIF`, `Leaky`, `Synaptic`) for neurons, with
/// their parameters as attributes. Metadata says how to read the output.
pub fn to_onnx(net: &Network, info: &ExportInfo) -> ModelProto {
    let ids = identifiers(net);
    let shapes = net.validate().unwrap_or_default();
    let mut nodes = Vec::new();
    let mut initializers = Vec::new();
    let tensor_name = |i: usize| {
        if i == 0 {
            ids[0].clone()
        } else {
            format!("{}_out", ids[i])
        }
    };
    let output_name = if net.output == 0 {
        ids[0].clone()
    } else {
        tensor_name(net.output)
    };
    for (index, node) in net.nodes.iter().enumerate().skip(1) {
        let id = &ids[index];
        let mut inputs: Vec<String> = node.inputs.iter().map(|&i| tensor_name(i)).collect();
        // Gemm and Conv read their weight and bias as initializers after
        // the activity.
        if let Layer::Dense { weight, bias } | Layer::Conv2d { weight, bias, .. } = &node.layer {
            for (name, tensor) in weight_initializers(id, weight, bias.as_deref()) {
                inputs.push(name);
                initializers.push(tensor);
            }
        }
        let (op, domain, attributes): (&str, &str, Vec<AttributeProto>) = match &node.layer {
            Layer::Input { .. } => continue,
            Layer::Dense { .. } => ("Gemm", "", vec![attr_i("transB", 1)]),
            Layer::Conv2d {
                weight,
                stride,
                padding,
                groups,
                ..
            } => {
                let attrs = vec![
                    attr_ints("kernel_shape", &weight.shape[2..4]),
                    attr_ints("strides", stride),
                    attr_ints("pads", padding),
                    attr_i("group", *groups as i64),
                ];
                ("Conv", "", attrs)
            }
            Layer::AvgPool {
                window,
                count_include_pad,
            } => (
                "AveragePool",
                "",
                window_attributes(window)
                    .into_iter()
                    .chain([attr_i("count_include_pad", *count_include_pad as i64)])
                    .collect(),
            ),
            Layer::MaxPool { window } => ("MaxPool", "", window_attributes(window).to_vec()),
            Layer::Flatten => ("Flatten", "", vec![attr_i("axis", 1)]),
            Layer::Delay { steps } => {
                let steps: Vec<usize> = steps.iter().map(|&s| s as usize).collect();
                ("Delay", SNN_DOMAIN, vec![attr_ints("steps", &steps)])
            }
            Layer::Slice { start, shape } => (
                "Slice",
                SNN_DOMAIN,
                vec![attr_i("start", *start as i64), attr_ints("shape", shape)],
            ),
            Layer::Feedback { from, .. } => {
                ("Feedback", SNN_DOMAIN, vec![attr_i("from", *from as i64)])
            }
            Layer::Add => ("Add", "", vec![]),
            Layer::Concat => ("Concat", "", vec![attr_i("axis", 1)]),
            Layer::Relu => ("Relu", "", vec![]),
            Layer::Clip { max } => {
                for (suffix, value) in [("min", 0.0), ("max", *max)] {
                    let name = format!("{id}.{suffix}");
                    initializers.push(initializer(
                        &name,
                        &Tensor {
                            shape: vec![],
                            data: vec![value],
                        },
                    ));
                    inputs.push(name);
                }
                ("Clip", "", vec![])
            }
            Layer::Scale { scale, bias } => {
                // Mul by [C, 1, ...] (then Add the bias): broadcast over the channels.
                let input_rank = shapes.get(node.inputs[0]).map_or(1, Vec::len);
                let per_channel = |values: &Vec<f32>| Tensor {
                    shape: std::iter::once(values.len())
                        .chain(std::iter::repeat_n(1, input_rank.saturating_sub(1)))
                        .collect(),
                    data: values.clone(),
                };
                inputs.push(format!("{id}.scale"));
                initializers.push(initializer(&format!("{id}.scale"), &per_channel(scale)));
                let Some(bias) = bias else {
                    nodes.push(plain_node(id, "Mul", inputs, tensor_name(index), vec![]));
                    continue;
                };
                let scaled = format!("{id}_scaled");
                nodes.push(plain_node(id, "Mul", inputs, scaled.clone(), vec![]));
                initializers.push(initializer(&format!("{id}.bias"), &per_channel(bias)));
                nodes.push(plain_node(
                    &format!("{id}_bias"),
                    "Add",
                    vec![scaled, format!("{id}.bias")],
                    tensor_name(index),
                    vec![],
                ));
                continue;
            }
            // As in `to_neuro`: no per-neuron parameters in a conversion.
            Layer::Spiking {
                neuron,
                scaling,
                per_neuron: _,
            } => {
                let mut attrs: Vec<AttributeProto> = scaling
                    .named()
                    .iter()
                    .map(|&(name, value, _)| attr_f(name, value))
                    .collect();
                if let Neuron::Nir(nir) = neuron {
                    attrs.push(attr_s("model", nir.model.name()));
                }
                attrs.extend(
                    neuron_params(neuron)
                        .into_iter()
                        .map(|(key, param)| attribute(key, param)),
                );
                let op = match neuron {
                    Neuron::Nir(_) => "NirNeuron",
                    other => other.op_name(),
                };
                (op, SNN_DOMAIN, attrs)
            }
        };
        let mut proto = plain_node(id, op, inputs, tensor_name(index), attributes);
        if !domain.is_empty() {
            proto.domain = Some(domain.into());
        }
        nodes.push(proto);
    }
    let input_dims: Vec<Option<usize>> = std::iter::once(None)
        .chain(net.input_shape().iter().map(|&d| Some(d)))
        .collect();
    let output_dims: Vec<Option<usize>> = std::iter::once(None)
        .chain(
            shapes
                .get(net.output)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(Some),
        )
        .collect();
    let meta = |k: &str, v: &str| StringStringEntryProto {
        key: Some(k.into()),
        value: Some(v.into()),
    };
    ModelProto {
        ir_version: Some(8),
        producer_name: Some("neuride".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        opset_import: vec![opset("", 17), opset(SNN_DOMAIN, 1)],
        metadata_props: vec![
            meta("neuride.kind", "snn"),
            meta("neuride.source", &info.source),
            meta("neuride.normalize", &info.normalize),
            meta(
                "neuride.decode",
                if matches!(
                    net.nodes.get(net.output).map(|n| &n.layer),
                    Some(Layer::Spiking { .. })
                ) {
                    "count"
                } else {
                    "membrane"
                },
            ),
            meta("neuride.encode", "current"),
        ],
        graph: Some(GraphProto {
            name: Some(info.name.clone()),
            node: nodes,
            initializer: initializers,
            input: vec![value_info(&ids[0], &input_dims)],
            output: vec![value_info(&output_name, &output_dims)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn plain_node(
    name: &str,
    op: &str,
    inputs: Vec<String>,
    output: String,
    attributes: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        name: Some(name.into()),
        op_type: Some(op.into()),
        input: inputs,
        output: vec![output],
        attribute: attributes,
        ..Default::default()
    }
}

/// [`to_onnx`] encoded as protobuf bytes (what `OUT.snn.onnx` holds).
pub fn onnx_bytes(net: &Network, info: &ExportInfo) -> Vec<u8> {
    use prost::Message;
    to_onnx(net, info).encode_to_vec()
}
