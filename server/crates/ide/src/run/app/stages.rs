//! Model stages of an app, compiled once per run through the router:
//! spiking networks (written, converted, or ONNX models with spiking
//! neuron ops) on a prepared [`Simulator`] with the network's `simulate`
//! settings, ML and DL models on a `neuride-infer` session.

use neuride_app::{Flow, Model};
use neuride_infer::{DType, Dim, Session, Tensor, Value, ValueType};
use neuride_snn::{Network, SimOptions, Simulator};
use std::sync::Arc;

/// A spiking network simulated `steps` per reading, each reading from rest.
pub(super) struct SpikingStage {
    network: Network,
    simulator: Simulator,
}

impl SpikingStage {
    pub fn new(network: Network, options: &SimOptions) -> Result<SpikingStage, String> {
        let simulator = Simulator::new(&network, options).map_err(|e| e.to_string())?;
        Ok(SpikingStage { network, simulator })
    }
}

impl Model for SpikingStage {
    fn input_len(&self) -> usize {
        self.simulator.input_len()
    }

    fn output(&self) -> Flow {
        Flow::tensor(self.simulator.output_len(&self.network))
    }

    fn run(
        &mut self,
        first: u64,
        input: &[f32],
        _rows: usize,
        output: &mut Vec<f32>,
    ) -> Result<(), String> {
        self.simulator
            .run(&self.network, first as usize, input, output)
            .map_err(|e| e.to_string())
    }
}

/// An ONNX model on the infer engines: readings go in as rows of its first
/// input, its first output comes back per row (an integer label is a class).
pub(super) struct InferStage {
    session: Arc<Session>,
    input: String,
    /// The input's per-reading dimensions.
    dims: Vec<usize>,
    dtype: DType,
    /// The model's batch dimension when it is fixed (readings are padded to it).
    fixed_batch: Option<usize>,
    flow: Flow,
}

impl InferStage {
    /// Prepares `session` for readings of `width` values; one probe run on
    /// zeros learns what the first output holds per reading.
    pub fn new(session: Arc<Session>, width: usize) -> Result<InferStage, String> {
        let port = session
            .signature
            .inputs
            .first()
            .cloned()
            .ok_or("the model has no inputs")?;
        let (dtype, shape) = match &port.ty {
            ValueType::Tensor { dtype, shape } => (dtype.unwrap_or(DType::F32), shape.clone()),
            other => return Err(format!("input '{}' is not a tensor ({other:?})", port.name)),
        };
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(format!(
                "input '{}' takes {dtype}; an app stage feeds float readings",
                port.name
            ));
        }
        let (fixed_batch, dims) = match shape.as_deref() {
            Some([first, rest @ ..]) => {
                let batch = match first {
                    Dim::Fixed(n) => Some(*n),
                    Dim::Symbolic(_) => None,
                };
                let mut dims = Vec::new();
                for dim in rest {
                    match dim {
                        Dim::Fixed(n) => dims.push(*n),
                        // A free per-sample dimension: the reading's size fills it.
                        Dim::Symbolic(_) => dims.push(0),
                    }
                }
                (batch, dims)
            }
            _ => (None, vec![width]),
        };
        let known: usize = dims.iter().filter(|&&d| d > 0).product();
        let free = dims.iter().filter(|&&d| d == 0).count();
        let dims = match free {
            0 => dims,
            1 if known > 0 && width % known == 0 => dims
                .iter()
                .map(|&d| if d == 0 { width / known } else { d })
                .collect(),
            _ => vec![width],
        };
        let mut stage = InferStage {
            session,
            input: port.name.clone(),
            dims,
            dtype,
            fixed_batch,
            flow: Flow::tensor(0),
        };
        let rows = stage.fixed_batch.unwrap_or(1).max(1);
        let (values, class) = stage.call(&vec![0.0; rows * stage.per_row()], rows)?;
        stage.flow = Flow {
            width: values.len() / rows,
            class,
        };
        Ok(stage)
    }

    fn per_row(&self) -> usize {
        self.dims.iter().product()
    }

    /// One run of the model on `rows` rows; its first output as floats and
    /// whether it holds integers (a label).
    fn call(&self, input: &[f32], rows: usize) -> Result<(Vec<f32>, bool), String> {
        let mut shape = vec![rows];
        shape.extend(&self.dims);
        let tensor = match self.dtype {
            DType::F64 => Tensor::new(shape, input.iter().map(|&v| v as f64).collect::<Vec<_>>()),
            _ => Tensor::new(shape, input.to_vec()),
        }
        .map_err(|e| e.to_string())?;
        let outputs = self
            .session
            .run(vec![(self.input.clone(), Value::Tensor(tensor))])
            .map_err(|e| e.to_string())?;
        let (name, first) = outputs
            .into_iter()
            .next()
            .ok_or("the model gave no output")?;
        let Value::Tensor(tensor) = first else {
            return Err(format!(
                "output '{name}' is {}; an app stage needs a tensor",
                first.describe()
            ));
        };
        let class = matches!(
            tensor.dtype(),
            DType::I64 | DType::I32 | DType::I8 | DType::U8 | DType::Bool
        );
        let values = tensor
            .data
            .to_f32()
            .ok_or_else(|| format!("output '{name}' holds {}, not numbers", tensor.dtype()))?;
        Ok((values, class))
    }
}

impl Model for InferStage {
    fn input_len(&self) -> usize {
        self.per_row()
    }

    fn output(&self) -> Flow {
        self.flow
    }

    fn max_batch(&self) -> usize {
        self.fixed_batch.unwrap_or(usize::MAX)
    }

    fn run(
        &mut self,
        _first: u64,
        input: &[f32],
        rows: usize,
        output: &mut Vec<f32>,
    ) -> Result<(), String> {
        let (values, _) = match self.fixed_batch {
            // A fixed batch: pad with zeros, keep the first rows' outputs.
            Some(batch) if batch != rows => {
                let mut padded = input.to_vec();
                padded.resize(batch * self.per_row(), 0.0);
                let (mut values, class) = self.call(&padded, batch)?;
                values.truncate(rows * self.flow.width);
                (values, class)
            }
            _ => self.call(input, rows)?,
        };
        if values.len() != rows * self.flow.width {
            return Err(format!(
                "expected {} output values for {rows} readings, found {}",
                rows * self.flow.width,
                values.len()
            ));
        }
        output.extend_from_slice(&values);
        Ok(())
    }
}
