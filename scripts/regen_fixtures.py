#!/usr/bin/env python3
"""Regenerates tests/fixtures from the public tools listed in
tests/fixtures/README.md. The scikit-learn / skl2onnx / onnxruntime parts run
with what is pip-installed here; the PyTorch, snnTorch and Nengo parts follow
the README's provenance and need `pip install torch snntorch nengo`.

usage: python3 scripts/regen_fixtures.py [--only ml|dl|snn|data|reference]
(from the repository root). Seeds are fixed; retrained networks match the
committed ones in architecture and accuracy, not bit for bit.
"""
import argparse
import json
import os

import numpy as np

FIX = os.path.join("tests", "fixtures")


def save_expected(model_path, feeds, drop=()):
    """Runs onnxruntime and stores input_<name> / output_<name> (ZipMap outputs omitted)."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outs = session.run(None, feeds)
    arrays = {f"input_{k}": v for k, v in feeds.items()}
    for name, value in zip(names, outs):
        if name in drop or isinstance(value, list):
            continue
        arrays[f"output_{name}"] = value
    np.savez(model_path.replace(".onnx", ".expected.npz"), **arrays)


def ml():
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skl2onnx import to_onnx

    os.makedirs(os.path.join(FIX, "ml"), exist_ok=True)

    def export(model, x, name, options=None):
        onx = to_onnx(model, x[:1].astype(np.float32), options=options, target_opset={"": 17, "ai.onnx.ml": 1})
        path = os.path.join(FIX, "ml", name)
        with open(path, "wb") as f:
            f.write(onx.SerializeToString())
        return path

    x, y = load_iris(return_X_y=True)
    logreg = LogisticRegression(max_iter=500).fit(x, y)
    feeds = {"X": x[::15][:10].astype(np.float32)}
    save_expected(export(logreg, x, "iris_logreg.onnx"), feeds)
    save_expected(export(logreg, x, "iris_logreg_nozipmap.onnx", {id(logreg): {"zipmap": False}}), feeds)
    np.savez(os.path.join(FIX, "data", "iris.npz"), x=x.astype(np.float32), y=y.astype(np.int64))

    x, y = load_breast_cancer(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(x, y)
    save_expected(export(rf, x, "breast_cancer_rf.onnx", {id(rf): {"zipmap": False}}), {"X": x[::25][:20].astype(np.float32)})

    x, y = load_wine(return_X_y=True)
    svc = make_pipeline(StandardScaler(), __import__("sklearn.svm", fromlist=["SVC"]).SVC(probability=True, random_state=0)).fit(x, y)
    save_expected(export(svc, x, "wine_svc_pipeline.onnx", {id(svc.steps[-1][1]): {"zipmap": False}}), {"X": x[::8][:20].astype(np.float32)})

    x, y = load_diabetes(return_X_y=True)
    lin = make_pipeline(StandardScaler(), LinearRegression()).fit(x, y)
    save_expected(export(lin, x, "diabetes_linreg.onnx"), {"X": x[::20][:20].astype(np.float32)})

    # k-nearest neighbours: skl2onnx computes the distances in a Scan loop
    # over the training points (control flow with outer-scope values).
    from sklearn.neighbors import KNeighborsClassifier

    x, y = load_iris(return_X_y=True)
    knn = KNeighborsClassifier(n_neighbors=5).fit(x[::2], y[::2])
    save_expected(
        export(knn, x, "iris_knn.onnx", {id(knn): {"zipmap": False}}),
        {"X": x[1::2][:40].astype(np.float32)},
    )


def data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    os.makedirs(os.path.join(FIX, "data"), exist_ok=True)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target.astype(np.int64), test_size=0.25, random_state=0)
    np.savez(os.path.join(FIX, "data", "digits_test.npz"), x=x_test, y=y_test)
    np.savez(os.path.join(FIX, "data", "digits_calib.npz"), x=x_train[:200])
    rng = np.random.default_rng(0)
    spikes = (rng.random((25,) + (x_test.shape[0], 64)) < x_test.reshape(1, -1, 64)).astype(np.uint8)
    np.savez_compressed(os.path.join(FIX, "data", "digits_spikes_T25.npz"), spikes=spikes, y=y_test)
    return x_train, y_train, x_test, y_test


def dl():
    import torch
    from torch import nn

    x_train, y_train, x_test, y_test = data()
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Linear(64, 10, bias=False))
    xt, yt = torch.tensor(x_train), torch.tensor(y_train)
    manifest = json.load(open(os.path.join(FIX, "MANIFEST.json")))
    for name, net in [("digits_mlp", mlp), ("digits_cnn", cnn)]:
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(60):
            for i in range(0, len(xt), 64):
                opt.zero_grad()
                nn.functional.cross_entropy(net(xt[i:i + 64]), yt[i:i + 64]).backward()
                opt.step()
        path = os.path.join(FIX, "dl", f"{name}.onnx")
        torch.onnx.export(net, xt[:1], path, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
        np.savez(path.replace(".onnx", ".npz"), **{k: v.detach().numpy() for k, v in net.state_dict().items()})
        save_expected(path, {"x": x_test[:16]})
        acc = float((net(torch.tensor(x_test)).argmax(1).numpy() == y_test).mean())
        manifest[f"dl/{name}.onnx"]["test_accuracy"] = acc
    json.dump(manifest, open(os.path.join(FIX, "MANIFEST.json"), "w"), indent=2, sort_keys=True)


def snn():
    import snntorch as snn_lib
    import torch
    from torch import nn

    x_train, y_train, x_test, y_test = data()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(64, 64), nn.Linear(64, 10)
            self.lif1 = snn_lib.Leaky(beta=0.9, reset_mechanism="subtract")
            self.lif2 = snn_lib.Leaky(beta=0.9, reset_mechanism="subtract")

        def forward(self, spikes):  # [25, batch, 64]
            mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
            counts = 0
            for t in range(spikes.shape[0]):
                s1, mem1 = self.lif1(self.fc1(spikes[t]), mem1)
                s2, mem2 = self.lif2(self.fc2(s1), mem2)
                counts = counts + s2
            return counts

    torch.manual_seed(0)
    net = Net()
    rng = np.random.default_rng(0)
    rate = lambda x: torch.tensor((rng.random((25,) + (len(x), 64)) < x.reshape(1, -1, 64)).astype(np.float32))
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    for _ in range(20):
        for i in range(0, len(x_train), 64):
            opt.zero_grad()
            nn.functional.cross_entropy(net(rate(x_train[i:i + 64])), torch.tensor(y_train[i:i + 64])).backward()
            opt.step()
    path = os.path.join(FIX, "snn", "digits_snntorch.onnx")
    example = rate(x_test[:4])
    torch.onnx.export(net, example, path, input_names=["spikes"], output_names=["counts"], opset_version=17, dynamo=False)
    np.savez(path.replace(".onnx", ".npz"), **{k: v.detach().numpy() for k, v in net.state_dict().items()})
    save_expected(path, {"spikes": example.numpy()})


def reference():
    import nengo
    import snntorch as snn_lib
    import torch

    os.makedirs(os.path.join(FIX, "reference"), exist_ok=True)
    rng = np.random.default_rng(0)
    lif = nengo.LIF(tau_rc=0.02, tau_ref=0.002)
    J = rng.uniform(0, 3, size=(200, 32))
    v, ref = np.zeros(32), np.zeros(32)
    spikes, voltage = np.zeros_like(J), np.zeros_like(J)
    for t in range(200):
        out = np.zeros(32)
        lif.step(0.001, J[t], out, v, ref)
        spikes[t], voltage[t] = out, v
    np.savez(os.path.join(FIX, "reference", "nengo_lif.npz"), J=J, spikes=spikes, voltage=voltage)
    Jr = np.linspace(-1, 5, 100)
    np.savez(os.path.join(FIX, "reference", "nengo_lifrate.npz"), J=Jr, rates=nengo.LIFRate(tau_rc=0.02, tau_ref=0.002).rates(Jr, 1.0, 0.0))
    max_rates, intercepts = rng.uniform(100, 200, 32), rng.uniform(-0.9, 0.9, 32)
    gain, bias = lif.gain_bias(max_rates, intercepts)
    np.savez(os.path.join(FIX, "reference", "nengo_gain_bias.npz"), max_rates=max_rates, intercepts=intercepts, gain=gain, bias=bias)
    current = torch.tensor(rng.uniform(0, 0.5, size=(100, 16)), dtype=torch.float32)
    result = {"input": current.numpy()}
    for mech in ["subtract", "zero"]:
        neuron = snn_lib.Leaky(beta=0.85, threshold=1.0, reset_mechanism=mech)
        mem = torch.zeros(16)
        s_all, m_all = [], []
        for t in range(100):
            s, mem = neuron(current[t], mem)
            s_all.append(s.detach().numpy())
            m_all.append(mem.detach().numpy())
        result[f"spikes_{mech}"], result[f"mem_{mech}"] = np.array(s_all), np.array(m_all)
    np.savez(os.path.join(FIX, "reference", "snntorch_leaky.npz"), **result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["ml", "dl", "snn", "data", "reference"])
    args = parser.parse_args()
    steps = {"data": data, "ml": ml, "dl": dl, "snn": snn, "reference": reference}
    for name, step in steps.items():
        if args.only in (None, name):
            try:
                step()
                print(f"{name}: regenerated")
            except ImportError as missing:
                print(f"{name}: skipped, {missing.name} is not installed (pip install torch snntorch nengo)")
