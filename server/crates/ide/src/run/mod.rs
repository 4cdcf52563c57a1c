//! Running the `simulate` and `infer` blocks of a `.neuro` file.
//!
//! The file is read and checked first ([`NeuroAnalysis::new`]); a file with
//! errors does not run (the error names the first few, with line numbers).
//! Then the block is mapped onto the same jobs the CLI runs for `.onnx`
//! files:
//!
//! - `simulate NET on DATA` where `NET = convert(MODEL) { ... }`: the model,
//!   the convert settings ([`neuride_convert::ConvertOptions`]) and the
//!   simulate settings ([`neuride_convert::SimulateOptions`]) go to
//!   [`neuride_convert::simulate`], exactly as `neuride simulate MODEL.onnx`;
//! - `simulate NET on DATA` where `NET` is written layer by layer: the
//!   network is lowered to a [`neuride_snn::Network`] (weights from the
//!   archives by key) and run by [`neuride_snn::simulate`];
//! - `infer MODEL on DATA`: the model runs in [`neuride_infer`] on the
//!   dataset's `x` (or the block's `input NAME = DATA.key` mappings) and is
//!   scored against `y` when the dataset has labels.
//!
//! Paths in the file are relative to the file. Nothing here prints; every
//! failure is a [`RunError`] whose message starts with the file's name.

pub mod app;
mod data;
pub mod image;
mod infer;
mod lower;
pub mod model;
pub mod nir;
mod settings;
pub mod sweep;

pub use data::{read_array, read_labels, read_weights};

/// The extension of `path` (lower case, without the dot) when it is one of
/// `writable`, else an error that names the path and lists `writable`: a
/// command writes only the formats it knows, chosen by the extension, never
/// a file whose content does not match its name. Checked before any work.
pub fn output_format(path: &Path, writable: &[&'static str]) -> Result<&'static str, RunError> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if let Some(format) = writable.iter().find(|w| extension.as_deref() == Some(**w)) {
        return Ok(format);
    }
    let found = match &extension {
        Some(extension) => format!("a .{extension} file"),
        None => "a file without an extension".to_owned(),
    };
    let expected = writable
        .iter()
        .map(|w| format!(".{w}"))
        .collect::<Vec<_>>()
        .join(" or ");
    Err(RunError::Unsupported(format!(
        "cannot write {}: this command writes {expected}, not {found}",
        path.display()
    )))
}
pub use infer::{InferRun, OutputSummary, infer_neuro};

use crate::neuro::NeuroAnalysis;
use crate::report::{Range, Severity};
use neuride_convert::{
    ConvertOptions, Normalize, Progress, SimOptions, SimulateOptions, SimulateReport, Tensor,
};
use neuride_dsl::syntax::ast::{Expr, Item, ItemKind};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Why a run did not happen or did not finish. The message names the file
/// (by its file name) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The `.neuro` file could not be read or is not UTF-8.
    #[error("{0}")]
    Read(String),
    /// The file has errors (the first few, with line numbers, are listed).
    #[error("{0}")]
    Diagnostics(String),
    /// No block of that kind and name.
    #[error("{0}")]
    NotFound(String),
    /// Something the file says that the runner cannot do (yet).
    #[error("{0}")]
    Unsupported(String),
    /// A setting's value could not be read.
    #[error("{0}")]
    Setting(String),
    /// A model, archive or array could not be read.
    #[error("{0}")]
    Data(String),
    /// The simulator or the inference engine failed.
    #[error("{0}")]
    Failed(String),
    /// The cancel flag was set.
    #[error("cancelled")]
    Cancelled,
}

impl RunError {
    /// The same error with `file: ` in front of its message.
    fn in_file(self, file: &str) -> RunError {
        self.map_message(|message| {
            if message.starts_with(file) {
                message
            } else {
                format!("{file}: {message}")
            }
        })
    }

    /// The same kind of error with its message rewritten.
    pub(crate) fn map_message(self, rewrite: impl FnOnce(String) -> String) -> RunError {
        match self {
            RunError::Read(m) => RunError::Read(rewrite(m)),
            RunError::Diagnostics(m) => RunError::Diagnostics(rewrite(m)),
            RunError::NotFound(m) => RunError::NotFound(rewrite(m)),
            RunError::Unsupported(m) => RunError::Unsupported(rewrite(m)),
            RunError::Setting(m) => RunError::Setting(rewrite(m)),
            RunError::Data(m) => RunError::Data(rewrite(m)),
            RunError::Failed(m) => RunError::Failed(rewrite(m)),
            RunError::Cancelled => RunError::Cancelled,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Simulate,
    Infer,
    Sweep,
}

/// One runnable block of a `.neuro` file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunItem {
    pub kind: RunKind,
    /// The network (simulate) or model (infer) it runs: the name `--run` takes.
    pub target: String,
    /// The dataset after `on`.
    pub dataset: String,
    /// Index of the item in the file's items.
    pub item: usize,
    /// Byte offsets of the whole item.
    pub start: usize,
    pub end: usize,
    /// The whole item and its target name, in lines / UTF-16 characters.
    pub range: Range,
    pub selection: Range,
}

impl RunItem {
    /// `simulate snn on test`.
    pub fn label(&self) -> String {
        let keyword = match self.kind {
            RunKind::Simulate => "simulate",
            RunKind::Infer => "infer",
            RunKind::Sweep => "sweep",
        };
        format!("{keyword} {} on {}", self.target, self.dataset)
    }
}

/// The `simulate` and `infer` blocks of a file, in file order (blocks
/// without a target or dataset are left out).
pub fn run_items(neuro: &NeuroAnalysis) -> Vec<RunItem> {
    neuro
        .items()
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            let kind = match item.kind {
                ItemKind::Simulate => RunKind::Simulate,
                ItemKind::Infer => RunKind::Infer,
                ItemKind::Sweep => RunKind::Sweep,
                _ => return None,
            };
            let (target, data) = (item.target.as_ref()?, item.data.as_ref()?);
            Some(RunItem {
                kind,
                target: target.text.clone(),
                dataset: data.text.clone(),
                item: index,
                start: item.range.start,
                end: item.range.end,
                range: neuro.range(item.range),
                selection: neuro.range(target.range),
            })
        })
        .collect()
}

/// What a `.neuro` simulate run returns: the same JSON as `neuride simulate
/// MODEL.onnx --format json` (`accuracy`, `accuracy_per_step`, `rates`,
/// `synops`, `macs`, `samples`, `steps`, `wall_s`, `ann_accuracy`, `scales`,
/// `neuron`, `normalize`, ...) plus which block ran.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimulateRun {
    #[serde(flatten)]
    pub report: SimulateReport,
    /// The `.neuro` file.
    pub file: String,
    pub network: String,
    pub dataset: String,
    /// `converted` (a `convert(MODEL)` network) or `written`.
    pub network_kind: &'static str,
    /// The block's `record = [...]` entries as written.
    pub record: Vec<String>,
    /// Things the run did differently from what the file asks, e.g. rasters.
    pub notes: Vec<String>,
}

/// Runs the `simulate` block whose target is `name` (the first simulate
/// block when `None`; `"NET on DATA"` picks among several runs of one
/// network) of a file read and checked by [`read_neuro`] (or an editor's
/// unsaved buffer; paths in it are relative to `neuro.path`). `progress` is
/// called after every batch; setting `cancel` stops the run with
/// [`RunError::Cancelled`].
pub fn simulate_neuro(
    neuro: &NeuroAnalysis,
    name: Option<&str>,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<SimulateRun, RunError> {
    in_neuro_file(neuro, || {
        ensure_clean(neuro)?;
        let run = find_run(neuro, RunKind::Simulate, name)?;
        let item = &neuro.parse.ast.items[run.item];
        let prepared = prepare_block(neuro, &run, &|key| setting(item, key), cancel)?;
        let report = prepared.run(&prepared.options, progress, cancel)?;
        Ok(SimulateRun {
            report,
            file: neuro.path.display().to_string(),
            network: run.target,
            dataset: run.dataset,
            network_kind: prepared.network.kind(),
            record: prepared.record,
            notes: prepared.notes,
        })
    })
}

/// `run`'s errors, each naming `neuro`'s file (once).
pub(crate) fn in_neuro_file<T>(
    neuro: &NeuroAnalysis,
    run: impl FnOnce() -> Result<T, RunError>,
) -> Result<T, RunError> {
    run().map_err(|e| e.in_file(&file_name(&neuro.path)))
}

/// Reads and checks a `.neuro` file.
pub fn read_neuro(path: &Path) -> Result<NeuroAnalysis, RunError> {
    let bytes = std::fs::read(path)
        .map_err(|e| RunError::Read(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        RunError::Read(format!(
            "{}: a .neuro file must be UTF-8 text: invalid byte at offset {}",
            file_name(path),
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(NeuroAnalysis::new(path, Arc::from(text)))
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Refuses a file with errors, listing the first three as `line:col message`.
fn ensure_clean(neuro: &NeuroAnalysis) -> Result<(), RunError> {
    let errors: Vec<_> = neuro
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = errors
        .iter()
        .take(3)
        .map(|d| {
            format!(
                "line {}:{}: {} [{}]",
                d.range.start.line + 1,
                d.range.start.character + 1,
                d.message,
                d.code
            )
        })
        .collect();
    let more = if errors.len() > 3 {
        format!("; and {} more", errors.len() - 3)
    } else {
        String::new()
    };
    Err(RunError::Diagnostics(format!(
        "{}: cannot run a file with {} error{}: {}{more}",
        file_name(&neuro.path),
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        shown.join("; ")
    )))
}

/// The block of `kind` that `name` selects.
fn find_run(neuro: &NeuroAnalysis, kind: RunKind, name: Option<&str>) -> Result<RunItem, RunError> {
    let runs: Vec<RunItem> = run_items(neuro)
        .into_iter()
        .filter(|run| run.kind == kind)
        .collect();
    let keyword = match kind {
        RunKind::Simulate => "simulate",
        RunKind::Infer => "infer",
        RunKind::Sweep => "sweep",
    };
    let found = match name {
        None => runs.first(),
        Some(name) => match name.split_once(" on ") {
            Some((target, dataset)) => runs
                .iter()
                .find(|run| run.target == target.trim() && run.dataset == dataset.trim()),
            None => runs.iter().find(|run| run.target == name),
        },
    };
    if let Some(run) = found {
        return Ok(run.clone());
    }
    let file = file_name(&neuro.path);
    let what = match kind {
        RunKind::Simulate => "simulate NETWORK on DATASET { ... }",
        RunKind::Infer => "infer MODEL on DATASET { ... }",
        RunKind::Sweep => "sweep NETWORK on DATASET { steps = [10, 20, 50] }",
    };
    Err(RunError::NotFound(match (name, runs.is_empty()) {
        (_, true) => format!("{file}: no {keyword} block (expected `{what}`)"),
        (Some(name), false) => {
            let mut names: Vec<String> = Vec::new();
            for run in &runs {
                if !names.contains(&run.target) {
                    names.push(run.target.clone());
                }
            }
            format!(
                "{file}: no {keyword} block for '{name}' ({keyword} blocks: {})",
                names.join(", ")
            )
        }
        (None, false) => unreachable!("the first block is found when there is one"),
    }))
}

/// Whether a network item is read from a NIR file: `network N = nir("x.nir")`.
pub(crate) fn is_nir_network(item: &Item) -> bool {
    item.value
        .as_ref()
        .and_then(|value| value.as_call())
        .is_some_and(|call| call.callee.text == "nir")
}

/// The network of a `network N = nir("x.nir")` item, lowered for `sim`'s
/// step. NIR's neurons are continuous-time: without a `dt` of its own the
/// run steps as snnTorch writes them for ([`nir::DEFAULT_DT_MS`]).
pub(crate) fn read_nir_network(
    neuro: &NeuroAnalysis,
    item: usize,
    sim: &mut SimOptions,
    dt_given: bool,
) -> Result<nir::NirNetwork, RunError> {
    if !dt_given {
        sim.dt = nir::DEFAULT_DT_MS / 1000.0;
    }
    nir::read_network(&item_path(neuro, item)?, sim.dt)
}

/// The file bound by a `model`, `weights` or `dataset` item, resolved
/// against the `.neuro` file's folder.
pub(crate) fn item_path(neuro: &NeuroAnalysis, item: usize) -> Result<PathBuf, RunError> {
    let written = neuro.analysis.items[item].path.clone().ok_or_else(|| {
        RunError::Setting(format!(
            "`{}` binds no file",
            neuro.parse.ast.items[item].label()
        ))
    })?;
    Ok(neuro.path.parent().unwrap_or(Path::new(".")).join(written))
}

/// The item a name defines, if it is of `kind`.
pub(crate) fn item_named(
    neuro: &NeuroAnalysis,
    name: &str,
    kind: ItemKind,
) -> Result<usize, RunError> {
    neuro
        .analysis
        .names
        .get(name)
        .copied()
        .filter(|&item| neuro.parse.ast.items[item].kind == kind)
        .ok_or_else(|| RunError::Setting(format!("expected `{name}` to be a {}", kind.keyword())))
}

/// A dataset item: its archive and the keys of its inputs and labels; for
/// a `to_image(...)` dataset, the table it is made from and how.
pub(crate) struct Dataset {
    pub name: String,
    /// The archive (for an image dataset: the table's archive).
    pub path: PathBuf,
    pub x: String,
    pub y: Option<String>,
    pub image: Option<ImageSource>,
}

/// How a `to_image(DATA, ...)` dataset makes its samples.
pub(crate) struct ImageSource {
    pub options: neuride_tabular::Options,
    /// The dataset the map is fitted on (`fit:`), else the table itself.
    pub fit: Option<Box<Dataset>>,
    /// A saved map used instead of fitting (`map:`).
    pub map: Option<PathBuf>,
}

pub(crate) fn dataset(neuro: &NeuroAnalysis, item: usize) -> Result<Dataset, RunError> {
    if let Some(image) = &neuro.analysis.items[item].image {
        let mut table = dataset(neuro, image.source)?;
        let words = |e: neuride_tabular::Error| RunError::Setting(e.to_string());
        table.name = neuro.parse.ast.items[item].label();
        table.image = Some(ImageSource {
            options: neuride_tabular::Options {
                size: [image.size[0] as usize, image.size[1] as usize],
                method: neuride_tabular::Method::parse(&image.method).map_err(words)?,
                assign: neuride_tabular::Assign::parse(&image.assign).map_err(words)?,
                ..neuride_tabular::Options::default()
            },
            fit: image
                .fit
                .map(|fit| dataset(neuro, fit).map(Box::new))
                .transpose()?,
            map: image
                .map
                .as_ref()
                .map(|map| neuro.path.parent().unwrap_or(Path::new(".")).join(map)),
        });
        return Ok(table);
    }
    let it = &neuro.parse.ast.items[item];
    let call = it.value.as_ref().and_then(|v| v.as_call());
    let key = |k: &str| {
        call.and_then(|c| c.named(k))
            .and_then(|a| a.value.as_string())
            .map(str::to_owned)
    };
    Ok(Dataset {
        name: it.label(),
        path: item_path(neuro, item)?,
        x: key("x").unwrap_or_else(|| "x".to_string()),
        y: key("y"),
        image: None,
    })
}

impl Dataset {
    /// The samples: the archive's `x`, or for an image dataset the table's
    /// rows as images through the map (saved, or fitted now).
    pub(crate) fn inputs(&self, cancel: &AtomicBool) -> Result<Tensor, RunError> {
        let Some(image) = &self.image else {
            return read_array(&self.path, &self.x);
        };
        let map = match (&image.map, &image.fit) {
            (Some(path), _) => Some(image::read_map(path)?),
            (None, Some(fit)) => {
                let (shape, rows) = data::read_f64(&fit.path, &fit.x)?;
                let (map, _) = image::images_of(&shape, &rows, &image.options, None, cancel)
                    .map_err(|e| e.in_file(&fit.path.display().to_string()))?;
                Some(map)
            }
            (None, None) => None,
        };
        let (shape, rows) = data::read_f64(&self.path, &self.x)?;
        let (_, images) = image::images_of(&shape, &rows, &image.options, map, cancel)
            .map_err(|e| e.in_file(&self.path.display().to_string()))?;
        Ok(images)
    }

    /// The samples of a NIR graph's several Inputs: each the array of the
    /// Input's name in the dataset's archive (`x:` names one array), their
    /// values concatenated per sample.
    pub(crate) fn nir_inputs(&self, inputs: &[nir::Input]) -> Result<Tensor, RunError> {
        let names = || {
            inputs
                .iter()
                .map(|input| format!("'{}'", input.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.image.is_some() || self.x != model::DEFAULT_INPUTS {
            return Err(RunError::Setting(format!(
                "dataset `{}` gives one array (x: \"{}\"), and the NIR graph has {} Inputs: a dataset `npz(FILE)` without `x:` gives each Input the array of its name ({})",
                self.name,
                self.x,
                inputs.len(),
                names()
            )));
        }
        let keys: Vec<String> = inputs.iter().map(|input| input.name.clone()).collect();
        let hint = format!(
            "dataset `{}`: each Input reads the array of its name",
            self.name
        );
        nir::read_inputs(&self.path, inputs, &keys, &hint)
    }

    pub(crate) fn labels(&self) -> Result<Option<Vec<i64>>, RunError> {
        match &self.y {
            Some(y) => match read_labels(&self.path, y)? {
                Some(labels) => Ok(Some(labels)),
                None => Err(RunError::Data(format!(
                    "{}: dataset `{}` has no labels '{y}'",
                    self.path.display(),
                    self.name
                ))),
            },
            None => Ok(None),
        }
    }
}

fn setting<'a>(item: &'a Item, key: &str) -> Option<&'a neuride_dsl::syntax::ast::Expr> {
    item.entries()
        .iter()
        .find(|entry| entry.name.as_ref().is_some_and(|name| name.text == key))
        .and_then(|entry| entry.value.as_ref())
}

/// Everything a simulate-like block (`simulate`, `sweep`) needs, read once:
/// the dataset's samples, the network (a model to convert, or a written
/// network lowered to the simulator) and the options its settings give.
/// `block` looks a setting up in the block; convert settings not in the
/// block come from the network (`network N = convert(M) { ... }`).
pub(crate) fn prepare_block<'a>(
    neuro: &'a NeuroAnalysis,
    run: &RunItem,
    block: &dyn Fn(&str) -> Option<&'a Expr>,
    cancel: &AtomicBool,
) -> Result<Prepared, RunError> {
    let network_item = item_named(neuro, &run.target, ItemKind::Network)?;
    let data = dataset(neuro, item_named(neuro, &run.dataset, ItemKind::Dataset)?)?;

    let mut sim = sim_options(block)?;
    let limit = block("limit").map(settings::count).transpose()?;
    let record = settings::record(block("record"), &neuro.text);
    let notes: Vec<String> = record
        .iter()
        .filter(|r| r.starts_with("raster"))
        .map(|r| format!("{r} is not recorded: the simulator does not keep spike rasters yet"))
        .collect();

    if cancel.load(Ordering::Relaxed) {
        return Err(RunError::Cancelled);
    }
    let network = &neuro.parse.ast.items[network_item];
    let nir = match &network.value {
        Some(_) if is_nir_network(network) => {
            if let Some(key) = CONVERT_KEYS.iter().find(|key| block(key).is_some()) {
                return Err(RunError::Unsupported(format!(
                    "`{key}` applies to converted networks (`network N = convert(MODEL)`); `{}` is read from a NIR file",
                    run.target
                )));
            }
            Some(read_nir_network(
                neuro,
                network_item,
                &mut sim,
                block("dt").is_some(),
            )?)
        }
        _ => None,
    };
    let inputs = match &nir {
        Some(read) if read.inputs.len() > 1 => data.nir_inputs(&read.inputs)?,
        _ => data.inputs(cancel)?,
    };
    let labels = data.labels()?;
    let (simulated, convert, notes) = match (nir, &network.value) {
        (Some(read), _) => written(&run.target, read.network, read.neurons, notes, read.notes),
        (None, Some(value)) => {
            let source = value
                .as_call()
                .and_then(|call| call.args.first())
                .and_then(|arg| arg.value.as_name())
                .ok_or_else(|| {
                    RunError::Setting(format!("`{}`: expected `convert(MODEL)`", run.target))
                })?;
            let model_item = item_named(neuro, &source.text, ItemKind::Model)?;
            let model_path = item_path(neuro, model_item)?;
            let lookup = |key: &str| block(key).or_else(|| setting(network, key));
            let (convert, calib, weights) =
                convert_settings(neuro, &network.label(), &lookup, cancel)?;
            let calib = match calib {
                Some(calib) => Some(calib),
                // No `normalize`: the CLI's default, percentile 99.9 on the simulated data.
                None if convert.normalize != Normalize::None => Some(inputs.clone()),
                None => None,
            };
            let model = model::load(&model_path)?;
            let simulated = Simulated::Converted {
                model,
                path: model_path,
                weights,
                calib,
                name: run.target.clone(),
            };
            (simulated, convert, notes)
        }
        (None, None) => {
            if let Some(key) = CONVERT_KEYS.iter().find(|key| block(key).is_some()) {
                return Err(RunError::Unsupported(format!(
                    "`{key}` applies to converted networks (`network N = convert(MODEL)`); `{}` is written layer by layer",
                    run.target
                )));
            }
            let sample_shape: Vec<usize> = inputs.shape.iter().skip(1).copied().collect();
            let mut archives = data::Archives::default();
            let lowered = lower::lower(neuro, network_item, &sample_shape, &mut archives)?;
            written(
                &run.target,
                lowered.network,
                lowered.neurons,
                notes,
                lowered.notes,
            )
        }
    };
    Ok(Prepared {
        network: simulated,
        inputs,
        labels,
        options: SimulateOptions {
            convert,
            sim,
            limit,
        },
        record,
        notes,
    })
}

/// A network written in the file (lowered from it, or read from a NIR file
/// it names), run as it is: its notes follow the block's.
fn written(
    name: &str,
    network: neuride_snn::Network,
    neurons: Vec<String>,
    mut notes: Vec<String>,
    read_notes: Vec<String>,
) -> (Simulated, ConvertOptions, Vec<String>) {
    notes.extend(read_notes);
    let simulated = Simulated::Written {
        network,
        neurons,
        name: name.to_owned(),
    };
    (simulated, ConvertOptions::default(), notes)
}

/// The settings of a converted network (`network N = convert(M) { ... }`).
const CONVERT_KEYS: &[&str] = &["neuron", "normalize", "weights", "max_to_avg"];

/// The network a prepared simulation runs.
pub(crate) enum Simulated {
    /// A ReLU model converted for every run (the options may change how).
    Converted {
        model: neuride_onnx::load::Model,
        path: PathBuf,
        weights: Option<neuride_convert::Weights>,
        calib: Option<Tensor>,
        name: String,
    },
    /// A network written layer by layer, lowered once.
    Written {
        network: neuride_snn::Network,
        neurons: Vec<String>,
        name: String,
    },
}

impl Simulated {
    /// `converted` or `written`.
    pub fn kind(&self) -> &'static str {
        match self {
            Simulated::Converted { .. } => "converted",
            Simulated::Written { .. } => "written",
        }
    }
}

/// A simulation ready to run, any number of times, with any options.
pub(crate) struct Prepared {
    pub network: Simulated,
    pub inputs: Tensor,
    pub labels: Option<Vec<i64>>,
    /// The options the block (or the command) gives.
    pub options: SimulateOptions,
    pub record: Vec<String>,
    pub notes: Vec<String>,
}

impl Prepared {
    /// One run with `options` (the block's, or a sweep's variation of them).
    pub fn run(
        &self,
        options: &SimulateOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<SimulateReport, RunError> {
        match &self.network {
            Simulated::Converted {
                model,
                path,
                weights,
                calib,
                name,
            } => {
                // A run that normalises without calibration data of its own
                // (a sweep turning `normalize` on) calibrates on the samples.
                let calib = match (calib, options.convert.normalize) {
                    (Some(calib), _) => Some(calib),
                    (None, Normalize::None) => None,
                    (None, _) => Some(&self.inputs),
                };
                let dir = model.dir();
                let source = neuride_convert::Source {
                    model: &model.proto,
                    dir: dir.as_ref(),
                };
                let report = neuride_convert::simulate(
                    source,
                    weights.as_ref(),
                    &self.inputs,
                    self.labels.as_deref(),
                    calib,
                    options,
                    progress,
                    cancel,
                )
                .map_err(|e| match e {
                    neuride_convert::Error::Cancelled => RunError::Cancelled,
                    other => RunError::Failed(format!("simulating `{name}`: {other}")),
                })?;
                model::not_truncated(model, path)?;
                Ok(report)
            }
            Simulated::Written {
                network,
                neurons,
                name,
            } => {
                let (inputs, labels) = neuride_convert::first_samples(
                    &self.inputs,
                    self.labels.as_deref(),
                    options.limit,
                )
                .map_err(|e| RunError::Data(e.to_string()))?;
                let sim_report =
                    neuride_snn::simulate(network, &inputs, labels, &options.sim, progress, cancel)
                        .map_err(|e| match e {
                            neuride_snn::Error::Cancelled => RunError::Cancelled,
                            other => RunError::Failed(format!("simulating `{name}`: {other}")),
                        })?;
                Ok(SimulateReport {
                    sim: sim_report,
                    ann_accuracy: None,
                    scales: Vec::new(),
                    neuron: neurons.join(", "),
                    normalize: "none".to_string(),
                })
            }
        }
    }
}

/// The simulator's options from a block's settings (`block` looks one up);
/// absent settings take the language's defaults.
pub(crate) fn sim_options<'a>(
    block: &dyn Fn(&str) -> Option<&'a Expr>,
) -> Result<SimOptions, RunError> {
    let mut sim = SimOptions {
        steps: neuride_dsl::catalog::DEFAULT_STEPS as usize,
        dt: neuride_dsl::catalog::DEFAULT_DT_SECONDS as f32,
        ..SimOptions::default()
    };
    if let Some(dt) = block("dt") {
        sim.dt = settings::number(dt)? as f32;
    }
    if let Some(steps) = block("steps") {
        sim.steps = settings::count(steps)?;
    }
    if let Some(batch) = block("batch") {
        sim.batch = settings::count(batch)?;
    }
    if let Some(encode) = block("encode") {
        sim.encode = settings::encode(encode)?;
    }
    if let Some(decode) = block("decode") {
        sim.decode = settings::decode(decode)?;
    }
    Ok(sim)
}

/// `normalize = max(data: D) | percentile(P, data: D) | none` as the
/// conversion's normalisation, and the calibration dataset's name.
pub(crate) fn normalize_setting(expr: &Expr) -> Result<(Normalize, Option<String>), RunError> {
    let call = settings::CallView::of(expr).ok_or_else(|| {
        RunError::Setting(
            "expected `normalize = max(data: D)`, `percentile(P, data: D)` or `none`".to_owned(),
        )
    })?;
    let normalize = match call.name {
        "none" => Normalize::None,
        "max" => Normalize::Max,
        "percentile" => Normalize::Percentile {
            p: call
                .leading("p")
                .map(settings::number)
                .transpose()?
                .unwrap_or(99.9) as f32,
        },
        "qcfs" => Normalize::Qcfs {
            steps: call
                .leading("steps")
                .map(settings::count)
                .transpose()?
                .unwrap_or(32)
                .min(u32::MAX as usize) as u32,
        },
        other => {
            return Err(RunError::Setting(format!(
                "expected normalize max, percentile, qcfs or none, found `{other}`"
            )));
        }
    };
    let data = call
        .named("data")
        .and_then(|d| d.as_name())
        .map(|d| d.text.clone());
    Ok((normalize, data))
}

/// `neuron = lif(...) | if(...) | leaky(...)` for conversion: the neuron and
/// the starting membrane (a fraction of the threshold) when written.
pub(crate) fn conversion_neuron(
    expr: &Expr,
) -> Result<(neuride_convert::Neuron, Option<f32>), RunError> {
    let call = settings::CallView::of(expr).ok_or_else(|| {
        RunError::Setting("expected `neuron = lif(...)`, `if(...)` or `leaky(...)`".to_owned())
    })?;
    let spec = settings::neuron(&call)?;
    if spec.input_scale != 1.0 || spec.amplitude != 1.0 {
        return Err(RunError::Unsupported(format!(
            "conversion scales each neuron itself; `lif` takes no threshold or amplitude there (found threshold {}, amplitude {})",
            1.0 / spec.input_scale,
            spec.amplitude
        )));
    }
    Ok((spec.neuron, spec.initial_membrane))
}

/// A converted network's settings (looked up with `lookup`): the convert
/// options, the calibration inputs of `normalize`'s `data:` (None when
/// absent) and `weights = W`.
fn convert_settings<'a>(
    neuro: &NeuroAnalysis,
    name: &str,
    lookup: &dyn Fn(&str) -> Option<&'a Expr>,
    cancel: &AtomicBool,
) -> Result<
    (
        ConvertOptions,
        Option<Tensor>,
        Option<neuride_convert::Weights>,
    ),
    RunError,
> {
    let mut convert = ConvertOptions::default();
    let mut calib = None;
    let mut weights = None;
    let named = |e: RunError| e.in_file(&format!("`{name}`"));
    if let Some(expr) = lookup("neuron") {
        let (neuron, initial) = conversion_neuron(expr).map_err(named)?;
        convert.neuron = neuron;
        // Converted neurons start at half the threshold unless the file says.
        if let Some(initial) = initial {
            convert.initial_membrane = initial;
        }
    }
    if let Some(expr) = lookup("normalize") {
        let (normalize, data) = normalize_setting(expr).map_err(named)?;
        convert.normalize = normalize;
        if let Some(data) = data {
            let calib_set = dataset(neuro, item_named(neuro, &data, ItemKind::Dataset)?)?;
            calib = Some(calib_set.inputs(cancel)?);
        }
    }
    if let Some(expr) = lookup("weights") {
        let w = expr
            .as_name()
            .ok_or_else(|| RunError::Setting(format!("`{name}`: expected `weights = W`")))?;
        let path = item_path(neuro, item_named(neuro, &w.text, ItemKind::Weights)?)?;
        weights = Some(read_weights(&path)?);
    }
    if let Some(expr) = lookup("max_to_avg") {
        convert.max_to_avg = settings::boolean(expr)?;
    }
    Ok((convert, calib, weights))
}

#[cfg(test)]
mod output_format_tests {
    use super::*;

    #[test]
    fn a_listed_extension_is_its_format_in_any_case() {
        let formats = ["npz", "json"];
        assert_eq!(
            output_format(Path::new("out.npz"), &formats).unwrap(),
            "npz"
        );
        assert_eq!(
            output_format(Path::new("d/OUT.JSON"), &formats).unwrap(),
            "json"
        );
    }

    #[test]
    fn other_extensions_name_the_path_and_the_writable_ones() {
        let error = output_format(Path::new("out.nir"), &["neuro"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot write out.nir: this command writes .neuro, not a .nir file"
        );
        let error = output_format(Path::new("out"), &["npz", "json"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot write out: this command writes .npz or .json, not a file without an extension"
        );
    }
}
