"""One trial = one `neuride simulate ... --format json` run: the settings a
tuner proposes become command-line options, the JSON report becomes the
trial's result. Shared by optuna_sweep.py and nni/trial.py; standard
library only.
"""
import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "tabular-snn"

#: The spiking CNN of examples/tabular-snn, on its test images.
DEFAULT_TARGET = {
    "model": str(EXAMPLE / "cnn.onnx"),
    "data": str(EXAMPLE / "test_images.npz"),
    "calib": str(EXAMPLE / "train_images.npz"),
}


def simulate(neuride, target, params, limit=None):
    """Runs neuride on `target` (model, data, calib) with `params` (simulate
    options by name, e.g. {"steps": 20, "encode": "rate"}) and returns the
    report as a dict (accuracy, steps, synops_per_sample, ...)."""
    command = [str(neuride), "simulate", target["model"], "--data", target["data"], "--format", "json"]
    if target.get("calib"):
        command += ["--calib", target["calib"]]
    if limit:
        command += ["--limit", str(limit)]
    for name, value in params.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def result(report):
    """What a tuner records: accuracy (the objective), steps and costs."""
    return {
        "accuracy": report["accuracy"],
        "steps": report["steps"],
        "synops_per_sample": report["synops_per_sample"],
        "ann_accuracy": report.get("ann_accuracy"),
        "wall_s": report["wall_s"],
    }
