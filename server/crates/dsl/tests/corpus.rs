//! Parser corpus: every `tests/corpus/{ok,err}/*.neuro` file is parsed and its
//! tree and errors compared with the `.txt` snapshot next to it
//! (`UPDATE_EXPECT=1 cargo test -p neuride-dsl --test corpus` rewrites them).
//! `ok` files must parse without errors, `err` files must have some.

mod support;

use std::path::Path;

fn run_dir(dir: &str, expect_errors: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("reading {}: {error}", root.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "neuro"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "expected a corpus in {}", root.display());
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let parse = neuride_dsl::parse(&text);
        let rebuilt = support::rebuilt(&parse, &text);
        assert_eq!(
            rebuilt,
            text,
            "{}: the tree must keep every byte",
            path.display()
        );
        assert_eq!(
            !parse.errors.is_empty(),
            expect_errors,
            "{}: errors {:?}",
            path.display(),
            parse.errors
        );
        expect_test::expect_file![path.with_extension("txt")].assert_eq(&parse.debug_dump());
    }
}

#[test]
fn ok_corpus_parses_without_errors() {
    run_dir("ok", false);
}

#[test]
fn err_corpus_reports_errors() {
    run_dir("err", true);
}
