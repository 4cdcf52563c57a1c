#!/usr/bin/env python3
"""Side-by-side speed of the same converted digits networks in neuride,
snnTorch (CPU) and Nengo's reference simulator.

The networks are converted once by `neuride convert` (99.9th-percentile
normalisation on digits_calib); snnTorch and Nengo load the very weights it
wrote (OUT.npz), so all three simulate the same network: constant input
current, IF neurons with subtract reset starting at half threshold, output
layer read as a membrane (summed input current), the same steps.

Differences kept on purpose and reported: snnTorch's Leaky(beta=1) emits at
most one spike per step (neuride's IF may emit several when v >= 2); Nengo's
SpikingRectifiedLinear rectifies its input current. Accuracies are printed
so the reader sees they are the same computation.

Timing: only the simulation loop (no conversion, no Nengo build). The layer
fed by the constant input is computed once per batch in neuride and in the
snnTorch loop alike. Nengo has no batching: it runs one sample at a time.

Usage: python3 bench/snn_bench.py [--neuride target/release/neuride] [--steps 50]
Needs: numpy, torch, snntorch, nengo (pip install torch snntorch nengo).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")


def arrays(npz_path):
    z = np.load(npz_path)
    weights = [z[k] for k in z.files if k.endswith(".weight")]
    biases = {k[: -len(".bias")]: z[k] for k in z.files if k.endswith(".bias")}
    names = [k[: -len(".weight")] for k in z.files if k.endswith(".weight")]
    return [(w, biases.get(n)) for n, w in zip(names, weights)]


def convert(neuride, model, out_dir):
    out = os.path.join(out_dir, os.path.basename(model).replace(".onnx", "_snn.neuro"))
    subprocess.run([neuride, "convert", os.path.join(FIX, model), "--calib", os.path.join(FIX, "data/digits_calib.npz"), "-o", out], check=True, capture_output=True)
    return arrays(out.replace(".neuro", ".npz"))


def run_neuride(neuride, model, steps, batch, limit):
    cmd = [neuride, "simulate", os.path.join(FIX, model), "--data", os.path.join(FIX, "data/digits_test.npz"), "--calib", os.path.join(FIX, "data/digits_calib.npz"),
           "--steps", str(steps), "--batch", str(batch), "--limit", str(limit), "--format", "json"]
    best = None
    for _ in range(3):
        report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        if best is None or report["wall_s"] < best["wall_s"]:
            best = report
    return best["wall_s"], best["accuracy"]


def run_snntorch(kind, layers, x, y, steps, batch):
    import torch
    import torch.nn.functional as F
    import snntorch as snn

    torch.set_grad_enabled(False)
    t = [(torch.tensor(w), None if b is None else torch.tensor(b)) for w, b in layers]
    lif1 = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
    lif2 = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
    correct = 0
    start = time.perf_counter()
    for first in range(0, len(x), batch):
        xb = torch.tensor(x[first:first + batch])
        if kind == "mlp":
            cur1 = F.linear(xb.flatten(1), *t[0])  # constant input: computed once
            mem1 = torch.full_like(cur1, 0.5)
            out = torch.zeros(len(xb), 10)
            for _ in range(steps):
                spk1, mem1 = lif1(cur1, mem1)
                out += F.linear(spk1, *t[1])
        else:
            cur1 = F.conv2d(xb, t[0][0], t[0][1], padding=1)
            mem1 = torch.full_like(cur1, 0.5)
            mem2 = None
            out = torch.zeros(len(xb), 10)
            for _ in range(steps):
                spk1, mem1 = lif1(cur1, mem1)
                cur2 = F.conv2d(F.avg_pool2d(spk1, 2), t[1][0], t[1][1], padding=1)
                if mem2 is None:
                    mem2 = torch.full_like(cur2, 0.5)
                spk2, mem2 = lif2(cur2, mem2)
                out += F.linear(F.avg_pool2d(spk2, 2).flatten(1), *t[2])
        correct += int((out.argmax(1).numpy() == y[first:first + batch]).sum())
    return time.perf_counter() - start, correct / len(x)


def pool_matrix(c, h, w):
    m = np.zeros((c * (h // 2) * (w // 2), c * h * w))
    for ch in range(c):
        for oy in range(h // 2):
            for ox in range(w // 2):
                o = (ch * (h // 2) + oy) * (w // 2) + ox
                for dy in range(2):
                    for dx in range(2):
                        m[o, (ch * h + oy * 2 + dy) * w + ox * 2 + dx] = 0.25
    return m


def run_nengo(kind, layers, x, y, steps):
    import nengo

    dt = 0.001
    total = 0.0
    correct = 0
    for xi, yi in zip(x, y):
        with nengo.Network() as net:
            stim = nengo.Node(xi.reshape(-1))

            def ens(n, bias):
                # J = x/dt so that v += J*dt adds x per step, as in neuride's IF;
                # amplitude dt makes each spike worth 1 downstream.
                bias = np.zeros(n) if bias is None else bias / dt
                return nengo.Ensemble(n, 1, neuron_type=nengo.SpikingRectifiedLinear(amplitude=dt, initial_state={"voltage": nengo.dists.Choice([0.5])}), gain=np.full(n, 1 / dt), bias=bias)

            readout = nengo.Node(size_in=10)
            if kind == "mlp":
                (w1, b1), (w2, b2) = layers
                h = ens(64, b1)
                nengo.Connection(stim, h.neurons, transform=w1, synapse=None)
                nengo.Connection(h.neurons, readout, transform=w2, synapse=None)
                bias_out = b2
            else:
                (c1, _), (c2, _), (fc, _) = layers
                h1 = ens(8 * 64, None)
                conv1 = nengo.Convolution(8, (1, 8, 8), kernel_size=(3, 3), padding="same", channels_last=False, init=c1.transpose(2, 3, 1, 0))
                nengo.Connection(stim, h1.neurons, transform=conv1, synapse=None)
                h2 = ens(16 * 16, None)
                conv2 = nengo.Convolution(16, (8, 4, 4), kernel_size=(3, 3), padding="same", channels_last=False, init=c2.transpose(2, 3, 1, 0))
                mid = nengo.Node(size_in=8 * 16)
                nengo.Connection(h1.neurons, mid, transform=pool_matrix(8, 8, 8), synapse=None)
                nengo.Connection(mid, h2.neurons, transform=conv2, synapse=None)
                nengo.Connection(h2.neurons, readout, transform=fc @ pool_matrix(16, 4, 4), synapse=None)
                bias_out = None
            probe = nengo.Probe(readout, synapse=None)
        with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
            start = time.perf_counter()
            sim.run_steps(steps)
            total += time.perf_counter() - start
            out = sim.data[probe].sum(0) + (0 if bias_out is None else bias_out * steps)
        correct += int(np.argmax(out) == yi)
    return total, correct / len(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--neuride", default=os.environ.get("NEURIDE_BIN", os.path.join(ROOT, "target", "release", "neuride")))
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--nengo-samples", type=int, default=8)
    args = parser.parse_args()
    test = np.load(os.path.join(FIX, "data/digits_test.npz"))
    x, y = test["x"], test["y"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, model in [("mlp", "dl/digits_mlp.onnx"), ("cnn", "dl/digits_cnn.onnx")]:
            layers = convert(args.neuride, model, tmp)
            for batch, samples in [(1, 64), (256, 256)]:
                n_wall, n_acc = run_neuride(args.neuride, model, args.steps, batch, samples)
                t_wall, t_acc = run_snntorch(kind, layers, x[:samples], y[:samples], args.steps, batch)
                g_samples = min(samples, args.nengo_samples)
                g_wall, g_acc = run_nengo(kind, layers, x[:g_samples], y[:g_samples], args.steps)
                rate = lambda wall, s: s * args.steps / wall
                rows.append((kind, batch, rate(n_wall, samples), rate(t_wall, samples), rate(g_wall, g_samples), n_acc, t_acc, g_acc, samples, g_samples))
    print(f"| net | batch | neuride (sample-steps/s) | snnTorch CPU | Nengo ref | neuride / snnTorch | neuride / Nengo | accuracy neuride / snnTorch / Nengo |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, batch, n, t, g, na, ta, ga, samples, gs in rows:
        print(f"| {kind} | {batch} | {n:,.0f} | {t:,.0f} | {g:,.0f} | {n / t:.1f}x | {n / g:.0f}x | {na:.3f} / {ta:.3f} / {ga:.3f} (n={samples}, Nengo n={gs}) |")
    print(f"\n{args.steps} steps; torch threads: ", end="")
    try:
        import torch
        print(torch.get_num_threads(), "; versions: torch", torch.__version__, end="")
        import snntorch, nengo
        print(", snntorch", snntorch.__version__, ", nengo", nengo.__version__)
    except Exception:
        print()


if __name__ == "__main__":
    sys.exit(main())
