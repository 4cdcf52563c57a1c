//! A prepared model: routed to tract or to the ML evaluator once, and cached
//! by content so the editor re-running a model pays preparation only when
//! the file changes.

#[cfg(feature = "tract")]
use crate::dl::TractPlan;
use crate::error::Error;
use crate::ml;
#[cfg(feature = "tract")]
use crate::native::NativePlan;
use crate::signature::Signature;
use crate::value::Value;
use neuride_onnx::proto::{GraphProto, ModelProto};
use serde::Serialize;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// neuride's own compiled kernels for float32 DL graphs within its op
    /// set (Conv, Gemm, pools, element-wise, shape ops): the small CNNs,
    /// MLPs and spiking exports of neuromorphic IoT work.
    Native,
    /// tract: every other DL model and spiking model exported as plain ops.
    Tract,
    /// neuride's evaluator: graphs with `ai.onnx.ml` operators, and every
    /// graph the native engine does not take and tract does not run
    /// faithfully.
    Evaluator,
    /// onnxruntime, loaded from the user's installation.
    Ort,
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
    #[cfg(feature = "tract")]
    Native(NativePlan),
    Tract(TractPlan),
    Evaluator(ml::Plan),
    #[cfg(feature = "ort")]
    Ort(crate::onnxruntime::OrtPlan),
}

/// onnxruntime as a backend, or why it cannot be one.
fn ort_backend(bytes: &[u8]) -> Result<Backend, Error> {
    #[cfg(feature = "ort")]
    {
        Ok(Backend::Ort(crate::onnxruntime::OrtPlan::prepare(bytes)?))
    }
    #[cfg(not(feature = "ort"))]
    {
        let _ = bytes;
        Err(Error::Model(
            "this build of neuride has no onnxruntime engine (feature 'ort' is off)".into(),
        ))
    }
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

/// Which engine a DL model may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EngineChoice {
    /// The native engine when the graph is within its reach; else tract
    /// for the graphs it runs faithfully (its trusted ops on its types),
    /// else the evaluator; else whichever of them can take the graph.
    #[default]
    Auto,
    /// Only tract (comparisons, or a model the native engine gets wrong).
    Tract,
    /// Only the native engine: an error says what is outside its reach.
    Native,
    /// Only neuride's evaluator, the general ONNX interpreter.
    Evaluator,
    /// Only onnxruntime (the user's installation, loaded at run time).
    Ort,
}

type CacheKey = (u64, EngineChoice);
static CACHE: Mutex<Vec<(CacheKey, Arc<Session>)>> = Mutex::new(Vec::new());
/// Prepared models kept; the editor works on a handful at a time.
const CACHE_SIZE: usize = 8;

/// Declared input shapes with symbolic dimensions taken as 1.
#[cfg(feature = "tract")]
fn declared_shapes(signature: &Signature) -> Option<Vec<Vec<usize>>> {
    use crate::signature::{Dim, ValueType};
    signature
        .inputs
        .iter()
        .map(|port| match &port.ty {
            ValueType::Tensor {
                shape: Some(dims), ..
            } => Some(
                dims.iter()
                    .map(|d| match d {
                        Dim::Fixed(n) => *n,
                        Dim::Symbolic(_) => 1,
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// The native plan when every node is within the engine's reach.
#[cfg(feature = "tract")]
fn native_backend(proto: &ModelProto, signature: &Signature) -> Result<Backend, Error> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| Error::Model("the model has no graph".into()))?;
    let shapes = declared_shapes(signature).ok_or_else(|| {
        Error::Model("the native engine needs every input's shape declared".into())
    })?;
    let plan = NativePlan::build(graph, opset(proto))?;
    plan.check(&shapes)?;
    Ok(Backend::Native(plan))
}

#[cfg(not(feature = "tract"))]
fn native_backend(_: &ModelProto, _: &Signature) -> Result<Backend, Error> {
    Err(Error::Model(
        "this build of neuride-infer has no DL engines (feature 'tract' is off)".into(),
    ))
}

impl Session {
    /// Prepares (or fetches from the cache) the model encoded in `bytes`.
    pub fn load(bytes: &[u8]) -> Result<Arc<Session>, Error> {
        Session::load_with(bytes, EngineChoice::Auto)
    }

    /// As [`Session::load`], choosing the DL engine.
    pub fn load_with(bytes: &[u8], choice: EngineChoice) -> Result<Arc<Session>, Error> {
        let key = (content_hash(bytes), choice);
        if let Some(hit) = CACHE
            .lock()
            .ok()
            .and_then(|c| c.iter().find(|e| e.0 == key).map(|e| e.1.clone()))
        {
            return Ok(hit);
        }
        let proto = neuride_onnx::load::decode(bytes::Bytes::copy_from_slice(bytes))
            .map_err(|e| Error::Model(e.to_string()))?;
        let session = Arc::new(Session::prepare_with(&proto, bytes, key.0, choice)?);
        if let Ok(mut cache) = CACHE.lock() {
            cache.retain(|e| e.0 != key);
            if cache.len() >= CACHE_SIZE {
                cache.remove(0);
            }
            cache.push((key, session.clone()));
        }
        Ok(session)
    }

    /// Prepares a decoded model; `bytes` is its encoding (tract parses its own copy).
    pub fn prepare(proto: &ModelProto, bytes: &[u8], revision: u64) -> Result<Session, Error> {
        Session::prepare_with(proto, bytes, revision, EngineChoice::Auto)
    }

    pub fn prepare_with(
        proto: &ModelProto,
        bytes: &[u8],
        revision: u64,
        choice: EngineChoice,
    ) -> Result<Session, Error> {
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
            Route::Evaluator | Route::Tract if choice == EngineChoice::Ort => ort_backend(bytes)?,
            Route::Evaluator => evaluator_backend(graph, proto)?,
            Route::Tract => match choice {
                EngineChoice::Native => native_backend(proto, &signature)?,
                EngineChoice::Tract => Backend::Tract(TractPlan::prepare(bytes)?),
                EngineChoice::Evaluator => evaluator_backend(graph, proto)?,
                EngineChoice::Auto => auto_backend(graph, proto, bytes, &signature)?,
                EngineChoice::Ort => ort_backend(bytes)?,
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
            #[cfg(feature = "tract")]
            Backend::Native(_) => Engine::Native,
            Backend::Tract(_) => Engine::Tract,
            Backend::Evaluator(_) => Engine::Evaluator,
            #[cfg(feature = "ort")]
            Backend::Ort(_) => Engine::Ort,
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
            #[cfg(feature = "tract")]
            Backend::Native(plan) => plan.run(inputs),
            Backend::Tract(plan) => plan.run(inputs),
            // A kernel's indexing a hostile model broke must not take the
            // caller down: the last line of defence, as around tract.
            Backend::Evaluator(plan) => {
                crate::error::catch_panic("evaluator run", || plan.run(inputs))
            }
            #[cfg(feature = "ort")]
            Backend::Ort(plan) => plan.run(inputs),
        }
    }
}

fn evaluator_backend(graph: &GraphProto, proto: &ModelProto) -> Result<Backend, Error> {
    let plan = crate::error::catch_panic("evaluator preparation", || {
        ml::Plan::build(graph, opset(proto))
    })?;
    Ok(Backend::Evaluator(plan))
}

/// `EngineChoice::Auto` for a plain-op graph: the native engine; tract for
/// the graphs it runs faithfully; the evaluator for every graph it has
/// kernels for; tract for what is left; the errors of each when none can.
fn auto_backend(
    graph: &GraphProto,
    proto: &ModelProto,
    bytes: &[u8],
    signature: &Signature,
) -> Result<Backend, Error> {
    let native_error = match native_backend(proto, signature) {
        Ok(native) => return Ok(native),
        Err(e) => e,
    };
    let evaluator_takes = ml::supports_graph(graph);
    if !evaluator_takes || crate::trust::tract_is_faithful(graph) {
        match TractPlan::prepare(bytes) {
            Ok(plan) => return Ok(Backend::Tract(plan)),
            Err(tract_error) if !evaluator_takes => {
                // Last: onnxruntime, when the user has it.
                return ort_backend(bytes).map_err(|ort_error| {
                    let missing: Vec<String> = unsupported_ops(graph);
                    Error::Model(format!(
                        "no engine runs this model: the native engine: {native_error}; tract: {tract_error}; the evaluator lacks {}; onnxruntime: {ort_error}",
                        missing.join(", ")
                    ))
                });
            }
            Err(_) => {}
        }
    }
    evaluator_backend(graph, proto).or_else(|e| ort_backend(bytes).map_err(|_| e))
}

/// The ops of `graph` (and its bodies) the evaluator has no kernel for.
fn unsupported_ops(graph: &GraphProto) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in &graph.node {
        if !ml::supports(n.domain(), n.op_type()) {
            let name = if n.domain().is_empty() {
                n.op_type().to_owned()
            } else {
                format!("{}::{}", n.domain(), n.op_type())
            };
            if !out.contains(&name) {
                out.push(name);
            }
        }
        for g in neuride_onnx::attr::graphs(n) {
            for name in unsupported_ops(g) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// A session is shared across the LSP's worker threads.
const _: () = {
    const fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Session>();
};
