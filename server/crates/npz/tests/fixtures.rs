//! Every .npz in the repository's shared fixtures lists and summarises
//! without a problem (digits_spikes_T25.npz is deflated).

mod common;

use neuride_npz::{Compression, SummaryOptions, list, summarize};

#[test]
fn all_fixture_archives_read() {
    let files: Vec<_> = walkdir::WalkDir::new(common::fixtures_dir())
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "npz"))
        .collect();
    assert!(files.len() >= 15, "fixtures missing: {files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let archive = list(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let summary = summarize(&archive, SummaryOptions::default());
        let problems: Vec<_> = summary
            .diagnostics
            .iter()
            .filter(|d| d.code != "npz/nan" && d.code != "npz/inf")
            .collect();
        assert!(problems.is_empty(), "{}: {problems:?}", file.display());
        assert!(!summary.arrays.is_empty());
    }
}

#[test]
fn deflated_spike_archive_summary() {
    let bytes = std::fs::read(common::fixtures_dir().join("data/digits_spikes_T25.npz")).unwrap();
    let archive = list(&bytes).unwrap();
    assert!(
        archive
            .entries
            .iter()
            .all(|e| e.compression == Compression::Deflated)
    );
    let spikes = archive.array("spikes").unwrap();
    assert_eq!(spikes.shape, vec![25, 450, 64]);
    let summary = summarize(&archive, SummaryOptions::default());
    let view = neuride_npz::render(&summary);
    let line = view.lines["spikes"] as usize;
    let row = view.text.lines().nth(line).unwrap();
    assert!(row.starts_with("spikes  uint8  [25, 450, 64]  C"), "{row}");
    assert_eq!(summary.arrays[0].stats.min, Some(0.0));
    assert_eq!(summary.arrays[0].stats.max, Some(1.0));
}

#[test]
fn text_rendering_of_the_mlp_state_dict() {
    let bytes = std::fs::read(common::fixtures_dir().join("dl/digits_mlp.npz")).unwrap();
    let summary = summarize(&list(&bytes).unwrap(), SummaryOptions::default());
    let view = neuride_npz::render(&summary);
    let names: Vec<_> = view.lines.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    assert_eq!(
        names,
        vec![
            ("fc1.bias", 3),
            ("fc1.weight", 2),
            ("fc2.bias", 5),
            ("fc2.weight", 4)
        ]
    );
    let header: Vec<&str> = view.text.lines().take(2).collect();
    assert_eq!(header[0], "# 4 arrays, 19240 bytes of data");
    assert!(
        header[1].starts_with("name        dtype    shape     order  byteorder  nbytes"),
        "{}",
        header[1]
    );
}
