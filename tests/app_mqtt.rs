//! `neuride app run --mqtt` against a real broker: Debian's mosquitto on a
//! free port of 127.0.0.1 with a temporary configuration, readings
//! published by a real client (mosquitto_pub), events read back by another
//! (mosquitto_sub). Predictions are checked against onnxruntime's on the
//! same rows; nothing accepted is lost across a broker restart; two
//! instances in a shared group split one stream, every reading once.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A mosquitto broker of its own, with persistence (so that a restart keeps
/// the sessions and the messages it had accepted).
struct Broker {
    dir: tempfile::TempDir,
    port: u16,
    process: Option<Child>,
}

impl Broker {
    fn start() -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Run as root, mosquitto drops to the `mosquitto` user, which could
        // not write its state into our temporary folder: stay root then.
        let user = if unsafe { getuid() } == 0 {
            "user root\n"
        } else {
            ""
        };
        let config = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\n{user}persistence true\npersistence_location {}/\nmax_queued_messages 100000\nlog_dest file {}/broker.log\n",
            dir.path().display(),
            dir.path().display()
        );
        std::fs::write(dir.path().join("mosquitto.conf"), config).unwrap();
        let mut broker = Broker {
            dir,
            port,
            process: None,
        };
        broker.run();
        broker
    }

    fn run(&mut self) {
        // Debian puts the broker in /usr/sbin, not always on a user's PATH.
        let program = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("mosquitto");
        let child = Command::new(program)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (Debian package `mosquitto`, installed by scripts/test-all)");
        self.process = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the broker as a service manager would (SIGTERM: it saves its
    /// state) and starts it again on the same port.
    fn restart(&mut self) {
        let mut child = self.process.take().unwrap();
        signal(&child, 15);
        child.wait().unwrap();
        self.run();
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Publishes `payloads` to `topic` at QoS 1 (mosquitto_pub waits for the
    /// broker's acknowledgements before it exits).
    fn publish(&self, topic: &str, payloads: &[String]) {
        let mut child = Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-q",
                "1",
                "-t",
                topic,
                "-l",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .expect("mosquitto_pub (Debian package `mosquitto-clients`)");
        let mut stdin = child.stdin.take().unwrap();
        for payload in payloads {
            writeln!(stdin, "{payload}").unwrap();
        }
        drop(stdin);
        assert!(child.wait().unwrap().success());
    }

    /// Subscribes to `filter` at QoS 1; lines `topic payload` collect in the result.
    fn subscribe(&self, filter: &str) -> (Subscriber, Arc<Mutex<Vec<String>>>) {
        let mut child = Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-q",
                "1",
                "-v",
                "-t",
                filter,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        // Let the subscription reach the broker.
        std::thread::sleep(Duration::from_millis(500));
        (Subscriber(child), lines)
    }
}

/// A mosquitto_sub process, ended with the test.
struct Subscriber(Child);

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
    fn getuid() -> u32;
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on a child we started and have not reaped.
    unsafe { kill(child.id() as i32, signal) };
}

/// A workspace with the iris model and an app reading `lab/probe`.
fn workspace(rule_hold: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let example = support::repo_root().join("examples/iot-app");
    std::fs::copy(
        example.join("models/iris_logreg_nozipmap.onnx"),
        dir.path().join("iris.onnx"),
    )
    .unwrap();
    let app = dir.path().join("probe.neuro");
    std::fs::write(
        &app,
        format!(
            "model iris = onnx(\"iris.onnx\")\n\napp probe_app {{\n    sensor probe: f32[4] @ 100Hz = mqtt(\"lab/probe\")\n    pipeline probe -> iris -> species\n    rule virginica when species == 2{rule_hold} => emit \"virginica\"\n}}\n"
        ),
    )
    .unwrap();
    (dir, app)
}

/// Iris rows (first 150), as JSON arrays.
fn iris_rows() -> Vec<Vec<f32>> {
    let script =
        "import json, numpy as np, sys\nprint(json.dumps(np.load(sys.argv[1])['x'].tolist()))";
    let out = Command::new(support::test_python())
        .args(["-c", script])
        .arg(support::repo_root().join("examples/iot-app/data/iris.npz"))
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// onnxruntime's labels for `rows`.
fn labels(model: &Path, rows: &[Vec<f32>]) -> Vec<i64> {
    let script = "import json, sys, numpy as np, onnxruntime as ort\n\
        x = np.array(json.load(sys.stdin), dtype=np.float32)\n\
        s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n\
        print(json.dumps(s.run(None, {s.get_inputs()[0].name: x})[0].tolist()))\n";
    let mut child = Command::new(support::test_python())
        .args(["-c", script])
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), rows).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn payload(row: &[f32]) -> String {
    serde_json::to_string(row).unwrap()
}

/// A running `neuride app run`, killed if the test fails before it ends.
struct AppProcess {
    child: Child,
    /// What it has written so far (for the failure message).
    events: Option<PathBuf>,
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AppProcess {
    fn wait(&mut self, seconds: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let written = self
                    .events
                    .as_ref()
                    .map(|p| std::fs::read_to_string(p).unwrap_or_default());
                let stderr =
                    std::io::read_to_string(self.child.stderr.take().unwrap()).unwrap_or_default();
                panic!(
                    "the app did not end; events:\n{}\nstderr:\n{stderr}",
                    written.unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Starts `neuride app run FILE --mqtt URL ARGS...` and waits for its
/// `started` event (it is subscribed by then).
fn start_app(app: &Path, broker: &Broker, args: &[&str]) -> AppProcess {
    let mut child = Command::new(support::binary())
        .args([
            "app",
            "run",
            app.to_str().unwrap(),
            "--mqtt",
            &broker.url(),
            "--format",
            "jsonl",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"kind\":\"started\""), "{first}");
    // Keep draining stdout so the app never blocks on a full pipe.
    std::thread::spawn(move || for _ in stdout.lines() {});
    let events = args
        .iter()
        .position(|a| *a == "--events")
        .map(|i| PathBuf::from(args[i + 1]));
    AppProcess { child, events }
}

fn read_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Indices where `species == 2` (no hold) fires: its rising edges.
fn edges(labels: &[i64]) -> Vec<usize> {
    (0..labels.len())
        .filter(|&i| labels[i] == 2 && (i == 0 || labels[i - 1] != 2))
        .collect()
}

#[test]
fn readings_from_the_broker_become_predictions_events_and_published_events() {
    let broker = Broker::start();
    let (dir, app) = workspace("");
    let (subscriber, published) = broker.subscribe("lab/events/#");
    let events_path = dir.path().join("events.jsonl");
    let mut child = start_app(
        &app,
        &broker,
        &[
            "--emit-topic",
            "lab/events",
            "--limit",
            "44",
            "--trace",
            "--events",
            events_path.to_str().unwrap(),
        ],
    );
    let rows: Vec<Vec<f32>> = iris_rows().into_iter().step_by(3).take(40).collect();
    assert_eq!(rows.len(), 40);
    let bad = [
        "hello".to_string(),
        "[5.1, 3.5, 1.4]".to_string(),
        "[5.1, 3.5, null, 0.2]".to_string(),
        r#"{"t": 1.5, "x": [5.1, 3.5, 1.4, 1e39]}"#.to_string(),
    ];
    let mut payloads: Vec<String> = rows.iter().map(|r| payload(r)).collect();
    for (i, b) in bad.iter().enumerate() {
        payloads.insert(5 + i * 9, b.clone());
    }
    // The timestamped form is a good reading too.
    payloads[0] = json!({"t": 12.5, "x": rows[0]}).to_string();
    broker.publish("lab/probe", &payloads);
    assert!(child.wait(30).success());

    let all = read_events(&events_path);
    let predictions: Vec<i64> = of_kind(&all, "prediction")
        .iter()
        .map(|e| e["values"]["species"].as_i64().unwrap())
        .collect();
    let expected = labels(&dir.path().join("iris.onnx"), &rows);
    assert_eq!(predictions, expected, "onnxruntime on the same rows");
    let bad_events = of_kind(&all, "bad_reading");
    assert_eq!(bad_events.len(), 4);
    assert!(
        bad_events[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("lab/probe: expected JSON")
    );
    assert_eq!(
        bad_events[1]["message"],
        "expected 4 values (shape [4]), found 3"
    );
    assert_eq!(
        bad_events[2]["message"],
        "lab/probe: expected numbers, found null at value 2"
    );
    assert_eq!(
        bad_events[3]["message"],
        "value 3 is inf, expected a finite number"
    );
    let rules = of_kind(&all, "rule");
    assert_eq!(rules.len(), edges(&expected).len());
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|r| r["values"] == json!({"species": 2})));

    // Every event was published under lab/events/<event or kind>.
    wait_for("the published events", 10, || {
        published.lock().unwrap().len() >= all.len()
    });
    drop(subscriber);
    let published = published.lock().unwrap().clone();
    let count = |topic: &str| {
        published
            .iter()
            .filter(|l| l.starts_with(&format!("{topic} ")))
            .count()
    };
    assert_eq!(count("lab/events/virginica"), rules.len());
    assert_eq!(count("lab/events/bad_reading"), 4);
    assert_eq!(count("lab/events/prediction"), 40);
    assert_eq!(count("lab/events/stopped"), 1);
    let first_rule = published
        .iter()
        .find(|l| l.starts_with("lab/events/virginica "))
        .unwrap();
    let body: Value = serde_json::from_str(first_rule.split_once(' ').unwrap().1).unwrap();
    assert_eq!(&body, rules[0]);
}

#[test]
fn nothing_accepted_is_lost_across_a_broker_restart() {
    let mut broker = Broker::start();
    let (dir, app) = workspace(" for 2");
    let events_path = dir.path().join("events.jsonl");
    let mut child = start_app(
        &app,
        &broker,
        &[
            "--limit",
            "90",
            "--trace",
            "--events",
            events_path.to_str().unwrap(),
        ],
    );
    let rows: Vec<Vec<f32>> = iris_rows().into_iter().step_by(5).take(30).collect();
    let rows: Vec<Vec<f32>> = rows.iter().cycle().take(90).cloned().collect();
    let payloads: Vec<String> = rows.iter().map(|r| payload(r)).collect();
    broker.publish("lab/probe", &payloads[..30]);
    wait_for("the first 30 readings", 20, || {
        of_kind(&read_events(&events_path), "prediction").len() == 30
    });
    // Accepted by the broker, then the broker goes away at once: these are
    // delivered, in flight, or queued for the app's session when it stops.
    broker.publish("lab/probe", &payloads[30..60]);
    broker.restart();
    // Published while the app may still be reconnecting: queued for its session.
    broker.publish("lab/probe", &payloads[60..]);
    let status = child.wait(40);
    let stderr = std::io::read_to_string(child.child.stderr.take().unwrap()).unwrap();
    assert!(status.success(), "{stderr}");

    let all = read_events(&events_path);
    let readings: Vec<Vec<f32>> = of_kind(&all, "reading")
        .iter()
        .map(|e| serde_json::from_value(e["values"]["probe"].clone()).unwrap())
        .collect();
    assert_eq!(readings, rows, "every reading once, in order");
    let notices: Vec<&str> = of_kind(&all, "notice")
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("lost the MQTT broker")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("reconnected to the MQTT broker")),
        "{notices:?}"
    );
    let predictions: Vec<i64> = of_kind(&all, "prediction")
        .iter()
        .map(|e| e["values"]["species"].as_i64().unwrap())
        .collect();
    assert_eq!(predictions, labels(&dir.path().join("iris.onnx"), &rows));
}

#[test]
fn two_instances_in_a_shared_group_split_one_stream() {
    let broker = Broker::start();
    let (dir, app) = workspace("");
    let paths = [dir.path().join("a.jsonl"), dir.path().join("b.jsonl")];
    let mut children: Vec<AppProcess> = paths
        .iter()
        .map(|p| {
            start_app(
                &app,
                &broker,
                &[
                    "--shared-group",
                    "door",
                    // The burst of 200 must not overflow a busy machine's
                    // queue: this test is about the split, not drops.
                    "--queue",
                    "1000",
                    "--trace",
                    "--events",
                    p.to_str().unwrap(),
                ],
            )
        })
        .collect();
    // 200 distinct readings: iris rows with a per-message nudge.
    let iris = iris_rows();
    let rows: Vec<Vec<f32>> = (0..200)
        .map(|i| {
            let mut row = iris[(i * 3) % 150].clone();
            row[3] += i as f32 * 1e-4;
            row
        })
        .collect();
    let payloads: Vec<String> = rows.iter().map(|r| payload(r)).collect();
    broker.publish("lab/probe", &payloads);
    wait_for("every reading", 30, || {
        paths
            .iter()
            .map(|p| of_kind(&read_events(p), "prediction").len())
            .sum::<usize>()
            == 200
    });
    for child in &mut children {
        signal(&child.child, 2);
        assert!(child.wait(10).success());
    }
    let mut seen: Vec<Vec<f32>> = Vec::new();
    for path in &paths {
        let all = read_events(path);
        let readings = of_kind(&all, "reading");
        assert!(
            readings.len() >= 20,
            "{} took {} readings",
            path.display(),
            readings.len()
        );
        assert!(
            !of_kind(&all, "rule").is_empty(),
            "{} raised no events",
            path.display()
        );
        seen.extend(
            readings
                .iter()
                .map(|e| serde_json::from_value::<Vec<f32>>(e["values"]["probe"].clone()).unwrap()),
        );
    }
    let key = |r: &Vec<f32>| r.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let mut seen: Vec<Vec<u32>> = seen.iter().map(key).collect();
    let mut sent: Vec<Vec<u32>> = rows.iter().map(key).collect();
    seen.sort();
    sent.sort();
    assert_eq!(seen, sent, "every reading handled exactly once");

    // A rule that needs consecutive readings cannot share its stream.
    let (_dir, held) = workspace(" for 3");
    let out = Command::new(support::binary())
        .args([
            "app",
            "run",
            held.to_str().unwrap(),
            "--mqtt",
            &broker.url(),
            "--shared-group",
            "door",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("probe.neuro: rule `virginica` holds `for 3` over `species`, which mqtt sensor `probe` (\"lab/probe\") feeds"),
        "{stderr}"
    );
}
