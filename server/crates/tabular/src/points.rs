//! Points to embed: `n` rows of `d` values, row-major, checked once.

use crate::Error;

/// `n` points of `d` values each, row-major (what PCA, kernel PCA and
/// t-SNE embed). Made by [`Points::new`], so the shape always fits.
#[derive(Clone, Copy, Debug)]
pub struct Points<'a> {
    values: &'a [f64],
    n: usize,
    d: usize,
}

impl<'a> Points<'a> {
    /// `values` as `n` points of `d` values: an error unless it holds
    /// exactly that many, and at least one point of at least one value.
    pub fn new(values: &'a [f64], n: usize, d: usize) -> Result<Points<'a>, Error> {
        if values.len() != n * d || n == 0 || d == 0 {
            return Err(Error::Data(format!(
                "expected {n} points of {d} values ({} in all), found {} values",
                n * d,
                values.len()
            )));
        }
        Ok(Points { values, n, d })
    }

    /// Other values of the same shape (the points centred, normalised...).
    pub(crate) fn with_values<'b>(&self, values: &'b [f64]) -> Points<'b> {
        debug_assert_eq!(values.len(), self.values.len());
        Points {
            values,
            n: self.n,
            d: self.d,
        }
    }

    /// How many points.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The values of each point.
    pub fn d(&self) -> usize {
        self.d
    }

    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    pub fn rows(&self) -> std::slice::ChunksExact<'a, f64> {
        self.values.chunks_exact(self.d)
    }

    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.values[i * self.d..(i + 1) * self.d]
    }
}
