//! The real `neuride` binary on archives: `info` (text and JSON) for .npz
//! and .npy, and `weights export|import|map` on the PyTorch MLP fixture.

mod common;

use std::path::{Path, PathBuf};

use common::{neuride, neuride_json, neuride_ok, neuride_refused, repo};

fn fixture(path: &str) -> PathBuf {
    repo().join("tests/fixtures").join(path)
}

fn npz_case(name: &str) -> PathBuf {
    repo().join("server/crates/npz/tests/data").join(name)
}

#[test]
fn info_json_has_exactly_the_documented_fields() {
    let path = fixture("dl/digits_mlp.npz");
    let value = neuride_json(&["info", path.to_str().unwrap(), "--format", "json"]);
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, vec!["arrays", "path"]);
    let first = &value["arrays"][0];
    let mut fields: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "byte_order",
            "dtype",
            "fortran_order",
            "inf",
            "max",
            "mean",
            "min",
            "name",
            "nan",
            "nbytes",
            "shape",
            "std"
        ]
    );
    assert_eq!(first["name"], "fc1.weight");
    assert_eq!(first["dtype"], "float32");
    assert_eq!(first["shape"], serde_json::json!([64, 64]));
    assert_eq!(first["byte_order"], "<");
    assert_eq!(first["nbytes"], 16384);
    assert_eq!(value["arrays"].as_array().unwrap().len(), 4);
}

#[test]
fn info_on_npy_and_on_broken_archives() {
    let npy = npz_case("saved_f8_fortran.npy");
    let (stdout, _) = neuride_ok(&["info", npy.to_str().unwrap()]);
    assert!(
        stdout.contains("saved_f8_fortran  float64  [2, 3]  F      >"),
        "{stdout}"
    );

    let nan = npz_case("nan_inf.npz");
    let (code, stdout, stderr) = neuride(&["info", nan.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "NaN is a warning");
    assert!(stderr.contains("warning[npz/nan]: array 'w' has 2 NaN value(s) out of 6"));
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (
            value["arrays"][0]["nan"].as_u64(),
            value["arrays"][0]["inf"].as_u64()
        ),
        (Some(2), Some(2))
    );

    let truncated = npz_case("truncated_claim_stored.npz");
    let (code, _, stderr) = neuride(&["info", truncated.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("error[npz/truncated]"), "{stderr}");

    let not_zip = npz_case("not_zip.npz");
    let stderr = neuride_refused(&["info", not_zip.to_str().unwrap()]);
    assert!(stderr.contains("not_zip.npz: cannot list the archive"));
}

/// `neuride weights ACTION INPUTS... -o OUTPUT MORE...`, which must
/// succeed: its stdout.
fn weights(action: &str, inputs: &[&Path], output: &Path, more: &[&str]) -> String {
    let mut words = vec!["weights", action];
    words.extend(inputs.iter().map(|path| path.to_str().unwrap()));
    words.extend(["-o", output.to_str().unwrap()]);
    words.extend(more);
    neuride_ok(&words).0
}

#[test]
fn export_import_round_trip_and_pytorch_state_dict() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("dl/digits_mlp.onnx");
    let exported = dir.path().join("w.npz");
    weights("export", &[&model], &exported, &[]);
    let reimported = dir.path().join("out.onnx");
    let stdout = weights("import", &[&model, &exported], &reimported, &[]);
    assert!(stdout.contains("replaced 4 initializers: fc1.weight, fc1.bias, fc2.weight, fc2.bias"));
    // Exporting the re-imported model gives the very same archive.
    let again = dir.path().join("again.npz");
    weights("export", &[&reimported], &again, &[]);
    assert_eq!(
        std::fs::read(&exported).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // The PyTorch state_dict imports by name.
    let state_dict = fixture("dl/digits_mlp.npz");
    let from_torch = dir.path().join("torch.onnx");
    weights("import", &[&model, &state_dict], &from_torch, &[]);
    assert_eq!(
        std::fs::read(&from_torch).unwrap(),
        std::fs::read(&reimported).unwrap()
    );
}

#[test]
fn mismatches_are_all_listed_and_nothing_is_written() {
    use neuride_npz::{Array, WriteOptions, write_npz};
    let dir = tempfile::tempdir().unwrap();
    let wrong_shape = Array::from_f32(vec![64, 10], &[0.0; 640]).unwrap();
    let wrong_dtype = Array::new(neuride_npz::DType::Float64, vec![64], vec![0u8; 512]).unwrap();
    let archive = dir.path().join("bad.npz");
    std::fs::write(
        &archive,
        write_npz(
            &[("fc2.weight", &wrong_shape), ("fc1.bias", &wrong_dtype)],
            WriteOptions::stored(),
        )
        .unwrap(),
    )
    .unwrap();
    let out = dir.path().join("out.onnx");
    let model = fixture("dl/digits_mlp.onnx");
    let (code, _, stderr) = neuride(&[
        "weights",
        "import",
        model.to_str().unwrap(),
        archive.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[weights/shape-mismatch]")
            && stderr.contains("error[weights/dtype-mismatch]"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn map_proposal_for_a_positional_archive_imports() {
    use neuride_npz::{WriteOptions, list, write_npz};
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("dl/digits_mlp.onnx");
    let state_dict_path = fixture("dl/digits_mlp.npz");
    let state_dict = std::fs::read(&state_dict_path).unwrap();
    let archive = list(&state_dict).unwrap();
    // NengoDL order and layout: arr_0 .. arr_3, kernels [in, out].
    let arrays: Vec<_> = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        .iter()
        .map(|n| {
            let a = archive.array(n).unwrap();
            a.to_standard(a.shape.len() == 2).unwrap()
        })
        .collect();
    let pairs: Vec<_> = ["arr_0", "arr_1", "arr_2", "arr_3"]
        .into_iter()
        .zip(arrays.iter())
        .collect();
    let positional = dir.path().join("nengo.npz");
    std::fs::write(
        &positional,
        write_npz(&pairs, WriteOptions::deflated()).unwrap(),
    )
    .unwrap();
    let map = dir.path().join("map.json");
    weights("map", &[&model, &positional], &map, &[]);
    let proposal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&map).unwrap()).unwrap();
    assert_eq!(
        proposal["arr_0"],
        serde_json::json!({"initializer": "fc1.weight", "transpose": true})
    );
    let out = dir.path().join("out.onnx");
    let map_option = ["--map", map.to_str().unwrap()];
    weights("import", &[&model, &positional], &out, &map_option);
    let torch = dir.path().join("torch.onnx");
    weights("import", &[&model, &state_dict_path], &torch, &[]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&torch).unwrap());
}

#[test]
fn weights_outputs_must_have_the_extension_they_are_written_as() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("dl/digits_mlp.onnx");
    let model = model.to_str().unwrap();
    let state_dict = fixture("dl/digits_mlp.npz");
    let state_dict = state_dict.to_str().unwrap();
    let wrong = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    for (args, path, writes) in [
        (
            vec!["export", model],
            wrong("w.npy"),
            ".npz, not a .npy file",
        ),
        (
            vec!["import", model, state_dict],
            wrong("model.npz"),
            ".onnx, not a .npz file",
        ),
        (
            vec!["map", model, state_dict],
            wrong("map"),
            ".json, not a file without an extension",
        ),
    ] {
        let mut words = vec!["weights"];
        words.extend(&args);
        words.extend(["-o", &path]);
        let (code, _, stderr) = neuride(&words);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "cannot write {path}: this command writes {writes}"
            )),
            "{args:?}: {stderr}"
        );
        assert!(!Path::new(&path).exists(), "{path} was written");
    }
}
