//! `infer MODEL on DATA { input NAME = DATA.key  record batch limit }`: the
//! model runs in `neuride_infer` (tract for DL, neuride's evaluator for
//! `ai.onnx.ml`) on the dataset's `x` bound to the model's first input, or
//! on the mapped arrays; with labels (`y:`) it is scored as the CLI scores:
//! accuracy for classifiers, MAE and R² for regressors.

use super::{
    RunError, RunKind, dataset, ensure_clean, find_run, item_named, item_path, setting, settings,
};
use crate::neuro::NeuroAnalysis;
use neuride_dsl::syntax::ast::{EntryKind, ExprKind, ItemKind};
use neuride_infer::{DType, Engine, Score, Session, Tensor, Value};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// One output of the model: its name and what it holds (`f32[450, 10]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputSummary {
    pub name: String,
    pub value: String,
}

/// What a `.neuro` infer run returns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InferRun {
    /// The `.neuro` file.
    pub file: String,
    pub model: String,
    pub dataset: String,
    pub engine: Engine,
    /// Samples run (after `limit`).
    pub rows: usize,
    pub batches: usize,
    /// Wall time of the runs (model preparation excluded).
    pub wall_s: f64,
    /// Mean wall time per sample, in milliseconds.
    pub latency_ms: f64,
    pub outputs: Vec<OutputSummary>,
    /// Classification accuracy, when the dataset has labels and the model classifies.
    pub accuracy: Option<f64>,
    /// Mean absolute error and R², when the dataset has labels and the model regresses.
    pub mae: Option<f64>,
    pub r2: Option<f64>,
    pub score: Option<Score>,
    /// The block's `record = [...]` entries as written.
    pub record: Vec<String>,
}

/// Runs the `infer` block whose target is `name` (the first infer block
/// when `None`; `"MODEL on DATA"` picks among several) of a file read and
/// checked by [`read_neuro`](super::read_neuro).
/// `progress(rows_done, rows_total)` is called after every batch; setting
/// `cancel` stops before the next batch with [`RunError::Cancelled`].
pub fn infer_neuro(
    neuro: &NeuroAnalysis,
    name: Option<&str>,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<InferRun, RunError> {
    super::in_neuro_file(neuro, || {
        ensure_clean(neuro)?;
        let run = find_run(neuro, RunKind::Infer, name)?;
        let item = &neuro.parse.ast.items[run.item];
        let model_path = item_path(neuro, item_named(neuro, &run.target, ItemKind::Model)?)?;
        let data = dataset(neuro, item_named(neuro, &run.dataset, ItemKind::Dataset)?)?;
        let batch = setting(item, "batch")
            .map(settings::count)
            .transpose()?
            .unwrap_or(neuride_infer::DEFAULT_BATCH_ROWS);
        let limit = setting(item, "limit").map(settings::count).transpose()?;
        let record = settings::record(setting(item, "record"), &neuro.text);

        let bytes = crate::source::read_file(&model_path)
            .map_err(|e| RunError::Data(format!("cannot read {}: {e}", model_path.display())))?;
        crate::run::model::register_onnxruntime();
        let session = Session::load(&bytes)
            .map_err(|e| RunError::Failed(format!("preparing {}: {e}", model_path.display())))?;

        // Inputs: the `input NAME = D.key` mappings, else x to the first input.
        let mut inputs: Vec<(String, Tensor)> = Vec::new();
        for entry in item.entries().iter().filter(|e| e.kind == EntryKind::Input) {
            let (Some(input), Some(value)) = (&entry.name, &entry.value) else {
                continue;
            };
            let ExprKind::Field {
                base,
                field: Some(field),
            } = &value.kind
            else {
                return Err(RunError::Setting(format!(
                    "input `{}`: expected `DATASET.key`",
                    input.text
                )));
            };
            let source = base.as_name().ok_or_else(|| {
                RunError::Setting(format!("input `{}`: expected `DATASET.key`", input.text))
            })?;
            let source = dataset(neuro, item_named(neuro, &source.text, ItemKind::Dataset)?)?;
            let arrays = read_npz(&source.path)?;
            inputs.push((
                input.text.clone(),
                array(&arrays, &field.text, &source.path)?,
            ));
        }
        let data_arrays = read_npz(&data.path)?;
        if inputs.is_empty() {
            let port = session.signature.inputs.first().ok_or_else(|| {
                RunError::Unsupported(format!("{} has no inputs", model_path.display()))
            })?;
            let samples = match &data.image {
                // A `to_image(...)` dataset: its images, not the table.
                Some(_) => {
                    let images = data.inputs(cancel)?;
                    Tensor::new(images.shape, images.data)
                        .map_err(|e| RunError::Data(e.to_string()))?
                }
                None => array(&data_arrays, &data.x, &data.path)?,
            };
            inputs.push((port.name.clone(), samples));
        }
        let labels = data
            .y
            .as_deref()
            .map(|y| array(&data_arrays, y, &data.path))
            .transpose()?;

        // `limit`: the first rows of every input (and of the labels).
        let cut = |t: Tensor| match limit {
            Some(limit) if t.rows() > limit => t.slice_rows(0, limit),
            _ => t,
        };
        let labels = labels.map(cut);
        let inputs: Vec<(String, Value)> = inputs
            .into_iter()
            .map(|(name, tensor)| {
                let tensor = widen(&session, &name, cut(tensor));
                (name, Value::Tensor(tensor))
            })
            .collect();

        let report = super::model::run_scored(
            &model_path,
            &session,
            inputs,
            batch,
            labels.as_ref(),
            progress,
            cancel,
        )?;
        let (accuracy, mae, r2) = match &report.score {
            Some(Score::Classification { accuracy, .. }) => (Some(*accuracy), None, None),
            Some(Score::Regression { mae, r2, .. }) => (None, Some(*mae), Some(*r2)),
            None => (None, None, None),
        };
        let wall_s = report.elapsed_ms / 1e3;
        Ok(InferRun {
            file: neuro.path.display().to_string(),
            model: run.target,
            dataset: run.dataset,
            engine: report.engine,
            rows: report.rows,
            batches: report.batches,
            wall_s,
            latency_ms: report.elapsed_ms / report.rows.max(1) as f64,
            outputs: report
                .outputs
                .iter()
                .map(|(name, value)| OutputSummary {
                    name: name.clone(),
                    value: value.describe(),
                })
                .collect(),
            accuracy,
            mae,
            r2,
            score: report.score,
            record,
        })
    })
}

fn read_npz(path: &Path) -> Result<Vec<(String, Tensor)>, RunError> {
    let bytes = crate::source::read_file(path)
        .map_err(|e| RunError::Data(format!("cannot read {}: {e}", path.display())))?;
    neuride_infer::io::read_npz(&bytes)
        .map_err(|e| RunError::Data(format!("{}: {e}", path.display())))
}

fn array(arrays: &[(String, Tensor)], key: &str, path: &Path) -> Result<Tensor, RunError> {
    arrays
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_str()).collect();
            RunError::Data(format!(
                "{}: no array '{key}' (arrays: {})",
                path.display(),
                names.join(", ")
            ))
        })
}

/// Numeric data of another type for a float input (u8 images, f64 tables)
/// is converted to f32, as the CLI widens u8 spike rasters.
fn widen(session: &Session, name: &str, tensor: Tensor) -> Tensor {
    let wants_f32 = session.signature.inputs.iter().any(|p| {
        p.name == name
            && matches!(
                p.ty,
                neuride_infer::ValueType::Tensor {
                    dtype: Some(DType::F32),
                    ..
                }
            )
    });
    if !wants_f32 || tensor.dtype() == DType::F32 {
        return tensor;
    }
    match tensor.data.to_f32() {
        Some(data) => Tensor {
            shape: tensor.shape.clone(),
            data: data.into(),
        },
        None => tensor,
    }
}
