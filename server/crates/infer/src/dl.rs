//! Deep-learning (and plain-op spiking) models through tract: parsed, typed
//! and optimised once; the runnable plan keeps symbolic dimensions (the batch)
//! and binds them from each run's inputs.

use crate::error::{Error, catch_panic};
use crate::value::{Data, Tensor, Value};
use tract_onnx::prelude::{
    Arc, DatumType, Framework, InferenceModelExt, IntoRunnable, IntoTValue, Tensor as TractTensor,
    TypedRunnableModel, tract_ndarray, tvec,
};

pub struct TractPlan {
    plan: Arc<TypedRunnableModel>,
}

/// Turns a tract error chain into a typed error naming the node and op when
/// tract's message carries them (`... node #3 "conv1" Conv ...`).
fn tract_error(stage: &str, error: &tract_onnx::prelude::TractError) -> Error {
    let text = format!("{error:#}");
    if let Some(at) = text.find("node #") {
        let rest = &text[at..];
        let mut quoted = rest.split('"');
        if let (Some(_), Some(name), Some(after)) = (quoted.next(), quoted.next(), quoted.next()) {
            let op = after
                .split_whitespace()
                .next()
                .unwrap_or("?")
                .trim_end_matches([',', ':']);
            return Error::node(name, op, format!("{stage}: {text}"));
        }
    }
    Error::Model(format!("{stage} (tract): {text}"))
}

impl TractPlan {
    /// Parses, types and optimises the model from its encoded bytes.
    pub fn prepare(bytes: &[u8]) -> Result<TractPlan, Error> {
        catch_panic("tract model preparation", || {
            let model = tract_onnx::onnx()
                .model_for_read(&mut &bytes[..])
                .map_err(|e| tract_error("loading", &e))?;
            let typed = model.into_typed().map_err(|e| tract_error("typing", &e))?;
            // Optimisation can fail on exotic symbolic shapes; a decluttered plan still runs.
            let optimised = match typed.clone().into_optimized() {
                Ok(m) => m,
                Err(_) => typed
                    .into_decluttered()
                    .map_err(|e| tract_error("optimising", &e))?,
            };
            let plan = optimised
                .into_runnable()
                .map_err(|e| tract_error("planning", &e))?;
            Ok(TractPlan { plan })
        })
    }

    pub fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        catch_panic("tract run", || {
            let mut tv = tvec!();
            for value in inputs {
                let Value::Tensor(t) = value else {
                    return Err(Error::Model(format!(
                        "tract takes tensors only, found {}",
                        value.describe()
                    )));
                };
                tv.push(to_tract(&t)?.into_tvalue());
            }
            let outputs = self.plan.run(tv).map_err(|e| tract_error("running", &e))?;
            outputs
                .iter()
                .map(|t| from_tract(t).map(Value::Tensor))
                .collect()
        })
    }
}

fn to_tract(t: &Tensor) -> Result<TractTensor, Error> {
    let shape = &t.shape;
    let result = match &t.data {
        Data::F32(v) => TractTensor::from_shape(shape, v),
        Data::F64(v) => TractTensor::from_shape(shape, v),
        Data::I64(v) => TractTensor::from_shape(shape, v),
        Data::I32(v) => TractTensor::from_shape(shape, v),
        Data::U8(v) => TractTensor::from_shape(shape, v),
        Data::I8(v) => TractTensor::from_shape(shape, v),
        Data::Bool(v) => TractTensor::from_shape(shape, v),
        Data::Str(v) => tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), v.clone())
            .map(TractTensor::from)
            .map_err(|e| tract_onnx::prelude::TractError::msg(e.to_string())),
    };
    result.map_err(|e| {
        Error::Model(format!(
            "cannot pass a {:?} {} tensor to tract: {e}",
            t.shape,
            t.dtype()
        ))
    })
}

fn from_tract(t: &TractTensor) -> Result<Tensor, Error> {
    let shape = t.shape().to_vec();
    let bad =
        |e: tract_onnx::prelude::TractError| Error::Model(format!("reading a tract output: {e}"));
    let cast;
    let t = match t.datum_type() {
        DatumType::F32
        | DatumType::F64
        | DatumType::I64
        | DatumType::I32
        | DatumType::U8
        | DatumType::I8
        | DatumType::Bool
        | DatumType::String => t,
        other => {
            cast = t
                .cast_to::<f32>()
                .map_err(|e| Error::Model(format!("output of type {other:?}: {e}")))?;
            &*cast
        }
    };
    let view = t.try_as_plain_ram().map_err(bad)?;
    let data = match t.datum_type() {
        DatumType::F32 => Data::F32(view.as_slice::<f32>().map_err(bad)?.to_vec()),
        DatumType::F64 => Data::F64(view.as_slice::<f64>().map_err(bad)?.to_vec()),
        DatumType::I64 => Data::I64(view.as_slice::<i64>().map_err(bad)?.to_vec()),
        DatumType::I32 => Data::I32(view.as_slice::<i32>().map_err(bad)?.to_vec()),
        DatumType::U8 => Data::U8(view.as_slice::<u8>().map_err(bad)?.to_vec()),
        DatumType::I8 => Data::I8(view.as_slice::<i8>().map_err(bad)?.to_vec()),
        DatumType::Bool => Data::Bool(view.as_slice::<bool>().map_err(bad)?.to_vec()),
        DatumType::String => Data::Str(view.as_slice::<String>().map_err(bad)?.to_vec()),
        other => {
            return Err(Error::Model(format!(
                "output of type {other:?} is not supported"
            )));
        }
    };
    Ok(Tensor { shape, data })
}
