//! `simulate` and `infer` runs: the target's kind, the dataset, settings with
//! units and ranges (`steps = 0`, `max_rate` above `1/dt`, `tau_ref < dt`),
//! and dataset shapes against the target's input.

use super::network::{
    block_settings, check_dataset_against, misplaced, settings_list, unknown_setting,
};
use super::values::{Value, number_of, parse_unit};
use super::{Checker, Def, Fix, TextEdit, Unit};
use crate::catalog::{self, ValueKind};
use crate::syntax::TextRange;
use crate::syntax::ast::{EntryKind, Expr, ExprKind, Item, ItemKind};

/// The simulation time settings of a run: dt and steps in force.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    pub dt: f64,
    pub steps: u64,
}

/// dt and steps as written in a simulate item (defaults where absent or invalid).
pub fn timing_of(text: &str, item: &Item) -> Timing {
    let mut timing = Timing {
        dt: catalog::DEFAULT_DT_SECONDS,
        steps: catalog::DEFAULT_STEPS,
    };
    for entry in item.entries() {
        let (Some(key), Some(value)) = (&entry.name, &entry.value) else {
            continue;
        };
        let Some((number, suffix, _, _)) = number_of(value) else {
            continue;
        };
        match (key.text.as_str(), parse_unit(suffix)) {
            ("dt", Some(Unit::Time(factor))) if number > 0.0 => timing.dt = number * factor,
            ("steps", Some(Unit::None)) if number >= 1.0 => timing.steps = number as u64,
            _ => {}
        }
    }
    let _ = text;
    timing
}

/// A simulate or sweep block's network and dataset, resolved, with the
/// dataset's shapes checked against the network's input.
fn resolve_network_and_dataset(
    checker: &mut Checker,
    index: usize,
    item: &Item,
) -> (Option<usize>, Option<usize>) {
    let (network, dataset) = resolve_target_and_data(checker, index, item, ItemKind::Network);
    if let (Some(network), Some(dataset), Some(data)) = (network, dataset, &item.data) {
        check_dataset_against(checker, dataset, network, data.range);
    }
    (network, dataset)
}

pub(super) fn check_simulate(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    let (network, dataset) = resolve_network_and_dataset(checker, index, item);
    let timing = timing_of(&checker.parse.text, item);
    let settings = block_settings(
        checker,
        item,
        "a simulate block",
        catalog::SIMULATE_SETTINGS,
    );
    for (key, value) in settings {
        match key.text.as_str() {
            "dt" => checker.check_dt(value),
            "steps" | "batch" | "limit" => {
                let what = format!("`{}`", key.text);
                checker.check_value_kind(value, ValueKind::Int { min: 1 }, &what, None);
            }
            "encode" => {
                let values = checker.check_encoder(value);
                if let Some(Value::Hertz(rate)) =
                    values.as_ref().and_then(|values| values.get("max_rate"))
                    && *rate * timing.dt > 1.0 + 1e-9
                {
                    let range = value
                        .as_call()
                        .and_then(|call| call.named("max_rate"))
                        .map(|arg| arg.value.range)
                        .unwrap_or(value.range);
                    checker.error(
                        range,
                        "neuro/range",
                        format!(
                            "expected `max_rate` at most 1/dt = {} Hz, found {} Hz",
                            trim(1.0 / timing.dt),
                            trim(*rate)
                        ),
                    );
                }
            }
            "decode" => checker.check_decoder(value),
            "record" => check_record(
                checker,
                value,
                network,
                dataset,
                catalog::SIMULATE_RECORDS,
                true,
            ),
            _ => {} // block_settings keeps only SIMULATE_SETTINGS
        }
    }
    if let Some(network) = network {
        for (tau_ref, range) in neuron_tau_refs(checker, network) {
            if tau_ref < timing.dt {
                checker.warning(
                    range,
                    "neuro/range",
                    format!(
                        "expected `tau_ref` >= dt ({} ms) for it to take effect, found {} ms: the refractory period is shorter than one step",
                        trim(timing.dt * 1e3),
                        trim(tau_ref * 1e3)
                    ),
                );
            }
        }
    }
}

pub(crate) fn trim(value: f64) -> String {
    let text = format!("{:.6}", value);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// Resolves a run's target; a model where a network belongs (or the reverse)
/// gets the hint and the quick fix that make it right.
/// A run block's target (`simulate TARGET on DATA`) of `kind`, and its dataset, resolved.
fn resolve_target_and_data(
    checker: &mut Checker,
    index: usize,
    item: &Item,
    kind: ItemKind,
) -> (Option<usize>, Option<usize>) {
    let target = item
        .target
        .as_ref()
        .and_then(|target| resolve_run_target(checker, index, target, kind));
    let dataset = item
        .data
        .as_ref()
        .and_then(|data| checker.resolve_item(data, &[ItemKind::Dataset], "a dataset after `on`"));
    (target, dataset)
}

fn resolve_run_target(
    checker: &mut Checker,
    index: usize,
    target: &crate::syntax::ast::Name,
    expected: ItemKind,
) -> Option<usize> {
    let Some(&found) = checker.analysis.names.get(&target.text) else {
        return checker.resolve_item(
            target,
            &[expected],
            &format!(
                "a {} to {}",
                expected.keyword(),
                checker.items()[index].kind.keyword()
            ),
        );
    };
    let found_kind = checker.items()[found].kind;
    if found_kind == expected {
        checker.reference(target.range, Def::Item(found), false);
        return Some(found);
    }
    checker.reference(target.range, Def::Item(found), false);
    if expected == ItemKind::Network && found_kind == ItemKind::Model {
        let fix = convert_block_fix(checker, found, Some((index, target.range)));
        checker.error_with_fix(
            target.range,
            "neuro/wrong-kind",
            format!("expected a network to simulate, found `{}` which is a model; convert it first with `network {}_snn = convert({}) {{ ... }}`", target.text, target.text, target.text),
            Some(fix),
        );
    } else if expected == ItemKind::Model && found_kind == ItemKind::Network {
        checker.error(
            target.range,
            "neuro/wrong-kind",
            format!("expected a model to infer, found `{}` which is a network; use `simulate {} on ...`", target.text, target.text),
        );
    } else {
        checker.error(
            target.range,
            "neuro/wrong-kind",
            format!(
                "expected a {}, found `{}` which is a {}",
                expected.keyword(),
                target.text,
                found_kind.keyword()
            ),
        );
    }
    None
}

/// "Insert a convert block for `m`": a converted network after the model
/// item, and (when fixing a simulate) the run retargeted to it.
pub fn convert_block_fix(
    checker: &Checker,
    model: usize,
    retarget: Option<(usize, TextRange)>,
) -> Fix {
    convert_block_fix_for(
        &checker.parse.ast.items,
        model,
        retarget.map(|(_, range)| range),
    )
}

pub fn convert_block_fix_for(items: &[Item], model: usize, retarget: Option<TextRange>) -> Fix {
    let model_item = &items[model];
    let model_name = model_item.label();
    let network_name = format!("{model_name}_snn");
    let calib = items
        .iter()
        .find(|item| item.kind == ItemKind::Dataset)
        .map(|item| item.label())
        .unwrap_or_else(|| "calib".to_string());
    let block = format!(
        "\n\nnetwork {network_name} = convert({model_name}) {{\n    neuron = if(threshold: 1.0, reset: subtract)\n    normalize = percentile(99.9, data: {calib})\n}}"
    );
    // After the model's last dataset/weights/model line keeps file items grouped.
    let mut edits = vec![TextEdit {
        range: TextRange::empty(model_item.range.end),
        new_text: block,
    }];
    if let Some(range) = retarget {
        edits.push(TextEdit {
            range,
            new_text: network_name.clone(),
        });
    }
    Fix {
        title: format!("Insert a convert block for `{model_name}`"),
        edits,
    }
}

fn check_record(
    checker: &mut Checker,
    value: &Expr,
    network: Option<usize>,
    dataset: Option<usize>,
    allowed: &[&str],
    simulate: bool,
) {
    let ExprKind::List(items) = &value.kind else {
        let expected = "a list such as `[accuracy]`";
        checker.expected_found(value.range, "neuro/invalid-value", expected);
        return;
    };
    for entry in items {
        match &entry.kind {
            ExprKind::Name(name) if allowed.contains(&name.text.as_str()) => {
                if name.text == "accuracy"
                    && dataset.is_some_and(|dataset| !checker.dataset_has_labels(dataset))
                {
                    checker.warning(
                        name.range,
                        "neuro/no-labels",
                        "expected the dataset to have labels (`y: \"key\"`) to record accuracy, found none".to_string(),
                    );
                }
            }
            ExprKind::Call(call) if simulate && call.callee.text == "raster" => {
                let Some(arg) = call.args.first() else {
                    checker.error(
                        call.callee.range,
                        "neuro/missing-argument",
                        "`raster` expects a layer, found none".to_string(),
                    );
                    continue;
                };
                // A written layer by name, or a converted model's node by its name as a string.
                let layer = match (&arg.value.kind, arg.value.as_name()) {
                    (_, Some(name)) => name.clone(),
                    (ExprKind::String(text), None) => crate::syntax::ast::Name {
                        text: text.clone(),
                        range: arg.value.range,
                    },
                    _ => continue,
                };
                if let Some(network) = network {
                    check_layer_name(checker, network, &layer);
                }
            }
            _ => {
                let mut options: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
                if simulate {
                    options.push("raster(LAYER)".to_string());
                }
                let expected = format!("one of {}", options.join(", "));
                checker.expected_found(entry.range, "neuro/invalid-value", expected);
            }
        }
    }
}

/// A layer of a network for `raster(LAYER)`: a written layer, or a node of
/// the converted model.
fn check_layer_name(checker: &mut Checker, network: usize, layer: &crate::syntax::ast::Name) {
    let item = &checker.items()[network];
    if let Some(entry) = item.entries().iter().position(|entry| {
        matches!(
            entry.kind,
            EntryKind::Layer | EntryKind::Output | EntryKind::Input
        ) && entry
            .name
            .as_ref()
            .is_some_and(|name| name.text == layer.text)
    }) && item.value.is_none()
    {
        checker.reference(layer.range, Def::Entry(network, entry), false);
        return;
    }
    if let Some(model) = checker.analysis.items[network]
        .source_model
        .and_then(|model| checker.model_of(model))
    {
        if model.ops.iter().any(|op| op.node == layer.text) {
            return;
        }
        checker.error(
            layer.range,
            "neuro/unknown-name",
            format!(
                "expected a node of the converted model, found unknown `{}`",
                layer.text
            ),
        );
        return;
    }
    if item.value.is_none() {
        checker.error(
            layer.range,
            "neuro/unknown-name",
            format!(
                "expected a layer of `{}`, found unknown `{}`",
                item.label(),
                layer.text
            ),
        );
    }
}

/// Every `tau_ref` in force for the LIF neurons of a network, with the
/// range to report at (the argument, or the call when the default applies).
fn neuron_tau_refs(checker: &Checker, network: usize) -> Vec<(f64, TextRange)> {
    let item = &checker.items()[network];
    let mut calls = Vec::new();
    for entry in item.entries() {
        let Some(call) = entry.value.as_ref().and_then(|value| value.as_call()) else {
            continue;
        };
        let is_neuron = match entry.kind {
            EntryKind::Layer | EntryKind::Output => item.value.is_none(),
            EntryKind::Setting => entry
                .name
                .as_ref()
                .is_some_and(|name| name.text == "neuron"),
            _ => false,
        };
        if is_neuron && call.callee.text == "lif" {
            calls.push(call);
        }
    }
    let mut out = Vec::new();
    for call in calls {
        match call.named("tau_ref") {
            Some(arg) => {
                if let Some((value, suffix, _, range)) = number_of(&arg.value)
                    && let Some(Unit::Time(factor)) = parse_unit(suffix)
                {
                    out.push((value * factor, range));
                }
            }
            None => out.push((2e-3, call.callee.range)),
        }
    }
    out
}

pub(super) fn check_infer(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    let (model, dataset) = resolve_target_and_data(checker, index, item, ItemKind::Model);
    if let (Some(model), Some(target)) = (model, &item.target)
        && let Some(facts) = checker.model_of(model)
        && facts.kind == crate::workspace::ModelKind::Snn
    {
        checker.error(
                    target.range,
                    "neuro/wrong-kind",
                    format!("expected an ML or DL model to infer, found `{}` which is a spiking network; simulate it instead", target.text),
                );
    }
    let has_mapping = item
        .entries()
        .iter()
        .any(|entry| entry.kind == EntryKind::Input);
    if let (Some(model), Some(dataset), Some(data), false) =
        (model, dataset, &item.data, has_mapping)
    {
        check_dataset_against(checker, dataset, model, data.range);
    }
    for entry in item.entries() {
        match entry.kind {
            EntryKind::Input => check_input_mapping(checker, entry, model),
            EntryKind::Setting => {
                let (Some(key), Some(value)) = (&entry.name, &entry.value) else {
                    continue;
                };
                match key.text.as_str() {
                    "record" => {
                        check_record(checker, value, None, dataset, catalog::INFER_RECORDS, false)
                    }
                    "batch" | "limit" => {
                        let what = format!("`{}`", key.text);
                        checker.check_value_kind(value, ValueKind::Int { min: 1 }, &what, None);
                    }
                    _ => unknown_setting(checker, key, catalog::INFER_SETTINGS),
                }
            }
            _ => misplaced(
                checker,
                entry,
                "an infer block",
                &format!(
                    "`input NAME = DATASET.key` mappings and {}",
                    settings_list(catalog::INFER_SETTINGS)
                ),
            ),
        }
    }
}

/// `input NAME = DATASET.key`: NAME is an input of the model, the key is in
/// the dataset's archive, and the shapes agree.
fn check_input_mapping(
    checker: &mut Checker,
    entry: &crate::syntax::ast::Entry,
    model: Option<usize>,
) {
    let Some(name) = &entry.name else { return };
    if entry.ty.is_some() {
        checker.error(
            entry.keyword_range,
            "neuro/misplaced",
            "expected `input NAME = DATASET.key` in an infer block, found a typed input"
                .to_string(),
        );
        return;
    }
    let mut input_shape = None;
    if let Some(model) = model {
        let inputs = checker.analysis.items[model].inputs.clone();
        match inputs.iter().find(|(input, _)| *input == name.text) {
            Some((_, shape)) => {
                input_shape = shape.clone();
                checker.reference(
                    name.range,
                    Def::ModelInput {
                        item: model,
                        name: name.text.clone(),
                    },
                    false,
                );
            }
            None if checker.analysis.items[model].model.is_some() => {
                let names: Vec<String> = inputs
                    .iter()
                    .map(|(input, _)| format!("`{input}`"))
                    .collect();
                checker.error(
                    name.range,
                    "neuro/unknown-name",
                    format!(
                        "expected an input of the model ({}), found `{}`",
                        names.join(", "),
                        name.text
                    ),
                );
            }
            None => {}
        }
    }
    let Some(value) = &entry.value else { return };
    let ExprKind::Field {
        base,
        field: Some(field),
    } = &value.kind
    else {
        checker.expected_found(value.range, "neuro/invalid-value", "`DATASET.key`");
        return;
    };
    let Some(dataset_name) = base.as_name() else {
        return;
    };
    let Some(dataset) = checker.resolve_item(dataset_name, &[ItemKind::Dataset], "a dataset")
    else {
        return;
    };
    checker.reference(
        field.range,
        Def::ArchiveKey {
            item: dataset,
            key: field.text.clone(),
        },
        false,
    );
    let Some(shape) = checker.archive_key_shape(dataset, &field.text, field.range) else {
        return;
    };
    let per_sample = shape.per_sample();
    if let Some(input_shape) = input_shape
        && !per_sample.compatible(&input_shape)
    {
        checker.error(
                value.range,
                "neuro/shape-mismatch",
                format!("expected samples shaped {input_shape} for model input `{}`, found {per_sample} in `{}.{}`", name.text, dataset_name.text, field.text),
            );
    }
}

/// `sweep NETWORK on DATASET { ... }`: a simulate block whose list-valued
/// settings are the axes of a grid (each element checked as the simulate
/// setting it is), plus `neuron`/`max_to_avg` for converted networks and
/// the sweep's own `jobs` and `random`.
pub(super) fn check_sweep(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    let (network, _) = resolve_network_and_dataset(checker, index, item);
    let converted = network.map(|n| checker.items()[n].value.is_some());
    let mut axes = 0;
    let settings = block_settings(checker, item, "a sweep block", catalog::SWEEP_SETTINGS);
    for (key, value) in settings {
        let name = key.text.as_str();
        let values: Vec<&Expr> = match &value.kind {
            ExprKind::List(_) if matches!(name, "jobs" | "random") => {
                checker.error(
                    value.range,
                    "neuro/invalid-value",
                    format!("expected one whole number for `{name}`, found a list"),
                );
                continue;
            }
            ExprKind::List(items) => {
                axes += 1;
                if items.is_empty() {
                    checker.error(
                        value.range,
                        "neuro/invalid-value",
                        format!("expected at least one value for `{name}`, found an empty list"),
                    );
                }
                items.iter().collect()
            }
            _ => vec![value],
        };
        if matches!(name, "neuron" | "max_to_avg") && converted == Some(false) {
            checker.error(
                key.range,
                "neuro/misplaced",
                format!(
                    "expected `{name}` only when sweeping a converted network (`network N = convert(MODEL)`), found it for a written network"
                ),
            );
            continue;
        }
        for value in values {
            match name {
                "dt" => checker.check_dt(value),
                "encode" => {
                    checker.check_encoder(value);
                }
                "decode" => checker.check_decoder(value),
                "neuron" => checker.check_neuron(value),
                "max_to_avg" => checker.check_max_to_avg(value),
                _ => {
                    let what = format!("`{name}`");
                    checker.check_value_kind(value, ValueKind::Int { min: 1 }, &what, None);
                }
            }
        }
    }
    if axes == 0 {
        let range = item.keyword_range;
        checker.error(
            range,
            "neuro/incomplete",
            "expected a setting with a list of values to sweep (e.g. `steps = [10, 20, 50]`), found none".to_owned(),
        );
    }
}
