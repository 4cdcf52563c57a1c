//! `neuride check` as a configured linter, run as a user runs it: the rule
//! registry (`rules`, `explain`), configuration found upward from each file
//! (`neuride.toml`, `[tool.neuride]`), `--select`/`--ignore`/`--config`/
//! `--isolated`, per-path overrides, every output format read by a real
//! consumer (jsonschema with the SARIF 2.1.0 schema, junitparser), and the
//! safe fixes verified by onnx.checker, by the ONNX reference evaluator
//! (same outputs) and by running `neuride check` again.

#[path = "e2e/support.rs"]
mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn neuride(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let output = Command::new(support::binary())
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Runs a Python script in the test venv; returns its stdout.
fn python(script: &str, cwd: &Path) -> String {
    let output = Command::new(support::test_python())
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `{file name relative to root: [codes]}` from `--format json`.
fn codes_by_file(stdout: &str, root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let report: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| {
            let path = Path::new(file["path"].as_str().unwrap());
            let name = path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string();
            let codes = file["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    format!(
                        "{}:{}",
                        d["code"].as_str().unwrap(),
                        d["severity"].as_str().unwrap()
                    )
                })
                .collect();
            (name, codes)
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn rules_and_explain() {
    let root = support::repo_root();
    let (code, stdout, _) = neuride(&["rules", "--format", "json"], &root);
    assert_eq!(code, 0);
    let rules: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert!(rules.len() > 100, "{}", rules.len());
    for rule in &rules {
        let keys: BTreeSet<&str> = rule
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["code", "name", "severity", "summary", "fixable"]),
            "{rule}"
        );
    }
    let topological = rules
        .iter()
        .find(|r| r["code"] == "onnx/topological-order")
        .unwrap();
    assert_eq!(topological["fixable"], true);
    assert_eq!(topological["severity"], "error");
    for family in ["onnx/", "npz/", "neuro/"] {
        assert!(
            rules
                .iter()
                .any(|r| r["code"].as_str().unwrap().starts_with(family))
        );
    }
    let (_, text, _) = neuride(&["rules"], &root);
    assert_eq!(text.lines().count(), rules.len());

    let (code, explanation, _) = neuride(&["explain", "neuro/unit"], &root);
    assert_eq!(code, 0);
    assert!(
        explanation.starts_with("Wrong unit (neuro/unit): "),
        "{explanation}"
    );
    assert!(
        explanation.contains("**Example**") && explanation.contains("tau_rc: 20Hz"),
        "{explanation}"
    );
    let (code, _, stderr) = neuride(&["explain", "onnx/external-data"], &root);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did you mean: onnx/external-data-location"),
        "{stderr}"
    );

    // docs/rules.md is the markdown of the same registry.
    let (_, markdown, _) = neuride(&["rules", "--format", "markdown"], &root);
    assert_eq!(
        markdown,
        std::fs::read_to_string(root.join("docs/rules.md")).unwrap()
    );
}

/// A `.neuro` file with a wrong unit, a value out of range and an unknown name.
const THREE_PROBLEMS: &str = "network n {
    input x: f32[4]
    layer a = lif(x, tau_rc: 20Hz)
    layer b = leaky(a, beta: 1.5)
    output y = relu(nope)
}
";

#[test]
fn configuration_is_found_upward_and_applied_per_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = support::canonical(&dir);
    for file in [
        "a.neuro",
        "legacy/old/b.neuro",
        "sub/c.neuro",
        "other/d.neuro",
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, THREE_PROBLEMS).unwrap();
    }
    let all = set(&[
        "neuro/range:error",
        "neuro/unit:error",
        "neuro/unknown-name:error",
    ]);
    let (code, stdout, _) = neuride(&["check", ".", "--format", "json", "--isolated"], &root);
    assert_eq!(code, 1);
    for codes in codes_by_file(&stdout, &root).values() {
        assert_eq!(codes, &all);
    }

    std::fs::write(
        root.join("neuride.toml"),
        r#"
[lint]
ignore = ["neuro/unit"]
severity = { "neuro/unknown-name" = "warning" }

[[lint.per-path]]
paths = ["legacy/**"]
ignore = ["neuro/range"]
"#,
    )
    .unwrap();
    // A pyproject.toml without [tool.neuride] is not a neuride config: the
    // search goes on upward.
    std::fs::write(
        root.join("other/pyproject.toml"),
        "[project]\nname = \"d\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("sub/pyproject.toml"),
        "[project]\nname = \"c\"\n\n[tool.neuride.lint]\nselect = [\"neuro/range\"]\n",
    )
    .unwrap();
    let (code, stdout, stderr) = neuride(&["check", ".", "--format", "json"], &root);
    assert_eq!(code, 1, "{stderr}");
    let expected: BTreeMap<String, BTreeSet<String>> = [
        (
            "a.neuro",
            set(&["neuro/range:error", "neuro/unknown-name:warning"]),
        ),
        ("legacy/old/b.neuro", set(&["neuro/unknown-name:warning"])),
        (
            "other/d.neuro",
            set(&["neuro/range:error", "neuro/unknown-name:warning"]),
        ),
        ("sub/c.neuro", set(&["neuro/range:error"])),
    ]
    .into_iter()
    .map(|(k, v)| (format!("./{k}"), v))
    .collect();
    assert_eq!(codes_by_file(&stdout, &root), expected);

    // Only warnings left: exit 0.
    let (code, _, _) = neuride(&["check", "legacy", "--format", "json"], &root);
    assert_eq!(code, 0);

    // --select replaces the file's select, --ignore adds to its ignore.
    let (_, stdout, _) = neuride(
        &[
            "check",
            "a.neuro",
            "sub",
            "--format",
            "json",
            "--select",
            "neuro/unit,neuro/range",
            "--ignore",
            "neuro/range",
        ],
        &root,
    );
    let files = codes_by_file(&stdout, &root);
    assert_eq!(files["a.neuro"], set(&[]));
    assert_eq!(files["sub/c.neuro"], set(&["neuro/unit:error"]));
    let (_, stdout, _) = neuride(
        &["check", "a.neuro", "--format", "json", "--select", "neuro"],
        &root,
    );
    assert_eq!(
        codes_by_file(&stdout, &root)["a.neuro"],
        set(&["neuro/range:error", "neuro/unknown-name:warning"])
    );

    // --config FILE: one file for everything; --isolated: none.
    let (_, stdout, _) = neuride(
        &[
            "check",
            ".",
            "--format",
            "json",
            "--config",
            "sub/pyproject.toml",
        ],
        &root,
    );
    for codes in codes_by_file(&stdout, &root).values() {
        assert_eq!(codes, &set(&["neuro/range:error"]));
    }

    // Mistakes are named with their file and fail the command (exit 2).
    std::fs::write(
        root.join("sub/pyproject.toml"),
        "[tool.neuride.lint]\nselect = [\"neuro/nope\"]\n",
    )
    .unwrap();
    let (code, _, stderr) = neuride(&["check", "."], &root);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!(
            "{}: \"neuro/nope\" selects no rule",
            root.join("sub/pyproject.toml").display()
        )),
        "{stderr}"
    );
    let (code, _, stderr) = neuride(&["check", ".", "--select", "onnx/nope"], &root);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the command line: \"onnx/nope\" selects no rule"),
        "{stderr}"
    );
    let (code, _, stderr) = neuride(&["check", ".", "--config", "missing.toml"], &root);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read config missing.toml"),
        "{stderr}"
    );
}

/// A workspace with problems of every severity and kind: a `.neuro` file
/// with errors, a model with an unused initializer (warning), an archive
/// with NaN (warning), a clean model.
fn mixed_workspace() -> tempfile::TempDir {
    let dir = support::workspace(&["ml/iris_logreg.onnx"]);
    let root = support::canonical(&dir);
    std::fs::write(root.join("app.neuro"), THREE_PROBLEMS).unwrap();
    python(
        r#"
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y],
    [numpy_helper.from_array(np.ones(2, np.float32), "stale")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), "stale & co.onnx")
np.savez("weights.npz", w=np.array([1.0, np.nan], np.float32))
"#,
        &root,
    );
    dir
}

#[test]
fn every_format_is_read_by_a_real_consumer() {
    let dir = mixed_workspace();
    let root = support::canonical(&dir);
    let (_, json, _) = neuride(&["check", ".", "--format", "json"], &root);
    let files = codes_by_file(&json, &root);
    assert_eq!(
        files["./stale & co.onnx"],
        set(&["onnx/unused-initializer:warning"])
    );
    assert_eq!(files["./weights.npz"], set(&["npz/nan:warning"]));
    assert_eq!(files["./ml/iris_logreg.onnx"], set(&[]));
    let total: usize = files.values().map(BTreeSet::len).sum();

    // SARIF 2.1.0, validated against the OASIS schema.
    let (code, sarif, _) = neuride(&["check", ".", "--format", "sarif"], &root);
    assert_eq!(code, 1);
    std::fs::write(root.join("out.sarif"), &sarif).unwrap();
    let schema = support::repo_root().join("tests/sarif/sarif-schema-2.1.0.json");
    let checked = python(
        &format!(
            r#"
import json, jsonschema
schema = json.load(open({schema:?}))
log = json.load(open("out.sarif"))
jsonschema.Draft4Validator.check_schema(schema)
jsonschema.Draft4Validator(schema).validate(log)
run = log["runs"][0]
rules = run["tool"]["driver"]["rules"]
for r in run["results"]:
    assert rules[r["ruleIndex"]]["id"] == r["ruleId"], r
print(json.dumps({{"results": len(run["results"]), "rules": len(rules),
    "levels": sorted({{r["level"] for r in run["results"]}}),
    "neuro_region": [r["locations"][0]["physicalLocation"].get("region") for r in run["results"] if r["ruleId"] == "neuro/unit"][0],
    "binary_uris": sorted({{r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] if "region" not in r["locations"][0]["physicalLocation"]}})}}))
"#,
            schema = schema.display().to_string()
        ),
        &root,
    );
    let checked: Value = serde_json::from_str(&checked).unwrap();
    assert_eq!(checked["results"], total);
    assert!(checked["rules"].as_u64().unwrap() > 100);
    assert_eq!(checked["levels"], serde_json::json!(["error", "warning"]));
    assert_eq!(
        checked["neuro_region"],
        serde_json::json!({"startLine": 3, "startColumn": 30, "endLine": 3, "endColumn": 34})
    );
    assert_eq!(
        checked["binary_uris"],
        serde_json::json!(["./stale%20%26%20co.onnx", "./weights.npz"])
    );

    // JUnit XML, read by junitparser.
    let (code, junit, _) = neuride(&["check", ".", "--format", "junit"], &root);
    assert_eq!(code, 1);
    std::fs::write(root.join("out.xml"), &junit).unwrap();
    let parsed = python(
        r#"
import json
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile("out.xml")
suites = {}
for suite in xml:
    cases = []
    for case in suite:
        failures = [r for r in case.result if isinstance(r, Failure)]
        cases.append([case.name, [(f.type, f.message) for f in failures]])
    suites[suite.name] = cases
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "suites": suites}))
"#,
        &root,
    );
    let parsed: Value = serde_json::from_str(&parsed).unwrap();
    assert_eq!(parsed["failures"], total);
    assert_eq!(
        parsed["suites"]["./ml/iris_logreg.onnx"],
        serde_json::json!([["no problems", []]])
    );
    let stale = &parsed["suites"]["./stale & co.onnx"][0];
    assert!(
        stale[0]
            .as_str()
            .unwrap()
            .starts_with("onnx/unused-initializer at "),
        "{stale}"
    );
    assert_eq!(
        stale[1],
        serde_json::json!([[
            "warning",
            "initializer 'stale' is used by no node or output"
        ]])
    );

    // GitHub workflow commands: one per diagnostic; binary files carry the
    // file only, text files the line and column; data escaped.
    let (code, github, _) = neuride(&["check", ".", "--format", "github"], &root);
    assert_eq!(code, 1);
    let lines: Vec<&str> = github.lines().collect();
    assert_eq!(lines.len(), total, "{github}");
    assert!(
        lines.contains(&"::warning file=./stale & co.onnx,title=onnx/unused-initializer::initializer 'stale' is used by no node or output [onnx/unused-initializer]"),
        "{github}"
    );
    let unit = lines
        .iter()
        .find(|l| l.contains("title=neuro/unit"))
        .unwrap();
    assert!(
        unit.starts_with(
            "::error file=./app.neuro,line=3,col=30,endLine=3,endColumn=34,title=neuro/unit::"
        ),
        "{unit}"
    );

    // --statistics, as text and as JSON.
    let (code, text, _) = neuride(&["check", ".", "--statistics"], &root);
    assert_eq!(code, 1);
    assert!(
        text.contains("1  onnx/unused-initializer  [*] Unused initializer"),
        "{text}"
    );
    assert!(
        text.ends_with("[*] fixable with `neuride check --fix`\n"),
        "{text}"
    );
    let (_, stats, _) = neuride(&["check", ".", "--statistics", "--format", "json"], &root);
    let stats: Vec<Value> = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats
            .iter()
            .map(|s| s["count"].as_u64().unwrap())
            .sum::<u64>(),
        total as u64
    );
    assert!(stats.contains(
        &serde_json::json!({"code": "npz/nan", "name": "NaN values", "count": 1, "fixable": false})
    ));

    // Human: a line per file with kind, what it holds, size and verdict,
    // aligned, plain when piped; the summary line last. --quiet: the old output.
    let (_, human, _) = neuride(&["check", "."], &root);
    let listing: Vec<&str> = human.lines().filter(|l| l.starts_with("./")).collect();
    assert_eq!(listing.len(), 4, "{human}");
    assert!(!human.contains('\x1b'), "{human}");
    let kind_column: BTreeSet<usize> = listing
        .iter()
        .map(|l| {
            let gap = l.find("  ").unwrap();
            gap + l[gap..].find(|c| c != ' ').unwrap()
        })
        .collect();
    assert_eq!(
        kind_column.len(),
        1,
        "paths are padded to one width:\n{human}"
    );
    let iris = listing.iter().find(|l| l.contains("iris_logreg")).unwrap();
    assert!(
        iris.contains("onnx") && iris.contains("ml model, ") && iris.ends_with("  ok"),
        "{iris}"
    );
    let npz = listing.iter().find(|l| l.contains("weights.npz")).unwrap();
    assert!(
        npz.contains("1 array") && npz.ends_with("1 warning"),
        "{npz}"
    );
    let neuro = listing.iter().find(|l| l.contains("app.neuro")).unwrap();
    assert!(
        neuro.contains("1 network") && neuro.ends_with("3 errors"),
        "{neuro}"
    );
    assert!(
        human.contains("  ./app.neuro:3:30: error[neuro/unit]: "),
        "{human}"
    );
    assert!(
        human.ends_with("checked 4 files: 3 errors, 2 warnings\n"),
        "{human}"
    );
    let (_, quiet, _) = neuride(&["check", ".", "--quiet"], &root);
    assert!(
        quiet.starts_with("./app.neuro:3:30: error[neuro/unit]: "),
        "{quiet}"
    );
    assert_eq!(quiet.lines().count(), total + 1);
}

/// Models with each fixable problem, made with onnx.helper; their outputs
/// on fixed inputs are saved to compare after the fix.
const BROKEN_MODELS: &str = r#"
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
F = TensorProto.FLOAT
def io(name): return helper.make_tensor_value_info(name, F, [2])

# Unsorted nodes, one of them reading a later value inside an If branch.
then_g = helper.make_graph([helper.make_node("Identity", ["t"], ["a"])], "then", [], [io("a")])
else_g = helper.make_graph([helper.make_node("Neg", ["t"], ["b"])], "else", [], [io("b")])
nodes = [
    helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
    helper.make_node("Relu", ["x"], ["t"]),
    helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
    helper.make_node("Greater", ["s", "zero"], ["c"]),
]
graph = helper.make_graph(nodes, "unsorted", [io("x")], [io("y")],
    [numpy_helper.from_array(np.array(0, np.float32), "zero")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), "unsorted.onnx")

# Unused initializer, unused overridable input, dangling value_info.
graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "unused",
    [io("x"), io("scale")], [io("y")],
    [numpy_helper.from_array(np.ones(2, np.float32), n) for n in ("w", "old", "scale")],
    value_info=[io("gone")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), "unused.onnx")

# Duplicate opset imports and no ir_version.
graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "header", [io("x")], [io("y")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("", 17)])
model.ir_version = 0
onnx.save(model, "header.onnx")

# What each computes, from valid equivalents (the reference evaluator runs
# nodes in the order given, so the unsorted model cannot run as it is).
import json
from onnx.reference import ReferenceEvaluator
x = {"x": np.array([1.5, -2.0], np.float32)}
sorted_model = onnx.load("unsorted.onnx")
nodes = list(sorted_model.graph.node)
del sorted_model.graph.node[:]
sorted_model.graph.node.extend([nodes[1], nodes[2], nodes[3], nodes[0]])
valid_header = onnx.load("header.onnx")
valid_header.ir_version = 8
del valid_header.opset_import[0]
expected = {
    "unsorted": ReferenceEvaluator(sorted_model).run(None, x)[0].tolist(),
    "unused": ReferenceEvaluator(onnx.load("unused.onnx")).run(None, x)[0].tolist(),
    "header": ReferenceEvaluator(valid_header).run(None, x)[0].tolist(),
}
print(json.dumps(expected))
"#;

/// Checks each model with onnx.checker (full check) and runs it with the
/// reference evaluator; prints `{name: {"valid": bool, "y": [...]}}`.
const VERIFY: &str = r#"
import json, numpy as np, onnx
from onnx.reference import ReferenceEvaluator
out = {}
for name in ["unsorted", "unused", "header"]:
    model = onnx.load(name + ".onnx")
    try:
        onnx.checker.check_model(model, full_check=True)
        valid = True
    except Exception as e:
        valid = str(e).splitlines()[0]
    try:
        y = ReferenceEvaluator(model).run(None, {"x": np.array([1.5, -2.0], np.float32)})[0].tolist()
    except Exception as e:
        y = "cannot run: " + type(e).__name__
    out[name] = {"valid": valid, "y": y, "nodes": len(model.graph.node),
                 "initializers": sorted(i.name for i in model.graph.initializer),
                 "inputs": [i.name for i in model.graph.input],
                 "value_info": [v.name for v in model.graph.value_info],
                 "ir": model.ir_version,
                 "opsets": [(o.domain, o.version) for o in model.opset_import]}
print(json.dumps(out))
"#;

#[test]
fn fixes_keep_what_models_compute_and_satisfy_onnx_checker() {
    let dir = tempfile::tempdir().unwrap();
    let root = support::canonical(&dir);
    let expected: Value = serde_json::from_str(&python(BROKEN_MODELS, &root)).unwrap();
    let before: Value = serde_json::from_str(&python(VERIFY, &root)).unwrap();
    assert_ne!(
        before["unsorted"]["valid"], true,
        "onnx.checker accepts the unsorted model"
    );
    assert_ne!(
        before["header"]["valid"], true,
        "onnx.checker accepts ir_version 0"
    );
    let (_, stdout, _) = neuride(&["check", ".", "--format", "json"], &root);
    let found = codes_by_file(&stdout, &root);
    assert!(
        found["./unsorted.onnx"].contains("onnx/topological-order:error"),
        "{found:?}"
    );
    assert_eq!(
        found["./unused.onnx"],
        set(&[
            "onnx/unused-initializer:warning",
            "onnx/unused-input:warning",
            "onnx/unused-value-info:warning"
        ])
    );
    assert!(
        found["./header.onnx"].contains("onnx/ir-version-missing:error"),
        "{found:?}"
    );
    assert!(
        found["./header.onnx"].contains("onnx/opset-import-duplicate:warning"),
        "{found:?}"
    );

    // --diff shows the fixes on the text views and writes nothing.
    let bytes = |name: &str| std::fs::read(root.join(name)).unwrap();
    let originals: Vec<Vec<u8>> = ["unsorted.onnx", "unused.onnx", "header.onnx"]
        .map(bytes)
        .to_vec();
    let (code, diff, _) = neuride(&["check", ".", "--diff"], &root);
    assert_eq!(code, 1);
    assert!(diff.contains("# ./unsorted.onnx: sorted the nodes topologically (4 nodes moved) [onnx/topological-order]"), "{diff}");
    assert!(
        diff.contains("--- a/./unsorted.onnx\n+++ b/./unsorted.onnx\n"),
        "{diff}"
    );
    assert!(
        diff.contains(
            "# ./unused.onnx: removed 2 unused initializers (old, scale) [onnx/unused-initializer]"
        ),
        "{diff}"
    );
    assert!(diff.contains("# ./header.onnx: set ir_version to 8 (from the opset imports) [onnx/ir-version-missing]"), "{diff}");
    assert!(
        diff.lines()
            .any(|l| l.starts_with('-') && l.contains("Relu")),
        "{diff}"
    );
    assert_eq!(
        ["unsorted.onnx", "unused.onnx", "header.onnx"]
            .map(bytes)
            .to_vec(),
        originals
    );

    // --fix honours the rules: an ignored code is not fixed.
    let (_, _, stderr) = neuride(
        &[
            "check",
            "unsorted.onnx",
            "--fix",
            "--ignore",
            "onnx/topological-order",
        ],
        &root,
    );
    assert!(!stderr.contains("fixed"), "{stderr}");
    assert_eq!(bytes("unsorted.onnx"), originals[0]);

    let (code, stdout, stderr) = neuride(&["check", ".", "--fix", "--format", "json"], &root);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("fixed ./unsorted.onnx: sorted the nodes topologically"),
        "{stderr}"
    );
    // What is left after the fix, by neuride itself: nothing.
    for (file, codes) in codes_by_file(&stdout, &root) {
        assert!(codes.is_empty(), "{file}: {codes:?}");
    }
    let (code, _, _) = neuride(&["check", ".", "--diff"], &root);
    assert_eq!(code, 0, "nothing left to fix");

    // onnx.checker accepts every fixed model, and each computes what it did.
    let after: Value = serde_json::from_str(&python(VERIFY, &root)).unwrap();
    for name in ["unsorted", "unused", "header"] {
        assert_eq!(after[name]["valid"], true, "{name}: {}", after[name]);
        assert_eq!(after[name]["y"], expected[name], "{name}");
        assert_eq!(after[name]["nodes"], before[name]["nodes"], "{name}");
    }
    assert_eq!(after["unused"]["initializers"], serde_json::json!(["w"]));
    assert_eq!(after["unused"]["inputs"], serde_json::json!(["x"]));
    assert_eq!(after["unused"]["value_info"], serde_json::json!([]));
    assert_eq!(after["header"]["ir"], 8);
    assert_eq!(after["header"]["opsets"], serde_json::json!([["", 17]]));
}

/// A missing `)` at the end of line 1 points at the end of line 1 (after
/// the last token, as rustc does) and names the token found on line 2.
#[test]
fn syntax_errors_point_after_the_previous_token() {
    let dir = tempfile::tempdir().unwrap();
    let root = support::canonical(&dir);
    std::fs::write(
        root.join("app.neuro"),
        "model m = onnx(\"m.onnx\"\nnetwork n {\n    input x: f32[4]\n    output y = relu(x)\n}\n",
    )
    .unwrap();
    let (code, stdout, _) = neuride(
        &["check", "app.neuro", "--quiet", "--select", "neuro/syntax"],
        &root,
    );
    assert_eq!(code, 1);
    assert_eq!(
        stdout.lines().next().unwrap(),
        "app.neuro:1:24: error[neuro/syntax]: expected `,` or `)`, found `network`"
    );
}
