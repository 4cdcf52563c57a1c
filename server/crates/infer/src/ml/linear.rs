//! LinearClassifier and LinearRegressor (onnxruntime `linearclassifier.cc`,
//! `linearregressor.cc`): scores = X·Wᵀ + b in f32, then labels and transforms.

use super::post::{PostTransform, apply_row, expand_binary};
use super::{Attrs, BoxKernel, Kernel};
use crate::error::KernelError;
use crate::value::{Data, Tensor, Value};

/// Rows and features of a 1-D or 2-D input, as f32 the way onnxruntime casts it.
pub(crate) fn rows_f32(value: Option<&Value>) -> Result<(usize, usize, Vec<f32>), KernelError> {
    let t = match value {
        Some(Value::Tensor(t)) => t,
        Some(other) => {
            return Err(KernelError::Value(format!(
                "expected a tensor input, found {}",
                other.describe()
            )));
        }
        None => return Err(KernelError::Value("missing input X".to_owned())),
    };
    let data = t.data.to_f32().ok_or_else(|| {
        KernelError::Type(format!("expected a numeric tensor, found {}", t.dtype()))
    })?;
    let (rows, features) = match t.shape.len() {
        0 => (1, 1),
        1 => (1, t.shape[0]),
        2 => (t.shape[0], t.shape[1]),
        _ => (t.shape[0], t.shape[1..].iter().product()),
    };
    Ok((rows, features, data))
}

/// out[r, k] = Σ x[r, f] · w[k, f] + b[k]
pub(crate) fn gemm_xwt(
    x: &[f32],
    rows: usize,
    features: usize,
    w: &[f32],
    targets: usize,
    bias: &[f32],
) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * targets];
    for r in 0..rows {
        let xr = &x[r * features..(r + 1) * features];
        for k in 0..targets {
            let wk = &w[k * features..(k + 1) * features];
            let dot: f32 = xr.iter().zip(wk).map(|(a, b)| a * b).sum();
            out[r * targets + k] = dot + bias.get(k).copied().unwrap_or(0.0);
        }
    }
    out
}

pub(crate) enum Labels {
    Ints(Vec<i64>),
    Strings(Vec<String>),
}

impl Labels {
    pub fn from_attrs(a: &Attrs, ints: &str, strings: &str) -> Option<Labels> {
        match (a.strings(strings), a.ints(ints)) {
            (Some(s), _) if !s.is_empty() => Some(Labels::Strings(s)),
            (_, Some(i)) if !i.is_empty() => Some(Labels::Ints(i)),
            _ => None,
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Labels::Ints(v) => v.len(),
            Labels::Strings(v) => v.len(),
        }
    }
    /// A classifier's two outputs: the label picked per row and the
    /// `[rows, width]` scores.
    pub fn outputs(&self, picks: &[usize], scores: Vec<f32>, width: usize) -> Vec<Value> {
        vec![
            Value::Tensor(Tensor {
                shape: vec![picks.len()],
                data: self.pick(picks),
            }),
            Value::Tensor(Tensor {
                shape: vec![picks.len(), width],
                data: Data::F32(scores),
            }),
        ]
    }

    /// Picks labels by index; `usize::MAX - 1` / `usize::MAX` mean the default
    /// negative ("0"/0) and positive ("1"/1) labels of the binary fallbacks.
    pub fn pick(&self, picks: &[usize]) -> Data {
        match self {
            Labels::Ints(v) => Data::I64(
                picks
                    .iter()
                    .map(|&p| match p {
                        NEG => 0,
                        POS => 1,
                        p => v[p],
                    })
                    .collect(),
            ),
            Labels::Strings(v) => Data::Str(
                picks
                    .iter()
                    .map(|&p| match p {
                        NEG => "0".to_owned(),
                        POS => "1".to_owned(),
                        p => v[p].clone(),
                    })
                    .collect(),
            ),
        }
    }
}
pub(crate) const NEG: usize = usize::MAX - 1;
pub(crate) const POS: usize = usize::MAX;

struct LinearClassifier {
    coefficients: Vec<f32>,
    intercepts: Vec<f32>,
    labels: Labels,
    transform: PostTransform,
    classes: usize,
}

pub(crate) fn linear_classifier(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let coefficients = a.required_floats("coefficients")?;
    let labels =
        Labels::from_attrs(a, "classlabels_ints", "classlabels_strings").ok_or_else(|| {
            KernelError::Attribute(
                "one of classlabels_ints, classlabels_strings is required".to_owned(),
            )
        })?;
    let intercepts = a.floats("intercepts").unwrap_or_default();
    let classes = if intercepts.is_empty() {
        labels.len().max(1)
    } else {
        intercepts.len()
    };
    if coefficients.len() % classes != 0 {
        return Err(KernelError::Attribute(format!(
            "{} coefficients do not split into {classes} classes",
            coefficients.len()
        )));
    }
    Ok(Box::new(LinearClassifier {
        coefficients,
        intercepts,
        labels,
        transform: PostTransform::from_attrs(a)?,
        classes,
    }))
}

/// `X W^T + b` over input 0's rows, for `outputs` columns: the rows and the scores.
fn linear(
    inputs: &[Option<&Value>],
    coefficients: &[f32],
    outputs: usize,
    intercepts: &[f32],
) -> Result<(usize, Vec<f32>), KernelError> {
    let (rows, features, x) = rows_f32(inputs.first().copied().flatten())?;
    let want = coefficients.len() / outputs;
    if features != want {
        return Err(KernelError::Shape(format!(
            "X has {features} features, the coefficients expect {want}"
        )));
    }
    Ok((
        rows,
        gemm_xwt(&x, rows, features, coefficients, outputs, intercepts),
    ))
}

impl Kernel for LinearClassifier {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let (rows, scores) = linear(inputs, &self.coefficients, self.classes, &self.intercepts)?;
        let mut picks = Vec::with_capacity(rows);
        let add_second = self.classes == 1 && self.labels.len() == 2;
        if self.classes == 1 {
            for &s in &scores {
                picks.push(match (s > 0.0, add_second) {
                    (true, true) => 1,
                    (false, true) => 0,
                    (true, false) => POS,
                    (false, false) => NEG,
                });
            }
        } else {
            for row in scores.chunks_exact(self.classes) {
                let mut best = 0;
                for (j, &s) in row.iter().enumerate().skip(1) {
                    if s > row[best] {
                        best = j;
                    }
                }
                picks.push(best);
            }
        }
        let (z, width) = if add_second {
            let mut z = Vec::with_capacity(rows * 2);
            for &s in &scores {
                // onnxruntime applies only PROBIT to a single score, then expands with (1-p, p).
                let s = if self.transform == PostTransform::Probit {
                    super::post::probit(s)
                } else {
                    s
                };
                if self.transform == PostTransform::Probit {
                    z.extend_from_slice(&[s, 0.0]);
                } else {
                    z.extend_from_slice(&expand_binary(s, self.transform, 1));
                }
            }
            (z, 2)
        } else {
            let mut z = scores;
            for row in z.chunks_exact_mut(self.classes) {
                apply_row(row, self.transform);
            }
            (z, self.classes)
        };
        Ok(self.labels.outputs(&picks, z, width))
    }
}

struct LinearRegressor {
    coefficients: Vec<f32>,
    intercepts: Vec<f32>,
    targets: usize,
    transform: PostTransform,
}

pub(crate) fn linear_regressor(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let coefficients = a.floats("coefficients").unwrap_or_default();
    let targets = a.i("targets").unwrap_or(1);
    let targets = usize::try_from(targets)
        .ok()
        .filter(|&t| t > 0)
        .ok_or_else(|| {
            KernelError::Attribute(format!("targets must be positive, found {targets}"))
        })?;
    if !coefficients.len().is_multiple_of(targets) {
        return Err(KernelError::Attribute(format!(
            "{} coefficients do not split into {targets} targets",
            coefficients.len()
        )));
    }
    Ok(Box::new(LinearRegressor {
        coefficients,
        intercepts: a.floats("intercepts").unwrap_or_default(),
        targets,
        transform: PostTransform::from_attrs(a)?,
    }))
}

impl Kernel for LinearRegressor {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let (rows, mut y) = linear(inputs, &self.coefficients, self.targets, &self.intercepts)?;
        for row in y.chunks_exact_mut(self.targets) {
            apply_row(row, self.transform);
        }
        Ok(vec![Value::Tensor(Tensor {
            shape: vec![rows, self.targets],
            data: Data::F32(y),
        })])
    }
}
