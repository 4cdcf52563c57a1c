#!/usr/bin/env python3
"""neuride's ONNX checker against onnx.checker, side by side.

Builds its models in a temp dir (never committed):
  * vit_b16.onnx  - ViT-B/16-sized: patch-embedding Conv, 12 pre-norm transformer
                    blocks (LayerNormalization, MatMul/Add projections, dynamic
                    Reshape chains as exporters write them, Softmax attention, Erf GELU),
                    ~86 M float32 weights (~345 MB), ~1,100 nodes;
  * deep_8k.onnx  - the same block with hidden size 64, repeated until > 8,000 nodes;
  * torch_transformer96.onnx - a real exporter's graph: PyTorch nn.TransformerEncoder,
                    96 layers, d_model 256, exported by torch.onnx.export at opset 17
                    (needs a Python with torch: --torch-python, or NEURIDE_TORCH_PYTHON;
                    the row is skipped without one);
  * node_tests/   - the ONNX project's own node test models, written from
                    onnx.backend.test.case.node.collect_testcases() (1,884 with onnx 1.23).

Then times, over several runs, neuride and Python alternately (medians; each
ratio is the median of the ratios of run pairs):
  * neuride: one process per run doing load + check (the `check_once` bench binary,
    i.e. what `neuride check` does for an ONNX file), started directly; peak RSS from
    a second run under /usr/bin/time;
  * `target/release/neuride check --format json` as a whole process (--cli; always for
    the exporter's transformer and the node-test folder);
  * python: onnx.load(path) + onnx.checker.check_model(model, full_check=True), in
    process (for the folder: one loop over every file, in one process).

    python3 bench/check_bench.py [--runs 5] [--cli] [--torch-python /path/to/python]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parent.parent
F = TensorProto.FLOAT


class Builder:
    def __init__(self, seed: int = 0):
        self.nodes, self.inits, self.n = [], [], 0
        self.rng = np.random.default_rng(seed)

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def weight(self, shape) -> str:
        name = self.name("w")
        data = self.rng.standard_normal(size=shape, dtype=np.float32) * 0.02
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def const(self, values, dtype=np.int64) -> str:
        out = self.name("c")
        tensor = numpy_helper.from_array(np.array(values, dtype=dtype), out + "_v")
        self.nodes.append(helper.make_node("Constant", [], [out], name=out, value=tensor))
        return out

    def op(self, op_type: str, inputs, **attrs) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def dynamic_reshape(self, x: str, tail) -> str:
        """Reshape to [batch, seq, *tail] with the Shape/Gather/Unsqueeze/Concat chain exporters emit."""
        shape = self.op("Shape", [x])
        batch = self.op("Unsqueeze", [self.op("Gather", [shape, self.const(0)], axis=0), self.const([0])])
        seq = self.op("Unsqueeze", [self.op("Gather", [shape, self.const(1)], axis=0), self.const([0])])
        target = self.op("Concat", [batch, seq, self.const(list(tail))], axis=0)
        return self.op("Reshape", [x, target])

    def block(self, x: str, hidden: int, heads: int, mlp: int) -> str:
        head_dim = hidden // heads
        ln1 = self.op("LayerNormalization", [x, self.weight([hidden]), self.weight([hidden])], axis=-1, epsilon=1e-6)
        qkv = []
        for _ in range(3):
            proj = self.op("Add", [self.op("MatMul", [ln1, self.weight([hidden, hidden])]), self.weight([hidden])])
            qkv.append(self.op("Transpose", [self.dynamic_reshape(proj, [heads, head_dim])], perm=[0, 2, 1, 3]))
        q, k, v = qkv
        k_t = self.op("Transpose", [k], perm=[0, 1, 3, 2])
        # 1 / sqrt(head_dim) computed from q's shape, as the PyTorch exporter writes it.
        dim = self.op("Cast", [self.op("Gather", [self.op("Shape", [q]), self.const(3)], axis=0)], to=F)
        scale = self.op("Div", [self.const(1.0, np.float32), self.op("Sqrt", [dim])])
        scores = self.op("Mul", [self.op("MatMul", [q, k_t]), scale])
        context = self.op("MatMul", [self.op("Softmax", [scores], axis=-1), v])
        merged = self.dynamic_reshape(self.op("Transpose", [context], perm=[0, 2, 1, 3]), [hidden])
        attn = self.op("Add", [self.op("MatMul", [merged, self.weight([hidden, hidden])]), self.weight([hidden])])
        x = self.op("Add", [x, attn])
        ln2 = self.op("LayerNormalization", [x, self.weight([hidden]), self.weight([hidden])], axis=-1, epsilon=1e-6)
        h = self.op("Add", [self.op("MatMul", [ln2, self.weight([hidden, mlp])]), self.weight([mlp])])
        erf = self.op("Erf", [self.op("Div", [h, self.const(2**0.5, np.float32)])])
        gelu = self.op("Mul", [self.op("Mul", [h, self.op("Add", [erf, self.const(1.0, np.float32)])]), self.const(0.5, np.float32)])
        out = self.op("Add", [self.op("MatMul", [gelu, self.weight([mlp, hidden])]), self.weight([hidden])])
        return self.op("Add", [x, out])


def transformer(path: pathlib.Path, hidden: int, heads: int, mlp: int, blocks: int, min_nodes: int = 0) -> int:
    b = Builder()
    patches = b.op("Conv", ["image", b.weight([hidden, 3, 16, 16]), b.weight([hidden])], kernel_shape=[16, 16], strides=[16, 16])
    flat = b.op("Transpose", [b.op("Reshape", [patches, b.const([0, hidden, -1])])], perm=[0, 2, 1])
    x = b.op("Add", [flat, b.weight([1, 196, hidden])])
    count = 0
    while count < blocks or len(b.nodes) < min_nodes:
        x = b.block(x, hidden, heads, mlp)
        count += 1
    x = b.op("LayerNormalization", [x, b.weight([hidden]), b.weight([hidden])], axis=-1, epsilon=1e-6)
    cls = b.op("Gather", [x, b.const(0)], axis=1)
    logits = b.op("Add", [b.op("MatMul", [cls, b.weight([hidden, 1000])]), b.weight([1000])])
    b.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="output"))
    graph = helper.make_graph(
        b.nodes,
        "vit",
        [helper.make_tensor_value_info("image", F, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", F, ["batch", 1000])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="check_bench")
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return len(b.nodes)


def rust_binary() -> str:
    """Builds the check_once bench binary (release profile) and returns its path."""
    env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    out = subprocess.run(
        ["cargo", "bench", "-p", "neuride-onnx", "--bench", "check_once", "--no-run", "--message-format=json"],
        cwd=os.environ.get("NEURIDE_BENCH_CARGO_ROOT", ROOT), env=env, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "check_once" and msg.get("executable"):
            return msg["executable"]
    raise SystemExit("check_once bench binary not found in cargo output")


def run_process(argv) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, stdout of one process.

    The time is of the process started directly: wrapped in /usr/bin/time it
    would include that program's own start-up (1-3 ms here, as long as
    checking the ViT). Peak RSS comes from a second run under /usr/bin/time:
    rusage taken here would count the pages of this (large, forked) Python
    process before exec."""
    start = time.perf_counter()
    timed = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    measured = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", *argv], capture_output=True, text=True)
    rss_kb = int(measured.stderr.rsplit("MAXRSS ", 1)[1].split()[0])
    return wall, rss_kb / 1024, timed.stdout.strip()


def paired(ours, theirs, runs: int):
    """Runs both sides alternately, `runs` times each: on a shared machine
    whose speed drifts by a fifth over minutes, each pair sees the same
    conditions (all of one side, then all of the other, would not)."""
    mine, peer = [], []
    for _ in range(runs):
        mine.append(ours())
        peer.append(theirs())
    return mine, peer


def ratio(peer: list[float], ours: list[float]) -> float:
    """The median of the per-pair ratios peer / ours."""
    return statistics.median(p / o for p, o in zip(peer, ours))


def python_check(path: pathlib.Path) -> float:
    start = time.perf_counter()
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return time.perf_counter() - start


def python_check_folder(paths) -> float:
    """One in-process loop over every model, as a Python script checking a model store would."""
    start = time.perf_counter()
    for path in paths:
        model = onnx.load(str(path))
        try:
            onnx.checker.check_model(model, full_check=True)
        except Exception:  # some node tests are meant to be rejected
            pass
    return time.perf_counter() - start


TORCH_EXPORT = """
import sys, torch
from torch import nn
torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, batch_first=True)
model = nn.TransformerEncoder(layer, num_layers=96, enable_nested_tensor=False).eval()
torch.onnx.export(model, (torch.randn(1, 16, 256),), sys.argv[1], opset_version=17, dynamo=False,
                  input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch", 1: "seq"}})
"""


def torch_transformer(path: pathlib.Path, python: str | None) -> int | None:
    """Exports nn.TransformerEncoder (96 layers, opset 17) with a Python that has torch."""
    if not python:
        return None
    subprocess.run([python, "-c", TORCH_EXPORT, str(path)], check=True, capture_output=True)
    return len(onnx.load(str(path), load_external_data=False).graph.node)


def node_tests(folder: pathlib.Path) -> list[pathlib.Path]:
    """Writes the ONNX node test models (onnx.backend.test.case.node) into folder."""
    from onnx.backend.test.case.node import collect_testcases
    import warnings
    folder.mkdir()
    paths = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    for case in cases:
        path = folder / f"{case.name}.onnx"
        onnx.save(case.model, str(path))
        paths.append(path)
    return paths


def release_cli() -> pathlib.Path:
    env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    subprocess.run(["cargo", "build", "--release", "-p", "neuride"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return pathlib.Path(env["CARGO_TARGET_DIR"]) / "release/neuride"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="also time `neuride check` on the synthetic models")
    parser.add_argument("--torch-python", default=os.environ.get("NEURIDE_TORCH_PYTHON"),
                        help="a Python with torch, to export the TransformerEncoder")
    args = parser.parse_args()

    binary = rust_binary()
    cli = release_cli()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        models = {
            "vit_b16.onnx": transformer(tmp / "vit_b16.onnx", 768, 12, 3072, 12),
            "deep_8k.onnx": transformer(tmp / "deep_8k.onnx", 64, 4, 128, 1, min_nodes=8000),
        }
        torch_nodes = torch_transformer(tmp / "torch_transformer96.onnx", args.torch_python)
        if torch_nodes is None:
            print("no --torch-python: the exporter's transformer row is skipped", file=sys.stderr)
        for name, nodes in models.items():
            path = tmp / name
            size_mb = path.stat().st_size / 1e6
            first = run_process([binary, str(path)])
            print(first[2], file=sys.stderr)
            if "0 errors" not in first[2]:
                raise SystemExit(f"neuride reports errors on {name}: {first[2]}")
            rust, python = paired(lambda: run_process([binary, str(path)]), lambda: python_check(path),
                                  args.runs)
            cli_runs = [run_process([str(cli), "check", str(path), "--format", "json"])
                        for _ in range(args.runs)] if args.cli else []
            rust_ms = statistics.median(r[0] for r in rust) * 1e3
            py_ms = statistics.median(python) * 1e3
            row = {
                "model": name, "nodes": nodes, "MB": size_mb,
                "neuride_ms": rust_ms, "neuride_rss_mb": max(r[1] for r in rust),
                "python_ms": py_ms, "speedup": ratio(python, [r[0] for r in rust]),
            }
            if cli_runs:
                row["cli_ms"] = statistics.median(r[0] for r in cli_runs) * 1e3
                row["cli_rss_mb"] = max(r[1] for r in cli_runs)
            rows.append(row)

        # Whole-process `neuride check --format json` against the in-process Python loop.
        cli_rows = []
        targets = []
        if torch_nodes is not None:
            path = tmp / "torch_transformer96.onnx"
            targets.append((f"PyTorch TransformerEncoder x96 ({torch_nodes:,} nodes)", path, [path],
                            path.stat().st_size / 1e6))
        folder_paths = node_tests(tmp / "node_tests")
        targets.append((f"ONNX node tests ({len(folder_paths):,} models)", tmp / "node_tests", folder_paths,
                        sum(p.stat().st_size for p in folder_paths) / 1e6))
        for label, target, paths, size_mb in targets:
            argv = [str(cli), "check", str(target), "--format", "json", "--isolated"]
            first = subprocess.run(argv, capture_output=True, text=True)
            report = json.loads(first.stdout)
            cli_runs, python = paired(lambda: run_process(argv), lambda: python_check_folder(paths), args.runs)
            cli_ms = statistics.median(r[0] for r in cli_runs) * 1e3
            py_ms = statistics.median(python) * 1e3
            cli_rows.append({"what": label, "files": len(report["files"]), "MB": size_mb, "cli_ms": cli_ms,
                             "cli_rss_mb": max(r[1] for r in cli_runs), "python_ms": py_ms,
                             "ratio": ratio(python, [r[0] for r in cli_runs]),
                             "errors": report["summary"]["errors"]})

    print(f"runs per cell: {args.runs} (medians); neuride = one process: mmap load + check; "
          "python = onnx.load + onnx.checker.check_model(full_check=True), in process")
    header = "| model | nodes | file MB | neuride load+check ms | neuride peak RSS MB | python onnx ms | speed-up |"
    if any("cli_ms" in r for r in rows):
        header += " `neuride check --format json` ms | CLI peak RSS MB |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in rows:
        line = (f"| {r['model']} | {r['nodes']} | {r['MB']:.0f} | {r['neuride_ms']:.1f} | {r['neuride_rss_mb']:.0f} | "
                f"{r['python_ms']:.0f} | {r['speedup']:.0f}x |")
        if "cli_ms" in r:
            line += f" {r['cli_ms']:.1f} | {r['cli_rss_mb']:.0f} |"
        print(line)
    print()
    print(f"whole process `neuride check --format json --isolated` vs one in-process Python loop "
          f"(onnx.load + check_model(full_check=True) per file); {os.cpu_count()} cores")
    print("| what | files | MB | `neuride check` ms | CLI peak RSS MB | python loop ms | ratio | errors found |")
    print("|---|---|---|---|---|---|---|---|")
    for r in cli_rows:
        print(f"| {r['what']} | {r['files']} | {r['MB']:.1f} | {r['cli_ms']:.1f} | {r['cli_rss_mb']:.0f} | "
              f"{r['python_ms']:.0f} | {r['ratio']:.1f}x | {r['errors']} |")


if __name__ == "__main__":
    main()
