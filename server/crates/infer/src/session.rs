//! A prepared model: routed to tract or to the ML evaluator once, and cached
//! by content so the editor re-running a model pays preparation only when
//! the file changes.

#[cfg(feature = "tract")]
use crate::dl::TractPlan;
use crate::error::Error;
use crate::ml;
use crate::signature::Signature;
use crate::value::Value;
use neuride_onnx::proto::ModelProto;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// tract: DL models and spiking models exported as plain ops.
    Tract,
    /// neuride's evaluator: graphs with `ai.onnx.ml` operators.
    Evaluator,
}

/// Stand-in when built without tract: every DL model is refused.
#[cfg(not(feature = "tract"))]
struct TractPlan;
#[cfg(not(feature = "tract"))]
impl TractPlan {
    fn prepare(_: &[u8]) -> Result<TractPlan, Error> {
        Err(Error::Model(
            "this build of neuride-infer has no tract (feature 'tract' is off)".into(),
        ))
    }
    fn run(&self, _: Vec<Value>) -> Result<Vec<Value>, Error> {
        unreachable!("a TractPlan cannot be built without tract")
    }
}

enum Backend {
    Tract(TractPlan),
    Evaluator(ml::Plan),
}

/// A model ready to run many times.
pub struct Session {
    backend: Backend,
    pub signature: Signature,
    /// Content hash of the encoded model (the cache key).
    pub revision: u64,
}

/// Why a model goes where it goes; `Simulator` models cannot run here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "route", rename_all = "lowercase")]
pub enum Route {
    Tract,
    Evaluator,
    Simulator { reason: String },
}

/// Spiking neuron op names (any custom domain) that only a simulator runs.
const SPIKING_OPS: &[&str] = &[
    "LIF",
    "IF",
    "Leaky",
    "Synaptic",
    "CubaLIF",
    "Alpha",
    "Lapicque",
    "RLeaky",
    "RSynaptic",
    "Izhikevich",
    "SpikingNeuron",
    "LIFNeuron",
    "IFNeuron",
];

/// Decides the engine from the graph's operators: ML-domain ops go to the
/// evaluator, custom spiking ops to the simulator, everything else to tract.
pub fn route(model: &ModelProto) -> Route {
    let Some(graph) = model.graph.as_ref() else {
        return Route::Tract;
    };
    let mut has_ml = false;
    for node in &graph.node {
        let domain = node.domain();
        if domain == ml::ML_DOMAIN {
            has_ml = true;
        } else if !domain.is_empty()
            && domain != "ai.onnx"
            && SPIKING_OPS
                .iter()
                .any(|op| op.eq_ignore_ascii_case(node.op_type()))
        {
            return Route::Simulator {
                reason: format!(
                    "node '{}' is the spiking op {}::{}",
                    node.name(),
                    domain,
                    node.op_type()
                ),
            };
        }
    }
    if has_ml {
        Route::Evaluator
    } else {
        Route::Tract
    }
}

fn opset(model: &ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
        .map(|o| o.version())
        .unwrap_or(17)
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

static CACHE: Mutex<Vec<(u64, Arc<Session>)>> = Mutex::new(Vec::new());
/// Prepared models kept; the editor works on a handful at a time.
const CACHE_SIZE: usize = 8;

impl Session {
    /// Prepares (or fetches from the cache) the model encoded in `bytes`.
    pub fn load(bytes: &[u8]) -> Result<Arc<Session>, Error> {
        let revision = content_hash(bytes);
        if let Some(hit) = CACHE
            .lock()
            .ok()
            .and_then(|c| c.iter().find(|e| e.0 == revision).map(|e| e.1.clone()))
        {
            return Ok(hit);
        }
        let proto = neuride_onnx::load::decode(bytes::Bytes::copy_from_slice(bytes))
            .map_err(|e| Error::Model(e.to_string()))?;
        let session = Arc::new(Session::prepare(&proto, bytes, revision)?);
        if let Ok(mut cache) = CACHE.lock() {
            cache.retain(|e| e.0 != revision);
            if cache.len() >= CACHE_SIZE {
                cache.remove(0);
            }
            cache.push((revision, session.clone()));
        }
        Ok(session)
    }

    /// Prepares a decoded model; `bytes` is its encoding (tract parses its own copy).
    pub fn prepare(proto: &ModelProto, bytes: &[u8], revision: u64) -> Result<Session, Error> {
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| Error::Model("the model has no graph".into()))?;
        let signature = Signature::of_graph(graph);
        let backend = match route(proto) {
            Route::Simulator { reason } => {
                return Err(Error::NeedsSimulator(format!(
                    "this is a spiking model for the simulator ({reason})"
                )));
            }
            Route::Evaluator => Backend::Evaluator(ml::Plan::build(graph, opset(proto))?),
            Route::Tract => match TractPlan::prepare(bytes) {
                Ok(plan) => Backend::Tract(plan),
                // A plain-op graph tract refuses may still be within the evaluator's reach.
                Err(tract_error) => {
                    if graph
                        .node
                        .iter()
                        .all(|n| ml::supports(n.domain(), n.op_type()))
                    {
                        Backend::Evaluator(ml::Plan::build(graph, opset(proto))?)
                    } else {
                        return Err(tract_error);
                    }
                }
            },
        };
        Ok(Session {
            backend,
            signature,
            revision,
        })
    }

    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Tract(_) => Engine::Tract,
            Backend::Evaluator(_) => Engine::Evaluator,
        }
    }

    /// Checks `inputs` against the signature and runs the model once.
    pub fn run(&self, inputs: Vec<(String, Value)>) -> Result<Vec<(String, Value)>, Error> {
        let ordered = self.signature.check(inputs)?;
        let outputs = self.run_ordered(ordered)?;
        Ok(self
            .signature
            .outputs
            .iter()
            .map(|p| p.name.clone())
            .zip(outputs)
            .collect())
    }

    /// Runs on inputs already checked and in signature order.
    pub(crate) fn run_ordered(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        match &self.backend {
            Backend::Tract(plan) => plan.run(inputs),
            Backend::Evaluator(plan) => plan.run(inputs),
        }
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Session>();
    let _ = HashMap::<u8, u8>::new;
}
