//! A model prepared once and asked for many predictions: what `neuride
//! serve` keeps per model revision. Classic-ML and DL models run on a
//! `neuride_infer` session (the native engine, tract or the ML evaluator);
//! spiking models with neuron ops run on the simulator, the network read
//! from the model once and simulated for `steps` per request.

use super::{decode, encode};
use crate::run::RunError;
use neuride_convert::{ConvertOptions, Normalize, SimOptions};
use neuride_infer::{DType, Dim, Port, Route, Session, Signature, Tensor, Value, ValueType};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The name of the simulator's output: the decoded class of each sample.
pub const SIMULATOR_OUTPUT: &str = "class";

/// Options of one prediction (only the simulator reads them).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Predict {
    /// Simulation time steps per sample.
    pub steps: usize,
    /// `current`, `rate`, `latency` or `delta`.
    pub encode: String,
    /// `auto`, `count`, `membrane` or `first_spike`.
    pub decode: String,
    /// Seed of the rate encoder.
    pub seed: u64,
}

impl Default for Predict {
    fn default() -> Self {
        let simulate = super::SimulateModel::default();
        Predict {
            steps: simulate.steps,
            encode: simulate.encode,
            decode: simulate.decode,
            seed: simulate.seed,
        }
    }
}

/// Most time steps one request may ask for: a bound on the work a single
/// request can make the server do.
pub const MAX_STEPS: usize = 10_000;

enum Backend {
    Engine(Arc<Session>),
    /// A spiking network and the step (seconds) it runs with: read from
    /// an ONNX model's neuron ops, or a NIR graph lowered for NIR's
    /// default step.
    Simulator(Box<neuride_snn::Network>, f32),
}

/// The simulator's one output: the decoded class of each sample.
fn simulator_output() -> Port {
    Port {
        name: SIMULATOR_OUTPUT.to_owned(),
        ty: ValueType::Tensor {
            dtype: Some(DType::I64),
            shape: Some(vec![Dim::Symbolic(String::new())]),
        },
    }
}

/// A model ready to predict.
pub struct Predictor {
    backend: Backend,
    /// Inputs and outputs as a client sees them (the simulator's output is
    /// [`SIMULATOR_OUTPUT`], int64 `[N]`).
    pub signature: Signature,
}

/// What a prepared model runs on, for a caller that drives it itself (an
/// app's stage simulates a spiking network reading by reading).
pub enum Plan {
    /// An inference session (native engine, tract or the ML evaluator).
    Engine(Arc<Session>),
    /// A spiking network read from the model's neuron ops.
    Spiking(neuride_snn::Network),
}

impl Predictor {
    /// The prepared model itself.
    pub fn into_plan(self) -> Plan {
        match self.backend {
            Backend::Engine(session) => Plan::Engine(session),
            Backend::Simulator(network, _) => Plan::Spiking(*network),
        }
    }

    /// Reads and prepares the model at `path` (an ONNX model, or a NIR
    /// graph: simulated, its equations stepped at NIR's default `dt`).
    pub fn load(path: &Path) -> Result<Predictor, RunError> {
        if crate::FileKind::from_path(path) == Some(crate::FileKind::Nir) {
            let dt = neuride_nir::DEFAULT_DT as f32;
            let nir = crate::run::nir::read_network(path, dt)?;
            let input = nir.network.nodes.first().map(|node| node.name.clone());
            let shape = std::iter::once(Dim::Symbolic(String::new()))
                .chain(nir.input_shape.iter().map(|&d| Dim::Fixed(d)))
                .collect();
            let signature = Signature {
                inputs: vec![Port {
                    name: input.unwrap_or_else(|| "input".to_owned()),
                    ty: ValueType::Tensor {
                        dtype: Some(DType::F32),
                        shape: Some(shape),
                    },
                }],
                outputs: vec![simulator_output()],
            };
            return Ok(Predictor {
                backend: Backend::Simulator(Box::new(nir.network), dt),
                signature,
            });
        }
        let bytes = crate::source::read_file(path)
            .map_err(|e| RunError::Data(format!("cannot read {}: {e}", path.display())))?;
        let proto = neuride_onnx::load::decode(bytes::Bytes::copy_from_slice(&bytes))
            .map_err(|e| RunError::Data(format!("cannot load {}: {e}", path.display())))?;
        let preparing = |e: &dyn std::fmt::Display| {
            RunError::Failed(format!("preparing {}: {e}", path.display()))
        };
        if !matches!(neuride_infer::route(&proto), Route::Simulator { .. }) {
            let session = Session::load(&bytes).map_err(|e| preparing(&e))?;
            let signature = session.signature.clone();
            return Ok(Predictor {
                backend: Backend::Engine(session),
                signature,
            });
        }
        let options = ConvertOptions {
            normalize: Normalize::None,
            ..ConvertOptions::default()
        };
        let converted =
            neuride_convert::convert(neuride_convert::Source::from(&proto), None, None, &options)
                .map_err(|e| preparing(&e))?;
        let graph = proto.graph.as_ref().ok_or_else(|| preparing(&"no graph"))?;
        let mut signature = Signature::of_graph(graph);
        signature.outputs = vec![simulator_output()];
        Ok(Predictor {
            backend: Backend::Simulator(Box::new(converted.network), SimOptions::default().dt),
            signature,
        })
    }

    /// `native`, `tract`, `evaluator` or `simulator`.
    pub fn engine(&self) -> &'static str {
        match &self.backend {
            Backend::Engine(session) => match session.engine() {
                neuride_infer::Engine::Native => "native",
                neuride_infer::Engine::Tract => "tract",
                neuride_infer::Engine::Evaluator => "evaluator",
                neuride_infer::Engine::Ort => "ort",
            },
            Backend::Simulator(..) => "simulator",
        }
    }

    /// Runs the model once on `inputs` (by input name). Inputs that do not
    /// fit the model are [`RunError::Data`] naming the input and what was
    /// expected; an engine failing is [`RunError::Failed`].
    pub fn predict(
        &self,
        inputs: Vec<(String, Value)>,
        options: &Predict,
    ) -> Result<Vec<(String, Value)>, RunError> {
        match &self.backend {
            Backend::Engine(session) => session.run(inputs).map_err(|e| match e {
                neuride_infer::Error::Inputs(_) | neuride_infer::Error::Format(_) => {
                    RunError::Data(e.to_string())
                }
                other => RunError::Failed(other.to_string()),
            }),
            Backend::Simulator(network, dt) => self.simulate(network, *dt, inputs, options),
        }
    }

    fn simulate(
        &self,
        network: &neuride_snn::Network,
        dt: f32,
        inputs: Vec<(String, Value)>,
        options: &Predict,
    ) -> Result<Vec<(String, Value)>, RunError> {
        if !(1..=MAX_STEPS).contains(&options.steps) {
            return Err(RunError::Setting(format!(
                "steps must be between 1 and {MAX_STEPS}, found {}",
                options.steps
            )));
        }
        let port =
            self.signature.inputs.first().ok_or_else(|| {
                RunError::Unsupported("the spiking model has no input".to_owned())
            })?;
        let tensor = match inputs.as_slice() {
            [(name, Value::Tensor(tensor))] if *name == port.name => tensor,
            _ => {
                let given: Vec<&str> = inputs.iter().map(|(name, _)| name.as_str()).collect();
                return Err(RunError::Data(format!(
                    "the spiking model takes one tensor input '{}' ({}), found {given:?}",
                    port.name,
                    neuride_infer::signature::describe(&port.ty)
                )));
            }
        };
        let values = tensor.data.to_f32().ok_or_else(|| {
            RunError::Data(format!(
                "input '{}': numbers are expected, found strings",
                port.name
            ))
        })?;
        let data = neuride_snn::Tensor::new(tensor.shape.clone(), values)
            .map_err(|e| RunError::Data(format!("input '{}': {e}", port.name)))?;
        let sim = SimOptions {
            steps: options.steps,
            dt,
            encode: encode(&options.encode, options.seed)?,
            decode: decode(&options.decode)?,
            ..SimOptions::default()
        };
        let report = neuride_snn::simulate(
            network,
            &data,
            None,
            &sim,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .map_err(|e| match e {
            neuride_snn::Error::Data { .. } => {
                RunError::Data(format!("input '{}': {e}", port.name))
            }
            other => RunError::Failed(other.to_string()),
        })?;
        let classes: Vec<i64> = report.predictions.iter().map(|&c| c as i64).collect();
        Ok(vec![(
            SIMULATOR_OUTPUT.to_owned(),
            Value::Tensor(Tensor::vector(classes)),
        )])
    }
}
