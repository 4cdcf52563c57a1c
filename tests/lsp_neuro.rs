//! End-to-end `.neuro` editing over stdio with VS Code's capabilities: an
//! example workspace opens clean, an edit introduces a problem and removing
//! it clears it, a unit error's quick fix applies, and hover, completion, definition into the weight archive's
//! view, references, rename, symbols, tokens, formatting and hints answer.

#[path = "e2e/support.rs"]
mod support;

use serde_json::{Value, json};
use support::{Client, file_uri, view_uri};

fn copy_example(name: &str, target: &std::path::Path) {
    let source = support::repo_root().join("examples").join(name);
    for entry in walk(&source) {
        let relative = entry.strip_prefix(&source).unwrap();
        let destination = target.join(relative);
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &destination).unwrap();
    }
}

fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path))
        } else {
            files.push(path)
        }
    }
    files
}

/// Line and UTF-16 column of the first occurrence of `needle` (+ `shift`).
fn position_of(text: &str, needle: &str, shift: usize) -> Value {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"))
        + shift;
    let line = text[..offset].matches('\n').count();
    let column = text[..offset]
        .rsplit('\n')
        .next()
        .unwrap()
        .encode_utf16()
        .count();
    json!({ "line": line, "character": column })
}

/// The diagnostics published for `version` of an open document (earlier
/// publications still queued are skipped, so edits cannot race).
fn diagnostics_of(lsp: &mut Client, uri: &str, version: i64) -> Vec<Value> {
    let message = lsp.wait_for(&format!("diagnostics of version {version}"), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["version"] == version
    });
    message["params"]["diagnostics"].as_array().unwrap().clone()
}

#[test]
fn editing_a_neuro_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    copy_example("handwritten-snn", &root);
    let path = root.join("mlp.neuro");
    let uri = file_uri(&path);
    let text = std::fs::read_to_string(&path).unwrap();

    let (mut lsp, _) = Client::initialized(&root, "vscode");
    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text } }));
    lsp.wait_diagnostics(&uri, |d| d.is_empty());

    // An unknown name: a diagnostic; undoing the edit clears it.
    let broken = text.replacen("flatten(image)", "flatten(imagez)", 1);
    lsp.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": broken }] }));
    let diagnostics = diagnostics_of(&mut lsp, &uri, 2);
    assert_eq!(diagnostics[0]["severity"], 1, "{diagnostics:?}");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        position_of(&broken, "imagez", 0)
    );
    lsp.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": text }] }));
    assert_eq!(diagnostics_of(&mut lsp, &uri, 3), Vec::<Value>::new());

    // A unit error offers a quick fix; applying its edit clears the diagnostic.
    let wrong = text.replacen("tau_rc: 20ms", "tau_rc: 20Hz", 1);
    lsp.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": wrong }] }));
    let diagnostics = diagnostics_of(&mut lsp, &uri, 4);
    assert_eq!(diagnostics[0]["code"], "neuro/unit", "{diagnostics:?}");
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": diagnostics[0]["range"], "context": { "diagnostics": diagnostics } }),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quickfix")
        .unwrap_or_else(|| panic!("no quick fix in {actions}"));
    let edit = &fix["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "20ms", "{fix}");
    let start = &edit["range"]["start"];
    let line = start["line"].as_u64().unwrap() as usize;
    let column = start["character"].as_u64().unwrap() as usize;
    let end_column = edit["range"]["end"]["character"].as_u64().unwrap() as usize;
    let fixed: Vec<String> = wrong
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line {
                format!("{}20ms{}", &l[..column], &l[end_column..])
            } else {
                l.to_owned()
            }
        })
        .collect();
    let fixed = fixed.join("\n") + "\n";
    assert_eq!(fixed, text, "applying the fix restores the file");
    lsp.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 5 }, "contentChanges": [{ "text": fixed }] }));
    assert_eq!(diagnostics_of(&mut lsp, &uri, 5), Vec::<Value>::new());

    // On a call, a refactoring that writes out every argument.
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": { "start": position_of(&text, "lif(hidden", 1), "end": position_of(&text, "lif(hidden", 1) }, "context": { "diagnostics": [] } }),
    );
    assert!(
        actions
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "refactor"
                && a["title"]
                    .as_str()
                    .unwrap()
                    .contains("Insert all arguments of `lif`")),
        "{actions}"
    );

    let hover = lsp.request("textDocument/hover", json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "hidden = dense", 1) }));
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(!hover["contents"]["value"].as_str().unwrap().is_empty());

    let completion = lsp.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "mlp[\"fc1.weight", 5) }),
    );
    let labels: Vec<&str> = completion
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"fc2.weight"), "{labels:?}");

    // From an archive key to its row in the archive's text view.
    let definition = lsp.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "mlp[\"fc1.weight", 6) }),
    );
    assert_eq!(
        definition["uri"],
        view_uri(&root.join("weights/digits_mlp.npz"))
    );

    let references = lsp.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "weights mlp", 8), "context": { "includeDeclaration": true } }),
    );
    assert_eq!(
        references.as_array().unwrap().len(),
        text.matches("mlp[").count() + 1,
        "{references}"
    );

    let rename = lsp.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "weights mlp", 8), "newName": "w" }),
    );
    assert_eq!(
        rename["changes"][&uri].as_array().unwrap().len(),
        references.as_array().unwrap().len()
    );

    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"lif_mlp") && names.contains(&"mlp"),
        "{names:?}"
    );

    let tokens = lsp.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(tokens["data"].as_array().unwrap().len() % 5, 0);
    assert!(!tokens["data"].as_array().unwrap().is_empty());

    // The example is formatted already: no edits.
    let formatting = lsp.request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
    assert_eq!(formatting, json!([]));

    let end = json!({ "line": text.lines().count(), "character": 0 });
    let hints = lsp.request("textDocument/inlayHint", json!({ "textDocument": { "uri": uri }, "range": { "start": { "line": 0, "character": 0 }, "end": end } }));
    assert!(
        hints
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["label"].as_str().unwrap().contains('[')),
        "{hints}"
    );

    let symbols = lsp.request("workspace/symbol", json!({ "query": "lif_mlp" }));
    assert_eq!(symbols[0]["location"]["uri"], uri);

    lsp.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    lsp.shutdown();
}

#[test]
fn a_neuro_file_is_checked_again_when_a_model_it_binds_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    copy_example("iot-app", &root);
    let app = file_uri(&root.join("greenhouse.neuro"));
    let model = root.join("models/iris_logreg_nozipmap.onnx");
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    // Never opened: diagnostics from the workspace scan.
    lsp.wait_diagnostics(&app, |d| d.is_empty());

    // Replaced (as exporters do, by rename) with a model whose input has
    // another name and shape.
    let replacement = root.join("models/.replacement.onnx");
    std::fs::copy(support::fixture("dl/digits_mlp.onnx"), &replacement).unwrap();
    std::fs::rename(&replacement, &model).unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&model), "type": 2 }] }),
    );
    let diagnostics = lsp.wait_diagnostics(&app, |d| !d.is_empty());
    assert!(
        diagnostics.iter().any(|d| d["severity"] == 1),
        "{diagnostics:?}"
    );

    // Put back: clean again.
    std::fs::copy(
        support::fixture("ml/iris_logreg_nozipmap.onnx"),
        &replacement,
    )
    .unwrap();
    std::fs::rename(&replacement, &model).unwrap();
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&model), "type": 2 }] }),
    );
    lsp.wait_diagnostics(&app, |d| d.is_empty());
    lsp.shutdown();
}

/// A file no editor would write already on disk when the server starts: a
/// rule of 400,000 comparisons once overflowed the 2 MiB stack of the
/// worker that checks it, killing the server at every start. It must get
/// its one diagnostic, and every request on it must answer.
#[test]
fn a_pathological_file_on_disk_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let path = root.join("deep.neuro");
    let text = format!(
        "app a {{\n    sensor s: f32[1] @ 1Hz = mqtt(\"t\")\n    rule r when s{} => emit \"e\"\n}}\n",
        " == s".repeat(400_000)
    );
    std::fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);

    let (mut lsp, _) = Client::initialized(&root, "vscode");
    let diagnostics = lsp.wait_diagnostics(&uri, |d| !d.is_empty());
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(
        message.contains("nested at most 64 levels deep"),
        "{message}"
    );

    lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text } }));
    let deep_inside = json!({ "line": 2, "character": 1_000_000 });
    let hover = lsp.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": deep_inside }),
    );
    assert!(hover.is_null() || hover.is_object(), "{hover}");
    let symbols = lsp.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(symbols[0]["name"], "a", "{symbols:.300}");
    let tokens = lsp.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert!(
        tokens["data"]
            .as_array()
            .is_some_and(|data| !data.is_empty())
    );
    let formatting = lsp.request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
    assert_eq!(
        formatting,
        json!([]),
        "a file with syntax errors is not rewritten"
    );
    let completion = lsp.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": deep_inside }),
    );
    assert!(
        completion.is_array() || completion.is_object(),
        "{completion:.300}"
    );
    lsp.shutdown();
}

#[test]
fn hovering_a_to_image_dataset_draws_a_sample() {
    for (client, pictures) in [("vscode", true), ("nvim", false)] {
        let dir = support::workspace(&["data/genes_modules.npz"]);
        let root = support::canonical(&dir);
        let text = "dataset genes = npz(\"data/genes_modules.npz\", y: \"y\")\ndataset img = to_image(genes, size: [12, 12], method: kpca, assign: lsa)\n";
        let path = root.join("images.neuro");
        std::fs::write(&path, text).unwrap();
        let uri = file_uri(&path);
        let (mut lsp, _) = Client::initialized(&root, client);
        lsp.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "neuro", "version": 1, "text": text } }));
        lsp.wait_diagnostics(&uri, |d| d.is_empty());
        let hover = lsp.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": position_of(text, "img =", 1) }),
        );
        let markdown = hover["contents"]["value"].as_str().unwrap();
        assert!(markdown.contains("images of `genes`"), "{markdown}");
        assert!(
            markdown.contains("80 features -> [1, 12, 12]"),
            "{markdown}"
        );
        assert!(
            markdown.contains("sample 0 of 200 (12x12, label "),
            "{markdown}"
        );
        // Twelve rows of twelve pixels, two characters each.
        let art: Vec<&str> = markdown
            .split("```text\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap()
            .lines()
            .collect();
        assert_eq!(art.len(), 12, "{markdown}");
        assert!(art.iter().all(|line| line.chars().count() == 24), "{art:?}");
        assert!(
            art.iter().any(|line| line.trim().len() > 4),
            "an empty image: {art:?}"
        );
        assert_eq!(
            markdown.contains("(data:image/svg+xml;base64,"),
            pictures,
            "{client}"
        );
        lsp.shutdown();
    }
}
