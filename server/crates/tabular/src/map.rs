//! Fitting a feature-to-pixel map on training rows and applying it.

use crate::assign::{bin, lsa_assign};
use crate::hull::{convex_hull, minimum_bounding_rectangle, rotate};
use crate::pca::{kernel_pca, pca};
use crate::scale::Norm2;
use crate::tsne::{TsneOptions, tsne};
use crate::{Error, Points};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// How features are placed on the plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Principal components of the features' values over the rows.
    #[default]
    Pca,
    /// Kernel PCA, RBF kernel with `gamma = 1 / rows`.
    Kpca,
    /// Exact t-SNE on cosine distances.
    Tsne,
}

/// How embedded features get pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assign {
    #[default]
    Bin,
    Lsa,
}

impl Method {
    pub fn parse(text: &str) -> Result<Method, Error> {
        match text {
            "pca" => Ok(Method::Pca),
            "kpca" => Ok(Method::Kpca),
            "tsne" => Ok(Method::Tsne),
            other => Err(Error::Options(format!(
                "method must be pca, kpca or tsne, found '{other}'"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Method::Pca => "pca",
            Method::Kpca => "kpca",
            Method::Tsne => "tsne",
        }
    }
}

impl Assign {
    pub fn parse(text: &str) -> Result<Assign, Error> {
        match text {
            "bin" => Ok(Assign::Bin),
            "lsa" => Ok(Assign::Lsa),
            other => Err(Error::Options(format!(
                "assign must be bin or lsa, found '{other}'"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Assign::Bin => "bin",
            Assign::Lsa => "lsa",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// `[height, width]` in pixels.
    pub size: [usize; 2],
    pub method: Method,
    pub assign: Assign,
    /// Norm2-scale the rows (learnt on the training rows) before fitting
    /// and transforming.
    pub norm2: bool,
    pub tsne: TsneOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            size: [16, 16],
            method: Method::Pca,
            assign: Assign::Bin,
            norm2: true,
            tsne: TsneOptions::default(),
        }
    }
}

/// A fitted map: which pixel each feature goes to, and how rows are scaled.
/// Saved as JSON (`{"pixels": [[row, col], ...], "size": [h, w], ...}`)
/// and reused for new rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageMap {
    /// `[row, column]` per feature, in feature order.
    pub pixels: Vec<[usize; 2]>,
    /// `[height, width]`.
    pub size: [usize; 2],
    pub method: Method,
    pub assign: Assign,
    /// The Norm2 scaling learnt on the training rows (`null`: none).
    pub norm2: Option<Norm2>,
    /// Each feature's embedded position after the rotation (before pixels).
    pub coordinates: Vec<[f64; 2]>,
}

/// Fits a map on `rows` (`n x features`, row-major).
pub fn fit(
    rows: &[f64],
    features: usize,
    options: &Options,
    cancel: &AtomicBool,
) -> Result<ImageMap, Error> {
    let n = check_rows(rows, features)?;
    if n < 2 {
        return Err(Error::Data(format!(
            "fitting a map needs at least 2 rows, found {n}"
        )));
    }
    if options.size[0] == 0 || options.size[1] == 0 {
        return Err(Error::Options(format!(
            "the image size must be at least 1x1, found {}x{}",
            options.size[0], options.size[1]
        )));
    }
    let mut scaled = rows.to_vec();
    let norm2 = options.norm2.then(|| Norm2::fit(rows, features));
    if let Some(norm2) = &norm2 {
        norm2.apply(&mut scaled);
    }
    // Features are the points: one per column, its values over the rows.
    let points: Vec<f64> = (0..features)
        .flat_map(|f| scaled.chunks_exact(features).map(move |row| row[f]))
        .collect();
    let points = Points::new(&points, features, n)?;
    let embedded = match options.method {
        Method::Pca => pca(points, 2, cancel)?,
        Method::Kpca => kernel_pca(points, 2, cancel)?,
        Method::Tsne => tsne(points, &options.tsne, cancel)?.points,
    };
    let embedded: Vec<[f64; 2]> = embedded.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
    let rotation = minimum_bounding_rectangle(&convex_hull(&embedded));
    let coordinates: Vec<[f64; 2]> = embedded.iter().map(|&p| rotate(&rotation, p)).collect();
    let pixels = match options.assign {
        Assign::Bin => bin(&coordinates, options.size),
        Assign::Lsa => lsa_assign(&coordinates, options.size, cancel)?,
    };
    Ok(ImageMap {
        pixels,
        size: options.size,
        method: options.method,
        assign: options.assign,
        norm2,
        coordinates,
    })
}

impl ImageMap {
    pub fn features(&self) -> usize {
        self.pixels.len()
    }

    /// The images of `rows` (`n x features`): `n x height x width`, row-major,
    /// each pixel the mean of its features (0 where none).
    pub fn transform(&self, rows: &[f64]) -> Result<Vec<f32>, Error> {
        let features = self.features();
        let n = check_rows(rows, features)?;
        let mut scaled = rows.to_vec();
        if let Some(norm2) = &self.norm2 {
            norm2.apply(&mut scaled);
        }
        let [height, width] = self.size;
        let mut counts = vec![0u32; height * width];
        for &[row, column] in &self.pixels {
            counts[row * width + column] += 1;
        }
        let mut images = vec![0f32; n * height * width];
        for (row, image) in scaled
            .chunks_exact(features)
            .zip(images.chunks_exact_mut(height * width))
        {
            let mut sums = vec![0f64; height * width];
            for (&x, &[r, c]) in row.iter().zip(&self.pixels) {
                sums[r * width + c] += x;
            }
            for ((pixel, sum), &count) in image.iter_mut().zip(&sums).zip(&counts) {
                if count > 0 {
                    *pixel = (sum / count as f64) as f32;
                }
            }
        }
        Ok(images)
    }

    /// Reads a saved map, checking that every pixel lies inside the image.
    pub fn from_json(text: &str) -> Result<ImageMap, Error> {
        let map: ImageMap = serde_json::from_str(text).map_err(|e| {
            Error::Map(format!(
                "expected a map {{\"pixels\": [[row, col], ...], \"size\": [h, w], ...}}: {e}"
            ))
        })?;
        let [height, width] = map.size;
        if let Some((feature, pixel)) = map
            .pixels
            .iter()
            .enumerate()
            .find(|(_, p)| p[0] >= height || p[1] >= width)
        {
            return Err(Error::Map(format!(
                "feature {feature} is at pixel {pixel:?}, outside the {height}x{width} image"
            )));
        }
        if let Some(norm2) = &map.norm2
            && norm2.min.len() != map.pixels.len()
        {
            return Err(Error::Map(format!(
                "the scaling has {} feature minima for {} features",
                norm2.min.len(),
                map.pixels.len()
            )));
        }
        Ok(map)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The number of rows, when `rows` holds whole rows of finite values.
fn check_rows(rows: &[f64], features: usize) -> Result<usize, Error> {
    if features == 0 {
        return Err(Error::Data(
            "expected at least one feature, found none".to_owned(),
        ));
    }
    if !rows.len().is_multiple_of(features) {
        return Err(Error::Data(format!(
            "expected rows of {features} features, found {} values ({} rows and {} left over)",
            rows.len(),
            rows.len() / features,
            rows.len() % features
        )));
    }
    if let Some(index) = rows.iter().position(|x| !x.is_finite()) {
        return Err(Error::Data(format!(
            "row {}, feature {} is {} (expected finite numbers)",
            index / features,
            index % features,
            rows[index]
        )));
    }
    Ok(rows.len() / features)
}
