//! The point of DeepInsight: features that move together (one co-expressed
//! module) end up close on the image, closer than features of different
//! modules, whichever embedding and assignment places them.

mod support;

use neuride_tabular::{Assign, Method, Options, fit};
use std::sync::atomic::AtomicBool;

/// Mean pixel distance between features of one module, and between
/// features of different modules (features in no module left out).
fn distances(pixels: &[[usize; 2]], module: &[i64]) -> (f64, f64) {
    let (mut within, mut n_within, mut between, mut n_between) = (0.0, 0, 0.0, 0);
    for i in 0..pixels.len() {
        for j in i + 1..pixels.len() {
            if module[i] < 0 || module[j] < 0 {
                continue;
            }
            let d = ((pixels[i][0] as f64 - pixels[j][0] as f64).powi(2)
                + (pixels[i][1] as f64 - pixels[j][1] as f64).powi(2))
            .sqrt();
            if module[i] == module[j] {
                within += d;
                n_within += 1;
            } else {
                between += d;
                n_between += 1;
            }
        }
    }
    (within / n_within as f64, between / n_between as f64)
}

#[test]
fn features_of_one_module_sit_closer_than_features_of_different_modules() {
    let table = support::genes();
    for method in [Method::Pca, Method::Kpca, Method::Tsne] {
        for assign in [Assign::Bin, Assign::Lsa] {
            let map = table.map(method, assign);
            let (within, between) = distances(&map.pixels, &table.module);
            eprintln!(
                "{} {}: within a module {within:.2} px, between modules {between:.2} px",
                method.name(),
                assign.name()
            );
            assert!(
                within < 0.75 * between,
                "{} {}: within {within:.2} px is not well below between {between:.2} px",
                method.name(),
                assign.name()
            );
        }
    }
}

#[test]
fn a_map_applies_to_new_rows_and_round_trips_through_json() {
    let table = support::genes();
    let train = &table.x[..150 * table.features];
    let test = &table.x[150 * table.features..];
    let map = fit(
        train,
        table.features,
        &Options::default(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let again = neuride_tabular::ImageMap::from_json(&map.to_json()).unwrap();
    assert_eq!(
        (&again.pixels, again.size, again.method, again.assign),
        (&map.pixels, map.size, map.method, map.assign)
    );
    let images = again.transform(test).unwrap();
    let direct = map.transform(test).unwrap();
    assert!(
        images
            .iter()
            .zip(&direct)
            .all(|(a, b)| (a - b).abs() < 1e-6)
    );
    assert_eq!(images.len(), 50 * 16 * 16);
    assert!(images.iter().all(|&v| (0.0..=1.0).contains(&v)));
    let json: serde_json::Value = serde_json::from_str(&map.to_json()).unwrap();
    assert_eq!(json["pixels"].as_array().unwrap().len(), table.features);
    assert_eq!(json["size"], serde_json::json!([16, 16]));
}

#[test]
fn bad_rows_and_maps_are_errors_that_say_what_was_expected() {
    let cancel = AtomicBool::new(false);
    let error = fit(&[1.0, 2.0, 3.0], 2, &Options::default(), &cancel).unwrap_err();
    assert!(error.to_string().contains("rows of 2 features"), "{error}");
    let error = fit(&[1.0, f64::NAN, 3.0, 4.0], 2, &Options::default(), &cancel).unwrap_err();
    assert!(
        error.to_string().contains("row 0, feature 1 is NaN"),
        "{error}"
    );
    let error = neuride_tabular::ImageMap::from_json("{\"pixels\": [[0, 20]], \"size\": [4, 4], \"method\": \"pca\", \"assign\": \"bin\", \"norm2\": null, \"coordinates\": []}").unwrap_err();
    assert!(
        error.to_string().contains("outside the 4x4 image"),
        "{error}"
    );
    let error = neuride_tabular::ImageMap::from_json("[1, 2]").unwrap_err();
    assert!(error.to_string().contains("expected a map"), "{error}");
    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    let table = support::genes();
    let options = Options {
        method: Method::Tsne,
        ..Options::default()
    };
    assert_eq!(
        fit(&table.x, table.features, &options, &cancel).unwrap_err(),
        neuride_tabular::Error::Cancelled
    );
}
