#!/usr/bin/env python3
"""`neuride serve` against the lab's stack (Flask + onnxruntime) and
FastAPI/uvicorn + onnxruntime, side by side in one run, with a real load
generator (ApacheBench, `ab` from Debian's apache2-utils).

Every server answers the same Open Inference Protocol JSON request at
`/v2/models/NAME/infer` with the same JSON response shape (bench/serve_peers.py
is the two Python servers: onnxruntime on one thread, as the lab ran it).
Rows: iris (batch 1) and the digits CNN (batch 1 and 32), at concurrency 1
and 8, each for DURATION seconds with keep-alive; requests/s and the 50th
and 99th percentile latency from ab's percentile table (`-e`, in ms with
decimals), failed and non-2xx requests counted.

usage: python3 bench/serve_bench.py [--duration S] [--release]   (from the repository root)

The Python servers run in a venv of the bench's own under bench/out/venv
(flask, fastapi, uvicorn, onnxruntime, numpy from PyPI). neuride is built
with the dev profile at opt-level 3 for the workspace crates (deps at
opt-level 2, as in infer_bench.py), or --release.
"""
import csv
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
VENV = os.path.join(OUT, "venv")
PEERS = ["flask==3.1.2", "fastapi==0.120.4", "uvicorn==0.38.0", "onnxruntime==1.32.0", "numpy==2.4.6"]
DURATION = float(sys.argv[sys.argv.index("--duration") + 1]) if "--duration" in sys.argv else 5.0
RELEASE = "--release" in sys.argv
EXAMPLES = os.path.join(ROOT, "examples")
MODELS = {
    "iris_logreg_nozipmap": ("iot-app/models/iris_logreg_nozipmap.onnx", "iot-app/data/iris.npz", "X"),
    "digits_cnn": ("digits-snn/models/digits_cnn.onnx", "digits-snn/data/digits_test.npz", "x"),
}
ROWS = [("iris_logreg_nozipmap", 1), ("digits_cnn", 1), ("digits_cnn", 32)]
CONCURRENCY = [1, 8]


def venv_python():
    python = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, ".stamp")
    want = " ".join(PEERS)
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + PEERS, check=True)
        open(stamp, "w").write(want)
    return python


def build_neuride():
    env = dict(os.environ)
    args = ["cargo", "build", "-q", "-p", "neuride"]
    if RELEASE:
        args.append("--release")
    else:
        env["CARGO_PROFILE_DEV_OPT_LEVEL"] = "3"
    subprocess.run(args, cwd=ROOT, check=True, env=env)
    return os.path.join(ROOT, "target", "release" if RELEASE else "debug", "neuride")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, process):
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


def request_bodies(python, folder):
    """One JSON request per row, written by numpy from the example data."""
    script = """
import json, sys, numpy as np
models, rows, folder, examples = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
for name, batch in rows:
    model, data, input_name = models[name]
    x = np.load(f"{examples}/{data}")["x"][:batch].astype(np.float32)
    body = {"inputs": [{"name": input_name, "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}]}
    open(f"{folder}/{name}-{batch}.json", "w").write(json.dumps(body))
"""
    subprocess.run([python, "-c", script, json.dumps(MODELS), json.dumps(ROWS), folder, EXAMPLES], check=True)


def ab(url, body, concurrency, folder):
    percentiles = os.path.join(folder, "percentiles.csv")
    out = subprocess.run(
        ["ab", "-q", "-k", "-t", str(DURATION), "-n", "1000000", "-c", str(concurrency),
         "-p", body, "-T", "application/json", "-e", percentiles, url],
        capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip() or out.stdout.strip()}
    text = out.stdout
    number = lambda pattern: float(re.search(pattern, text).group(1))
    table = {int(float(row[0])): float(row[1]) for row in csv.reader(open(percentiles)) if row and row[0][0].isdigit()}
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", text)
    return {
        "requests": int(number(r"Complete requests:\s+(\d+)")),
        "failed": int(number(r"Failed requests:\s+(\d+)")) + (int(non2xx.group(1)) if non2xx else 0),
        "rps": number(r"Requests per second:\s+([\d.]+)"),
        "p50_ms": table[50],
        "p99_ms": table[99],
    }


def main():
    import shutil
    if not shutil.which("ab"):
        raise SystemExit("serve_bench needs ApacheBench: apt-get install apache2-utils")
    os.makedirs(OUT, exist_ok=True)
    python = venv_python()
    neuride = build_neuride()
    folder = tempfile.mkdtemp(prefix="serve-bench-")
    request_bodies(python, folder)
    peers = os.path.join(ROOT, "bench", "serve_peers.py")
    servers = {
        "neuride": lambda port: [neuride, "serve", EXAMPLES, "--port", str(port)],
        "flask": lambda port: [python, peers, "flask", str(port), EXAMPLES],
        "fastapi": lambda port: [python, peers, "fastapi", str(port), EXAMPLES],
    }
    results = {}
    for server, command in servers.items():
        port = free_port()
        process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={**os.environ, "NEURIDE_LOG": "warn"})
        try:
            wait_ready(port, process)
            for name, batch in ROWS:
                body = os.path.join(folder, f"{name}-{batch}.json")
                url = f"http://127.0.0.1:{port}/v2/models/{name}/infer"
                subprocess.run(["curl", "-sf", "-o", "/dev/null", "-H", "Content-Type: application/json",
                                "--data-binary", f"@{body}", url], check=True)
                for concurrency in CONCURRENCY:
                    row = ab(url, body, concurrency, folder)
                    results[(server, name, batch, concurrency)] = row
                    print(f"{server:8} {name:22} batch {batch:3} c={concurrency}: {row}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=10)

    build = "release" if RELEASE else "dev profile, workspace crates at opt-level 3"
    lines = [f"neuride build: {build}; ab -k, {DURATION:g} s per row; ms = latency percentiles", "",
             "| model | batch | c | neuride req/s | p50 / p99 ms | Flask req/s | p50 / p99 ms | FastAPI req/s | p50 / p99 ms | x Flask | x FastAPI | failed |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, batch in ROWS:
        for concurrency in CONCURRENCY:
            cells = [results[(s, name, batch, concurrency)] for s in servers]
            if any("error" in c for c in cells):
                lines.append(f"| {name} | {batch} | {concurrency} | {cells} |")
                continue
            n, f, a = cells
            lines.append(
                f"| {name} | {batch} | {concurrency} | {n['rps']:.0f} | {n['p50_ms']:.2f} / {n['p99_ms']:.2f} "
                f"| {f['rps']:.0f} | {f['p50_ms']:.2f} / {f['p99_ms']:.2f} "
                f"| {a['rps']:.0f} | {a['p50_ms']:.2f} / {a['p99_ms']:.2f} "
                f"| {n['rps'] / f['rps']:.1f} | {n['rps'] / a['rps']:.1f} "
                f"| {n['failed']} / {f['failed']} / {a['failed']} |")
    table = "\n".join(lines)
    print()
    print(table)
    with open(os.path.join(OUT, "serve_bench.json"), "w") as out:
        json.dump({"|".join(map(str, k)): v for k, v in results.items()}, out, indent=1)
    with open(os.path.join(OUT, "serve_bench.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
