use super::*;
use crate::Range;

fn parse(name: &str, text: &str) -> Config {
    Config::parse(&Path::new("/ws").join(name), text)
        .unwrap()
        .expect("a neuride config")
}

fn error(name: &str, text: &str) -> String {
    Config::parse(&Path::new("/ws").join(name), text)
        .unwrap_err()
        .to_string()
}

/// Asserts what `rules` make of each code emitted at a severity: the
/// severity shown, or `None` when the rule is off.
fn assert_severities(rules: &RuleSet, expected: &[(&str, Severity, Option<Severity>)]) {
    for &(code, emitted, shown) in expected {
        assert_eq!(
            rules.severity(code, emitted),
            shown,
            "{code} emitted as {emitted:?}"
        );
    }
}

fn diagnostic(code: &str, severity: Severity) -> FileDiagnostic {
    FileDiagnostic {
        severity,
        code: code.into(),
        message: String::new(),
        range: Range::default(),
    }
}

#[test]
fn defaults_select_everything_as_emitted() {
    assert_severities(
        &RuleSet::default(),
        &[
            ("onnx/ssa", Severity::Error, Some(Severity::Error)),
            ("npz/nan", Severity::Warning, Some(Severity::Warning)),
        ],
    );
}

#[test]
fn select_ignore_and_specificity() {
    let config = parse(
        "neuride.toml",
        r#"
[lint]
select = ["onnx", "npz/nan"]
ignore = ["onnx/external-data", "onnx/ssa"]
"#,
    );
    let rules = config.rules_for(Path::new("/ws/m.onnx"), &Overrides::default());
    assert_severities(
        &rules,
        &[
            ("onnx/cycle", Severity::Error, Some(Severity::Error)),
            ("onnx/ssa", Severity::Error, None),
            ("onnx/external-data-missing", Severity::Error, None),
            ("npz/nan", Severity::Warning, Some(Severity::Warning)),
            ("npz/inf", Severity::Warning, None),
            ("neuro/syntax", Severity::Error, None),
        ],
    );

    // A more specific select beats a family-wide ignore.
    let config = parse(
        "neuride.toml",
        "[lint]\nselect = [\"onnx/ssa\"]\nignore = [\"onnx\"]\n",
    );
    let rules = config.rules_for(Path::new("/ws/m.onnx"), &Overrides::default());
    assert_severities(
        &rules,
        &[
            ("onnx/ssa", Severity::Error, Some(Severity::Error)),
            ("onnx/cycle", Severity::Error, None),
        ],
    );
}

#[test]
fn command_line_select_replaces_and_ignore_adds() {
    let config = parse("neuride.toml", "[lint]\nselect = [\"npz\"]\n");
    let overrides = Overrides {
        select: Some(vec!["onnx/".into()]),
        ignore: vec!["onnx/cycle".into()],
    };
    let rules = config.rules_for(Path::new("/ws/m.onnx"), &overrides);
    assert_severities(
        &rules,
        &[
            ("npz/nan", Severity::Warning, None),
            ("onnx/ssa", Severity::Error, Some(Severity::Error)),
            ("onnx/cycle", Severity::Error, None),
        ],
    );
}

#[test]
fn severity_overrides_and_per_path() {
    let config = parse(
        "pyproject.toml",
        r#"
[project]
name = "x"

[tool.neuride.lint]
severity = { "onnx" = "warning", "onnx/cycle" = "error", "npz/nan" = "info" }

[[tool.neuride.lint.per-path]]
paths = ["legacy/**"]
ignore = ["onnx/topological-order"]
severity = { "onnx/cycle" = "info" }
"#,
    );
    let top = config.rules_for(Path::new("/ws/m.onnx"), &Overrides::default());
    assert_severities(
        &top,
        &[
            ("onnx/ssa", Severity::Error, Some(Severity::Warning)),
            ("onnx/cycle", Severity::Error, Some(Severity::Error)),
            (
                "onnx/topological-order",
                Severity::Error,
                Some(Severity::Warning),
            ),
        ],
    );
    let legacy = config.rules_for(Path::new("/ws/legacy/old/m.onnx"), &Overrides::default());
    assert_severities(
        &legacy,
        &[
            ("onnx/topological-order", Severity::Error, None),
            ("onnx/cycle", Severity::Error, Some(Severity::Info)),
        ],
    );
    // `legacy/**` is relative to the config's folder and does not match elsewhere.
    let other = config.rules_for(Path::new("/ws/src/legacy/m.onnx"), &Overrides::default());
    assert_severities(
        &other,
        &[(
            "onnx/topological-order",
            Severity::Error,
            Some(Severity::Warning),
        )],
    );

    let applied = legacy.apply(vec![
        diagnostic("onnx/topological-order", Severity::Error),
        diagnostic("npz/nan", Severity::Warning),
    ]);
    assert_eq!(applied, vec![diagnostic("npz/nan", Severity::Info)]);
}

#[test]
fn pyproject_without_tool_neuride_is_no_config() {
    let parsed = Config::parse(
        Path::new("/ws/pyproject.toml"),
        "[project]\nname = \"x\"\n[tool.ruff]\nline-length = 100\n",
    )
    .unwrap();
    assert!(parsed.is_none());
}

#[test]
fn mistakes_are_named_with_the_file() {
    assert_eq!(
        error("neuride.toml", "[lint]\nselect = [\"onnx/nope\"]\n"),
        "/ws/neuride.toml: \"onnx/nope\" selects no rule: expected a code (`neuride rules` lists them), a family (`onnx`, `npz`, `neuro`), a prefix of codes or `ALL`"
    );
    let unknown_key = error("neuride.toml", "[lint]\nselct = [\"onnx\"]\n");
    assert!(
        unknown_key.starts_with("/ws/neuride.toml: line 2: unknown field `selct`"),
        "{unknown_key}"
    );
    assert_eq!(
        error(
            "neuride.toml",
            "[lint]\nseverity = { \"onnx\" = \"fatal\" }\n"
        ),
        "/ws/neuride.toml: severity of \"onnx\": expected \"error\", \"warning\" or \"info\", found \"fatal\""
    );
    let glob = error(
        "neuride.toml",
        "[[lint.per-path]]\npaths = [\"a[\"]\nignore = [\"onnx\"]\n",
    );
    assert!(glob.contains("per-path glob \"a[\""), "{glob}");
    assert!(error("neuride.toml", "[lint\n").contains("line 1"));
}
