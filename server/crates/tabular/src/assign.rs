//! From embedded coordinates to pixels: `bin` (each feature to the pixel its
//! scaled coordinates fall in; several may share one) and `lsa` (a linear
//! sum assignment of features to pixel centres that minimises the summed
//! squared distance; one feature per pixel while there are pixels enough).

use crate::Error;
use crate::lsa::linear_sum_assignment;
use std::sync::atomic::AtomicBool;

/// The largest cost matrix `lsa` builds (features x pixel slots).
const MAX_ASSIGNMENT_ENTRIES: usize = 64 << 20;

/// Each coordinate scaled to `[0, size]` along its axis (pyDeepInsight's
/// `scale_coordinates`); an axis on which every feature sits at one value
/// puts them all in its middle.
pub fn scale_coordinates(coords: &[[f64; 2]], size: [usize; 2]) -> Vec<[f64; 2]> {
    let mut low = [f64::INFINITY; 2];
    let mut high = [f64::NEG_INFINITY; 2];
    for c in coords {
        for axis in 0..2 {
            low[axis] = low[axis].min(c[axis]);
            high[axis] = high[axis].max(c[axis]);
        }
    }
    coords
        .iter()
        .map(|c| {
            let mut out = [0.0; 2];
            for axis in 0..2 {
                let range = high[axis] - low[axis];
                out[axis] = if range > 0.0 {
                    (c[axis] - low[axis]) / range * size[axis] as f64
                } else {
                    size[axis] as f64 / 2.0
                };
            }
            out
        })
        .collect()
}

/// `[row, column]` of the pixel each feature falls in (the maximum edge
/// belongs to the last pixel).
pub fn bin(coords: &[[f64; 2]], size: [usize; 2]) -> Vec<[usize; 2]> {
    scale_coordinates(coords, size)
        .iter()
        .map(|c| [0, 1].map(|axis| (c[axis].floor().max(0.0) as usize).min(size[axis] - 1)))
        .collect()
}

/// The centre of every pixel, row-major: `(row + 0.5, column + 0.5)`.
pub fn pixel_centres(size: [usize; 2]) -> Vec<[f64; 2]> {
    (0..size[0])
        .flat_map(|row| (0..size[1]).map(move |column| [row as f64 + 0.5, column as f64 + 0.5]))
        .collect()
}

/// `[row, column]` per feature from a linear sum assignment of the scaled
/// coordinates to the pixel centres, cost the squared distance (as
/// pyDeepInsight's `lsa`). With more features than pixels pyDeepInsight
/// clusters the features first; here every pixel offers `ceil(F / P)`
/// slots instead, so the assignment stays exact and balanced.
pub fn lsa_assign(
    coords: &[[f64; 2]],
    size: [usize; 2],
    cancel: &AtomicBool,
) -> Result<Vec<[usize; 2]>, Error> {
    let scaled = scale_coordinates(coords, size);
    let centres = pixel_centres(size);
    let pixels = centres.len();
    let slots = coords.len().div_ceil(pixels).max(1);
    let columns = pixels * slots;
    if coords.len().saturating_mul(columns) > MAX_ASSIGNMENT_ENTRIES {
        return Err(Error::Options(format!(
            "`lsa` for {} features on {} pixels needs a {} x {columns} cost matrix, more than {} entries: use `bin` or a larger image",
            coords.len(),
            pixels,
            coords.len(),
            MAX_ASSIGNMENT_ENTRIES
        )));
    }
    let mut cost = Vec::with_capacity(coords.len() * columns);
    for c in &scaled {
        for slot in 0..columns {
            let centre = centres[slot % pixels];
            cost.push((c[0] - centre[0]).powi(2) + (c[1] - centre[1]).powi(2));
        }
    }
    let pairs = linear_sum_assignment(&cost, coords.len(), columns, cancel)?;
    let mut out = vec![[0usize; 2]; coords.len()];
    for (feature, slot) in pairs {
        let pixel = slot % pixels;
        out[feature] = [pixel / size[1], pixel % size[1]];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binning_puts_the_extremes_in_the_corner_pixels() {
        let coords = [[0.0, 0.0], [1.0, 1.0], [0.5, 0.25]];
        assert_eq!(bin(&coords, [4, 4]), vec![[0, 0], [3, 3], [2, 1]]);
    }

    #[test]
    fn assignment_gives_every_feature_its_own_pixel() {
        let coords: Vec<[f64; 2]> = (0..9).map(|i| [0.0, i as f64 * 0.001]).collect();
        let pixels = lsa_assign(&coords, [3, 3], &AtomicBool::new(false)).unwrap();
        let mut unique = pixels.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 9, "{pixels:?}");
        // Binning piles them into one row.
        assert!(bin(&coords, [3, 3]).iter().all(|p| p[0] == 1));
    }

    #[test]
    fn more_features_than_pixels_share_them_evenly() {
        let coords: Vec<[f64; 2]> = (0..10).map(|i| [i as f64, (i * 7 % 10) as f64]).collect();
        let pixels = lsa_assign(&coords, [2, 2], &AtomicBool::new(false)).unwrap();
        let mut counts = [0; 4];
        for p in &pixels {
            counts[p[0] * 2 + p[1]] += 1;
        }
        assert!(counts.iter().all(|&c| (2..=3).contains(&c)), "{counts:?}");
    }
}
