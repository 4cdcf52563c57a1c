//! Running `.neuro` simulate and infer blocks on the repository's example
//! workspaces and fixtures (copies with absolute paths and fewer steps or
//! samples, written to a temporary folder, so the tests take seconds).

use neuride_convert::{ConvertOptions, Normalize, SimOptions, SimulateOptions};
use neuride_ide::run::{self, RunError, RunKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn read(path: &Path) -> neuride_ide::neuro::NeuroAnalysis {
    run::read_neuro(path).unwrap()
}

fn no_progress() -> impl FnMut(neuride_convert::Progress) {
    |_| {}
}

/// A copy of an example's `.neuro` file in `dir`: paths made absolute, every
/// `steps = N` set to `steps` and followed by `limit = limit` (existing limits
/// dropped).
fn example_copy(dir: &Path, example: &str, steps: usize, limit: usize) -> PathBuf {
    let source = repo().join("examples").join(example);
    let base = source.parent().unwrap().canonicalize().unwrap();
    let text = std::fs::read_to_string(&source).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("limit = ") {
            continue;
        }
        if trimmed.starts_with("steps = ") {
            out.push_str(&format!("    steps = {steps}\n    limit = {limit}\n"));
            continue;
        }
        let line = line
            .replace("onnx(\"", &format!("onnx(\"{}/", base.display()))
            .replace("npz(\"", &format!("npz(\"{}/", base.display()));
        out.push_str(&line);
        out.push('\n');
    }
    let path = dir.join(Path::new(example).file_name().unwrap());
    std::fs::write(&path, out).unwrap();
    path
}

fn fixture(relative: &str) -> String {
    repo()
        .join("tests/fixtures")
        .join(relative)
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The converted digits MLP, 20 steps on 100 samples, as the CLI's defaults
/// would run it (the fixture says how).
fn converted_mlp() -> PathBuf {
    PathBuf::from(fixture("neuro/digits_mlp_converted.neuro"))
}

#[test]
fn a_converted_network_runs_as_the_convert_job_does() {
    let path = converted_mlp();
    let cancel = AtomicBool::new(false);
    let mut batches = 0;
    let run =
        run::simulate_neuro(&read(&path), Some("snn"), &mut |_| batches += 1, &cancel).unwrap();
    assert_eq!(batches, 4, "100 samples in batches of 32");
    assert_eq!(run.network_kind, "converted");
    assert_eq!((run.report.sim.samples, run.report.sim.steps), (100, 20));
    assert_eq!(run.record, ["accuracy", "rates", "synops"]);
    let accuracy = run.report.sim.accuracy.unwrap();
    assert!(accuracy > 0.9, "converted digits MLP: {accuracy}");

    // The same job with the options the CLI builds for the .onnx file.
    let model = neuride_onnx::load::load_file(Path::new(&fixture("dl/digits_mlp.onnx"))).unwrap();
    let test = Path::new(&fixture("data/digits_test.npz")).to_owned();
    let data = run::read_array(&test, "x").unwrap();
    let labels = run::read_labels(&test, "y").unwrap();
    let calib = run::read_array(Path::new(&fixture("data/digits_calib.npz")), "x").unwrap();
    let opts = SimulateOptions {
        convert: ConvertOptions {
            normalize: Normalize::Percentile { p: 99.9 },
            ..ConvertOptions::default()
        },
        sim: SimOptions {
            steps: 20,
            dt: 0.001,
            batch: 32,
            ..SimOptions::default()
        },
        limit: Some(100),
    };
    let direct = neuride_convert::simulate(
        &model.proto,
        None,
        &data,
        labels.as_deref(),
        Some(&calib),
        &opts,
        &mut no_progress(),
        &cancel,
    )
    .unwrap();
    assert_eq!(run.report.sim.predictions, direct.sim.predictions);
    assert_eq!(run.report.sim.accuracy, direct.sim.accuracy);
    assert_eq!(run.report.scales, direct.scales);

    // The JSON carries the CLI's fields and which block ran.
    let json = serde_json::to_value(&run).unwrap();
    let run_fields = ["network", "dataset"];
    for key in neuride_convert::SimulateReport::JSON_FIELDS
        .iter()
        .chain(&run_fields)
    {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
}

#[test]
fn the_examples_simulate_blocks_run() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let digits = example_copy(dir.path(), "digits-snn/digits.neuro", 20, 100);
    // The converted CNN keeps the ANN's accuracy.
    let snn =
        run::simulate_neuro(&read(&digits), Some("snn"), &mut no_progress(), &cancel).unwrap();
    let (accuracy, ann) = (
        snn.report.sim.accuracy.unwrap(),
        snn.report.ann_accuracy.unwrap(),
    );
    assert!(
        accuracy > 0.85 && (accuracy - ann).abs() <= 0.03,
        "{accuracy} vs ANN {ann}"
    );
    assert!(
        snn.notes.iter().any(|n| n.contains("raster")),
        "{:?}",
        snn.notes
    );
    // The written CNN (Leaky neurons on the ANN's weights, rate coded).
    let written =
        run::simulate_neuro(&read(&digits), Some("written"), &mut no_progress(), &cancel).unwrap();
    assert_eq!(written.network_kind, "written");
    assert_eq!(
        (written.report.sim.samples, written.report.sim.steps),
        (100, 20)
    );
    assert_eq!(written.report.neuron, "leaky");
    let layers: Vec<&str> = written
        .report
        .sim
        .rates
        .iter()
        .map(|r| r.layer.as_str())
        .collect();
    // The rate-coded input spikes too.
    assert_eq!(layers, ["x", "s1", "s2", "y"]);
    assert!(written.report.sim.synops > 0.0 && written.report.sim.macs > 0.0);
    assert!(written.report.sim.accuracy.unwrap() > 0.15, "above chance");

    // Both hand-written MLPs (the first block when no name is given).
    let mlp = example_copy(dir.path(), "handwritten-snn/mlp.neuro", 30, 100);
    let first = run::simulate_neuro(&read(&mlp), None, &mut no_progress(), &cancel).unwrap();
    assert_eq!(first.network, "lif_mlp");
    assert_eq!(first.report.neuron, "lif, if");
    assert_eq!(first.report.sim.encode, "rate");
    assert_eq!(first.report.sim.decode, "count");
    let leaky =
        run::simulate_neuro(&read(&mlp), Some("leaky_mlp"), &mut no_progress(), &cancel).unwrap();
    assert_eq!(leaky.report.sim.encode, "delta");
    assert_eq!(leaky.report.sim.decode, "membrane");
    assert_eq!(leaky.report.sim.accuracy_per_step.len(), 30);
}

/// The digits MLP written on the weights `m`, `activation` between its two
/// dense layers.
fn written_mlp(name: &str, activation: &str) -> String {
    format!(
        r#"network {name} {{
    input image: f32[1, 8, 8]
    layer flat = flatten(image)
    layer h = dense(flat, out: 64, weight: m["fc1.weight"], bias: m["fc1.bias"])
    layer a = {activation}(h)
    output logits = dense(a, out: 10, weight: m["fc2.weight"], bias: m["fc2.bias"])
}}
"#
    )
}

/// Written networks are lowered layer by layer: the same MLP and CNN written
/// with `relu` give the ANN's accuracy, and with `if` neurons (current in,
/// membrane out) they stay close to it.
#[test]
fn written_networks_compute_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let text = format!(
        r#"weights m = npz("{mlp}")
weights c = npz("{cnn}")
dataset test = npz("{test}", x: "x", y: "y")

{relu_mlp}
{if_mlp}
network relu_cnn {{
    input x: f32[1, 8, 8]
    layer c1 = conv2d(x, out: 8, kernel: 3, padding: 1, weight: c["conv1.weight"])
    layer r1 = relu(c1)
    layer p1 = avgpool(r1, kernel: 2)
    layer c2 = conv2d(p1, out: 16, kernel: 3, padding: 1, weight: c["conv2.weight"])
    layer r2 = relu(c2)
    layer p2 = avgpool(r2, kernel: 2)
    layer f = flatten(p2)
    output y = dense(f, out: 10, weight: c["fc.weight"])
}}

simulate relu_mlp on test {{
    steps = 2
    encode = current
}}

simulate if_mlp on test {{
    steps = 40
    encode = current
    decode = membrane
    limit = 150
}}

simulate relu_cnn on test {{
    steps = 2
    encode = current
}}
"#,
        relu_mlp = written_mlp("relu_mlp", "relu"),
        if_mlp = written_mlp("if_mlp", "if"),
        mlp = fixture("dl/digits_mlp.npz"),
        cnn = fixture("dl/digits_cnn.npz"),
        test = fixture("data/digits_test.npz"),
    );
    let path = write(dir.path(), "written.neuro", &text);
    let accuracy = |name: &str| {
        run::simulate_neuro(&read(&path), Some(name), &mut no_progress(), &cancel)
            .unwrap()
            .report
            .sim
            .accuracy
            .unwrap()
    };
    // tests/fixtures/MANIFEST.json: the ANNs' accuracies on digits_test.
    assert!((accuracy("relu_mlp") - 0.9778).abs() < 0.003);
    assert!((accuracy("relu_cnn") - 0.9578).abs() < 0.003);
    assert!(accuracy("if_mlp") > 0.9);
}

/// The language allows a network of several inputs (each read from the
/// dataset's array of its name); the simulator runs one, which comes first.
#[test]
fn a_second_input_after_the_layers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let io = fixture("nir/norse_mlp_io.npz");
    let text = format!(
        "dataset io = npz(\"{io}\", y: \"y\")\n\nnetwork two {{\n    input x: f32[64]\n    layer h = relu(x)\n    input counts: f32[10]\n    output o = relu(h)\n}}\n\nsimulate two on io {{\n    steps = 2\n}}\n"
    );
    let path = write(dir.path(), "two.neuro", &text);
    let cancel = AtomicBool::new(false);
    let error = run::simulate_neuro(&read(&path), None, &mut no_progress(), &cancel).unwrap_err();
    assert!(matches!(error, RunError::Unsupported(_)), "{error}");
    let expected = "network `two`: expected one input before every layer, found input `counts` after them (the simulator runs networks with one input)";
    assert!(error.to_string().ends_with(expected), "{error}");
}

#[test]
fn run_items_lists_the_blocks_in_file_order() {
    let path = repo().join("examples/digits-snn/digits.neuro");
    let neuro = run::read_neuro(&path).unwrap();
    let items = run::run_items(&neuro);
    let labels: Vec<String> = items.iter().map(|i| i.label()).collect();
    assert_eq!(
        labels,
        [
            "simulate snn on test",
            "simulate written on test",
            "infer cnn on test"
        ]
    );
    assert_eq!(items[2].kind, RunKind::Infer);
    let text = &neuro.text[items[0].start..items[0].end];
    assert!(text.starts_with("simulate snn on test {"), "{text}");
    let line = neuro.text[..items[0].start].lines().count() as u32;
    assert_eq!(items[0].range.start.line, line);
    assert_eq!(items[0].selection.start.line, line);
}

#[test]
fn errors_name_the_file_and_what_was_expected() {
    let cancel = AtomicBool::new(false);
    let mlp = repo().join("examples/handwritten-snn/mlp.neuro");
    let error =
        run::simulate_neuro(&read(&mlp), Some("foo"), &mut no_progress(), &cancel).unwrap_err();
    assert!(matches!(error, RunError::NotFound(_)));
    assert_eq!(
        error.to_string(),
        "mlp.neuro: no simulate block for 'foo' (simulate blocks: lif_mlp, leaky_mlp)"
    );
    let error = run::infer_neuro(&read(&mlp), None, &mut |_, _| {}, &cancel).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mlp.neuro: no infer block (expected `infer MODEL on DATASET { ... }`)"
    );

    let dir = tempfile::tempdir().unwrap();
    let broken = write(
        dir.path(),
        "broken.neuro",
        "dataset test = npz(\"missing.npz\", x: \"x\", y: \"y\")\n\nsimulate net on test {\n    steps = 0\n}\n",
    );
    let error = run::simulate_neuro(&read(&broken), None, &mut no_progress(), &cancel).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, RunError::Diagnostics(_)), "{message}");
    assert!(
        message.starts_with("broken.neuro: cannot run a file with 3 errors: line 1:")
            && message.contains("missing.npz")
            && message.contains("line 3:")
            && message.contains("`net`"),
        "{message}"
    );
    let Err(error) = run::read_neuro(&dir.path().join("none.neuro")) else {
        panic!("a missing file reads");
    };
    assert!(matches!(error, RunError::Read(_)), "{error}");
}

#[test]
fn cancel_stops_a_run() {
    let path = converted_mlp();
    let cancel = AtomicBool::new(false);
    let mut batches = 0;
    let error = run::simulate_neuro(
        &read(&path),
        None,
        &mut |_| {
            batches += 1;
            cancel.store(true, Ordering::Relaxed);
        },
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(error, RunError::Cancelled), "{error}");
    assert_eq!(batches, 1, "stopped after the first batch");

    let cancelled = AtomicBool::new(true);
    let dir = tempfile::tempdir().unwrap();
    let digits = example_copy(dir.path(), "digits-snn/digits.neuro", 5, 10);
    for name in ["snn", "written"] {
        let error = run::simulate_neuro(&read(&digits), Some(name), &mut no_progress(), &cancelled)
            .unwrap_err();
        assert!(matches!(error, RunError::Cancelled), "{name}: {error}");
    }
    let error = run::infer_neuro(&read(&digits), None, &mut |_, _| {}, &cancelled).unwrap_err();
    assert!(matches!(error, RunError::Cancelled), "{error}");
}

#[test]
fn infer_blocks_run_the_model_and_score_it() {
    let cancel = AtomicBool::new(false);
    // An `input X = flowers.x` mapping, 30 rows per batch, scikit-learn classifier.
    let greenhouse = repo().join("examples/iot-app/greenhouse.neuro");
    let mut calls = Vec::new();
    let iris = run::infer_neuro(
        &read(&greenhouse),
        Some("iris"),
        &mut |done, total| calls.push((done, total)),
        &cancel,
    )
    .unwrap();
    assert_eq!((iris.rows, iris.batches), (150, 5));
    assert_eq!(calls.last(), Some(&(150, 150)));
    assert!(iris.accuracy.unwrap() > 0.95, "{iris:?}");
    assert_eq!(iris.outputs[0].name, "label");

    // The digits CNN on the ONNX runtime: the ANN's 95.78 % (431 / 450).
    let digits = repo().join("examples/digits-snn/digits.neuro");
    let cnn = run::infer_neuro(&read(&digits), None, &mut |_, _| {}, &cancel).unwrap();
    assert_eq!(cnn.model, "cnn");
    match cnn.score {
        Some(neuride_infer::Score::Classification { correct, total, .. }) => {
            assert_eq!((correct, total), (431, 450))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(cnn.record, ["accuracy", "latency"]);
    let json = serde_json::to_value(&cnn).unwrap();
    assert!(json["latency_ms"].as_f64().unwrap() > 0.0, "{json}");
}
