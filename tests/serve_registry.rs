//! The registry of `neuride serve`: a broken upload is refused with its
//! diagnostics and never replaces a good model, a good one is written
//! atomically with the old file kept as a version, downloads give the
//! bytes back, the graph and text views render, deletes keep a version,
//! files changed on disk are reloaded, the event log streams live (SSE),
//! and a request running while its model is replaced finishes on the old
//! revision. NIR graphs are models like ONNX files: served on the
//! simulator, uploaded, versioned and downloaded as `.nir`.

#[path = "e2e/serve.rs"]
mod serve;
#[path = "e2e/support.rs"]
mod support;

use serde_json::json;
use serve::Server;
use std::io::{BufRead, BufReader};

fn fixture_bytes(relative: &str) -> Vec<u8> {
    std::fs::read(support::fixture(relative)).unwrap()
}

fn iris_request() -> serde_json::Value {
    json!({"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [6.0, 2.2, 5.0, 1.5]}]})
}

#[test]
fn uploads_are_checked_versioned_and_downloadable() {
    let workspace = tempfile::tempdir().unwrap();
    let server = Server::start(workspace.path(), &[]);
    assert_eq!(server.get("/api/models").json(), json!([]));

    // A good model: created, listed, served.
    let iris = fixture_bytes("ml/iris_logreg_nozipmap.onnx");
    let created = server.put("/api/models/iris", &iris, None);
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["kind"], "ml");
    assert_eq!(created["versions"], json!([1]));
    assert_eq!(
        std::fs::read(workspace.path().join("iris.onnx")).unwrap(),
        iris
    );
    let list = server.get("/api/models").json();
    assert_eq!(list[0]["name"], "iris");
    assert_eq!(list[0]["errors"], 0);
    let first = server.post_json("/v2/models/iris/infer", &iris_request());
    assert_eq!(first.status, 200, "{}", first.text());

    // A broken model: refused with its diagnostics; the good one stays.
    let mut broken = iris.clone();
    broken.truncate(broken.len() / 2);
    let refused = server.put("/api/models/iris", &broken, None);
    assert_eq!(refused.status, 422, "{}", refused.text());
    let refused = refused.json();
    assert!(
        refused["error"].as_str().unwrap().contains("refused"),
        "{refused}"
    );
    assert!(
        !refused["diagnostics"].as_array().unwrap().is_empty(),
        "{refused}"
    );
    assert_eq!(
        std::fs::read(workspace.path().join("iris.onnx")).unwrap(),
        iris
    );
    assert_eq!(
        server
            .post_json("/v2/models/iris/infer", &iris_request())
            .status,
        200
    );
    let not_a_model = server.put("/api/models/notes", b"hello", None);
    assert_eq!(not_a_model.status, 422);
    assert!(!workspace.path().join("notes.onnx").exists());

    // Another model under the same name: the old file is kept as version 1.
    let digits = fixture_bytes("dl/digits_mlp.onnx");
    let replaced = server.put("/api/models/iris", &digits, None);
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(replaced.json()["versions"], json!([1, 2]));
    assert_eq!(
        std::fs::read(workspace.path().join(".neuride/versions/iris/1.onnx")).unwrap(),
        iris
    );
    let meta = server.get("/v2/models/iris").json();
    assert_eq!(meta["versions"], json!(["1", "2"]));
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 1, 8, 8]));
    // The kept version is still served under its number.
    let old = server.post_json("/v2/models/iris/versions/1/infer", &iris_request());
    assert_eq!(old.status, 200, "{}", old.text());
    assert_eq!(old.json()["model_version"], "1");
    assert_eq!(server.get("/api/models/iris/download").body, digits);
    assert_eq!(server.get("/api/models/iris/download?version=1").body, iris);

    // Views.
    let svg = server.get("/api/models/iris/graph.svg");
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.text().starts_with("<svg"), "{}", svg.text());
    let text = server.get("/api/models/iris/text");
    assert!(text.text().contains("Gemm"), "{}", text.text());
    let detail = server.get("/api/models/iris").json();
    assert_eq!(detail["kind"], "dl");
    assert!(detail["diagnostics"].is_array());

    // A browser form upload (multipart, field `file`).
    let posted = server.post_form(
        "C:\\\\models\\\\cnn.onnx",
        &fixture_bytes("dl/digits_cnn.onnx"),
    );
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert!(workspace.path().join("cnn.onnx").is_file());

    // Delete keeps the file as a version.
    let deleted = server.delete("/api/models/cnn", None);
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(deleted.json()["kept_version"], 1);
    assert!(!workspace.path().join("cnn.onnx").exists());
    assert!(
        workspace
            .path()
            .join(".neuride/versions/cnn/1.onnx")
            .is_file()
    );
    assert_eq!(server.get("/v2/models/cnn").status, 404);

    // The event log saw all of it.
    let events = server.get("/api/events").json();
    let kinds: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    for expected in [
        ("iris", "added"),
        ("iris", "refused"),
        ("iris", "changed"),
        ("iris", "reclassified"),
        ("cnn", "added"),
        ("cnn", "removed"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} not in {kinds:?}");
    }
    // Each write is one event, not one more for the watcher's echo.
    let added_iris = kinds.iter().filter(|k| **k == ("iris", "added")).count();
    assert_eq!(added_iris, 1, "{kinds:?}");
}

#[test]
fn files_changed_on_disk_reload_and_events_stream_live() {
    let workspace = tempfile::tempdir().unwrap();
    let server = Server::start(workspace.path(), &[]);
    // Server-Sent Events, read as a browser's EventSource would.
    let stream = Server::agent()
        .get(server.url("/api/events"))
        .header("Accept", "text/event-stream")
        .call()
        .unwrap();
    assert_eq!(
        stream.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(stream.into_body().into_reader());
        for line in reader.lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });

    // A model copied in by another program appears and is served.
    let sub = workspace.path().join("models");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(
        support::fixture("ml/iris_logreg_nozipmap.onnx"),
        sub.join("iris.onnx"),
    )
    .unwrap();
    server.wait_for("/v2/models/iris/ready", "the copied model", |r| {
        r.status == 200
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !seen
        .iter()
        .any(|l: &String| l.starts_with("data:") && l.contains("\"added\""))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = receiver
            .recv_timeout(left)
            .expect("an SSE event for the added model");
        seen.push(line);
    }
    assert!(seen.iter().any(|l| l == "event: registry"), "{seen:?}");
    assert!(seen.iter().any(|l| l.starts_with("id: ")), "{seen:?}");

    // Rewritten in place by an exporter: reloaded (new revision, new plan).
    std::fs::write(sub.join("iris.onnx"), fixture_bytes("dl/digits_mlp.onnx")).unwrap();
    server.wait_for("/v2/models/iris", "the rewritten model", |r| {
        r.status == 200 && r.json()["inputs"][0]["shape"] == json!([-1, 1, 8, 8])
    });
    // Removed: gone from the list and the protocol.
    std::fs::remove_file(sub.join("iris.onnx")).unwrap();
    server.wait_for("/api/models", "the removal", |r| r.json() == json!([]));
    assert_eq!(server.get("/v2/models/iris/ready").status, 404);
}

#[test]
fn a_running_request_finishes_on_the_revision_it_started_with() {
    let workspace = serve::examples_workspace();
    serve::add_spiking_model(workspace.path(), "slow");
    let models = workspace.path().join("digits-snn/models");
    let server = Server::start(workspace.path(), &[]);
    // A long simulation: 64 samples for the most steps a request may ask
    // (3000 steps ran in ~0.3 s once the simulator's loops were vectorised).
    let request = json!({"parameters": {"steps": 10000},
        "inputs": [{"name": "x", "shape": [64, 1, 8, 8], "datatype": "FP32", "data": vec![0.5; 64 * 64]}]});
    let running = serve::post_in_background(&server, "/v2/models/slow.snn/infer", &request);
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Replace the model with one that is not spiking at all.
    let replaced = server.put(
        "/api/models/slow.snn",
        &std::fs::read(models.join("digits_cnn.onnx")).unwrap(),
        None,
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let (status, body, took) = running.join().unwrap();
    assert!(
        took > std::time::Duration::from_millis(300),
        "the run was too short to overlap: {took:?}"
    );
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["model_version"], "1");
    assert_eq!(body["outputs"][0]["name"], "class");
    assert_eq!(body["outputs"][0]["shape"], json!([64]));
    // New requests see the new revision.
    let meta = server.get("/v2/models/slow.snn").json();
    assert_eq!(meta["parameters"]["engine"], "native", "{meta}");
    assert_eq!(meta["versions"], json!(["1", "2"]));
}

#[test]
fn nir_graphs_are_served_uploaded_and_versioned() {
    let workspace = tempfile::tempdir().unwrap();
    let mlp = fixture_bytes("nir/snntorch_mlp.nir");
    std::fs::write(workspace.path().join("mlp.nir"), &mlp).unwrap();
    let server = Server::start(workspace.path(), &[]);
    let list = server.get("/api/models").json();
    assert_eq!(list[0]["name"], "mlp", "{list}");
    assert_eq!(list[0]["kind"], "snn", "{list}");
    assert_eq!(list[0]["errors"], 0, "{list}");

    // Metadata: a NIR platform, its Input node's name and shape, the
    // simulator's class output.
    let meta = server.get("/v2/models/mlp").json();
    assert_eq!(meta["platform"], "nir", "{meta}");
    assert_eq!(meta["parameters"]["engine"], "simulator", "{meta}");
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 64]), "{meta}");
    assert_eq!(
        meta["outputs"],
        json!([{"name": "class", "datatype": "INT64", "shape": [-1]}])
    );
    let input = meta["inputs"][0]["name"].as_str().unwrap().to_owned();

    // snnTorch's exported MLP, stepped at NIR's 0.1 ms, picks the classes
    // snnTorch's own spike counts pick (the archive's `y`).
    let (x, expected) = serve::samples(&support::fixture("nir/snntorch_mlp_io.npz"), 40);
    let request = json!({"parameters": {"steps": 40, "decode": "count"},
        "inputs": [{"name": input, "shape": [40, 64], "datatype": "FP32", "data": x}]});
    let reply = server.post_json("/v2/models/mlp/infer", &request);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["outputs"][0]["data"], json!(expected));

    // A browser upload of a .nir file: created as a NIR model.
    let cnn = fixture_bytes("nir/snntorch_cnn.nir");
    let posted = server.post_form("cnn.nir", &cnn);
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert_eq!(posted.json()["name"], "cnn");
    assert_eq!(
        std::fs::read(workspace.path().join("cnn.nir")).unwrap(),
        cnn
    );

    // An ONNX model replaced by a NIR graph (a raw PUT, known by its HDF5
    // signature): the ONNX file is kept as version 1 and still served.
    let iris = fixture_bytes("ml/iris_logreg_nozipmap.onnx");
    assert_eq!(server.put("/api/models/iris", &iris, None).status, 201);
    let replaced = server.put("/api/models/iris", &mlp, None);
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(replaced.json()["versions"], json!([1, 2]));
    assert!(!workspace.path().join("iris.onnx").exists());
    assert_eq!(
        std::fs::read(workspace.path().join("iris.nir")).unwrap(),
        mlp
    );
    let kept = workspace.path().join(".neuride/versions/iris/1.onnx");
    assert_eq!(std::fs::read(kept).unwrap(), iris);
    assert_eq!(server.get("/v2/models/iris").json()["platform"], "nir");
    assert_eq!(
        server.get("/v2/models/iris/versions/1").json()["platform"],
        "onnx"
    );
    let old = server.post_json("/v2/models/iris/versions/1/infer", &iris_request());
    assert_eq!(old.status, 200, "{}", old.text());
    let current = server.get("/api/models/iris/download");
    assert_eq!(current.body, mlp);
    assert_eq!(
        current.disposition.as_deref(),
        Some("attachment; filename=\"iris.nir\"")
    );
    let first = server.get("/api/models/iris/download?version=1");
    assert_eq!(first.body, iris);
    assert_eq!(
        first.disposition.as_deref(),
        Some("attachment; filename=\"iris.onnx\"")
    );

    // A NIR file that does not read is refused, naming the format.
    let mut broken = mlp.clone();
    broken.truncate(mlp.len() / 3);
    let refused = server.put("/api/models/mlp", &broken, None);
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(
        std::fs::read(workspace.path().join("mlp.nir")).unwrap(),
        mlp
    );
}
