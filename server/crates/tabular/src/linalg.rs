//! The few dense linear-algebra pieces the embeddings need: the leading
//! eigenpairs of a symmetric positive semi-definite matrix (subspace
//! iteration with Rayleigh-Ritz steps; small matrices by Jacobi rotations).
//! Matrices are row-major `Vec<f64>`.

use crate::Error;
use std::sync::atomic::{AtomicBool, Ordering};

/// Below this size the whole matrix is diagonalised by Jacobi rotations.
const JACOBI_MAX: usize = 48;
/// Extra vectors carried by subspace iteration: convergence goes as
/// `(lambda_{k+EXTRA} / lambda_k)^iterations`.
const EXTRA: usize = 10;
const MAX_ITERATIONS: usize = 20_000;
/// A Ritz pair is converged when `|A q - theta q| <= TOLERANCE * |theta_1|`.
const TOLERANCE: f64 = 1e-11;

/// The `k` largest eigenvalues (descending) of the symmetric `n x n` matrix
/// `a`, and their unit eigenvectors (`vectors[i]` belongs to `values[i]`).
/// Meant for positive semi-definite matrices (Gram and centred kernel
/// matrices), whose largest eigenvalues are also the largest in magnitude.
pub fn top_eigen(
    a: &[f64],
    n: usize,
    k: usize,
    cancel: &AtomicBool,
) -> Result<(Vec<f64>, Vec<Vec<f64>>), Error> {
    if a.len() != n * n {
        return Err(Error::Data(format!(
            "a {n} x {n} matrix needs {} values, found {}",
            n * n,
            a.len()
        )));
    }
    let k = k.min(n);
    if n <= JACOBI_MAX {
        let (values, vectors) = jacobi(a, n);
        return Ok((values[..k].to_vec(), vectors[..k].to_vec()));
    }
    let block = (k + EXTRA).min(n);
    // Deterministic start vectors (SplitMix64), so fits repeat exactly.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut q: Vec<Vec<f64>> = (0..block)
        .map(|_| (0..n).map(|_| splitmix(&mut state) - 0.5).collect())
        .collect();
    orthonormalize(&mut q);
    let mut z = multiply(a, n, &q);
    for _ in 0..MAX_ITERATIONS {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        // Rayleigh-Ritz on span(q): T = q^T A q, rotated into its eigenbasis.
        let mut t = vec![0.0; block * block];
        for i in 0..block {
            for j in i..block {
                let value = dot(&q[i], &z[j]);
                t[i * block + j] = value;
                t[j * block + i] = value;
            }
        }
        let (theta, w) = jacobi(&t, block);
        q = rotate(&q, &w);
        z = rotate(&z, &w);
        let scale = theta[0].abs().max(f64::MIN_POSITIVE);
        let converged = (0..k).all(|i| {
            let residual: f64 = z[i]
                .iter()
                .zip(&q[i])
                .map(|(zi, qi)| (zi - theta[i] * qi).powi(2))
                .sum::<f64>()
                .sqrt();
            residual <= TOLERANCE * scale
        });
        if converged {
            return Ok((theta[..k].to_vec(), q[..k].to_vec()));
        }
        q = z;
        orthonormalize(&mut q);
        z = multiply(a, n, &q);
    }
    Err(Error::Data(format!(
        "the leading {k} eigenvectors of a {n} x {n} matrix did not converge in {MAX_ITERATIONS} iterations (the leading eigenvalues are nearly equal)"
    )))
}

/// Every eigenpair of the small symmetric matrix `a` (cyclic Jacobi),
/// eigenvalues descending.
pub fn jacobi(a: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        let diagonal: f64 = (0..n).map(|i| m[i * n + i].powi(2)).sum();
        if off <= 1e-30 * diagonal.max(f64::MIN_POSITIVE) || off == 0.0 {
            break;
        }
        for p in 0..n {
            for r in p + 1..n {
                let apr = m[p * n + r];
                if apr == 0.0 {
                    continue;
                }
                let theta = (m[r * n + r] - m[p * n + p]) / (2.0 * apr);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let mkp = m[k * n + p];
                    let mkr = m[k * n + r];
                    m[k * n + p] = c * mkp - s * mkr;
                    m[k * n + r] = s * mkp + c * mkr;
                }
                for k in 0..n {
                    let mpk = m[p * n + k];
                    let mrk = m[r * n + k];
                    m[p * n + k] = c * mpk - s * mrk;
                    m[r * n + k] = s * mpk + c * mrk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkr = v[k * n + r];
                    v[k * n + p] = c * vkp - s * vkr;
                    v[k * n + r] = s * vkp + c * vkr;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| m[y * n + y].total_cmp(&m[x * n + x]));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let vectors = order
        .iter()
        .map(|&j| (0..n).map(|i| v[i * n + j]).collect())
        .collect();
    (values, vectors)
}

/// `a q_j` for every column `q_j`.
fn multiply(a: &[f64], n: usize, q: &[Vec<f64>]) -> Vec<Vec<f64>> {
    q.iter()
        .map(|column| a.chunks_exact(n).map(|row| dot(row, column)).collect())
        .collect()
}

/// The columns `sum_i q_i w[j][i]` for each eigenvector `w[j]`.
fn rotate(q: &[Vec<f64>], w: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = q.first().map_or(0, Vec::len);
    w.iter()
        .map(|weights| {
            let mut out = vec![0.0; n];
            for (qi, &weight) in q.iter().zip(weights) {
                for (o, &x) in out.iter_mut().zip(qi) {
                    *o += weight * x;
                }
            }
            out
        })
        .collect()
}

/// Modified Gram-Schmidt, twice (enough for full working precision).
fn orthonormalize(q: &mut [Vec<f64>]) {
    for _pass in 0..2 {
        for i in 0..q.len() {
            for j in 0..i {
                let (done, rest) = q.split_at_mut(i);
                let projection = dot(&done[j], &rest[0]);
                for (x, &y) in rest[0].iter_mut().zip(&done[j]) {
                    *x -= projection * y;
                }
            }
            let norm = dot(&q[i], &q[i]).sqrt();
            if norm > 0.0 {
                q[i].iter_mut().for_each(|x| *x /= norm);
            }
        }
    }
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A uniform number in [0, 1) from a SplitMix64 stream.
pub fn splitmix(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_psd(n: usize, rank: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let factors: Vec<Vec<f64>> = (0..rank)
            .map(|r| {
                (0..n)
                    .map(|_| (splitmix(&mut state) - 0.5) * (rank - r) as f64)
                    .collect()
            })
            .collect();
        let mut a = vec![0.0; n * n];
        for f in &factors {
            for i in 0..n {
                for j in 0..n {
                    a[i * n + j] += f[i] * f[j];
                }
            }
        }
        a
    }

    fn check_pairs(a: &[f64], n: usize, values: &[f64], vectors: &[Vec<f64>]) {
        for (value, vector) in values.iter().zip(vectors) {
            let av = multiply(a, n, std::slice::from_ref(vector));
            let residual: f64 = av[0]
                .iter()
                .zip(vector)
                .map(|(x, v)| (x - value * v).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(residual < 1e-8 * values[0], "residual {residual}");
            assert!((dot(vector, vector) - 1.0).abs() < 1e-10);
        }
    }

    #[test]
    fn jacobi_and_subspace_iteration_agree_on_the_leading_pairs() {
        for n in [5, 40, 120] {
            let a = random_psd(n, 12, n as u64);
            let (values, vectors) = top_eigen(&a, n, 2, &AtomicBool::new(false)).unwrap();
            check_pairs(&a, n, &values, &vectors);
            let (all, _) = jacobi(&a, n);
            assert!(
                (values[0] - all[0]).abs() < 1e-8 * all[0],
                "{values:?} {all:?}"
            );
            assert!((values[1] - all[1]).abs() < 1e-8 * all[0]);
            assert!(values[0] >= values[1]);
        }
    }

    #[test]
    fn a_wrong_size_is_an_error_not_a_panic() {
        let error = top_eigen(&[1.0, 2.0], 2, 1, &AtomicBool::new(false)).unwrap_err();
        assert!(error.to_string().contains("needs 4 values"), "{error}");
    }
}
