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
    let rules = RuleSet::default();
    assert_eq!(
        rules.severity("onnx/ssa", Severity::Error),
        Some(Severity::Error)
    );
    assert_eq!(
        rules.severity("npz/nan", Severity::Warning),
        Some(Severity::Warning)
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
    assert!(rules.severity("onnx/cycle", Severity::Error).is_some());
    assert!(rules.severity("onnx/ssa", Severity::Error).is_none());
    assert!(
        rules
            .severity("onnx/external-data-missing", Severity::Error)
            .is_none()
    );
    assert!(rules.severity("npz/nan", Severity::Warning).is_some());
    assert!(rules.severity("npz/inf", Severity::Warning).is_none());
    assert!(rules.severity("neuro/syntax", Severity::Error).is_none());

    // A more specific select beats a family-wide ignore.
    let config = parse(
        "neuride.toml",
        "[lint]\nselect = [\"onnx/ssa\"]\nignore = [\"onnx\"]\n",
    );
    let rules = config.rules_for(Path::new("/ws/m.onnx"), &Overrides::default());
    assert!(rules.severity("onnx/ssa", Severity::Error).is_some());
    assert!(rules.severity("onnx/cycle", Severity::Error).is_none());
}

#[test]
fn command_line_select_replaces_and_ignore_adds() {
    let config = parse("neuride.toml", "[lint]\nselect = [\"npz\"]\n");
    let overrides = Overrides {
        select: Some(vec!["onnx/".into()]),
        ignore: vec!["onnx/cycle".into()],
    };
    let rules = config.rules_for(Path::new("/ws/m.onnx"), &overrides);
    assert!(rules.severity("npz/nan", Severity::Warning).is_none());
    assert!(rules.severity("onnx/ssa", Severity::Error).is_some());
    assert!(rules.severity("onnx/cycle", Severity::Error).is_none());
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
    assert_eq!(
        top.severity("onnx/ssa", Severity::Error),
        Some(Severity::Warning)
    );
    assert_eq!(
        top.severity("onnx/cycle", Severity::Error),
        Some(Severity::Error)
    );
    assert!(
        top.severity("onnx/topological-order", Severity::Error)
            .is_some()
    );
    let legacy = config.rules_for(Path::new("/ws/legacy/old/m.onnx"), &Overrides::default());
    assert!(
        legacy
            .severity("onnx/topological-order", Severity::Error)
            .is_none()
    );
    assert_eq!(
        legacy.severity("onnx/cycle", Severity::Error),
        Some(Severity::Info)
    );
    // `legacy/**` is relative to the config's folder and does not match elsewhere.
    let other = config.rules_for(Path::new("/ws/src/legacy/m.onnx"), &Overrides::default());
    assert!(
        other
            .severity("onnx/topological-order", Severity::Error)
            .is_some()
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
