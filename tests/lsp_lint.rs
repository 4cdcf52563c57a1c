//! The language server as a configured linter: it reads the same
//! `neuride.toml` as `neuride check`, publishes again when the file changes
//! (reported by the client's watcher, or seen by its own), and offers the
//! safe fixes of a model as code actions whose command writes the model
//! atomically and checks it again. onnx.checker judges the fixed file.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use std::process::Command;
use support::{Client, file_uri, view_uri};

const APP: &str = "network n {
    input x: f32[4]
    layer a = lif(x, tau_rc: 20Hz)
    output y = relu(nope)
}
";

fn codes(diagnostics: &[Value]) -> Vec<String> {
    let mut codes: Vec<String> = diagnostics
        .iter()
        .map(|d| format!("{}:{}", d["code"].as_str().unwrap(), d["severity"]))
        .collect();
    codes.sort();
    codes
}

/// An unsorted model (onnx.checker rejects it) made with onnx.helper.
fn write_unsorted_model(root: &std::path::Path) {
    let status = Command::new(support::test_python())
        .arg("-c")
        .arg(
            r#"
import onnx
from onnx import helper, TensorProto
io = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [2])
nodes = [helper.make_node("Relu", ["t"], ["y"]), helper.make_node("Neg", ["x"], ["t"])]
graph = helper.make_graph(nodes, "g", [io("x")], [io("y")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), "unsorted.onnx")
"#,
        )
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
}

fn onnx_checker_accepts(path: &std::path::Path) -> bool {
    Command::new(support::test_python())
        .arg("-c")
        .arg("import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)")
        .arg(path)
        .status()
        .unwrap()
        .success()
}

#[test]
fn config_changes_republish_and_model_fixes_are_code_actions() {
    let dir = tempfile::tempdir().unwrap();
    let root = support::canonical(&dir);
    let app = root.join("app.neuro");
    std::fs::write(&app, APP).unwrap();
    std::fs::write(
        root.join("neuride.toml"),
        "[lint]\nignore = [\"neuro/unit\"]\n",
    )
    .unwrap();
    write_unsorted_model(&root);
    let model = root.join("unsorted.onnx");

    let (mut lsp, _) = Client::initialized(&root, "vscode");
    let first = lsp.wait_diagnostics(&file_uri(&app), |d| !d.is_empty());
    assert_eq!(codes(&first), ["neuro/unknown-name:1"]);

    // The config changes; the client's watcher reports it.
    std::fs::write(
        root.join("neuride.toml"),
        "[lint]\nseverity = { \"neuro/unknown-name\" = \"warning\" }\n",
    )
    .unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&root.join("neuride.toml")), "type": 2 }] }),
    );
    let second = lsp.wait_diagnostics(&file_uri(&app), |d| d.len() == 2);
    assert_eq!(codes(&second), ["neuro/unit:1", "neuro/unknown-name:2"]);

    // A broken config is logged, never fatal: every rule applies meanwhile.
    std::fs::write(
        root.join("neuride.toml"),
        "[lint]\nselect = [\"neuro/nope\"]\n",
    )
    .unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&root.join("neuride.toml")), "type": 2 }] }),
    );
    let third = lsp.wait_diagnostics(&file_uri(&app), |d| d.iter().all(|d| d["severity"] == 1));
    assert_eq!(codes(&third), ["neuro/unit:1", "neuro/unknown-name:1"]);
    lsp.wait_for("the config error in the log", |m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap()
                .contains("\"neuro/nope\" selects no rule")
    });
    std::fs::remove_file(root.join("neuride.toml")).unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&root.join("neuride.toml")), "type": 3 }] }),
    );

    // The unsorted model: its diagnostics carry a quick fix and a fix-all.
    let diagnostics = lsp.wait_diagnostics(&file_uri(&model), |d| !d.is_empty());
    let order: Vec<Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "onnx/topological-order")
        .cloned()
        .collect();
    assert_eq!(order.len(), 1, "{diagnostics:?}");
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": view_uri(&model) },
            "range": order[0]["range"],
            "context": { "diagnostics": order },
        }),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Fix onnx/topological-order (Nodes not sorted) in the model",
            "Apply all safe fixes to the model"
        ]
    );
    let quick_fix = &actions[0];
    assert_eq!(quick_fix["kind"], "quickfix");
    assert_eq!(quick_fix["diagnostics"], json!(order));
    let command = &quick_fix["command"];
    assert_eq!(command["command"], "neuride.fixModel");
    assert!(!onnx_checker_accepts(&model));

    let result = lsp.request(
        "workspace/executeCommand",
        json!({ "command": command["command"], "arguments": command["arguments"] }),
    );
    assert_eq!(
        result["applied"],
        json!([{ "code": "onnx/topological-order", "description": "sorted the nodes topologically (2 nodes moved)" }])
    );
    assert_eq!(result["diagnostics"], json!([]));
    lsp.wait_diagnostics(&file_uri(&model), |d| d.is_empty());
    assert!(onnx_checker_accepts(&model));
    // Nothing left to fix: no action.
    let none = lsp.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": file_uri(&model) },
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
            "context": { "diagnostics": [] },
        }),
    );
    assert_eq!(none, json!([]));
    lsp.shutdown();
}

/// Neovim 0.7 cannot watch files: the server's own watcher sees the config
/// change.
#[test]
fn server_side_watcher_sees_config_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = support::canonical(&dir);
    let app = root.join("app.neuro");
    std::fs::write(&app, APP).unwrap();
    let (mut lsp, _) = Client::initialized(&root, "nvim");
    let first = lsp.wait_diagnostics(&file_uri(&app), |d| !d.is_empty());
    assert_eq!(codes(&first), ["neuro/unit:1", "neuro/unknown-name:1"]);
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\n\n[tool.neuride.lint]\nselect = [\"neuro/unit\"]\n",
    )
    .unwrap();
    let second = lsp.wait_diagnostics(&file_uri(&app), |d| d.len() == 1);
    assert_eq!(codes(&second), ["neuro/unit:1"]);
    lsp.shutdown();
}
