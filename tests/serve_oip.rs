//! `neuride serve examples/` answering the Open Inference Protocol: the
//! reference client (`tritonclient.http` from PyPI) compared against
//! onnxruntime on the same files, curl, plain JSON requests (flat and
//! nested data), the errors a client gets, and a spiking model run on the
//! simulator with `parameters: {"steps": N}`.

#[path = "e2e/serve.rs"]
mod serve;
#[path = "e2e/support.rs"]
mod support;

use serde_json::json;
use serve::Server;
use std::process::Command;

#[test]
fn tritonclient_gets_onnxruntimes_numbers() {
    let workspace = serve::examples_workspace();
    let server = Server::start(workspace.path(), &[]);
    let output = Command::new(support::test_python())
        .arg(support::repo_root().join("tests/python/serve_tritonclient.py"))
        .arg(server.url.trim_start_matches("http://"))
        .arg(workspace.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "tritonclient run failed:\n{stdout}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.stderr()
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(
        report["outputs_checked"].as_u64().unwrap() >= 20,
        "{report}"
    );
    eprintln!("tritonclient vs onnxruntime: {report}");
}

#[test]
fn metadata_json_tensors_and_errors() {
    let workspace = serve::examples_workspace();
    let server = Server::start(workspace.path(), &[]);
    assert_eq!(server.get("/v2/health/live").status, 200);
    assert_eq!(server.get("/v2/health/ready").status, 200);
    let meta = server.get("/v2/models/digits_cnn").json();
    assert_eq!(
        meta,
        json!({
            "name": "digits_cnn",
            "versions": ["1"],
            "platform": "onnx",
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 1, 8, 8]}],
            "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 10]}],
            "parameters": {"engine": "native"},
        })
    );
    assert_eq!(server.get("/v2/models/digits_cnn/ready").status, 200);
    assert_eq!(server.get("/v2/models/digits_cnn/versions/1").status, 200);
    let missing_version = server.get("/v2/models/digits_cnn/versions/7");
    assert_eq!(missing_version.status, 404);
    assert!(
        missing_version.error().contains("versions: [1]"),
        "{missing_version:?}"
    );

    // Flat and nested data give the same numbers; the id comes back.
    let sample = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
    let flat = json!({"id": "a", "inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "data": sample}]});
    let nested = json!({"inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32",
        "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}],
        "outputs": [{"name": "label"}]});
    let flat_reply = server.post_json("/v2/models/iris_logreg_nozipmap/infer", &flat);
    assert_eq!(flat_reply.status, 200, "{}", flat_reply.text());
    assert_eq!(flat_reply.content_type, "application/json");
    let flat_reply = flat_reply.json();
    assert_eq!(flat_reply["id"], "a");
    assert_eq!(flat_reply["model_name"], "iris_logreg_nozipmap");
    assert_eq!(flat_reply["model_version"], "1");
    let label = &flat_reply["outputs"][0];
    assert_eq!(label["name"], "label");
    assert_eq!(label["datatype"], "INT64");
    assert_eq!(label["shape"], json!([2]));
    // Iris setosa and virginica.
    assert_eq!(label["data"], json!([0, 2]));
    let probabilities = &flat_reply["outputs"][1];
    assert_eq!(probabilities["shape"], json!([2, 3]));
    assert_eq!(probabilities["data"].as_array().unwrap().len(), 6);
    let nested_reply = server
        .post_json("/v2/models/iris_logreg_nozipmap/infer", &nested)
        .json();
    assert_eq!(nested_reply["outputs"].as_array().unwrap().len(), 1);
    assert_eq!(nested_reply["outputs"][0], *label);

    // Errors: 404 for what does not exist, 400 naming the input and what
    // was expected.
    let cases = [
        (
            "/v2/models/nope/infer",
            json!({"inputs": []}),
            404,
            "no model 'nope'",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "X", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}),
            400,
            "'X'",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]}),
            400,
            "input 'X': shape [1, 4] needs 4 elements, found 3",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP16", "data": [1, 2, 3, 4]}]}),
            400,
            "input 'X': dtype float32 expected, found float16",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP8", "data": [1, 2, 3, 4]}]}),
            400,
            "datatype \"FP8\" is not an Open Inference Protocol datatype",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "petals", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}),
            400,
            "'petals' is not an input of the model",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}],
                   "outputs": [{"name": "score"}]}),
            400,
            "output 'score' is not an output of the model (outputs: label, probabilities)",
        ),
        (
            "/v2/models/iris_logreg_nozipmap/infer",
            json!({"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [1, "two", 3, 4]}]}),
            400,
            "input 'X': \"two\" is not a number",
        ),
    ];
    for (path, body, status, message) in cases {
        let reply = server.post_json(path, &body);
        assert_eq!(reply.status, status, "{body}: {}", reply.text());
        assert!(reply.error().contains(message), "{body}: {}", reply.error());
    }
    let not_json = serve::Server::agent()
        .post(server.url("/v2/models/digits_cnn/infer"))
        .send(&b"{inputs: oops"[..])
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
}

#[test]
fn curl_speaks_the_protocol() {
    let workspace = serve::examples_workspace();
    let server = Server::start(workspace.path(), &[]);
    let curl = |args: &[&str]| {
        let output = Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl is installed (scripts/test-all installs it)");
        let text = String::from_utf8(output.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.to_owned(), body.to_owned())
    };
    let (code, _) = curl(&[&server.url("/v2/health/ready")]);
    assert_eq!(code, "200");
    let request =
        r#"{"inputs":[{"name":"X","shape":[1,4],"datatype":"FP32","data":[6.0,2.2,5.0,1.5]}]}"#;
    let (code, body) = curl(&[
        "-H",
        "Content-Type: application/json",
        "-d",
        request,
        &server.url("/v2/models/iris_logreg_nozipmap/infer"),
    ]);
    assert_eq!(code, "200", "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["outputs"][0]["data"], json!([2]));
}

#[test]
fn a_spiking_model_runs_on_the_simulator_with_steps() {
    let workspace = serve::examples_workspace();
    serve::add_spiking_model(workspace.path(), "digits_spiking");
    let server = Server::start(workspace.path(), &[]);
    let meta = server.get("/v2/models/digits_spiking.snn").json();
    assert_eq!(meta["parameters"]["engine"], "simulator", "{meta}");
    assert_eq!(
        meta["outputs"],
        json!([{"name": "class", "datatype": "INT64", "shape": [-1]}])
    );
    let input = meta["inputs"][0]["name"].as_str().unwrap().to_owned();

    let (pixels, labels) = serve::digits(40);
    let request = |steps: serde_json::Value| {
        json!({"parameters": {"steps": steps},
               "inputs": [{"name": input, "shape": [40, 1, 8, 8], "datatype": "FP32", "data": pixels}]})
    };
    let reply = server.post_json("/v2/models/digits_spiking.snn/infer", &request(json!(40)));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let classes = reply.json()["outputs"][0]["data"].clone();
    let correct = classes
        .as_array()
        .unwrap()
        .iter()
        .zip(&labels)
        .filter(|(a, b)| a.as_i64() == Some(**b))
        .count();
    assert!(correct >= 34, "{correct}/40 right: {classes}");
    let zero = server.post_json("/v2/models/digits_spiking.snn/infer", &request(json!(0)));
    assert_eq!(zero.status, 400);
    assert!(
        zero.error().contains("steps must be between 1"),
        "{}",
        zero.error()
    );
    let words = server.post_json(
        "/v2/models/digits_spiking.snn/infer",
        &request(json!("many")),
    );
    assert_eq!(words.status, 400);
    assert!(
        words.error().starts_with("parameters: "),
        "{}",
        words.error()
    );
}
