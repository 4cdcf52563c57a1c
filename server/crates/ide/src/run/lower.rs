//! A written network (`network NAME { input ... layer ... output ... }`)
//! lowered to the simulator's [`Network`]: one node per entry in file order
//! (the checker guarantees a name is defined before it is used, so file order
//! is a topological order), the input first, weights read from the archives
//! of `weights` items by key. Layouts are PyTorch's, as the language says:
//! `dense` weight `[out, in]`, `conv2d` weight `[out, in/groups, KH, KW]`
//! over `[C, H, W]`, pooling stride defaulting to the kernel, padding
//! `[top, left, bottom, right]`; `add` and `concat` read all their inputs.

use super::data::Archives;
use super::settings::{self, CallView};
use super::{RunError, item_path};
use crate::neuro::NeuroAnalysis;
use neuride_dsl::syntax::ast::{DimValue, EntryKind, Expr, ExprKind, ItemKind};
use neuride_snn::{Layer, Network, Node, NodeId, PoolWindow, Scaling, Tensor};
use std::collections::HashMap;

pub(crate) struct Lowered {
    pub network: Network,
    /// The neuron kinds used, in order of first use (`lif`, `if`, ...).
    pub neurons: Vec<String>,
    pub notes: Vec<String>,
}

/// Lowers written network `item`; `sample_shape` is the dataset's per-sample
/// shape, which fills in symbolic input dimensions (`f32[n]`).
pub(crate) fn lower(
    neuro: &NeuroAnalysis,
    item: usize,
    sample_shape: &[usize],
    archives: &mut Archives,
) -> Result<Lowered, RunError> {
    let network_item = &neuro.parse.ast.items[item];
    let network_name = network_item.label();
    let mut nodes: Vec<Node> = Vec::new();
    let mut ids: HashMap<&str, NodeId> = HashMap::new();
    let mut output: Option<NodeId> = None;
    let mut outputs = Vec::new();
    let mut neurons: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    let unsupported =
        |message: String| RunError::Unsupported(format!("network `{network_name}`: {message}"));
    for entry in network_item.entries() {
        let Some(name) = &entry.name else { continue };
        // One input, then the layers: the simulator runs networks with one input.
        match (entry.kind, nodes.is_empty()) {
            (EntryKind::Input, false) => {
                return Err(unsupported(format!(
                    "expected one input before every layer, found input `{}` after them (the simulator runs networks with one input)",
                    name.text
                )));
            }
            (EntryKind::Layer | EntryKind::Output, true) => {
                return Err(unsupported(format!(
                    "layer `{}` comes before the network's input",
                    name.text
                )));
            }
            _ => {}
        }
        match entry.kind {
            EntryKind::Input => {
                let ty = entry
                    .ty
                    .as_ref()
                    .ok_or_else(|| unsupported(format!("input `{}` has no type", name.text)))?;
                let symbolic_from_data = ty.dims.len() == sample_shape.len();
                let mut shape = Vec::with_capacity(ty.dims.len());
                for (axis, dim) in ty.dims.iter().enumerate() {
                    shape.push(match &dim.value {
                        DimValue::Known(value) => *value as usize,
                        DimValue::Symbolic(_) if symbolic_from_data => sample_shape[axis],
                        _ => {
                            return Err(unsupported(format!(
                                "input `{}`: dimension {} is not a number the data can fix",
                                name.text,
                                axis + 1
                            )));
                        }
                    });
                }
                ids.insert(&name.text, 0);
                nodes.push(Node {
                    name: name.text.clone(),
                    layer: Layer::Input { shape },
                    inputs: Vec::new(),
                });
            }
            EntryKind::Layer | EntryKind::Output => {
                let value = entry
                    .value
                    .as_ref()
                    .ok_or_else(|| unsupported(format!("layer `{}` has no value", name.text)))?;
                let call = CallView::of(value).ok_or_else(|| {
                    unsupported(format!("layer `{}` is not a layer call", name.text))
                })?;
                let mut inputs = Vec::new();
                for arg in call.positional() {
                    let input = arg
                        .as_name()
                        .and_then(|input| ids.get(input.text.as_str()).copied())
                        .ok_or_else(|| {
                            unsupported(format!(
                                "layer `{}`: its inputs must be earlier layers or the input",
                                name.text
                            ))
                        })?;
                    inputs.push(input);
                }
                let layer = layer_of(neuro, &call, archives).map_err(|e| match e {
                    RunError::Setting(message) | RunError::Unsupported(message) => {
                        unsupported(format!("layer `{}`: {message}", name.text))
                    }
                    other => other,
                })?;
                if settings_is_neuron(call.name) && !neurons.iter().any(|n| n == call.name) {
                    neurons.push(call.name.to_string());
                }
                let id = nodes.len();
                ids.insert(&name.text, id);
                nodes.push(Node {
                    name: name.text.clone(),
                    layer,
                    inputs,
                });
                if entry.kind == EntryKind::Output {
                    outputs.push(name.text.clone());
                    output.get_or_insert(id);
                }
            }
            _ => {}
        }
    }
    if nodes.is_empty() {
        return Err(unsupported("it has no input".to_string()));
    }
    let Some(output) = output else {
        return Err(unsupported("it has no output".to_string()));
    };
    if outputs.len() > 1 {
        notes.push(format!(
            "network `{network_name}` has {} outputs; the first, `{}`, is decoded",
            outputs.len(),
            outputs[0]
        ));
    }
    let network = Network { nodes, output };
    network.validate().map_err(|e| unsupported(e.to_string()))?;
    Ok(Lowered {
        network,
        neurons,
        notes,
    })
}

fn settings_is_neuron(name: &str) -> bool {
    matches!(name, "lif" | "if" | "leaky")
}

/// A size per spatial axis: `K` or `[KH, KW]`.
fn pair(call: &CallView, key: &str, default: Option<[usize; 2]>) -> Result<[usize; 2], RunError> {
    let Some(expr) = call.named(key) else {
        return default.ok_or_else(|| RunError::Setting(format!("`{key}` is missing")));
    };
    match settings::counts(expr)?.as_slice() {
        [k] => Ok([*k; 2]),
        [h, w] => Ok([*h, *w]),
        other => Err(RunError::Setting(format!(
            "`{key}`: expected one number or [h, w], found {} numbers",
            other.len()
        ))),
    }
}

/// Padding as `[top, left, bottom, right]` from `P`, `[H, W]` or all four.
fn padding(call: &CallView) -> Result<[usize; 4], RunError> {
    let Some(expr) = call.named("padding") else {
        return Ok([0; 4]);
    };
    match settings::counts(expr)?.as_slice() {
        [p] => Ok([*p; 4]),
        [h, w] => Ok([*h, *w, *h, *w]),
        [t, l, b, r] => Ok([*t, *l, *b, *r]),
        other => Err(RunError::Setting(format!(
            "`padding`: expected one number, [h, w] or [top, left, bottom, right], found {} numbers",
            other.len()
        ))),
    }
}

fn layer_of(
    neuro: &NeuroAnalysis,
    call: &CallView,
    archives: &mut Archives,
) -> Result<Layer, RunError> {
    let mut tensor = |key: &str| -> Result<Option<Tensor>, RunError> {
        call.named(key)
            .map(|expr| weight_tensor(neuro, expr, archives))
            .transpose()
    };
    let flag = |key: &str, default: bool| -> Result<bool, RunError> {
        call.named(key)
            .map(settings::boolean)
            .transpose()
            .map(|v| v.unwrap_or(default))
    };
    Ok(match call.name {
        "dense" => {
            let weight =
                tensor("weight")?.ok_or_else(|| RunError::Setting("`weight` is missing".into()))?;
            Layer::Dense {
                weight,
                bias: tensor("bias")?.map(|b| b.data),
            }
        }
        "conv2d" => {
            let weight =
                tensor("weight")?.ok_or_else(|| RunError::Setting("`weight` is missing".into()))?;
            let bias = tensor("bias")?.map(|b| b.data);
            let groups = match call.named("groups") {
                Some(expr) => settings::count(expr)?,
                None => 1,
            };
            Layer::Conv2d {
                weight,
                bias,
                stride: pair(call, "stride", Some([1, 1]))?,
                padding: padding(call)?,
                groups,
            }
        }
        "avgpool" | "maxpool" => {
            let kernel = pair(call, "kernel", None)?;
            let stride = pair(call, "stride", Some(kernel))?;
            let window = PoolWindow::new(kernel, stride, padding(call)?);
            if call.name == "avgpool" {
                Layer::AvgPool {
                    window,
                    count_include_pad: flag("count_include_pad", true)?,
                }
            } else {
                Layer::MaxPool { window }
            }
        }
        "flatten" => Layer::Flatten,
        "add" => Layer::Add,
        "concat" => Layer::Concat,
        "scale" => Layer::Scale {
            scale: tensor("scale")?
                .ok_or_else(|| RunError::Setting("`scale` is missing".into()))?
                .data,
            bias: tensor("bias")?.map(|b| b.data),
        },
        "relu" => Layer::Relu,
        "clip" => Layer::Clip {
            max: call
                .number("max")?
                .ok_or_else(|| RunError::Setting("`max` is missing".into()))?
                as f32,
        },
        "lif" | "if" | "leaky" => {
            let spec = settings::neuron(call)?;
            Layer::Spiking {
                neuron: spec.neuron,
                scaling: Scaling {
                    input_scale: spec.input_scale,
                    amplitude: spec.amplitude,
                    // Nengo and snnTorch start every membrane at rest, unless
                    // `initial_membrane` says otherwise.
                    initial_membrane: spec.initial_membrane.unwrap_or(0.0),
                },
                per_neuron: None,
            }
        }
        other => {
            return Err(RunError::Unsupported(format!(
                "`{other}` is not a layer the simulator runs"
            )));
        }
    })
}

/// `w["key"]`: the array `key` of the archive bound by weights item `w`.
fn weight_tensor(
    neuro: &NeuroAnalysis,
    expr: &Expr,
    archives: &mut Archives,
) -> Result<Tensor, RunError> {
    let ExprKind::Index { base, index } = &expr.kind else {
        return Err(RunError::Setting(
            "expected a weight such as `w[\"fc.weight\"]`".into(),
        ));
    };
    let (Some(weights), Some(key)) = (base.as_name(), index.as_string()) else {
        return Err(RunError::Setting(
            "expected a weight such as `w[\"fc.weight\"]`".into(),
        ));
    };
    let item = neuro
        .analysis
        .names
        .get(&weights.text)
        .copied()
        .filter(|&item| neuro.parse.ast.items[item].kind == ItemKind::Weights)
        .ok_or_else(|| {
            RunError::Setting(format!(
                "`{}` is not a weights item of this file",
                weights.text
            ))
        })?;
    let path = item_path(neuro, item)?;
    archives.array(&path, key)
}
