//! Deep-learning (and plain-op spiking) models through tract: parsed, typed
//! and optimised once. A model with symbolic input dimensions (the batch)
//! also gets a plan optimised for each concrete input shape it runs on
//! (a few are kept): tract picks its kernels from known shapes, which made
//! the digits CNN several times faster per call than the symbolic plan
//! (README, inference benchmark). The symbolic plan stays as the fallback.

use crate::error::{Error, catch_panic};
use crate::value::{Data, Tensor, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use tract_onnx::prelude::{
    Arc, DatumType, Framework, InferenceModel, InferenceModelExt, IntoRunnable, IntoTValue, TDim,
    Tensor as TractTensor, TypedModel, TypedRunnableModel, tract_ndarray, tvec,
};

/// Concrete-shape plans kept per model (batch sizes seen: usually the batch
/// and the last, shorter one).
const SPECIALISED_PLANS: usize = 4;

type ShapeKey = Vec<Vec<usize>>;

pub struct TractPlan {
    /// The plan for any input shape; `None` when tract can only type the
    /// model for concrete shapes (a symbolic batch concatenated with a
    /// constant of batch 1: `N == 1` is only known at run time).
    plan: Option<Arc<TypedRunnableModel>>,
    /// The parsed model when only concrete shapes type.
    untyped: Option<InferenceModel>,
    /// The decluttered model, kept when an input has a symbolic dimension.
    symbolic: Option<TypedModel>,
    specialised: Mutex<Vec<(ShapeKey, Option<Arc<TypedRunnableModel>>)>>,
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
            let typed = match model.clone().into_typed() {
                Ok(typed) => typed,
                // Symbols that must equal constants (`N == 1`) type only
                // once the shapes are known: if the model types with every
                // symbol at 1, it is planned per concrete shape at run time.
                Err(e) => match probe_shapes(&model) {
                    Some(shapes) if type_for(&model, &shapes).is_some() => {
                        return Ok(TractPlan {
                            plan: None,
                            untyped: Some(model),
                            symbolic: None,
                            specialised: Mutex::new(Vec::new()),
                        });
                    }
                    _ => return Err(tract_error("typing", &e)),
                },
            };
            let decluttered = typed
                .into_decluttered()
                .map_err(|e| tract_error("optimising", &e))?;
            // Optimisation can fail on exotic symbolic shapes; a decluttered plan still runs.
            let optimised = match decluttered.clone().into_optimized() {
                Ok(m) => m,
                Err(_) => decluttered.clone(),
            };
            let plan = optimised
                .into_runnable()
                .map_err(|e| tract_error("planning", &e))?;
            let symbolic = has_symbolic_input(&decluttered).then_some(decluttered);
            Ok(TractPlan {
                plan: Some(plan),
                untyped: None,
                symbolic,
                specialised: Mutex::new(Vec::new()),
            })
        })
    }

    /// The plan for inputs of these shapes: a cached or new concrete-shape
    /// plan when the model is symbolic, else the general one.
    fn plan_for(&self, shapes: ShapeKey) -> Result<Arc<TypedRunnableModel>, Error> {
        if self.symbolic.is_none()
            && let Some(plan) = &self.plan
        {
            return Ok(plan.clone());
        }
        let mut cache = self.specialised.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, plan)) = cache.iter().find(|(key, _)| *key == shapes) {
            return self.or_general(plan.clone());
        }
        // A failed specialisation is remembered too, so it is not retried per call.
        let plan = match (&self.symbolic, &self.untyped) {
            (Some(symbolic), _) => specialise(symbolic, &shapes),
            (None, Some(untyped)) => type_for(untyped, &shapes),
            (None, None) => None,
        };
        if cache.len() >= SPECIALISED_PLANS {
            cache.remove(0);
        }
        cache.push((shapes, plan.clone()));
        self.or_general(plan)
    }

    fn or_general(
        &self,
        plan: Option<Arc<TypedRunnableModel>>,
    ) -> Result<Arc<TypedRunnableModel>, Error> {
        plan.or_else(|| self.plan.clone()).ok_or_else(|| {
            Error::Model(
                "tract cannot type the model for these input shapes (symbolic dimensions that must equal constants)"
                    .to_owned(),
            )
        })
    }

    pub fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        catch_panic("tract run", || {
            let shapes: ShapeKey = inputs
                .iter()
                .map(|v| match v {
                    Value::Tensor(t) => t.shape.clone(),
                    _ => Vec::new(),
                })
                .collect();
            let plan = self.plan_for(shapes)?;
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
            let outputs = plan.run(tv).map_err(|e| tract_error("running", &e))?;
            outputs
                .iter()
                .map(|t| from_tract(t).map(Value::Tensor))
                .collect()
        })
    }
}

fn has_symbolic_input(model: &TypedModel) -> bool {
    (0..model.inputs.len()).any(|i| {
        model
            .input_fact(i)
            .is_ok_and(|fact| fact.shape.iter().any(|d| d.to_i64().is_err()))
    })
}

/// `model` with every input dimension that is a plain symbol bound to the
/// given shapes, optimised and planned; `None` when tract cannot do it.
fn specialise(model: &TypedModel, shapes: &[Vec<usize>]) -> Option<Arc<TypedRunnableModel>> {
    let mut subs = HashMap::new();
    for (index, shape) in shapes.iter().enumerate() {
        let fact = model.input_fact(index).ok()?;
        if fact.shape.len() != shape.len() {
            return None;
        }
        for (dim, &actual) in fact.shape.iter().zip(shape) {
            if let TDim::Sym(symbol) = dim {
                subs.insert(symbol.clone(), TDim::Val(actual as i64));
            }
        }
    }
    let concrete = model.set_symbols(&subs).ok()?;
    concrete.into_optimized().ok()?.into_runnable().ok()
}

/// The input shapes of `model` with every unknown dimension 1, when some
/// dimension is unknown and the ranks are known.
fn probe_shapes(model: &InferenceModel) -> Option<Vec<Vec<usize>>> {
    use tract_onnx::tract_hir::infer::Factoid;
    let mut symbolic = false;
    let mut shapes = Vec::new();
    for index in 0..model.inputs.len() {
        let fact = model.input_fact(index).ok()?;
        if fact.shape.is_open() {
            return None;
        }
        let mut shape = Vec::new();
        for dim in fact.shape.dims() {
            match dim.concretize().and_then(|d| d.to_i64().ok()) {
                Some(d) => shape.push(usize::try_from(d).ok()?),
                None => {
                    symbolic = true;
                    shape.push(1);
                }
            }
        }
        shapes.push(shape);
    }
    symbolic.then_some(shapes)
}

/// `model` typed, optimised and planned with its inputs fixed to `shapes`;
/// `None` when tract cannot do it.
fn type_for(model: &InferenceModel, shapes: &[Vec<usize>]) -> Option<Arc<TypedRunnableModel>> {
    let mut model = model.clone();
    for (index, shape) in shapes.iter().enumerate() {
        let fact = model.input_fact(index).ok()?.clone();
        model
            .set_input_fact(index, fact.with_shape(shape.iter().copied()))
            .ok()?;
    }
    let typed = model.into_typed().ok()?.into_decluttered().ok()?;
    typed.into_optimized().ok()?.into_runnable().ok()
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
        Data::I16(v) => TractTensor::from_shape(shape, v),
        Data::U64(v) => TractTensor::from_shape(shape, v),
        Data::U32(v) => TractTensor::from_shape(shape, v),
        Data::U16(v) => TractTensor::from_shape(shape, v),
        Data::F16(v) => TractTensor::from_shape(shape, v),
        Data::Bool(v) => TractTensor::from_shape(shape, v),
        Data::Str(v) => tract_ndarray::ArrayD::from_shape_vec(shape.as_slice(), v.clone())
            .map(TractTensor::from)
            .map_err(|e| tract_onnx::prelude::TractError::msg(e.to_string())),
        Data::Bf16(_) | Data::Packed(..) => Err(tract_onnx::prelude::TractError::msg(
            "tract has no such element type",
        )),
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
        | DatumType::I16
        | DatumType::U16
        | DatumType::U32
        | DatumType::U64
        | DatumType::F16
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
        DatumType::I16 => Data::I16(view.as_slice::<i16>().map_err(bad)?.to_vec()),
        DatumType::U16 => Data::U16(view.as_slice::<u16>().map_err(bad)?.to_vec()),
        DatumType::U32 => Data::U32(view.as_slice::<u32>().map_err(bad)?.to_vec()),
        DatumType::U64 => Data::U64(view.as_slice::<u64>().map_err(bad)?.to_vec()),
        DatumType::F16 => Data::F16(view.as_slice::<half::f16>().map_err(bad)?.to_vec()),
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
