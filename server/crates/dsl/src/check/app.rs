//! `app` blocks: sensors (type, rate, source), pipelines (stage by stage the
//! shapes and kinds must connect, and each network must keep up with the
//! sensor's rate) and rules (names, hold, emitted event).

use super::network::misplaced;
use super::runs::{timing_of, trim};
use super::values::{Value, number_of, parse_unit};
use super::{Checker, Def, Unit};
use crate::catalog::{self, CallKind, ValueKind};
use crate::fxhash::{FxHashMap, FxHashSet};
use crate::syntax::ast::{EntryKind, ExprKind, ItemKind, Name};
use crate::workspace::Shape;

/// What flows between pipeline stages.
#[derive(Clone, Debug, PartialEq)]
pub enum Flow {
    Tensor(Option<Shape>),
    /// A class index (after `argmax`).
    Class,
    Scalar,
}

impl Flow {
    pub fn describe(&self) -> String {
        match self {
            Flow::Tensor(Some(shape)) => format!("a tensor {shape}"),
            Flow::Tensor(None) => "a tensor".to_string(),
            Flow::Class => "a class index".to_string(),
            Flow::Scalar => "a scalar".to_string(),
        }
    }
}

pub(super) fn check_app<'a>(checker: &mut Checker<'a>, index: usize) {
    let item = &checker.items()[index];
    // Local names: sensors and pipeline sinks, with their flow and rate.
    let mut locals: FxHashMap<&str, (usize, Flow)> = FxHashMap::default();
    let mut rates: FxHashMap<usize, f64> = FxHashMap::default();
    for (entry_index, entry) in item.entries().iter().enumerate() {
        if entry.kind != EntryKind::Sensor {
            continue;
        }
        let Some(name) = &entry.name else { continue };
        checker.reference(name.range, Def::Entry(index, entry_index), true);
        let shape = entry
            .ty
            .as_ref()
            .and_then(|ty| checker.tensor_type_shape(ty));
        if let Some(rate) = &entry.rate
            && let Value::Hertz(hertz) = checker.check_value_kind(
                rate,
                ValueKind::Freq,
                &format!("the rate of sensor `{}`", name.text),
                None,
            )
        {
            rates.insert(entry_index, hertz);
        }
        if let Some(source) = &entry.value
            && let Some(values) = checker.check_kind_call(
                source,
                CallKind::SensorSource,
                "a sensor source (replay(DATASET), mqtt(\"topic\"))",
                true,
            )
            && let (Some(Value::Item(dataset)), Some(shape)) = (values.get("data"), &shape)
            && let Some(data_shape) = checker.dataset_input_shape(*dataset)
            && !data_shape.compatible(shape)
        {
            checker.error(
                                source.range,
                                "neuro/shape-mismatch",
                                format!("expected readings shaped {shape} for sensor `{}`, found {data_shape} in dataset `{}`", name.text, checker.items()[*dataset].label()),
                            );
        }
        if locals
            .insert(name.text.as_str(), (entry_index, Flow::Tensor(shape)))
            .is_some()
        {
            checker.error(
                name.range,
                "neuro/duplicate-name",
                format!("expected a new sensor name, found `{}` again", name.text),
            );
        }
    }
    for (entry_index, entry) in item.entries().iter().enumerate() {
        match entry.kind {
            EntryKind::Sensor => {}
            EntryKind::Pipeline => check_pipeline(checker, index, entry_index, &mut locals, &rates),
            EntryKind::Rule => {}
            _ => misplaced(checker, entry, "an app", "sensor, pipeline or rule"),
        }
    }
    let mut rule_names = FxHashSet::default();
    for (entry_index, entry) in item.entries().iter().enumerate() {
        if entry.kind != EntryKind::Rule {
            continue;
        }
        if let Some(name) = &entry.name {
            checker.reference(name.range, Def::Entry(index, entry_index), true);
            if !rule_names.insert(name.text.as_str()) {
                checker.error(
                    name.range,
                    "neuro/duplicate-name",
                    format!("expected a new rule name, found `{}` again", name.text),
                );
            }
        }
        if let Some(condition) = &entry.value {
            let mut names = Vec::new();
            condition.walk(&mut |expr| {
                if let ExprKind::Name(name) = &expr.kind {
                    names.push(name);
                }
            });
            for name in names {
                match locals.get(name.text.as_str()) {
                    Some((local, _)) => {
                        checker.reference(name.range, Def::Entry(index, *local), false)
                    }
                    None => {
                        let mut known: Vec<String> =
                            locals.keys().map(|key| format!("`{key}`")).collect();
                        known.sort();
                        checker.error(
                            name.range,
                            "neuro/unknown-name",
                            format!(
                                "expected a sensor or pipeline output of this app ({}), found `{}`",
                                known.join(", "),
                                name.text
                            ),
                        );
                    }
                }
            }
        }
        if let Some(hold) = &entry.hold
            && let Some((value, suffix, is_integer, range)) = number_of(hold)
        {
            match parse_unit(suffix) {
                Some(Unit::None) if !is_integer || value < 1.0 => {
                    checker.error(
                        range,
                        "neuro/range",
                        format!(
                            "expected `for` a whole number of readings >= 1 or a time, found {}",
                            &checker.parse.text[range.start..range.end]
                        ),
                    );
                }
                Some(Unit::Time(_)) if value <= 0.0 => {
                    checker.error(
                        range,
                        "neuro/range",
                        "expected `for` a time > 0".to_string(),
                    );
                }
                Some(Unit::Freq(_)) | None => {
                    checker.error(
                        range,
                        "neuro/unit",
                        format!(
                            "expected `for` a count or a time, found `{}`",
                            &checker.parse.text[range.start..range.end]
                        ),
                    );
                }
                _ => {}
            }
        }
        if let Some((event, range)) = &entry.emit
            && event.is_empty()
        {
            checker.error(
                *range,
                "neuro/invalid-value",
                "expected a non-empty event name, found \"\"".to_string(),
            );
        }
    }
}

fn check_pipeline<'a>(
    checker: &mut Checker<'a>,
    app: usize,
    entry_index: usize,
    locals: &mut FxHashMap<&'a str, (usize, Flow)>,
    rates: &FxHashMap<usize, f64>,
) {
    let entry = checker.entry(app, entry_index);
    let stages = &entry.stages;
    if stages.len() < 2 {
        checker.error(
            entry.range,
            "neuro/pipeline",
            "expected `pipeline SENSOR -> ... -> OUTPUT` with at least two stages, found fewer"
                .to_string(),
        );
        return;
    }
    let first = &stages[0];
    let Some((sensor_entry, mut flow)) = locals.get(first.text.as_str()).cloned() else {
        checker.error(
            first.range,
            "neuro/pipeline",
            format!(
                "expected a sensor of this app to start the pipeline, found `{}`",
                first.text
            ),
        );
        return;
    };
    checker.reference(first.range, Def::Entry(app, sensor_entry), false);
    let sensor_rate = rates.get(&sensor_entry).copied();
    let middle = &stages[1..stages.len() - 1];
    for stage in middle {
        if catalog::PIPELINE_STAGES
            .iter()
            .any(|(name, _)| *name == stage.text)
        {
            let Flow::Tensor(shape) = &flow else {
                not_a_tensor(checker, stage, &flow);
                return;
            };
            flow = match stage.text.as_str() {
                "argmax" => Flow::Class,
                "softmax" => Flow::Tensor(shape.clone()),
                _ => Flow::Scalar,
            };
            continue;
        }
        let Some(&item) = checker.analysis.names.get(&stage.text) else {
            let stages: Vec<&str> = catalog::PIPELINE_STAGES
                .iter()
                .map(|(name, _)| *name)
                .collect();
            checker.error(
                stage.range,
                "neuro/unknown-name",
                format!(
                    "expected a network, a model or a stage ({}), found unknown `{}`",
                    stages.join(", "),
                    stage.text
                ),
            );
            return;
        };
        checker.reference(stage.range, Def::Item(item), false);
        let kind = checker.items()[item].kind;
        if !matches!(kind, ItemKind::Network | ItemKind::Model) {
            checker.error(
                stage.range,
                "neuro/pipeline",
                format!(
                    "expected a network or a model as a stage, found `{}` which is a {}",
                    stage.text,
                    kind.keyword()
                ),
            );
            return;
        }
        let info = checker.analysis.items[item].clone();
        if kind == ItemKind::Network && info.inputs.len() > 1 {
            let names: Vec<String> = info.inputs.iter().map(|(n, _)| format!("`{n}`")).collect();
            checker.error(
                stage.range,
                "neuro/pipeline",
                format!("`{}` has {} inputs ({}): a pipeline stage takes one stream; simulate it on a dataset with an array per input", stage.text, names.len(), names.join(", ")),
            );
            return;
        }
        match (&flow, info.inputs.first()) {
            (Flow::Tensor(Some(shape)), Some((input, Some(expected))))
                if !shape.compatible(expected) =>
            {
                checker.error(
                    stage.range,
                    "neuro/pipeline",
                    format!("expected {expected} into input `{input}` of `{}`, found {shape} from the previous stage", stage.text),
                );
                return;
            }
            (Flow::Class | Flow::Scalar, _) => {
                not_a_tensor(checker, stage, &flow);
                return;
            }
            _ => {}
        }
        if kind == ItemKind::Network {
            check_rate(checker, item, stage, sensor_rate, &first.text);
        }
        flow = match info.outputs.first() {
            Some((_, shape)) => Flow::Tensor(shape.clone()),
            None => Flow::Tensor(None),
        };
        // A classifier's label output is already a class.
        if kind == ItemKind::Model
            && let Some(facts) = &info.model
            && facts.outputs.first().is_some_and(|output| {
                output.elem_type.starts_with('i')
                    && output.shape.as_ref().is_some_and(|s| s.rank() <= 1)
            })
        {
            flow = Flow::Class;
        }
    }
    let sink = &stages[stages.len() - 1];
    if let Some(&item) = checker.analysis.names.get(&sink.text) {
        checker.error(
            sink.range,
            "neuro/pipeline",
            format!(
                "expected a new name for the pipeline's output, found `{}` which is a {}",
                sink.text,
                checker.items()[item].kind.keyword()
            ),
        );
        return;
    }
    checker.reference(sink.range, Def::Entry(app, entry_index), true);
    if locals
        .insert(sink.text.as_str(), (entry_index, flow))
        .is_some()
    {
        checker.error(
            sink.range,
            "neuro/duplicate-name",
            format!(
                "expected a new name for the pipeline's output, found `{}` again",
                sink.text
            ),
        );
    }
}

/// A network needs `steps × dt` per reading; the sensor must not be faster.
/// A stage that takes a tensor met a class index or a scalar.
fn not_a_tensor(checker: &mut Checker, stage: &Name, flow: &Flow) {
    checker.error(
        stage.range,
        "neuro/pipeline",
        format!(
            "expected a tensor into `{}`, found {}",
            stage.text,
            flow.describe()
        ),
    );
}

fn check_rate(
    checker: &mut Checker,
    network: usize,
    stage: &Name,
    sensor_rate: Option<f64>,
    sensor: &str,
) {
    let Some(rate) = sensor_rate else { return };
    let simulate = checker
        .simulate_of(&stage.text)
        .map(|index| &checker.items()[index]);
    let timing = match simulate {
        Some(item) => timing_of(&checker.parse.text, item),
        None => super::runs::Timing {
            dt: catalog::DEFAULT_DT_SECONDS,
            steps: catalog::DEFAULT_STEPS,
        },
    };
    let window = timing.dt * timing.steps as f64;
    if rate * window > 1.0 + 1e-9 {
        checker.error(
            stage.range,
            "neuro/rate",
            format!(
                "expected sensor `{sensor}` at most {} Hz for `{}` ({} steps x {} ms = {} ms per reading), found {} Hz",
                trim(1.0 / window),
                stage.text,
                timing.steps,
                trim(timing.dt * 1e3),
                trim(window * 1e3),
                trim(rate)
            ),
        );
    }
    let _ = network;
}
