//! `neuride app run` on replayed datasets, the real binary end to end:
//! the greenhouse app's events equal what its model's predictions imply
//! (predictions computed independently by onnxruntime, the rule applied
//! here), the digits door app runs its spiking network, runs are
//! deterministic, `--events` survives `kill -9`, Ctrl-C still writes the
//! report, and bad input gives clear errors or events.

#[path = "e2e/support.rs"]
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn neuride(args: &[&str]) -> std::process::Output {
    Command::new(support::binary()).args(args).output().unwrap()
}

fn ok_stdout(args: &[&str]) -> String {
    let out = neuride(args);
    assert!(
        out.status.success(),
        "neuride {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn events(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn example(relative: &str) -> PathBuf {
    support::repo_root().join("examples").join(relative)
}

/// Indices where a rule `for hold` fires over `conditions` (edge-triggered).
fn firings(conditions: impl IntoIterator<Item = bool>, hold: usize) -> Vec<usize> {
    let (mut run, mut fired, mut at) = (0, false, Vec::new());
    for (index, holds) in conditions.into_iter().enumerate() {
        if !holds {
            (run, fired) = (0, false);
            continue;
        }
        run += 1;
        if run >= hold && !fired {
            fired = true;
            at.push(index);
        }
    }
    at
}

/// The labels onnxruntime predicts for the first `rows` rows of `x`.
fn onnxruntime_labels(model: &Path, data: &Path, rows: usize) -> Vec<i64> {
    let script = format!(
        "import json, numpy as np, onnxruntime as ort\n\
         x = np.load({data:?})['x'][:{rows}].astype(np.float32)\n\
         s = ort.InferenceSession({model:?}, providers=['CPUExecutionProvider'])\n\
         print(json.dumps(s.run(None, {{s.get_inputs()[0].name: x}})[0].tolist()))\n",
        data = data.to_str().unwrap(),
        model = model.to_str().unwrap(),
    );
    let out = Command::new(support::test_python())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn greenhouse_events_are_what_the_predictions_imply() {
    let file = example("iot-app/greenhouse.neuro");
    let file = file.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let events_file = dir.path().join("events.jsonl");
    let args = [
        "app",
        "run",
        file,
        "--app",
        "greenhouse",
        "--limit",
        "150",
        "--format",
        "jsonl",
        "--events",
        events_file.to_str().unwrap(),
    ];
    let jsonl = ok_stdout(&args);
    let all = events(&jsonl);

    // Independently: onnxruntime's labels, `species == 2 for 3`, at 5 Hz.
    let labels = onnxruntime_labels(
        &example("iot-app/models/iris_logreg_nozipmap.onnx"),
        &example("iot-app/data/iris.npz"),
        150,
    );
    let expected: Vec<f64> = firings(labels.iter().map(|&l| l == 2), 3)
        .into_iter()
        .map(|k| k as f64 / 5.0)
        .collect();
    assert!(!expected.is_empty());
    let rules: Vec<&Value> = all.iter().filter(|e| e["kind"] == "rule").collect();
    let times: Vec<f64> = rules.iter().map(|e| e["t"].as_f64().unwrap()).collect();
    assert_eq!(times, expected, "{jsonl}");
    for rule in &rules {
        assert_eq!(rule["app"], "greenhouse");
        assert_eq!(rule["rule"], "virginica");
        assert_eq!(rule["event"], "virginica-detected");
        assert_eq!(rule["values"], serde_json::json!({"species": 2}));
    }
    assert_eq!(all[0]["kind"], "started");
    assert_eq!(all.last().unwrap()["kind"], "stopped");
    assert_eq!(all.last().unwrap()["count"], 150);

    // The same bytes again, and in the --events file.
    assert_eq!(ok_stdout(&args), jsonl);
    let written = std::fs::read_to_string(&events_file).unwrap();
    assert_eq!(written, jsonl.repeat(2), "appended, run after run");

    // The report: per-sensor, per-pipeline, per-rule counts; the probe idle.
    let report: Value = serde_json::from_str(&ok_stdout(&[
        "app", "run", file, "--limit", "150", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(
        report["readings"],
        serde_json::json!({"leaf": 150, "probe": 0})
    );
    assert_eq!(
        report["predictions"],
        serde_json::json!({"species": 150, "probe_species": 0})
    );
    assert_eq!(report["events"]["virginica"], expected.len());
    assert_eq!(report["events"]["mismatch"], 0);
    assert_eq!(report["dropped"], 0);
    assert_eq!(report["bad_readings"], 0);
    assert_eq!(report["sensors"][1]["state"], "idle");
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("`probe` is idle")
    );
    assert!(report["readings_per_s"].as_f64().unwrap() > 0.0);
    let stage = &report["stages"][0];
    assert_eq!(stage["stage"], "iris");
    assert_eq!(stage["readings"], 150);
    assert!(stage["p50_us"].as_f64().unwrap() > 0.0);
    assert!(stage["p99_us"].as_f64().unwrap() >= stage["p50_us"].as_f64().unwrap());

    // Text for people: the events and a summary table.
    let text = ok_stdout(&["app", "run", file, "--limit", "150"]);
    assert!(
        text.contains("virginica-detected (rule virginica)  species=2"),
        "{text}"
    );
    assert!(text.contains("probe            mqtt    idle"), "{text}");
}

#[test]
fn the_digits_door_runs_its_spiking_network() {
    // The example with a shorter simulate block, so that `neuride simulate`
    // (the reference) runs the same network on the same readings quickly.
    let dir = tempfile::tempdir().unwrap();
    copy_example("digits-snn", dir.path());
    let path = dir.path().join("digits.neuro");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("    steps = 50\n", "    steps = 50\n    limit = 120\n");
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();
    let jsonl = ok_stdout(&[
        "app",
        "run",
        file,
        "--app",
        "digit_door",
        "--limit",
        "120",
        "--trace",
        "--format",
        "jsonl",
    ]);
    let all = events(&jsonl);
    let digits: Vec<i64> = all
        .iter()
        .filter(|e| e["kind"] == "prediction")
        .map(|e| e["values"]["digit"].as_i64().unwrap())
        .collect();
    let simulated: Value = serde_json::from_str(&ok_stdout(&[
        "simulate", file, "--run", "snn", "--format", "json",
    ]))
    .unwrap();
    let reference: Vec<i64> = serde_json::from_value(simulated["predictions"].clone()).unwrap();
    assert_eq!(
        digits, reference,
        "the app's digits are the simulator's predictions"
    );
    assert!(simulated["accuracy"].as_f64().unwrap() > 0.8, "{simulated}");
    let unlocks: Vec<f64> = all
        .iter()
        .filter(|e| e["kind"] == "rule")
        .map(|e| e["t"].as_f64().unwrap())
        .collect();
    let expected: Vec<f64> = firings(digits.iter().map(|&d| d == 7), 2)
        .into_iter()
        .map(|k| k as f64 / 10.0)
        .collect();
    assert_eq!(unlocks, expected);
}

fn copy_example(name: &str, to: &Path) {
    let from = example(name);
    for entry in walk(&from) {
        let target = to.join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Starts a long run whose events go to `events`; returns once the file
/// has at least `lines` lines.
fn start_long_run(file: &Path, events: &Path, lines: usize) -> std::process::Child {
    let child = Command::new(support::binary())
        .args([
            "app",
            "run",
            file.to_str().unwrap(),
            "--loop",
            "--trace",
            "--speed",
            "200",
            "--format",
            "json",
            "--events",
            events.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(events).map_or(0, |t| t.lines().count()) < lines {
        assert!(Instant::now() < deadline, "the run wrote no events");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn every_event_before_a_kill_is_in_the_events_file_and_ctrl_c_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("iot-app", dir.path());
    let file = dir.path().join("greenhouse.neuro");
    let events_path = dir.path().join("events.jsonl");
    let mut child = start_long_run(&file, &events_path, 200);
    // SIGKILL: no chance to flush anything.
    child.kill().unwrap();
    child.wait().unwrap();
    let written = std::fs::read_to_string(&events_path).unwrap();
    assert!(written.ends_with('\n'), "a torn last line");
    let lines: Vec<&str> = written.lines().collect();
    // Replay times are the declared ones even on the wall clock, so the
    // file is a prefix of the virtual-time run's events.
    let full = ok_stdout(&[
        "app",
        "run",
        file.to_str().unwrap(),
        "--loop",
        "--trace",
        "--limit",
        "2000",
        "--format",
        "jsonl",
    ]);
    let full: Vec<&str> = full.lines().collect();
    assert!(
        lines.len() >= 200 && lines.len() < full.len(),
        "{}",
        lines.len()
    );
    assert_eq!(lines[..], full[..lines.len()]);

    // Ctrl-C: the run stops and the report is still printed.
    let child = start_long_run(&file, &dir.path().join("more.jsonl"), 50);
    unsafe { libc_kill(child.id() as i32, 2) };
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["stopped"], "interrupted");
    assert!(report["readings"]["leaf"].as_u64().unwrap() >= 25);
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

#[test]
fn bad_input_is_an_error_or_an_event_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("iot-app", dir.path());
    let base = "model iris = onnx(\"models/iris_logreg_nozipmap.onnx\")\n";

    // An app that names a missing model: the check's error, with the file.
    let missing = dir.path().join("missing.neuro");
    std::fs::write(
        &missing,
        "model gone = onnx(\"models/gone.onnx\")\ndataset d = npz(\"data/iris.npz\", x: \"x\")\napp a {\n    sensor s: f32[4] @ 5Hz = replay(d)\n    pipeline s -> gone -> c\n}\n",
    )
    .unwrap();
    let out = neuride(&["app", "run", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.neuro: cannot run a file with"),
        "{stderr}"
    );
    assert!(stderr.contains("gone.onnx"), "{stderr}");

    // NaN and infinite rows are bad readings; the rest runs.
    let script = "import numpy as np, sys\n\
        x = np.load(sys.argv[1])['x'][:20].copy()\n\
        x[3, 1] = np.nan\nx[7, 0] = np.inf\n\
        np.savez(sys.argv[2], x=x)\n";
    let nan = dir.path().join("data/nan.npz");
    let status = Command::new(support::test_python())
        .args(["-c", script])
        .arg(dir.path().join("data/iris.npz"))
        .arg(&nan)
        .status()
        .unwrap();
    assert!(status.success());
    let app = dir.path().join("nan.neuro");
    std::fs::write(
        &app,
        format!("{base}dataset d = npz(\"data/nan.npz\", x: \"x\")\napp a {{\n    sensor s: f32[4] @ 5Hz = replay(d)\n    pipeline s -> iris -> c\n}}\n"),
    )
    .unwrap();
    let all = events(&ok_stdout(&[
        "app",
        "run",
        app.to_str().unwrap(),
        "--format",
        "jsonl",
    ]));
    let bad: Vec<&Value> = all.iter().filter(|e| e["kind"] == "bad_reading").collect();
    assert_eq!(bad.len(), 2);
    assert_eq!(bad[0]["t"], 0.6);
    assert_eq!(
        bad[0]["message"],
        "value 1 is NaN, expected a finite number"
    );
    assert_eq!(
        bad[1]["message"],
        "value 0 is inf, expected a finite number"
    );
    assert_eq!(all.last().unwrap()["count"], 20);

    // A model replaced on disk during a run: the run keeps its plan and says so.
    let model = dir.path().join("models/iris_logreg_nozipmap.onnx");
    let events_path = dir.path().join("replaced.jsonl");
    let child = start_long_run(&dir.path().join("greenhouse.neuro"), &events_path, 20);
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, b"not a model any more").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let notice = loop {
        let text = std::fs::read_to_string(&events_path).unwrap();
        if let Some(line) = text.lines().find(|l| l.contains("\"kind\":\"notice\"")) {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no notice about the model");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        notice.contains(
            "iris_logreg_nozipmap.onnx changed on disk; this run keeps the model it compiled"
        ),
        "{notice}"
    );
    // Still predicting after the notice.
    let before = std::fs::read_to_string(&events_path)
        .unwrap()
        .lines()
        .count();
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&events_path).unwrap();
    assert!(text.lines().count() > before);
    assert!(!text.contains("bad_reading"));
    std::fs::write(&model, bytes).unwrap();
    unsafe { libc_kill(child.id() as i32, 15) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());

    // Options that need a broker say so.
    let out = neuride(&["app", "run", app.to_str().unwrap(), "--shared-group", "g"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shared-group needs a broker"));
    // A broker that is not there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = neuride(&[
        "app",
        "run",
        dir.path().join("greenhouse.neuro").to_str().unwrap(),
        "--mqtt",
        &format!("mqtt://127.0.0.1:{port}"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to the MQTT broker at 127.0.0.1:{port}: Connection refused"
        )),
        "{stderr}"
    );
}
