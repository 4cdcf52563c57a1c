//! A `.npz` big enough to be memory-mapped is analysed through its file
//! (headers by positioned reads) with exactly the result of analysing its
//! bytes, in the analysis host's path and the workspace's.

use neuride_ide::source::{MMAP_THRESHOLD, read_contents};
use neuride_ide::{FileAnalysis, FileKind, analyze_file};
use neuride_npz::{Array, WriteOptions, write_npz};

#[test]
fn a_mapped_archive_analyses_like_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.npz");
    // Two arrays of 2.2 M float32 each: past the map threshold.
    let values: Vec<f32> = (0..2_200_000).map(|i| (i % 7) as f32).collect();
    let a = Array::from_f32(vec![2_200_000], &values).unwrap();
    let b = Array::from_f32(vec![1100, 2000], &values).unwrap();
    let bytes = write_npz(&[("a", &a), ("b", &b)], WriteOptions::stored()).unwrap();
    assert!(bytes.len() as u64 >= MMAP_THRESHOLD);
    std::fs::write(&path, &bytes).unwrap();

    let contents = read_contents(&path).unwrap();
    assert!(contents.file().is_some(), "a file this big is mapped");
    let through_file = neuride_ide::analysis::analyze_contents(&path, contents);
    let from_bytes = analyze_file(&path, bytes::Bytes::from(bytes));
    let (FileAnalysis::Archive(mapped), FileAnalysis::Archive(plain)) =
        (&through_file, &from_bytes)
    else {
        panic!("not analysed as archives");
    };
    assert_eq!(mapped.kind, FileKind::Npz);
    assert_eq!(mapped.text, plain.text);
    assert_eq!(mapped.diagnostics, plain.diagnostics);
    assert!(mapped.text.contains("1100"), "{}", mapped.text);
}
