//! The base protocol under attack, over stdio with the real binary: frames
//! that do not decode, requests racing notifications, busy jobs, and the
//! lifecycle rules (exit codes, requests before `initialize` and after
//! `shutdown`, unknown methods). Each case once ended or froze the session.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Client, file_uri};

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// The server still answers a request after whatever came before.
fn assert_alive(lsp: &mut Client, what: &str) {
    let id = lsp.send_request("neuride/models", Value::Null);
    let response = lsp.response(id);
    assert!(response["result"].is_array(), "after {what}: {response}");
}

/// The error answer with `"id": null` to a frame that had no usable id.
fn null_id_error(lsp: &mut Client, what: &str, code: i64) {
    let answer = lsp.wait_for(what, |m| {
        m.get("id") == Some(&Value::Null) && m["error"]["code"] == code
    });
    assert!(answer["error"]["message"].is_string(), "{answer}");
}

#[test]
fn bad_frames_are_answered_or_skipped_and_the_session_goes_on() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    let (mut lsp, _) = Client::initialized(&root, "vscode");

    let answered: &[(&str, &str, i64)] = &[
        ("invalid JSON", "{\"jsonrpc\": \"2.0\", \"id\": 1,", -32700),
        ("an empty batch", "[]", -32600),
        ("an empty object", "{}", -32600),
        (
            "a fractional id",
            r#"{"jsonrpc":"2.0","id":1.5,"method":"neuride/models"}"#,
            -32600,
        ),
        (
            "an object id",
            r#"{"jsonrpc":"2.0","id":{},"method":"neuride/models"}"#,
            -32600,
        ),
        ("a number", "42", -32600),
        ("an empty body", "", -32700),
    ];
    for (what, body, code) in answered {
        lsp.send_raw(&frame(body));
        null_id_error(&mut lsp, what, *code);
        assert_alive(&mut lsp, what);
    }

    // Invalid UTF-8 in a body.
    let body: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":[\"\xff\xfe\"]}";
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    lsp.send_raw(&bytes);
    null_id_error(&mut lsp, "invalid UTF-8", -32700);
    assert_alive(&mut lsp, "invalid UTF-8");

    // Frames whose header is broken are skipped without an answer.
    let skipped: Vec<(&str, Vec<u8>)> = vec![
        ("no Content-Length", b"Content-Type: x\r\n\r\n{}".to_vec()),
        (
            "a negative length",
            b"Content-Length: -5\r\n\r\n{}".to_vec(),
        ),
        (
            "a length of 10^14",
            b"Content-Length: 100000000000000\r\n\r\n{\"a\":1}".to_vec(),
        ),
        ("a header line without colon", b"hello\r\n\r\n".to_vec()),
        (
            "bytes between frames",
            vec![0u8, 1, 2, 255, 254, b'\n', b'x'],
        ),
        ("a 16 MB unterminated header", vec![b'X'; 16 * 1024 * 1024]),
    ];
    for (what, bytes) in &skipped {
        lsp.send_raw(bytes);
        assert_alive(&mut lsp, what);
    }

    // Three headers (one unknown) are fine.
    let body = r#"{"jsonrpc":"2.0","id":900,"method":"neuride/models"}"#;
    lsp.send_raw(
        format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nX-Trace: 1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert!(lsp.response(900)["result"].is_array());

    // A Content-Length longer than the message: the message and the next
    // one are both answered.
    let first = r#"{"jsonrpc":"2.0","id":901,"method":"neuride/models"}"#;
    let mut bytes = format!("Content-Length: {}\r\n\r\n{first}", first.len() + 500).into_bytes();
    bytes.extend(frame(
        r#"{"jsonrpc":"2.0","id":902,"method":"neuride/models"}"#,
    ));
    lsp.send_raw(&bytes);
    assert!(lsp.response(901)["result"].is_array());
    assert!(lsp.response(902)["result"].is_array());
    // One shorter than the message: that message is lost, the next is not.
    let mut bytes = format!("Content-Length: {}\r\n\r\n{first}", first.len() - 10).into_bytes();
    bytes.extend(frame(
        r#"{"jsonrpc":"2.0","id":903,"method":"neuride/models"}"#,
    ));
    lsp.send_raw(&bytes);
    null_id_error(&mut lsp, "a cut body", -32700);
    assert!(lsp.response(903)["result"].is_array());

    // Bad params: invalid params on the request's id.
    lsp.send_raw(&frame(
        r#"{"jsonrpc":"2.0","id":904,"method":"textDocument/hover","params":{"textDocument":7}}"#,
    ));
    assert_eq!(lsp.response(904)["error"]["code"], -32602);
    lsp.send_raw(&frame(
        r#"{"jsonrpc":"2.0","id":905,"method":"textDocument/hover","params":3}"#,
    ));
    assert_eq!(lsp.response(905)["error"]["code"], -32600);

    // A lone surrogate in an opened document: the text opens with U+FFFD.
    let path = root.join("lone.neuro");
    let uri = file_uri(&path);
    let open = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{uri}","languageId":"neuro","version":1,"text":"// \ud800\ndataset d = npz(\"x.npz\")\n"}}}}}}"#
    );
    lsp.send_raw(&frame(&open));
    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert!(
        symbols.to_string().contains("\"d\""),
        "the document opened: {symbols}"
    );

    assert!(
        lsp.stderr().contains("framing"),
        "framing errors are logged:\n{}",
        lsp.stderr()
    );
    lsp.shutdown();
}

#[test]
fn lifecycle_rules_and_unknown_methods() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);

    // Before initialize: refused with ServerNotInitialized.
    let mut lsp = Client::start(&root);
    let id = lsp.send_request("neuride/models", Value::Null);
    assert_eq!(lsp.response(id)["error"]["code"], -32002);
    lsp.request("initialize", support::initialize_params("vscode", &root));
    lsp.notify("initialized", json!({}));
    let id = lsp.send_request("initialize", support::initialize_params("vscode", &root));
    assert_eq!(
        lsp.response(id)["error"]["code"],
        -32600,
        "a second initialize"
    );

    // Every request with an id gets an answer, `$/` ones too.
    for method in [
        "$/unknownRequest",
        "textDocument/nothing",
        "neuride/nothing",
    ] {
        let id = lsp.send_request(method, json!({}));
        assert_eq!(lsp.response(id)["error"]["code"], -32601, "{method}");
    }
    lsp.notify("$/unknownNotification", json!({}));
    lsp.notify("$/setTrace", json!({ "value": "off" }));
    // `neuride/models` with no params member at all.
    lsp.send_raw(&frame(
        r#"{"jsonrpc":"2.0","id":77,"method":"neuride/models"}"#,
    ));
    assert!(lsp.response(77)["result"].is_array());
    let id = lsp.send_request("neuride/events", Value::Null);
    assert!(lsp.response(id)["result"].is_array());

    // After shutdown: requests are invalid, `exit` ends with 0.
    assert_eq!(lsp.request("shutdown", Value::Null), Value::Null);
    let id = lsp.send_request("neuride/models", Value::Null);
    assert_eq!(lsp.response(id)["error"]["code"], -32600);
    lsp.notify("exit", Value::Null);
    assert_eq!(lsp.wait_exit().code(), Some(0));

    // `exit` without `shutdown`: 1, as the specification says.
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.notify("exit", Value::Null);
    assert_eq!(lsp.wait_exit().code(), Some(1));
}

#[test]
fn requests_see_every_notification_sent_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (mut lsp, _) = Client::initialized(&root, "vscode");

    // An unsaved buffer: no file on disk behind it.
    let path = root.join("unsaved.neuro");
    let uri = file_uri(&path);
    let text = |name: &str| format!("dataset {name} = npz(\"data.npz\")\n");
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text("first") } }),
    );
    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert!(symbols.to_string().contains("\"first\""), "{symbols}");

    for version in 2..22 {
        let name = format!("name{version}");
        lsp.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text(&name) }] }),
        );
        let symbols = lsp.request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri } }),
        );
        assert!(
            symbols.to_string().contains(&format!("\"{name}\"")),
            "version {version}: {symbols}"
        );
        let hover = lsp.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 9 } }),
        );
        assert!(
            hover.to_string().contains(&name),
            "version {version}: {hover}"
        );
    }
    lsp.shutdown();
}

#[test]
fn running_jobs_leave_hover_and_cancellation_responsive() {
    let dir = support::workspace(&["dl/digits_mlp.onnx", "data/digits_test.npz"]);
    let root = support::canonical(&dir);
    let mlp = root.join("dl/digits_mlp.onnx");
    let test = root.join("data/digits_test.npz");
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.wait_diagnostics(&file_uri(&mlp), |d| d.is_empty());
    let view = lsp.request("neuride/modelText", json!({ "uri": file_uri(&mlp) }));
    let view_uri = view["uri"].as_str().unwrap().to_owned();

    // More jobs than tower-lsp's old concurrency limit of 4.
    let long =
        json!({ "uri": file_uri(&mlp), "data": file_uri(&test), "steps": 200000, "batch": 1 });
    let jobs: Vec<(i64, String)> = (0..6)
        .map(|index| {
            let token = format!("busy-{index}");
            let id = lsp.send_request(
                "workspace/executeCommand",
                json!({ "command": "neuride.simulate", "arguments": [long], "workDoneToken": token }),
            );
            (id, token)
        })
        .collect();
    for (_, token) in &jobs {
        lsp.wait_for("a job's progress report", |m| {
            m["method"] == "$/progress"
                && m["params"]["token"] == token.as_str()
                && m["params"]["value"]["kind"] == "report"
        });
    }

    let mut latencies = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        lsp.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": view_uri }, "position": { "line": 0, "character": 1 } }),
        );
        latencies.push(started.elapsed());
    }
    latencies.sort();
    // The goal is < 200 ms (the LSP benchmark reports the figure); the test
    // allows a loaded CI machine room while still catching a freeze (it was
    // 6-13 s).
    assert!(
        latencies[latencies.len() / 2] < Duration::from_secs(1),
        "hover median {:?} with 6 jobs running",
        latencies[latencies.len() / 2]
    );

    for (id, _) in &jobs {
        let started = Instant::now();
        lsp.notify("$/cancelRequest", json!({ "id": id }));
        let response = lsp.response(*id);
        assert_eq!(response["error"]["code"], -32800, "{response}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "cancellation took {:?}",
            started.elapsed()
        );
    }
    lsp.shutdown();
}

/// xorshift64*: deterministic bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_bytes_between_requests_never_end_the_session() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    let mut rng = Rng(0x0bad_f00d_dead_beef);
    for round in 0..300 {
        let len = (rng.next() % 3000) as usize;
        let mut junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Some rounds look like frames: a header, then garbage.
        if round % 3 == 0 {
            let mut header = format!("Content-Length: {}\r\n\r\n", len.min(200)).into_bytes();
            header.append(&mut junk);
            junk = header;
        }
        lsp.send_raw(&junk);
        // A frame whose declared length cut into the next request costs
        // that request; the one after must be answered.
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"neuride/models"}}"#,
            10_000 + round
        );
        let padding = vec![b' '; 256];
        lsp.send_raw(&padding);
        lsp.send_raw(&frame(&body));
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"neuride/models"}}"#,
            20_000 + round
        );
        lsp.send_raw(&frame(&body));
        let answer = lsp.response(20_000 + round);
        assert!(answer["result"].is_array(), "round {round}: {answer}");
    }
    // Answers to junk (parse errors with a null id) and to the requests the
    // junk may have cut are all there is besides notifications.
    let leftovers = lsp.drain();
    assert!(
        leftovers
            .iter()
            .all(|m| m.get("method").is_some() || m.get("id").is_some()),
        "{leftovers:?}"
    );
    lsp.notify("exit", Value::Null);
    assert_eq!(lsp.wait_exit().code(), Some(1));
}

#[test]
fn commands_write_only_inside_the_workspace_and_never_over_a_file_unasked() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().canonicalize().unwrap();
    let model = root.join("ml/iris_logreg.onnx");
    let stranger = outside.join("stranger.onnx");
    std::fs::copy(&model, &stranger).unwrap();
    let keep = root.join("keep.onnx");
    std::fs::write(&keep, b"not to be replaced").unwrap();
    let notes = root.join("notes.txt");
    std::fs::write(&notes, b"my notes").unwrap();
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.wait_diagnostics(&file_uri(&model), |d| d.is_empty());

    let command = |lsp: &mut Client, name: &str, argument: Value| -> Value {
        let id = lsp.send_request(
            "workspace/executeCommand",
            json!({ "command": name, "arguments": [argument] }),
        );
        lsp.response(id)
    };
    let refused = |response: &Value, what: &str| {
        assert_eq!(response["error"]["code"], -32602, "{what}: {response}");
    };

    // Export: outside the workspace only when the user picked the path.
    let target = outside.join("exported.onnx");
    let response = command(
        &mut lsp,
        "neuride.exportModel",
        json!({ "uri": file_uri(&model), "target": file_uri(&target) }),
    );
    refused(&response, "export outside");
    assert!(!target.exists());
    let response = command(
        &mut lsp,
        "neuride.exportModel",
        json!({ "uri": file_uri(&model), "target": file_uri(&target), "userPicked": true }),
    );
    assert!(
        response["result"]["bytes"].as_u64().unwrap() > 0,
        "{response}"
    );
    // Never over an existing file unless asked.
    let response = command(
        &mut lsp,
        "neuride.exportModel",
        json!({ "uri": file_uri(&model), "target": file_uri(&keep) }),
    );
    refused(&response, "export over a file");
    assert_eq!(std::fs::read(&keep).unwrap(), b"not to be replaced");
    // `..` cannot leave the workspace, and creates no folder.
    let escaping = format!("{}/sub/../../escaped.onnx", file_uri(&root));
    let response = command(
        &mut lsp,
        "neuride.exportModel",
        json!({ "uri": file_uri(&model), "target": escaping }),
    );
    refused(&response, "export with ..");
    assert!(!root.join("sub").exists());

    // Import: a non-model is refused before anything is copied.
    let response = command(
        &mut lsp,
        "neuride.importModel",
        json!({ "source": "file:///etc/passwd" }),
    );
    refused(&response, "import /etc/passwd");
    assert!(!root.join("passwd").exists());
    let response = command(
        &mut lsp,
        "neuride.importModel",
        json!({ "source": file_uri(&stranger) }),
    );
    assert_eq!(response["result"]["errors"], 0, "{response}");
    let response = command(
        &mut lsp,
        "neuride.importModel",
        json!({ "source": file_uri(&stranger) }),
    );
    refused(&response, "import twice");
    assert!(
        !response.to_string().contains("overwrite: true"),
        "{response}"
    );
    let response = command(
        &mut lsp,
        "neuride.importModel",
        json!({ "source": file_uri(&stranger), "target": file_uri(&notes), "overwrite": true }),
    );
    refused(&response, "import over a non-model");
    assert_eq!(std::fs::read(&notes).unwrap(), b"my notes");

    // A model outside the workspace viewed as text is not a workspace model.
    let other = outside.join("viewed.onnx");
    std::fs::copy(&model, &other).unwrap();
    lsp.request("neuride/modelText", json!({ "uri": file_uri(&other) }));
    let models = lsp.request("neuride/models", Value::Null);
    assert!(!models.to_string().contains("viewed.onnx"), "{models}");
    let symbols = lsp.request("workspace/symbol", json!({ "query": "" }));
    assert!(!symbols.to_string().contains("viewed.onnx"), "{symbols}");
    lsp.shutdown();
}
