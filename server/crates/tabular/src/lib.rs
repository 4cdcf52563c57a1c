//! neuride-tabular: tabular rows turned into images (DeepInsight, Sharma et
//! al., Sci Rep 2019), so that a convolutional network — and a spiking one
//! converted from it — can use the spatial correlation of related features.
//!
//! Fitting ([`fit`]) places every *feature* (a column) on a 2-D plane from its
//! values over the training rows (PCA, kernel PCA or t-SNE), turns the plane
//! so that the minimum-area rectangle around the features' convex hull is
//! axis-aligned, and gives each feature a pixel of an `H x W` grid (binning,
//! or a linear sum assignment to the pixel centres). The result is an
//! [`ImageMap`]: the pixels, the settings and the `Norm2` scaling learnt on
//! the training rows; it is saved as JSON and applied to new rows
//! ([`ImageMap::transform`]), features sharing a pixel averaged.
//!
//! The reference is pyDeepInsight's `ImageTransformer` and `Norm2Scaler`;
//! where this crate differs (a closed convex hull, a balanced assignment
//! when there are more features than pixels) the docs of the function say so.
//!
//! It is pure: no IO, no printing, no panics on bad input (a typed
//! [`Error`]); long fits poll a cancel flag.

mod assign;
mod hull;
pub mod linalg;
pub mod lsa;
mod map;
pub mod pca;
mod points;
pub mod preview;
mod scale;
pub mod tsne;

pub use assign::{bin, lsa_assign, pixel_centres, scale_coordinates};
pub use hull::{convex_hull, minimum_bounding_rectangle};
pub use map::{Assign, ImageMap, Method, Options, fit};
pub use points::Points;
pub use scale::Norm2;

/// Why a map could not be fitted or applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// The rows are not what the operation needs (shape, values).
    #[error("{0}")]
    Data(String),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
    /// A saved map cannot be read or does not fit the rows.
    #[error("{0}")]
    Map(String),
    /// The cancel flag was set.
    #[error("cancelled")]
    Cancelled,
}
