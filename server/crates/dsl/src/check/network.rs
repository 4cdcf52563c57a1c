//! Networks: written ones (inputs, layers, outputs, with shape propagation
//! through every layer against its weights) and converted ones (the source
//! model's kind, its unconvertible ops, and the convert settings).

use super::values::{CallValues, Scope, Value};
use super::{Checker, Def, LayerInfo};
use crate::catalog::{self, CallKind, ValueKind};
use crate::fxhash::{FxHashMap, FxHashSet};
use crate::syntax::ast::{DimValue, Entry, EntryKind, Expr, ExprKind, Item, ItemKind, Name};
use crate::workspace::{Dim, ModelKind, Shape};

pub(super) fn check_network(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    match &item.value {
        Some(value) => check_converted(checker, index, value),
        None => check_written(checker, index),
    }
}

fn check_written(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    let name = item.label();
    let entries = item.entries();
    // Names borrowed from the tree; output shapes by entry index.
    let mut scope: FxHashMap<&str, usize> = FxHashMap::default();
    scope.reserve(entries.len());
    let mut shapes: Vec<Option<Shape>> = vec![None; entries.len()];
    let (mut n_inputs, mut n_outputs, mut parameters) = (0, 0, 0u64);
    for (entry_index, entry) in entries.iter().enumerate() {
        match entry.kind {
            EntryKind::Input if entry.ty.is_some() || entry.value.is_none() => {
                n_inputs += 1;
                let shape = entry
                    .ty
                    .as_ref()
                    .and_then(|ty| checker.tensor_type_shape(ty));
                shapes[entry_index] = shape.clone();
                define_local(checker, index, entry_index, entry, &mut scope);
                checker.analysis.items[index]
                    .inputs
                    .push((entry_name(entry), shape));
            }
            EntryKind::Layer | EntryKind::Output => {
                let (inputs, output, layer_parameters) =
                    check_layer(checker, index, entry, &scope, &shapes);
                parameters += layer_parameters;
                shapes[entry_index] = output.clone();
                define_local(checker, index, entry_index, entry, &mut scope);
                checker.analysis.layers.push(LayerInfo {
                    item: index,
                    entry: entry_index,
                    inputs,
                    output: output.clone(),
                    parameters: layer_parameters,
                });
                if entry.kind == EntryKind::Output {
                    n_outputs += 1;
                    checker.analysis.items[index]
                        .outputs
                        .push((entry_name(entry), output));
                }
            }
            _ => misplaced(
                checker,
                entry,
                "a written network",
                "input, layer or output",
            ),
        }
    }
    checker.analysis.items[index].parameters = parameters;
    if item.body.is_some() && (n_inputs == 0 || n_outputs == 0) {
        let missing = if n_inputs == 0 {
            "an `input`"
        } else {
            "an `output`"
        };
        checker.error(
            item.selection_range(),
            "neuro/incomplete",
            format!(
                "expected network `{name}` to have at least one input and one output, found no {}",
                &missing[3..]
            ),
        );
    }
}

fn entry_name(entry: &Entry) -> String {
    entry
        .name
        .as_ref()
        .map(|name| name.text.clone())
        .unwrap_or_default()
}

fn define_local<'a>(
    checker: &mut Checker,
    item: usize,
    entry_index: usize,
    entry: &'a Entry,
    scope: &mut FxHashMap<&'a str, usize>,
) {
    let Some(name) = &entry.name else { return };
    checker.reference(name.range, Def::Entry(item, entry_index), true);
    if scope.insert(name.text.as_str(), entry_index).is_some() {
        checker.error(
            name.range,
            "neuro/duplicate-name",
            format!(
                "expected a new layer name, found `{}` defined earlier in this network",
                name.text
            ),
        );
    }
}

/// The settings of `item`'s block that `specs` knows, as `(key, value)`
/// pairs in order: any other entry is reported as misplaced (in `block`), a
/// key `specs` does not know as unknown, and a key written a second time as
/// a duplicate (its value is still returned, so it is checked too).
pub(super) fn block_settings<'t>(
    checker: &mut Checker,
    item: &'t Item,
    block: &str,
    specs: &[catalog::SettingSpec],
) -> Vec<(&'t Name, &'t Expr)> {
    let mut seen = FxHashSet::default();
    let mut settings = Vec::with_capacity(item.entries().len());
    for entry in item.entries() {
        if entry.kind != EntryKind::Setting {
            misplaced(checker, entry, block, &settings_list(specs));
            continue;
        }
        let (Some(key), Some(value)) = (&entry.name, &entry.value) else {
            continue;
        };
        if !seen.insert(key.text.as_str()) {
            checker.error(
                key.range,
                "neuro/duplicate-name",
                format!("expected `{}` once, found it again", key.text),
            );
        }
        if !specs.iter().any(|spec| spec.key == key.text) {
            unknown_setting(checker, key, specs);
            continue;
        }
        settings.push((key, value));
    }
    settings
}

/// `settings (a, b, c)`: what a block of these settings may hold.
pub(super) fn settings_list(specs: &[catalog::SettingSpec]) -> String {
    let keys: Vec<&str> = specs.iter().map(|spec| spec.key).collect();
    format!("settings ({})", keys.join(", "))
}

pub(super) fn misplaced(checker: &mut Checker, entry: &Entry, block: &str, allowed: &str) {
    let what = match (&entry.kind, &entry.name) {
        (EntryKind::Setting, Some(name)) => format!("the setting `{}`", name.text),
        (kind, _) => format!("`{}`", kind.keyword()),
    };
    checker.error(
        entry.keyword_range,
        "neuro/misplaced",
        format!("expected {allowed} in {block}, found {what}"),
    );
}

/// Checks one layer call; returns the input shapes, the output shape and
/// the number of parameters.
fn check_layer(
    checker: &mut Checker,
    item: usize,
    entry: &Entry,
    scope: &FxHashMap<&str, usize>,
    shapes: &[Option<Shape>],
) -> (Vec<Option<Shape>>, Option<Shape>, u64) {
    let Some(value) = &entry.value else {
        return (Vec::new(), None, 0);
    };
    let Some(call) = value.as_call() else {
        if !matches!(value.kind, ExprKind::Missing) {
            let expected = "a layer call such as `dense(x, ...)`";
            checker.expected_found(value.range, "neuro/wrong-kind", expected);
        }
        return (Vec::new(), None, 0);
    };
    let spec = match catalog::call(&call.callee.text) {
        Some(spec) if matches!(spec.kind, CallKind::Layer | CallKind::Neuron) => spec,
        other => {
            let layers: Vec<&str> = catalog::CALLS
                .iter()
                .filter(|spec| matches!(spec.kind, CallKind::Layer | CallKind::Neuron))
                .map(|spec| spec.name)
                .collect();
            let found = match other {
                Some(spec) => format!("`{}` which is not a layer", spec.name),
                None => format!("unknown call `{}`", call.callee.text),
            };
            checker.error(
                call.callee.range,
                "neuro/unknown-name",
                format!(
                    "expected a layer or neuron ({}), found {found}",
                    layers.join(", ")
                ),
            );
            return (Vec::new(), None, 0);
        }
    };
    let values = checker.check_call_args(
        call,
        spec,
        Some(&Scope {
            item,
            layers: scope,
        }),
        true,
    );
    let shape_of = |value: &Value| -> Option<Shape> {
        match value {
            Value::Layer(entry) => shapes.get(*entry).cloned().flatten(),
            _ => None,
        }
    };
    // Every positional input in order (a repeated parameter's values in turn).
    let inputs: Vec<Option<Shape>> = spec
        .positional
        .iter()
        .flat_map(|param| match values.get(param.name) {
            Some(Value::List(list)) => list.iter().map(shape_of).collect(),
            Some(value) => vec![shape_of(value)],
            None => vec![None],
        })
        .collect();
    // A missing or invalid required argument was reported; shapes would only repeat it.
    let complete = spec
        .named
        .iter()
        .filter(|param| param.is_required())
        .all(|param| {
            values
                .get(param.name)
                .is_some_and(|value| *value != Value::Invalid)
        });
    if !complete {
        return (inputs, None, 0);
    }
    let Some(Some(x)) = inputs.first().cloned() else {
        return (inputs, None, 0);
    };
    let range = call.callee.range;
    let result = layer_output(spec.name, &x, &inputs, &values);
    match result {
        Ok((output, parameters)) => (inputs, Some(output), parameters),
        Err(message) => {
            checker.error(
                range,
                "neuro/shape-mismatch",
                format!("`{}`: {message}", spec.name),
            );
            (inputs, None, 0)
        }
    }
}

fn int(values: &CallValues, name: &str) -> Option<u64> {
    values.get(name).and_then(Value::as_u64)
}

/// A `[h, w]` parameter (`K` is `[K, K]`).
fn pair(values: &CallValues, name: &str) -> Option<[u64; 2]> {
    match values.get(name) {
        Some(Value::Ints(v)) => match v.as_slice() {
            [k] => Some([*k as u64; 2]),
            [h, w] => Some([*h as u64, *w as u64]),
            _ => None,
        },
        _ => None,
    }
}

/// Padding as `[top, left, bottom, right]` (`P`, `[H, W]` or all four).
fn padding(values: &CallValues) -> [u64; 4] {
    match values.get("padding") {
        Some(Value::Ints(v)) => match v.as_slice() {
            [p] => [*p as u64; 4],
            [h, w] => [*h as u64, *w as u64, *h as u64, *w as u64],
            [t, l, b, r] => [*t as u64, *l as u64, *b as u64, *r as u64],
            _ => [0; 4],
        },
        _ => [0; 4],
    }
}

/// The output size of a window over `size` (floor mode).
fn spatial(size: u64, kernel: u64, stride: u64, before: u64, after: u64) -> Option<u64> {
    let padded = size + before + after;
    if padded < kernel || stride == 0 {
        None
    } else {
        Some((padded - kernel) / stride + 1)
    }
}

/// `[C, out_h, out_w]` of a conv or pool window over a `[C, H, W]` input.
fn window_output(
    dims: &[u64],
    kernel: [u64; 2],
    stride: [u64; 2],
    pads: [u64; 4],
    x: &Shape,
) -> Result<[u64; 2], String> {
    let too_small = || {
        format!(
            "expected input at least {}x{} after padding, found {x}",
            kernel[0], kernel[1]
        )
    };
    let h = spatial(dims[1], kernel[0], stride[0], pads[0], pads[2]).ok_or_else(too_small)?;
    let w = spatial(dims[2], kernel[1], stride[1], pads[1], pads[3]).ok_or_else(too_small)?;
    Ok([h, w])
}

fn tensor(values: &CallValues, name: &str) -> Option<Shape> {
    match values.get(name) {
        Some(Value::Tensor(Some(shape))) => Some(shape.clone()),
        _ => None,
    }
}

fn known(shape: &Shape) -> Option<Vec<u64>> {
    shape.dims_known()
}

/// The shape rules of each layer (PyTorch layouts, per sample, no batch).
/// An `Err` names what was expected and what was found.
fn layer_output(
    name: &str,
    x: &Shape,
    inputs: &[Option<Shape>],
    values: &CallValues,
) -> Result<(Shape, u64), String> {
    match name {
        "dense" => {
            if x.rank() != 1 {
                return Err(format!(
                    "expected a 1-D input [in], found {x}; add `flatten` first"
                ));
            }
            let out = int(values, "out");
            let mut parameters = 0;
            if let Some(weight) = tensor(values, "weight") {
                let expected = Shape(vec![
                    out.map(Dim::Known).unwrap_or(Dim::Symbolic("out".into())),
                    x.0[0].clone(),
                ]);
                if !weight.compatible(&expected) {
                    return Err(format!(
                        "expected weight shaped [out, in] = {expected}, found {weight}"
                    ));
                }
                parameters += weight.elements().unwrap_or(0);
            }
            if let Some(bias) = tensor(values, "bias") {
                if let Some(out) = out
                    && !bias.compatible(&Shape::known(&[out]))
                {
                    return Err(format!("expected bias shaped [{out}], found {bias}"));
                }
                parameters += bias.elements().unwrap_or(0);
            }
            let out = out.ok_or("expected `out`")?;
            Ok((Shape::known(&[out]), parameters))
        }
        "conv2d" => {
            let Some(dims) = known(x).filter(|dims| dims.len() == 3) else {
                return Err(format!("expected a [C, H, W] input, found {x}"));
            };
            let channels = dims[0];
            let (out, kernel) = (
                int(values, "out").ok_or("expected `out`")?,
                pair(values, "kernel").ok_or("expected `kernel`")?,
            );
            let stride = pair(values, "stride").unwrap_or([1, 1]);
            let groups = int(values, "groups").unwrap_or(1).max(1);
            if channels % groups != 0 || out % groups != 0 {
                return Err(format!(
                    "expected `groups: {groups}` to divide the input channels ({channels}) and `out` ({out})"
                ));
            }
            let mut parameters = 0;
            if let Some(weight) = tensor(values, "weight") {
                let expected = Shape::known(&[out, channels / groups, kernel[0], kernel[1]]);
                if !weight.compatible(&expected) {
                    return Err(format!(
                        "expected weight shaped [out, in/groups, KH, KW] = {expected}, found {weight}"
                    ));
                }
                parameters += weight.elements().unwrap_or(0);
            }
            if let Some(bias) = tensor(values, "bias") {
                if !bias.compatible(&Shape::known(&[out])) {
                    return Err(format!("expected bias shaped [{out}], found {bias}"));
                }
                parameters += out;
            }
            let [out_h, out_w] = window_output(&dims, kernel, stride, padding(values), x)?;
            Ok((Shape::known(&[out, out_h, out_w]), parameters))
        }
        "avgpool" | "maxpool" => {
            let Some(dims) = known(x).filter(|dims| dims.len() == 3) else {
                return Err(format!("expected a [C, H, W] input, found {x}"));
            };
            let kernel = pair(values, "kernel").ok_or("expected `kernel`")?;
            let stride = pair(values, "stride").unwrap_or(kernel);
            let [out_h, out_w] = window_output(&dims, kernel, stride, padding(values), x)?;
            Ok((Shape::known(&[dims[0], out_h, out_w]), 0))
        }
        "flatten" => match x.elements() {
            Some(elements) => Ok((Shape::known(&[elements]), 0)),
            None => Ok((Shape(vec![Dim::Symbolic("n".into())]), 0)),
        },
        "add" => {
            for b in inputs.iter().skip(1).flatten() {
                if !x.compatible(b) {
                    return Err(format!(
                        "expected every input to have the same shape, found {x} and {b}"
                    ));
                }
            }
            Ok((x.clone(), 0))
        }
        "concat" => {
            // Known shapes only: a symbolic one leaves the sum open.
            let mut first = match known(x) {
                Some(dims) if !dims.is_empty() => dims,
                _ => return Ok((x.clone(), 0)),
            };
            for b in inputs.iter().skip(1) {
                let Some(dims) = b.as_ref().and_then(known) else {
                    return Ok((x.clone(), 0));
                };
                if dims.len() != first.len() || dims[1..] != first[1..] {
                    return Err(format!(
                        "expected inputs equal in all but the first axis, found {x} and {}",
                        Shape::known(&dims)
                    ));
                }
                first[0] += dims[0];
            }
            Ok((Shape::known(&first), 0))
        }
        "scale" => {
            let channels = x.0.first().cloned();
            let mut parameters = 0;
            for key in ["scale", "bias"] {
                if let Some(t) = tensor(values, key) {
                    if let Some(c) = &channels {
                        let expected = Shape(vec![c.clone()]);
                        if !t.compatible(&expected) {
                            return Err(format!(
                                "expected {key} shaped {expected} (one per channel of {x}), found {t}"
                            ));
                        }
                    }
                    parameters += t.elements().unwrap_or(0);
                }
            }
            Ok((x.clone(), parameters))
        }
        _ => Ok((x.clone(), 0)),
    }
}

impl<'a> Checker<'a> {
    /// `f32[1, 8, 8]` to a shape; reports unknown element types and bad dims.
    pub fn tensor_type_shape(&mut self, ty: &crate::syntax::ast::TensorType) -> Option<Shape> {
        if !catalog::DTYPES.contains(&ty.dtype.text.as_str()) {
            self.error(
                ty.dtype.range,
                "neuro/invalid-value",
                format!(
                    "expected an element type ({}), found `{}`",
                    catalog::DTYPES.join(", "),
                    ty.dtype.text
                ),
            );
        }
        let mut dims = Vec::new();
        for dim in &ty.dims {
            match &dim.value {
                DimValue::Known(0) => {
                    self.error(
                        dim.range,
                        "neuro/range",
                        "expected a dimension >= 1, found 0".to_string(),
                    );
                    return None;
                }
                DimValue::Known(value) => dims.push(Dim::Known(*value)),
                DimValue::Symbolic(name) => dims.push(Dim::Symbolic(name.clone())),
                DimValue::Invalid(text) => {
                    self.error(
                        dim.range,
                        "neuro/range",
                        format!("expected a whole-number dimension, found `{text}`"),
                    );
                    return None;
                }
            }
        }
        if dims.is_empty() {
            self.error(
                ty.range,
                "neuro/range",
                "expected at least one dimension, found `[]`".to_string(),
            );
            return None;
        }
        Some(Shape(dims))
    }
}

fn check_converted(checker: &mut Checker, index: usize, value: &Expr) {
    let item = &checker.items()[index];
    if let Some(call) = value.as_call().filter(|call| call.callee.text == "nir") {
        check_nir(checker, index, call);
        return;
    }
    let Some(call) = value.as_call().filter(|call| call.callee.text == "convert") else {
        let expected = "`convert(MODEL)`, `nir(\"file.nir\")` or a `{ ... }` body";
        checker.expected_found(value.range, "neuro/wrong-kind", expected);
        return;
    };
    let model_arg = call.args.first();
    if call.args.len() != 1 || model_arg.is_some_and(|arg| arg.name.is_some()) {
        checker.error(
            call.args_range,
            "neuro/missing-argument",
            format!(
                "expected `convert(MODEL)` with one model, found {} arguments",
                call.args.len()
            ),
        );
    }
    let model = model_arg.and_then(|arg| {
        match checker.check_value_kind(&arg.value, ValueKind::Model, "the model to convert", None) {
            Value::Item(model) => Some(model),
            _ => None,
        }
    });
    let name = item.label();
    if let Some(model) = model {
        checker.analysis.items[index].source_model = Some(model);
        if let Some(facts) = checker.model_of(model) {
            let range = call.callee.range.cover(call.args_range);
            let model_name = checker.items()[model].label();
            match facts.kind {
                ModelKind::Snn => checker.error(
                    range,
                    "neuro/already-spiking",
                    format!("expected an ANN to convert, found `{model_name}` which is already a spiking network; simulate it as it is"),
                ),
                ModelKind::Ml | ModelKind::Mixed | ModelKind::Unknown => checker.error(
                    range,
                    "neuro/not-dl",
                    format!("expected a deep-learning model to convert, found `{model_name}` classified as {}", facts.kind.label()),
                ),
                ModelKind::Dl => {}
            }
            if !facts.unconvertible.is_empty() {
                checker.error(
                    range,
                    "neuro/unconvertible",
                    format!(
                        "expected only convertible ops in `{model_name}`, found {} that cannot be converted:{}",
                        facts.unconvertible.len(),
                        grouped_ops(&facts.unconvertible)
                    ),
                );
            }
            checker.analysis.items[index].set_signature(&facts);
        }
    }
    let block = format!("converted network `{name}`");
    let settings = block_settings(checker, item, &block, catalog::CONVERT_SETTINGS);
    for (key, value) in settings {
        match key.text.as_str() {
            "neuron" => checker.check_neuron(value),
            "normalize" => {
                if value.as_name().is_some_and(|name| name.text == "none") {
                    continue;
                }
                if let Some(Value::Item(dataset)) = checker
                    .check_kind_call(
                        value,
                        CallKind::Normalizer,
                        "`max(data: D)`, `percentile(P, data: D)` or `none`",
                        true,
                    )
                    .and_then(|mut values| values.remove("data"))
                {
                    check_dataset_against(checker, dataset, index, value.range);
                }
            }
            "weights" => {
                if let Value::Item(weights) =
                    checker.check_value_kind(value, ValueKind::Weights, "`weights`", None)
                    && let Some(model) = model
                {
                    check_weights_match(checker, weights, model, value.range);
                }
            }
            "max_to_avg" => checker.check_max_to_avg(value),
            _ => {} // block_settings keeps only CONVERT_SETTINGS
        }
    }
}

/// One line per op type: `MaxPool x5: a, b, c, +2 more`.
fn grouped_ops(ops: &[crate::workspace::OpFact]) -> String {
    const SHOWN: usize = 3;
    let mut groups: Vec<(&str, Vec<&str>, usize)> = Vec::new();
    for op in ops {
        let at = match groups.iter().position(|g| g.0 == op.op_type) {
            Some(at) => at,
            None => {
                groups.push((&op.op_type, Vec::new(), 0));
                groups.len() - 1
            }
        };
        let group = &mut groups[at];
        group.2 += 1;
        if group.1.len() < SHOWN && !op.node.is_empty() {
            group.1.push(&op.node);
        }
    }
    let mut text = String::new();
    for (op, nodes, count) in groups {
        text.push_str(&format!("\n  {op} x{count}"));
        if !nodes.is_empty() {
            text.push_str(&format!(": {}", nodes.join(", ")));
        }
        if count > nodes.len() && !nodes.is_empty() {
            text.push_str(&format!(", +{} more", count - nodes.len()));
        }
    }
    text
}

pub(super) fn unknown_setting(
    checker: &mut Checker,
    key: &Name,
    settings: &[catalog::SettingSpec],
) {
    let keys: Vec<&str> = settings.iter().map(|setting| setting.key).collect();
    checker.error(
        key.range,
        "neuro/unknown-setting",
        format!("expected one of {}, found `{}`", keys.join(", "), key.text),
    );
}

/// A dataset's per-sample input shape against a network's or model's first
/// input. A network of several inputs (a NIR graph's Inputs) reads each
/// from the dataset's array of the input's name, which needs a dataset
/// that names no one array (`x:`).
pub(super) fn check_dataset_against(
    checker: &mut Checker,
    dataset: usize,
    target: usize,
    range: crate::syntax::TextRange,
) {
    let inputs = checker.analysis.items[target].inputs.clone();
    let (data_name, target_name) = (
        checker.items()[dataset].label(),
        checker.items()[target].label(),
    );
    let several = inputs.len() > 1 && checker.items()[target].kind == ItemKind::Network;
    let one_array =
        checker.analysis.items[dataset].image.is_some() || checker.dataset_x(dataset).is_some();
    if several && one_array {
        let names: Vec<String> = inputs.iter().map(|(name, _)| format!("`{name}`")).collect();
        checker.error(
            range,
            "neuro/shape-mismatch",
            format!("`{target_name}` has {} inputs ({}), each read from the array of its name: dataset `{data_name}` gives one array; bind the archive without `x:`", inputs.len(), names.join(", ")),
        );
        return;
    }
    // (input, its shape, the dataset's samples for it, where they are).
    let pairs: Vec<_> = if several {
        inputs
            .into_iter()
            .filter_map(|(name, shape)| {
                let data = checker.dataset_array_shape(dataset, &name)?;
                let place = format!("array '{name}' of dataset `{data_name}`");
                Some((name, shape?, data, place))
            })
            .collect()
    } else {
        let data = checker.dataset_input_shape(dataset);
        match (inputs.into_iter().next(), data) {
            (Some((name, Some(shape))), Some(data)) => {
                vec![(name, shape, data, format!("dataset `{data_name}`"))]
            }
            _ => Vec::new(),
        }
    };
    for (input_name, input_shape, data_shape, place) in pairs {
        if !data_shape.compatible(&input_shape) {
            checker.error(
                range,
                "neuro/shape-mismatch",
                format!("expected samples shaped {input_shape} for input `{input_name}` of `{target_name}`, found {data_shape} in {place}"),
            );
        }
    }
}

fn check_weights_match(
    checker: &mut Checker,
    weights: usize,
    model: usize,
    range: crate::syntax::TextRange,
) {
    let (Some(archive), Some(facts)) = (
        checker.analysis.items[weights].archive.clone(),
        checker.model_of(model),
    ) else {
        return;
    };
    let mut matched = 0;
    for initializer in &facts.initializers {
        let Some(array) = archive.array(&initializer.name) else {
            continue;
        };
        matched += 1;
        let array_shape = Shape::known(&array.shape);
        if let Some(shape) = &initializer.shape
            && !shape.compatible(&array_shape)
        {
            checker.error(
                    range,
                    "neuro/shape-mismatch",
                    format!("expected \"{}\" shaped {shape} as in the model, found {array_shape} in the archive", initializer.name),
                );
        }
    }
    if matched == 0 && !facts.initializers.is_empty() {
        checker.warning(range, "neuro/unknown-key", "expected arrays named like the model's initializers, found none in common: nothing would be replaced".to_string());
    }
}

impl<'a> Checker<'a> {
    /// The run settings written the same in a simulate block, a sweep's axis
    /// and a converted network: each one's expectation is said once here.
    pub(super) fn check_dt(&mut self, value: &Expr) {
        self.check_value_kind(value, ValueKind::Time { allow_zero: false }, "`dt`", None);
    }

    pub(super) fn check_encoder(&mut self, value: &Expr) -> Option<CallValues> {
        self.check_kind_call(
            value,
            CallKind::Encoder,
            "an encoder (rate, current, latency, delta)",
            true,
        )
    }

    pub(super) fn check_decoder(&mut self, value: &Expr) {
        self.check_value_kind(value, ValueKind::Word(catalog::DECODERS), "`decode`", None);
    }

    pub(super) fn check_neuron(&mut self, value: &Expr) {
        self.check_kind_call(value, CallKind::Neuron, "a neuron (lif, if, leaky)", false);
    }

    pub(super) fn check_max_to_avg(&mut self, value: &Expr) {
        self.check_value_kind(value, ValueKind::Bool, "`max_to_avg`", None);
    }

    /// Checks `value` is a call of the given catalog kind and its arguments.
    pub fn check_kind_call(
        &mut self,
        value: &Expr,
        kind: CallKind,
        expected: &str,
        with_positional: bool,
    ) -> Option<CallValues> {
        let (callee, call) = match &value.kind {
            ExprKind::Call(call) => (&call.callee, Some(call)),
            ExprKind::Name(name) => (name, None),
            ExprKind::Missing => return None,
            _ => {
                self.expected_found(value.range, "neuro/invalid-value", expected);
                return None;
            }
        };
        let Some(spec) = catalog::call(&callee.text).filter(|spec| spec.kind == kind) else {
            self.error(
                callee.range,
                "neuro/unknown-name",
                format!("expected {expected}, found `{}`", callee.text),
            );
            return None;
        };
        match call {
            Some(call) => Some(self.check_call_args(call, spec, None, with_positional)),
            None => {
                // A bare name (`current`) stands for a call with no arguments.
                let positional: &[crate::catalog::Param] = if with_positional {
                    spec.positional
                } else {
                    &[]
                };
                let required: Vec<&str> = spec
                    .named
                    .iter()
                    .chain(positional)
                    .filter(|p| p.is_required())
                    .map(|p| p.name)
                    .collect();
                if !required.is_empty() {
                    self.error(
                        callee.range,
                        "neuro/missing-argument",
                        format!(
                            "`{}` expects {}, found no arguments",
                            spec.name,
                            required.join(", ")
                        ),
                    );
                }
                Some(CallValues::new())
            }
        }
    }
}

/// `network N = nir("file.nir")`: a spiking network read from a NIR file
/// (the Neuromorphic Intermediate Representation), which says everything
/// about it: one path, no settings.
fn check_nir(checker: &mut Checker, index: usize, call: &crate::syntax::ast::Call) {
    let path_arg = call.positional().next();
    let path = path_arg.and_then(|arg| arg.value.as_string());
    let (Some(path_arg), Some(path), 1) = (path_arg, path, call.args.len()) else {
        checker.error(
            call.args_range,
            "neuro/missing-argument",
            "expected `nir(\"file.nir\")` with the path of one NIR file".to_string(),
        );
        return;
    };
    let path = path.to_string();
    let range = path_arg.value.range;
    checker.analysis.items[index].path = Some(path.clone());
    let fact = checker.model_fact(&path);
    if let Some(facts) = checker.file_facts(fact, range, "a NIR file", &path) {
        // A NIR file's shapes are per sample already.
        let info = &mut checker.analysis.items[index];
        info.inputs = facts
            .inputs
            .iter()
            .map(|t| (t.name.clone(), t.shape.clone()))
            .collect();
        info.outputs = facts
            .outputs
            .iter()
            .map(|t| (t.name.clone(), t.shape.clone()))
            .collect();
        info.parameters = facts.parameter_count;
        info.model = Some(facts);
    }
    let item = &checker.items()[index];
    let name = item.label();
    if let Some(body) = &item.body {
        for entry in &body.entries {
            misplaced(
                checker,
                entry,
                &format!("NIR network `{name}`"),
                "no settings (the NIR file says the whole network)",
            );
        }
    }
}
