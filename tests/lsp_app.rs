//! `neuride.runApp` over stdio, as an editor runs it from the ▶ Run app
//! lens: events stream as `neuride/appEvent` notifications (the same ones
//! `neuride app run` prints), counts as `neuride/appStatus`, work-done
//! progress on the client's token, the registry's event log records them,
//! and a long run stops on `$/cancelRequest` and on
//! `window/workDoneProgress/cancel`.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use std::process::Command;
use support::{Client, file_uri};

fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let example = support::repo_root().join("examples/iot-app");
    for relative in [
        "greenhouse.neuro",
        "models/iris_logreg_nozipmap.onnx",
        "data/iris.npz",
    ] {
        let target = root.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(example.join(relative), &target).unwrap();
    }
    (dir, root)
}

fn app_events(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m["method"] == "neuride/appEvent")
        .map(|m| m["params"]["event"].clone())
        .collect()
}

#[test]
fn run_app_streams_the_cli_events_and_logs_them() {
    let (_dir, root) = workspace();
    let path = root.join("greenhouse.neuro");
    let uri = file_uri(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut lsp, initialized) = Client::initialized(&root, "vscode");
    let commands = &initialized["capabilities"]["executeCommandProvider"]["commands"];
    assert!(
        commands
            .as_array()
            .unwrap()
            .contains(&json!("neuride.runApp")),
        "{commands}"
    );
    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text } }));
    lsp.wait_diagnostics(&uri, |d| d.is_empty());

    // The lens above the app runs it.
    let lenses = lsp.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    let lens = lenses
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["command"]["command"] == "neuride.runApp")
        .unwrap_or_else(|| panic!("no Run app lens: {lenses}"))
        .clone();
    assert_eq!(lens["command"]["title"], "▶ Run app");
    assert_eq!(
        lens["command"]["arguments"],
        json!([{ "uri": uri, "app": "greenhouse" }])
    );
    assert_eq!(
        lens["range"]["start"]["line"].as_u64().unwrap() as usize,
        text.lines()
            .position(|l| l.starts_with("app greenhouse"))
            .unwrap()
    );
    let mut argument = lens["command"]["arguments"][0].clone();
    argument["limit"] = json!(150);
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.runApp", "arguments": [argument], "workDoneToken": "app-1" }),
    );
    let response = lsp.response(id);
    assert!(response.get("error").is_none(), "{response}");
    let report = &response["result"];
    assert_eq!(report["readings"]["leaf"], 150);
    assert_eq!(report["stopped"], "end of data");
    // The progress ends around the response (its own channel): wait for it.
    let end = lsp.wait_for("the progress end", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "app-1"
            && m["params"]["value"]["kind"] == "end"
    });
    let mut messages = lsp.drain();
    messages.push(end);
    let streamed = app_events(&messages);
    assert!(messages.iter().all(|m| m["method"] != "neuride/appEvent"
        || (m["params"]["uri"] == uri && m["params"]["app"] == "greenhouse")));

    // The same events as the CLI's, in the same order.
    let out = Command::new(support::binary())
        .args([
            "app",
            "run",
            path.to_str().unwrap(),
            "--limit",
            "150",
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    let cli: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(streamed, cli);
    let rules = streamed.iter().filter(|e| e["kind"] == "rule").count();
    assert_eq!(report["events"]["virginica"], rules);
    assert!(rules > 0);

    // Work-done progress on the client's token: begin ... end.
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "$/progress" && m["params"]["token"] == "app-1")
        .map(|m| &m["params"]["value"])
        .collect();
    assert_eq!(progress.first().unwrap()["kind"], "begin");
    assert_eq!(progress.last().unwrap()["kind"], "end");
    assert!(messages.iter().any(|m| m["method"] == "neuride/appStatus"));

    // The registry's event log has the run: started, the rules, stopped.
    let log = lsp.request("neuride/events", json!({}));
    let app_log: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "app")
        .collect();
    assert_eq!(app_log.len(), rules + 2, "{log}");
    assert!(
        app_log[1]["detail"]
            .as_str()
            .unwrap()
            .contains("virginica-detected (rule virginica)  species=2"),
        "{}",
        app_log[1]
    );
    assert_eq!(app_log[1]["path"], path.to_str().unwrap());

    // Bad arguments are invalid params naming them.
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.runApp", "arguments": [{ "uri": uri, "speed": "warp" }] }),
    );
    let response = lsp.response(id);
    assert_eq!(response["error"]["code"], -32602, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("option \"speed\""),
        "{response}"
    );
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.runApp", "arguments": [{ "uri": uri, "app": "nope" }] }),
    );
    let response = lsp.response(id);
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no app 'nope' (apps: greenhouse)"),
        "{response}"
    );
    lsp.shutdown();
}

#[test]
fn a_running_app_stops_on_cancel() {
    let (_dir, root) = workspace();
    let uri = file_uri(&root.join("greenhouse.neuro"));
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    // Real time and looping: it would run forever.
    let run = |lsp: &mut Client, token: &str| {
        lsp.send_request(
            "workspace/executeCommand",
            json!({ "command": "neuride.runApp", "arguments": [{ "uri": uri, "speed": "realtime", "loop": true }], "workDoneToken": token }),
        )
    };
    for how in ["$/cancelRequest", "window/workDoneProgress/cancel"] {
        let token = format!("app-{how}");
        let id = run(&mut lsp, &token);
        // Events arrive while it runs: the first readings' rule needs 3 at 5 Hz.
        lsp.wait_for("started", |m| {
            m["method"] == "neuride/appEvent" && m["params"]["event"]["kind"] == "started"
        });
        lsp.wait_for("a status", |m| m["method"] == "neuride/appStatus");
        match how {
            "$/cancelRequest" => lsp.notify(how, json!({ "id": id })),
            _ => lsp.notify(how, json!({ "token": token })),
        }
        let response = lsp.response(id);
        assert_eq!(response["error"]["code"], -32800, "{how}: {response}");
        lsp.wait_for("the progress end", |m| {
            m["method"] == "$/progress"
                && m["params"]["token"] == token
                && m["params"]["value"]["kind"] == "end"
        });
    }
    // The work-done cancel let the run end itself: its stopped event came.
    let stopped = lsp.wait_for("stopped", |m| {
        m["method"] == "neuride/appEvent" && m["params"]["event"]["kind"] == "stopped"
    });
    assert_eq!(stopped["params"]["event"]["message"], "cancelled");
    lsp.shutdown();
}
