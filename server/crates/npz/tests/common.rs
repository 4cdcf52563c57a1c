//! Shared helpers: the committed test files and numpy's expectations.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn read(name: &str) -> Vec<u8> {
    let path = data_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The seeds of the fuzz tests: these test files' bytes.
pub fn read_all(names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().map(|name| read(name)).collect()
}

/// How many cases each fuzz test tries.
pub fn fuzz_config() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: 256,
        ..proptest::test_runner::Config::default()
    }
}

pub fn expected() -> serde_json::Value {
    serde_json::from_slice(&read("expected.json")).expect("expected.json parses")
}

/// The repository's shared fixtures (`tests/fixtures` at the workspace root).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures")
}

/// One of `seeds` with one to seven bytes replaced, and a place to cut it
/// (0 to its length): how the fuzz tests mutate real files.
pub fn mutated(seeds: Vec<Vec<u8>>) -> impl proptest::strategy::Strategy<Value = (Vec<u8>, usize)> {
    use proptest::prelude::*;
    let flips = proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8);
    (0..seeds.len(), any::<prop::sample::Index>(), flips).prop_map(move |(seed, cut, flips)| {
        let mut bytes = seeds[seed].clone();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        let cut = cut.index(bytes.len() + 1);
        (bytes, cut)
    })
}
