//! onnxruntime as an engine, through the `ort` crate with dynamic loading:
//! nothing is downloaded or linked at build time, the `libonnxruntime` the
//! user already has is loaded the first time a model needs it. Where it is
//! comes from the caller (the IDE layer looks at `ORT_DYLIB_PATH` and the
//! installed `onnxruntime` Python package, see [`set_locator`]): this crate
//! reads no environment and searches no folders itself.

use crate::error::{Error, catch_panic};
use crate::value::{Data, Tensor, Value};
use ort::session::Session as OrtSession;
use ort::value::{DynValue, Tensor as OrtTensor, TensorElementType, ValueType};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Finds the onnxruntime library (or says why there is none).
pub type Locator = fn() -> Result<PathBuf, String>;

static LOCATOR: OnceLock<Locator> = OnceLock::new();
static RUNTIME: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Tells the engine how to find `libonnxruntime` (called once, at start-up,
/// by the layer that may look at the file system).
pub fn set_locator(locator: Locator) {
    let _ = LOCATOR.set(locator);
}

/// The loaded runtime, loading it on first use.
fn runtime() -> Result<&'static ort::environment::Environment, Error> {
    let loaded = RUNTIME.get_or_init(|| {
        let locator = LOCATOR.get().ok_or_else(|| {
            "onnxruntime is not available: this program does not know where to look for it"
                .to_owned()
        })?;
        let path = locator()?;
        let builder = ort::init_from(&path)
            .map_err(|e| format!("cannot load onnxruntime from {}: {e}", path.display()))?;
        builder
            .with_name("neuride")
            .build()
            .map_err(|e| format!("onnxruntime from {}: {e}", path.display()))
    });
    loaded.as_ref().map_err(|e| Error::Model(e.clone()))
}

/// Whether onnxruntime can be loaded (loading it if it was not yet).
pub fn available() -> bool {
    runtime().is_ok()
}

pub(crate) struct OrtPlan {
    session: Mutex<OrtSession>,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

fn ort_error(stage: &str, e: impl std::fmt::Display) -> Error {
    Error::Model(format!("{stage} (onnxruntime): {e}"))
}

impl OrtPlan {
    pub fn prepare(bytes: &[u8]) -> Result<OrtPlan, Error> {
        let env = runtime()?;
        catch_panic("onnxruntime session", || {
            let builder =
                OrtSession::builder(env).map_err(|e| ort_error("creating a session", e))?;
            let mut builder = builder
                .with_intra_threads(1)
                .map_err(|e| ort_error("setting threads", e))?;
            let session = builder
                .commit_from_memory(bytes)
                .map_err(|e| ort_error("loading the model", e))?;
            let inputs = session
                .inputs()
                .iter()
                .map(|o| o.name().to_owned())
                .collect();
            let outputs = session
                .outputs()
                .iter()
                .map(|o| o.name().to_owned())
                .collect();
            Ok(OrtPlan {
                session: Mutex::new(session),
                inputs,
                outputs,
            })
        })
    }

    pub fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        catch_panic("onnxruntime run", || {
            let mut feeds: Vec<(String, DynValue)> = Vec::with_capacity(inputs.len());
            for (name, value) in self.inputs.iter().zip(inputs) {
                feeds.push((name.clone(), to_ort(&value)?));
            }
            let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
            let mut outputs = session.run(feeds).map_err(|e| ort_error("running", e))?;
            self.outputs
                .iter()
                .map(|name| {
                    let v = outputs
                        .remove(name)
                        .ok_or_else(|| Error::Model(format!("onnxruntime returned no '{name}'")))?;
                    from_ort(&v)
                })
                .collect()
        })
    }
}

fn tensor<T: ort::value::PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static>(
    shape: &[usize],
    v: &[T],
) -> Result<DynValue, Error> {
    OrtTensor::from_array((shape.to_vec(), v.to_vec()))
        .map(|t| t.into_dyn())
        .map_err(|e| ort_error("making an input", e))
}

fn to_ort(value: &Value) -> Result<DynValue, Error> {
    let Value::Tensor(t) = value else {
        return Err(Error::Model(format!(
            "the onnxruntime engine takes tensors, found {}",
            value.describe()
        )));
    };
    let s = &t.shape;
    match &t.data {
        Data::F32(v) => tensor(s, v),
        Data::F64(v) => tensor(s, v),
        Data::F16(v) => tensor(s, v),
        Data::Bf16(v) => tensor(s, v),
        Data::I64(v) => tensor(s, v),
        Data::I32(v) => tensor(s, v),
        Data::I16(v) => tensor(s, v),
        Data::I8(v) => tensor(s, v),
        Data::U64(v) => tensor(s, v),
        Data::U32(v) => tensor(s, v),
        Data::U16(v) => tensor(s, v),
        Data::U8(v) => tensor(s, v),
        Data::Bool(v) => tensor(s, v),
        Data::Str(v) => OrtTensor::from_string_array((s.clone(), v.as_slice()))
            .map(|t| t.into_dyn())
            .map_err(|e| ort_error("making an input", e)),
        Data::Packed(d, _) => Err(Error::Model(format!(
            "the onnxruntime engine cannot take {d} inputs here"
        ))),
    }
}

fn from_ort(v: &DynValue) -> Result<Value, Error> {
    let ValueType::Tensor { ty, .. } = v.dtype() else {
        return Err(Error::Model(format!(
            "onnxruntime returned a {:?}; only tensors are read back",
            v.dtype()
        )));
    };
    let bad = |e: ort::Error| ort_error("reading an output", e);
    macro_rules! read {
        ($t:ty) => {{
            let (shape, data) = v.try_extract_tensor::<$t>().map_err(bad)?;
            (
                shape.iter().map(|&d| d.max(0) as usize).collect::<Vec<_>>(),
                Data::from(data.to_vec()),
            )
        }};
    }
    let (shape, data) = match ty {
        TensorElementType::Float32 => read!(f32),
        TensorElementType::Float64 => read!(f64),
        TensorElementType::Float16 => read!(half::f16),
        TensorElementType::Bfloat16 => read!(half::bf16),
        TensorElementType::Int64 => read!(i64),
        TensorElementType::Int32 => read!(i32),
        TensorElementType::Int16 => read!(i16),
        TensorElementType::Int8 => read!(i8),
        TensorElementType::Uint64 => read!(u64),
        TensorElementType::Uint32 => read!(u32),
        TensorElementType::Uint16 => read!(u16),
        TensorElementType::Uint8 => read!(u8),
        TensorElementType::Bool => read!(bool),
        TensorElementType::String => {
            let (shape, data) = v.try_extract_strings().map_err(bad)?;
            (
                shape.iter().map(|&d| d.max(0) as usize).collect::<Vec<_>>(),
                Data::Str(data),
            )
        }
        other => {
            return Err(Error::Model(format!(
                "onnxruntime returned {other:?} elements, which are not read back here"
            )));
        }
    };
    Ok(Value::Tensor(Tensor { shape, data }))
}
