//! Linear and kernel PCA of points (rows) to a few dimensions, with
//! scikit-learn's sign conventions so that embeddings match its
//! `PCA(n_components)` and `KernelPCA(n_components, kernel="rbf")`.

use crate::linalg::{dot, top_eigen};
use crate::{Error, Points};
use std::sync::atomic::{AtomicBool, Ordering};

/// The `k`-dimensional PCA scores of the `n` points of dimension `d`,
/// row-major `n x k`. Each component's sign makes the
/// largest-magnitude entry of its loading vector positive (scikit-learn's
/// `svd_flip(u_based_decision=False)`).
pub fn pca(points: Points, k: usize, cancel: &AtomicBool) -> Result<Vec<f64>, Error> {
    let (n, d) = (points.n(), points.d());
    let centred = centre_columns(points);
    let mut scores = vec![0.0; n * k];
    if n <= d {
        // Eigenvectors u of Xc Xc^T (n x n): scores u * sqrt(lambda), loadings Xc^T u / sqrt(lambda).
        let gram = gram_rows(points.with_values(&centred), cancel)?;
        let (values, vectors) = top_eigen(&gram, n, k, cancel)?;
        for (c, (value, u)) in values.iter().zip(&vectors).enumerate() {
            let s = value.max(0.0).sqrt();
            let loading: Vec<f64> = (0..d)
                .map(|j| (0..n).map(|i| centred[i * d + j] * u[i]).sum::<f64>())
                .collect();
            let sign = largest_sign(&loading);
            for i in 0..n {
                scores[i * k + c] = sign * u[i] * s;
            }
        }
    } else {
        // Eigenvectors v of Xc^T Xc (d x d): scores Xc v.
        let mut covariance = vec![0.0; d * d];
        for row in centred.chunks_exact(d) {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            for a in 0..d {
                let ra = row[a];
                for (b, &rb) in row.iter().enumerate().skip(a) {
                    covariance[a * d + b] += ra * rb;
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                covariance[a * d + b] = covariance[b * d + a];
            }
        }
        let (_, vectors) = top_eigen(&covariance, d, k, cancel)?;
        for (c, v) in vectors.iter().enumerate() {
            let sign = largest_sign(v);
            for (i, row) in centred.chunks_exact(d).enumerate() {
                scores[i * k + c] = sign * dot(row, v);
            }
        }
    }
    Ok(scores)
}

/// Kernel PCA with the RBF kernel `exp(-gamma |x_i - x_j|^2)`, `gamma` =
/// `1 / d` (scikit-learn's default): the centred kernel's leading
/// eigenvectors times the square roots of their eigenvalues, each sign
/// making the eigenvector's largest-magnitude entry positive.
pub fn kernel_pca(points: Points, k: usize, cancel: &AtomicBool) -> Result<Vec<f64>, Error> {
    let n = points.n();
    let gamma = 1.0 / points.d() as f64;
    let distances = squared_distances(points, cancel)?;
    let mut kernel: Vec<f64> = distances.iter().map(|&x| (-gamma * x).exp()).collect();
    // K - 1K/n - K1/n + 1K1/n^2
    let row_means: Vec<f64> = kernel
        .chunks_exact(n)
        .map(|row| row.iter().sum::<f64>() / n as f64)
        .collect();
    let total_mean = row_means.iter().sum::<f64>() / n as f64;
    for i in 0..n {
        for j in 0..n {
            kernel[i * n + j] += total_mean - row_means[i] - row_means[j];
        }
    }
    let (values, vectors) = top_eigen(&kernel, n, k, cancel)?;
    let mut scores = vec![0.0; n * k];
    for (c, (value, u)) in values.iter().zip(&vectors).enumerate() {
        let sign = largest_sign(u);
        let s = value.max(0.0).sqrt();
        for i in 0..n {
            scores[i * k + c] = sign * u[i] * s;
        }
    }
    Ok(scores)
}

/// All pairwise squared Euclidean distances of the rows, `n x n`.
pub fn squared_distances(points: Points, cancel: &AtomicBool) -> Result<Vec<f64>, Error> {
    let norms: Vec<f64> = points.rows().map(|r| dot(r, r)).collect();
    pairwise(points, cancel, |i, j, ri, rj| {
        (norms[i] + norms[j] - 2.0 * dot(ri, rj)).max(0.0)
    })
}

/// `measure(i, j, row_i, row_j)` for every pair of rows, as a symmetric
/// `n x n` matrix with a zero diagonal; `cancel` is read once per row.
pub(crate) fn pairwise(
    points: Points,
    cancel: &AtomicBool,
    measure: impl Fn(usize, usize, &[f64], &[f64]) -> f64,
) -> Result<Vec<f64>, Error> {
    let n = points.n();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let ri = points.row(i);
        for j in i + 1..n {
            let value = measure(i, j, ri, points.row(j));
            out[i * n + j] = value;
            out[j * n + i] = value;
        }
    }
    Ok(out)
}

/// The rows minus the mean row.
fn centre_columns(points: Points) -> Vec<f64> {
    let mut means = vec![0.0; points.d()];
    for row in points.rows() {
        for (m, &x) in means.iter_mut().zip(row) {
            *m += x;
        }
    }
    means.iter_mut().for_each(|m| *m /= points.n() as f64);
    points
        .rows()
        .flat_map(|row| row.iter().zip(&means).map(|(x, m)| x - m))
        .collect()
}

/// `X X^T` of the rows: their pairwise dot products, and each row's own
/// on the diagonal.
fn gram_rows(points: Points, cancel: &AtomicBool) -> Result<Vec<f64>, Error> {
    let n = points.n();
    let mut gram = pairwise(points, cancel, |_, _, ri, rj| dot(ri, rj))?;
    for (i, row) in points.rows().enumerate() {
        gram[i * n + i] = dot(row, row);
    }
    Ok(gram)
}

/// +1 or -1: the sign of the entry of largest magnitude (the first such).
fn largest_sign(v: &[f64]) -> f64 {
    let mut best = 0.0f64;
    for &x in v {
        if x.abs() > best.abs() {
            best = x;
        }
    }
    if best < 0.0 { -1.0 } else { 1.0 }
}
