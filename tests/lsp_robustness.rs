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

/// The inotify watches a process holds (Linux: one `inotify wd:` line per
/// watch in the fdinfo of its inotify descriptors).
#[cfg(target_os = "linux")]
fn inotify_watches(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.filter_map(Result::ok)
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().contains("inotify"))
        })
        .filter_map(|fd| {
            std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .ok()
        })
        .map(|info| {
            info.lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}

/// The server-side watcher watches what the workspace walk visits: not the
/// 2,000 folders under an ignored one, not the 2^15 paths a DAG of symbolic
/// links spells; and a folder created later is watched too.
#[cfg(target_os = "linux")]
#[test]
fn the_watcher_skips_ignored_folders_and_does_not_follow_links() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
    for index in 0..2000 {
        std::fs::create_dir_all(root.join(format!("ignored/d{index}"))).unwrap();
    }
    // dag/l0 .. dag/l15, each with two links to the next level.
    for level in 0..16 {
        std::fs::create_dir_all(root.join(format!("dag/l{level}"))).unwrap();
    }
    for level in 0..15 {
        for name in ["a", "b"] {
            std::os::unix::fs::symlink(
                root.join(format!("dag/l{}", level + 1)),
                root.join(format!("dag/l{level}/{name}")),
            )
            .unwrap();
        }
    }
    let started = std::time::Instant::now();
    let (mut lsp, _) = Client::initialized(&root, "nvim");
    let model = root.join("ml/iris_logreg.onnx");
    lsp.wait_diagnostics(&file_uri(&model), |_| true);
    // root, ml, dag, dag/l0..l15: 19 real folders outside the ignored one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut watches = inotify_watches(lsp.pid());
    while watches < 19 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        watches = inotify_watches(lsp.pid());
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    watches = inotify_watches(lsp.pid());
    assert!(
        (19..=25).contains(&watches),
        "{watches} inotify watches for 19 watchable folders (after {:?})",
        started.elapsed()
    );
    // A folder created after start-up is watched: its model is analysed.
    std::fs::create_dir_all(root.join("new/deeper")).unwrap();
    let late = root.join("new/deeper/late.onnx");
    std::fs::copy(&model, &late).unwrap();
    lsp.wait_diagnostics(&file_uri(&late), |_| true);
    lsp.shutdown();
}

/// A client reporting a huge folder (here `/usr`, outside the workspace)
/// must not hold up the requests behind it: folders are walked off the
/// dispatcher, and only inside the workspace.
#[test]
fn a_reported_folder_does_not_hold_up_requests() {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    let (mut lsp, _) = Client::initialized(&root, "vscode");
    let model = root.join("ml/iris_logreg.onnx");
    lsp.wait_diagnostics(&file_uri(&model), |_| true);
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [ { "uri": "file:///usr", "type": 1 }, { "uri": file_uri(&root), "type": 2 } ] }),
    );
    let started = std::time::Instant::now();
    let models = lsp.request("neuride/models", json!({}));
    let elapsed = started.elapsed();
    assert!(models.to_string().contains("iris_logreg"), "{models}");
    assert!(
        elapsed < std::time::Duration::from_millis(500),
        "neuride/models took {elapsed:?} behind a reported folder"
    );
    lsp.shutdown();
}
