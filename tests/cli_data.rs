//! `neuride data to-image` as a user runs it: a table of genes becomes
//! images (every other array kept), the map is saved and reused for new
//! rows, co-expressed genes land close together, and bad input is a clear
//! error naming the file.

#[path = "e2e/support.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn neuride(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(support::binary()).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every array of an archive: name, shape, values.
fn arrays(path: &Path) -> Vec<(String, Vec<u64>, Vec<f64>)> {
    let bytes = std::fs::read(path).unwrap();
    let archive = neuride_npz::list(&bytes).unwrap();
    archive
        .names()
        .map(|name| {
            let array = archive.array(name).unwrap();
            (
                name.to_owned(),
                array.shape.clone(),
                array.to_f64_vec().unwrap(),
            )
        })
        .collect()
}

#[test]
fn tables_become_images_with_a_reusable_map() {
    let dir = support::workspace(&["data/genes_modules.npz"]);
    let input = dir.path().join("data/genes_modules.npz");
    let output = dir.path().join("images.npz");
    let map = dir.path().join("map.json");
    let (code, stdout, stderr) = neuride(&[
        "data",
        "to-image",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--size",
        "12x12",
        "--method",
        "kpca",
        "--assign",
        "lsa",
        "--map",
        map.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("200 rows x 80 features -> 12x12 images (kpca lsa, fitted map)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("80 of 144 hold a feature, at most 1 per pixel"),
        "{stdout}"
    );

    let written = arrays(&output);
    let original = arrays(&input);
    let names: Vec<&str> = written.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["x", "y", "module"]);
    assert_eq!(written[0].1, vec![200, 1, 12, 12]);
    assert_eq!(written[1], original[1], "y is kept as it was");
    assert_eq!(written[2], original[2], "module is kept as it was");
    assert!(written[0].2.iter().all(|&v| (0.0..=1.0).contains(&v)));

    // The saved map: one pixel per feature; genes of one module sit together.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&map).unwrap()).unwrap();
    let pixels: Vec<[f64; 2]> = saved["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
        .collect();
    assert_eq!(pixels.len(), 80);
    assert_eq!(saved["size"], serde_json::json!([12, 12]));
    let module = &original[2].2;
    let (mut within, mut n_within, mut between, mut n_between) = (0.0, 0, 0.0, 0);
    for i in 0..80 {
        for j in i + 1..80 {
            if module[i] < 0.0 || module[j] < 0.0 {
                continue;
            }
            let d = ((pixels[i][0] - pixels[j][0]).powi(2) + (pixels[i][1] - pixels[j][1]).powi(2))
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
    let (within, between) = (within / n_within as f64, between / n_between as f64);
    assert!(
        within < 0.75 * between,
        "within {within:.2} px, between {between:.2} px"
    );

    // Reusing the map on the same rows gives the same images.
    let again = dir.path().join("again.npz");
    let (code, stdout, stderr) = neuride(&[
        "data",
        "to-image",
        input.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--from-map",
        map.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["fitted"], false);
    assert_eq!(report["size"], serde_json::json!([12, 12]));
    assert_eq!(arrays(&again)[0], written[0]);
}

#[test]
fn bad_input_is_an_error_that_names_the_file() {
    let dir = support::workspace(&["data/genes_modules.npz", "data/iris.npz"]);
    let input = dir.path().join("data/genes_modules.npz");
    let out = dir.path().join("out.npz");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "data",
            "to-image",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        neuride(&args)
    };
    let (code, _, stderr) = run(&["--inputs", "genes"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("genes_modules.npz: no array 'genes' (arrays: x, y, module)"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--size", "0x4"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--size must be HxW"), "{stderr}");
    let (code, _, stderr) = run(&["--method", "umap"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("method must be pca, kpca or tsne, found 'umap'"),
        "{stderr}"
    );
    let (code, _, stderr) =
        neuride(&["data", "to-image", input.to_str().unwrap(), "-o", "out.png"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("this command writes .npz"), "{stderr}");
    // A map fitted on other data does not fit these rows.
    let iris = dir.path().join("data/iris.npz");
    let map = dir.path().join("iris.json");
    let (code, _, stderr) = neuride(&[
        "data",
        "to-image",
        iris.to_str().unwrap(),
        "-o",
        dir.path().join("iris_img.npz").to_str().unwrap(),
        "--size",
        "2x2",
        "--map",
        map.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(&["--from-map", map.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the map places 4 features, the table has 80"),
        "{stderr}"
    );
    std::fs::write(&map, "{\"pixels\": 3}").unwrap();
    let (code, _, stderr) = run(&["--from-map", map.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("iris.json: expected a map"), "{stderr}");
    assert!(!out.exists(), "nothing is written on failure");
}
