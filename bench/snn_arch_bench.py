#!/usr/bin/env python3
"""Speed of converted CNN architectures (issue 14): neuride against snnTorch,
SpikingJelly and onnxruntime, side by side in one run.

Networks
  resnet  the trained residual digits net (tests/fixtures/dl/digits16_resnet.onnx,
          16x16 inputs, 450 test images), 64 steps
  r18     torchvision ResNet-18 at 224x224, default-initialised weights
          (seed 0), exported to ONNX in a temp dir; calibrated on 8 random
          normal images, simulated on random normal images, 32 steps

Each network is converted once by `neuride convert --max-spikes 1` (99.9th
percentile normalisation, membrane starting at half the threshold, spiking
max-pool). Every simulator then runs the file it wrote, OUT.snn.onnx:
neuride simulates it with `--normalize none` (the same predictions as
simulating the source model, tested in neuride), and the torch peers build
the same graph from it with its normalised weights (conv, dense, add, the
spiking running max-pool, average pool) and these neurons at every ReLU:
  snnTorch      snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
  SpikingJelly  activation_based IFNode(v_threshold=1.0, v_reset=None)
                (subtract reset); step mode per row: 'm' (the whole
                sequence per layer, IF loop in one call) where the [T*N]
                activations fit in memory, else 's' (see --sj-mode)
both starting at half the threshold, with the conversion's per-layer
input scale and spike amplitude applied around the neuron. `--max-spikes 1`
makes neuride's IF emit at most one spike a step, as these neurons do, so
the three run the same computation: their predictions are compared
(agreement) and, on the digits, their accuracies printed.
  onnxruntime   the ANN (the source ONNX) run once per time step: T runs of
                the batch, the floor of any dense time-stepped simulator.

All sides: current encoding (the input layer's conv is computed once per
batch, not per step, in neuride and in the torch loops alike), membrane
readout of the output layer, the same samples, steps, batch and thread
count (`--threads`, default 1: torch.set_num_threads, onnxruntime's
intra-op threads, neuride's --threads). Time = the simulation loop only:
neuride's reported `wall_s` (plan + simulation, no model loading), the
torch loops from the first batch to the last prediction, onnxruntime's
T x batches `run` calls. neuride's whole-process time (load + convert-free
simulate + report) is printed too. Medians of `--runs` runs; each ratio
is the median of the per-run ratios.

ResNet-18 at batch 64 is slow for the dense peers (32 steps x 64 images x
1.8 GMAC): by default it runs 64 samples at 8 steps (`--r18-b64-steps`).

Not run in CI (heavy peers). Run:
    cargo build --release -p neuride
    /tmp/heavy/bin/python bench/snn_arch_bench.py [--neuride target/release/neuride]
        [--runs 3] [--threads 1] [--nets resnet r18] [--batches 1 64]
Needs numpy, torch, torchvision, snntorch, spikingjelly (2.0), onnx,
onnxruntime (pip install torch torchvision snntorch spikingjelly onnx onnxruntime).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")


# ---------------------------------------------------------------- networks

def digits_net(tmp):
    """The trained residual digits net and its data (all 450 test images)."""
    return {
        "model": os.path.join(FIX, "dl/digits16_resnet.onnx"),
        "calib": os.path.join(FIX, "data/digits16_calib.npz"),
        "data": os.path.join(FIX, "data/digits16_test.npz"),
        "labelled": True,
    }


def resnet18_net(tmp):
    """torchvision ResNet-18 (default initialisation, seed 0) at 224x224 and
    random normal images (8 for calibration, 64 to simulate)."""
    import torch
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    path = os.path.join(tmp, "resnet18.onnx")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    rng = np.random.default_rng(0)
    calib = os.path.join(tmp, "resnet18_calib.npz")
    data = os.path.join(tmp, "resnet18_data.npz")
    np.savez(calib, x=rng.standard_normal((8, 3, 224, 224)).astype(np.float32))
    np.savez(data, x=rng.standard_normal((64, 3, 224, 224)).astype(np.float32))
    return {"model": path, "calib": calib, "data": data, "labelled": False}


def convert(neuride, net, tmp):
    out = os.path.join(tmp, os.path.basename(net["model"]).replace(".onnx", "_snn.neuro"))
    subprocess.run([neuride, "convert", net["model"], "--calib", net["calib"], "--max-spikes", "1", "-o", out],
                   check=True, capture_output=True)
    return out.replace(".neuro", ".snn.onnx")


# ---------------------------------------------------------------- neuride

def run_neuride(neuride, snn_onnx, data, steps, batch, samples, threads):
    cmd = [neuride, "simulate", snn_onnx, "--normalize", "none", "--data", data, "--steps", str(steps),
           "--batch", str(batch), "--limit", str(samples), "--threads", str(threads), "--format", "json"]
    start = time.perf_counter()
    report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    process = time.perf_counter() - start
    return report["wall_s"], process, np.array(report["predictions"])


# ---------------------------------------------------------------- torch peers

class SnnGraph:
    """The converted network (OUT.snn.onnx) as torch operations.

    `neuron(name, threshold)` makes the peer's neuron for an IF node; in 's'
    mode values are [N, ...] per step, in 'm' mode [T*N, ...] for the whole
    run (the neuron sees [T, N, ...])."""

    def __init__(self, path):
        import onnx
        import torch
        from onnx import numpy_helper

        model = onnx.load(path)
        self.params = {i.name: torch.tensor(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
        self.input = model.graph.input[0].name
        self.output = model.graph.output[0].name
        self.nodes = []
        static = {self.input}
        for node in model.graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            inputs = [i for i in node.input if i not in self.params]
            consts = [self.params[i] for i in node.input if i in self.params]
            is_static = node.op_type != "IF" and all(i in static for i in inputs)
            if is_static:
                static.add(node.output[0])
            self.nodes.append((node.op_type, node.output[0], inputs, consts, attrs, is_static))
        if any(op not in OPS for op, *_ in self.nodes):
            raise SystemExit(f"unsupported ops in {path}: {sorted({op for op, *_ in self.nodes} - set(OPS))}")

    def simulate(self, x, steps, neuron, mode):
        """Predictions (argmax of the output layer's summed current) for one batch."""
        import torch

        values = {self.input: x}
        for op, out, inputs, consts, attrs, is_static in self.nodes:
            if is_static:
                values[out] = OPS[op](None, [values[i] for i in inputs], consts, attrs, None)
        state = {}
        if mode == "m":
            batch = x.shape[0]
            for op, out, inputs, consts, attrs, is_static in self.nodes:
                if is_static:
                    continue
                args = [values[i] for i in inputs]
                if op == "IF" or (op == "Add" and any(i.shape[0] != args[0].shape[0] for i in args)):
                    # a static input meets the time sequence: repeat it T times
                    args = [a.repeat(steps, *[1] * (a.dim() - 1)) if a.shape[0] == batch else a for a in args]
                values[out] = OPS[op](state.setdefault(out, {}), args, consts, attrs, (neuron, out, steps))
            y = values[self.output]
            if y.shape[0] != batch:
                y = y.view(steps, batch, -1).sum(0)
            else:
                y = y * steps
            return y.argmax(1)
        total = 0
        for _ in range(steps):
            for op, out, inputs, consts, attrs, is_static in self.nodes:
                if not is_static:
                    values[out] = OPS[op](state.setdefault(out, {}), [values[i] for i in inputs], consts, attrs, (neuron, out, None))
            total = total + values[self.output]
        return total.argmax(1)


def _conv(state, args, consts, attrs, ctx):
    import torch.nn.functional as F

    pads = attrs.get("pads", [0, 0, 0, 0])
    x = args[0]
    if pads[0] != pads[2] or pads[1] != pads[3]:
        x, pad = F.pad(x, (pads[1], pads[3], pads[0], pads[2])), 0
    else:
        pad = (pads[0], pads[1])
    return F.conv2d(x, consts[0], consts[1] if len(consts) > 1 else None, stride=attrs.get("strides", [1, 1]),
                    padding=pad, groups=attrs.get("group", 1))


def _gemm(state, args, consts, attrs, ctx):
    import torch.nn.functional as F

    w = consts[0] if attrs.get("transB", 0) else consts[0].t()
    return F.linear(args[0], w, consts[1] if len(consts) > 1 else None)


def _pool_args(attrs):
    pads = attrs.get("pads", [0, 0, 0, 0])
    assert pads[0] == pads[2] and pads[1] == pads[3], "symmetric pool pads"
    return attrs["kernel_shape"], attrs.get("strides", attrs["kernel_shape"]), (pads[0], pads[1]), bool(attrs.get("ceil_mode", 0))


def _maxpool(state, args, consts, attrs, ctx):
    """neuride's spiking max-pool: each step emits the increase of the largest
    input total in the window (docs/snn.md); of a constant input, the max."""
    import torch
    import torch.nn.functional as F

    kernel, stride, pad, ceil = _pool_args(attrs)
    pool = lambda v: F.max_pool2d(v, kernel, stride, pad, ceil_mode=ceil)
    if ctx is None:
        return pool(args[0])
    neuron, name, steps = ctx
    if steps is None:
        total = state["total"] = state["total"] + args[0] if "total" in state else args[0].clone()
        current = pool(total)
        out = current - state["last"] if "last" in state else current
        state["last"] = current
        return out
    x = args[0]
    current = pool(x.view(steps, -1, *x.shape[1:]).cumsum(0).flatten(0, 1))
    current = current.view(steps, -1, *current.shape[1:])
    out = torch.diff(current, dim=0, prepend=torch.zeros_like(current[:1]))
    return out.flatten(0, 1)


def _avgpool(state, args, consts, attrs, ctx):
    import torch.nn.functional as F

    kernel, stride, pad, ceil = _pool_args(attrs)
    return F.avg_pool2d(args[0], kernel, stride, pad, ceil_mode=ceil, count_include_pad=bool(attrs.get("count_include_pad", 0)))


def _if(state, args, consts, attrs, ctx):
    neuron, name, steps = ctx
    x = args[0]
    scale = attrs.get("input_scale", 1.0)
    if scale != 1.0:
        x = x * scale
    if steps is None:
        spikes = neuron.step(state, name, x, attrs)
    else:
        spikes = neuron.sequence(name, x.view(steps, -1, *x.shape[1:]), attrs).flatten(0, 1)
    amplitude = attrs.get("amplitude", 1.0)
    return spikes * amplitude if amplitude != 1.0 else spikes


OPS = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MaxPool": _maxpool,
    "AveragePool": _avgpool,
    "GlobalAveragePool": lambda s, a, c, at, ctx: a[0].mean((2, 3), keepdim=True),
    "Flatten": lambda s, a, c, at, ctx: a[0].flatten(1),
    "Add": lambda s, a, c, at, ctx: sum(a[1:], a[0]),
    "IF": _if,
}


def check_if(attrs):
    assert attrs.get("threshold", 1.0) == 1.0 and attrs.get("reset", b"subtract") == b"subtract"
    assert attrs.get("max_spikes", 0) == 1 and not attrs.get("signed", 0), "convert with --max-spikes 1"


class SnnTorchNeurons:
    name = "snnTorch"

    def __init__(self):
        import snntorch as snn

        self.lif = {}
        self.make = lambda: snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")

    def step(self, state, name, x, attrs):
        import torch

        if name not in self.lif:
            check_if(attrs)
            self.lif[name] = self.make()
        if "mem" not in state:
            state["mem"] = torch.full_like(x, attrs.get("initial_membrane", 0.5))
        spikes, state["mem"] = self.lif[name](x, state["mem"])
        return spikes


class SpikingJellyNeurons:
    name = "SpikingJelly"

    def __init__(self, mode):
        from spikingjelly.activation_based import neuron

        self.nodes = {}
        self.make = lambda: neuron.IFNode(v_threshold=1.0, v_reset=None, step_mode=mode).eval()

    def node(self, name, attrs):
        if name not in self.nodes:
            check_if(attrs)
            self.nodes[name] = self.make()
        return self.nodes[name]

    def step(self, state, name, x, attrs):
        node = self.node(name, attrs)
        if not state:
            node.reset()
            node.v = float(attrs.get("initial_membrane", 0.5))
            state["started"] = True
        return node(x)

    def sequence(self, name, x_seq, attrs):
        node = self.node(name, attrs)
        node.reset()
        node.v = float(attrs.get("initial_membrane", 0.5))
        return node(x_seq)


def run_torch(graph, make_neurons, mode, x, steps, batch, threads):
    import torch

    torch.set_num_threads(threads)
    neurons = make_neurons()
    predictions = []
    with torch.inference_mode():
        start = time.perf_counter()
        for first in range(0, len(x), batch):
            xb = torch.from_numpy(x[first:first + batch])
            predictions.append(graph.simulate(xb, steps, neurons, mode).numpy())
        wall = time.perf_counter() - start
    return wall, np.concatenate(predictions)


# ---------------------------------------------------------------- onnxruntime

def run_ort(model, x, steps, batch, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(None, {name: x[:batch]})  # warm-up (allocations), not timed
    predictions = []
    start = time.perf_counter()
    for first in range(0, len(x), batch):
        xb = x[first:first + batch]
        total = 0
        for _ in range(steps):
            total = total + session.run(None, {name: xb})[0]
        predictions.append(total.argmax(1))
    return time.perf_counter() - start, np.concatenate(predictions)


# ---------------------------------------------------------------- main

def sj_mode(args, steps, batch, per_sample_floats):
    if args.sj_mode != "auto":
        return args.sj_mode
    # 'm' holds [T*N] activations of every layer alive at once: use it when
    # they stay under ~1 GB, else the per-step 's' mode.
    return "m" if steps * batch * per_sample_floats * 4 * 3 < 1 << 30 else "s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neuride", default=os.environ.get("NEURIDE_BIN", os.path.join(ROOT, "target", "release", "neuride")))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--nets", nargs="*", default=["resnet", "r18"])
    parser.add_argument("--batches", nargs="*", type=int, default=[1, 64])
    parser.add_argument("--resnet-steps", type=int, default=64)
    parser.add_argument("--r18-steps", type=int, default=32)
    parser.add_argument("--r18-b64-steps", type=int, default=8)
    parser.add_argument("--r18-b1-samples", type=int, default=2)
    parser.add_argument("--sj-mode", choices=["auto", "s", "m"], default="auto")
    parser.add_argument("--peers", nargs="*", default=["snntorch", "spikingjelly", "onnxruntime"])
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for net_name in args.nets:
            net = (digits_net if net_name == "resnet" else resnet18_net)(tmp)
            snn_onnx = convert(args.neuride, net, tmp)
            graph = SnnGraph(snn_onnx)
            z = np.load(net["data"])
            # activations per sample of the largest layers (ResNet-18: 64x112x112)
            act = 64 * 112 * 112 * 4 if net_name == "r18" else 16 * 16 * 16 * 4
            for batch in args.batches:
                if net_name == "resnet":
                    steps, samples = args.resnet_steps, len(z["x"])
                elif batch == 1:
                    steps, samples = args.r18_steps, args.r18_b1_samples
                else:
                    steps, samples = args.r18_b64_steps, batch
                x = np.ascontiguousarray(z["x"][:samples], dtype=np.float32)
                y = z["y"][:samples] if net["labelled"] else None
                mode = sj_mode(args, steps, batch, act)
                peers = {
                    "snntorch": lambda: run_torch(graph, SnnTorchNeurons, "s", x, steps, batch, args.threads),
                    "spikingjelly": lambda: run_torch(graph, lambda: SpikingJellyNeurons(mode), mode, x, steps, batch, args.threads),
                    "onnxruntime": lambda: run_ort(net["model"], x, steps, batch, args.threads),
                }
                times = {"neuride": [], "process": []}
                predictions = {}
                ratios = {p: [] for p in args.peers}
                for run in range(args.runs):
                    wall, process, pred = run_neuride(args.neuride, snn_onnx, net["data"], steps, batch, samples, args.threads)
                    times["neuride"].append(wall)
                    times["process"].append(process)
                    predictions["neuride"] = pred
                    for peer in args.peers:
                        t, p = peers[peer]()
                        times.setdefault(peer, []).append(t)
                        predictions[peer] = p
                        ratios[peer].append(t / wall)
                    print(f"[{net_name} b{batch} run {run + 1}] " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()), file=sys.stderr, flush=True)
                rows.append({
                    "net": net_name, "batch": batch, "steps": steps, "samples": samples, "sj_mode": mode,
                    "times": {k: statistics.median(v) for k, v in times.items()},
                    "ratios": {k: statistics.median(v) for k, v in ratios.items()},
                    "accuracy": {k: float((v == y).mean()) for k, v in predictions.items()} if y is not None else None,
                    "agreement": {k: float((v == predictions["neuride"]).mean()) for k, v in predictions.items() if k != "neuride"},
                })

    label = {"resnet": "digits16_resnet", "r18": "ResNet-18 224x224"}
    peer_names = {"snntorch": "snnTorch", "spikingjelly": "SpikingJelly", "onnxruntime": "onnxruntime (ANN x T)"}
    print("\nms per sample-step (lower is better); ratio = peer time / neuride time (> 1: neuride faster)\n")
    print("| net | batch | steps x samples | neuride (sim / process) | " + " | ".join(peer_names[p] for p in args.peers) + " | goal: faster than all |")
    print("|---|---|---|---|" + "---|" * len(args.peers) + "---|")
    for r in rows:
        per = lambda t: t * 1e3 / (r["steps"] * r["samples"])
        cells = []
        for p in args.peers:
            extra = f" ('{r['sj_mode']}')" if p == "spikingjelly" else ""
            cells.append(f"{per(r['times'][p]):.3f}{extra}, {r['ratios'][p]:.1f}x")
        met = all(r["ratios"][p] > 1 for p in args.peers)
        print(f"| {label[r['net']]} | {r['batch']} | {r['steps']} x {r['samples']} | {per(r['times']['neuride']):.3f} / {per(r['times']['process']):.3f} | "
              + " | ".join(cells) + f" | {'met' if met else 'NOT met'} |")
    print()
    for r in rows:
        acc = "" if r["accuracy"] is None else "accuracy " + ", ".join(f"{k} {v:.4f}" for k, v in r["accuracy"].items()) + "; "
        print(f"{label[r['net']]} batch {r['batch']}: {acc}agreement with neuride " + ", ".join(f"{k} {v:.3f}" for k, v in r["agreement"].items()))
    import onnxruntime
    import snntorch
    import spikingjelly
    import torch

    print(f"\nthreads {args.threads} on every side; medians of {args.runs} runs; torch {torch.__version__}, snntorch {snntorch.__version__}, "
          f"spikingjelly {getattr(spikingjelly, '__version__', '2.0')}, onnxruntime {onnxruntime.__version__}")


if __name__ == "__main__":
    sys.exit(main())
