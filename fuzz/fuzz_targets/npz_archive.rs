//! `.npz`/`.npy` bytes: listing, reading every entry, summary and the text
//! rendering, through the one NPY/NPZ stack (`neuride-npz`) and through the
//! analysis the server publishes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neuride_npz::{SummaryOptions, list, list_npy, read_npy, render, summarize};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(archive) = list(data) {
        for entry in &archive.entries {
            if let Err(error) = entry.read() {
                assert!(!error.to_string().is_empty());
            }
        }
        let summary = summarize(&archive, SummaryOptions::default());
        assert!(!render(&summary).text.is_empty());
    }
    summarize(&list_npy(data, "x"), SummaryOptions::default());
    let _ = read_npy(data, "x");
    let bytes = bytes::Bytes::copy_from_slice(data);
    for name in ["/nonexistent-fuzz-dir/a.npz", "/nonexistent-fuzz-dir/a.npy"] {
        let _ = neuride_ide::analysis::analyze_file(Path::new(name), bytes.clone()).report();
    }
});
