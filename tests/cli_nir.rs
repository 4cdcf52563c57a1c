//! NIR through the real binary and the real `nir` package (PyPI, in the
//! test venv): files neuride writes (`convert -o X.nir`, `export nir`) are
//! read by `nir.read(..., type_check=True)`, a file the `nir` package writes
//! simulates in neuride as NIR's equations say, snnTorch's exports simulate
//! to snnTorch's spikes, and a converted CNN keeps its accuracy through NIR.

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

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `neuride simulate ... --format json`, which must succeed.
fn simulate(args: &[&str]) -> Value {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let (code, stdout, stderr) = neuride(&all);
    assert_eq!(code, 0, "{all:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Runs `script` in the test venv's Python; its stdout.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new(support::test_python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nir.read(FILE, type_check=True)`: the node types by name, as JSON.
const NIR_TYPES: &str = r#"
import json, sys, nir
graph = nir.read(sys.argv[1], type_check=True)
print(json.dumps({name: type(node).__name__ for name, node in graph.nodes.items()}))
"#;

fn nir_types(file: &Path) -> Value {
    serde_json::from_str(&python(NIR_TYPES, &[path(file)])).unwrap()
}

#[test]
fn snntorch_and_norse_exports_simulate_to_their_spikes() {
    for name in ["snntorch_mlp", "snntorch_cnn"] {
        let model = support::fixture(&format!("nir/{name}.nir"));
        let data = support::fixture(&format!("nir/{name}_io.npz"));
        // No --dt-ms: NIR files step 0.1 ms, snnTorch's convention. The
        // labels are the classes snnTorch's spike counts pick.
        let report = simulate(&[
            path(&model),
            "--data",
            path(&data),
            "--steps",
            "40",
            "--decode",
            "count",
        ]);
        assert_eq!(report["accuracy"], 1.0, "{name}: {report}");
        assert_eq!(report["samples"], 40);
        // Norse's 1 ms step makes the leak ten times faster: other spikes.
        let slow = simulate(&[
            path(&model),
            "--data",
            path(&data),
            "--steps",
            "40",
            "--decode",
            "count",
            "--dt-ms",
            "1",
        ]);
        assert_ne!(slow["rates"], report["rates"], "{name}");
    }
    // Norse 1.1's own export runs with Norse's numbers at 1 us (docs/nir.md).
    let model = support::fixture("nir/norse_mlp.nir");
    let data = support::fixture("nir/norse_mlp_io.npz");
    let report = simulate(&[
        path(&model),
        "--data",
        path(&data),
        "--steps",
        "40",
        "--decode",
        "count",
        "--dt-ms",
        "0.001",
    ]);
    assert_eq!(report["accuracy"], 1.0, "{report}");
    // `neuride run` routes a NIR file to the simulator (0.1 ms steps).
    let model = support::fixture("nir/snntorch_mlp.nir");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("samples.npz");
    python(
        "import sys, numpy as np; d = np.load(sys.argv[1]); np.savez(sys.argv[2], x=d['x'], y=d['y'])",
        &[
            path(&support::fixture("nir/snntorch_mlp_io.npz")),
            path(&data),
        ],
    );
    let (code, stdout, stderr) = neuride(&[
        "run",
        path(&model),
        "--input",
        path(&data),
        "--labels",
        "y",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("a NIR file"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["samples"], 40, "{report}");
}

/// A graph written by `script` (the `nir` package) into a temp folder as
/// `graph.nir`, with `io.npz` (inputs and the classes numpy gives); returns
/// the folder, both paths and the numbers the script printed.
fn numpy_case(script: &str) -> (tempfile::TempDir, PathBuf, PathBuf, Vec<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = (dir.path().join("graph.nir"), dir.path().join("io.npz"));
    let script = format!("{script}{SAVE_LABELS}");
    let printed = python(&script, &[path(&model), path(&data)]);
    let numbers = printed
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (dir, model, data, numbers)
}

/// The end of every `numpy_case` script: saves the inputs `x` (and the
/// script's `input_arrays` by name) and the classes of the spike `counts`
/// numpy gave (samples whose largest count is tied are left out), then prints how many samples were kept, the spikes in
/// all and the script's `print_extra` numbers.
const SAVE_LABELS: &str = r#"
top = np.sort(counts, axis=1)
keep = (top[:, -1] > top[:, -2])
arrays = {k: v[keep] for k, v in globals().get("input_arrays", {}).items()}
np.savez(data, x=x[keep], y=counts[keep].argmax(axis=1).astype(np.int64), **arrays)
print(int(keep.sum()), int(counts.sum()), *globals().get("print_extra", []))
"#;

/// The report of a run whose every sample got numpy's class.
fn assert_all_right(report: &Value, numbers: &[usize]) {
    assert_eq!(report["accuracy"], 1.0, "{report}");
    assert_eq!(report["samples"].as_u64(), Some(numbers[0] as u64));
}

/// `simulate MODEL --data DATA --steps STEPS --decode count`.
fn simulate_counts(model: &Path, data: &Path, steps: &str) -> Value {
    simulate(&[
        path(model),
        "--data",
        path(data),
        "--steps",
        steps,
        "--decode",
        "count",
    ])
}

/// `export nir` of `network n = nir("graph.nir")` in `dir` to
/// `again.nir`: its exit code and stderr.
fn export_nir(dir: &Path) -> (i32, String) {
    let neuro = dir.join("app.neuro");
    std::fs::write(&neuro, "network n = nir(\"graph.nir\")\n").unwrap();
    let (code, _, stderr) = neuride(&[
        "export",
        "nir",
        path(&neuro),
        "--network",
        "n",
        "-o",
        path(&dir.join("again.nir")),
    ]);
    (code, stderr)
}

/// [`export_nir`] that must succeed: the file written.
fn export_again(dir: &Path) -> PathBuf {
    let (code, stderr) = export_nir(dir);
    assert_eq!(code, 0, "{stderr}");
    dir.join("again.nir")
}

/// A [`numpy_case`] with at least 32 samples and `min_spikes` spikes,
/// simulated for 60 steps: every sample gets numpy's class.
fn simulates_as_numpy(
    script: &str,
    min_spikes: usize,
) -> (tempfile::TempDir, PathBuf, PathBuf, Vec<usize>) {
    let (dir, model, data, numbers) = numpy_case(script);
    assert!(numbers[0] >= 32 && numbers[1] >= min_spikes, "{numbers:?}");
    let report = simulate_counts(&model, &data, "60");
    assert_all_right(&report, &numbers);
    (dir, model, data, numbers)
}

/// Writes a graph with the `nir` package (Affine, LIF with a leak voltage
/// and a reset voltage, Scale, CubaLIF) and simulates it in numpy with
/// forward Euler at dt, as NIR's equations define it; saves the inputs and
/// the classes of the spike counts (samples whose largest count is tied are
/// left out).
const NIR_GRAPH: &str = r#"
import sys, numpy as np, nir
out, data, dt, steps = sys.argv[1], sys.argv[2], 1e-4, 60
rng = np.random.default_rng(4)
f = np.float32
w1 = (rng.standard_normal((12, 6)) * 1.5).astype(f); b1 = (rng.random(12) * 0.5).astype(f)
w2 = (rng.standard_normal((5, 12)) * 1.5).astype(f); b2 = (rng.random(5) * 0.2).astype(f)
scale = (rng.random(12) + 0.5).astype(f)
lif = dict(tau=np.full(12, 2e-3, f), r=np.full(12, 25.0, f), v_leak=np.full(12, 0.1, f),
           v_threshold=np.full(12, 0.8, f), v_reset=np.full(12, -0.2, f))
cuba = dict(tau_syn=np.full(5, 1e-3, f), tau_mem=np.full(5, 4e-3, f), r=np.full(5, 40.0, f),
            v_leak=np.zeros(5, f), v_threshold=np.full(5, 1.0, f), v_reset=np.zeros(5, f),
            w_in=np.full(5, 2.0, f))
graph = nir.NIRGraph(
    nodes={"input": nir.Input(input_type=np.array([6])), "fc1": nir.Affine(w1, b1),
           "lif": nir.LIF(**lif), "scale": nir.Scale(scale), "fc2": nir.Affine(w2, b2),
           "cuba": nir.CubaLIF(**cuba), "output": nir.Output(output_type=np.array([5]))},
    edges=[("input", "fc1"), ("fc1", "lif"), ("lif", "scale"), ("scale", "fc2"),
           ("fc2", "cuba"), ("cuba", "output")])
nir.write(out, graph)

def coefficients(dt_over_tau, gain):
    return f(1.0 - dt_over_tau), f(dt_over_tau * gain)
x = rng.random((64, 6)).astype(f)
v1 = np.full((64, 12), 0.1, f); i2 = np.zeros((64, 5), f); v2 = np.zeros((64, 5), f)
counts = np.zeros((64, 5))
d1, g1 = coefficients(dt / 2e-3, 25.0); l1 = f(dt / 2e-3 * 0.1)
ds, gs = coefficients(dt / 1e-3, 2.0); d2, g2 = coefficients(dt / 4e-3, 40.0)
for _ in range(steps):
    v1 = d1 * v1 + g1 * (x @ w1.T + b1) + l1
    s1 = (v1 > f(0.8)).astype(f); v1 = np.where(s1 > 0, f(-0.2), v1)
    i2 = ds * i2 + gs * ((s1 * scale) @ w2.T + b2)
    v2 = d2 * v2 + g2 * i2
    s2 = (v2 > f(1.0)).astype(f); v2 = np.where(s2 > 0, f(0.0), v2)
    counts += s2
"#;

#[test]
fn a_graph_the_nir_package_writes_simulates_as_nir_says() {
    let (_dir, model, data, _) = simulates_as_numpy(NIR_GRAPH, 500);
    let report = simulate_counts(&model, &data, "60");
    assert_eq!(report["neuron"], "LIF, CubaLIF");
}

/// As [`NIR_GRAPH`] with parameters of every neuron its own (time
/// constants, gains, leak, threshold and reset voltages drawn per neuron, as
/// trained per-neuron parameters are exported): simulated in numpy with one
/// coefficient per neuron, computed in f64 from the file's values and
/// rounded once to f32 (docs/nir.md).
const NIR_PER_NEURON: &str = r#"
import sys, numpy as np, nir
out, data, dt, steps = sys.argv[1], sys.argv[2], 1e-4, 60
rng = np.random.default_rng(7)
f = np.float32
w1 = (rng.standard_normal((12, 6)) * 1.5).astype(f); b1 = (rng.random(12) * 0.5).astype(f)
w2 = (rng.standard_normal((5, 12)) * 1.5).astype(f); b2 = (rng.random(5) * 0.2).astype(f)
lif = dict(tau=rng.uniform(1e-3, 4e-3, 12).astype(f), r=rng.uniform(15, 35, 12).astype(f),
           v_leak=rng.uniform(0, 0.2, 12).astype(f), v_threshold=rng.uniform(0.6, 1.0, 12).astype(f),
           v_reset=rng.uniform(-0.3, 0, 12).astype(f))
cuba = dict(tau_syn=rng.uniform(5e-4, 2e-3, 5).astype(f), tau_mem=rng.uniform(2e-3, 6e-3, 5).astype(f),
            r=rng.uniform(30, 50, 5).astype(f), v_leak=rng.uniform(0, 0.1, 5).astype(f),
            v_threshold=rng.uniform(0.8, 1.2, 5).astype(f), v_reset=np.zeros(5, f),
            w_in=rng.uniform(1.5, 2.5, 5).astype(f))
graph = nir.NIRGraph(
    nodes={"input": nir.Input(input_type=np.array([6])), "fc1": nir.Affine(w1, b1),
           "lif": nir.LIF(**lif), "fc2": nir.Affine(w2, b2),
           "cuba": nir.CubaLIF(**cuba), "output": nir.Output(output_type=np.array([5]))},
    edges=[("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "cuba"), ("cuba", "output")])
nir.write(out, graph)

d = np.float64
k1 = dt / lif["tau"].astype(d)
d1, g1, l1 = f(1 - k1), f(k1 * lif["r"].astype(d)), f(k1 * lif["v_leak"].astype(d))
ks = dt / cuba["tau_syn"].astype(d); ds, gs = f(1 - ks), f(ks * cuba["w_in"].astype(d))
k2 = dt / cuba["tau_mem"].astype(d)
d2, g2, l2 = f(1 - k2), f(k2 * cuba["r"].astype(d)), f(k2 * cuba["v_leak"].astype(d))
x = rng.random((64, 6)).astype(f)
v1 = np.tile(lif["v_leak"], (64, 1)); i2 = np.zeros((64, 5), f); v2 = np.tile(cuba["v_leak"], (64, 1))
counts = np.zeros((64, 5))
for _ in range(steps):
    v1 = d1 * v1 + g1 * (x @ w1.T + b1) + l1
    s1 = (v1 > lif["v_threshold"]).astype(f); v1 = np.where(s1 > 0, lif["v_reset"], v1)
    i2 = ds * i2 + gs * (s1 @ w2.T + b2)
    v2 = d2 * v2 + g2 * i2 + l2
    s2 = (v2 > cuba["v_threshold"]).astype(f); v2 = np.where(s2 > 0, cuba["v_reset"], v2)
    counts += s2
"#;

#[test]
fn per_neuron_parameters_simulate_as_nir_says() {
    let (dir, model, _, _) = simulates_as_numpy(NIR_PER_NEURON, 500);

    // Written back by neuride (`export nir` of a `nir(...)` network), the
    // per-neuron values survive: the nir package reads the same arrays.
    let again = export_again(dir.path());
    let same = python(
        "import sys, numpy as np, nir\n\
         a, b = nir.read(sys.argv[1]), nir.read(sys.argv[2])\n\
         print(all(np.array_equal(np.asarray(getattr(a.nodes[k], p)), np.asarray(getattr(b.nodes[k], p)))\n\
                   for k in ['lif', 'cuba'] for p in a.nodes[k].__dataclass_fields__\n\
                   if p not in ('input_type', 'output_type', 'metadata')))",
        &[path(&model), path(&again)],
    );
    assert_eq!(same.trim(), "True", "{same}");
}

/// A delay line between two layers (Affine, LIF, Delay of 0 to 5 steps per
/// value, Affine, LIF): simulated in numpy with each value read as it was
/// that many steps of 0.1 ms earlier (0 before).
const NIR_DELAY: &str = r#"
import sys, numpy as np, nir
out, data, dt, steps = sys.argv[1], sys.argv[2], 1e-4, 60
rng = np.random.default_rng(11)
f = np.float32
w1 = (rng.standard_normal((12, 6)) * 1.5).astype(f); b1 = (rng.random(12) * 0.5).astype(f)
w2 = (rng.standard_normal((5, 12)) * 1.5).astype(f); b2 = (rng.random(5) * 0.2).astype(f)
delays = rng.integers(0, 6, 12)
lif = lambda n: dict(tau=np.full(n, 2e-3, f), r=np.full(n, 25.0, f), v_leak=np.zeros(n, f),
                     v_threshold=np.full(n, 0.8, f), v_reset=np.zeros(n, f))
graph = nir.NIRGraph(
    nodes={"input": nir.Input(input_type=np.array([6])), "fc1": nir.Affine(w1, b1),
           "lif1": nir.LIF(**lif(12)), "delay": nir.Delay((delays * dt).astype(f)),
           "fc2": nir.Affine(w2, b2), "lif2": nir.LIF(**lif(5)),
           "output": nir.Output(output_type=np.array([5]))},
    edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "delay"), ("delay", "fc2"),
           ("fc2", "lif2"), ("lif2", "output")])
nir.write(out, graph)

k = np.float64(dt) / np.float64(f(2e-3))
d1, g1 = f(1 - k), f(k * 25.0)
x = rng.random((64, 6)).astype(f)
v1 = np.zeros((64, 12), f); v2 = np.zeros((64, 5), f)
history = []
counts = np.zeros((64, 5))
for t in range(steps):
    v1 = d1 * v1 + g1 * (x @ w1.T + b1)
    s1 = (v1 > f(0.8)).astype(f); v1 = np.where(s1 > 0, f(0), v1)
    history.append(s1)
    late = np.stack([history[t - d][:, i] if t >= d else np.zeros(64, f)
                     for i, d in enumerate(delays)], axis=1)
    v2 = d1 * v2 + g1 * (late @ w2.T + b2)
    s2 = (v2 > f(0.8)).astype(f); v2 = np.where(s2 > 0, f(0), v2)
    counts += s2
print_extra = [int(delays.max())]
"#;

#[test]
fn delays_simulate_as_nir_says() {
    let (dir, model, data, numbers) = simulates_as_numpy(NIR_DELAY, 300);
    assert!(numbers[2] >= 3, "the longest delay: {numbers:?}");

    // Exported again, the Delay node keeps its delays (in seconds at the
    // export's 0.1 ms) and simulates the same.
    let again = export_again(dir.path());
    let same = python(
        "import sys, numpy as np, nir\n\
         a, b = nir.read(sys.argv[1]), nir.read(sys.argv[2])\n\
         print(np.allclose(a.nodes['delay'].delay, b.nodes['delay'].delay, rtol=1e-6, atol=0))",
        &[path(&model), path(&again)],
    );
    assert_eq!(same.trim(), "True", "{same}");
    assert_eq!(simulate_counts(&again, &data, "60")["accuracy"], 1.0);
}

/// A recurrent layer (Affine, LIF with a Linear from its spikes back to its
/// input, Affine, LIF): simulated in numpy with the recurrent edge carrying
/// the previous step's spikes, as snnTorch's RLeaky does.
const NIR_RECURRENT: &str = r#"
import sys, numpy as np, nir
out, data, dt, steps = sys.argv[1], sys.argv[2], 1e-4, 60
rng = np.random.default_rng(5)
f = np.float32
w1 = (rng.standard_normal((12, 6)) * 1.5).astype(f); b1 = (rng.random(12) * 0.5).astype(f)
wr = (rng.standard_normal((12, 12)) * 0.8).astype(f)
w2 = (rng.standard_normal((5, 12)) * 1.5).astype(f); b2 = (rng.random(5) * 0.2).astype(f)
lif = lambda n: dict(tau=np.full(n, 2e-3, f), r=np.full(n, 25.0, f), v_leak=np.zeros(n, f),
                     v_threshold=np.full(n, 0.8, f), v_reset=np.zeros(n, f))
graph = nir.NIRGraph(
    nodes={"input": nir.Input(input_type=np.array([6])), "fc1": nir.Affine(w1, b1),
           "lif1": nir.LIF(**lif(12)), "rec": nir.Linear(wr),
           "fc2": nir.Affine(w2, b2), "lif2": nir.LIF(**lif(5)),
           "output": nir.Output(output_type=np.array([5]))},
    edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "rec"), ("rec", "lif1"),
           ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")])
nir.write(out, graph)
k = np.float64(dt) / np.float64(f(2e-3))
d1, g1 = f(1 - k), f(k * 25.0)
x = rng.random((64, 6)).astype(f)
v1 = np.zeros((64, 12), f); v2 = np.zeros((64, 5), f); s1 = np.zeros((64, 12), f)
counts = np.zeros((64, 5)); recurrent = 0
for t in range(steps):
    back = s1 @ wr.T                     # the previous step's spikes
    recurrent += int((back != 0).sum())
    v1 = d1 * v1 + g1 * ((x @ w1.T + b1) + back)
    s1 = (v1 > f(0.8)).astype(f); v1 = np.where(s1 > 0, f(0), v1)
    v2 = d1 * v2 + g1 * (s1 @ w2.T + b2)
    s2 = (v2 > f(0.8)).astype(f); v2 = np.where(s2 > 0, f(0), v2)
    counts += s2
print_extra = [recurrent]
"#;

#[test]
fn recurrent_edges_carry_the_previous_step() {
    let (dir, _, data, numbers) = simulates_as_numpy(NIR_RECURRENT, 300);
    assert!(
        numbers[2] >= 1000,
        "recurrent inputs that matter: {numbers:?}"
    );
    // Written back by `export nir`, the cycle is an edge again and the
    // network simulates the same.
    let again = export_again(dir.path());
    let edges = python(
        "import sys, nir\nprint(sorted(nir.read(sys.argv[1]).edges))",
        &[path(&again)],
    );
    assert!(edges.contains("('rec', 'lif1')"), "{edges}");
    assert_all_right(&simulate_counts(&again, &data, "60"), &numbers);
}

/// The same network twice (Conv1d, Flatten, Affine, IF, Affine, LIF): flat,
/// and with its hidden layer as a nested `NIRGraph` with its own Input and
/// Output; samples labelled with the classes NIR's equations give in numpy.
const NESTED: &str = r#"
import sys, numpy as np, nir
flat_path, nested_path, data = sys.argv[1], sys.argv[2], sys.argv[3]
rng = np.random.default_rng(7)
f = np.float32
conv = nir.Conv1d(input_shape=8, weight=(rng.standard_normal((3, 2, 3)) * 2).astype(f),
                  stride=1, padding=1, dilation=1, groups=1, bias=np.full(3, 0.2, f))
flatten = nir.Flatten(input_type={"input": np.array([3, 8])}, start_dim=0, end_dim=-1)
hidden = nir.Affine((rng.standard_normal((16, 24)) * 2).astype(f), np.full(16, 0.3, f))
neuron = nir.IF(r=np.full(16, 5000.0, f), v_threshold=np.ones(16, f), v_reset=np.zeros(16, f))
readout = nir.Affine((rng.standard_normal((4, 16)) * 2).astype(f), np.zeros(4, f))
out = nir.LIF(tau=np.full(4, 1e-3, f), r=np.full(4, 10.0, f), v_leak=np.zeros(4, f),
              v_threshold=np.full(4, 0.5, f), v_reset=np.zeros(4, f))
def graph(middle):
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([2, 8])), "conv": conv, "flat": flatten,
               **middle, "readout": readout, "lif": out, "output": nir.Output(output_type=np.array([4]))},
        edges=[("input", "conv"), ("conv", "flat"), ("flat", "hidden" if "hidden" in middle else "sub"),
               *([("hidden", "if")] if "hidden" in middle else []),
               ("if" if "hidden" in middle else "sub", "readout"), ("readout", "lif"), ("lif", "output")])
nir.write(flat_path, graph({"hidden": hidden, "if": neuron}))
sub = nir.NIRGraph(
    nodes={"input": nir.Input(input_type=np.array([24])), "hidden": hidden, "if": neuron,
           "output": nir.Output(output_type=np.array([16]))},
    edges=[("input", "hidden"), ("hidden", "if"), ("if", "output")])
nir.write(nested_path, graph({"sub": sub}))
nir.read(nested_path, type_check=True)
# NIR's equations at dt = 0.1 ms in numpy; samples whose largest count is
# tied are left out.
x = rng.random((64, 2, 8)).astype(f)
padded = np.pad(x, ((0, 0), (0, 0), (1, 1)))
y = np.stack([np.einsum("nik,oik->no", padded[:, :, t:t + 3], conv.weight) for t in range(8)], axis=2)
y = (y + conv.bias[None, :, None]).astype(f).reshape(64, 24)
current = y @ hidden.weight.T + hidden.bias
v1 = np.zeros((64, 16), f); v2 = np.zeros((64, 4), f); counts = np.zeros((64, 4))
g1 = f(1e-4 * 5000.0); d2 = f(1 - 1e-4 / 1e-3); g2 = f(1e-4 / 1e-3 * 10.0)
for _ in range(30):
    v1 = v1 + g1 * current
    s1 = (v1 > f(1.0)).astype(f); v1 = np.where(s1 > 0, f(0.0), v1)
    v2 = d2 * v2 + g2 * (s1 @ readout.weight.T + readout.bias)
    s2 = (v2 > f(0.5)).astype(f); v2 = np.where(s2 > 0, f(0.0), v2)
    counts += s2
top = np.sort(counts, axis=1)
keep = top[:, -1] > top[:, -2]
np.savez(data, x=x[keep], y=counts[keep].argmax(axis=1).astype(np.int64))
print(int(keep.sum()))
"#;

#[test]
fn a_nested_graph_and_conv1d_simulate_as_the_flat_graph() {
    let dir = tempfile::tempdir().unwrap();
    let flat = dir.path().join("flat.nir");
    let nested = dir.path().join("nested.nir");
    let data = dir.path().join("x.npz");
    let kept: u64 = python(NESTED, &[path(&flat), path(&nested), path(&data)])
        .trim()
        .parse()
        .unwrap();
    assert!(kept >= 24, "{kept} samples without ties");
    let run = |model: &Path| {
        simulate(&[
            path(model),
            "--data",
            path(&data),
            "--steps",
            "30",
            "--decode",
            "count",
        ])
    };
    let (from_flat, from_nested) = (run(&flat), run(&nested));
    assert_eq!(from_flat["accuracy"], 1.0, "{from_flat}");
    assert_eq!(from_flat["predictions"], from_nested["predictions"]);
    assert_eq!(
        from_flat["rates"].as_array().unwrap().len(),
        2,
        "{from_flat}"
    );
    for (a, b) in from_flat["rates"]
        .as_array()
        .unwrap()
        .iter()
        .zip(from_nested["rates"].as_array().unwrap())
    {
        assert_eq!(a["rate"], b["rate"]);
        assert!(a["rate"].as_f64().unwrap() > 0.01, "{from_flat}");
    }
}

#[test]
fn a_converted_cnn_keeps_its_accuracy_through_nir() {
    let dir = support::workspace(&[
        "dl/digits_cnn.onnx",
        "data/digits_test.npz",
        "data/digits_calib.npz",
    ]);
    let root = dir.path();
    let (model, calib, test) = (
        root.join("dl/digits_cnn.onnx"),
        root.join("data/digits_calib.npz"),
        root.join("data/digits_test.npz"),
    );
    let output = root.join("cnn.nir");
    let (code, stdout, stderr) = neuride(&[
        "convert",
        path(&model),
        "--calib",
        path(&calib),
        "-o",
        path(&output),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("subtract reset has no NIR form"),
        "{stdout}"
    );
    assert!(stdout.contains("wrote"), "{stdout}");
    let types = nir_types(&output);
    let mut kinds: Vec<&str> = types
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "AvgPool2d",
            "Conv2d",
            "Flatten",
            "IF",
            "Input",
            "Linear",
            "Output"
        ],
        "{types}"
    );
    let common = ["--steps", "25", "--limit", "150"];
    let mut onnx_args = vec![path(&model), "--data", path(&test), "--calib", path(&calib)];
    onnx_args.extend_from_slice(&common);
    let from_onnx = simulate(&onnx_args);
    let mut nir_args = vec![path(&output), "--data", path(&test)];
    nir_args.extend_from_slice(&common);
    let from_nir = simulate(&nir_args);
    assert!(
        from_onnx["accuracy"].as_f64().unwrap() > 0.85,
        "{from_onnx}"
    );
    assert_eq!(from_nir["accuracy"], from_onnx["accuracy"]);
    assert_eq!(from_nir["predictions"], from_onnx["predictions"]);
}

#[test]
fn a_written_network_exports_to_nir() {
    let dir = support::workspace(&["data/digits_test.npz"]);
    let root = dir.path();
    std::fs::create_dir_all(root.join("weights")).unwrap();
    std::fs::copy(
        support::repo_root().join("examples/handwritten-snn/weights/digits_mlp.npz"),
        root.join("weights/digits_mlp.npz"),
    )
    .unwrap();
    let neuro = root.join("mlp.neuro");
    std::fs::write(
        &neuro,
        r#"weights mlp = npz("weights/digits_mlp.npz")
dataset test = npz("data/digits_test.npz", x: "x", y: "y")

network lif_mlp {
    input image: f32[1, 8, 8]
    layer pixels = flatten(image)
    layer hidden = dense(pixels, out: 64, weight: mlp["fc1.weight"], bias: mlp["fc1.bias"])
    layer hidden_spikes = lif(hidden, tau_rc: 20ms, tau_ref: 2ms, threshold: 1.0, amplitude: 1.0)
    layer logits = dense(hidden_spikes, out: 10, weight: mlp["fc2.weight"], bias: mlp["fc2.bias"])
    output counts = if(logits, threshold: 1.0, reset: subtract)
}

network relu_mlp {
    input image: f32[1, 8, 8]
    layer pixels = flatten(image)
    layer hidden = dense(pixels, out: 64, weight: mlp["fc1.weight"], bias: mlp["fc1.bias"])
    layer rates = relu(hidden)
    output membrane = leaky(rates, beta: 0.95, reset: zero)
}

simulate lif_mlp on test {
    dt = 1ms
    steps = 30
    decode = count
}
"#,
    )
    .unwrap();
    let output = root.join("lif_mlp.nir");
    let (code, stdout, stderr) = neuride(&[
        "export",
        "nir",
        path(&neuro),
        "--network",
        "lif_mlp",
        "-o",
        path(&output),
        "--dt-ms",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("refractory period"), "{stdout}");
    assert_eq!(
        nir_types(&output),
        serde_json::json!({"image": "Input", "pixels": "Flatten", "hidden": "Affine",
            "hidden_spikes": "LIF", "logits": "Affine", "counts": "IF", "output": "Output"})
    );
    // neuride reads its own file back exactly: the same predictions as the
    // .neuro block.
    let (code, stdout, stderr) = neuride(&[
        "simulate",
        path(&neuro),
        "--run",
        "lif_mlp",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let from_neuro: Value = serde_json::from_str(&stdout).unwrap();
    let from_nir = simulate(&[
        path(&output),
        "--data",
        path(&root.join("data/digits_test.npz")),
        "--steps",
        "30",
        "--decode",
        "count",
        "--dt-ms",
        "1",
    ]);
    assert_eq!(from_nir["predictions"], from_neuro["predictions"]);
    assert!(from_nir["accuracy"].as_f64().unwrap() > 0.8, "{from_nir}");

    // A layer NIR has no node for is named, and nothing is written.
    let refused = root.join("relu.nir");
    let (code, _, stderr) = neuride(&[
        "export",
        "nir",
        path(&neuro),
        "--network",
        "relu_mlp",
        "-o",
        path(&refused),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("mlp.neuro") && stderr.contains("'rates': relu layers have no NIR node"),
        "{stderr}"
    );
    assert!(!refused.exists());
}

#[test]
fn broken_nir_files_are_clear_errors() {
    let dir = support::workspace(&["nir/snntorch_mlp.nir", "nir/snntorch_mlp_io.npz"]);
    let good = dir.path().join("nir/snntorch_mlp.nir");
    let data = dir.path().join("nir/snntorch_mlp_io.npz");
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.nir");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let text = dir.path().join("text.nir");
    std::fs::write(&text, "not hdf5").unwrap();
    for file in [&cut, &text] {
        let (code, stdout, stderr) = neuride(&["simulate", path(file), "--data", path(&data)]);
        assert_eq!(code, 2, "{stdout}");
        assert!(
            stderr.contains(path(file)) && stderr.contains("not a NIR file neuride can read"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (code, _, stderr) = neuride(&["simulate", path(&good)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--data D.npz is required"), "{stderr}");
}

/// A NIR file with a node type NIR does not define, as a newer or extended
/// writer would make it: `nir.write`, then the LIF's `type` changed with
/// h5py. Prints the changed node's name.
const UNKNOWN_NODE: &str = r#"
import sys, h5py, numpy as np, nir
graph = nir.NIRGraph.from_list(
    nir.Affine(weight=np.eye(3, dtype=np.float32), bias=np.zeros(3, np.float32)),
    nir.LIF(tau=np.full(3, 1e-3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3)))
nir.write(sys.argv[1], graph)
with h5py.File(sys.argv[1], "a") as f:
    names = list(f["node/nodes"].keys())
    lif = [n for n in names if f["node/nodes"][n]["type"][()] == b"LIF"][0]
    del f["node/nodes"][lif]["type"]
    f["node/nodes"][lif]["type"] = "Quantize"
print(lif)
"#;

/// A recurrent layer (LIF -> Linear -> back into the LIF), valid NIR that
/// the simulator does not run.
/// Valid NIR the simulator cannot run: two Inputs summed.
/// A graph whose Delay (20 s, 200,000 steps of 0.1 ms) is longer than the
/// simulator holds.
const LONG_DELAY: &str = r#"
import sys, numpy as np, nir
f = np.float32
graph = nir.NIRGraph(
    nodes={"input": nir.Input(input_type=np.array([3])), "late": nir.Delay(np.full(3, 20.0, f)),
           "lif": nir.LIF(tau=np.full(3, 1e-3, f), r=np.ones(3, f), v_leak=np.zeros(3, f),
                          v_threshold=np.ones(3, f)),
           "output": nir.Output(output_type=np.array([3]))},
    edges=[("input", "late"), ("late", "lif"), ("lif", "output")])
nir.write(sys.argv[1], graph)
"#;

#[test]
fn nir_files_check_classify_and_print() {
    let model = support::fixture("nir/snntorch_cnn.nir");
    let (code, stdout, stderr) = neuride(&["check", path(&model), "--format", "json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, _) = neuride(&["classify", path(&model)]);
    assert_eq!(code, 0);
    assert!(stdout.contains(": snn (confidence 1.00)"), "{stdout}");
    assert!(
        stdout.contains("NIR neuron nodes: org.nir.LIF x2"),
        "{stdout}"
    );
    let (code, stdout, _) = neuride(&["print", path(&model)]);
    assert_eq!(code, 0);
    assert!(stdout.contains("org.nir.Conv2d"), "{stdout}");
    let (code, stdout, stderr) = neuride(&["info", path(&model), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let info: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["kind"], "snn");
    // conv 4x1x3x3 + 4, fc 10x64 + 10, and the neurons' per-neuron parameters.
    assert!(info["summary"]["parameters"].as_u64().unwrap() > 40 + 650);

    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("unknown.nir");
    let node = python(UNKNOWN_NODE, &[path(&unknown)]);
    let (code, stdout, _) = neuride(&["check", path(&unknown), "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let diagnostics = report["files"][0]["diagnostics"].as_array().unwrap();
    let found = diagnostics
        .iter()
        .find(|d| d["code"] == "nir/unknown-type")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(found["message"].as_str().unwrap().contains("Quantize"));
    assert!(
        found["message"].as_str().unwrap().contains(node.trim()),
        "{found}"
    );
    // On the node's line of the text view (what `print` prints).
    let (_, text, _) = neuride(&["print", path(&unknown)]);
    let line = found["range"]["start"]["line"].as_u64().unwrap() as usize;
    let shown = text.lines().nth(line).unwrap();
    assert!(
        shown.contains(&format!("[{}]", node.trim())) && shown.contains("org.nir.Quantize"),
        "{shown}"
    );

    // Valid NIR the simulator cannot run: a warning, and a clear run error.
    let late = dir.path().join("late.nir");
    python(LONG_DELAY, &[path(&late)]);
    let (code, stdout, _) = neuride(&["check", path(&late), "--format", "json"]);
    assert_eq!(code, 0, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let warning = &report["files"][0]["diagnostics"][0];
    assert_eq!(warning["code"], "nir/unsupported", "{stdout}");
    assert_eq!(warning["severity"], "warning");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("a delay of 20 s"),
        "{warning}"
    );
    let data = dir.path().join("x.npz");
    std::fs::copy(support::fixture("nir/snntorch_mlp_io.npz"), &data).unwrap();
    let (code, _, stderr) = neuride(&["simulate", path(&late), "--data", path(&data)]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot simulate") && stderr.contains("a delay of 20 s"),
        "{stderr}"
    );
}

#[test]
fn the_language_server_shows_nir_files() {
    let dir = support::workspace(&[
        "nir/snntorch_mlp.nir",
        "nir/snntorch_mlp_io.npz",
        "dl/digits_mlp.onnx",
        "data/digits_calib.npz",
    ]);
    let root = support::canonical(&dir);
    let model = root.join("nir/snntorch_mlp.nir");
    let broken = root.join("broken.nir");
    std::fs::write(&broken, b"\x89HDF\r\n\x1a\nnot really").unwrap();
    let (mut lsp, _) = support::Client::initialized(&root, "vscode");
    let diagnostics = lsp.wait_diagnostics(&support::file_uri(&broken), |d| !d.is_empty());
    assert_eq!(diagnostics[0]["code"], "nir/not-hdf5", "{diagnostics:?}");
    let view = lsp.request(
        "neuride/modelText",
        serde_json::json!({ "uri": support::file_uri(&model) }),
    );
    let text = view["text"].as_str().unwrap();
    assert!(text.contains("org.nir.LIF"), "{text}");
    let map = view["map"].as_array().unwrap();
    let lif = map
        .iter()
        .find(|e| e["kind"] == "node" && e["op"] == "LIF")
        .unwrap_or_else(|| panic!("{map:?}"));
    let line = lif["range"]["start"]["line"].as_u64().unwrap() as usize;
    let column = text.lines().nth(line).unwrap().find("LIF").unwrap();
    let hover = lsp.request(
        "textDocument/hover",
        serde_json::json!({ "textDocument": { "uri": support::view_uri(&model) },
            "position": { "line": line, "character": column } }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.contains("NIR leaky integrate-and-fire neuron: `τ dv/dt = (v_leak - v) + R I"),
        "{markdown}"
    );
    assert!(markdown.contains("- `v_reset` (optional)"), "{markdown}");
    let classify = lsp.request(
        "neuride/classify",
        serde_json::json!({ "uri": support::file_uri(&model) }),
    );
    assert_eq!(classify["kind"], "snn");
    let summary = lsp.request(
        "neuride/modelSummary",
        serde_json::json!({ "uri": support::file_uri(&model) }),
    );
    assert_eq!(summary["kind"], "snn");
    let graph = lsp.request(
        "neuride/graph",
        serde_json::json!({ "uri": support::file_uri(&model), "format": "svg" }),
    );
    let svg = graph["content"].as_str().unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("LIF") && svg.contains("Affine"),
        "{svg}"
    );
    // The registry lists the NIR file as a spiking model, the broken one as unknown.
    let models = lsp.request("neuride/models", serde_json::json!({}));
    let entry = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["uri"] == support::file_uri(&model))
        .unwrap_or_else(|| panic!("{models}"));
    assert_eq!(entry["kind"], "snn");
    assert!(entry["parameters"].as_u64().unwrap() > 64 * 32, "{entry}");
    // The editor's simulate job runs the file as the CLI does (0.1 ms steps).
    let data = root.join("nir/snntorch_mlp_io.npz");
    let id = lsp.send_request(
        "workspace/executeCommand",
        serde_json::json!({
            "command": "neuride.simulate",
            "arguments": [{ "uri": support::file_uri(&model), "data": support::file_uri(&data),
                            "steps": 40, "decode": "count" }]
        }),
    );
    let response = lsp.response(id);
    assert_eq!(response["result"]["accuracy"], 1.0, "{response}");
    // neuride.convert to a .nir output: one NIR file, the notes, and the
    // new file analysed as a spiking network.
    let mlp = root.join("dl/digits_mlp.onnx");
    let output = root.join("dl/digits_mlp.nir");
    let written = lsp.request(
        "workspace/executeCommand",
        serde_json::json!({ "command": "neuride.convert", "arguments": [{
            "uri": support::file_uri(&mlp), "calib": "../data/digits_calib.npz",
            "output": support::file_uri(&output) }] }),
    );
    assert_eq!(written["nir"], support::file_uri(&output), "{written}");
    assert!(
        written["notes"].to_string().contains("subtract reset"),
        "{written}"
    );
    assert_eq!(nir_types(&output)["output"], "Output");
    let classify = lsp.request(
        "neuride/classify",
        serde_json::json!({ "uri": support::file_uri(&output) }),
    );
    assert_eq!(classify["kind"], "snn");
    lsp.shutdown();
}

#[test]
fn a_neuro_file_simulates_a_nir_network() {
    let dir = support::workspace(&["nir/snntorch_cnn.nir", "nir/snntorch_cnn_io.npz"]);
    let root = dir.path();
    let neuro = root.join("app.neuro");
    std::fs::write(
        &neuro,
        r#"network snn = nir("nir/snntorch_cnn.nir")
network gone = nir("nir/missing.nir")
dataset samples = npz("nir/snntorch_cnn_io.npz", x: "x", y: "y")

simulate snn on samples {
    steps = 40
    decode = count
}
"#,
    )
    .unwrap();
    let (code, stdout, _) = neuride(&["check", path(&neuro), "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let diagnostics = report["files"][0]["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{stdout}");
    assert_eq!(diagnostics[0]["code"], "neuro/missing-file");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 1);

    std::fs::write(
        &neuro,
        std::fs::read_to_string(&neuro)
            .unwrap()
            .replace("network gone = nir(\"nir/missing.nir\")\n", ""),
    )
    .unwrap();
    // No `dt`: a NIR network steps 0.1 ms, snnTorch's step: its spikes.
    let (code, stdout, stderr) = neuride(&["simulate", path(&neuro), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let run: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(run["accuracy"], 1.0, "{run}");
    assert_eq!(run["network_kind"], "written");

    let output = root.join("again.nir");
    let (code, stdout, stderr) = neuride(&[
        "export",
        "nir",
        path(&neuro),
        "--network",
        "snn",
        "-o",
        path(&output),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("NIR network `snn`"), "{stdout}");
    assert_eq!(nir_types(&output)["lif1"], "LIF");
}

/// Two sensor streams, `right` [6] and `left` [4] (listed in that order;
/// NIR readers list them by name), each through its own Affine into one
/// recurrent LIF layer (a Linear from its spikes back to its input), then
/// Affine and LIF: simulated in numpy at 0.1 ms with the recurrent edge
/// carrying the previous step's spikes. The archive holds each stream under
/// its Input's name (and `left` again as `left_again`), and `x`, the two
/// side by side in the other order than neuride's (by name).
const TWO_INPUTS: &str = r#"
import sys, numpy as np, nir
out, data, dt, steps = sys.argv[1], sys.argv[2], 1e-4, 60
rng = np.random.default_rng(12)
f = np.float32
wl = (rng.standard_normal((12, 4)) * 1.5).astype(f); bl = (rng.random(12) * 0.3).astype(f)
wr = (rng.standard_normal((12, 6)) * 1.5).astype(f); br = (rng.random(12) * 0.3).astype(f)
wrec = (rng.standard_normal((12, 12)) * 0.8).astype(f)
w2 = (rng.standard_normal((5, 12)) * 1.5).astype(f); b2 = (rng.random(5) * 0.2).astype(f)
lif = lambda n: dict(tau=np.full(n, 2e-3, f), r=np.full(n, 25.0, f), v_leak=np.zeros(n, f),
                     v_threshold=np.full(n, 0.8, f), v_reset=np.zeros(n, f))
graph = nir.NIRGraph(
    nodes={"right": nir.Input(input_type=np.array([6])), "left": nir.Input(input_type=np.array([4])),
           "fc_right": nir.Affine(wr, br), "fc_left": nir.Affine(wl, bl),
           "lif1": nir.LIF(**lif(12)), "rec": nir.Linear(wrec),
           "fc2": nir.Affine(w2, b2), "lif2": nir.LIF(**lif(5)),
           "output": nir.Output(output_type=np.array([5]))},
    edges=[("right", "fc_right"), ("left", "fc_left"), ("fc_right", "lif1"), ("fc_left", "lif1"),
           ("lif1", "rec"), ("rec", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")])
nir.write(out, graph)
k = np.float64(dt) / np.float64(f(2e-3))
d1, g1 = f(1 - k), f(k * 25.0)
xl = rng.random((64, 4)).astype(f); xr = rng.random((64, 6)).astype(f)
x = np.concatenate([xr, xl], axis=1)  # not the order neuride concatenates in
v1 = np.zeros((64, 12), f); v2 = np.zeros((64, 5), f); s1 = np.zeros((64, 12), f)
counts = np.zeros((64, 5))
for t in range(steps):
    v1 = d1 * v1 + g1 * ((xl @ wl.T + bl) + (xr @ wr.T + br) + s1 @ wrec.T)
    s1 = (v1 > f(0.8)).astype(f); v1 = np.where(s1 > 0, f(0), v1)
    v2 = d1 * v2 + g1 * (s1 @ w2.T + b2)
    s2 = (v2 > f(0.8)).astype(f); v2 = np.where(s2 > 0, f(0), v2)
    counts += s2
input_arrays = {"left": xl, "right": xr, "left_again": xl}
"#;

#[test]
fn several_inputs_read_one_array_each_and_simulate_as_nir_says() {
    // Each Input reads the array of its name.
    let (dir, model, data, numbers) = simulates_as_numpy(TWO_INPUTS, 300);
    let run = |inputs: &str| {
        neuride(&[
            "simulate",
            path(&model),
            "--data",
            path(&data),
            "--steps",
            "60",
            "--decode",
            "count",
            "--inputs",
            inputs,
            "--format",
            "json",
        ])
    };
    // Other keys: NAME=KEY for the Inputs named, the others by name.
    let (code, stdout, stderr) = run("left=left_again");
    assert_eq!(code, 0, "{stderr}");
    assert_all_right(&serde_json::from_str(&stdout).unwrap(), &numbers);
    // The streams swapped: other classes.
    let (code, stdout, stderr) = run("left=right,right=left");
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("the NIR Input 'left' expects samples [N, 4] under 'right'; found [")
            && stderr.contains(", 6]"),
        "{stderr}"
    );
    // A missing array: named with the Input and its shape, not a panic.
    let (code, _, stderr) = run("right=gone");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the NIR Input 'right' expects samples [N, 6] under 'gone'")
            && stderr.contains("no array 'gone'")
            && stderr.contains("--inputs NAME=KEY"),
        "{stderr}"
    );
    // The default key stands for the Inputs' names (`x` is not read).
    let (code, stdout, stderr) = run("x");
    assert_eq!(code, 0, "{stderr}");
    assert_all_right(&serde_json::from_str(&stdout).unwrap(), &numbers);
    let (code, _, stderr) = run("x2");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the graph has 2 Inputs ('left' [4], 'right' [6])"),
        "{stderr}"
    );
    let (code, _, stderr) = run("middle=x");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no Input 'middle'"), "{stderr}");

    // The file checks clean and shows both inputs.
    let (code, stdout, stderr) = neuride(&["check", path(&model), "--format", "json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["files"][0]["diagnostics"], Value::Array(vec![]));
    let (code, stdout, stderr) = neuride(&["info", path(&model), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let info: Value = serde_json::from_str(&stdout).unwrap();
    let inputs: Vec<&str> = info["summary"]["inputs"]
        .as_array()
        .unwrap_or_else(|| panic!("{info}"))
        .iter()
        .map(|input| input["name"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["left", "right"], "{info}");

    // Written back by `export nir`: two Inputs again (the nir package reads
    // the file with its type check), and the same spikes.
    let again = export_again(dir.path());
    let types = nir_types(&again);
    assert_eq!(types["left"], "Input", "{types}");
    assert_eq!(types["right"], "Input", "{types}");
    assert_eq!(
        types
            .as_object()
            .unwrap()
            .values()
            .filter(|t| *t == "Input")
            .count(),
        2,
        "{types}"
    );
    assert_all_right(&simulate_counts(&again, &data, "60"), &numbers);

    // `.neuro`: a dataset without `x:` gives each Input the array of its name.
    let neuro = dir.path().join("app.neuro");
    let source = "network n = nir(\"graph.nir\")\ndataset d = npz(\"io.npz\", y: \"y\")\n\
                  simulate n on d {\n    steps = 60\n    decode = count\n}\n";
    std::fs::write(&neuro, source).unwrap();
    let (code, stdout, stderr) = neuride(&["simulate", path(&neuro), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_all_right(&serde_json::from_str(&stdout).unwrap(), &numbers);
    // One array for two Inputs: said where the dataset is used, with how
    // to bind them.
    std::fs::write(&neuro, source.replace("y: ", "x: \"left\", y: ")).unwrap();
    let (code, stdout, _) = neuride(&["check", path(&neuro), "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let error = &report["files"][0]["diagnostics"][0];
    assert_eq!(error["code"], "neuro/shape-mismatch", "{stdout}");
    assert_eq!(
        error["message"],
        "`n` has 2 inputs (`left`, `right`), each read from the array of its name: dataset `d` gives one array; bind the archive without `x:`"
    );
    assert_eq!(error["range"]["start"]["line"], 2);
    // An Input's array of another shape: named with the array.
    python(
        "import sys, numpy as np; np.savez(sys.argv[1], left=np.zeros((3, 4)), right=np.zeros((3, 5)))",
        &[path(&dir.path().join("bad.npz"))],
    );
    std::fs::write(&neuro, source.replace("io.npz\", y: \"y\"", "bad.npz\"")).unwrap();
    let (code, stdout, _) = neuride(&["check", path(&neuro), "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["files"][0]["diagnostics"][0]["message"],
        "expected samples shaped [6] for input `right` of `n`, found [5] in array 'right' of dataset `d`",
        "{stdout}"
    );
    // The only error: an archive without `x` is fine for those inputs.
    assert_eq!(report["summary"]["errors"], 1, "{stdout}");
    // An app's pipeline carries one stream: a stage of two inputs is said.
    let app = "network n = nir(\"graph.nir\")\ndataset d = npz(\"io.npz\", y: \"y\")\n\
               app a {\n    sensor s: f32[10] @ 10Hz = replay(d)\n    pipeline s -> n -> argmax -> class\n}\n";
    std::fs::write(&neuro, app).unwrap();
    let (code, stdout, _) = neuride(&["check", path(&neuro), "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("`n` has 2 inputs (`left`, `right`): a pipeline stage takes one stream"),
        "{stdout}"
    );
}
