//! The maps and images match pyDeepInsight's (0.2.3, with its bounding
//! rectangle's rotation fixed: see scripts/regen_deepinsight_reference.py)
//! on the gene-module fixture: same pixel per feature, same images.

mod support;

use neuride_tabular::{Assign, Method};

fn check(case: &str, method: Method, assign: Assign) {
    let table = support::genes();
    let reference = support::npz("tests/fixtures/reference/deepinsight.npz");
    let map = table.map(method, assign);

    let (_, rotated) = support::array(&reference, &format!("{case}_rotated"));
    let scale = rotated.iter().fold(0f64, |m, x| m.max(x.abs()));
    for (feature, (ours, theirs)) in map
        .coordinates
        .iter()
        .zip(rotated.chunks_exact(2))
        .enumerate()
    {
        for axis in 0..2 {
            assert!(
                (ours[axis] - theirs[axis]).abs() <= 1e-6 * scale,
                "{case}: feature {feature} turned to {ours:?}, pyDeepInsight {theirs:?}"
            );
        }
    }

    let (_, pixels) = support::array(&reference, &format!("{case}_pixels"));
    let theirs: Vec<[usize; 2]> = pixels
        .chunks_exact(2)
        .map(|p| [p[0] as usize, p[1] as usize])
        .collect();
    assert_eq!(map.pixels, theirs, "{case}: pixels differ");

    let (shape, images) = support::array(&reference, &format!("{case}_images"));
    assert_eq!(shape, vec![table.rows as u64, 12, 12]);
    let ours = map.transform(&table.x).unwrap();
    let worst = ours
        .iter()
        .zip(&images)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0f64, f64::max);
    assert!(worst < 1e-6, "{case}: images differ by up to {worst}");
}

#[test]
fn pca_with_binning_matches_pydeepinsight() {
    check("pca_bin", Method::Pca, Assign::Bin);
}

#[test]
fn kernel_pca_with_binning_matches_pydeepinsight() {
    check("kpca_bin", Method::Kpca, Assign::Bin);
}

#[test]
fn pca_with_assignment_matches_pydeepinsight() {
    check("pca_lsa", Method::Pca, Assign::Lsa);
}
