//! `neuride.simulate`, `neuride.sweep` and `neuride.infer`: the long-running commands. Each
//! runs as a job (work-done progress per batch, cancellable by
//! `$/cancelRequest` or `window/workDoneProgress/cancel`) over the same code
//! as the CLI, so an editor run and `neuride simulate`/`neuride infer` with
//! the same options give the same numbers.
//!
//! Arguments (one JSON object, see docs/editors.md):
//! - a model: `{"uri": MODEL.onnx, "data": D.npz, ...}` where every other
//!   key is a field of the run's option struct (`neuride_ide::run::model::
//!   SimulateModel` / `ConvertModel` / `InferModel`, deserialized as they
//!   are; unknown keys are refused); paths are URIs or paths relative to the model's
//!   folder; `output` (convert, infer) must be inside the workspace unless
//!   `userPicked`, and may replace a file only with `overwrite: true`;
//! - a `.neuro` file: `{"uri": FILE.neuro, "name": TARGET}` runs the
//!   `simulate TARGET on ...` / `infer TARGET on ...` block (the first one
//!   when `name` is left out).

use super::custom::path_of;
use super::guard::invalid_params;
use super::jobs::{JobContext, JobError, run_job};
use super::jsonrpc::Result;
use super::state::Shared;
use super::transport::Client;
use ls_types::{ProgressToken, Uri};
use neuride_ide::FileAnalysis;
use neuride_ide::run::RunError;
use neuride_ide::run::model::{
    ConvertModel, InferModel, InputFile, SimulateModel, conversion_outputs, convert_model,
    infer_model, simulate_model,
};
use neuride_ide::run::sweep::plot::plot_svg;
use neuride_ide::run::sweep::{Sweep, SweepProgress, sweep_model, sweep_neuro};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// `neuride.convert`: `{"uri": MODEL.onnx, "calib": C.npz, "output":
/// OUT.neuro, ...}` (the CLI's options; `output` defaults to
/// `MODEL.snn.neuro` beside the model) writes the spiking network, records
/// a `converted` event for the model, and returns what was written.
pub async fn convert(shared: &Shared, argument: Value) -> Result<Value> {
    let mut run = target(argument)?;
    let output = match run.output.take() {
        Some(output) => output,
        None => {
            let stem = run.path.file_stem().unwrap_or_default().to_string_lossy();
            run.path.with_file_name(format!("{stem}_snn.neuro"))
        }
    };
    let format = neuride_ide::run::output_format(&output, &["neuro", "nir"])
        .map_err(|e| invalid_params(e.to_string()))?;
    if format == "nir" {
        return convert_to_nir(shared, run, output).await;
    }
    // OUT.neuro names its OUT.npz and OUT.snn.onnx: all three are checked.
    for file in conversion_outputs(&output) {
        writable(shared, &file, &run)?;
    }
    let options: ConvertModel = run.options()?;
    let model = run.path.clone();
    let written = tokio::task::spawn_blocking(move || convert_model(&model, &options, &output))
        .await
        .map_err(|e| super::guard::internal(e.to_string()))?
        .map_err(|e| invalid_params(e.to_string()))?;
    let files = [&written.neuro, &written.npz, &written.onnx];
    record_conversion(shared, &run.path, &written.neuro);
    super::analysis::disk_changes(shared, files.iter().map(|p| p.to_path_buf()));
    Ok(json!({
        "neuro": super::uri::from_path(&written.neuro),
        "npz": super::uri::from_path(&written.npz),
        "onnx": super::uri::from_path(&written.onnx),
        "scales": written.converted.scales,
    }))
}

/// `neuride.convert` with `output: OUT.nir`: the converted network as one
/// NIR file (0.1 ms steps), and what NIR does not say about it.
async fn convert_to_nir(shared: &Shared, run: RunTarget, output: PathBuf) -> Result<Value> {
    writable(shared, &output, &run)?;
    let options: ConvertModel = run.options()?;
    let model = run.path.clone();
    let target = output.clone();
    let (converted, notes) = tokio::task::spawn_blocking(move || {
        neuride_ide::run::model::convert_model_to_nir(
            &model,
            &options,
            neuride_ide::run::nir::DEFAULT_DT_MS,
            &target,
        )
    })
    .await
    .map_err(|e| super::guard::internal(e.to_string()))?
    .map_err(|e| invalid_params(e.to_string()))?;
    record_conversion(shared, &run.path, &output);
    super::analysis::disk_changes(shared, [output.clone()]);
    Ok(json!({
        "nir": super::uri::from_path(&output),
        "notes": notes,
        "scales": converted.scales,
    }))
}

/// The event log's line for a conversion of `model` written to `written`.
fn record_conversion(shared: &Shared, model: &Path, written: &Path) {
    let mut state = shared.lock();
    let detail = format!(
        "converted to {}",
        written.file_name().unwrap_or_default().to_string_lossy()
    );
    state
        .host
        .events
        .record(model, neuride_ide::events::EventKind::Converted, detail);
    super::analysis::forward_events(shared, &mut state);
}

/// What a run command was asked to run.
pub(super) struct RunTarget {
    pub(super) path: PathBuf,
    /// The current contents of a `.neuro` file (an open editor's unsaved
    /// text included), so a run uses what the user sees.
    pub(super) neuro: Option<neuride_ide::Snapshot>,
    /// The `.neuro` block's target, for `.neuro` files.
    pub(super) name: Option<String>,
    /// The model run's options (`output` not among them).
    options: Map<String, Value>,
    /// The folder relative paths in `options` start from.
    base: PathBuf,
    /// Where the command writes, when asked to (resolved like the inputs).
    output: Option<PathBuf>,
    /// The user picked `output` in a save dialog: it may lie outside the
    /// workspace folders.
    user_picked: bool,
    /// An existing `output` may be replaced.
    overwrite: bool,
}

/// Refuses to write `path` outside the workspace (unless the user picked
/// it) or over an existing file (unless asked to).
fn writable(shared: &Shared, path: &Path, run: &RunTarget) -> Result<()> {
    let roots = shared.lock().roots.clone();
    super::commands::writable_target(&roots, path, run.user_picked, run.overwrite).map(drop)
}

pub(super) fn target(argument: Value) -> Result<RunTarget> {
    let Value::Object(mut object) = argument else {
        return Err(invalid_params(
            "expected one argument object: {\"uri\": ..., options}",
        ));
    };
    let uri: Uri = object
        .remove("uri")
        .and_then(|u| serde_json::from_value(u).ok())
        .ok_or_else(|| invalid_params("the argument needs \"uri\": the model or .neuro file"))?;
    let path = path_of(&uri)?;
    let name = match object.remove("name") {
        Some(Value::String(name)) => Some(name),
        None | Some(Value::Null) => None,
        Some(other) => {
            return Err(invalid_params(format!(
                "\"name\" must be a string, found {other}"
            )));
        }
    };
    let flag = |object: &mut Map<String, Value>, key: &str| match object.remove(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(value),
        Some(other) => Err(invalid_params(format!(
            "\"{key}\" must be true or false, found {other}"
        ))),
    };
    let overwrite = flag(&mut object, "overwrite")?;
    let user_picked = flag(&mut object, "userPicked")?;
    let base = path.parent().unwrap_or(Path::new(".")).to_owned();
    let output = match object.remove("output") {
        None | Some(Value::Null) => None,
        Some(Value::String(output)) => Some(resolve_path(Path::new(&output), &base)),
        Some(other) => {
            return Err(invalid_params(format!(
                "\"output\" must be a file URI or path, found {other}"
            )));
        }
    };
    Ok(RunTarget {
        path,
        neuro: None,
        name,
        options: object,
        base,
        output,
        user_picked,
        overwrite,
    })
}

/// A `.neuro` file as it is now (an open editor's text included, even if
/// its background analysis has not finished yet); analysed in the job.
pub(super) fn latest_neuro(shared: &Shared, path: &Path) -> Option<neuride_ide::Snapshot> {
    if !is_neuro(path) {
        return None;
    }
    shared.lock().host.snapshot(path)
}

/// The `.neuro` file analysed now: the host's current contents (an open
/// editor's text), else the file on disk.
pub(super) fn neuro_now(
    run: &RunTarget,
) -> std::result::Result<neuride_ide::neuro::NeuroAnalysis, JobError> {
    match run.neuro.as_ref().and_then(|s| s.analyze()) {
        Some(FileAnalysis::Neuro(neuro)) => Ok(neuro),
        _ => neuride_ide::run::read_neuro(&run.path)
            .map_err(|e| JobError::Failed(anyhow::Error::msg(e.to_string()))),
    }
}

fn is_neuro(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "neuro")
}

/// The run's target with the host's current `.neuro` contents, the model
/// run's options as `parse` reads them (not for `.neuro` files, whose
/// blocks say everything), and the progress title.
fn prepare<O>(
    shared: &Shared,
    argument: Value,
    verb: &str,
    parse: impl FnOnce(&mut RunTarget) -> Result<O>,
) -> Result<(RunTarget, Option<O>, String)> {
    let mut run = target(argument)?;
    run.neuro = latest_neuro(shared, &run.path);
    let title = format!(
        "neuride: {verb} {}",
        run.path.file_name().unwrap_or_default().to_string_lossy()
    );
    let options = if is_neuro(&run.path) {
        None
    } else {
        Some(parse(&mut run)?)
    };
    Ok((run, options, title))
}

/// Options of a model run that the server deserializes from JSON.
pub(super) trait ModelOptions: serde::de::DeserializeOwned {
    fn paths_mut(&mut self) -> Vec<&mut PathBuf>;
}

impl ModelOptions for SimulateModel {
    fn paths_mut(&mut self) -> Vec<&mut PathBuf> {
        SimulateModel::paths_mut(self).collect()
    }
}

impl ModelOptions for InferModel {
    fn paths_mut(&mut self) -> Vec<&mut PathBuf> {
        InferModel::paths_mut(self).collect()
    }
}

impl ModelOptions for ConvertModel {
    fn paths_mut(&mut self) -> Vec<&mut PathBuf> {
        ConvertModel::paths_mut(self).collect()
    }
}

impl RunTarget {
    /// The options, typed, with their files resolved (URIs, or paths
    /// relative to the model's folder). A bad value is invalid params
    /// naming its key.
    pub(super) fn options<T: ModelOptions>(&self) -> Result<T> {
        let object = Value::Object(self.options.clone());
        let mut options: T = serde_json::from_value(object).map_err(|error| {
            let culprit = self.options.iter().find(|(key, value)| {
                serde_json::from_value::<T>(json!({ key.as_str(): value })).is_err()
            });
            match culprit {
                Some((key, _)) => invalid_params(format!("option \"{key}\": {error}")),
                None => invalid_params(error.to_string()),
            }
        })?;
        for path in options.paths_mut() {
            *path = resolve_path(path, &self.base);
        }
        Ok(options)
    }
}

/// A `file:` URI or a path relative to `base`, as a path.
fn resolve_path(path: &Path, base: &Path) -> PathBuf {
    path.to_str()
        .filter(|t| t.starts_with("file:"))
        .and_then(|t| t.parse::<Uri>().ok())
        .and_then(|u| super::uri::to_path(&u))
        .unwrap_or_else(|| base.join(path))
}

/// A typed run error as a job's end: cancellation is not a failure.
pub(super) fn run_failed(error: RunError) -> JobError {
    match error {
        RunError::Cancelled => JobError::Cancelled,
        other => JobError::Failed(other.into()),
    }
}

pub async fn simulate(
    shared: &Shared,
    client: &Client,
    token: Option<ProgressToken>,
    argument: Value,
) -> Result<Value> {
    let (run, options, title) = prepare(shared, argument, "simulating", |run| {
        run.options::<SimulateModel>()
    })?;
    run_job(shared, client, token, title, move |job: &JobContext| {
        let cancel = job.cancel_flag().clone();
        let mut progress = |p: neuride_convert::Progress| {
            job.report(
                p.samples_done as f64 / p.samples_total.max(1) as f64,
                format!(
                    "batch {}/{}: {}/{} samples",
                    p.batch, p.batches, p.samples_done, p.samples_total
                ),
            )
        };
        let report = match &options {
            Some(options) if already_spiking_in_plain_ops(&run.path) => {
                return run_as_it_is(&run.path, options, job);
            }
            Some(options) => serde_json::to_value(
                simulate_model(&run.path, options, &mut progress, &cancel).map_err(run_failed)?,
            ),
            None => serde_json::to_value(
                neuride_ide::run::simulate_neuro(
                    &neuro_now(&run)?,
                    run.name.as_deref(),
                    &mut progress,
                    &cancel,
                )
                .map_err(run_failed)?,
            ),
        };
        report.map_err(|e| JobError::Failed(e.into()))
    })
    .await
}

/// `neuride.sweep`: a model (`{"uri": MODEL.onnx, "data": D.npz, "grid":
/// {"steps": [10, 20]}, "random": N, "seed": S, "jobs": J, ...}`, the other
/// keys being `neuride.simulate`'s), a `.neuro` file's `sweep` block
/// (`{"uri": FILE.neuro, "name": TARGET}`) or one of its `simulate` blocks
/// with a grid (`"grid"` given). Progress per finished trial; the result
/// is the sweep's JSON plus `svg`, its plots.
pub async fn sweep(
    shared: &Shared,
    client: &Client,
    token: Option<ProgressToken>,
    argument: Value,
) -> Result<Value> {
    let Value::Object(mut object) = argument else {
        return Err(invalid_params(
            "expected one argument object: {\"uri\": ..., \"grid\": {...}, options}",
        ));
    };
    let sweep_keys: Map<String, Value> = ["grid", "random", "seed", "jobs"]
        .into_iter()
        .filter_map(|key| object.remove(key).map(|value| (key.to_owned(), value)))
        .collect();
    let sweep: Sweep = serde_json::from_value(Value::Object(sweep_keys))
        .map_err(|e| invalid_params(format!("sweep options: {e}")))?;
    let (run, options, title) = prepare(shared, Value::Object(object), "sweeping", |run| {
        run.options::<SimulateModel>()
    })?;
    run_job(shared, client, token, title, move |job: &JobContext| {
        let cancel = job.cancel_flag().clone();
        let progress = |p: SweepProgress| {
            let accuracy = p
                .accuracy
                .map(|a| format!(": {:.2} %", a * 100.0))
                .unwrap_or_default();
            job.report(
                p.done as f64 / p.total.max(1) as f64,
                format!("trial {}/{} {}{accuracy}", p.done, p.total, p.params),
            )
        };
        let report = match &options {
            Some(options) => sweep_model(&run.path, options, &sweep, &progress, &cancel),
            None => sweep_neuro(
                &neuro_now(&run)?,
                run.name.as_deref(),
                &sweep,
                &progress,
                &cancel,
            ),
        }
        .map_err(run_failed)?;
        let mut value = serde_json::to_value(&report).map_err(|e| JobError::Failed(e.into()))?;
        value["svg"] = Value::String(plot_svg(&report));
        Ok(value)
    })
    .await
}

pub async fn infer(
    shared: &Shared,
    client: &Client,
    token: Option<ProgressToken>,
    argument: Value,
) -> Result<Value> {
    let (run, options, title) = prepare(shared, argument, "inference on", |run| {
        let mut options = run.options::<InferModel>()?;
        if let Some(output) = run.output.take() {
            writable(shared, &output, run)?;
            options.output = Some(output);
        }
        Ok(options)
    })?;
    run_job(shared, client, token, title, move |job: &JobContext| {
        let cancel = job.cancel_flag().clone();
        let mut progress = |done: usize, total: usize| {
            job.report(
                done as f64 / total.max(1) as f64,
                format!("{done}/{total} rows"),
            )
        };
        match &options {
            Some(options) => infer_model(&run.path, options, &mut progress, &cancel)
                .map(|inferred| editor_report(&inferred.report))
                .map_err(run_failed),
            None => neuride_ide::run::infer_neuro(
                &neuro_now(&run)?,
                run.name.as_deref(),
                &mut progress,
                &cancel,
            )
            .map_err(run_failed)
            .and_then(|r| serde_json::to_value(r).map_err(|e| JobError::Failed(e.into()))),
        }
    })
    .await
}

/// A spiking model exported in plain ONNX ops (snnTorch): `neuride run`
/// routes it to the ONNX runtime, and the converter would fail on its neuron
/// ops (it converts ReLU networks), so simulating it runs it as it is.
fn already_spiking_in_plain_ops(model: &std::path::Path) -> bool {
    // A NIR file is simulated with NIR's equations, never as ONNX.
    if neuride_ide::run::nir::is_nir(model) {
        return false;
    }
    let Ok(bytes) = std::fs::read(model) else {
        return false;
    };
    neuride_onnx::load::decode(bytes.into()).is_ok_and(|proto| {
        neuride_onnx::classify::classify(&proto).kind == neuride_onnx::classify::Kind::Snn
            && matches!(neuride_infer::route(&proto), neuride_infer::Route::Tract)
    })
}

/// Runs the model on `args.data` as an inference (its own time steps are
/// its input's), reporting what `neuride.infer` reports and why.
fn run_as_it_is(
    model: &Path,
    options: &SimulateModel,
    job: &JobContext,
) -> std::result::Result<Value, JobError> {
    let data = options.data.as_ref().ok_or_else(|| {
        JobError::Failed(anyhow::anyhow!(
            "{}: samples are needed to run the model (`data`: an .npz keyed by input name)",
            model.display()
        ))
    })?;
    let options = InferModel {
        input: vec![InputFile {
            name: None,
            file: data.clone(),
        }],
        ..InferModel::default()
    };
    let cancel = job.cancel_flag().clone();
    let mut progress = |done: usize, total: usize| {
        job.report(
            done as f64 / total.max(1) as f64,
            format!("{done}/{total} rows"),
        )
    };
    let report = infer_model(model, &options, &mut progress, &cancel)
        .map_err(run_failed)?
        .report;
    let mut json = editor_report(&report);
    json["ran_as_is"] = json!(
        "the model already spikes (neurons in plain ONNX ops): run as it is on the ONNX runtime, not converted"
    );
    Ok(json)
}

/// Outputs larger than this many values are summarised, not sent: a result
/// is for reading in the editor, `output` writes the full arrays.
const MAX_SENT_VALUES: usize = 10_000;

fn editor_report(report: &neuride_infer::InferReport) -> Value {
    let values: usize = report.outputs.iter().map(|(_, v)| value_count(v)).sum();
    let summaries: Map<String, Value> = report
        .outputs
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.describe())))
        .collect();
    let mut json = json!({
        "engine": report.engine,
        "rows": report.rows,
        "batches": report.batches,
        "elapsed_ms": report.elapsed_ms,
        "score": report.score,
        "summary": summaries,
    });
    if values <= MAX_SENT_VALUES {
        json["outputs"] = neuride_infer::io::outputs_to_json(&report.outputs);
    }
    json
}

fn value_count(value: &neuride_infer::Value) -> usize {
    match value {
        neuride_infer::Value::Tensor(t) => t.shape.iter().product(),
        neuride_infer::Value::Sequence(items) => items.iter().map(value_count).sum(),
        neuride_infer::Value::Map(m) => m.values.len(),
        neuride_infer::Value::Optional(v) => v.as_deref().map_or(0, value_count),
    }
}
