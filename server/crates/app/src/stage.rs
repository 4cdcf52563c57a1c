//! Pipeline stages: the model stages the caller compiles (behind
//! [`Model`]), and the built-ins `argmax`, `softmax`, `mean` and `max`.
//! Stages work on batches of readings, row-major, so a replay run can hand a
//! model many readings per call; a run in real time hands it one.

use crate::spec::StageKind;
use neuride_snn::decode::argmax;

/// What a stage yields per reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Values per reading.
    pub width: usize,
    /// The value is a class index (a classifier's label, `argmax`).
    pub class: bool,
}

impl Flow {
    pub fn tensor(width: usize) -> Flow {
        Flow {
            width,
            class: false,
        }
    }

    pub fn describe(&self) -> String {
        match (self.class, self.width) {
            (true, _) => "a class".to_string(),
            (false, 1) => "a scalar".to_string(),
            (false, width) => format!("a tensor of {width} values"),
        }
    }
}

/// A compiled model stage (an inference plan, a prepared spiking network).
/// It is built once per run by the caller and run on batches of readings.
pub trait Model: Send {
    /// Values per reading going in.
    fn input_len(&self) -> usize;
    /// What comes out per reading.
    fn output(&self) -> Flow;
    /// The most readings one call may take (1 for a model whose batch
    /// dimension is fixed at 1).
    fn max_batch(&self) -> usize {
        usize::MAX
    }
    /// Runs `rows` readings laid out one after the other in `input`
    /// (`rows * input_len()` values) and appends `rows * output().width`
    /// values to `output`. `first` is the index of the first reading in its
    /// sensor's stream (encoders that draw random spikes per reading seed
    /// from it, so a reading gives the same result whatever the batch).
    fn run(
        &mut self,
        first: u64,
        input: &[f32],
        rows: usize,
        output: &mut Vec<f32>,
    ) -> Result<(), String>;
}

/// The flow out of built-in `kind` given the flow into it.
pub(crate) fn builtin_flow(kind: StageKind, input: Flow) -> Flow {
    match kind {
        StageKind::Argmax => Flow {
            width: 1,
            class: true,
        },
        StageKind::Softmax => Flow::tensor(input.width),
        StageKind::Mean | StageKind::Max => Flow::tensor(1),
        StageKind::Model(_) => input,
    }
}

/// Runs built-in `kind` over `rows` of `width` values each.
pub(crate) fn run_builtin(kind: StageKind, width: usize, input: &[f32], output: &mut Vec<f32>) {
    let rows = input.chunks_exact(width.max(1));
    match kind {
        StageKind::Argmax => output.extend(rows.map(|row| argmax(row) as f32)),
        StageKind::Mean => {
            output.extend(rows.map(|row| row.iter().sum::<f32>() / row.len().max(1) as f32))
        }
        StageKind::Max => output.extend(rows.map(|row| {
            row.iter()
                .copied()
                .fold(f32::NEG_INFINITY, |best, value| best.max(value))
        })),
        StageKind::Softmax => {
            for row in rows {
                let peak = row
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, |best, value| best.max(value));
                let start = output.len();
                output.extend(row.iter().map(|value| (value - peak).exp()));
                let sum: f32 = output[start..].iter().sum();
                for value in &mut output[start..] {
                    *value /= sum;
                }
            }
        }
        StageKind::Model(_) => unreachable!("model stages run through Model::run"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: StageKind, width: usize, input: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        run_builtin(kind, width, input, &mut out);
        out
    }

    #[test]
    fn builtins_work_row_by_row() {
        let rows = [1.0, 3.0, 3.0, -1.0, -2.0, -0.5];
        assert_eq!(run(StageKind::Argmax, 3, &rows), vec![1.0, 2.0]);
        assert_eq!(run(StageKind::Max, 3, &rows), vec![3.0, -0.5]);
        assert_eq!(run(StageKind::Mean, 3, &rows), vec![7.0 / 3.0, -3.5 / 3.0]);
        let softmax = run(StageKind::Softmax, 3, &rows);
        assert_eq!(softmax.len(), 6);
        for row in softmax.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        assert_eq!(softmax[1], softmax[2]);
    }

    #[test]
    fn flows() {
        let tensor = Flow::tensor(10);
        assert_eq!(
            builtin_flow(StageKind::Argmax, tensor),
            Flow {
                width: 1,
                class: true
            }
        );
        assert_eq!(builtin_flow(StageKind::Softmax, tensor), tensor);
        assert_eq!(builtin_flow(StageKind::Mean, tensor).describe(), "a scalar");
        assert_eq!(tensor.describe(), "a tensor of 10 values");
    }
}
