//! Proptest fuzzing (cargo-fuzz needs nightly): arbitrary bytes, and real
//! files truncated and mutated, must never panic in listing, reading,
//! summarising or rendering.

mod common;

use neuride_npz::{SummaryOptions, list, list_npy, read_npy, read_npy_from, render, summarize};
use proptest::prelude::*;

fn exercise(bytes: &[u8]) {
    if let Ok(archive) = list(bytes) {
        for entry in &archive.entries {
            explained(entry.read());
        }
        let summary = summarize(&archive, SummaryOptions::default());
        assert!(!render(&summary).text.is_empty());
    }
    let archive = list_npy(bytes, "x");
    summarize(&archive, SummaryOptions::default());
    explained(read_npy(bytes, "x"));
    explained(read_npy_from(bytes, "x"));
}

fn seeds() -> Vec<Vec<u8>> {
    common::read_all(&[
        "dtypes_deflated.npz",
        "zip64_stored.npz",
        "zip64_deflated.npz",
        "version_2_0.npy",
        "object.npz",
        "nan_inf.npz",
        "duplicate.npz",
    ])
}

proptest! {
    #![proptest_config(common::fuzz_config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_real_files_never_panic((bytes, cut) in common::mutated(seeds())) {
        exercise(&bytes);
        exercise(&bytes[..cut]);
    }

    #[test]
    fn headers_with_mutated_text_never_panic(text in "\\{'descr': '[<>|=]?[a-zA-Z]{1,2}[0-9]{0,3}', 'fortran_order': (True|False|1), 'shape': \\(([0-9]{1,20}, ){0,4}\\), \\}") {
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        npy.extend_from_slice(&(text.len() as u16).to_le_bytes());
        npy.extend_from_slice(text.as_bytes());
        npy.extend_from_slice(&[0u8; 64]);
        exercise(&npy);
    }
}

/// An error must say what went wrong.
fn explained<T, E: std::fmt::Display>(result: Result<T, E>) {
    if let Err(error) = result {
        assert!(!error.to_string().is_empty(), "an error without a message");
    }
}
