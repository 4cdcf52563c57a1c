//! `Norm2` scaling (DeepInsight's supplementary "norm-2", pyDeepInsight's
//! `Norm2Scaler`): `log(x + |min_j| + 1)` with each feature's training
//! minimum `min_j`, divided by the largest such value over the training
//! rows, clipped to [0, 1] for new rows.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Norm2 {
    /// Each feature's minimum over the training rows.
    pub min: Vec<f64>,
    /// The largest `log(x + |min| + 1)` over the training rows.
    pub max: f64,
}

impl Norm2 {
    /// Learns the minima and the maximum from `rows` (`n x features`).
    pub fn fit(rows: &[f64], features: usize) -> Norm2 {
        let mut min = vec![f64::INFINITY; features];
        for row in rows.chunks_exact(features) {
            for (m, &x) in min.iter_mut().zip(row) {
                *m = m.min(x);
            }
        }
        let max = rows
            .chunks_exact(features)
            .flat_map(|row| row.iter().zip(&min).map(|(&x, m)| (x + m.abs() + 1.0).ln()))
            .fold(f64::NEG_INFINITY, f64::max);
        Norm2 { min, max }
    }

    /// Scales `rows` in place.
    pub fn apply(&self, rows: &mut [f64]) {
        let features = self.min.len();
        let max = if self.max.is_finite() && self.max > 0.0 {
            self.max
        } else {
            1.0
        };
        for row in rows.chunks_exact_mut(features) {
            for (x, m) in row.iter_mut().zip(&self.min) {
                let logged = (*x + m.abs() + 1.0).ln();
                *x = if logged.is_nan() {
                    0.0
                } else {
                    (logged.max(0.0) / max).clamp(0.0, 1.0)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_rows_land_in_zero_to_one_and_new_rows_are_clipped() {
        let rows = [0.0, -2.0, 3.0, 5.0];
        let scale = Norm2::fit(&rows, 2);
        assert_eq!(scale.min, vec![0.0, -2.0]);
        let mut scaled = rows;
        scale.apply(&mut scaled);
        assert_eq!(scaled[0], 0.0);
        assert!((scaled[3] - 1.0).abs() < 1e-12);
        let mut new = [100.0, -10.0];
        scale.apply(&mut new);
        assert_eq!(new, [1.0, 0.0]);
    }
}
