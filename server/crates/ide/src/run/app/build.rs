//! From a checked `app` item to the runtime's [`App`]: sensors with their
//! sources (replay datasets read here), pipelines whose model stages are
//! compiled once, rules with their conditions and holds.

use super::stages::{InferStage, SpikingStage};
use super::{Outside, TopicSensor};
use crate::neuro::NeuroAnalysis;
use crate::run::data::Archives;
use crate::run::model::{Plan, Predictor};
use crate::run::{
    RunError, convert_settings, dataset, is_nir_network, item_named, item_path, lower,
    read_nir_network, settings, sim_options,
};
use neuride_app::{
    App, Element, Expr, Hold, Model, Pipeline, Rule, Sensor, Source, Stage, StageKind,
};
use neuride_convert::{Normalize, Tensor};
use neuride_dsl::check::{Unit, parse_unit, values_number};
use neuride_dsl::syntax::ast::{self, DimValue, Entry, EntryKind, ExprKind, ItemKind};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub(super) struct Built {
    pub app: App,
    pub models: Vec<Box<dyn Model>>,
    /// The model files the stages were compiled from.
    pub files: Vec<PathBuf>,
    pub topics: Vec<TopicSensor>,
    /// Why the app cannot share its mqtt topics with other instances:
    /// rules that hold over consecutive readings of an mqtt sensor.
    pub consecutive: Vec<String>,
}

/// What the builder keeps while it goes.
struct Builder<'a> {
    neuro: &'a NeuroAnalysis,
    models: Vec<Box<dyn Model>>,
    /// Model stages compiled so far, by item name (one plan per item).
    compiled: HashMap<String, usize>,
    files: Vec<PathBuf>,
    archives: Archives,
}

pub(super) fn build(
    neuro: &NeuroAnalysis,
    item: usize,
    outside: Outside,
) -> Result<Built, RunError> {
    let app_item = &neuro.parse.ast.items[item];
    let name = app_item.label();
    let mut builder = Builder {
        neuro,
        models: Vec::new(),
        compiled: HashMap::new(),
        files: Vec::new(),
        archives: Archives::default(),
    };
    let mut sensors = Vec::new();
    // Each replay sensor's dataset, for calibrating converted networks.
    let mut replayed: Vec<Option<Tensor>> = Vec::new();
    let mut topics = Vec::new();
    for entry in app_item
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Sensor)
    {
        let (sensor, data) = sensor(neuro, entry, outside)?;
        if let Source::External { topic, .. } = &sensor.source {
            topics.push(TopicSensor {
                sensor: sensors.len(),
                name: sensor.name.clone(),
                topic: topic.clone(),
            });
        }
        sensors.push(sensor);
        replayed.push(data);
    }
    let sensor_index = |text: &str| sensors.iter().position(|s| s.name == text);
    let mut pipelines = Vec::new();
    for entry in app_item
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Pipeline)
    {
        let [first, middle @ .., last] = entry.stages.as_slice() else {
            return Err(RunError::Setting(
                "expected `pipeline SENSOR -> ... -> OUTPUT`".into(),
            ));
        };
        let sensor = sensor_index(&first.text).ok_or_else(|| {
            RunError::Setting(format!(
                "pipeline `{}`: no sensor `{}`",
                last.text, first.text
            ))
        })?;
        let mut shape = sensors[sensor].shape.clone();
        let mut stages = Vec::new();
        for stage in middle {
            let kind = match StageKind::builtin(&stage.text) {
                Some(kind) => {
                    shape = match kind {
                        StageKind::Softmax => shape,
                        _ => vec![1],
                    };
                    kind
                }
                None => {
                    let model = builder
                        .model_stage(&stage.text, &shape, replayed[sensor].as_ref())
                        .map_err(|e| stage_error(&stage.text, e))?;
                    shape = vec![builder.models[model].output().width];
                    StageKind::Model(model)
                }
            };
            stages.push(Stage {
                label: stage.text.clone(),
                kind,
            });
        }
        pipelines.push(Pipeline {
            sensor,
            stages,
            output: last.text.clone(),
        });
    }
    let mut rules = Vec::new();
    let mut consecutive = Vec::new();
    for entry in app_item
        .entries()
        .iter()
        .filter(|e| e.kind == EntryKind::Rule)
    {
        let rule = rule(neuro, entry)?;
        if rule.hold.spans_readings() {
            for name in rule.condition.names() {
                let fed_by = sensor_index(name).or_else(|| {
                    pipelines
                        .iter()
                        .find(|p| p.output == name)
                        .map(|p| p.sensor)
                });
                if let Some(sensor) = fed_by
                    && let Source::External { topic, .. } = &sensors[sensor].source
                {
                    let hold = entry
                        .hold
                        .as_ref()
                        .map(|h| &neuro.text[h.range.start..h.range.end])
                        .unwrap_or_default();
                    consecutive.push(format!(
                        "rule `{}` holds `for {hold}` over `{name}`, which mqtt sensor `{}` (\"{topic}\") feeds: it needs every reading of that sensor in order, and with a shared group each instance sees only some of them; drop the shared group or the rule's `for`",
                        rule.name, sensors[sensor].name
                    ));
                }
            }
        }
        rules.push(rule);
    }
    Ok(Built {
        app: App {
            name,
            sensors,
            pipelines,
            rules,
        },
        models: builder.models,
        files: builder.files,
        topics,
        consecutive,
    })
}

/// A stage's error naming the stage (a file that cannot be read or found
/// already names itself).
fn stage_error(stage: &str, error: RunError) -> RunError {
    match error {
        RunError::Read(_) | RunError::Diagnostics(_) | RunError::NotFound(_) => error,
        other => other.map_message(|m| format!("stage `{stage}`: {m}")),
    }
}

/// `sensor NAME: TYPE @ RATE = SOURCE`, with a replay's dataset read.
fn sensor(
    neuro: &NeuroAnalysis,
    entry: &Entry,
    outside: Outside,
) -> Result<(Sensor, Option<Tensor>), RunError> {
    let name = entry
        .name
        .as_ref()
        .map(|n| n.text.clone())
        .ok_or_else(|| RunError::Setting("a sensor without a name".into()))?;
    let what = |message: String| RunError::Setting(format!("sensor `{name}`: {message}"));
    let ty = entry
        .ty
        .as_ref()
        .ok_or_else(|| what("expected a type such as `f32[4]`".into()))?;
    let element = Element::named(&ty.dtype.text)
        .ok_or_else(|| what(format!("unknown element type `{}`", ty.dtype.text)))?;
    let rate_hz = match &entry.rate {
        Some(rate) => settings::number(rate)?,
        None => return Err(what("expected a rate (`@ 5Hz`)".into())),
    };
    let call = entry
        .value
        .as_ref()
        .and_then(|v| v.as_call())
        .ok_or_else(|| what("expected `replay(DATASET)` or `mqtt(\"topic\")`".into()))?;
    let argument = call.args.first().map(|a| &a.value);
    let (source, data, data_shape) = match call.callee.text.as_str() {
        "replay" => {
            let dataset_name = argument
                .and_then(|a| a.as_name())
                .ok_or_else(|| what("expected `replay(DATASET)`".into()))?;
            let data = dataset(
                neuro,
                item_named(neuro, &dataset_name.text, ItemKind::Dataset)?,
            )?;
            let rows = data.inputs(&AtomicBool::new(false))?;
            let shape: Vec<usize> = rows.shape.iter().skip(1).copied().collect();
            let count = rows.shape.first().copied().unwrap_or(0);
            let source = Source::Replay {
                rows: Arc::from(rows.data.as_slice()),
                count,
            };
            (source, Some(rows), Some(shape))
        }
        "mqtt" => {
            let topic = argument
                .and_then(|a| a.as_string())
                .ok_or_else(|| what("expected `mqtt(\"topic\")`".into()))?;
            let source = Source::External {
                topic: topic.to_owned(),
                live: outside.connected,
            };
            (source, None, None)
        }
        other => return Err(what(format!("unknown source `{other}`"))),
    };
    let mut shape = Vec::new();
    for (axis, dim) in ty.dims.iter().enumerate() {
        shape.push(match (&dim.value, &data_shape) {
            (DimValue::Known(n), _) => *n as usize,
            (DimValue::Symbolic(_), Some(data)) if data.len() == ty.dims.len() => data[axis],
            _ => {
                return Err(what(format!(
                    "dimension {} must be a number for this source",
                    axis + 1
                )));
            }
        });
    }
    if let Some(data_shape) = data_shape {
        let width: usize = shape.iter().product();
        if data_shape.iter().product::<usize>() != width {
            return Err(what(format!(
                "expected dataset rows of {width} values ({shape:?}), found rows shaped {data_shape:?}"
            )));
        }
    }
    Ok((
        Sensor {
            name,
            shape,
            element,
            rate_hz,
            source,
        },
        data,
    ))
}

/// `rule NAME when CONDITION (for HOLD)? => emit "EVENT"`.
fn rule(neuro: &NeuroAnalysis, entry: &Entry) -> Result<Rule, RunError> {
    let name = entry
        .name
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    let condition = entry
        .value
        .as_ref()
        .ok_or_else(|| RunError::Setting(format!("rule `{name}`: expected `when CONDITION`")))?;
    let condition = expression(condition).map_err(|found| {
        RunError::Setting(format!(
            "rule `{name}`: expected names, numbers and comparisons, found {found}"
        ))
    })?;
    let hold = match &entry.hold {
        None => Hold::Count(1),
        Some(hold) => {
            let written = &neuro.text[hold.range.start..hold.range.end];
            let bad = || {
                RunError::Setting(format!(
                    "rule `{name}`: expected `for` a whole number of readings >= 1 or a time, found `{written}`"
                ))
            };
            let (value, suffix, is_integer, _) = values_number(hold).ok_or_else(bad)?;
            match parse_unit(suffix) {
                Some(Unit::None) if is_integer && value >= 1.0 => Hold::Count(value as u64),
                Some(Unit::Time(factor)) if value > 0.0 => Hold::Seconds(value * factor),
                _ => return Err(bad()),
            }
        }
    };
    let event = entry
        .emit
        .as_ref()
        .map(|(event, _)| event.clone())
        .ok_or_else(|| RunError::Setting(format!("rule `{name}`: expected `=> emit \"EVENT\"`")))?;
    Ok(Rule {
        name,
        condition,
        hold,
        event,
    })
}

/// A condition in the runtime's terms; the error describes what is not.
fn expression(expr: &ast::Expr) -> Result<Expr, String> {
    Ok(match &expr.kind {
        ExprKind::Name(name) => Expr::Name(name.text.clone()),
        ExprKind::Number { value, unit, .. } if unit.is_empty() => Expr::Number(*value),
        ExprKind::Number { value, unit, .. } => {
            return Err(format!("`{value}{unit}` (a number with a unit)"));
        }
        ExprKind::Bool(value) => Expr::Bool(*value),
        ExprKind::Paren(inner) => expression(inner)?,
        ExprKind::Neg(inner) => Expr::Neg(Box::new(expression(inner)?)),
        ExprKind::Binary { op, lhs, rhs } => {
            Expr::Compare(*op, Box::new(expression(lhs)?), Box::new(expression(rhs)?))
        }
        ExprKind::String(text) => return Err(format!("the string \"{text}\"")),
        _ => return Err("an expression of another kind".into()),
    })
}

impl Builder<'_> {
    /// The model stage for item `name`, compiled on first use; `shape` is
    /// what flows into it, `replayed` the sensor's dataset (calibration data
    /// of last resort for a converted network).
    fn model_stage(
        &mut self,
        name: &str,
        shape: &[usize],
        replayed: Option<&Tensor>,
    ) -> Result<usize, RunError> {
        if let Some(&index) = self.compiled.get(name) {
            return Ok(index);
        }
        let neuro = self.neuro;
        let item = *neuro
            .analysis
            .names
            .get(name)
            .ok_or_else(|| RunError::Setting(format!("no network or model `{name}`")))?;
        let stage: Box<dyn Model> = match neuro.parse.ast.items[item].kind {
            ItemKind::Network => self.network_stage(item, shape, replayed)?,
            ItemKind::Model => self.onnx_stage(item, shape)?,
            other => {
                return Err(RunError::Setting(format!(
                    "expected a network or a model, found a {}",
                    other.keyword()
                )));
            }
        };
        self.models.push(stage);
        self.compiled.insert(name.to_owned(), self.models.len() - 1);
        Ok(self.models.len() - 1)
    }

    /// A network with the settings of its first `simulate` block (the
    /// language's defaults without one).
    fn network_stage(
        &mut self,
        item: usize,
        shape: &[usize],
        replayed: Option<&Tensor>,
    ) -> Result<Box<dyn Model>, RunError> {
        let neuro = self.neuro;
        let network = &neuro.parse.ast.items[item];
        let name = network.label();
        let simulate = neuro.parse.ast.items.iter().find(|i| {
            i.kind == ItemKind::Simulate && i.target.as_ref().is_some_and(|t| t.text == name)
        });
        let block = |key: &str| simulate.and_then(|s| super::super::setting(s, key));
        let mut sim = sim_options(&block)?;
        let spiking = match &network.value {
            None => lower::lower(neuro, item, shape, &mut self.archives)?.network,
            Some(_) if is_nir_network(network) => {
                let read = read_nir_network(neuro, item, &mut sim, block("dt").is_some())?;
                if read.inputs.len() > 1 {
                    return Err(RunError::Unsupported(format!(
                        "`{name}` has {} inputs: a pipeline stage takes one stream",
                        read.inputs.len()
                    )));
                }
                self.files.push(item_path(neuro, item)?);
                read.network
            }
            Some(value) => {
                let source = value
                    .as_call()
                    .and_then(|call| call.args.first())
                    .and_then(|arg| arg.value.as_name())
                    .ok_or_else(|| RunError::Setting("expected `convert(MODEL)`".into()))?;
                let model_path =
                    item_path(neuro, item_named(neuro, &source.text, ItemKind::Model)?)?;
                let never = AtomicBool::new(false);
                let (convert, calib, weights) = convert_settings(
                    neuro,
                    &name,
                    &|key| super::super::setting(network, key),
                    &never,
                )?;
                let calib = match calib {
                    Some(calib) => Some(calib),
                    None if convert.normalize == Normalize::None => None,
                    // What `neuride simulate` calibrates on: the simulated
                    // dataset; else the data the sensor replays.
                    None => match simulate.and_then(|s| s.data.as_ref()) {
                        Some(data) => Some(
                            dataset(neuro, item_named(neuro, &data.text, ItemKind::Dataset)?)?
                                .inputs(&never)?,
                        ),
                        None => Some(replayed.cloned().ok_or_else(|| {
                            RunError::Setting(format!(
                                "network `{name}` normalizes on data: give `normalize = percentile(99.9, data: D)` (no simulate block or replayed dataset to take it from)"
                            ))
                        })?),
                    },
                };
                let model = crate::run::model::load(&model_path)?;
                let converted = crate::run::model::convert_loaded(
                    &model,
                    &model_path,
                    weights.as_ref(),
                    calib.as_ref(),
                    &convert,
                    &format!("`{name}`"),
                )?;
                self.files.push(model_path);
                converted.network
            }
        };
        Ok(Box::new(
            SpikingStage::new(spiking, &sim).map_err(RunError::Failed)?,
        ))
    }

    /// An ONNX model where the router sends it (as `neuride serve` loads
    /// it): spiking neuron ops to the simulator (the language's default
    /// steps), the rest to an inference session.
    fn onnx_stage(&mut self, item: usize, shape: &[usize]) -> Result<Box<dyn Model>, RunError> {
        let path = item_path(self.neuro, item)?;
        let plan = Predictor::load(&path)?.into_plan();
        self.files.push(path.clone());
        Ok(match plan {
            Plan::Spiking(network) => Box::new(
                SpikingStage::new(network, &sim_options(&|_| None)?).map_err(RunError::Failed)?,
            ),
            Plan::Engine(session) => Box::new(
                InferStage::new(session, shape.iter().product())
                    .map_err(|e| RunError::Failed(format!("{}: {e}", path.display())))?,
            ),
        })
    }
}
