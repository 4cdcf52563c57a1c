#!/usr/bin/env python3
"""Exports the seven torchvision architectures of issue 14 (resnet18,
vgg11_bn, squeezenet1_1, densenet121, mobilenet_v2, googlenet, alexnet) with
random weights to ONNX, for the full-size conversion check (docs/snn.md,
"Real architectures"). Nothing it writes is committed: the models are 5 to
244 MB. CI covers the same structures through scripts/make_arch_graphs.py,
which needs no torch.

For each model it writes, into OUT:
- NAME.onnx            the legacy TorchScript exporter (opset 17, dynamo=False)
- NAME.dynamo.onnx     the dynamo exporter (torch.export + onnxscript), its
                       weights as external data in NAME.dynamo.onnx.data
                       (`--dynamo`; what PyTorch writes for large models)
- ops.json             each export's op histogram (node count per op type),
                       compared with the replicas' by make_arch_graphs.py --compare
and data.npz: `x` [N, 3, 224, 224], the digits test images upscaled
bilinearly to 224x224, repeated over 3 channels and normalised with
ImageNet's mean and std (random-weight nets need only plausible inputs).

usage: /tmp/heavy/bin/python scripts/export_torchvision.py OUT [--dynamo] [--samples N]
(torch, torchvision, scikit-learn, onnx).
"""
import argparse
import json
import os
from collections import Counter

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision

MODELS = ["resnet18", "vgg11_bn", "squeezenet1_1", "densenet121", "mobilenet_v2", "googlenet", "alexnet"]


def histogram(path):
    model = onnx.load(path, load_external_data=False)
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def images(samples):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    _, x_test, _, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0)
    x = F.interpolate(torch.tensor(x_test[:samples]), size=(224, 224), mode="bilinear", align_corners=False)
    x = x.clamp(0, 1).repeat(1, 3, 1, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((x - mean) / std).numpy().astype(np.float32), y_test[:samples].astype(np.int64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--dynamo", action="store_true")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--only", nargs="*", default=MODELS)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    x, y = images(args.samples)
    np.savez(os.path.join(args.out, "data.npz"), x=x, y=y)
    ops = {}
    for name in args.only:
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).eval()
        example = torch.tensor(x[:1])
        path = os.path.join(args.out, f"{name}.onnx")
        torch.onnx.export(model, example, path, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                          dynamo=False)
        ops[name] = histogram(path)
        print(name, sum(ops[name].values()), "nodes", ops[name], flush=True)
        if args.dynamo:
            path = os.path.join(args.out, f"{name}.dynamo.onnx")
            program = torch.onnx.export(model, (example,), dynamo=True, input_names=["x"],
                                        output_names=["logits"], dynamic_shapes=({0: "batch"},))
            program.save(path, external_data=True)
            ops[f"{name}.dynamo"] = histogram(path)
            print(f"{name}.dynamo", sum(ops[f"{name}.dynamo"].values()), "nodes", flush=True)
    json.dump(ops, open(os.path.join(args.out, "ops.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
