//! NIR files (`.nir`) in runs: a file read and lowered to the simulator's
//! network (`neuride simulate X.nir`, `network n = nir("x.nir")`), and a
//! network raised to NIR and written (`neuride convert M.onnx -o X.nir`,
//! `neuride export nir F.neuro --network N -o X.nir`). The format and the
//! semantics are `neuride_nir`'s; this module reads and writes the files.

use super::RunError;
use neuride_convert::Tensor;
pub use neuride_nir::lower::Input;
use neuride_nir::{LowerOptions, RaiseOptions};
use neuride_snn::Network;
use std::path::Path;

/// The step (milliseconds) NIR files are simulated and written with unless
/// a run says otherwise: snnTorch's convention (1e-4 s); Norse uses 1 ms.
pub const DEFAULT_DT_MS: f32 = (neuride_nir::DEFAULT_DT * 1000.0) as f32;

/// Whether `path` names a NIR file (by its extension).
pub fn is_nir(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("nir"))
}

/// A NIR file's network for a simulation stepping `dt` seconds.
pub struct NirNetwork {
    pub network: Network,
    /// Per-sample shape of the graph's input (of several Inputs: their
    /// values concatenated, `[total]`).
    pub input_shape: Vec<usize>,
    /// The graph's Inputs, in the order their samples are concatenated.
    pub inputs: Vec<Input>,
    /// The neuron kinds used, in order of first use (`LIF`, `IF`, ...).
    pub neurons: Vec<String>,
    /// What the lowering decided (which output is read, metadata not used).
    pub notes: Vec<String>,
}

/// Reads the NIR file at `path` and lowers its graph for steps of `dt`
/// seconds. Every problem of the file and every node the simulator cannot
/// run is named in the error.
pub fn read_network(path: &Path, dt: f32) -> Result<NirNetwork, RunError> {
    let contents = crate::source::read_contents(path)
        .map_err(|e| RunError::Data(format!("cannot read {}: {e}", path.display())))?;
    let read = neuride_nir::read(&contents.bytes);
    if contents
        .map()
        .is_some_and(neuride_mapped::Map::was_truncated)
    {
        return Err(RunError::Data(format!(
            "{} changed on disk while it was read (truncated in place): run again",
            path.display()
        )));
    }
    let errors: Vec<String> = read
        .problems
        .iter()
        .filter(|p| p.severity == neuride_nir::Severity::Error)
        .map(|p| describe(&p.path, &p.message))
        .collect();
    let Some(document) = read.document.filter(|_| errors.is_empty()) else {
        return Err(RunError::Data(format!(
            "{} is not a NIR file neuride can read: {}",
            path.display(),
            errors.join("; ")
        )));
    };
    let opts = LowerOptions {
        dt,
        ..LowerOptions::default()
    };
    let lowered = neuride_nir::lower(&document, &opts)
        .map_err(|e| RunError::Unsupported(format!("{}: cannot simulate: {e}", path.display())))?;
    let mut neurons: Vec<String> = Vec::new();
    for node in &lowered.network.nodes {
        if let neuride_snn::Layer::Spiking { neuron, .. } = &node.layer {
            let name = neuron.op_name().to_owned();
            if !neurons.contains(&name) {
                neurons.push(name);
            }
        }
    }
    let input_shape = match lowered.inputs.as_slice() {
        [only] => only.shape.clone(),
        _ => lowered.network.input_shape().to_vec(),
    };
    Ok(NirNetwork {
        network: lowered.network,
        input_shape,
        inputs: lowered.inputs,
        neurons,
        notes: lowered.notes,
    })
}

/// Where the samples of a graph's Inputs are in an archive: `keys` is one
/// key (a graph of one Input; for several, the default key means "each
/// Input's name") or `NAME=KEY` pairs separated by commas, an Input not
/// named reading the key of its own name. `option` is how the user gives
/// keys (`--inputs`), for the errors.
pub(crate) fn input_keys(
    inputs: &[Input],
    keys: &str,
    option: &str,
) -> Result<Vec<String>, RunError> {
    let list = || {
        inputs
            .iter()
            .map(|input| format!("'{}' {:?}", input.name, input.shape))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !keys.contains('=') {
        return match inputs {
            [_] => Ok(vec![keys.to_owned()]),
            _ if keys == super::model::DEFAULT_INPUTS => {
                Ok(inputs.iter().map(|input| input.name.clone()).collect())
            }
            _ => Err(RunError::Setting(format!(
                "the graph has {} Inputs ({}): `{keys}` names one array; each Input reads the array of its own name, or name them: {option} NAME=KEY,NAME=KEY",
                inputs.len(),
                list()
            ))),
        };
    }
    let mut chosen: Vec<Option<String>> = vec![None; inputs.len()];
    for pair in keys.split(',') {
        let Some((name, key)) = pair.split_once('=') else {
            return Err(RunError::Setting(format!(
                "{option} {keys}: `{pair}` is not NAME=KEY"
            )));
        };
        let (name, key) = (name.trim(), key.trim());
        let Some(at) = inputs.iter().position(|input| input.name == name) else {
            return Err(RunError::Setting(format!(
                "{option} {keys}: the graph has no Input '{name}' (its Inputs: {})",
                list()
            )));
        };
        chosen[at] = Some(key.to_owned());
    }
    Ok(chosen
        .into_iter()
        .zip(inputs)
        .map(|(key, input)| key.unwrap_or_else(|| input.name.clone()))
        .collect())
}

/// The samples of a graph of several Inputs: each Input's array (under
/// `keys`, one per Input) from the archive at `path`, every sample's
/// values concatenated in the Inputs' order, `[N, total]`. An array that is
/// missing or of another per-sample size, or a count of samples that
/// differs from the others', is an error naming the Input, its key and the
/// shape it expects; `hint` says how to pick other keys.
pub(crate) fn read_inputs(
    path: &Path,
    inputs: &[Input],
    keys: &[String],
    hint: &str,
) -> Result<Tensor, RunError> {
    let mut archives = super::data::Archives::default();
    let mut arrays: Vec<(&String, Tensor)> = Vec::with_capacity(inputs.len());
    for (input, key) in inputs.iter().zip(keys) {
        let expects = |found: String| {
            RunError::Data(format!(
                "{}: the NIR Input '{}' expects samples [N{}] under '{key}'; {found} ({hint})",
                path.display(),
                input.name,
                input
                    .shape
                    .iter()
                    .map(|d| format!(", {d}"))
                    .collect::<String>(),
            ))
        };
        let array = archives
            .array(path, key)
            .map_err(|e| expects(e.to_string()))?;
        let size: usize = input.shape.iter().product();
        let count = array.shape.first().copied().unwrap_or(0);
        if array.shape.is_empty() || array.shape[1..].iter().product::<usize>() != size {
            return Err(expects(format!("found {:?}", array.shape)));
        }
        if let Some((first, theirs)) = arrays.first().map(|(k, a)| (k, a.shape[0]))
            && theirs != count
        {
            return Err(expects(format!(
                "found {count} samples where '{first}' has {theirs}"
            )));
        }
        arrays.push((key, array));
    }
    if arrays.len() == 1 {
        return Ok(arrays.pop().expect("one array").1);
    }
    let count = arrays.first().map_or(0, |(_, a)| a.shape[0]);
    let total: usize = inputs
        .iter()
        .map(|i| i.shape.iter().product::<usize>())
        .sum();
    let mut data = Vec::with_capacity(count * total);
    for sample in 0..count {
        for (_, array) in &arrays {
            let size = array.data.len() / count.max(1);
            data.extend_from_slice(&array.data[sample * size..][..size]);
        }
    }
    Ok(Tensor {
        shape: vec![count, total],
        data,
    })
}

fn describe(path: &[String], message: &str) -> String {
    if path.is_empty() {
        message.to_owned()
    } else {
        format!("node {}: {message}", path.join("."))
    }
}

/// Writes `network` to `path` as NIR (atomically), its step-based neurons
/// expressed for steps of `dt` seconds. Returns what NIR does not say about
/// the network and what another tool will do instead.
pub fn write_network(network: &Network, dt: f64, path: &Path) -> Result<Vec<String>, RunError> {
    if !(dt.is_finite() && dt > 0.0) {
        return Err(RunError::Setting(format!(
            "the NIR step must be a positive time, found {} ms",
            dt * 1000.0
        )));
    }
    let raised = neuride_nir::raise(network, &RaiseOptions { dt }).map_err(|e| {
        RunError::Unsupported(format!("cannot write {} as NIR: {e}", path.display()))
    })?;
    let bytes = neuride_nir::write(&raised.document)
        .map_err(|e| RunError::Failed(format!("{}: {e}", path.display())))?;
    crate::weights::write_atomically(path, &bytes)
        .map_err(|e| RunError::Data(format!("cannot write {}: {e}", path.display())))?;
    Ok(raised.notes)
}

/// What `neuride export nir` wrote.
pub struct Exported {
    /// `written` (layer by layer), `converted` (`convert(MODEL)`) or `NIR`
    /// (`nir("file.nir")`, read and written again).
    pub network_kind: &'static str,
    /// What NIR does not say about the network, per node.
    pub notes: Vec<String>,
}

/// Writes network `name` of the `.neuro` file at `neuro_path` to `output`
/// as NIR: a written network as the file says it (weights from its
/// archives; its input needs fixed dimensions), a `convert(MODEL)` network
/// converted with its settings (a `normalize` naming a dataset calibrates
/// on it). Step-based neurons are expressed for steps of `dt_ms`.
pub fn export_neuro(
    neuro_path: &Path,
    name: &str,
    dt_ms: f32,
    output: &Path,
) -> Result<Exported, RunError> {
    use neuride_dsl::syntax::ast::ItemKind;
    let neuro = super::read_neuro(neuro_path)?;
    super::in_neuro_file(&neuro, || {
        super::ensure_clean(&neuro)?;
        let item = super::item_named(&neuro, name, ItemKind::Network)?;
        let network_item = &neuro.parse.ast.items[item];
        let nir_call = network_item
            .value
            .as_ref()
            .and_then(|value| value.as_call())
            .is_some_and(|call| call.callee.text == "nir");
        let (network, network_kind) = match &network_item.value {
            Some(_) if nir_call => {
                let path = super::item_path(&neuro, item)?;
                (read_network(&path, dt_ms / 1000.0)?.network, "NIR")
            }
            None => {
                let mut archives = super::data::Archives::default();
                let lowered = super::lower::lower(&neuro, item, &[], &mut archives)?;
                (lowered.network, "written")
            }
            Some(value) => {
                let model_name = value
                    .as_call()
                    .filter(|call| call.callee.text == "convert")
                    .and_then(|call| call.args.first())
                    .and_then(|arg| arg.value.as_name())
                    .ok_or_else(|| {
                        RunError::Unsupported(format!(
                            "`{name}`: only written networks and `convert(MODEL)` networks are exported"
                        ))
                    })?;
                let model_item = super::item_named(&neuro, &model_name.text, ItemKind::Model)?;
                let model_path = super::item_path(&neuro, model_item)?;
                let never = std::sync::atomic::AtomicBool::new(false);
                let lookup = |key: &str| super::setting(network_item, key);
                let (convert, calib, weights) =
                    super::convert_settings(&neuro, &network_item.label(), &lookup, &never)?;
                if calib.is_none() && convert.normalize != neuride_snn::Normalize::None {
                    return Err(RunError::Setting(format!(
                        "`{name}`: exporting needs the calibration data in the file (`normalize = percentile(99.9, data: D)`) or `normalize = none`"
                    )));
                }
                let model = super::model::load(&model_path)?;
                let converted = super::model::convert_loaded(
                    &model,
                    &model_path,
                    weights.as_ref(),
                    calib.as_ref(),
                    &convert,
                    &model_path.display().to_string(),
                )?;
                (converted.network, "converted")
            }
        };
        let notes = write_network(&network, dt_ms as f64 / 1000.0, output)?;
        Ok(Exported {
            network_kind,
            notes,
        })
    })
}
