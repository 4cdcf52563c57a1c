//! Runs of a model file with typed options: `neuride simulate MODEL`,
//! `neuride convert MODEL` and `neuride infer MODEL` on the command line,
//! `neuride.simulate`, `neuride.convert` and `neuride.infer` on a model in
//! the editor. The CLI builds these option structs from its flags (whose defaults are the ones written here), the
//! language server deserializes them from a command's JSON argument (keys
//! as the field names, unknown keys refused); both then call the same
//! function, so an editor run and a CLI run with the same options give the
//! same numbers. A `.neuro` block's runs are in the parent module.

mod infer;
mod predict;

pub(crate) use infer::run_scored;
pub use infer::{
    Engine, INFER_OUTPUTS, InferModel, Inferred, InputFile, find_onnxruntime, infer_model,
    load_session, register_onnxruntime,
};
pub use predict::{MAX_STEPS, Plan, Predict, Predictor, SIMULATOR_OUTPUT};

use super::data::{read_array, read_labels, read_weights};
use super::{Prepared, RunError, Simulated};
use neuride_convert::{
    ConvertOptions, Decode, Encode, ExportInfo, IfNeuron, Neuron, Normalize, Reset, SimOptions,
    SimulateOptions, SimulateReport,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The neuron replacing each ReLU unless told otherwise.
pub const DEFAULT_NEURON: &str = "if";
/// The leak factor of the `leaky` neuron unless told otherwise.
pub const DEFAULT_BETA: f32 = 0.95;
/// Weight normalisation unless told otherwise: each layer's activations at
/// their 99.9th percentile on the calibration data map to one spike a step.
pub const DEFAULT_NORMALIZE: &str = "percentile:99.9";
/// The key of the samples in a data or calibration archive.
pub const DEFAULT_INPUTS: &str = "x";

/// How a ReLU network becomes a spiking one: the settings `simulate` and
/// `convert` on a model share (as keys of their own option objects).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Conversion {
    /// `if`, `lif` or `leaky`.
    pub neuron: String,
    /// The leak factor of `leaky`.
    pub beta: f32,
    /// `none`, `max`, `percentile:P` or `qcfs[:T]` (`qcfs` alone in
    /// simulate: fitted to `steps`; convert needs its steps: `qcfs:T`).
    pub normalize: String,
    /// MaxPool becomes average pooling (else a spiking max-pool).
    pub max_to_avg: bool,
    /// `if` neurons emit at most this many spikes per step (1: the classic
    /// neuron; none: as many as the membrane holds, a burst).
    pub max_spikes: Option<u32>,
    /// `if` neurons may take spikes back (docs/snn.md, "Low-latency conversion").
    pub signed: bool,
    /// Membrane at the first step, as a fraction of the threshold.
    pub initial_membrane: f32,
}

impl Default for Conversion {
    /// Neuride's neuron and normalisation, and the converter's own
    /// defaults where the settings name its options.
    fn default() -> Self {
        let converter = ConvertOptions::default();
        Conversion {
            neuron: DEFAULT_NEURON.to_owned(),
            beta: DEFAULT_BETA,
            normalize: DEFAULT_NORMALIZE.to_owned(),
            max_to_avg: converter.max_to_avg,
            max_spikes: None,
            signed: false,
            initial_membrane: converter.initial_membrane,
        }
    }
}

impl Conversion {
    /// The converter's options these settings name; `steps` fits a bare
    /// `qcfs` (`None`: it needs its steps written, `qcfs:T`).
    fn options(&self, steps: Option<usize>) -> Result<ConvertOptions, RunError> {
        Ok(ConvertOptions {
            neuron: neuron(&self.neuron, self.beta, self.max_spikes, self.signed)?,
            normalize: normalize(&self.normalize, steps)?,
            max_to_avg: self.max_to_avg,
            initial_membrane: self.initial_membrane,
            ..ConvertOptions::default()
        })
    }
}

/// `simulate` on a model: convert it (a ReLU network) or read its spiking
/// neurons, and run a data set through it.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulateModel {
    /// Samples (.npz): inputs under `inputs`, labels under `labels`.
    pub data: Option<PathBuf>,
    /// The key of the inputs; for a NIR graph also `NAME=KEY,...` per
    /// Input (several Inputs read the arrays of their names by default).
    pub inputs: String,
    pub labels: String,
    pub steps: usize,
    /// `neuron`, `beta`, `normalize`, ...: keys of this object too.
    #[serde(flatten)]
    pub conversion: Conversion,
    /// Calibration samples (.npz, key `inputs`); default: `data`.
    pub calib: Option<PathBuf>,
    /// Weights by initializer name (.npz) replacing the model's.
    pub weights: Option<PathBuf>,
    /// `current`, `rate`, `latency` or `delta`.
    pub encode: String,
    /// `auto`, `count`, `membrane` or `first_spike`.
    pub decode: String,
    pub batch: usize,
    /// Only the first N samples.
    pub limit: Option<usize>,
    /// Step length (ms); default 1 ms, and for NIR files 0.1 ms, the step
    /// snnTorch's exporter writes them for ([`super::nir::DEFAULT_DT_MS`]).
    pub dt_ms: Option<f32>,
    /// Seed of the rate encoder.
    pub seed: u64,
    /// Simulation threads; 0: one per core.
    pub threads: usize,
}

impl Default for SimulateModel {
    fn default() -> Self {
        SimulateModel {
            data: None,
            inputs: DEFAULT_INPUTS.to_owned(),
            labels: "y".to_owned(),
            steps: 50,
            conversion: Conversion::default(),
            calib: None,
            weights: None,
            encode: "current".to_owned(),
            decode: "auto".to_owned(),
            batch: 64,
            limit: None,
            dt_ms: None,
            seed: 0,
            threads: 0,
        }
    }
}

impl SimulateModel {
    /// The options that name files (for a caller that resolves them).
    pub fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        [&mut self.data, &mut self.calib, &mut self.weights]
            .into_iter()
            .flatten()
    }
}

/// `convert` on a model: the spiking network written as OUT.neuro, its
/// weights as OUT.npz and an ONNX model with `ai.neuride.snn` neurons as
/// OUT.snn.onnx.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvertModel {
    /// Calibration samples (.npz, key `inputs`) for data-based normalisation.
    pub calib: Option<PathBuf>,
    pub inputs: String,
    /// Weights by initializer name (.npz) replacing the model's.
    pub weights: Option<PathBuf>,
    /// `neuron`, `beta`, `normalize`, ...: keys of this object too.
    #[serde(flatten)]
    pub conversion: Conversion,
}

impl Default for ConvertModel {
    fn default() -> Self {
        ConvertModel {
            calib: None,
            inputs: DEFAULT_INPUTS.to_owned(),
            weights: None,
            conversion: Conversion::default(),
        }
    }
}

impl ConvertModel {
    /// The options that name files (for a caller that resolves them).
    pub fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        [&mut self.calib, &mut self.weights].into_iter().flatten()
    }
}

/// Loads what `options` name and simulates `model` through them.
/// `progress` is called per batch; `cancel` stops the run with
/// [`RunError::Cancelled`].
pub fn simulate_model(
    model: &Path,
    options: &SimulateModel,
    progress: &mut dyn FnMut(neuride_convert::Progress),
    cancel: &AtomicBool,
) -> Result<SimulateReport, RunError> {
    let prepared = prepare_model(model, options)?;
    prepared.run(&prepared.options, progress, cancel)
}

/// The step of an ONNX model's simulation unless told otherwise (ms).
pub const DEFAULT_DT_MS: f32 = 1.0;

/// The model, its data and the options, read once (a sweep runs it many
/// times with variations of the options).
pub(crate) fn prepare_model(model: &Path, options: &SimulateModel) -> Result<Prepared, RunError> {
    if super::nir::is_nir(model) {
        return prepare_nir(model, options);
    }
    let loaded = load(model)?;
    let Some(data_path) = options.data.as_deref() else {
        return Err(RunError::Setting(format!(
            "{}: --data D.npz is required to simulate an ONNX model (a .neuro file names its dataset in `simulate NETWORK on DATASET`)",
            model.display()
        )));
    };
    let data = read_array(data_path, &options.inputs)?;
    let labels = read_labels(data_path, &options.labels)?;
    let calib = match &options.calib {
        Some(path) => read_array(path, &options.inputs)?,
        None => data.clone(),
    };
    let weights = options.weights.as_deref().map(read_weights).transpose()?;
    let opts = SimulateOptions {
        convert: options.conversion.options(Some(options.steps))?,
        sim: SimOptions {
            steps: options.steps,
            dt: options.dt_ms.unwrap_or(DEFAULT_DT_MS) / 1000.0,
            encode: encode(&options.encode, options.seed)?,
            decode: decode(&options.decode)?,
            batch: options.batch,
            threads: options.threads,
        },
        limit: options.limit,
    };
    Ok(Prepared {
        network: Simulated::Converted {
            model: loaded,
            path: model.to_owned(),
            weights,
            calib: Some(calib),
            name: model.display().to_string(),
        },
        inputs: data,
        labels,
        options: opts,
        record: Vec::new(),
        notes: Vec::new(),
    })
}

/// A NIR file's network with the run's options: the file says the
/// neurons, so the conversion options do not apply.
fn prepare_nir(model: &Path, options: &SimulateModel) -> Result<Prepared, RunError> {
    let Some(data_path) = options.data.as_deref() else {
        return Err(RunError::Setting(format!(
            "{}: --data D.npz is required to simulate a NIR file",
            model.display()
        )));
    };
    let dt_ms = options.dt_ms.unwrap_or(super::nir::DEFAULT_DT_MS);
    let dt = dt_ms / 1000.0;
    let nir = super::nir::read_network(model, dt)?;
    let keys = super::nir::input_keys(&nir.inputs, &options.inputs, "--inputs")?;
    let inputs = super::nir::read_inputs(
        data_path,
        &nir.inputs,
        &keys,
        "pick another array with --inputs NAME=KEY",
    )?;
    let labels = read_labels(data_path, &options.labels)?;
    let mut notes = nir.notes;
    if let [_, _, ..] = nir.inputs.as_slice() {
        notes.push(format!(
            "inputs: {}",
            nir.inputs
                .iter()
                .zip(&keys)
                .map(|(input, key)| format!("'{}' {:?} from '{key}'", input.name, input.shape))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    notes.push(format!(
        "NIR's equations stepped with dt = {dt_ms} ms (snnTorch writes its files for 0.1 ms, Norse for 1 ms: --dt-ms)"
    ));
    Ok(Prepared {
        network: Simulated::Written {
            network: nir.network,
            neurons: nir.neurons,
            name: model.display().to_string(),
        },
        inputs,
        labels,
        options: SimulateOptions {
            convert: ConvertOptions::default(),
            sim: SimOptions {
                steps: options.steps,
                dt,
                encode: encode(&options.encode, options.seed)?,
                decode: decode(&options.decode)?,
                batch: options.batch,
                threads: options.threads,
            },
            limit: options.limit,
        },
        record: Vec::new(),
        notes,
    })
}

/// What a conversion wrote.
pub struct Written {
    pub converted: neuride_convert::Converted,
    pub neuro: PathBuf,
    pub npz: PathBuf,
    pub onnx: PathBuf,
}

/// The files a conversion to `output` (OUT.neuro) writes: OUT.neuro,
/// OUT.npz and OUT.snn.onnx, in that order.
pub fn conversion_outputs(output: &Path) -> [PathBuf; 3] {
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    [
        output.to_owned(),
        output.with_file_name(format!("{stem}.npz")),
        output.with_file_name(format!("{stem}.snn.onnx")),
    ]
}

/// Converts `model` and writes the three files of [`conversion_outputs`]
/// (each atomically).
pub fn convert_model(
    model: &Path,
    options: &ConvertModel,
    output: &Path,
) -> Result<Written, RunError> {
    let converted = convert_only(model, options)?;
    let [neuro_path, npz_path, onnx_path] = conversion_outputs(output);
    let stem = output
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| RunError::Setting("-o needs a file name like OUT.neuro".to_owned()))?;
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let info = ExportInfo {
        name: if name.starts_with(|c: char| c.is_ascii_digit()) {
            format!("net_{name}")
        } else {
            name
        },
        source: model
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        npz_file: format!("{stem}.npz"),
        normalize: options.conversion.normalize.clone(),
    };
    let npz = neuride_convert::npz_bytes(&converted.network)
        .map_err(|e| RunError::Failed(format!("encoding {}: {e}", npz_path.display())))?;
    let write = |path: &Path, bytes: &[u8]| {
        crate::weights::write_atomically(path, bytes)
            .map_err(|e| RunError::Data(format!("cannot write {}: {e}", path.display())))
    };
    write(
        &neuro_path,
        neuride_convert::to_neuro(&converted.network, &info).as_bytes(),
    )?;
    write(&npz_path, &npz)?;
    write(
        &onnx_path,
        &neuride_convert::onnx_bytes(&converted.network, &info),
    )?;
    Ok(Written {
        converted,
        neuro: neuro_path,
        npz: npz_path,
        onnx: onnx_path,
    })
}

/// `model` converted with `options` (nothing written).
fn convert_only(
    model: &Path,
    options: &ConvertModel,
) -> Result<neuride_convert::Converted, RunError> {
    let loaded = load(model)?;
    let opts = options.conversion.options(None)?;
    let calib = match (&options.calib, opts.normalize) {
        (Some(path), _) => Some(read_array(path, &options.inputs)?),
        (None, Normalize::None) => None,
        (None, _) => {
            return Err(RunError::Setting(format!(
                "--normalize {} needs calibration samples: pass --calib C.npz (or --normalize none)",
                options.conversion.normalize
            )));
        }
    };
    let weights = options.weights.as_deref().map(read_weights).transpose()?;
    convert_loaded(
        &loaded,
        model,
        weights.as_ref(),
        calib.as_ref(),
        &opts,
        &model.display().to_string(),
    )
}

/// Converts a loaded model, then checks that its file was not truncated
/// while the conversion read it; `what` names the model in an error
/// (`converting WHAT: ...`).
pub(crate) fn convert_loaded(
    loaded: &neuride_onnx::load::Model,
    path: &Path,
    weights: Option<&neuride_convert::Weights>,
    calib: Option<&neuride_convert::Tensor>,
    options: &ConvertOptions,
    what: &str,
) -> Result<neuride_convert::Converted, RunError> {
    let dir = loaded.dir();
    let source = neuride_convert::Source {
        model: &loaded.proto,
        dir: dir.as_ref(),
    };
    let converted = neuride_convert::convert(source, weights, calib, options)
        .map_err(|e| failed(e, format!("converting {what}")))?;
    not_truncated(loaded, path)?;
    Ok(converted)
}

/// Converts `model` and writes the spiking network to `output` as NIR
/// (atomically), its step-based neurons expressed for steps of `dt_ms`.
/// Returns the conversion and what NIR does not say about the network.
pub fn convert_model_to_nir(
    model: &Path,
    options: &ConvertModel,
    dt_ms: f32,
    output: &Path,
) -> Result<(neuride_convert::Converted, Vec<String>), RunError> {
    let converted = convert_only(model, options)?;
    let notes = super::nir::write_network(&converted.network, dt_ms as f64 / 1000.0, output)?;
    Ok((converted, notes))
}

/// Loads the ONNX model at `model` (an error names the file).
pub(crate) fn load(model: &Path) -> Result<neuride_onnx::load::Model, RunError> {
    neuride_onnx::load::load_file(model)
        .map_err(|e| RunError::Data(format!("cannot load {}: {e}", model.display())))
}

/// Fails when `model`'s file was truncated under its map while the run read
/// it: what it computed from the lost pages (zeros) is not the model's.
pub fn not_truncated(loaded: &neuride_onnx::load::Model, path: &Path) -> Result<(), RunError> {
    if loaded.was_truncated() {
        return Err(RunError::Data(format!(
            "{} changed on disk while it was read (truncated in place): run again",
            path.display()
        )));
    }
    Ok(())
}

fn failed(error: neuride_convert::Error, doing: String) -> RunError {
    match error {
        neuride_convert::Error::Cancelled => RunError::Cancelled,
        other => RunError::Failed(format!("{doing}: {other}")),
    }
}

/// `if`, `lif` or `leaky` (with leak `beta`); an `if` neuron may cap its
/// spikes per step (`max_spikes`) and be `signed`.
pub fn neuron(
    name: &str,
    beta: f32,
    max_spikes: Option<u32>,
    signed: bool,
) -> Result<Neuron, RunError> {
    if name != "if" && (max_spikes.is_some() || signed) {
        return Err(RunError::Setting(format!(
            "--max-spikes and --signed apply to --neuron if, found --neuron {name}"
        )));
    }
    if max_spikes == Some(0) {
        return Err(RunError::Setting(
            "--max-spikes must be at least 1 (leave it out for no limit)".to_owned(),
        ));
    }
    Ok(match name {
        "if" => Neuron::If(IfNeuron {
            max_spikes,
            signed,
            ..IfNeuron::conversion()
        }),
        "lif" => Neuron::nengo_lif(),
        "leaky" => Neuron::Leaky {
            beta,
            threshold: 1.0,
            reset: Reset::Subtract,
        },
        other => {
            return Err(RunError::Setting(format!(
                "--neuron must be if, lif or leaky, found '{other}'"
            )));
        }
    })
}

/// `none`, `max`, `percentile:P`, or `qcfs:T` (`qcfs` alone takes the
/// simulation's `steps`, when there is one).
pub fn normalize(text: &str, steps: Option<usize>) -> Result<Normalize, RunError> {
    let number = |what: &str, value: &str| {
        RunError::Setting(format!(
            "--normalize {what} needs a number, found '{value}'"
        ))
    };
    Ok(match text {
        "none" => Normalize::None,
        "max" => Normalize::Max,
        "qcfs" => match steps {
            Some(steps) => Normalize::Qcfs {
                steps: steps.min(u32::MAX as usize) as u32,
            },
            None => {
                return Err(RunError::Setting(
                    "--normalize qcfs needs the steps it is fitted to here: qcfs:T".to_owned(),
                ));
            }
        },
        _ => {
            let (kind, value) = text
                .split_once(':')
                .or_else(|| text.split_once('='))
                .unwrap_or((text, ""));
            match kind {
                "percentile" => Normalize::Percentile {
                    p: value.parse().map_err(|_| number("percentile:P", value))?,
                },
                "qcfs" => Normalize::Qcfs {
                    steps: value.parse().map_err(|_| number("qcfs:T", value))?,
                },
                _ => {
                    return Err(RunError::Setting(format!(
                        "--normalize must be none, max, percentile:P or qcfs[:T], found '{text}'"
                    )));
                }
            }
        }
    })
}

pub(crate) fn encode(text: &str, seed: u64) -> Result<Encode, RunError> {
    Ok(match text {
        "current" => Encode::Current,
        "rate" => Encode::Rate {
            max_rate: None,
            seed,
        },
        "latency" => Encode::Latency {
            tau: 0.005,
            threshold: 0.01,
        },
        "delta" => Encode::Delta { threshold: 0.1 },
        other => {
            return Err(RunError::Setting(format!(
                "--encode must be current, rate, latency or delta, found '{other}'"
            )));
        }
    })
}

pub(crate) fn decode(text: &str) -> Result<Decode, RunError> {
    Ok(match text {
        "auto" => Decode::Auto,
        "count" => Decode::Count,
        "membrane" => Decode::Membrane,
        "first_spike" | "first-spike" => Decode::FirstSpike,
        other => {
            return Err(RunError::Setting(format!(
                "--decode must be auto, count, membrane or first_spike, found '{other}'"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{ConvertModel, DEFAULT_NORMALIZE, SimulateModel};
    use serde_json::json;

    /// The conversion settings are keys of each option object itself (as
    /// the language server receives them); unknown keys are still refused.
    #[test]
    fn conversion_keys_sit_beside_the_others_and_unknown_keys_are_refused() {
        let simulate: SimulateModel = serde_json::from_value(
            json!({"steps": 10, "neuron": "leaky", "beta": 1, "max_spikes": 2}),
        )
        .unwrap();
        let conversion = &simulate.conversion;
        assert_eq!(simulate.steps, 10);
        assert_eq!(
            (conversion.neuron.as_str(), conversion.beta),
            ("leaky", 1.0)
        );
        assert_eq!(conversion.max_spikes, Some(2));
        assert_eq!(conversion.normalize, DEFAULT_NORMALIZE);
        let convert: ConvertModel =
            serde_json::from_value(json!({"calib": "c.npz", "normalize": "max", "signed": true}))
                .unwrap();
        assert_eq!(convert.calib.as_deref(), Some("c.npz".as_ref()));
        assert_eq!(convert.conversion.normalize, "max");
        assert!(convert.conversion.signed);
        let unknown = serde_json::from_value::<SimulateModel>(json!({"steps": 5, "speed": 1}));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `speed`")
        );
        let unknown = serde_json::from_value::<ConvertModel>(json!({"steps": 5}));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `steps`")
        );
    }
}
