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

/// A copy of `seed` with the byte at each (position, value) of `flips`
/// replaced: how the fuzz tests mutate real files.
pub fn flipped(seed: &[u8], flips: Vec<(proptest::sample::Index, u8)>) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for (at, value) in flips {
        let at = at.index(bytes.len());
        bytes[at] = value;
    }
    bytes
}
