//! End-to-end: the real `neuride lsp` binary driven over stdio with the
//! initialize messages VS Code and Neovim really send; whole responses are
//! asserted, and shutdown checks the server exited cleanly without a panic.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use support::{Client, file_uri, view_uri};

const BROKEN: &[u8] = &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];

fn expected_capabilities() -> Value {
    json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": { "openClose": true, "change": 1 },
        "hoverProvider": true,
        "definitionProvider": true,
        "documentSymbolProvider": true,
        "workspaceSymbolProvider": true,
        "referencesProvider": true,
        "renameProvider": { "prepareProvider": true },
        "completionProvider": { "triggerCharacters": ["\"", "(", "/", "."] },
        "semanticTokensProvider": {
            "legend": {
                "tokenTypes": ["keyword", "variable", "function", "parameter", "property", "string", "number",
                               "comment", "operator", "type", "class", "namespace", "enumMember", "event"],
                "tokenModifiers": ["declaration", "definition", "readonly", "defaultLibrary"]
            },
            "full": true
        },
        "documentFormattingProvider": true,
        "inlayHintProvider": true,
        "codeActionProvider": true,
        "codeLensProvider": { "resolveProvider": false },
        "executeCommandProvider": {
            "commands": ["neuride.importModel", "neuride.exportModel", "neuride.showGraph", "neuride.recheck",
                         "neuride.simulate", "neuride.infer", "neuride.convert", "neuride.runApp", "neuride.fixModel", "neuride.sweep"],
            "workDoneProgress": true
        }
    })
}

fn decode_error(message_end: u32) -> Value {
    json!({
        "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": message_end } },
        "severity": 1,
        "code": "onnx/decode-error",
        "source": "neuride",
    })
}

/// Drops `message` (prost's wording is not ours to pin) and compares the rest.
fn without_message(diagnostics: &[Value]) -> Vec<Value> {
    diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.as_object_mut().unwrap().remove("message");
            d
        })
        .collect()
}

#[test]
fn vscode_session_models_views_registry_and_watching() {
    let dir = support::workspace(&["dl/digits_mlp.onnx", "data/iris.npz"]);
    let root = support::canonical(&dir);
    std::fs::write(root.join("broken.onnx"), BROKEN).unwrap();
    let mlp = root.join("dl/digits_mlp.onnx");
    let broken = root.join("broken.onnx");

    let (mut lsp, init) = Client::initialized(&root, "vscode");
    assert_eq!(init["capabilities"], expected_capabilities());
    assert_eq!(init["serverInfo"]["name"], "neuride");

    // Diagnostics for files nobody opened: broken, and an empty list for clean ones.
    let diagnostics = lsp.wait_diagnostics(&file_uri(&broken), |d| !d.is_empty());
    let message_len = diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .encode_utf16()
        .count() as u32
        + 2;
    assert_eq!(without_message(&diagnostics), [decode_error(message_len)]);
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("not a valid ONNX model")
    );
    let clean = lsp.wait_diagnostics(&file_uri(&mlp), |_| true);
    assert!(clean.iter().all(|d| d["severity"] != 1), "{clean:?}");
    lsp.wait_diagnostics(&file_uri(&root.join("data/iris.npz")), |d| d.is_empty());

    // VS Code can watch files: the server registered its watchers with it.
    let registration = lsp
        .server_requests
        .iter()
        .find(|r| r["method"] == "client/registerCapability")
        .expect("watchers registered with the client")
        .clone();
    assert_eq!(
        registration["params"]["registrations"][0],
        json!({
            "id": "neuride-watch",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": { "watchers": [
                { "globPattern": "**/*.onnx" }, { "globPattern": "**/*.npz" },
                { "globPattern": "**/*.npy" }, { "globPattern": "**/*.neuro" },
                { "globPattern": "**/*.nir" }, { "globPattern": "**/neuride.toml" }, { "globPattern": "**/pyproject.toml" }
            ] }
        })
    );

    // The text view and requests on its virtual URI.
    let view = lsp.request("neuride/modelText", json!({ "uri": file_uri(&mlp) }));
    assert_eq!(view["uri"], view_uri(&mlp));
    let text = view["text"].as_str().unwrap();
    assert!(text.starts_with("<\n"), "{text}");
    let map = view["map"].as_array().unwrap();
    let gemm = map
        .iter()
        .find(|e| e["kind"] == "node" && e["op"] == "Gemm")
        .expect("a Gemm node in the map");
    // Hover on the op name (an output name would show the value instead).
    let gemm_line = gemm["range"]["start"]["line"].as_u64().unwrap() as usize;
    let op_column = text.lines().nth(gemm_line).unwrap().find("= Gemm").unwrap() + 3;
    let hover = lsp.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": view_uri(&mlp) }, "position": { "line": gemm_line, "character": op_column } }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(
        markdown.starts_with("**Gemm** (`ai.onnx`) node #"),
        "{markdown}"
    );
    for expected in [
        "**inputs**",
        "**outputs**",
        "**attributes**",
        "**parameters**",
        "min ",
        "std ",
        "**MACs**",
    ] {
        assert!(
            markdown.contains(expected),
            "hover lacks {expected}: {markdown}"
        );
    }
    assert_eq!(hover["range"], gemm["range"]);

    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": view_uri(&mlp) } }),
    );
    let graph = &symbols[0];
    assert_eq!(graph["kind"], 3, "{graph}");
    let nodes = graph["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == 12)
        .count();
    let node_entries = map.iter().filter(|e| e["kind"] == "node").count();
    assert_eq!(nodes, node_entries);

    // Definition: from the use of a value to the node that outputs it.
    let relu = map
        .iter()
        .find(|e| e["kind"] == "node" && e["op"] == "Relu")
        .expect("a Relu node");
    let line = relu["range"]["start"]["line"].as_u64().unwrap() as usize;
    let line_text = text.lines().nth(line).unwrap();
    let open = line_text.rfind('(').unwrap() + 1;
    let definition = lsp.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": view_uri(&mlp) }, "position": { "line": line, "character": open + 1 } }),
    );
    assert_eq!(definition["uri"], view_uri(&mlp));
    let target_line = definition["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert!(
        target_line < line,
        "definition {definition} should be above line {line}"
    );

    // Viewing a model also publishes its diagnostics on the view.
    lsp.wait_diagnostics(&view_uri(&mlp), |_| true);

    // Registry.
    let models = lsp.request("neuride/models", json!({}));
    let models = models.as_array().unwrap();
    assert_eq!(models.len(), 2);
    let entry = models.iter().find(|m| m["uri"] == file_uri(&mlp)).unwrap();
    assert_eq!(entry["kind"], "dl");
    assert_eq!(entry["path"], mlp.to_str().unwrap());
    assert_eq!(entry["size"], std::fs::metadata(&mlp).unwrap().len());
    assert_eq!(entry["producer"], "pytorch 2.15.0");
    assert!(entry["nodes"].as_u64().unwrap() > 0 && entry["parameters"].as_u64().unwrap() > 4000);
    let broken_entry = models
        .iter()
        .find(|m| m["uri"] == file_uri(&broken))
        .unwrap();
    assert_eq!(broken_entry["kind"], "unknown");
    assert_eq!(broken_entry["errors"], 1);

    let classify = lsp.request("neuride/classify", json!({ "uri": file_uri(&mlp) }));
    assert_eq!(classify["kind"], "dl");
    let summary = lsp.request("neuride/modelSummary", json!({ "uri": file_uri(&mlp) }));
    assert_eq!(summary["kind"], "dl");
    assert_eq!(summary["parameters"], entry["parameters"]);

    let symbols = lsp.request("workspace/symbol", json!({ "query": "digits" }));
    assert_eq!(symbols[0]["name"], "digits_mlp");
    assert_eq!(symbols[0]["location"]["uri"], view_uri(&mlp));

    // The client's watcher reports a change: the model breaks, then is fixed.
    std::fs::write(&mlp, BROKEN).unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&mlp), "type": 2 }] }),
    );
    let broken_now = lsp.wait_diagnostics(&file_uri(&mlp), |d| !d.is_empty());
    assert_eq!(broken_now[0]["code"], "onnx/decode-error");
    std::fs::copy(support::fixture("dl/digits_mlp.onnx"), &mlp).unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&mlp), "type": 2 }] }),
    );
    lsp.wait_diagnostics(&file_uri(&mlp), |d| d.iter().all(|d| d["severity"] != 1));

    // Deleted: its diagnostics are cleared.
    std::fs::remove_file(&broken).unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&broken), "type": 3 }] }),
    );
    lsp.wait_diagnostics(&file_uri(&broken), |d| d.is_empty());

    // The event log, mirrored to window/logMessage.
    let events = lsp.request("neuride/events", json!({}));
    let kinds: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("broken.onnx", "added"),
        ("digits_mlp.onnx", "added"),
        ("digits_mlp.onnx", "changed"),
        ("digits_mlp.onnx", "reclassified"),
        ("broken.onnx", "removed"),
    ] {
        assert!(
            kinds.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {kinds:?}"
        );
    }
    let log = lsp.wait_for("event mirrored to the log", |m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"].as_str().unwrap().contains("removed")
    });
    assert!(
        log["params"]["message"]
            .as_str()
            .unwrap()
            .ends_with("broken.onnx: model deleted"),
        "{log}"
    );

    // A job with the client's progress token.
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({ "command": "neuride.recheck", "arguments": [], "workDoneToken": "recheck-1" }),
    );
    let response = lsp.response(id);
    assert_eq!(
        response["result"],
        json!({ "files": 2, "errors": 0, "warnings": response["result"]["warnings"] })
    );
    let begin = lsp.wait_for("progress begin", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "recheck-1"
            && m["params"]["value"]["kind"] == "begin"
    });
    assert_eq!(begin["params"]["value"]["cancellable"], true);
    let end = lsp.wait_for("progress end", |m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "recheck-1"
            && m["params"]["value"]["kind"] == "end"
    });
    assert!(end["params"]["value"]["message"].is_string(), "{end}");

    lsp.shutdown();
}

#[test]
fn neovim_session_server_side_watching() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
    let iris = root.join("ml/iris_logreg.onnx");

    let (mut lsp, init) = Client::initialized(&root, "nvim");
    assert_eq!(init["capabilities"], expected_capabilities());
    lsp.wait_diagnostics(&file_uri(&iris), |d| d.is_empty());
    // Neovim 0.7 cannot watch files: the server must not ask it to.
    assert!(
        lsp.server_requests
            .iter()
            .all(|r| r["method"] != "client/registerCapability")
    );

    // Created (by rename, as exporters do), then renamed, then deleted.
    let created = root.join("new.onnx");
    let temporary = root.join("new.onnx.part");
    std::fs::write(&temporary, BROKEN).unwrap();
    std::fs::rename(&temporary, &created).unwrap();
    let diagnostics = lsp.wait_diagnostics(&file_uri(&created), |d| !d.is_empty());
    assert_eq!(diagnostics[0]["code"], "onnx/decode-error");

    let renamed = root.join("renamed.onnx");
    std::fs::rename(&created, &renamed).unwrap();
    lsp.wait_diagnostics(&file_uri(&created), |d| d.is_empty());
    lsp.wait_diagnostics(&file_uri(&renamed), |d| !d.is_empty());

    std::fs::remove_file(&renamed).unwrap();
    lsp.wait_diagnostics(&file_uri(&renamed), |d| d.is_empty());

    // Fixed in place: an empty list once clean.
    std::fs::write(&iris, BROKEN).unwrap();
    lsp.wait_diagnostics(&file_uri(&iris), |d| !d.is_empty());
    std::fs::copy(support::fixture("ml/iris_logreg.onnx"), &iris).unwrap();
    lsp.wait_diagnostics(&file_uri(&iris), |d| d.is_empty());

    // Ignored folders stay ignored.
    std::fs::create_dir(root.join("ignored")).unwrap();
    std::fs::write(root.join("ignored/junk.onnx"), BROKEN).unwrap();
    std::fs::write(root.join("late.onnx"), BROKEN).unwrap();
    lsp.wait_diagnostics(&file_uri(&root.join("late.onnx")), |d| !d.is_empty());
    let seen_ignored = lsp
        .drain()
        .iter()
        .any(|m| m["params"]["uri"] == file_uri(&root.join("ignored/junk.onnx")));
    assert!(!seen_ignored, "a .gitignore'd model got diagnostics");

    // Unknown requests and bad params are errors, not crashes.
    let id = lsp.send_request(
        "neuride/modelText",
        json!({ "uri": "file:///no/such/model.onnx" }),
    );
    let response = lsp.response(id);
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let hover = lsp.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": view_uri(&iris) }, "position": { "line": 9999, "character": 0 } }),
    );
    assert_eq!(hover, Value::Null);

    lsp.shutdown();
}
