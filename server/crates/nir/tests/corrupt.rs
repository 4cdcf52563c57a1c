//! Corrupted files: every byte of a real file changed in turn (a few values
//! each), and random multi-byte damage, read without a panic, an abort or a
//! runaway allocation: each read ends with a document or problems.

use proptest::prelude::*;

fn fixture() -> Vec<u8> {
    fixture_named("snntorch_mlp.nir")
}

fn fixture_named(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../tests/fixtures/nir/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

fn read_ends(bytes: &[u8]) {
    let result = neuride_nir::read(bytes);
    assert!(result.document.is_some() || !result.problems.is_empty());
    if let Some(document) = &result.document {
        // What was read can be lowered or refused, never panic.
        let _ = neuride_nir::lower(document, &neuride_nir::LowerOptions::default());
    }
}

#[test]
fn every_header_byte_changed() {
    for name in ["snntorch_mlp.nir", "snntorch_cnn.nir"] {
        every_header_byte_of(&fixture_named(name));
    }
}

fn every_header_byte_of(good: &[u8]) {
    // The structure (superblock, object headers, B-trees, heaps) sits in the
    // first pages; the rest is mostly compressed array data.
    for at in 0..good.len().min(6000) {
        for value in [0x00u8, 0xff, good[at] ^ 0x01] {
            let mut bad = good.to_vec();
            bad[at] = value;
            read_ends(&bad);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_damage(changes in proptest::collection::vec((0usize..70_000, any::<u8>()), 1..8)) {
        let mut bad = fixture();
        let len = bad.len();
        for (at, value) in changes {
            bad[at % len] = value;
        }
        read_ends(&bad);
    }
}
