//! Robustness: a workspace of 200 random-byte `.onnx`/`.npz` files and a
//! model replaced over and over while it is being analysed. The server must
//! stay up, publish a diagnostic for every garbage file, and keep answering.

#[path = "e2e/support.rs"]
mod support;

use serde_json::json;
use support::{Client, file_uri};

/// xorshift64*: deterministic bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_files_and_a_model_replaced_mid_analysis() {
    let dir = support::workspace(&["snn/digits_snntorch.onnx"]);
    let root = support::canonical(&dir);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut garbage = Vec::new();
    for index in 0..200 {
        let extension = if index % 2 == 0 { "onnx" } else { "npz" };
        let path = root.join(format!("junk/{:03}.{extension}", index));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let len = (rng.next() % 4096) as usize;
        let mut bytes = rng.bytes(len);
        // Some start like real files so decoders get past the magic.
        if index % 10 == 1 {
            bytes.splice(0..0, *b"PK\x03\x04");
        }
        std::fs::write(&path, bytes).unwrap();
        garbage.push(path);
    }
    let model = root.join("snn/digits_snntorch.onnx");
    let good = std::fs::read(&model).unwrap();

    let (mut lsp, _) = Client::initialized(&root, "nvim");
    // Replace the model (in place and by rename) while the scan analyses it.
    for round in 0..20 {
        if round % 2 == 0 {
            std::fs::write(&model, &good[..good.len() / (round + 2)]).unwrap();
        } else {
            let temporary = root.join("snn/.swap");
            std::fs::write(&temporary, &good).unwrap();
            std::fs::rename(&temporary, &model).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::write(&model, &good).unwrap();

    // Every random .onnx gets an error; .npz ones too unless they happen to parse.
    for path in garbage.iter().filter(|p| p.extension().unwrap() == "onnx") {
        let uri = file_uri(path);
        lsp.wait_diagnostics(&uri, |d| d.iter().any(|d| d["severity"] == 1));
    }
    // The final, intact model ends clean of errors.
    lsp.wait_diagnostics(&file_uri(&model), |d| d.iter().all(|d| d["severity"] != 1));
    let models = lsp.request("neuride/models", json!({}));
    assert_eq!(models.as_array().unwrap().len(), 101);
    let snn = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uri"] == file_uri(&model))
        .unwrap()
        .clone();
    assert_eq!(snn["kind"], "snn", "{snn}");
    for path in garbage.iter().step_by(37) {
        let view = lsp.request("neuride/modelText", json!({ "uri": file_uri(path) }));
        assert!(view["text"].as_str().unwrap().starts_with('#'), "{view}");
        let hover = lsp.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": view["uri"] }, "position": { "line": 0, "character": 1 } }),
        );
        assert_eq!(hover, serde_json::Value::Null);
    }
    lsp.shutdown();
}
