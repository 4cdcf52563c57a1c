//! `list_mapped` (headers through positioned reads of the file) gives exactly
//! the archive `list` gives from the bytes: the same entries, headers,
//! errors and diagnostics, with `stored` slices into the same bytes; on
//! every test file, every fixture, and truncated and mutated versions.

mod common;

use neuride_npz::{Archive, NpzError, ReadAt, list, list_mapped};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// A reader that returns at most 7 bytes per call, so every read loops.
struct Dribble<'a>(&'a [u8]);

impl ReadAt for Dribble<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = buf.len().min(7);
        self.0.read_at(&mut buf[..n], offset)
    }
}

/// Everything about a listing, with each stored slice as (offset in
/// `bytes`, length) so that "points into the same bytes" is compared too.
fn describe(bytes: &[u8], listed: &Result<Archive<'_>, NpzError>) -> String {
    match listed {
        Err(error) => format!("Err({error:?})"),
        Ok(archive) => {
            let mut out = String::new();
            for entry in &archive.entries {
                let offset = entry.stored.as_ptr() as usize - bytes.as_ptr() as usize;
                assert!(offset + entry.stored.len() <= bytes.len());
                out += &format!(
                    "{} {} {:?} stored {offset}+{} size {} crc {:?} header {:?}\n",
                    entry.zip_name,
                    entry.name,
                    entry.compression,
                    entry.stored.len(),
                    entry.size,
                    entry.crc32,
                    entry.header
                );
            }
            format!("{out}diagnostics {:#?}", archive.diagnostics)
        }
    }
}

fn assert_same(what: &str, bytes: &[u8], file: Option<&std::fs::File>) {
    let want = describe(bytes, &list(bytes));
    let from_slice = describe(bytes, &list_mapped(bytes, &bytes));
    assert_eq!(want, from_slice, "{what}: slice reader differs");
    let dribbled = describe(bytes, &list_mapped(bytes, &Dribble(bytes)));
    assert_eq!(want, dribbled, "{what}: short reads differ");
    if let Some(file) = file {
        let from_file = describe(bytes, &list_mapped(bytes, file));
        assert_eq!(want, from_file, "{what}: file reader differs");
    }
}

fn files_in(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_in(&path, out);
        } else if path.extension().is_some_and(|e| e == "npz" || e == "npy") {
            out.push(path);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_in(&common::data_dir(), &mut files);
    files_in(&common::fixtures_dir(), &mut files);
    assert!(files.len() >= 40, "test files missing: {files:?}");
    files.sort();
    files
}

#[test]
fn every_test_file_and_fixture_lists_the_same_through_the_file() {
    for path in all_files() {
        let bytes = std::fs::read(&path).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        assert_same(&path.display().to_string(), &bytes, Some(&file));
    }
}

#[test]
fn a_memory_map_lists_the_same_and_entries_point_into_it() {
    let path = common::data_dir().join("zip64_stored.npz");
    let file = std::fs::File::open(&path).unwrap();
    let map = neuride_mapped::Map::new(&file).unwrap();
    assert_same("mapped zip64_stored.npz", &map, Some(&file));
    let archive = list_mapped(&map, &file).unwrap();
    let array = archive.entries[0].read().unwrap();
    let range = map.as_ptr_range();
    assert!(
        range.contains(&array.data.as_ptr()),
        "stored data is not a view of the map"
    );
}

#[test]
fn truncated_files_list_the_same() {
    for path in all_files() {
        let bytes = std::fs::read(&path).unwrap();
        let len = bytes.len();
        // Every cut near the start (local and .npy headers) and the end
        // (directory, end records), and a stride through the middle.
        let cuts = (0..len.min(300))
            .chain((len.saturating_sub(600)..=len).filter(|c| *c >= 300))
            .chain((300..len.saturating_sub(600)).step_by(97));
        for cut in cuts {
            assert_same(
                &format!("{} cut at {cut}", path.display()),
                &bytes[..cut],
                None,
            );
        }
    }
}

#[test]
fn a_file_shorter_than_its_map_is_an_error_not_a_panic() {
    let bytes = common::read("dtypes_stored.npz");
    let shrunk = &bytes[..bytes.len() / 2];
    let error = list_mapped(&bytes, &shrunk).unwrap_err();
    assert_eq!(error.code(), "npz/truncated", "{error}");
}

#[test]
fn a_failing_reader_is_an_error_not_a_panic() {
    struct Broken;
    impl ReadAt for Broken {
        fn read_at(&self, _: &mut [u8], _: u64) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let bytes = common::read("dtypes_stored.npz");
    let error = list_mapped(&bytes, &Broken).unwrap_err();
    assert!(error.to_string().contains("disk on fire"), "{error}");
}

fn seeds() -> Vec<Vec<u8>> {
    common::read_all(&[
        "dtypes_stored.npz",
        "dtypes_deflated.npz",
        "zip64_stored.npz",
        "zip64_deflated.npz",
        "object.npz",
        "nan_inf.npz",
        "duplicate.npz",
        "truncated_claim_deflated.npz",
    ])
}

proptest! {
    #![proptest_config(common::fuzz_config())]

    #[test]
    fn mutated_files_list_the_same((bytes, cut) in common::mutated(seeds())) {
        assert_same("mutated", &bytes, None);
        assert_same("mutated and cut", &bytes[..cut], None);
    }

    #[test]
    fn arbitrary_bytes_list_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        assert_same("arbitrary", &bytes, None);
    }
}
