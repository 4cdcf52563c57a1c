//! The convex hull of the embedded features and the minimum-area rectangle
//! around it, whose rotation makes the image use its pixels best.

use std::f64::consts::FRAC_PI_2;

/// The hull's vertices, counter-clockwise, without repeats (Andrew's
/// monotone chain). Collinear points on an edge are left out.
pub fn convex_hull(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut sorted: Vec<[f64; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    sorted.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    sorted.dedup();
    if sorted.len() < 3 {
        return sorted;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(2 * sorted.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 {
            Box::new(sorted.iter())
        } else {
            Box::new(sorted.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The rotation `R` (row-major 2 x 2, `[[cos, sin], [-sin, cos]]`: a turn by
/// `-angle`) that makes the minimum-area bounding rectangle of `hull`
/// axis-aligned: one candidate angle per hull edge (modulo 90 degrees), the
/// smallest area wins, the smallest angle among equals (pyDeepInsight's
/// `_minimum_bounding_rectangle`). Two deliberate differences from
/// pyDeepInsight 0.2.3: it turns by `+angle` (`[[cos, -sin], [sin, cos]]`),
/// which takes an edge at `angle` to `2 angle` instead of to the axis (a
/// 4 x 1 rectangle tilted by 30 degrees comes out with a box of area 11.4
/// instead of 4), and it leaves out the edge from the last vertex back to
/// the first. A hull of fewer than three points gives the identity.
pub fn minimum_bounding_rectangle(hull: &[[f64; 2]]) -> [[f64; 2]; 2] {
    if hull.len() < 3 {
        return [[1.0, 0.0], [0.0, 1.0]];
    }
    let mut angles: Vec<f64> = (0..hull.len())
        .map(|i| {
            let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
            (b[1] - a[1]).atan2(b[0] - a[0]).rem_euclid(FRAC_PI_2).abs()
        })
        .collect();
    angles.sort_by(f64::total_cmp);
    angles.dedup();
    let mut best: Option<(f64, [[f64; 2]; 2])> = None;
    for angle in angles {
        let (sin, cos) = angle.sin_cos();
        let rotation = [[cos, sin], [-sin, cos]];
        let (mut min_x, mut max_x) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut min_y, mut max_y) = (f64::INFINITY, f64::NEG_INFINITY);
        for &p in hull {
            let [x, y] = rotate(&rotation, p);
            min_x = min_x.min(x);
            max_x = max_x.max(x);
            min_y = min_y.min(y);
            max_y = max_y.max(y);
        }
        let area = (max_x - min_x) * (max_y - min_y);
        if best.is_none_or(|(smallest, _)| area < smallest) {
            best = Some((area, rotation));
        }
    }
    best.map_or([[1.0, 0.0], [0.0, 1.0]], |(_, rotation)| rotation)
}

/// `R p`.
pub fn rotate(rotation: &[[f64; 2]; 2], p: [f64; 2]) -> [f64; 2] {
    [
        rotation[0][0] * p[0] + rotation[0][1] * p[1],
        rotation[1][0] * p[0] + rotation[1][1] * p[1],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hull_of_a_square_with_inner_points_is_its_corners() {
        let points = [
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.5, 0.5],
            [0.2, 0.7],
            [0.5, 0.0],
        ];
        let hull = convex_hull(&points);
        assert_eq!(hull, vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    }

    #[test]
    fn a_tilted_rectangle_is_turned_upright() {
        // A 4 x 1 rectangle turned by 30 degrees.
        let (sin, cos) = (30f64.to_radians()).sin_cos();
        let corners = [[0.0, 0.0], [4.0, 0.0], [4.0, 1.0], [0.0, 1.0]]
            .map(|[x, y]| [cos * x - sin * y, sin * x + cos * y]);
        let rotation = minimum_bounding_rectangle(&convex_hull(&corners));
        let turned: Vec<[f64; 2]> = corners.iter().map(|&p| rotate(&rotation, p)).collect();
        let width = turned.iter().map(|p| p[0]).fold(f64::MIN, f64::max)
            - turned.iter().map(|p| p[0]).fold(f64::MAX, f64::min);
        let height = turned.iter().map(|p| p[1]).fold(f64::MIN, f64::max)
            - turned.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
        assert!((width * height - 4.0).abs() < 1e-9, "{width} x {height}");
    }

    #[test]
    fn degenerate_input_gives_the_identity() {
        assert_eq!(
            minimum_bounding_rectangle(&convex_hull(&[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])),
            [[1.0, 0.0], [0.0, 1.0]]
        );
        assert!(convex_hull(&[[f64::NAN, 0.0]]).is_empty());
    }
}
