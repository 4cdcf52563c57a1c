#!/usr/bin/env python3
"""onnxruntime (Python, CPU, one thread) vs neuride on every fixture model,
side by side in one run, at batch 1 and batch 256.

Timed on both sides: one `run` call on prepared inputs (median of REPEATS),
divided by the batch. Not timed: process start-up, model loading and
optimisation. onnxruntime's side includes Python's call overhead
(~10-20 us per call) because that is how the lab calls it; neuride's side
is the release build of server/crates/infer/examples/infer_bench.rs and
includes converting the inputs into the engine's tensors.

usage: python3 bench/infer_bench.py [REPEATS] [--release] [--zoo]   (from the repository root)

--zoo adds the model-zoo CNNs onnx ships as "light" models (ResNet-50,
DenseNet-121, VGG-19, Inception v1/v2, ...; onnx/backend/test/data/light,
weights as ConstantOfShape): the whole process of a one-shot `neuride infer`
(start, load, fold the constants, compile, run one image, write the output)
against a fresh Python process doing onnxruntime's session create plus one
run, medians of REPEATS // 10 (at least 3) runs each; the per-sample latency
at batch 1 (neuride's infer_bench, onnxruntime with one thread); and whether
the outputs agree (rtol 1e-3, atol 1e-4). The last column is neuride's
batch-1 latency with Winograd's form off (NEURIDE_NO_WINOGRAD=1, the same
binary): the share of the 3x3 convolutions it takes.

Without --release the example is built with the dev profile at opt-level 3
for the workspace crates (deps are opt-level 2 in this workspace's dev
profile, with debug assertions): it reuses the test build of tract, which on
this shared 2-core machine takes an hour to compile again in release mode.
--release builds everything with the release profile (faster, truer). Debug assertions stay on in the dev build.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
RELEASE = "--release" in sys.argv
REPEATS = int(ARGS[0]) if ARGS else 50
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
MODELS = [
    "ml/iris_logreg_nozipmap.onnx", "ml/iris_logreg.onnx", "ml/breast_cancer_rf.onnx",
    "ml/wine_svc_pipeline.onnx", "ml/diabetes_linreg.onnx", "dl/digits_mlp.onnx", "dl/digits_cnn.onnx",
    "snn/digits_snntorch.onnx",
]


def inputs_of(model):
    data = np.load(os.path.join(FIX, model.replace(".onnx", ".expected.npz")))
    return {k[len("input_"):]: data[k] for k in data.files if k.startswith("input_")}


def tile(a, rows):
    reps = -(-rows // a.shape[0])
    return np.concatenate([a] * reps)[:rows]


def ort_time(model, feeds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(FIX, model), options, providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, feeds)
    times = []
    import time
    for _ in range(REPEATS):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", "/work/targets/infer")
    if RELEASE:
        profile = ["--release"]
    else:
        profile = []
        env["CARGO_PROFILE_DEV_OPT_LEVEL"] = "3"
    subprocess.run(["cargo", "build", "-q", "-p", "neuride-infer", "--example", "infer_bench"] + profile, cwd=ROOT, check=True, env=env)
    binary = os.path.join(env["CARGO_TARGET_DIR"], "release" if RELEASE else "debug", "examples", "infer_bench")
    rows = []
    for model in MODELS:
        feeds = inputs_of(model)
        fixed = model.startswith("snn/")  # [25, 4, 64]: batch is axis 1 and fixed at 4
        batches = [0] if fixed else [1, 256]
        with tempfile.NamedTemporaryFile(suffix=".npz", delete=False) as f:
            np.savez(f, **feeds)
            npz = f.name
        samples = feeds[next(iter(feeds))].shape[1] if fixed else 1

        def neuride(engine):
            run_env = dict(env, NEURIDE_ENGINE=engine)
            out = subprocess.run([binary, os.path.join(FIX, model), npz, ",".join(map(str, batches)), str(REPEATS), str(samples)],
                                 check=True, capture_output=True, text=True, env=run_env).stdout
            return [json.loads(line) for line in out.splitlines() if line.strip()]

        ours = neuride("auto")
        # DL models: tract too, for reference (the native engine is the default).
        tract = neuride("tract") if not model.startswith("ml/") else [None] * len(batches)
        os.unlink(npz)
        for b, mine, theirs in zip(batches, ours, tract):
            n = samples if fixed else b
            run_feeds = feeds if fixed else {k: tile(v, b) for k, v in feeds.items()}
            t = ort_time(model, run_feeds)
            rows.append((model, n, t / n * 1e6, mine["per_sample_us"], mine["engine"], theirs and theirs["per_sample_us"]))
    print(f"build: {'release' if RELEASE else 'dev profile, workspace crates at opt-level 3, deps at opt-level 2'}; {REPEATS} repeats")
    print("| model | batch | onnxruntime us/sample | neuride us/sample | engine | neuride / ort | goal | tract us/sample |")
    print("|---|---:|---:|---:|---|---:|---|---:|")
    for model, n, ort_us, ours_us, engine, tract_us in rows:
        ratio = ours_us / ort_us
        limit = 1.0 if n == 1 or model.startswith("snn/") else 1.5
        goal = f"<= {limit:g}: {'met' if ratio <= limit else 'NOT met'}"
        tract_col = f"{tract_us:.3f}" if tract_us is not None else "-"
        print(f"| {model} | {n} | {ort_us:.3f} | {ours_us:.3f} | {engine} | {ratio:.2f} | {goal} | {tract_col} |")
    if "--zoo" in sys.argv:
        subprocess.run(["cargo", "build", "-q", "-p", "neuride"] + profile, cwd=ROOT, check=True, env=env)
        cli = os.path.join(env["CARGO_TARGET_DIR"], "release" if RELEASE else "debug", "neuride")
        zoo(binary, cli, env)

ZOO = ["resnet50", "densenet121", "vgg19", "inception_v1", "inception_v2", "squeezenet", "shufflenet", "bvlc_alexnet", "zfnet512"]


def zoo(binary, neuride_cli, env):
    import time
    import onnx
    from onnx import numpy_helper

    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    runs = max(3, REPEATS // 10)
    rows = []
    for name in ZOO:
        path = os.path.join(light, f"light_{name}.onnx")
        model = onnx.load(path)
        inits = {i.name for i in model.graph.initializer}
        first = next(i for i in model.graph.input if i.name not in inits)
        shape = [d.dim_value or 1 for d in first.type.tensor_type.shape.dim]
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            xin = os.path.join(tmp, "x.pb")
            with open(xin, "wb") as f:
                f.write(numpy_helper.from_array(x, first.name).SerializeToString())
            np.savez(os.path.join(tmp, "x.npz"), **{first.name: x})
            script = ("import onnxruntime as ort, numpy as np, sys\n"
                      "o = ort.SessionOptions(); o.intra_op_num_threads = 1\n"
                      "s = ort.InferenceSession(sys.argv[1], o, providers=['CPUExecutionProvider'])\n"
                      "x = np.load(sys.argv[2])\n"
                      "np.save(sys.argv[3], s.run(None, {k: x[k] for k in x.files})[0])\n")
            ort_times, ours_times = [], []
            for _ in range(runs):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", script, path, os.path.join(tmp, "x.npz"), os.path.join(tmp, "ort.npy")], check=True)
                ort_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                subprocess.run([neuride_cli, "infer", path, "--input", f"{first.name}={xin}", "-o", os.path.join(tmp, "out") + "/"],
                               check=True, capture_output=True)
                ours_times.append(time.perf_counter() - start)
            want = np.load(os.path.join(tmp, "ort.npy"))
            t = onnx.TensorProto()
            with open(os.path.join(tmp, "out", "output_0.pb"), "rb") as f:
                t.ParseFromString(f.read())
            got = numpy_helper.to_array(t)
            equal = got.shape == want.shape and np.allclose(got, want, rtol=1e-3, atol=1e-4)
            # Per-sample latency at batch 1, prepared once.
            out = subprocess.run([binary, path, os.path.join(tmp, "x.npz"), "0", str(REPEATS), "1"],
                                 check=True, capture_output=True, text=True, env=env).stdout
            mine = json.loads(out.splitlines()[0])
            # The same binary with Winograd's form off, for its share.
            out = subprocess.run([binary, path, os.path.join(tmp, "x.npz"), "0", str(REPEATS), "1"],
                                 check=True, capture_output=True, text=True,
                                 env={**env, "NEURIDE_NO_WINOGRAD": "1"}).stdout
            direct = json.loads(out.splitlines()[0])
            o = ort.SessionOptions()
            o.intra_op_num_threads = 1
            o.inter_op_num_threads = 1
            session = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
            feeds = {first.name: x}
            for _ in range(3):
                session.run(None, feeds)
            lat = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                session.run(None, feeds)
                lat.append(time.perf_counter() - start)
            rows.append((name, float(np.median(ort_times)), float(np.median(ours_times)), float(np.median(lat)) * 1e3, mine["per_sample_us"] / 1e3, mine["engine"], equal, direct["per_sample_us"] / 1e3))
    print()
    print("| light model | onnxruntime create+run s | neuride infer (process) s | ratio (goal <= 1.5) | ort batch-1 ms | neuride batch-1 ms | engine | ratio (goal <= 1.0) | outputs equal | without Winograd ms |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---|---:|")
    for name, ort_s, ours_s, ort_ms, ours_ms, engine, equal, direct_ms in rows:
        print(f"| {name} | {ort_s:.3f} | {ours_s:.3f} | {ours_s / ort_s:.2f} | {ort_ms:.2f} | {ours_ms:.2f} | {engine} | {ours_ms / ort_ms:.2f} | {'yes' if equal else 'NO'} | {direct_ms:.2f} |")


if __name__ == "__main__":
    main()
