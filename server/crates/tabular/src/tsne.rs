//! Exact t-SNE (van der Maaten and Hinton 2008) as scikit-learn's
//! `TSNE(method="exact", init="pca")` runs it: the same perplexity search,
//! joint probabilities, PCA start scaled to a standard deviation of 1e-4,
//! and the same two-stage gradient descent (early exaggeration 12 with
//! momentum 0.5 for 250 iterations, then momentum 0.8, adaptive gains,
//! learning rate `max(n / 12 / 4, 50)`). The gradient is exact, O(n^2) per
//! iteration: a few thousand features take seconds to a minute.

use crate::linalg::dot;
use crate::pca::{pairwise, pca, squared_distances};
use crate::{Error, Points};
use std::sync::atomic::{AtomicBool, Ordering};

const MACHINE_EPSILON: f64 = f64::EPSILON;
const PERPLEXITY_TOLERANCE: f64 = 1e-5;
const EXPLORATION_ITERATIONS: usize = 250;
const EARLY_EXAGGERATION: f64 = 12.0;
const CHECK_EVERY: usize = 50;
const WITHOUT_PROGRESS: usize = 300;
const MIN_GRAD_NORM: f64 = 1e-7;
const MIN_GAIN: f32 = 0.01;

/// How t-SNE measures the distance between two features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// `1 - cos(x_i, x_j)` (pyDeepInsight's choice).
    Cosine,
    /// Squared Euclidean distance (scikit-learn's default).
    Euclidean,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TsneOptions {
    pub perplexity: f64,
    pub iterations: usize,
    pub metric: Metric,
}

impl Default for TsneOptions {
    fn default() -> Self {
        TsneOptions {
            perplexity: 30.0,
            iterations: 1000,
            metric: Metric::Cosine,
        }
    }
}

/// The embedding (row-major `n x 2`) and the final KL divergence.
pub struct Embedding {
    pub points: Vec<f64>,
    pub kl_divergence: f64,
}

/// Embeds the points in two dimensions.
pub fn tsne(
    points: Points,
    options: &TsneOptions,
    cancel: &AtomicBool,
) -> Result<Embedding, Error> {
    let n = points.n();
    if options.perplexity >= n as f64 || options.perplexity <= 0.0 {
        return Err(Error::Options(format!(
            "t-SNE perplexity must be above 0 and below the number of features ({n}), found {}",
            options.perplexity
        )));
    }
    let distances = distances(points, options.metric, cancel)?;
    let mut p = joint_probabilities(&distances, n, options.perplexity, cancel)?;
    let start = pca(points, 2, cancel)?;
    let start: Vec<f32> = start.iter().map(|&x| x as f32).collect();
    let first: Vec<f32> = start.iter().step_by(2).copied().collect();
    let std = population_std(&first);
    let mut params: Vec<f32> = start
        .iter()
        .map(|&x| if std > 0.0 { x / std * 1e-4 } else { 0.0 })
        .collect();
    let learning_rate = (n as f64 / EARLY_EXAGGERATION / 4.0).max(50.0);

    p.iter_mut().for_each(|x| *x *= EARLY_EXAGGERATION);
    let mut descent = Descent {
        p: &p,
        n,
        learning_rate,
        momentum: 0.5,
        without_progress: EXPLORATION_ITERATIONS,
        cancel,
    };
    let (_, last) = descent.run(&mut params, 0, EXPLORATION_ITERATIONS)?;
    let p: Vec<f64> = p.iter().map(|x| x / EARLY_EXAGGERATION).collect();
    let mut descent = Descent {
        p: &p,
        n,
        learning_rate,
        momentum: 0.8,
        without_progress: WITHOUT_PROGRESS,
        cancel,
    };
    let mut kl_divergence = f64::NAN;
    if last < EXPLORATION_ITERATIONS || options.iterations > EXPLORATION_ITERATIONS {
        kl_divergence = descent.run(&mut params, last + 1, options.iterations)?.0;
    }
    Ok(Embedding {
        points: params.iter().map(|&x| x as f64).collect(),
        kl_divergence,
    })
}

/// Pairwise distances under `metric`, stored as f32 (as scikit-learn hands
/// them to the perplexity search).
pub fn distances(points: Points, metric: Metric, cancel: &AtomicBool) -> Result<Vec<f32>, Error> {
    Ok(match metric {
        Metric::Euclidean => squared_distances(points, cancel)?
            .into_iter()
            .map(|x| x as f32)
            .collect(),
        Metric::Cosine => {
            let normalised: Vec<f64> = points
                .rows()
                .flat_map(|row| {
                    let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
                    row.iter()
                        .map(move |x| if norm > 0.0 { x / norm } else { 0.0 })
                })
                .collect();
            pairwise(points.with_values(&normalised), cancel, |_, _, a, b| {
                (1.0 - dot(a, b)).clamp(0.0, 2.0)
            })?
            .into_iter()
            .map(|x| x as f32)
            .collect()
        }
    })
}

/// The symmetric joint probabilities `p_ij` (condensed: `i < j` in row
/// order, summing to 1/2 as the full matrix sums to 1), each row's Gaussian
/// tuned by binary search to `perplexity`.
pub fn joint_probabilities(
    distances: &[f32],
    n: usize,
    perplexity: f64,
    cancel: &AtomicBool,
) -> Result<Vec<f64>, Error> {
    let desired_entropy = (perplexity as f32 as f64).ln();
    let mut conditional = vec![0.0f64; n * n];
    for i in 0..n {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let row = &distances[i * n..(i + 1) * n];
        let out = &mut conditional[i * n..(i + 1) * n];
        let (mut beta, mut beta_min, mut beta_max) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
        for _ in 0..100 {
            let mut sum = 0.0;
            for j in 0..n {
                if j != i {
                    out[j] = (-(row[j] as f64) * beta).exp();
                    sum += out[j];
                }
            }
            if sum == 0.0 {
                sum = 1e-8;
            }
            let mut weighted = 0.0;
            for j in 0..n {
                out[j] /= sum;
                weighted += row[j] as f64 * out[j];
            }
            let difference = sum.ln() + beta * weighted - desired_entropy;
            if difference.abs() <= PERPLEXITY_TOLERANCE {
                break;
            }
            if difference > 0.0 {
                beta_min = beta;
                beta = if beta_max == f64::INFINITY {
                    beta * 2.0
                } else {
                    (beta + beta_max) / 2.0
                };
            } else {
                beta_max = beta;
                beta = if beta_min == f64::NEG_INFINITY {
                    beta / 2.0
                } else {
                    (beta + beta_min) / 2.0
                };
            }
        }
    }
    let mut joint = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            joint.push(conditional[i * n + j] + conditional[j * n + i]);
        }
    }
    // The sum over the full symmetric matrix: both triangles.
    let total = (2.0 * joint.iter().sum::<f64>()).max(MACHINE_EPSILON);
    joint
        .iter_mut()
        .for_each(|x| *x = (*x / total).max(MACHINE_EPSILON));
    Ok(joint)
}

struct Descent<'a> {
    p: &'a [f64],
    n: usize,
    learning_rate: f64,
    momentum: f32,
    without_progress: usize,
    cancel: &'a AtomicBool,
}

impl Descent<'_> {
    /// Iterations `first..end` of scikit-learn's `_gradient_descent`;
    /// returns the last error computed and the last iteration run.
    fn run(&mut self, params: &mut [f32], first: usize, end: usize) -> Result<(f64, usize), Error> {
        let mut update = vec![0f32; params.len()];
        let mut gains = vec![1f32; params.len()];
        let (mut best_error, mut best_iteration) = (f64::MAX, first);
        let mut error = f64::MAX;
        let mut last = first;
        for i in first..end {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            last = i;
            let check = (i + 1) % CHECK_EVERY == 0;
            let (kl, mut grad) = self.kl_divergence(params, check || i == end - 1);
            if let Some(kl) = kl {
                error = kl;
            }
            for ((gain, &u), &g) in gains.iter_mut().zip(&update).zip(&grad) {
                if u * g < 0.0 {
                    *gain += 0.2;
                } else {
                    *gain *= 0.8;
                }
                *gain = gain.max(MIN_GAIN);
            }
            for (g, gain) in grad.iter_mut().zip(&gains) {
                *g *= gain;
            }
            let rate = self.learning_rate as f32;
            for ((u, &g), p) in update.iter_mut().zip(&grad).zip(params.iter_mut()) {
                *u = self.momentum * *u - rate * g;
                *p += *u;
            }
            if check {
                let grad_norm = grad
                    .iter()
                    .map(|&g| (g as f64) * (g as f64))
                    .sum::<f64>()
                    .sqrt();
                if error < best_error {
                    best_error = error;
                    best_iteration = i;
                } else if i - best_iteration > self.without_progress {
                    break;
                }
                if grad_norm <= MIN_GRAD_NORM {
                    break;
                }
            }
        }
        Ok((error, last))
    }

    /// The KL divergence (when asked) and its gradient at `params`.
    fn kl_divergence(&self, params: &[f32], with_error: bool) -> (Option<f64>, Vec<f32>) {
        let n = self.n;
        let mut weights = Vec::with_capacity(self.p.len());
        for i in 0..n {
            let (xi, yi) = (params[2 * i] as f64, params[2 * i + 1] as f64);
            for j in i + 1..n {
                let dx = xi - params[2 * j] as f64;
                let dy = yi - params[2 * j + 1] as f64;
                weights.push(1.0 / (1.0 + dx * dx + dy * dy));
            }
        }
        let total = 2.0 * weights.iter().sum::<f64>();
        let q = |w: f64| (w / total).max(MACHINE_EPSILON);
        let error = with_error.then(|| {
            2.0 * self
                .p
                .iter()
                .zip(&weights)
                .map(|(&p, &w)| p * (p.max(MACHINE_EPSILON) / q(w)).ln())
                .sum::<f64>()
        });
        let mut grad = vec![0f64; 2 * n];
        let mut index = 0;
        for i in 0..n {
            for j in i + 1..n {
                let w = weights[index];
                let pq = (self.p[index] - q(w)) * w;
                index += 1;
                let dx = (params[2 * i] - params[2 * j]) as f64;
                let dy = (params[2 * i + 1] - params[2 * j + 1]) as f64;
                grad[2 * i] += pq * dx;
                grad[2 * i + 1] += pq * dy;
                grad[2 * j] -= pq * dx;
                grad[2 * j + 1] -= pq * dy;
            }
        }
        (error, grad.iter().map(|&g| (g as f32) * 4.0).collect())
    }
}

fn population_std(values: &[f32]) -> f32 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&x| x as f64).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    variance.sqrt() as f32
}
