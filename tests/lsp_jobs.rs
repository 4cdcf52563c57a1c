//! The long-running commands over stdio, as an editor runs them:
//! `neuride.simulate` and `neuride.infer` on models and on `.neuro` blocks
//! (through the code lenses the server hands out), with work-done progress
//! on the client's token, results equal to the CLI's, and cancellation by
//! `$/cancelRequest` and by `window/workDoneProgress/cancel`.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::{Client, file_uri};

const FIXTURES: &[&str] = &[
    "dl/digits_mlp.onnx",
    "ml/iris_logreg.onnx",
    "data/digits_test.npz",
    "data/digits_calib.npz",
    "data/iris.npz",
];

fn cli_json(args: &[&str]) -> Value {
    let out = Command::new(support::binary()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The whole response to `workspace/executeCommand` of `command`.
fn execute(lsp: &mut Client, command: &str, argument: Value) -> Value {
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": command, "arguments": [argument] }),
    );
    lsp.response(id)
}

/// `response` is an invalid-params error whose message says `what`.
fn refused(response: &Value, what: &str) {
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let message = response["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(what), "{what}: {response}");
}

fn progress_of<'a>(messages: &'a [Value], token: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["method"] == "$/progress" && m["params"]["token"] == token)
        .map(|m| &m["params"]["value"])
        .collect()
}

#[test]
fn simulate_and_infer_report_progress_match_the_cli_and_cancel() {
    let dir = support::workspace(FIXTURES);
    let root = support::canonical(&dir);
    let mlp = root.join("dl/digits_mlp.onnx");
    let test = root.join("data/digits_test.npz");
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.wait_diagnostics(&file_uri(&mlp), |d| d.is_empty());

    // A model simulation: data as a URI, calibration relative to the model.
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({
            "command": "neuride.simulate",
            "arguments": [{ "uri": file_uri(&mlp), "data": file_uri(&test),
                            "calib": "../data/digits_calib.npz", "steps": 20, "limit": 200, "batch": 16 }],
            "workDoneToken": "sim-1"
        }),
    );
    let response = lsp.response(id);
    let report = &response["result"];
    assert!(response.get("error").is_none(), "{response}");
    for key in neuride_convert::SimulateReport::JSON_FIELDS {
        assert!(report.get(key).is_some(), "missing {key}: {report}");
    }
    assert_eq!(report["samples"], 200);
    assert_eq!(report["accuracy_per_step"].as_array().unwrap().len(), 20);
    let cli = cli_json(&[
        "simulate",
        mlp.to_str().unwrap(),
        "--data",
        test.to_str().unwrap(),
        "--calib",
        root.join("data/digits_calib.npz").to_str().unwrap(),
        "--steps",
        "20",
        "--limit",
        "200",
        "--batch",
        "16",
        "--format",
        "json",
    ]);
    assert_eq!(report["accuracy"], cli["accuracy"]);
    assert_eq!(report["accuracy_per_step"], cli["accuracy_per_step"]);
    assert_eq!(report["synops"], cli["synops"]);

    let messages = lsp.drain();
    let progress = progress_of(&messages, "sim-1");
    assert_eq!(progress.first().unwrap()["kind"], "begin", "{progress:?}");
    assert_eq!(progress.first().unwrap()["cancellable"], true);
    assert!(
        progress
            .iter()
            .any(|p| p["kind"] == "report" && p["message"].as_str().unwrap().contains("samples")),
        "{progress:?}"
    );
    assert_eq!(progress.last().unwrap()["kind"], "end");

    // Inference scores like the CLI.
    let iris = root.join("ml/iris_logreg.onnx");
    let result = lsp.request(
        "workspace/executeCommand",
        json!({
            "command": "neuride.infer",
            "arguments": [{ "uri": file_uri(&iris), "input": "../data/iris.npz", "labels": "y" }],
            "workDoneToken": "infer-1"
        }),
    );
    let cli = cli_json(&[
        "infer",
        iris.to_str().unwrap(),
        "--input",
        root.join("data/iris.npz").to_str().unwrap(),
        "--labels",
        "y",
        "--format",
        "json",
    ]);
    assert_eq!(result["score"], cli["score"]);
    assert_eq!(result["rows"], 150);
    assert_eq!(
        result["outputs"]["output_label"],
        cli["outputs"]["output_label"]
    );

    // Conversion writes the spiking network beside the model and logs it.
    let written = lsp.request(
        "workspace/executeCommand",
        json!({ "command": "neuride.convert", "arguments": [{ "uri": file_uri(&mlp), "calib": "../data/digits_calib.npz" }] }),
    );
    let neuro = root.join("dl/digits_mlp_snn.neuro");
    assert_eq!(written["neuro"], file_uri(&neuro));
    assert!(std::fs::read_to_string(&neuro).unwrap().contains("network"));
    assert!(root.join("dl/digits_mlp_snn.snn.onnx").is_file());
    let events = lsp.request("neuride/events", json!({}));
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "converted" && e["path"] == mlp.to_str().unwrap()),
        "{events}"
    );
    // The written files are analysed like any other: the new network checks clean.
    lsp.wait_diagnostics(&file_uri(&neuro), |d| d.is_empty());

    // Converting again never replaces the user's (perhaps edited) network
    // unasked; with `overwrite` it does, atomically.
    std::fs::write(&neuro, "// my edits\n").unwrap();
    let again = json!({ "uri": file_uri(&mlp), "calib": "../data/digits_calib.npz" });
    let response = execute(&mut lsp, "neuride.convert", again.clone());
    refused(&response, "digits_mlp_snn.neuro already exists");
    assert_eq!(std::fs::read_to_string(&neuro).unwrap(), "// my edits\n");
    let mut again = again;
    again["overwrite"] = json!(true);
    lsp.request(
        "workspace/executeCommand",
        json!({ "command": "neuride.convert", "arguments": [again] }),
    );
    assert!(std::fs::read_to_string(&neuro).unwrap().contains("network"));
    let leftovers: Vec<_> = std::fs::read_dir(root.join("dl"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Inference writes its outputs only inside the workspace (or where the
    // user picked), never over a file unasked.
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().canonicalize().unwrap().join("out.npz");
    let iris_model = root.join("ml/iris_logreg.onnx");
    let infer_to = |output: &Path, picked: bool| {
        json!({ "uri": file_uri(&iris_model), "input": "../data/iris.npz",
                "output": file_uri(output), "userPicked": picked })
    };
    let response = execute(&mut lsp, "neuride.infer", infer_to(&outside, false));
    refused(&response, "outside the workspace");
    let response = execute(&mut lsp, "neuride.infer", infer_to(&iris_model, false));
    refused(&response, "already exists");
    assert!(!outside.exists());
    let response = execute(&mut lsp, "neuride.infer", infer_to(&outside, true));
    assert!(response.get("error").is_none(), "{response}");
    assert!(outside.is_file());

    // Bad options are invalid params naming the option, and the server lives on.
    let bad = json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "steps": "many" });
    refused(&execute(&mut lsp, "neuride.simulate", bad), "\"steps\"");
    let unknown = json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "stpes": 5 });
    refused(&execute(&mut lsp, "neuride.simulate", unknown), "stpes");

    // Cancelled by $/cancelRequest once it has reported progress.
    let long =
        json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "steps": 20000, "batch": 1 });
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.simulate", "arguments": [long], "workDoneToken": "sim-2" }),
    );
    lsp.wait_for("a progress report of sim-2", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "sim-2"
            && m["params"]["value"]["kind"] == "report"
    });
    lsp.notify("$/cancelRequest", json!({ "id": id }));
    let response = lsp.response(id);
    assert_eq!(response["error"]["code"], -32800, "{response}");
    let end = lsp.wait_for("sim-2 ends", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "sim-2"
            && m["params"]["value"]["kind"] == "end"
    });
    assert_eq!(end["params"]["value"]["message"], "cancelled");

    // Cancelled from the progress UI (window/workDoneProgress/cancel).
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.simulate", "arguments": [long], "workDoneToken": "sim-3" }),
    );
    lsp.wait_for("a progress report of sim-3", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "sim-3"
            && m["params"]["value"]["kind"] == "report"
    });
    lsp.notify(
        "window/workDoneProgress/cancel",
        json!({ "token": "sim-3" }),
    );
    let response = lsp.response(id);
    assert_eq!(response["error"]["code"], -32800, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{response}"
    );

    // The server still answers.
    let models = lsp.request("neuride/models", json!({}));
    assert_eq!(models.as_array().unwrap().len(), 3, "{models}");
    lsp.shutdown();
}

#[test]
fn code_lenses_run_the_neuro_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let example = support::repo_root().join("examples/handwritten-snn");
    for relative in ["weights/digits_mlp.npz", "data/digits_test.npz"] {
        let target = root.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(example.join(relative), &target).unwrap();
    }
    // The example on fewer samples, so the debug build runs it quickly.
    let text = std::fs::read_to_string(example.join("mlp.neuro"))
        .unwrap()
        .replace("steps = 100", "steps = 100\n    limit = 90");
    let path = root.join("mlp.neuro");
    std::fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);

    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text } }));
    lsp.wait_diagnostics(&uri, |d| d.is_empty());
    let lenses = lsp.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    let lenses = lenses.as_array().unwrap();
    let simulate: Vec<&Value> = lenses
        .iter()
        .filter(|l| l["command"]["command"] == "neuride.simulate")
        .collect();
    assert_eq!(simulate.len(), 2, "{lenses:?}");
    let first = simulate[0];
    assert_eq!(
        first["command"]["arguments"],
        json!([{ "uri": uri, "name": "lif_mlp" }])
    );
    assert_eq!(
        first["range"]["start"]["line"].as_u64().unwrap() as usize,
        text.lines()
            .position(|l| l.starts_with("simulate lif_mlp"))
            .unwrap()
    );

    let result = lsp.request(
        "workspace/executeCommand",
        json!({ "command": first["command"]["command"], "arguments": first["command"]["arguments"], "workDoneToken": "lens-1" }),
    );
    assert_eq!(result["steps"], 100);
    assert_eq!(result["samples"], 90);
    // Above chance (0.1); the hand-written net is not normalised like a converted one.
    assert!(result["accuracy"].as_f64().unwrap() > 0.25, "{result}");
    let cli = cli_json(&[
        "simulate",
        path.to_str().unwrap(),
        "--run",
        "lif_mlp",
        "--format",
        "json",
    ]);
    assert_eq!(result["accuracy"], cli["accuracy"]);

    // A run uses the editor's unsaved text, not the file on disk.
    let edited = text.replace("steps = 100", "steps = 20");
    lsp.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": edited }] }));
    lsp.wait_diagnostics(&uri, |d| d.is_empty());
    let result = lsp.request(
        "workspace/executeCommand",
        json!({ "command": "neuride.simulate", "arguments": [{ "uri": uri, "name": "lif_mlp" }] }),
    );
    assert_eq!(result["steps"], 20);

    // An unknown block is an error that lists the blocks.
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.simulate", "arguments": [{ "uri": uri, "name": "nope" }] }),
    );
    let response = lsp.response(id);
    let message = response["error"]["message"].as_str().unwrap();
    assert!(message.contains("lif_mlp"), "{response}");
    lsp.shutdown();
}

#[test]
fn sweeps_run_as_jobs_from_a_lens_report_each_trial_and_cancel() {
    let dir = support::workspace(FIXTURES);
    let root = support::canonical(&dir);
    let mlp = root.join("dl/digits_mlp.onnx");
    let test = root.join("data/digits_test.npz");
    let neuro = root.join("sweep.neuro");
    let text = "model mlp = onnx(\"dl/digits_mlp.onnx\")\ndataset test = npz(\"data/digits_test.npz\", y: \"y\")\nnetwork snn = convert(mlp) {\n    normalize = percentile(99.9, data: test)\n}\nsweep snn on test {\n    steps = [2, 4, 8]\n    limit = 60\n}\n";
    std::fs::write(&neuro, text).unwrap();
    let uri = file_uri(&neuro);
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text } }));
    lsp.wait_diagnostics(&uri, |d| d.is_empty());

    // The lens above the sweep block runs it.
    let lenses = lsp.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    let lens = lenses
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["command"]["command"] == "neuride.sweep")
        .unwrap_or_else(|| panic!("no sweep lens: {lenses}"))
        .clone();
    assert_eq!(lens["command"]["title"], "▶ Sweep");
    assert_eq!(lens["range"]["start"]["line"], 5);
    let result = lsp.request(
        "workspace/executeCommand",
        json!({ "command": "neuride.sweep", "arguments": lens["command"]["arguments"], "workDoneToken": "sweep-1" }),
    );
    let results = result["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{result}");
    assert_eq!(results[2]["steps"], 8);
    assert_eq!(results[2]["samples"], 60);
    assert!(result["svg"].as_str().unwrap().starts_with("<svg"));
    assert!(!result["pareto"].as_array().unwrap().is_empty());
    let cli = cli_json(&["sweep", neuro.to_str().unwrap(), "--format", "json"]);
    for (editor, cli) in results.iter().zip(cli["results"].as_array().unwrap()) {
        assert_eq!(editor["accuracy"], cli["accuracy"]);
        assert_eq!(editor["synops"], cli["synops"]);
    }
    let messages = lsp.drain();
    let progress = progress_of(&messages, "sweep-1");
    let trials = progress
        .iter()
        .filter(|p| p["kind"] == "report" && p["message"].as_str().unwrap().starts_with("trial "))
        .count();
    assert!(trials >= 1, "{progress:?}");
    assert_eq!(progress.last().unwrap()["kind"], "end");

    // A model with a grid in JSON; bad grids are invalid params.
    let argument = json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "limit": 40,
                           "grid": { "steps": [2, 3], "encode": ["current", "rate"] }, "jobs": 2 });
    let result = lsp.request(
        "workspace/executeCommand",
        json!({ "command": "neuride.sweep", "arguments": [argument] }),
    );
    assert_eq!(result["results"].as_array().unwrap().len(), 4, "{result}");
    assert_eq!(result["jobs"], 2);
    let bad =
        json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "grid": { "steps": "many" } });
    refused(&execute(&mut lsp, "neuride.sweep", bad), "grid");

    // Cancelled by $/cancelRequest after its first trials.
    let long = json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "batch": 1,
                       "grid": { "steps": [100, 200, 400, 800, 1600, 3200] }, "jobs": 1 });
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.sweep", "arguments": [long], "workDoneToken": "sweep-2" }),
    );
    lsp.wait_for("the first trial of sweep-2", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "sweep-2"
            && m["params"]["value"]["kind"] == "report"
    });
    lsp.notify("$/cancelRequest", json!({ "id": id }));
    let response = lsp.response(id);
    assert_eq!(response["error"]["code"], -32800, "{response}");
    let end = lsp.wait_for("sweep-2 ends", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "sweep-2"
            && m["params"]["value"]["kind"] == "end"
    });
    assert_eq!(end["params"]["value"]["message"], "cancelled");
    lsp.shutdown();
}
