//! App runs on the examples: greenhouse (ML stage, an idle mqtt sensor)
//! and the digits door (a converted spiking network), determinism, and the
//! refusals a user can meet.

use super::*;
use crate::run::read_neuro;
use std::path::{Path, PathBuf};

fn example(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../examples")
        .join(relative)
}

fn lines(path: &Path, options: &RunApp) -> (Vec<String>, Report) {
    let neuro = read_neuro(path).unwrap();
    let mut lines = Vec::new();
    let mut observer = |event: &Event| lines.push(event.to_json_line());
    let report = run_app(&neuro, options, &mut observer, &AtomicBool::new(false)).unwrap();
    (lines, report)
}

#[test]
fn greenhouse_replays_its_leaf_sensor_and_reports_the_probe_idle() {
    let options = RunApp {
        app: Some("greenhouse".into()),
        limit: Some(150),
        ..RunApp::default()
    };
    let path = example("iot-app/greenhouse.neuro");
    let (first, report) = lines(&path, &options);
    assert_eq!(report.readings["leaf"], 150);
    assert_eq!(report.readings["probe"], 0);
    assert_eq!(report.predictions["species"], 150);
    assert_eq!(report.sensors[1].state, neuride_app::SensorState::Idle);
    assert!(report.events["virginica"] >= 1, "{report:?}");
    assert_eq!(report.events["mismatch"], 0);
    assert_eq!(report.clock, "virtual");
    assert_eq!(report.stopped, "end of data");
    // Virtual time: the same events, byte for byte, run after run.
    let (second, _) = lines(&path, &options);
    assert_eq!(first, second);
    assert!(first[1].starts_with(r#"{"t":"#) && first[1].contains(r#""kind":"rule","rule":"virginica","event":"virginica-detected","values":{"species":2}"#), "{}", first[1]);
}

#[test]
fn the_digits_door_runs_its_converted_network_per_reading() {
    let options = RunApp {
        limit: Some(40),
        trace: true,
        ..RunApp::default()
    };
    let (lines, report) = lines(&example("digits-snn/digits.neuro"), &options);
    assert_eq!(report.app, "digit_door");
    assert_eq!(report.predictions["digit"], 40);
    let digits = predicted(&lines, "digit");
    assert_eq!(digits.len(), 40);
    assert!(digits.iter().all(|d| (0..10).contains(d)));
    // A real classifier: not one class for everything.
    let mut distinct = digits.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 5, "{digits:?}");
    assert_eq!(report.stages.len(), 2);
    assert_eq!(report.stages[0].stage, "snn");
}

/// The values of `key` in the trace's prediction events, in order.
fn predicted(lines: &[String], key: &str) -> Vec<i64> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] == "prediction")
        .map(|e| e["values"][key].as_i64().unwrap())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A copy of the greenhouse's files with another `.neuro` text.
fn greenhouse_with(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["models", "data"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    for file in ["models/iris_logreg_nozipmap.onnx", "data/iris.npz"] {
        std::fs::copy(example(&format!("iot-app/{file}")), dir.path().join(file)).unwrap();
    }
    let path = write(dir.path(), "app.neuro", text);
    (dir, path)
}

const HEADER: &str = "model iris = onnx(\"models/iris_logreg_nozipmap.onnx\")\ndataset flowers = npz(\"data/iris.npz\", x: \"x\", y: \"y\")\n";

#[test]
fn refusals_name_the_file_and_what_was_expected() {
    let (_dir, path) = greenhouse_with(&format!(
        "{HEADER}app a {{\n    sensor leaf: f32[4] @ 5Hz = replay(flowers)\n    sensor probe: f32[4] @ 1Hz = mqtt(\"g/probe\")\n    pipeline probe -> iris -> p\n    rule r when p == 2 for 3 => emit \"x\"\n}}\n"
    ));
    let neuro = read_neuro(&path).unwrap();
    let error = |options: &RunApp, outside: Outside| {
        prepare_app(&neuro, options, outside)
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        error(
            &RunApp {
                app: Some("b".into()),
                ..RunApp::default()
            },
            Outside::default()
        ),
        "app.neuro: no app 'b' (apps: a)"
    );
    let shared = Outside {
        connected: true,
        shared: true,
    };
    let refusal = error(&RunApp::default(), shared);
    assert!(
        refusal.starts_with("app.neuro: rule `r` holds `for 3` over `p`, which mqtt sensor `probe` (\"g/probe\") feeds"),
        "{refusal}"
    );
    // Connected without a shared group: fine, and the clock is the wall's.
    let prepared = prepare_app(
        &neuro,
        &RunApp::default(),
        Outside {
            connected: true,
            shared: false,
        },
    )
    .unwrap();
    assert_eq!(prepared.speed(), Speed::Realtime);
    assert_eq!(prepared.topics()[0].topic, "g/probe");

    let (_dir, missing) = greenhouse_with(&format!(
        "model gone = onnx(\"models/gone.onnx\")\n{HEADER}app a {{\n    sensor leaf: f32[4] @ 5Hz = replay(flowers)\n    pipeline leaf -> gone -> p\n}}\n"
    ));
    let neuro = read_neuro(&missing).unwrap();
    let message = prepare_app(&neuro, &RunApp::default(), Outside::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("app.neuro: cannot run a file with"),
        "{message}"
    );
    assert!(message.contains("gone.onnx"), "{message}");
}

#[test]
fn speeds_read_as_words_or_factors() {
    assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
    assert_eq!("realtime".parse::<Speed>(), Ok(Speed::Realtime));
    assert_eq!("2.5".parse::<Speed>(), Ok(Speed::Times(2.5)));
    assert!("0".parse::<Speed>().unwrap_err().contains("found `0`"));
    let options: RunApp = serde_json::from_value(
        serde_json::json!({"app": "a", "speed": 10, "limit": 5, "loop": true}),
    )
    .unwrap();
    assert_eq!(options.speed, Some(Speed::Times(10.0)));
    assert!(options.loop_);
    assert!(serde_json::from_value::<RunApp>(serde_json::json!({"sped": "max"})).is_err());
    assert!(serde_json::from_value::<RunApp>(serde_json::json!({"speed": "fast"})).is_err());
}

#[test]
fn a_nir_network_runs_as_a_stage_with_the_exporters_numbers() {
    // snnTorch's export of a Leaky MLP and 40 samples labelled with the
    // classes snnTorch's own spike counts pick (tests/fixtures/nir).
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/nir");
    let dir = tempfile::tempdir().unwrap();
    for file in ["snntorch_mlp.nir", "snntorch_mlp_io.npz"] {
        std::fs::copy(fixtures.join(file), dir.path().join(file)).unwrap();
    }
    let path = write(
        dir.path(),
        "app.neuro",
        "network mlp = nir(\"snntorch_mlp.nir\")\ndataset d = npz(\"snntorch_mlp_io.npz\", x: \"x\", y: \"y\")\n\
         simulate mlp on d {\n    steps = 40\n    decode = count\n}\n\
         app a {\n    sensor s: f32[64] @ 10Hz = replay(d)\n    pipeline s -> mlp -> argmax -> class\n}\n",
    );
    let options = RunApp {
        trace: true,
        ..RunApp::default()
    };
    let (lines, report) = lines(&path, &options);
    assert_eq!(report.predictions["class"], 40, "{report:?}");
    let classes = predicted(&lines, "class");
    // Every reading gets the class snnTorch gives that sample.
    let labels = crate::run::data::read_labels(&dir.path().join("snntorch_mlp_io.npz"), "y")
        .unwrap()
        .unwrap();
    assert_eq!(classes, labels);
    assert_eq!(report.stages[0].stage, "mlp");
}
