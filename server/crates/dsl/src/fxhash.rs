//! A small, fast, non-cryptographic hasher (the "Fx" hash of rustc and
//! Firefox) for the checker's internal maps. Their keys are short names from
//! the file being checked, where SipHash's DoS resistance buys nothing and
//! costs a noticeable share of a re-check. Kept in-crate: a few lines, no
//! dependency.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.add(value as u64);
    }
    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.add(value as u64);
    }
    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }
    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuildHasher = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuildHasher>;
pub(crate) type FxHashSet<K> = HashSet<K, FxBuildHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_work_with_names_of_any_length() {
        let names = [
            "",
            "x",
            "c1",
            "conv2d",
            "exactly8",
            "longer than eight bytes",
        ];
        let mut map: FxHashMap<&str, usize> = FxHashMap::default();
        for (index, name) in names.iter().enumerate() {
            assert!(map.insert(name, index).is_none());
        }
        for (index, name) in names.iter().enumerate() {
            assert_eq!(map.get(name), Some(&index));
        }
        assert_eq!(map.get("y"), None);
    }
}
