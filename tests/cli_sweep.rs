//! `neuride sweep` as a user runs it (grid, random draw, formats, plots,
//! a `.neuro` sweep block), and neuride as the trial of real distributed
//! tuners: two Optuna workers sharing one SQLite study, and the NNI trial
//! script standalone (examples/sweep).

#[path = "e2e/support.rs"]
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn neuride(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(support::binary()).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example(file: &str) -> PathBuf {
    support::repo_root().join("examples/tabular-snn").join(file)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_grid_runs_every_combination_in_parallel_and_finds_the_front() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("sweep.svg");
    let (code, stdout, stderr) = neuride(&[
        "sweep",
        path(&example("cnn.onnx")),
        "--data",
        path(&example("test_images.npz")),
        "--calib",
        path(&example("train_images.npz")),
        "--limit",
        "100",
        "--grid",
        "steps=2,5,10",
        "--grid",
        "encode=current,rate",
        "--jobs",
        "2",
        "--format",
        "json",
        "--plot",
        path(&plot),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(report["jobs"], 2);
    assert_eq!(report["axes"], serde_json::json!(["steps", "encode"]));
    // Progress: one line per finished trial.
    assert_eq!(stderr.matches("trial ").count(), 6, "{stderr}");
    for trial in results {
        for key in [
            "params",
            "accuracy",
            "accuracy_per_step",
            "synops",
            "macs",
            "wall_s",
        ] {
            assert!(trial.get(key).is_some(), "missing {key}: {trial}");
        }
        let steps = trial["params"]["steps"].as_f64().unwrap() as usize;
        assert_eq!(trial["steps"], steps);
        assert_eq!(trial["accuracy_per_step"].as_array().unwrap().len(), steps);
        assert_eq!(trial["samples"], 100);
    }
    // The same settings simulated alone give the same numbers.
    let (code, alone, stderr) = neuride(&[
        "simulate",
        path(&example("cnn.onnx")),
        "--data",
        path(&example("test_images.npz")),
        "--calib",
        path(&example("train_images.npz")),
        "--limit",
        "100",
        "--steps",
        "5",
        "--encode",
        "rate",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let alone: Value = serde_json::from_str(&alone).unwrap();
    let same = results
        .iter()
        .find(|t| t["params"]["steps"] == 5.0 && t["params"]["encode"] == "rate")
        .unwrap();
    assert_eq!(same["accuracy"], alone["accuracy"]);
    assert_eq!(same["accuracy_per_step"], alone["accuracy_per_step"]);
    // The front: no trial in it is beaten on all three; every trial left
    // out is beaten by one in it.
    let front = report["pareto"].as_array().unwrap();
    assert!(!front.is_empty());
    let key = |t: &Value| {
        (
            t["accuracy"].as_f64().unwrap(),
            t["synops"].as_f64().unwrap(),
            t["steps"].as_f64().unwrap(),
        )
    };
    let beats = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        a.0 >= b.0 && a.1 <= b.1 && a.2 <= b.2 && (a.0 > b.0 || a.1 < b.1 || a.2 < b.2)
    };
    for t in results {
        let in_front = front.iter().any(|f| f["params"] == t["params"]);
        let beaten = results.iter().any(|o| beats(key(o), key(t)));
        assert_eq!(in_front, !beaten, "{t}");
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Pareto front") && svg.contains("encode=rate"));

    // CSV and a random draw of the grid.
    let (code, csv, stderr) = neuride(&[
        "sweep",
        path(&example("cnn.onnx")),
        "--data",
        path(&example("test_images.npz")),
        "--limit",
        "20",
        "--grid",
        "steps=1,2,3",
        "--grid",
        "threshold=0.8,1.0",
        "--random",
        "3",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[0].starts_with("steps,threshold,accuracy,synops_per_sample"),
        "{csv}"
    );
}

#[test]
fn a_neuro_sweep_block_runs_and_bad_grids_are_clear_errors() {
    let dir = support::workspace(&["data/genes_modules.npz"]);
    for file in ["cnn.onnx", "genes_train.npz", "genes_test.npz"] {
        std::fs::copy(example(file), dir.path().join(file)).unwrap();
    }
    let neuro = dir.path().join("small.neuro");
    std::fs::write(
        &neuro,
        r#"dataset genes = npz("genes_test.npz", x: "x", y: "y")
dataset test = to_image(genes, size: [16, 16], method: pca, assign: lsa)
model cnn = onnx("cnn.onnx")
network snn = convert(cnn) {
    normalize = percentile(99.9, data: test)
}
sweep snn on test {
    steps = [2, 4]
    neuron = [if(threshold: 0.8), if(threshold: 1.0)]
    limit = 30
    jobs = 2
}
"#,
    )
    .unwrap();
    let (code, stdout, stderr) = neuride(&["sweep", path(&neuro), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["target"], "sweep snn on test");
    assert_eq!(report["results"].as_array().unwrap().len(), 4);
    assert_eq!(
        report["results"][0]["params"]["neuron"],
        "if(threshold: 0.8)"
    );
    assert_eq!(report["results"][0]["samples"], 30);

    let (code, _, stderr) = neuride(&[
        "sweep",
        path(&example("cnn.onnx")),
        "--data",
        path(&example("test_images.npz")),
        "--grid",
        "speed=1,2",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot sweep 'speed': expected one of steps, dt"),
        "{stderr}"
    );
    let (code, _, stderr) = neuride(&[
        "sweep",
        path(&example("cnn.onnx")),
        "--data",
        path(&example("test_images.npz")),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("a sweep needs a grid"), "{stderr}");
    let (code, _, stderr) = neuride(&[
        "sweep",
        path(&example("cnn.onnx")),
        "--data",
        path(&example("test_images.npz")),
        "--grid",
        "steps=2",
        "--plot",
        "out.png",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("this command writes .svg"), "{stderr}");
}

/// The test environment's Python running `script` with `args`.
fn python(script: &Path, args: &[&str]) -> std::process::Child {
    Command::new(support::test_python())
        .arg(script)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn two_optuna_workers_share_one_sqlite_study_and_complete_every_trial() {
    let dir = tempfile::tempdir().unwrap();
    let storage = format!("sqlite:///{}", dir.path().join("study.db").display());
    let script = support::repo_root().join("examples/sweep/optuna_sweep.py");
    let worker = |seed: &str| {
        python(
            &script,
            &[
                "--storage",
                &storage,
                "--study",
                "tabular",
                "--trials",
                "6",
                "--neuride",
                support::binary(),
                "--limit",
                "40",
                "--max-steps",
                "8",
                "--seed",
                seed,
            ],
        )
    };
    let (first, second) = (worker("1"), worker("2"));
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let last: Value = serde_json::from_slice(&outputs[1].stdout).unwrap();
    assert!(last["complete"].as_u64().unwrap() >= 6, "{last}");
    assert!(!last["pareto"].as_array().unwrap().is_empty());
    // The study as storage holds it: every trial finished, both workers ran some.
    let check = dir.path().join("check.py");
    std::fs::write(
        &check,
        r#"import json, sys, optuna
study = optuna.load_study(study_name="tabular", storage=sys.argv[1])
trials = study.get_trials()
print(json.dumps({
    "states": sorted({t.state.name for t in trials}),
    "complete": sum(t.state.name == "COMPLETE" for t in trials),
    "workers": len({t.user_attrs.get("worker") for t in trials}),
    "accuracies": [t.values[0] for t in trials if t.values],
}))
"#,
    )
    .unwrap();
    let out = python(&check, &[&storage]).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let study: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(study["states"], serde_json::json!(["COMPLETE"]), "{study}");
    assert!(study["complete"].as_u64().unwrap() >= 6, "{study}");
    assert_eq!(study["workers"], 2, "both workers ran trials: {study}");
    assert!(
        study["accuracies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| (0.0..=1.0).contains(&a.as_f64().unwrap())),
        "{study}"
    );
}

#[test]
fn the_nni_trial_runs_standalone_without_nni() {
    let script = support::repo_root().join("examples/sweep/nni/trial.py");
    let out = python(
        &script,
        &[
            "--neuride",
            support::binary(),
            "--limit",
            "30",
            "--params",
            r#"{"steps": 4, "encode": "rate"}"#,
        ],
    )
    .wait_with_output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["steps"], 4);
    assert_eq!(result["params"]["encode"], "rate");
    assert_eq!(result["default"], result["accuracy"]);
    // The config NNI reads names the trial and the search space.
    let config =
        std::fs::read_to_string(support::repo_root().join("examples/sweep/nni/config.yml"))
            .unwrap();
    assert!(
        config.contains("trialCommand: python3 trial.py")
            && config.contains("searchSpaceFile: search_space.json")
    );
    let space: Value = serde_json::from_str(
        &std::fs::read_to_string(support::repo_root().join("examples/sweep/nni/search_space.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(space["steps"]["_type"], "choice");
}
