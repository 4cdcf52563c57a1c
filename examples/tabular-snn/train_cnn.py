#!/usr/bin/env python3
"""Trains the small ReLU CNN of this example on the gene images and exports
it as cnn.onnx (kept with cnn.provenance.json). Needs torch (CPU is enough,
about a minute); neuride itself never needs torch:

    python3 train_cnn.py            # reads train_images.npz / test_images.npz

The network is conversion-ready: convolutions and the classifier without
biases, ReLU, average pooling (a spiking network has no max).
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
SEED = 18


def load(name):
    data = np.load(HERE / name)
    return torch.from_numpy(data["x"]).float(), torch.from_numpy(data["y"]).long()


def model(classes):
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, classes, bias=False),
    )


def accuracy(net, x, y):
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    x, y = load("train_images.npz")
    x_test, y_test = load("test_images.npz")
    classes = int(y.max()) + 1
    net = model(classes)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    loss = nn.CrossEntropyLoss()
    epochs = 60
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 64):
            batch = order[start : start + 64]
            optimiser.zero_grad()
            loss(net(x[batch]), y[batch]).backward()
            optimiser.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: train {accuracy(net, x, y):.4f} test {accuracy(net, x_test, y_test):.4f}", file=sys.stderr)
    net.eval()
    torch.onnx.export(
        net,
        x[:1],
        HERE / "cnn.onnx",
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    provenance = {
        "script": "train_cnn.py",
        "data": "train_images.npz (1,500 rows) / test_images.npz (500 rows), made by `neuride data to-image` (README)",
        "architecture": "conv 1->8 3x3 - relu - avgpool 2 - conv 8->16 3x3 - relu - avgpool 2 - linear 256->4, no biases",
        "training": f"Adam lr 3e-3, weight decay 1e-4, batch 64, {epochs} epochs, seed {SEED}",
        "train_accuracy": accuracy(net, x, y),
        "test_accuracy": accuracy(net, x_test, y_test),
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
    (HERE / "cnn.provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(json.dumps(provenance, indent=2))


if __name__ == "__main__":
    main()
