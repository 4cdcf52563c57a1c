//! SVMClassifier and SVMRegressor, following onnxruntime's `svmclassifier.cc`
//! and `svmregressor.cc`: kernels in f32, one-vs-one votes, libsvm's pairwise
//! coupling for probabilities (prob_a/prob_b), and its label quirks.

use super::linear::{Labels, rows_f32};
use super::post::{PostTransform, apply_row, logistic, probit};
use super::{Attrs, BoxKernel, Kernel};
use crate::error::KernelError;
use crate::value::{Data, Tensor, Value};

#[derive(Clone, Copy, PartialEq)]
enum KernelType {
    Linear,
    Poly,
    Rbf,
    Sigmoid,
}

#[derive(Clone, Copy)]
struct SvmKernel {
    kind: KernelType,
    gamma: f32,
    coef0: f32,
    degree: f32,
}

impl SvmKernel {
    fn from_attrs(a: &Attrs) -> Result<SvmKernel, KernelError> {
        let kind = a.choice(
            "kernel_type",
            "LINEAR",
            &[
                ("LINEAR", KernelType::Linear),
                ("POLY", KernelType::Poly),
                ("RBF", KernelType::Rbf),
                ("SIGMOID", KernelType::Sigmoid),
            ],
        )?;
        let p = a.floats("kernel_params").unwrap_or_default();
        if !p.is_empty() && p.len() < 3 {
            return Err(KernelError::Attribute(format!(
                "kernel_params has {} values, 3 (gamma, coef0, degree) expected",
                p.len()
            )));
        }
        let get = |i: usize| p.get(i).copied().unwrap_or(0.0);
        Ok(SvmKernel {
            kind,
            gamma: get(0),
            coef0: get(1),
            degree: get(2),
        })
    }

    /// out[r, v] = K(x_r, sv_v); `scalar_c` is added for LINEAR (the rho of liblinear mode).
    ///
    /// Each sum runs over the features in order, as onnxruntime's loop does.
    /// For more than a few rows the vectors are transposed once so that the
    /// sums of all vectors advance together (vectorised across vectors, the
    /// order within each sum unchanged).
    fn dot(
        &self,
        x: &[f32],
        rows: usize,
        sv: &[f32],
        n: usize,
        k: usize,
        scalar_c: f32,
    ) -> Vec<f32> {
        let rbf = self.kind == KernelType::Rbf;
        let mut out = vec![0.0f32; rows * n];
        if rows < 4 {
            for r in 0..rows {
                let xr = &x[r * k..(r + 1) * k];
                for v in 0..n {
                    let s = &sv[v * k..(v + 1) * k];
                    out[r * n + v] = if rbf {
                        xr.iter().zip(s).map(|(a, b)| (a - b) * (a - b)).sum()
                    } else {
                        xr.iter().zip(s).map(|(a, b)| a * b).sum()
                    };
                }
            }
        } else {
            let mut sv_t = vec![0.0f32; k * n];
            for v in 0..n {
                for f in 0..k {
                    sv_t[f * n + v] = sv[v * k + f];
                }
            }
            for (xr, acc) in x.chunks_exact(k).zip(out.chunks_exact_mut(n)) {
                for (&a, column) in xr.iter().zip(sv_t.chunks_exact(n)) {
                    if rbf {
                        for (o, &b) in acc.iter_mut().zip(column) {
                            let d = a - b;
                            *o += d * d;
                        }
                    } else {
                        for (o, &b) in acc.iter_mut().zip(column) {
                            *o += a * b;
                        }
                    }
                }
            }
        }
        for value in out.iter_mut() {
            let raw = *value;
            *value = match self.kind {
                KernelType::Rbf => (-self.gamma * raw).exp(),
                KernelType::Linear => raw + scalar_c,
                KernelType::Poly | KernelType::Sigmoid => {
                    let y = self.gamma * raw + self.coef0;
                    if self.kind == KernelType::Sigmoid {
                        y.tanh()
                    } else if self.degree == 2.0 {
                        y * y
                    } else if self.degree == 3.0 {
                        y * y * y
                    } else {
                        y.powf(self.degree)
                    }
                }
            };
        }
        out
    }
}

struct SvmClassifier {
    kernel: SvmKernel,
    labels: Labels,
    classes: usize,
    vectors_per_class: Vec<usize>,
    starts: Vec<usize>,
    vectors: usize,
    features: usize,
    support: Vec<f32>,
    coefficients: Vec<f32>,
    rho: Vec<f32>,
    prob_a: Vec<f32>,
    prob_b: Vec<f32>,
    transform: PostTransform,
    all_positive: bool,
}

pub(crate) fn classifier(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let mut kernel = SvmKernel::from_attrs(a)?;
    let labels =
        Labels::from_attrs(a, "classlabels_ints", "classlabels_strings").ok_or_else(|| {
            KernelError::Attribute(
                "one of classlabels_ints, classlabels_strings is required".to_owned(),
            )
        })?;
    let classes = labels.len();
    let coefficients = a.required_floats("coefficients")?;
    let rho = a.required_floats("rho")?;
    let prob_a = a.floats("prob_a").unwrap_or_default();
    let prob_b = a.floats("prob_b").unwrap_or_default();
    if prob_a.len() != prob_b.len() {
        return Err(KernelError::Attribute(format!(
            "prob_a has {} values, prob_b {}",
            prob_a.len(),
            prob_b.len()
        )));
    }
    let vectors_per_class: Vec<usize> = a
        .ints("vectors_per_class")
        .unwrap_or_default()
        .iter()
        .map(|&v| {
            usize::try_from(v)
                .map_err(|_| KernelError::Attribute(format!("negative vectors_per_class {v}")))
        })
        .collect::<Result<_, _>>()?;
    let mut starts = Vec::new();
    let mut vectors = 0usize;
    for &v in &vectors_per_class {
        starts.push(vectors);
        vectors += v;
    }
    let support = a.floats("support_vectors").unwrap_or_default();
    let pairs = classes * classes.saturating_sub(1) / 2;
    let features = if vectors > 0 {
        if vectors_per_class.len() != classes {
            return Err(KernelError::Attribute(format!(
                "vectors_per_class lists {} classes, the labels {classes}",
                vectors_per_class.len()
            )));
        }
        if !support.len().is_multiple_of(vectors) {
            return Err(KernelError::Value(format!(
                "{} support vector values do not split into {vectors} vectors",
                support.len()
            )));
        }
        if coefficients.len() < (classes - 1) * vectors {
            return Err(KernelError::Attribute(format!(
                "{} coefficients, at least {} expected",
                coefficients.len(),
                (classes - 1) * vectors
            )));
        }
        if rho.len() < pairs || (!prob_a.is_empty() && prob_a.len() < pairs) {
            return Err(KernelError::Attribute(format!(
                "rho/prob_a/prob_b need {pairs} values (one per class pair)"
            )));
        }
        support.len() / vectors
    } else {
        // liblinear mode: one coefficient row per class, linear kernel.
        kernel.kind = KernelType::Linear;
        if classes == 0 || coefficients.len() % classes != 0 || rho.is_empty() {
            return Err(KernelError::Attribute(format!(
                "{} coefficients do not split into {classes} classes (or rho is empty)",
                coefficients.len()
            )));
        }
        coefficients.len() / classes
    };
    let all_positive = coefficients.iter().all(|&c| c >= 0.0);
    Ok(Box::new(SvmClassifier {
        kernel,
        labels,
        classes,
        vectors_per_class,
        starts,
        vectors,
        features,
        support,
        coefficients,
        rho,
        prob_a,
        prob_b,
        transform: PostTransform::from_attrs(a)?,
        all_positive,
    }))
}

/// libsvm's pairwise coupling (Wu, Lin and Weng 2004), in f32 as onnxruntime does.
fn multiclass_probability(k: usize, r: &[f32], p: &mut [f32]) {
    let mut q = vec![0.0f32; k * k];
    let mut qp = vec![0.0f32; k];
    let eps = 0.005f32 / k as f32;
    for i in 0..k {
        p[i] = 1.0 / k as f32;
        for j in 0..i {
            q[i * k + i] += r[j * k + i] * r[j * k + i];
            q[i * k + j] = q[j * k + i];
        }
        for j in i + 1..k {
            q[i * k + i] += r[j * k + i] * r[j * k + i];
            q[i * k + j] = -r[j * k + i] * r[i * k + j];
        }
    }
    for _ in 0..100 {
        let mut pqp = 0.0f32;
        for i in 0..k {
            qp[i] = 0.0;
            for j in 0..k {
                qp[i] += q[i * k + j] * p[j];
            }
            pqp += p[i] * qp[i];
        }
        let max_error = (0..k).map(|i| (qp[i] - pqp).abs()).fold(0.0f32, f32::max);
        if max_error < eps {
            break;
        }
        for i in 0..k {
            let diff = (-qp[i] + pqp) / q[i * k + i];
            p[i] += diff;
            pqp = (pqp + diff * (diff * q[i * k + i] + 2.0 * qp[i])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[i * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
}

fn first_argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// The rows of input X, which must have the `features` the model was trained on.
fn rows_of_features(
    inputs: &[Option<&Value>],
    features: usize,
) -> Result<(usize, Vec<f32>), KernelError> {
    let (rows, found, x) = rows_f32(inputs.first().copied().flatten())?;
    if found != features {
        return Err(KernelError::Shape(format!(
            "X has {found} features, the model expects {features}"
        )));
    }
    Ok((rows, x))
}

impl Kernel for SvmClassifier {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let (rows, x) = rows_of_features(inputs, self.features)?;
        let features = self.features;
        let k = self.classes;
        let pairs = k * k.saturating_sub(1) / 2;
        let have_proba = !self.prob_a.is_empty();
        let mut picks = Vec::with_capacity(rows);
        let mut z = Vec::new();
        let width;
        if self.vectors == 0 {
            // liblinear mode: onnxruntime adds rho[0] to every class score.
            let scores = self
                .kernel
                .dot(&x, rows, &self.coefficients, k, features, self.rho[0]);
            width = k;
            for row in scores.chunks_exact(k) {
                let best = first_argmax(row);
                let max_weight = row[best];
                picks.push(if pairs == 1 && !have_proba {
                    if (self.all_positive && max_weight >= 0.5)
                        || (max_weight > 0.0 && !self.all_positive)
                    {
                        1
                    } else {
                        best
                    }
                } else {
                    best
                });
                let mut row = row.to_vec();
                apply_row(&mut row, self.transform);
                z.extend_from_slice(&row);
            }
        } else {
            let kernels = self
                .kernel
                .dot(&x, rows, &self.support, self.vectors, features, 0.0);
            width = if have_proba {
                k
            } else if k > 2 {
                pairs
            } else {
                2
            };
            for kr in kernels.chunks_exact(self.vectors) {
                let mut votes = vec![0usize; k];
                let mut scores = Vec::with_capacity(pairs);
                let mut index = 0;
                for i in 0..k.saturating_sub(1) {
                    for j in i + 1..k {
                        let mut sum = 0.0f64;
                        let (si, sj) = (self.starts[i], self.starts[j]);
                        for m in 0..self.vectors_per_class[i] {
                            sum += (self.coefficients[self.vectors * (j - 1) + si + m] * kr[si + m])
                                as f64;
                        }
                        for m in 0..self.vectors_per_class[j] {
                            sum +=
                                (self.coefficients[self.vectors * i + sj + m] * kr[sj + m]) as f64;
                        }
                        sum += self.rho[index] as f64;
                        index += 1;
                        scores.push(sum as f32);
                        votes[if sum > 0.0 { i } else { j }] += 1;
                    }
                }
                picks.push(first_argmax(&votes));
                if have_proba {
                    let mut r = vec![0.0f32; k * k];
                    let mut index = 0;
                    for i in 0..k - 1 {
                        for j in i + 1..k {
                            let v = 1.0
                                - logistic(scores[index] * self.prob_a[index] + self.prob_b[index]);
                            let v = v.clamp(1.0e-7, 1.0 - 1.0e-7);
                            r[i * k + j] = v;
                            r[j * k + i] = 1.0 - v;
                            index += 1;
                        }
                    }
                    let mut p = vec![0.0f32; k];
                    multiclass_probability(k, &r, &mut p);
                    apply_row(&mut p, self.transform);
                    z.extend_from_slice(&p);
                } else if k > 2 {
                    apply_row(&mut scores, self.transform);
                    z.extend_from_slice(&scores);
                } else {
                    let s = scores.first().copied().unwrap_or(0.0);
                    z.extend_from_slice(&match self.transform {
                        PostTransform::None => [-s, s],
                        PostTransform::Probit => [probit(s), 0.0],
                        _ => [1.0 - s, s],
                    });
                }
            }
        }
        Ok(self.labels.outputs(&picks, z, width))
    }
}

struct SvmRegressor {
    kernel: SvmKernel,
    support: Vec<f32>,
    vectors: usize,
    features: usize,
    coefficients: Vec<f32>,
    rho: f32,
    one_class: bool,
}

pub(crate) fn regressor(a: &Attrs) -> Result<BoxKernel, KernelError> {
    let mut kernel = SvmKernel::from_attrs(a)?;
    let coefficients = a.required_floats("coefficients")?;
    let rho = a
        .required_floats("rho")?
        .first()
        .copied()
        .ok_or_else(|| KernelError::Attribute("rho is empty".to_owned()))?;
    let vectors = a.i("n_supports").unwrap_or(0);
    let vectors = usize::try_from(vectors)
        .map_err(|_| KernelError::Attribute(format!("negative n_supports {vectors}")))?;
    let support = a.floats("support_vectors").unwrap_or_default();
    let features = if vectors > 0 {
        if !support.len().is_multiple_of(vectors) || coefficients.len() < vectors {
            return Err(KernelError::Attribute(format!(
                "{} support vector values / {} coefficients do not fit {vectors} vectors",
                support.len(),
                coefficients.len()
            )));
        }
        support.len() / vectors
    } else {
        kernel.kind = KernelType::Linear;
        coefficients.len()
    };
    Ok(Box::new(SvmRegressor {
        kernel,
        support,
        vectors,
        features,
        coefficients,
        rho,
        one_class: a.i("one_class").unwrap_or(0) != 0,
    }))
}

impl Kernel for SvmRegressor {
    fn run(&self, inputs: &[Option<&Value>]) -> Result<Vec<Value>, KernelError> {
        let (rows, x) = rows_of_features(inputs, self.features)?;
        let features = self.features;
        let mut y = if self.vectors > 0 {
            let kernels = self
                .kernel
                .dot(&x, rows, &self.support, self.vectors, features, 0.0);
            kernels
                .chunks_exact(self.vectors)
                .map(|kr| {
                    let s: f32 = kr.iter().zip(&self.coefficients).map(|(k, c)| k * c).sum();
                    s + self.rho
                })
                .collect::<Vec<f32>>()
        } else {
            self.kernel
                .dot(&x, rows, &self.coefficients, 1, features, self.rho)
        };
        if self.one_class {
            y.iter_mut()
                .for_each(|v| *v = if *v > 0.0 { 1.0 } else { -1.0 });
        }
        Ok(vec![Value::Tensor(Tensor {
            shape: vec![rows, 1],
            data: Data::F32(y),
        })])
    }
}
