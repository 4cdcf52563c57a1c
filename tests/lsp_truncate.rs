//! A model the server holds as a memory map (files of 16 MB and up) is
//! rewritten in place, as `onnx.save` and `open(path, "wb")` do: the file is
//! truncated to nothing and written again. Reading the map past the new end
//! used to raise SIGBUS and kill the server; now every request is answered,
//! a hover computed from the vanished pages says so instead of showing
//! zeros, and the rewritten model's diagnostics arrive.

#[path = "e2e/support.rs"]
mod support;

use neuride_onnx::proto::TensorProto;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use support::{Client, file_uri, view_uri};

/// digits_mlp with an unused 17 MB initializer appended, so the server maps it.
fn big_model() -> Vec<u8> {
    let mut model = neuride_onnx::load::load_file(&support::fixture("dl/digits_mlp.onnx"))
        .unwrap()
        .proto;
    let values = 17 * 1024 * 1024 / 4;
    let raw: Vec<u8> = (0..values).flat_map(|i| (i as f32).to_le_bytes()).collect();
    model.graph.as_mut().unwrap().initializer.push(TensorProto {
        name: Some("padding".into()),
        data_type: Some(1),
        dims: vec![values as i64],
        raw_data: Some(raw.into()),
        ..Default::default()
    });
    neuride_ide::weights::encode_model(&model)
}

/// Hovers on the Gemm node of `path`'s text view `view` (its parameters'
/// statistics are read from the model's bytes at hover time).
fn hover_gemm(lsp: &mut Client, path: &Path, view: &Value) -> Value {
    let text = view["text"].as_str().unwrap();
    let gemm = view["map"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "node" && e["op"] == "Gemm")
        .expect("a Gemm node in the map");
    let line = gemm["range"]["start"]["line"].as_u64().unwrap() as usize;
    let column = text.lines().nth(line).unwrap().find("= Gemm").unwrap() + 3;
    let id = lsp.send_request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": view_uri(path) }, "position": { "line": line, "character": column } }),
    );
    lsp.response(id)
}

fn markdown(hover: &Value) -> &str {
    hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("not a hover: {hover}"))
}

fn changed_on_disk(lsp: &mut Client, path: &Path) {
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(path), "type": 2 }] }),
    );
}

#[test]
fn a_mapped_model_truncated_in_place_keeps_the_server_alive() {
    let dir = support::workspace(&["data/digits_test.npz"]);
    let root = support::canonical(&dir);
    let big = root.join("big.onnx");
    let bytes = big_model();
    assert!(
        bytes.len() >= 16 << 20,
        "the model must be big enough to be mapped"
    );
    std::fs::write(&big, &bytes).unwrap();

    // VS Code watches files: the server hears of changes only from us.
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.wait_diagnostics(&file_uri(&big), |d| d.iter().all(|d| d["severity"] != 1));
    let view = lsp.request("neuride/modelText", json!({ "uri": file_uri(&big) }));
    let hover = hover_gemm(&mut lsp, &big, &view);
    assert!(markdown(&hover).contains("min "), "{hover}");

    // `open(path, "wb")`: truncated to nothing, then the first bytes written.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&big)
        .unwrap();
    file.write_all(&bytes[..64]).unwrap();
    file.flush().unwrap();

    // The hover reads the weights of the mapped model that is gone.
    let hover = hover_gemm(&mut lsp, &big, &view);
    assert!(hover.get("error").is_none(), "{hover}");
    let text = markdown(&hover);
    assert!(
        text.contains("changed on disk") && !text.contains("min "),
        "a hover over vanished pages must not show their zeros: {text}"
    );
    // The next request re-reads the file: 64 bytes of a model do not decode.
    let id = lsp.send_request("neuride/modelSummary", json!({ "uri": file_uri(&big) }));
    lsp.response(id);
    lsp.wait_diagnostics(&file_uri(&big), |d| d.iter().any(|d| d["severity"] == 1));
    // Publications from before (opening the view republishes) must not
    // pass for the rewritten file's.
    lsp.drain();

    // The writer finishes; the watcher reports it; the model is whole again.
    file.write_all(&bytes[64..]).unwrap();
    drop(file);
    changed_on_disk(&mut lsp, &big);
    lsp.wait_diagnostics(&file_uri(&big), |d| d.iter().all(|d| d["severity"] != 1));
    let view = lsp.request("neuride/modelText", json!({ "uri": file_uri(&big) }));
    let hover = hover_gemm(&mut lsp, &big, &view);
    assert!(markdown(&hover).contains("min "), "{hover}");

    // A job maps the model too; rewrite it in place while the job runs.
    let id = lsp.send_request(
        "workspace/executeCommand",
        json!({
            "command": "neuride.simulate",
            "arguments": [{ "uri": file_uri(&big), "data": file_uri(&root.join("data/digits_test.npz")),
                            "steps": 10, "limit": 100, "batch": 10 }],
        }),
    );
    for _ in 0..5 {
        let mut file = std::fs::File::create(&big).unwrap();
        file.write_all(&bytes[..bytes.len() / 2]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        file.write_all(&bytes[bytes.len() / 2..]).unwrap();
    }
    let response = lsp.response(id);
    assert!(
        response.get("result").is_some() || response.get("error").is_some(),
        "{response}"
    );
    lsp.drain();
    changed_on_disk(&mut lsp, &big);
    lsp.wait_diagnostics(&file_uri(&big), |d| d.iter().all(|d| d["severity"] != 1));
    let summary = lsp.request("neuride/modelSummary", json!({ "uri": file_uri(&big) }));
    assert_eq!(summary["kind"], "dl", "{summary}");

    lsp.shutdown();
}
