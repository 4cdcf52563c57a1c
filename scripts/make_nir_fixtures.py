"""Makes tests/fixtures/nir/: NIR files written by snnTorch's `export_to_nir`
(a feed-forward MLP and CNN, and a recurrent RLeaky network)
and Norse's `to_nir`, and the spike counts each tool itself computes for
them, so the tests check that neuride simulates another tool's NIR file with
that tool's numbers.

Needs torch, snntorch 1.0, norse 1.1, nir 1.0.8, nirtorch and numpy (a heavy
environment: run it in a venv of your own, never in CI):

    python -m venv /tmp/nir-fixtures && /tmp/nir-fixtures/bin/pip install \
        torch snntorch==1.0.0 norse==1.1.0 nir==1.0.8 nirtorch numpy
    /tmp/nir-fixtures/bin/python scripts/make_nir_fixtures.py

Inputs are the first 40 test images of tests/fixtures/data/digits_test.npz
(8x8 digits in [0, 1]), held as a constant input current for every step,
which is neuride's `--encode current`. The networks are initialised from a
fixed seed and not trained: the test is about equal spikes, not accuracy.
Leaky neurons use `reset_mechanism="zero"`, the reset NIR's LIF states
(`v <- v_reset` after a spike); snnTorch's exporter writes the step as
dt = 1e-4 s, so neuride simulates them with `--dt-ms 0.1`.

Norse 1.1's `to_nir` writes `tau = dt / tau_mem_inv` (not `1 / tau_mem_inv`,
which its own `from_nir` reads back): its LIFBoxCell's Euler step
`v += dt * tau_mem_inv * (x + v_leak - v)` is NIR's LIF stepped at
dt = (1 ms)^2 = 1 us, which is how the tests simulate it (docs/nir.md).
Its LIFCell is written as a CubaLIF with w_in = 1, while the cell adds its
input to the current unscaled: the file as written is what Norse's own
`from_nir` runs (its counts are `counts`), and the cell's own counts
(`counts_lifcell`) are that CubaLIF with w_in = tau_syn / dt.
"""

from pathlib import Path

import nir
import numpy as np
import snntorch as snn
import norse.torch as norse
import torch
from norse.torch.functional.lif import LIFParameters
from norse.torch.functional.lif_box import LIFBoxParameters
from norse.torch.utils.export_nir import to_nir
from snntorch import utils
from snntorch.export_nir import export_to_nir

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "nir"
STEPS = 40
SAMPLES = 40


def leaky(count, beta, output=False):
    # Per-neuron parameters, so that the exported nodes carry their shapes.
    return snn.Leaky(
        beta=beta * torch.ones(count),
        threshold=torch.ones(count),
        init_hidden=True,
        reset_mechanism="zero",
        output=output,
    )


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 32)
        self.lif1 = leaky(32, 0.9)
        self.fc2 = torch.nn.Linear(32, 10)
        self.lif2 = leaky(10, 0.8, output=True)

    def forward(self, x):
        return self.lif2(self.fc2(self.lif1(self.fc1(x))))


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.pool = torch.nn.AvgPool2d(2)
        self.lif1 = leaky(4 * 4 * 4, 0.9)
        self.flat = torch.nn.Flatten()
        self.fc = torch.nn.Linear(64, 10)
        self.lif2 = leaky(10, 0.85, output=True)

    def forward(self, x):
        return self.lif2(self.fc(self.lif1(self.flat(self.pool(self.conv1(x))))))


class Rnn(torch.nn.Module):
    """A recurrent layer (snnTorch's RLeaky: a Linear from its spikes back to
    its input, exported as an Affine on a cycle) and a Leaky output."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 32)
        self.r1 = snn.RLeaky(
            beta=0.9 * torch.ones(32),
            threshold=torch.ones(32),
            linear_features=32,
            init_hidden=True,
            reset_mechanism="zero",
        )
        self.fc2 = torch.nn.Linear(32, 10)
        self.lif2 = leaky(10, 0.8, output=True)

    def forward(self, x):
        return self.lif2(self.fc2(self.r1(self.fc1(x))))


def nir_counts(path, x):
    """Output spikes of the recurrent file as NIR's equations give them at
    dt = 0.1 ms (forward Euler, coefficients in f64 rounded once to f32, as
    docs/nir.md says), the recurrent edge carrying the previous step's value
    and the recurrent Affine giving its bias at rest. snnTorch's own RLeaky
    with zero reset differs: `base - reset * base` drops the whole step after
    a spike (input included), which NIR's LIF does not say."""
    g = nir.read(str(path))
    n, f, dt = g.nodes, np.float32, 1e-4

    def lif(node):
        k = dt / node.tau.astype(np.float64)
        return f(1) * (1 - k).astype(f), (k * node.r).astype(f), node.v_threshold.astype(f), node.v_reset.astype(f)

    d1, g1, th1, vr1 = lif(n["r1.lif"])
    d2, g2, th2, vr2 = lif(n["lif2"])
    rec = lambda s: s @ n["r1.w_rec"].weight.T + n["r1.w_rec"].bias
    v1 = np.zeros((x.shape[0], 32), f)
    v2 = np.zeros((x.shape[0], 10), f)
    back = rec(np.zeros((x.shape[0], 32), f))
    total = np.zeros((x.shape[0], 10))
    for _ in range(STEPS):
        v1 = d1 * v1 + g1 * ((x @ n["fc1"].weight.T + n["fc1"].bias) + back)
        s1 = (v1 > th1).astype(f)
        v1 = np.where(s1 > 0, vr1, v1)
        back = rec(s1)
        v2 = d2 * v2 + g2 * (s1 @ n["fc2"].weight.T + n["fc2"].bias)
        s2 = (v2 > th2).astype(f)
        v2 = np.where(s2 > 0, vr2, v2)
        total += s2
    return total.astype(np.float32)


def counts(net, x):
    """Output spikes per sample and class over STEPS steps of constant input."""
    utils.reset(net)
    total = torch.zeros(x.shape[0], 10)
    with torch.no_grad():
        for _ in range(STEPS):
            spikes, _ = net(x)
            total += spikes
    return total.numpy().astype(np.float32)


def make(name, net, x, example):
    with torch.no_grad():
        # Stronger weights than PyTorch's default initialisation, so that the
        # first layer fires on most images.
        for parameter in net.parameters():
            if parameter.dim() > 1:
                parameter.mul_(3.0)
    graph = export_to_nir(net, example, ignore_dims=[0])
    nir.write(OUT / f"{name}.nir", graph)
    expected = counts(net, torch.from_numpy(x))
    arrays = dict(x=x, y=expected.argmax(axis=1).astype(np.int64), counts=expected)
    if isinstance(net, Rnn):
        by_nir = nir_counts(OUT / f"{name}.nir", x)
        arrays.update(y_nir=by_nir.argmax(axis=1).astype(np.int64), counts_nir=by_nir)
        print("  classes as snnTorch's:", (arrays["y_nir"] == arrays["y"]).mean())
    np.savez(OUT / f"{name}_io.npz", **arrays)
    print(name, {k: type(n).__name__ for k, n in graph.nodes.items()})
    print("  spikes per sample:", expected.sum(axis=1)[:10], "...")


def norse_cell(count):
    # Per-neuron parameters: nir.write cannot compress Norse's scalar ones.
    return norse.LIFBoxCell(
        LIFBoxParameters(
            tau_mem_inv=torch.full((count,), 100.0),
            v_leak=torch.zeros(count),
            v_th=torch.ones(count),
            v_reset=torch.zeros(count),
        )
    )


def norse_run(net, x):
    """Norse's spike counts of `net` (output spikes summed over STEPS)."""
    state, total = None, torch.zeros(x.shape[0], 10)
    with torch.no_grad():
        for _ in range(STEPS):
            spikes, state = net(torch.from_numpy(x), state)
            total += spikes
    return total.numpy().astype(np.float32)


def norse_mlp(name, cell, seed, gain):
    """A 64-32-10 Norse MLP of `cell` layers with its weights times `gain`,
    written by Norse's `to_nir` as OUT/name.nir; returns (net, graph)."""
    torch.manual_seed(seed)
    net = norse.SequentialState(torch.nn.Linear(64, 32), cell(32), torch.nn.Linear(32, 10), cell(10))
    with torch.no_grad():
        for parameter in net.parameters():
            if parameter.dim() > 1:
                parameter.mul_(gain)
    graph = to_nir(net, torch.randn(1, 64))
    nir.write(OUT / f"{name}.nir", graph)
    return net, graph


def make_norse(x):
    net, graph = norse_mlp("norse_mlp", norse_cell, 2, 20.0)
    expected = norse_run(net, x)
    np.savez(
        OUT / "norse_mlp_io.npz",
        x=x,
        y=expected.argmax(axis=1).astype(np.int64),
        counts=expected,
    )
    print("norse_mlp", {k: type(n).__name__ for k, n in graph.nodes.items()})
    print("  spikes per sample:", expected.sum(axis=1)[:10], "...")


def make_norse_cuba(x):
    """Norse's LIFCell (a current-based LIF) through its `to_nir`."""

    def cell(count):
        return norse.LIFCell(
            LIFParameters(
                tau_syn_inv=torch.full((count,), 200.0),
                tau_mem_inv=torch.full((count,), 100.0),
                v_leak=torch.zeros(count),
                v_th=torch.ones(count),
                v_reset=torch.zeros(count),
            )
        )

    net, graph = norse_mlp("norse_cuba", cell, 4, 15.0)
    # What Norse itself runs for the file: its importer, at the step its
    # exporter wrote the time constants for (1 us, see the module's doc).
    imported = norse_run(norse.from_nir(graph, dt=1e-6), x)
    own = norse_run(net, x)
    np.savez(
        OUT / "norse_cuba_io.npz",
        x=x,
        y=imported.argmax(axis=1).astype(np.int64),
        counts=imported,
        counts_lifcell=own,
    )
    print("norse_cuba", {k: type(n).__name__ for k, n in graph.nodes.items()})
    print("  spikes, Norse's import:", imported.sum(), "the LIFCell itself:", own.sum())


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    digits = np.load(ROOT / "tests" / "fixtures" / "data" / "digits_test.npz")
    images = digits["x"][:SAMPLES].astype(np.float32)
    torch.manual_seed(0)
    make("snntorch_mlp", Mlp(), images.reshape(SAMPLES, 64), torch.randn(1, 64))
    torch.manual_seed(1)
    make("snntorch_cnn", Cnn(), images, torch.randn(1, 1, 8, 8))
    make_norse(images.reshape(SAMPLES, 64))
    make_norse_cuba(images.reshape(SAMPLES, 64))
    torch.manual_seed(3)
    make("snntorch_rnn", Rnn(), images.reshape(SAMPLES, 64), torch.randn(1, 64))


if __name__ == "__main__":
    main()
