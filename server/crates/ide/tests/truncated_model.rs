//! A model big enough to be memory-mapped is truncated in place while the
//! host holds it, as `onnx.save` does on a re-export: analysing the stale
//! map and hovering over its weights must not crash (they used to die of
//! SIGBUS), and the host must know the analysis was computed from zeros.

use neuride_ide::FileAnalysis;
use neuride_ide::host::AnalysisHost;
use neuride_ide::report::Position;
use neuride_ide::source::{MMAP_THRESHOLD, read_contents};
use neuride_onnx::proto::TensorProto;
use std::path::{Path, PathBuf};

/// digits_mlp with an unused 17 MB initializer appended, written to `dir`.
fn big_model(dir: &Path) -> PathBuf {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/dl/digits_mlp.onnx");
    let mut model = neuride_onnx::load::load_file(&fixture).unwrap().proto;
    let values = 17 * 1024 * 1024 / 4;
    let raw: Vec<u8> = (0..values).flat_map(|i| (i as f32).to_le_bytes()).collect();
    model.graph.as_mut().unwrap().initializer.push(TensorProto {
        name: Some("padding".into()),
        data_type: Some(1),
        dims: vec![values as i64],
        raw_data: Some(raw.into()),
        ..Default::default()
    });
    let bytes = neuride_ide::weights::encode_model(&model);
    assert!(bytes.len() as u64 >= MMAP_THRESHOLD);
    let path = dir.join("big.onnx");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Truncates `path` to nothing through another handle, as a writer would.
fn truncate(path: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
}

#[test]
fn analysing_a_map_truncated_under_it_gives_diagnostics_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_model(dir.path());
    let contents = read_contents(&path).unwrap();
    assert!(contents.file().is_some(), "a file this big is mapped");
    let map = contents.map().cloned().unwrap();
    truncate(&path);

    let analysis = neuride_ide::analysis::analyze_contents(&path, contents);
    assert!(
        map.was_truncated(),
        "the decoder read zeros where the file was"
    );
    assert!(analysis.was_truncated());
    let FileAnalysis::Model(model) = &analysis else {
        panic!("not analysed as a model");
    };
    assert!(model.facts.is_none(), "zeros do not decode as a model");
    assert_eq!(model.diagnostics[0].code, "onnx/decode-error");
}

#[test]
fn the_host_drops_an_analysis_whose_weights_vanished_and_reads_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_model(dir.path());
    let mut host = AnalysisHost::new();
    let revision = host.file_changed_on_disk(&path).unwrap();
    let snapshot = host.snapshot(&path).unwrap();
    let analysis = snapshot.analyze().unwrap();
    let analysis = host.finish(&path, revision, analysis).unwrap();
    let model = analysis.as_model().unwrap();
    // The Gemm node: its hover reads the statistics of its weights.
    let text = &model.view.text;
    let (line, column) = model
        .view
        .anchors
        .iter()
        .filter(|a| matches!(a.anchor, neuride_onnx::Anchor::Node { .. }))
        .find_map(|a| {
            let line = a.range.start.line;
            let column = text.lines().nth(line as usize)?.find("= Gemm")?;
            Some((line, column as u32 + 3))
        })
        .unwrap();
    let at = Position {
        line,
        character: column,
    };
    let hover = neuride_ide::hover::model_hover(model, at).unwrap();
    assert!(hover.markdown.contains("min "), "{}", hover.markdown);
    assert!(!analysis.was_truncated());

    // The file is rewritten in place; no watcher has told the host yet.
    truncate(&path);
    let hover = neuride_ide::hover::model_hover(model, at).unwrap();
    assert!(
        hover.markdown.contains("changed on disk") && !hover.markdown.contains("min "),
        "statistics of zero pages must not be shown: {}",
        hover.markdown
    );
    assert!(analysis.was_truncated());
    assert!(
        host.analysis(&path).is_none() && host.current_analysis(&path).is_none(),
        "requests must not answer from an analysis of zeros"
    );
    // Read again: the file as it is now (empty).
    let again = host.snapshot(&path).unwrap().analyze().unwrap();
    assert!(!again.was_truncated());
    assert_eq!(again.diagnostics()[0].code, "onnx/empty-file");
}
