use super::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `"onnx/…"`, `"npz/…"`, `"neuro/…"` string literal in the crates'
/// sources (the registry and unit tests left out): the codes they can emit.
fn codes_in_sources() -> BTreeSet<(String, PathBuf)> {
    let files: Vec<PathBuf> = std::fs::read_dir(crates_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path().join("src"))
        .filter(|src| src.is_dir())
        .flat_map(walkdir::WalkDir::new)
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    let registry = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
    let mut codes = BTreeSet::new();
    // Tests name made-up codes on purpose; the registry names every code.
    let is_test = |file: &Path| {
        file.ends_with("tests.rs") || file.components().any(|c| c.as_os_str() == "tests")
    };
    for file in files
        .iter()
        .filter(|f| !f.starts_with(&registry) && !is_test(f))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for (start, _) in text.match_indices('"') {
            let rest = &text[start + 1..];
            let Some(end) = rest.find('"') else { continue };
            let literal = &rest[..end];
            let Some((family, slug)) = literal.split_once('/') else {
                continue;
            };
            if FAMILIES.iter().any(|(f, _)| *f == family)
                && !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                codes.insert((literal.to_owned(), file.clone()));
            }
        }
    }
    codes
}

#[test]
fn every_emitted_code_is_a_rule_and_every_rule_is_emitted() {
    let emitted = codes_in_sources();
    let unknown: Vec<_> = emitted
        .iter()
        .filter(|(code, _)| find(code).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "codes emitted but missing from ide/src/rules: {unknown:?}"
    );
    let emitted: BTreeSet<&str> = emitted.iter().map(|(code, _)| code.as_str()).collect();
    let stale: Vec<_> = all()
        .map(|rule| rule.code)
        .filter(|code| !emitted.contains(code))
        .collect();
    assert!(stale.is_empty(), "rules nothing emits: {stale:?}");
}

#[test]
fn codes_are_unique_and_rules_complete() {
    let mut seen = BTreeSet::new();
    for rule in all() {
        assert!(seen.insert(rule.code), "{} listed twice", rule.code);
        assert!(
            FAMILIES
                .iter()
                .any(|(family, _)| rule.code.starts_with(&format!("{family}/"))),
            "{}: unknown family",
            rule.code
        );
        assert!(
            !rule.name.is_empty() && !rule.summary.is_empty(),
            "{}",
            rule.code
        );
        assert!(
            !rule.summary.ends_with('.'),
            "{}: summary ends with '.'",
            rule.code
        );
        let explanation = rule.explanation;
        assert!(
            explanation.contains("**Example**") && explanation.contains("**Fix**"),
            "{}: the explanation needs an example and the fix",
            rule.code
        );
    }
}

#[test]
fn docs_rules_md_is_current() {
    let path = crates_dir().join("../../docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != markdown() {
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, markdown()).unwrap();
            return;
        }
        panic!(
            "docs/rules.md is out of date: run `UPDATE_EXPECT=1 cargo test -p neuride-ide rules` \
             (or `neuride rules --format markdown > docs/rules.md`)"
        );
    }
}

/// Each `.neuro` example, checked as a file of `tests/fixtures/` (so its
/// paths bind the real fixtures), reports its rule's code.
#[test]
fn neuro_examples_fail_with_their_code() {
    let fixtures = crates_dir()
        .join("../../tests/fixtures")
        .canonicalize()
        .unwrap();
    let mut checked = 0;
    for rule in neuro::RULES {
        let Some(example) = rule
            .explanation
            .split("```neuro\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
        else {
            continue;
        };
        let analysis = crate::neuro::NeuroAnalysis::new(
            &fixtures.join("example.neuro"),
            std::sync::Arc::from(example),
        );
        let codes: Vec<&str> = analysis
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        assert!(
            codes.contains(&rule.code),
            "the example of {} reports {codes:?}:\n{example}",
            rule.code
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} examples checked");
}

#[test]
fn selectors() {
    assert!(matches("onnx", "onnx/ssa"));
    assert!(matches("onnx/", "onnx/ssa"));
    assert!(matches("onnx/external-data", "onnx/external-data-missing"));
    assert!(!matches("onnx/external-data", "onnx/external-datamissing"));
    assert!(!matches("onnx/ss", "onnx/ssa"));
    assert!(!matches("npz", "neuro/syntax"));
    assert!(matches("ALL", "neuro/syntax"));
    assert!(specificity("onnx/ssa") > specificity("onnx/"));
    assert!(specificity("onnx") > specificity("ALL"));
    assert!(selects_any("neuro") && !selects_any("onnx/nope"));
}
