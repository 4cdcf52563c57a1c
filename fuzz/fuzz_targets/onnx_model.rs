//! A model file as the checker, the language server and `neuride check` see
//! it: decode, check, shape facts, classification, summary and the text
//! view (`ide::analysis`), then every feature that reads the analysis. Any
//! bytes must give diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // A path in a folder that does not exist: external data cannot be read.
    let path = Path::new("/nonexistent-fuzz-dir/model.onnx");
    let analysis = neuride_ide::analysis::analyze_file(path, bytes::Bytes::copy_from_slice(data));
    for diagnostic in analysis.diagnostics() {
        assert!(!diagnostic.message.is_empty());
    }
    let _ = analysis.report();
});
