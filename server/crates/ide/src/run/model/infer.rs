//! `infer` on a model: `neuride infer MODEL --input ...` on the command line,
//! `neuride.infer` on a model in the editor, and a spiking model in plain
//! ONNX ops simulated "as it is". The inputs are read by their extension,
//! scored against labels when asked, and the outputs written to `.npz` or
//! `.json` when asked.

use crate::run::{RunError, output_format};
use neuride_infer::{DType, EngineChoice, InferReport, Session, Tensor, Value, ValueType, io};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The formats `output` may have (or it is a folder: see [`is_folder`]).
pub const INFER_OUTPUTS: &[&str] = &["npz", "json"];

/// Whether `output` names a folder (written with a trailing `/`, or an
/// existing one): each output then goes to `output_<i>.pb` in the model's
/// output order, as TensorProto/SequenceProto/MapProto/OptionalProto, the
/// layout of ONNX's backend tests (and of `--input NAME=FILE.pb`).
pub fn is_folder(output: &Path) -> bool {
    output
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::is_separator)
        || output.is_dir()
}

/// One input file: `FILE.npz` (keys = input names), `FILE.npy` or
/// `FILE.json` for the model's inputs, or `NAME=FILE` (.npy, .pb
/// TensorProto, .json) for the input `NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    pub name: Option<String>,
    pub file: PathBuf,
}

impl FromStr for InputFile {
    type Err = std::convert::Infallible;

    /// `NAME=FILE` names an input unless the whole text is an existing
    /// file (whose name may hold an `=`). A name with a `/` (`gpu_0/data_0`,
    /// as TensorFlow and Caffe2 exports name inputs) counts when FILE exists.
    fn from_str(text: &str) -> Result<InputFile, Self::Err> {
        Ok(match text.split_once('=') {
            Some((name, file))
                if !name.is_empty()
                    && !Path::new(text).exists()
                    && (!name.contains(['/', '\\']) || Path::new(file).exists()) =>
            {
                InputFile {
                    name: Some(name.to_owned()),
                    file: PathBuf::from(file),
                }
            }
            _ => InputFile {
                name: None,
                file: PathBuf::from(text),
            },
        })
    }
}

impl<'de> Deserialize<'de> for InputFile {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<InputFile, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(text.parse().unwrap_or_else(|never| match never {}))
    }
}

/// One input file or a list of them (`"input": "d.npz"` or `["a=a.npy", ...]`).
fn one_or_more<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<InputFile>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMore {
        One(InputFile),
        More(Vec<InputFile>),
    }
    Ok(match OneOrMore::deserialize(deserializer)? {
        OneOrMore::One(one) => vec![one],
        OneOrMore::More(more) => more,
    })
}

/// The engine a model runs on (see [`EngineChoice`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Auto,
    Native,
    Tract,
    Evaluator,
    Ort,
}

impl From<Engine> for EngineChoice {
    fn from(engine: Engine) -> EngineChoice {
        match engine {
            Engine::Auto => EngineChoice::Auto,
            Engine::Native => EngineChoice::Native,
            Engine::Tract => EngineChoice::Tract,
            Engine::Evaluator => EngineChoice::Evaluator,
            Engine::Ort => EngineChoice::Ort,
        }
    }
}

/// Where the user's onnxruntime library is: `ORT_DYLIB_PATH`, else the
/// `capi/` folder of an `onnxruntime` Python package (the active virtual
/// environment's, then those `python3` sees). The error says how to get one.
pub fn find_onnxruntime() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "ORT_DYLIB_PATH names {}, which is not a file",
                path.display()
            ))
        };
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        roots.extend(site_packages(Path::new(&venv)));
    }
    // The folders `python3` imports from (its own prefix, user site, ...).
    if let Ok(out) = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys; print('\\n'.join(p for p in sys.path if p))",
        ])
        .stderr(std::process::Stdio::null())
        .output()
    {
        roots.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(PathBuf::from),
        );
    }
    for root in roots {
        let capi = root.join("onnxruntime").join("capi");
        let Ok(entries) = std::fs::read_dir(&capi) else {
            continue;
        };
        let mut libs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    (n.starts_with("libonnxruntime.so")
                        || n.starts_with("libonnxruntime.") && n.ends_with(".dylib")
                        || n == "onnxruntime.dll")
                        && !n.contains("providers")
                })
            })
            .collect();
        libs.sort();
        if let Some(lib) = libs.pop() {
            return Ok(lib);
        }
    }
    Err("onnxruntime is not installed: `pip install onnxruntime`, or set ORT_DYLIB_PATH to a libonnxruntime".into())
}

fn site_packages(prefix: &Path) -> Vec<PathBuf> {
    let lib = prefix.join("lib");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .filter(|p| p.is_dir())
        .collect();
    out.push(prefix.join("Lib").join("site-packages"));
    out
}

/// Tells the inference crate how to find onnxruntime (idempotent; the
/// search runs only when a model needs the engine).
pub fn register_onnxruntime() {
    neuride_infer::onnxruntime::set_locator(find_onnxruntime);
}

/// `infer` on a model.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InferModel {
    #[serde(deserialize_with = "one_or_more")]
    pub input: Vec<InputFile>,
    /// Score against labels: a key of an input .npz (e.g. `y`) or a .npy file.
    pub labels: Option<String>,
    /// Write the outputs here (.npz keyed by output name, .json, or a
    /// folder `DIR/` of `output_<i>.pb` files).
    pub output: Option<PathBuf>,
    /// Rows per batch when the model's first dimension is free.
    pub batch: usize,
    pub engine: Engine,
}

impl Default for InferModel {
    fn default() -> Self {
        InferModel {
            input: Vec::new(),
            labels: None,
            output: None,
            batch: neuride_infer::DEFAULT_BATCH_ROWS,
            engine: Engine::Auto,
        }
    }
}

impl InferModel {
    /// The options that name files (for a caller that resolves them).
    pub fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        self.input
            .iter_mut()
            .map(|input| &mut input.file)
            .chain(self.output.as_mut())
    }
}

/// Prepares `model` for the engine `options` pick (see [`infer_model`]).
pub fn load_session(model: &Path, engine: Engine) -> Result<Arc<Session>, RunError> {
    register_onnxruntime();
    let bytes = crate::source::read_file(model)
        .map_err(|e| RunError::Data(format!("cannot read {}: {e}", model.display())))?;
    Session::load_with(&bytes, engine.into())
        .map_err(|e| RunError::Failed(format!("preparing {}: {e}", model.display())))
}

/// A finished inference.
#[derive(Debug)]
pub struct Inferred {
    pub report: InferReport,
    /// Outputs that `output` cannot hold (sequences and maps in a `.npz`):
    /// the others are written.
    pub not_written: Vec<String>,
}

/// Loads `model` and runs it as `options` say: what they ask to write is
/// checked first (before a model that may take seconds to load), then
/// [`load_session`] and [`run_session`].
pub fn infer_model(
    model: &Path,
    options: &InferModel,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Inferred, RunError> {
    check_output(options)?;
    let session = load_session(model, options.engine)?;
    run_session(model, &session, options, progress, cancel)
}

/// What can be refused before any work: an output format the command
/// cannot write.
fn check_output(options: &InferModel) -> Result<(), RunError> {
    if let Some(output) = &options.output
        && !is_folder(output)
    {
        output_format(output, INFER_OUTPUTS)?;
    }
    Ok(())
}

/// Reads the inputs `options` name, runs `session` (the model at `model`)
/// on them (`progress(rows_done, rows_total)` per batch; `cancel` stops
/// before the next batch with [`RunError::Cancelled`]), scores against the
/// labels and writes `output`.
fn run_session(
    model: &Path,
    session: &Session,
    options: &InferModel,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Inferred, RunError> {
    if options.input.is_empty() && !session.signature.inputs.is_empty() {
        return Err(RunError::Setting(format!(
            "{}: --input is required to run an ONNX model with inputs (a .neuro file names its dataset in `infer MODEL on DATASET`)",
            model.display()
        )));
    }
    let (mut inputs, side_arrays) =
        load_inputs(&options.input, options.labels.as_deref(), session)?;
    widen_integer_inputs(&mut inputs, session);
    let labels = options
        .labels
        .as_deref()
        .map(|l| load_labels(l, &side_arrays))
        .transpose()?;
    let report = run_scored(
        model,
        session,
        inputs,
        options.batch,
        labels.as_ref(),
        progress,
        cancel,
    )?;
    let not_written = match &options.output {
        Some(output) => write_outputs(output, &report)?,
        None => Vec::new(),
    };
    Ok(Inferred {
        report,
        not_written,
    })
}

/// Runs `session` (the model at `model`) on `inputs` in batches of
/// `batch` rows, and scores the outputs against `labels` when given.
pub(crate) fn run_scored(
    model: &Path,
    session: &Session,
    inputs: Vec<(String, Value)>,
    batch: usize,
    labels: Option<&Tensor>,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<InferReport, RunError> {
    let mut report =
        neuride_infer::infer(session, inputs, batch, progress, cancel).map_err(|e| match e {
            neuride_infer::Error::Cancelled { .. } => RunError::Cancelled,
            other => RunError::Failed(format!("running {}: {other}", model.display())),
        })?;
    if let Some(labels) = labels {
        report.score = Some(
            neuride_infer::score(&report.outputs, labels)
                .map_err(|e| RunError::Data(format!("scoring against the labels: {e}")))?,
        );
    }
    Ok(report)
}

/// Integer data (e.g. u8 spike rasters) for a float input, widened
/// losslessly.
fn widen_integer_inputs(inputs: &mut [(String, Value)], session: &Session) {
    for (name, value) in inputs.iter_mut() {
        let Some(want) = session.signature.inputs.iter().find(|p| &p.name == name) else {
            continue;
        };
        if let (
            ValueType::Tensor {
                dtype: Some(DType::F32),
                ..
            },
            Value::Tensor(t),
        ) = (&want.ty, &*value)
            && matches!(t.dtype(), DType::U8 | DType::I8 | DType::Bool)
        {
            let data = t.data.to_f32().unwrap_or_default();
            *value = Value::Tensor(Tensor {
                shape: t.shape.clone(),
                data: data.into(),
            });
        }
    }
}

/// Writes the outputs; returns those the format cannot hold.
fn write_outputs(output: &Path, report: &InferReport) -> Result<Vec<String>, RunError> {
    let cannot = |e: &dyn std::fmt::Display| {
        RunError::Failed(format!("cannot write {}: {e}", output.display()))
    };
    if is_folder(output) {
        std::fs::create_dir_all(output).map_err(|e| cannot(&e))?;
        for (i, (name, value)) in report.outputs.iter().enumerate() {
            let file = output.join(format!("output_{i}.pb"));
            crate::weights::write_atomically(&file, &io::write_pb(name, value))
                .map_err(|e| cannot(&e))?;
        }
        return Ok(Vec::new());
    }
    let (bytes, skipped) = match output_format(output, INFER_OUTPUTS)? {
        "json" => (
            serde_json::to_vec_pretty(&io::outputs_to_json(&report.outputs))
                .map_err(|e| cannot(&e))?,
            Vec::new(),
        ),
        _ => io::outputs_to_npz(&report.outputs).map_err(|e| cannot(&e))?,
    };
    crate::weights::write_atomically(output, &bytes).map_err(|e| cannot(&e))?;
    Ok(skipped)
}

fn read(path: &Path) -> Result<Vec<u8>, RunError> {
    crate::source::read_file(path)
        .map(|bytes| bytes.to_vec())
        .map_err(|e| RunError::Data(format!("cannot read {}: {e}", path.display())))
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Every input, plus the arrays of .npz inputs (where labels may live).
pub fn load_inputs(
    files: &[InputFile],
    labels: Option<&str>,
    session: &Session,
) -> Result<(Vec<(String, Value)>, Vec<(String, Tensor)>), RunError> {
    let signature = &session.signature;
    let mut inputs = Vec::new();
    let mut side_arrays = Vec::new();
    for InputFile { name, file } in files {
        let bytes = read(file)?;
        let bad = |e: &dyn std::fmt::Display| RunError::Data(format!("{}: {e}", file.display()));
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| bad(&e));
        match (extension(file).as_str(), name) {
            ("npz", None) => {
                side_arrays.extend(io::read_npz(&bytes).map_err(|e| bad(&e))?);
                inputs.extend(
                    io::inputs_from_npz(&bytes, signature, labels.as_slice())
                        .map_err(|e| bad(&e))?,
                );
            }
            ("json", None) => inputs.extend(
                neuride_infer::json::inputs_from_json(&text(bytes)?, signature)
                    .map_err(|e| bad(&e))?,
            ),
            ("npy", None) => {
                let [port] = signature.inputs.as_slice() else {
                    return Err(RunError::Setting(format!(
                        "{} is one array but the model has {} inputs; use NAME=FILE.npy",
                        file.display(),
                        signature.inputs.len()
                    )));
                };
                let tensor = io::read_npy(&bytes).map_err(|e| bad(&e))?;
                inputs.push((port.name.clone(), Value::Tensor(tensor)));
            }
            ("pb", None) => {
                return Err(RunError::Setting(format!(
                    "{}: a .pb input needs its name: --input NAME={}",
                    file.display(),
                    file.display()
                )));
            }
            (ext, Some(name)) => {
                let ty = signature
                    .inputs
                    .iter()
                    .find(|p| &p.name == name)
                    .map(|p| p.ty.clone())
                    .unwrap_or(ValueType::Unknown);
                let value = match ext {
                    "npy" => Value::Tensor(io::read_npy(&bytes).map_err(|e| bad(&e))?),
                    "json" => {
                        let quoted = serde_json::Value::String(name.clone());
                        let wrapped = format!("{{{quoted}: {}}}", text(bytes)?);
                        neuride_infer::json::inputs_from_json(&wrapped, signature)
                            .map_err(|e| bad(&e))?
                            .remove(0)
                            .1
                    }
                    _ => io::read_pb(&bytes, &ty).map_err(|e| bad(&e))?,
                };
                inputs.push((name.clone(), value));
            }
            (ext, None) => {
                return Err(RunError::Data(format!(
                    "{}: unknown input format '.{ext}' (expected .npz, .npy, .json, or NAME=FILE.pb)",
                    file.display()
                )));
            }
        }
    }
    Ok((inputs, side_arrays))
}

fn load_labels(spec: &str, side_arrays: &[(String, Tensor)]) -> Result<Tensor, RunError> {
    if let Some((_, t)) = side_arrays.iter().find(|(n, _)| n == spec) {
        return Ok(t.clone());
    }
    let path = Path::new(spec);
    if path.exists() {
        return io::read_npy(&read(path)?)
            .map_err(|e| RunError::Data(format!("reading labels {spec}: {e}")));
    }
    let keys: Vec<&str> = side_arrays.iter().map(|(n, _)| n.as_str()).collect();
    Err(RunError::Data(format!(
        "labels '{spec}': no such array in the input .npz (arrays: {keys:?}) and no such file"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_a_file_or_a_named_file() {
        let plain: InputFile = "data/iris.npz".parse().unwrap();
        assert_eq!(plain.name, None);
        assert_eq!(plain.file, PathBuf::from("data/iris.npz"));
        let named: InputFile = "x=data/x.npy".parse().unwrap();
        assert_eq!(named.name.as_deref(), Some("x"));
        assert_eq!(named.file, PathBuf::from("data/x.npy"));
        let folder_with_equals: InputFile = "a/b=c.npy".parse().unwrap();
        assert_eq!(folder_with_equals.name, None);
    }

    #[test]
    fn options_deserialize_from_one_input_or_several_and_refuse_unknown_keys() {
        let one: InferModel = serde_json::from_value(serde_json::json!({
            "input": "d.npz", "labels": "y", "engine": "tract"
        }))
        .unwrap();
        assert_eq!(one.input.len(), 1);
        assert_eq!(one.engine, Engine::Tract);
        assert_eq!(one.batch, neuride_infer::DEFAULT_BATCH_ROWS);
        let more: InferModel =
            serde_json::from_value(serde_json::json!({ "input": ["a=a.npy", "b=b.npy"] })).unwrap();
        assert_eq!(more.input[1].name.as_deref(), Some("b"));
        let unknown = serde_json::from_value::<InferModel>(serde_json::json!({ "inputs": "d" }));
        assert!(unknown.is_err());
    }
}
