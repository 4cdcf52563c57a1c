//! Sweeps: one simulation per combination of settings (a grid, or `random`
//! combinations drawn from it), run in parallel on the machine's cores,
//! with progress and cancellation. The result lists every trial's
//! accuracy, accuracy after each step, synaptic operations and wall time,
//! and the Pareto front over (accuracy up, synops down, steps down): the
//! best trade-offs of accuracy against time steps.
//!
//! A sweep runs what `neuride simulate` runs: an ONNX model with the
//! simulate options ([`sweep_model`]), or a `.neuro` file's `simulate`
//! block with a grid given by the caller, or its `sweep` item whose list
//! settings are the grid ([`sweep_neuro`]). The data and the network are
//! read once ([`super::Prepared`]); each trial only changes the options.

pub mod plot;

use super::model::{SimulateModel, decode, encode, neuron, normalize, prepare_model};
use super::{Prepared, RunError, RunKind, Simulated, conversion_neuron, settings};
use crate::neuro::NeuroAnalysis;
use neuride_convert::{Decode, Encode, IfNeuron, Neuron, Normalize, SimulateOptions};
use neuride_dsl::syntax::ast::{Expr, ExprKind};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The settings a sweep varies, as `--grid NAME=V1,V2` names them.
pub const SWEEP_SETTINGS: &[(&str, &str)] = &[
    ("steps", "time steps per sample"),
    ("dt", "step length (`1ms`; a bare number is milliseconds)"),
    ("encode", "current, rate, latency or delta"),
    ("decode", "auto, count, membrane or first_spike"),
    ("neuron", "if, lif or leaky (converted networks)"),
    (
        "threshold",
        "the neurons' threshold (if, leaky; converted networks)",
    ),
    ("beta", "the leaky neuron's leak (converted networks)"),
    (
        "initial_membrane",
        "starting membrane, a fraction of the threshold (converted networks)",
    ),
    (
        "normalize",
        "none, max or percentile:P (converted networks)",
    ),
    ("max_to_avg", "true or false (converted networks)"),
    ("seed", "the rate encoder's seed"),
    ("batch", "samples simulated together"),
    ("limit", "simulate only the first N samples"),
];

/// What a sweep varies and how it runs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sweep {
    /// `NAME -> values`, in order; JSON takes an object (`{"steps": [5,
    /// 10]}`) or a list of `{"name", "values"}`.
    #[serde(deserialize_with = "grid_from_json")]
    pub grid: Vec<GridAxis>,
    /// Run only this many combinations, drawn at random from the grid.
    pub random: Option<usize>,
    /// Seed of the random draw.
    pub seed: u64,
    /// Trials run at once (default: the machine's cores).
    pub jobs: Option<usize>,
}

/// One setting and the values it takes, as written (`steps`, `["5", "10"]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct GridAxis {
    pub name: String,
    pub values: Vec<String>,
}

impl GridAxis {
    /// `NAME=V1,V2,...`.
    pub fn parse(text: &str) -> Result<GridAxis, RunError> {
        let (name, values) = text.split_once('=').ok_or_else(|| {
            RunError::Setting(format!(
                "--grid takes NAME=V1,V2,... (e.g. steps=10,20,50), found '{text}'"
            ))
        })?;
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(RunError::Setting(format!(
                "--grid {name}= has no values (expected NAME=V1,V2,...)"
            )));
        }
        Ok(GridAxis {
            name: name.trim().to_owned(),
            values,
        })
    }
}

fn grid_from_json<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<GridAxis>, D::Error> {
    use serde::de::Error;
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(D::Error::custom(format!(
            "grid values must be numbers, words or booleans, found {other}"
        ))),
    };
    let values = |name: &str, list: &serde_json::Value| match list {
        serde_json::Value::Array(items) => items.iter().map(text).collect(),
        other => Err(D::Error::custom(format!(
            "grid \"{name}\" must list its values, found {other}"
        ))),
    };
    match serde_json::Value::deserialize(de)? {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(name, list)| {
                Ok(GridAxis {
                    name: name.clone(),
                    values: values(name, list)?,
                })
            })
            .collect(),
        serde_json::Value::Array(axes) => axes
            .into_iter()
            .map(|axis| serde_json::from_value(axis).map_err(D::Error::custom))
            .collect(),
        other => Err(D::Error::custom(format!(
            "\"grid\" must be an object {{\"steps\": [10, 20]}}, found {other}"
        ))),
    }
}

/// One setting of a trial, typed.
#[derive(Clone, Debug, PartialEq)]
enum Setting {
    Steps(usize),
    /// Seconds.
    Dt(f32),
    Encode(Encode),
    Decode(Decode),
    /// The neuron, and its starting membrane when written.
    Neuron(Neuron, Option<f32>),
    Threshold(f32),
    Beta(f32),
    InitialMembrane(f32),
    Normalize(Normalize),
    MaxToAvg(bool),
    Seed(u64),
    Batch(usize),
    Limit(usize),
}

impl Setting {
    /// Settings that change the conversion (meaningless for a written network).
    fn converts(&self) -> bool {
        matches!(
            self,
            Setting::Neuron(..)
                | Setting::Threshold(_)
                | Setting::Beta(_)
                | Setting::InitialMembrane(_)
                | Setting::Normalize(_)
                | Setting::MaxToAvg(_)
        )
    }

    fn apply(&self, options: &mut SimulateOptions) -> Result<(), String> {
        match *self {
            Setting::Steps(steps) => options.sim.steps = steps,
            Setting::Dt(dt) => options.sim.dt = dt,
            Setting::Encode(encode) => options.sim.encode = encode,
            Setting::Decode(decode) => options.sim.decode = decode,
            Setting::Neuron(neuron, initial) => {
                options.convert.neuron = neuron;
                if let Some(initial) = initial {
                    options.convert.initial_membrane = initial;
                }
            }
            Setting::Threshold(value) => match &mut options.convert.neuron {
                Neuron::If(IfNeuron { threshold, .. })
                | Neuron::Leaky { threshold, .. }
                | Neuron::Synaptic { threshold, .. } => *threshold = value,
                Neuron::Nir(nir) => nir.v_threshold = value,
                Neuron::Lif { .. } => {
                    return Err("`threshold` applies to if and leaky neurons, not lif".into());
                }
            },
            Setting::Beta(value) => match &mut options.convert.neuron {
                Neuron::Leaky { beta, .. } | Neuron::Synaptic { beta, .. } => *beta = value,
                _ => return Err("`beta` applies to the leaky neuron (set neuron=leaky)".into()),
            },
            Setting::InitialMembrane(value) => options.convert.initial_membrane = value,
            Setting::Normalize(normalize) => options.convert.normalize = normalize,
            Setting::MaxToAvg(value) => options.convert.max_to_avg = value,
            Setting::Seed(value) => match &mut options.sim.encode {
                Encode::Rate { seed, .. } => *seed = value,
                _ => return Err("`seed` applies to rate encoding (set encode=rate)".into()),
            },
            Setting::Batch(batch) => options.sim.batch = batch.max(1),
            Setting::Limit(limit) => options.limit = Some(limit),
        }
        Ok(())
    }
}

/// A parameter's value as reported: a number when it is one.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Number(f64),
    Bool(bool),
    Text(String),
}

impl ParamValue {
    fn of_text(text: &str) -> ParamValue {
        if let Ok(number) = text.parse::<f64>() {
            ParamValue::Number(number)
        } else if let Ok(value) = text.parse::<bool>() {
            ParamValue::Bool(value)
        } else {
            ParamValue::Text(text.to_owned())
        }
    }

    pub fn label(&self) -> String {
        match self {
            ParamValue::Number(n) => format!("{n}"),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Text(t) => t.clone(),
        }
    }
}

/// A trial's parameters, in the grid's order (a JSON object).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params(pub Vec<(String, ParamValue)>);

impl Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    /// `encode=rate threshold=0.8` (every parameter but `except`).
    pub fn label_without(&self, except: &str) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .filter(|(n, _)| n != except)
            .map(|(n, v)| format!("{n}={}", v.label()))
            .collect();
        if parts.is_empty() {
            "all trials".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

/// One trial's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trial {
    pub params: Params,
    /// Final accuracy (None without labels or when the trial failed).
    pub accuracy: Option<f64>,
    /// Accuracy when decoding after step 1, 2, ...
    pub accuracy_per_step: Vec<f64>,
    /// Synaptic operations per sample.
    pub synops: f64,
    /// The ANN's multiply-accumulates per sample.
    pub macs: f64,
    pub steps: usize,
    pub samples: usize,
    pub sparsity: f64,
    pub ann_accuracy: Option<f64>,
    pub wall_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a sweep returns (`neuride sweep --format json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepReport {
    /// The model or `.neuro` block swept.
    pub target: String,
    /// The grid's setting names, in order.
    pub axes: Vec<String>,
    /// Combinations in the grid (before `random`).
    pub grid_size: usize,
    pub jobs: usize,
    pub wall_s: f64,
    pub results: Vec<Trial>,
    /// The trials no other trial beats on accuracy, synops and steps at
    /// once, by steps then synops.
    pub pareto: Vec<Trial>,
}

/// Progress after each finished trial.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepProgress {
    pub done: usize,
    pub total: usize,
    /// The finished trial, as `name=value` pairs.
    pub params: String,
    pub accuracy: Option<f64>,
}

/// One axis: the setting per value and each value's label.
struct Axis {
    name: String,
    settings: Vec<Setting>,
    labels: Vec<ParamValue>,
}

/// Sweeps an ONNX model: `base` as `neuride simulate MODEL` takes it, the
/// grid's settings changed per trial.
pub fn sweep_model(
    model: &Path,
    base: &SimulateModel,
    sweep: &Sweep,
    progress: &(dyn Fn(SweepProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<SweepReport, RunError> {
    if sweep.grid.is_empty() {
        return Err(RunError::Setting(
            "a sweep needs a grid: --grid NAME=V1,V2,... (e.g. --grid steps=10,20,50)".to_owned(),
        ));
    }
    let axes = text_axes(&sweep.grid, base.conversion.beta, base.seed)?;
    let prepared = prepare_model(model, base)?;
    run(
        &model.display().to_string(),
        &prepared,
        axes,
        sweep,
        progress,
        cancel,
    )
}

/// Sweeps a `.neuro` file: with a grid in `sweep`, the `simulate` block
/// `name` picks; without one, the `sweep` item `name` picks (its list
/// settings are the grid; `sweep`'s `jobs` and `random` win over its own).
pub fn sweep_neuro(
    neuro: &NeuroAnalysis,
    name: Option<&str>,
    sweep: &Sweep,
    progress: &(dyn Fn(SweepProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<SweepReport, RunError> {
    super::in_neuro_file(neuro, || {
        super::ensure_clean(neuro)?;
        if !sweep.grid.is_empty() {
            let run_item = super::find_run(neuro, RunKind::Simulate, name)?;
            let item = &neuro.parse.ast.items[run_item.item];
            let prepared =
                super::prepare_block(neuro, &run_item, &|key| super::setting(item, key), cancel)?;
            let (beta, seed) = match (
                &prepared.options.convert.neuron,
                &prepared.options.sim.encode,
            ) {
                (Neuron::Leaky { beta, .. }, Encode::Rate { seed, .. }) => (*beta, *seed),
                (Neuron::Leaky { beta, .. }, _) => (*beta, 0),
                (_, Encode::Rate { seed, .. }) => (super::model::DEFAULT_BETA, *seed),
                _ => (super::model::DEFAULT_BETA, 0),
            };
            let axes = text_axes(&sweep.grid, beta, seed)?;
            return run(&run_item.label(), &prepared, axes, sweep, progress, cancel);
        }
        let run_item = super::find_run(neuro, RunKind::Sweep, name)?;
        let item = &neuro.parse.ast.items[run_item.item];
        // Lists are the grid; single values set the base like a simulate block's.
        let single =
            |key: &str| super::setting(item, key).filter(|e| !matches!(e.kind, ExprKind::List(_)));
        let prepared = super::prepare_block(neuro, &run_item, &single, cancel)?;
        let mut axes = Vec::new();
        for entry in item.entries() {
            let (Some(key), Some(value)) = (&entry.name, &entry.value) else {
                continue;
            };
            let ExprKind::List(values) = &value.kind else {
                continue;
            };
            axes.push(neuro_axis(&key.text, values, &neuro.text)?);
        }
        if axes.is_empty() {
            return Err(RunError::Setting(format!(
                "`{}`: a sweep needs at least one setting with a list of values (e.g. `steps = [10, 20, 50]`)",
                run_item.label()
            )));
        }
        let mut sweep = sweep.clone();
        if sweep.jobs.is_none()
            && let Some(jobs) = single("jobs")
        {
            sweep.jobs = Some(settings::count(jobs)?);
        }
        if sweep.random.is_none()
            && let Some(random) = single("random")
        {
            sweep.random = Some(settings::count(random)?);
        }
        run(&run_item.label(), &prepared, axes, &sweep, progress, cancel)
    })
}

/// The grid's axes from words (`--grid`, or the server's JSON).
fn text_axes(grid: &[GridAxis], beta: f32, seed: u64) -> Result<Vec<Axis>, RunError> {
    let mut axes: Vec<Axis> = Vec::new();
    for axis in grid {
        if axes.iter().any(|a| a.name == axis.name) {
            return Err(RunError::Setting(format!(
                "--grid {} is given twice",
                axis.name
            )));
        }
        let settings = axis
            .values
            .iter()
            .map(|value| text_setting(&axis.name, value, beta, seed))
            .collect::<Result<Vec<_>, _>>()?;
        axes.push(Axis {
            name: axis.name.clone(),
            settings,
            labels: axis.values.iter().map(|v| ParamValue::of_text(v)).collect(),
        });
    }
    Ok(axes)
}

fn text_setting(name: &str, value: &str, beta: f32, seed: u64) -> Result<Setting, RunError> {
    let number = |what: &str| {
        value.parse::<f64>().map_err(|_| {
            RunError::Setting(format!("--grid {name}: expected {what}, found '{value}'"))
        })
    };
    let count = || {
        value.parse::<usize>().map_err(|_| {
            RunError::Setting(format!(
                "--grid {name}: expected a whole number, found '{value}'"
            ))
        })
    };
    Ok(match name {
        "steps" => Setting::Steps(count()?.max(1)),
        "dt" => {
            let ms = value.strip_suffix("ms").unwrap_or(value);
            let ms: f64 = ms.trim().parse().map_err(|_| {
                RunError::Setting(format!(
                    "--grid dt: expected milliseconds (e.g. 1ms or 0.5), found '{value}'"
                ))
            })?;
            Setting::Dt((ms / 1000.0) as f32)
        }
        "encode" => Setting::Encode(encode(value, seed)?),
        "decode" => Setting::Decode(decode(value)?),
        "neuron" => Setting::Neuron(neuron(value, beta, None, false)?, None),
        "threshold" => Setting::Threshold(number("a number")? as f32),
        "beta" => Setting::Beta(number("a number in [0, 1]")? as f32),
        "initial_membrane" => Setting::InitialMembrane(number("a number")? as f32),
        "normalize" => Setting::Normalize(normalize(value, None)?),
        "max_to_avg" => Setting::MaxToAvg(value.parse().map_err(|_| {
            RunError::Setting(format!(
                "--grid max_to_avg: expected true or false, found '{value}'"
            ))
        })?),
        "seed" => Setting::Seed(count()? as u64),
        "batch" => Setting::Batch(count()?),
        "limit" => Setting::Limit(count()?),
        other => return Err(unknown_setting(other)),
    })
}

fn unknown_setting(name: &str) -> RunError {
    let known: Vec<&str> = SWEEP_SETTINGS.iter().map(|(n, _)| *n).collect();
    RunError::Setting(format!(
        "cannot sweep '{name}': expected one of {}",
        known.join(", ")
    ))
}

/// A `.neuro` sweep item's list setting as an axis.
fn neuro_axis(name: &str, values: &[Expr], text: &str) -> Result<Axis, RunError> {
    let mut settings = Vec::new();
    let mut labels = Vec::new();
    for expr in values {
        let in_setting = |e: RunError| RunError::Setting(format!("`{name}`: {e}"));
        settings.push(match name {
            "steps" => Setting::Steps(settings::count(expr).map_err(in_setting)?.max(1)),
            "dt" => Setting::Dt(settings::number(expr).map_err(in_setting)? as f32),
            "encode" => Setting::Encode(settings::encode(expr).map_err(in_setting)?),
            "decode" => Setting::Decode(settings::decode(expr).map_err(in_setting)?),
            "neuron" => {
                let (neuron, initial) = conversion_neuron(expr).map_err(in_setting)?;
                Setting::Neuron(neuron, initial)
            }
            "max_to_avg" => Setting::MaxToAvg(settings::boolean(expr).map_err(in_setting)?),
            "batch" => Setting::Batch(settings::count(expr).map_err(in_setting)?),
            "limit" => Setting::Limit(settings::count(expr).map_err(in_setting)?),
            other => return Err(unknown_setting(other)),
        });
        let written = &text[expr.range.start..expr.range.end];
        labels.push(match &expr.kind {
            ExprKind::Number { unit, .. } if unit.is_empty() => ParamValue::of_text(written),
            ExprKind::Bool(value) => ParamValue::Bool(*value),
            _ => ParamValue::Text(written.to_owned()),
        });
    }
    Ok(Axis {
        name: name.to_owned(),
        settings,
        labels,
    })
}

/// The combinations to run: every one, or `random` of them drawn without
/// replacement (SplitMix64 from `seed`), in grid order.
fn combinations(axes: &[Axis], random: Option<usize>, seed: u64) -> Vec<Vec<usize>> {
    let total: usize = axes.iter().map(|a| a.settings.len()).product();
    let mut chosen: Vec<usize> = (0..total).collect();
    if let Some(n) = random.filter(|&n| n < total) {
        let mut state = seed;
        // Partial Fisher-Yates: the first n positions are the draw.
        for i in 0..n {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let j = i + (z % (total - i) as u64) as usize;
            chosen.swap(i, j);
        }
        chosen.truncate(n);
        chosen.sort_unstable();
    }
    chosen
        .into_iter()
        .map(|mut index| {
            let mut picks = vec![0; axes.len()];
            for (slot, axis) in picks.iter_mut().zip(axes).rev() {
                *slot = index % axis.settings.len();
                index /= axis.settings.len();
            }
            picks
        })
        .collect()
}

fn run(
    target: &str,
    prepared: &Prepared,
    axes: Vec<Axis>,
    sweep: &Sweep,
    progress: &(dyn Fn(SweepProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<SweepReport, RunError> {
    let written = matches!(prepared.network, Simulated::Written { .. });
    if let Some(axis) = axes
        .iter()
        .find(|axis| written && axis.settings.iter().any(Setting::converts))
    {
        return Err(RunError::Unsupported(format!(
            "cannot sweep `{}` on a written network: it applies to converted networks",
            axis.name
        )));
    }
    let grid_size: usize = axes.iter().map(|a| a.settings.len()).product();
    let picks = combinations(&axes, sweep.random, sweep.seed);
    // Every combination's options, checked before anything runs.
    let mut trials: Vec<(Params, SimulateOptions)> = Vec::with_capacity(picks.len());
    for pick in &picks {
        let mut options = prepared.options.clone();
        let mut params = Params::default();
        for (axis, &value) in axes.iter().zip(pick) {
            axis.settings[value]
                .apply(&mut options)
                .map_err(|message| {
                    RunError::Setting(format!(
                        "{}={}: {message}",
                        axis.name,
                        axis.labels[value].label()
                    ))
                })?;
            params
                .0
                .push((axis.name.clone(), axis.labels[value].clone()));
        }
        trials.push((params, options));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = sweep.jobs.unwrap_or(cores).clamp(1, trials.len().max(1));
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Trial, RunError>>>> =
        Mutex::new((0..trials.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= trials.len() || cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let (params, options) = &trials[index];
                    let outcome = run_trial(prepared, params, options, cancel);
                    let accuracy = outcome.as_ref().ok().and_then(|t| t.accuracy);
                    let cancelled = matches!(outcome, Err(RunError::Cancelled));
                    results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(outcome);
                    if cancelled {
                        break;
                    }
                    progress(SweepProgress {
                        done: done.fetch_add(1, Ordering::SeqCst) + 1,
                        total: trials.len(),
                        params: params.label_without(""),
                        accuracy,
                    });
                }
            });
        }
    });
    if cancel.load(Ordering::Relaxed) {
        return Err(RunError::Cancelled);
    }
    let mut out = Vec::with_capacity(trials.len());
    for outcome in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        match outcome {
            Some(Ok(trial)) => out.push(trial),
            Some(Err(RunError::Cancelled)) | None => return Err(RunError::Cancelled),
            Some(Err(other)) => return Err(other),
        }
    }
    let pareto = pareto_front(&out)
        .into_iter()
        .map(|i| out[i].clone())
        .collect();
    Ok(SweepReport {
        target: target.to_owned(),
        axes: axes.iter().map(|a| a.name.clone()).collect(),
        grid_size,
        jobs,
        wall_s: started.elapsed().as_secs_f64(),
        results: out,
        pareto,
    })
}

/// One simulation; a failure of the simulator is the trial's `error`, a
/// cancellation ends the sweep.
fn run_trial(
    prepared: &Prepared,
    params: &Params,
    options: &SimulateOptions,
    cancel: &AtomicBool,
) -> Result<Trial, RunError> {
    let started = Instant::now();
    match prepared.run(options, &mut |_| {}, cancel) {
        Ok(report) => Ok(Trial {
            params: params.clone(),
            accuracy: report.sim.accuracy,
            accuracy_per_step: report.sim.accuracy_per_step,
            synops: report.sim.synops_per_sample,
            macs: report.sim.macs_per_sample,
            steps: report.sim.steps,
            samples: report.sim.samples,
            sparsity: report.sim.sparsity,
            ann_accuracy: report.ann_accuracy,
            wall_s: started.elapsed().as_secs_f64(),
            error: None,
        }),
        Err(RunError::Cancelled) => Err(RunError::Cancelled),
        Err(error) => Ok(Trial {
            params: params.clone(),
            accuracy: None,
            accuracy_per_step: Vec::new(),
            synops: 0.0,
            macs: 0.0,
            steps: options.sim.steps,
            samples: 0,
            sparsity: 0.0,
            ann_accuracy: None,
            wall_s: started.elapsed().as_secs_f64(),
            error: Some(error.to_string()),
        }),
    }
}

/// Indexes of the trials on the Pareto front of (accuracy up, synops down,
/// steps down), ordered by steps then synops. Trials without an accuracy
/// take no part; of equal trials the first is kept.
pub fn pareto_front(trials: &[Trial]) -> Vec<usize> {
    let scored: Vec<(usize, f64)> = trials
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.accuracy.map(|a| (i, a)))
        .collect();
    let dominates = |a: usize, acc_a: f64, b: usize, acc_b: f64| {
        let (ta, tb) = (&trials[a], &trials[b]);
        let no_worse = acc_a >= acc_b && ta.synops <= tb.synops && ta.steps <= tb.steps;
        let better = acc_a > acc_b || ta.synops < tb.synops || ta.steps < tb.steps;
        no_worse && (better || a < b)
    };
    let mut front: Vec<usize> = scored
        .iter()
        .filter(|&&(b, acc_b)| {
            !scored
                .iter()
                .any(|&(a, acc_a)| a != b && dominates(a, acc_a, b, acc_b))
        })
        .map(|&(i, _)| i)
        .collect();
    front.sort_by(|&a, &b| {
        trials[a]
            .steps
            .cmp(&trials[b].steps)
            .then(trials[a].synops.total_cmp(&trials[b].synops))
    });
    front
}

/// The report as CSV: one row per trial, the grid's settings first.
pub fn to_csv(report: &SweepReport) -> String {
    let front = pareto_front(&report.results);
    let mut out = report.axes.join(",");
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str("accuracy,synops_per_sample,macs_per_sample,steps,samples,wall_s,pareto,error\n");
    for (index, trial) in report.results.iter().enumerate() {
        for name in &report.axes {
            let value = trial
                .params
                .get(name)
                .map(ParamValue::label)
                .unwrap_or_default();
            out.push_str(&csv_field(&value));
            out.push(',');
        }
        out.push_str(&format!(
            "{},{},{},{},{},{:.3},{},{}\n",
            trial.accuracy.map(|a| a.to_string()).unwrap_or_default(),
            trial.synops,
            trial.macs,
            trial.steps,
            trial.samples,
            trial.wall_s,
            front.contains(&index),
            csv_field(trial.error.as_deref().unwrap_or(""))
        ));
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A successful trial of `steps` steps with these figures (the rest fixed).
    pub(in crate::run::sweep) fn finished_trial(
        params: Params,
        steps: usize,
        accuracy_per_step: Vec<f64>,
        synops: f64,
    ) -> Trial {
        Trial {
            params,
            accuracy: accuracy_per_step.last().copied(),
            accuracy_per_step,
            synops,
            macs: 1.0,
            steps,
            samples: 10,
            sparsity: 0.5,
            ann_accuracy: None,
            wall_s: 0.1,
            error: None,
        }
    }

    fn trial(steps: usize, accuracy: f64, synops: f64) -> Trial {
        let params = Params(vec![("steps".into(), ParamValue::Number(steps as f64))]);
        finished_trial(params, steps, vec![accuracy; steps], synops)
    }

    #[test]
    fn the_front_keeps_the_trade_offs_and_drops_the_dominated() {
        let trials = [
            trial(10, 0.80, 100.0),
            trial(20, 0.90, 200.0),
            trial(20, 0.85, 250.0), // worse than the one above on everything
            trial(50, 0.90, 500.0), // no more accurate than 20 steps
            trial(50, 0.95, 500.0),
            trial(10, 0.80, 100.0), // equal to the first: the first is kept
        ];
        assert_eq!(pareto_front(&trials), vec![0, 1, 4]);
    }

    #[test]
    fn grid_words_parse_and_bad_ones_say_what_was_expected() {
        assert_eq!(
            GridAxis::parse("steps=10, 20,50").unwrap(),
            GridAxis {
                name: "steps".into(),
                values: vec!["10".into(), "20".into(), "50".into()]
            }
        );
        assert!(GridAxis::parse("steps").is_err());
        let error = text_setting("speed", "1", 0.9, 0).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot sweep 'speed': expected one of steps, dt"),
            "{error}"
        );
        let error = text_setting("steps", "ten", 0.9, 0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--grid steps: expected a whole number, found 'ten'"
        );
        assert_eq!(
            text_setting("dt", "0.5ms", 0.9, 0).unwrap(),
            Setting::Dt(0.0005)
        );
    }

    #[test]
    fn a_random_draw_is_a_subset_of_the_grid_in_grid_order() {
        let axis = |n: usize| Axis {
            name: "steps".into(),
            settings: (1..=n).map(Setting::Steps).collect(),
            labels: (1..=n).map(|s| ParamValue::Number(s as f64)).collect(),
        };
        let axes = [axis(4), axis(5)];
        assert_eq!(combinations(&axes, None, 0).len(), 20);
        let drawn = combinations(&axes, Some(6), 3);
        assert_eq!(drawn.len(), 6);
        let mut unique = drawn.clone();
        unique.dedup();
        assert_eq!(unique.len(), 6);
        assert!(drawn.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            drawn,
            combinations(&axes, Some(6), 3),
            "the same seed draws the same trials"
        );
        assert_eq!(combinations(&axes, Some(50), 3).len(), 20);
    }
}
