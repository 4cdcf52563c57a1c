//! The example workspaces check clean against facts matching their real
//! files, and the formatter leaves them unchanged.

mod support;

fn example_file(example: &str, file: &str) -> String {
    let path = support::examples_dir().join(example).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

const EXAMPLES: &[(&str, &str)] = &[
    ("digits-snn", "digits.neuro"),
    ("handwritten-snn", "mlp.neuro"),
    ("iot-app", "greenhouse.neuro"),
    ("tabular-snn", "genes.neuro"),
];

#[test]
fn examples_check_clean() {
    for (example, file) in EXAMPLES {
        let text = example_file(example, file);
        let parse = neuride_dsl::parse(&text);
        let analysis = neuride_dsl::check(&parse, &support::example_workspace(example));
        assert!(
            analysis.diagnostics.is_empty(),
            "{example}/{file}: {:#?}",
            analysis.diagnostics
        );
    }
}

#[test]
fn examples_use_every_item_kind() {
    let mut seen = std::collections::HashSet::new();
    for (example, file) in EXAMPLES {
        let parse = neuride_dsl::parse(&example_file(example, file));
        for item in &parse.ast.items {
            seen.insert((
                item.kind,
                item.value.is_some() && item.kind == neuride_dsl::syntax::ast::ItemKind::Network,
            ));
        }
    }
    assert_eq!(
        seen.len(),
        9,
        "model, weights, dataset, written and converted network, simulate, sweep, infer, app: {seen:?}"
    );
}
