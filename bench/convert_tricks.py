#!/usr/bin/env python3
"""Accuracy against time steps for each low-latency conversion trick, on the
converted fixtures (docs/snn.md, "Low-latency conversion"). Every row adds
one trick to the one above it; QCFS rows fit λ to each T separately.

    baseline     max normalisation, membrane starts at 0, one spike a step (Diehl 2015)
    +percentile  λ = 99.9th percentile (Rueckauer 2017)
    +half        membrane starts at half the threshold
    +burst       as many spikes a step as the membrane holds (no cap)
    +signed      signed spikes: a neuron takes back spikes it over-emitted
    qcfs         λ fitted to T as a quantised clip (QCFS-style), half start, one spike a step
    qcfs+burst   the same with bursts and signed spikes

Accuracy after 8, 16, 32 and 64 steps, current encoding, membrane readout,
all test samples (`--limit` to use fewer). Prints a markdown table per
model. Needs the release binary (cargo build --release -p neuride).

usage: python3 bench/convert_tricks.py [--neuride target/release/neuride] [--limit N] [--models ...]
"""
import argparse
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
STEPS = [8, 16, 32, 64]

MODELS = {
    "digits16_resnet": ("dl/digits16_resnet.onnx", "data/digits16_test.npz", "data/digits16_calib.npz"),
    "digits16_fire": ("dl/digits16_fire.onnx", "data/digits16_test.npz", "data/digits16_calib.npz"),
    "digits16_mobile": ("dl/digits16_mobile.onnx", "data/digits16_test.npz", "data/digits16_calib.npz"),
    "digits_cnn": ("dl/digits_cnn.onnx", "data/digits_test.npz", "data/digits_calib.npz"),
}

# (row, flags, fitted to T)
TRICKS = [
    ("baseline", ["--normalize", "max", "--initial-membrane", "0", "--max-spikes", "1"], False),
    ("+percentile", ["--normalize", "percentile:99.9", "--initial-membrane", "0", "--max-spikes", "1"], False),
    ("+half", ["--normalize", "percentile:99.9", "--initial-membrane", "0.5", "--max-spikes", "1"], False),
    ("+burst", ["--normalize", "percentile:99.9", "--initial-membrane", "0.5"], False),
    ("+signed", ["--normalize", "percentile:99.9", "--initial-membrane", "0.5", "--signed"], False),
    ("qcfs", ["--initial-membrane", "0.5", "--max-spikes", "1"], True),
    ("qcfs+burst+signed", ["--initial-membrane", "0.5", "--signed"], True),
]


def simulate(neuride, model, data, calib, steps, flags, limit):
    cmd = [neuride, "simulate", os.path.join(FIX, model), "--data", os.path.join(FIX, data),
           "--calib", os.path.join(FIX, calib), "--steps", str(steps), "--batch", "64", "--format", "json"]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd + flags, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--neuride", default=os.path.join(ROOT, "target", "release", "neuride"))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    for name in args.models:
        model, data, calib = MODELS[name]
        ann = None
        rows = []
        for row, flags, fitted in TRICKS:
            if fitted:
                accs = []
                for t in STEPS:
                    r = simulate(args.neuride, model, data, calib, t, flags + ["--normalize", f"qcfs:{t}"], args.limit)
                    accs.append(r["accuracy"])
                    ann = r["ann_accuracy"]
            else:
                r = simulate(args.neuride, model, data, calib, max(STEPS), flags, args.limit)
                accs = [r["accuracy_per_step"][t - 1] for t in STEPS]
                ann = r["ann_accuracy"]
            rows.append((row, accs))
        print(f"\n{name} (ANN {ann * 100:.2f} %)\n")
        print("| trick | " + " | ".join(f"T={t}" for t in STEPS) + " |")
        print("|---" * (len(STEPS) + 1) + "|")
        for row, accs in rows:
            print(f"| {row} | " + " | ".join(f"{a * 100:.2f}" for a in accs) + " |")


if __name__ == "__main__":
    main()
