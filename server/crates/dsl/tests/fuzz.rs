//! Property tests standing in for cargo-fuzz (no nightly here): parse, check,
//! format and the editor features never panic on arbitrary or mutated input,
//! formatting is idempotent on anything that parses cleanly, and pathological
//! input (deep nesting, 1 MB of garbage) is handled without stack overflow.

mod support;

use proptest::prelude::*;

fn exercise(text: &str) {
    let parse = neuride_dsl::parse(text);
    let rebuilt = support::rebuilt(&parse, text);
    assert_eq!(rebuilt, text, "lossless");
    let workspace = support::all_facts();
    let analysis = neuride_dsl::check(&parse, &workspace);
    for diagnostic in &analysis.diagnostics {
        assert!(diagnostic.range.end <= text.len());
    }
    support::format_is_stable(&parse);
    let whole = neuride_dsl::TextRange::new(0, text.len());
    neuride_dsl::inlay_hints(&parse, &analysis, whole);
    neuride_dsl::semantic_tokens(&parse, &analysis);
    neuride_dsl::document_symbols(&parse.ast, text);
    neuride_dsl::code_lenses(&parse);
    // A handful of cursor positions on char boundaries.
    let mut offsets: Vec<usize> = (0..=text.len()).step_by((text.len() / 7).max(1)).collect();
    offsets.push(text.len());
    for offset in offsets
        .into_iter()
        .filter(|&offset| text.is_char_boundary(offset))
    {
        neuride_dsl::hover(&parse, &analysis, offset);
        neuride_dsl::completion(&parse, &analysis, &workspace, offset);
        neuride_dsl::goto_definition(&parse, &analysis, offset);
        support::explained(neuride_dsl::rename(&analysis, offset, "renamed"));
        neuride_dsl::code_actions(&parse, &analysis, neuride_dsl::TextRange::empty(offset));
    }
}

fn examples() -> Vec<String> {
    [
        "digits-snn/digits.neuro",
        "handwritten-snn/mlp.neuro",
        "iot-app/greenhouse.neuro",
        "tabular-snn/genes.neuro",
    ]
    .iter()
    .map(|path| std::fs::read_to_string(support::examples_dir().join(path)).expect("example"))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(text in "\\PC{0,200}") {
        exercise(&text);
    }

    #[test]
    fn token_soup(parts in proptest::collection::vec(prop_oneof![
        Just("model"), Just("network"), Just("layer"), Just("input"), Just("simulate"), Just("on"), Just("app"),
        Just("{"), Just("}"), Just("("), Just(")"), Just("["), Just("]"), Just("="), Just(","), Just(":"),
        Just("->"), Just("=>"), Just("x"), Just("w"), Just("\"k\""), Just("20ms"), Just("1e-3"), Just("\n"),
        Just(" "), Just("// c\n"), Just("/* c */"), Just("dense"), Just("-"), Just("."), Just("@"),
    ], 0..80)) {
        exercise(&parts.concat());
    }

    #[test]
    fn mutated_examples(example in 0usize..3, cuts in proptest::collection::vec((0usize..10_000, 0usize..40, "\\PC{0,6}"), 1..6)) {
        let mut text = examples()[example].clone();
        for (at, len, insert) in cuts {
            let mut start = at % (text.len() + 1);
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(start..end.max(start), &insert);
        }
        exercise(&text);
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    for open in ["(", "[", "{", "-", "/*"] {
        let close = match open {
            "(" => ")",
            "[" => "]",
            "{" => "}",
            "/*" => "*/",
            _ => "",
        };
        let text = format!(
            "network n {{\n    layer a = f({}1{})\n}}\n",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let parse = neuride_dsl::parse(&text);
        assert!(!parse.errors.is_empty() || open == "/*");
        let analysis = neuride_dsl::check(&parse, &neuride_dsl::EmptyWorkspace);
        support::format_is_stable(&parse);
        neuride_dsl::semantic_tokens(&parse, &analysis);
    }
}

#[test]
fn a_megabyte_of_garbage_parses() {
    let unit = "}{ layer = ) model ( \"x -> @ 12ms [ , ";
    let text = unit.repeat(1_000_000 / unit.len());
    let parse = neuride_dsl::parse(&text);
    assert!(!parse.errors.is_empty());
    let analysis = neuride_dsl::check(&parse, &neuride_dsl::EmptyWorkspace);
    assert!(!analysis.diagnostics.is_empty());
}
