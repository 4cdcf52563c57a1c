#!/usr/bin/env python3
"""Builds ONNX graphs with the structure of the seven torchvision
architectures of issue 14 (resnet18, vgg11_bn, squeezenet1_1, densenet121,
mobilenet_v2, googlenet, alexnet) as PyTorch's legacy exporter writes them
(opset 17, eval mode: each Conv's BatchNorm folded into it, Dropout gone,
adaptive pools as GlobalAveragePool or as the fixed AveragePool they are at
the input size), with random weights, channels divided by WIDTH and fewer
classes, using only numpy and the onnx package. So CI converts and
simulates every architecture without torch; `--compare OPS.json` checks
the op histograms against real exports (scripts/export_torchvision.py).

Also written, to exercise what older and newer exporters do:
- resnet18_external.onnx (+ resnet18_external.weights): the same graph with
  every initializer of 64 values or more stored as external data;
- alexnet_folded.onnx: alexnet with the first conv's weight computed in the
  graph (Constant + Reshape of a flat tensor, ConstantOfShape + Add for its
  bias) and the flatten as Shape/Gather/Unsqueeze/Concat/Reshape, as older
  exporters wrote them.
- data.npz: `x` [N, 3, R, R] (seeded uniform images) for calibration and runs.

usage: python3 scripts/make_arch_graphs.py OUT [--width 8] [--classes 10]
       [--samples 4] [--compare OPS.json]
"""
import argparse
import json
import os
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Graph:
    """A graph under construction; names follow the exporter's scheme."""

    def __init__(self, name, channels, size, seed):
        self.name = name
        self.nodes, self.inits = [], []
        self.rng = np.random.default_rng(seed)
        self.input = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", channels, size, size])

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, scope, **attrs):
        out = f"{scope}/{op}_output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{scope}/{op}", **attrs))
        return out

    def conv(self, x, cin, cout, k, scope, stride=1, pad=0, groups=1):
        """A Conv with its BatchNorm folded in (weight and bias)."""
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k))
        b = self.rng.normal(0, 0.05, cout)
        return self.node("Conv", [x, self.const(f"{scope}.weight", w), self.const(f"{scope}.bias", b)], scope,
                         kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=groups,
                         dilations=[1, 1])

    def bn(self, x, c, scope):
        """A BatchNormalization the exporter cannot fold (no Conv before it)."""
        return self.node("BatchNormalization",
                         [x, self.const(f"{scope}.weight", self.rng.uniform(0.5, 1.5, c)),
                          self.const(f"{scope}.bias", self.rng.normal(0, 0.1, c)),
                          self.const(f"{scope}.running_mean", self.rng.normal(0, 0.1, c)),
                          self.const(f"{scope}.running_var", self.rng.uniform(0.5, 1.5, c))],
                         scope, epsilon=1e-5, momentum=0.9)

    def relu(self, x, scope):
        return self.node("Relu", [x], scope)

    def relu6(self, x, scope):
        lo = self.node("Constant", [], f"{scope}/min", value=numpy_helper.from_array(np.array(0, np.float32)))
        hi = self.node("Constant", [], f"{scope}/max", value=numpy_helper.from_array(np.array(6, np.float32)))
        return self.node("Clip", [x, lo, hi], scope)

    def maxpool(self, x, k, s, scope, pad=0, ceil=False):
        return self.node("MaxPool", [x], scope, kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4,
                         ceil_mode=int(ceil), dilations=[1, 1])

    def avgpool(self, x, k, s, scope):
        return self.node("AveragePool", [x], scope, kernel_shape=[k, k], strides=[s, s], pads=[0] * 4,
                         ceil_mode=0, count_include_pad=1)

    def gap(self, x, scope):
        return self.node("GlobalAveragePool", [x], scope)

    def flatten(self, x, scope):
        return self.node("Flatten", [x], scope, axis=1)

    def add(self, a, b, scope):
        return self.node("Add", [a, b], scope)

    def concat(self, xs, scope):
        return self.node("Concat", xs, scope, axis=1)

    def gemm(self, x, fin, fout, scope):
        w = self.rng.normal(0, np.sqrt(1.0 / fin), (fout, fin))
        return self.node("Gemm", [x, self.const(f"{scope}.weight", w),
                                  self.const(f"{scope}.bias", self.rng.normal(0, 0.05, fout))],
                         scope, alpha=1.0, beta=1.0, transB=1)

    def model(self, out):
        output = helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", None])
        graph = helper.make_graph(self.nodes, self.name, [self.input], [output], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="neuride make_arch_graphs.py")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def ch(c, width):
    return max(2, c // width)


def resnet18(w, classes, size):
    g = Graph("resnet18", 3, size, 18)
    x = g.relu(g.conv("x", 3, ch(64, w), 7, "/conv1", 2, 3), "/relu")
    x = g.maxpool(x, 3, 2, "/maxpool", pad=1)
    cin = ch(64, w)
    for layer, c in enumerate([64, 128, 256, 512], 1):
        for block in range(2):
            scope = f"/layer{layer}/layer{layer}.{block}"
            stride = 2 if layer > 1 and block == 0 else 1
            out = g.relu(g.conv(x, cin, ch(c, w), 3, f"{scope}/conv1", stride, 1), f"{scope}/relu")
            out = g.conv(out, ch(c, w), ch(c, w), 3, f"{scope}/conv2", 1, 1)
            shortcut = x
            if stride != 1 or cin != ch(c, w):
                shortcut = g.conv(x, cin, ch(c, w), 1, f"{scope}/downsample/downsample.0", stride, 0)
            x = g.relu(g.add(out, shortcut, scope), f"{scope}/relu_1")
            cin = ch(c, w)
    x = g.flatten(g.gap(x, "/avgpool"), "")
    return g.model(g.gemm(x, cin, classes, "/fc"))


def vgg11_bn(w, classes, size):
    g = Graph("vgg11_bn", 3, size, 11)
    x, cin, k = "x", 3, 0
    for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if v == "M":
            x = g.maxpool(x, 2, 2, f"/features/features.{k}")
            k += 1
            continue
        x = g.conv(x, cin, ch(v, w), 3, f"/features/features.{k}", 1, 1)
        x = g.relu(x, f"/features/features.{k + 2}")
        cin, k = ch(v, w), k + 3
    side = size // 32
    # adaptive_avg_pool2d((7, 7)) on a 7x7 map: an identity AveragePool at 224.
    x = g.avgpool(x, side // 7 if side >= 7 else 1, side // 7 if side >= 7 else 1, "/avgpool")
    x = g.flatten(x, "")
    hidden = max(16, 4096 // (w * 8))
    x = g.relu(g.gemm(x, cin * 7 * 7 if side >= 7 else cin * side * side, hidden, "/classifier/classifier.0"),
               "/classifier/classifier.1")
    x = g.relu(g.gemm(x, hidden, hidden, "/classifier/classifier.3"), "/classifier/classifier.4")
    return g.model(g.gemm(x, hidden, classes, "/classifier/classifier.6"))


def squeezenet1_1(w, classes, size):
    g = Graph("squeezenet1_1", 3, size, 111)
    x = g.relu(g.conv("x", 3, ch(64, w), 3, "/features/features.0", 2, 0), "/features/features.1")
    cin = ch(64, w)
    plan = ["M", (16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192), (48, 192), (64, 256), (64, 256)]
    for k, v in enumerate(plan, 2):
        scope = f"/features/features.{k}"
        if v == "M":
            x = g.maxpool(x, 3, 2, scope, ceil=True)
            continue
        s, e = ch(v[0], w), ch(v[1], w)
        sq = g.relu(g.conv(x, cin, s, 1, f"{scope}/squeeze"), f"{scope}/squeeze_activation")
        e1 = g.relu(g.conv(sq, s, e, 1, f"{scope}/expand1x1"), f"{scope}/expand1x1_activation")
        e3 = g.relu(g.conv(sq, s, e, 3, f"{scope}/expand3x3", 1, 1), f"{scope}/expand3x3_activation")
        x, cin = g.concat([e1, e3], scope), 2 * e
    x = g.relu(g.conv(x, cin, classes, 1, "/classifier/classifier.1"), "/classifier/classifier.2")
    return g.model(g.flatten(g.gap(x, "/classifier/classifier.3"), ""))


def densenet121(w, classes, size):
    g = Graph("densenet121", 3, size, 121)
    growth, c = max(2, 32 // w), ch(64, w)
    x = g.relu(g.conv("x", 3, c, 7, "/features/conv0", 2, 3), "/features/relu0")
    x = g.maxpool(x, 3, 2, "/features/pool0", pad=1)
    for block, layers in enumerate([6, 12, 24, 16], 1):
        features = [x]
        for layer in range(1, layers + 1):
            scope = f"/features/denseblock{block}/denselayer{layer}"
            cat = features[0] if len(features) == 1 else g.concat(features, scope)
            h = g.relu(g.bn(cat, c + (layer - 1) * growth, f"{scope}/norm1"), f"{scope}/relu1")
            h = g.relu(g.conv(h, c + (layer - 1) * growth, 4 * growth, 1, f"{scope}/conv1"), f"{scope}/relu2")
            features.append(g.conv(h, 4 * growth, growth, 3, f"{scope}/conv2", 1, 1))
        x = g.concat(features, f"/features/denseblock{block}")
        c = c + layers * growth
        if block < 4:
            scope = f"/features/transition{block}"
            x = g.relu(g.bn(x, c, f"{scope}/norm"), f"{scope}/relu")
            x = g.avgpool(g.conv(x, c, c // 2, 1, f"{scope}/conv"), 2, 2, f"{scope}/pool")
            c //= 2
    x = g.relu(g.bn(x, c, "/features/norm5"), "/Relu")
    x = g.flatten(g.gap(x, "/GlobalAveragePool"), "")
    return g.model(g.gemm(x, c, classes, "/classifier"))


def mobilenet_v2(w, classes, size):
    g = Graph("mobilenet_v2", 3, size, 2)
    cin = ch(32, w)
    x = g.relu6(g.conv("x", 3, cin, 3, "/features/features.0/features.0.0", 2, 1), "/features/features.0/features.0.2")
    k = 1
    for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                       [6, 320, 1, 1]]:
        for i in range(n):
            scope = f"/features/features.{k}/conv"
            stride = s if i == 0 else 1
            hidden, h, j = cin * t, x, 0
            if t != 1:
                h = g.relu6(g.conv(h, cin, hidden, 1, f"{scope}/conv.0/conv.0.0"), f"{scope}/conv.0/conv.0.2")
                j = 1
            h = g.relu6(g.conv(h, hidden, hidden, 3, f"{scope}/conv.{j}/conv.{j}.0", stride, 1, hidden),
                        f"{scope}/conv.{j}/conv.{j}.2")
            h = g.conv(h, hidden, ch(c, w), 1, f"{scope}/conv.{j + 1}")
            x = g.add(x, h, f"/features/features.{k}") if stride == 1 and cin == ch(c, w) else h
            cin, k = ch(c, w), k + 1
    x = g.relu6(g.conv(x, cin, ch(1280, w), 1, f"/features/features.{k}/features.{k}.0"),
                f"/features/features.{k}/features.{k}.2")
    x = g.flatten(g.gap(x, "/GlobalAveragePool"), "")
    return g.model(g.gemm(x, ch(1280, w), classes, "/classifier/classifier.1"))


def googlenet(w, classes, size):
    g = Graph("googlenet", 3, size, 7)

    def basic(x, cin, cout, k, scope, stride=1, pad=0):
        return g.relu(g.conv(x, cin, cout, k, f"{scope}/conv", stride, pad), f"{scope}/Relu")

    x = basic("x", 3, ch(64, w), 7, "/conv1", 2, 3)
    x = g.maxpool(x, 3, 2, "/maxpool1", ceil=True)
    x = basic(x, ch(64, w), ch(64, w), 1, "/conv2")
    x = basic(x, ch(64, w), ch(192, w), 3, "/conv3", 1, 1)
    x = g.maxpool(x, 3, 2, "/maxpool2", ceil=True)
    cin = ch(192, w)
    plan = [("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64), "maxpool3",
            ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64), ("4c", 128, 128, 256, 24, 64, 64),
            ("4d", 112, 144, 288, 32, 64, 64), ("4e", 256, 160, 320, 32, 128, 128), "maxpool4",
            ("5a", 256, 160, 320, 32, 128, 128), ("5b", 384, 192, 384, 48, 128, 128)]
    for v in plan:
        if v == "maxpool3":
            x = g.maxpool(x, 3, 2, "/maxpool3", ceil=True)
            continue
        if v == "maxpool4":
            x = g.maxpool(x, 2, 2, "/maxpool4", ceil=True)
            continue
        name, b1, r3, b3, r5, b5, pp = v
        scope = f"/inception{name}"
        o1 = basic(x, cin, ch(b1, w), 1, f"{scope}/branch1")
        o2 = basic(basic(x, cin, ch(r3, w), 1, f"{scope}/branch2/branch2.0"), ch(r3, w), ch(b3, w), 3,
                   f"{scope}/branch2/branch2.1", 1, 1)
        # torchvision keeps a 3x3 where the paper has a 5x5.
        o3 = basic(basic(x, cin, ch(r5, w), 1, f"{scope}/branch3/branch3.0"), ch(r5, w), ch(b5, w), 3,
                   f"{scope}/branch3/branch3.1", 1, 1)
        pooled = g.maxpool(x, 3, 1, f"{scope}/branch4/branch4.0", pad=1, ceil=True)
        o4 = basic(pooled, cin, ch(pp, w), 1, f"{scope}/branch4/branch4.1")
        x = g.concat([o1, o2, o3, o4], scope)
        cin = ch(b1, w) + ch(b3, w) + ch(b5, w) + ch(pp, w)
    x = g.flatten(g.gap(x, "/avgpool"), "")
    return g.model(g.gemm(x, cin, classes, "/fc"))


def alexnet(w, classes, size):
    g = Graph("alexnet", 3, size, 99)
    plan = [(64, 11, 4, 2), "M", (192, 5, 1, 2), "M", (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1), "M"]
    x, cin, k = "x", 3, 0
    for v in plan:
        if v == "M":
            x = g.maxpool(x, 3, 2, f"/features/features.{k}")
            k += 1
            continue
        c, kernel, stride, pad = v
        x = g.relu(g.conv(x, cin, ch(c, w), kernel, f"/features/features.{k}", stride, pad),
                   f"/features/features.{k + 1}")
        cin, k = ch(c, w), k + 2
    # adaptive_avg_pool2d((6, 6)) on a 6x6 map: an identity AveragePool at 224.
    x = g.flatten(g.avgpool(x, 1, 1, "/avgpool"), "")
    hidden = max(16, 4096 // (w * 8))
    x = g.relu(g.gemm(x, cin * 36, hidden, "/classifier/classifier.1"), "/classifier/classifier.2")
    x = g.relu(g.gemm(x, hidden, hidden, "/classifier/classifier.4"), "/classifier/classifier.5")
    return g.model(g.gemm(x, hidden, classes, "/classifier/classifier.6"))


# (builder, input size): vgg and alexnet need 224 for their adaptive pools to be
# the identity the real export has; the others end in a global pool.
ARCHITECTURES = {
    "resnet18": (resnet18, 64),
    "vgg11_bn": (vgg11_bn, 224),
    "squeezenet1_1": (squeezenet1_1, 64),
    "densenet121": (densenet121, 64),
    "mobilenet_v2": (mobilenet_v2, 64),
    "googlenet": (googlenet, 64),
    "alexnet": (alexnet, 224),
}


def externalised(model, out_dir, stem):
    """The model with initializers of 64+ values in STEM.weights."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    location = f"{stem}.weights"
    with open(os.path.join(out_dir, location), "wb") as f:
        for t in model.graph.initializer:
            data = numpy_helper.to_array(t)
            if data.size < 64:
                continue
            offset = f.tell()
            raw = data.astype(np.float32).tobytes()
            f.write(raw)
            t.ClearField("float_data")
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            for key, value in [("location", location), ("offset", str(offset)), ("length", str(len(raw)))]:
                entry = t.external_data.add()
                entry.key, entry.value = key, value
    return model


def folded(model):
    """Older exporters' style: a weight and bias computed in the graph, the
    flatten as a shape computation."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    conv = next(n for n in graph.node if n.op_type == "Conv")
    weight = next(t for t in graph.initializer if t.name == conv.input[1])
    bias = next(t for t in graph.initializer if t.name == conv.input[2])
    w = numpy_helper.to_array(weight)
    graph.initializer.remove(weight)
    graph.initializer.remove(bias)
    b = numpy_helper.to_array(bias)
    new = [
        helper.make_node("Constant", [], ["w_flat"], value=numpy_helper.from_array(w.reshape(-1), "w_flat")),
        helper.make_node("Constant", [], ["w_shape"], value=numpy_helper.from_array(np.array(w.shape, np.int64))),
        helper.make_node("Reshape", ["w_flat", "w_shape"], [conv.input[1]], name="/weight/Reshape"),
        helper.make_node("Constant", [], ["b_shape"], value=numpy_helper.from_array(np.array(b.shape, np.int64))),
        helper.make_node("ConstantOfShape", ["b_shape"], ["b_zero"], name="/bias/ConstantOfShape",
                         value=numpy_helper.from_array(np.array([0], np.float32))),
        helper.make_node("Constant", [], ["b_values"], value=numpy_helper.from_array(b, "b_values")),
        helper.make_node("Add", ["b_zero", "b_values"], [conv.input[2]], name="/bias/Add"),
    ]
    flatten = next(n for n in graph.node if n.op_type == "Flatten")
    x = flatten.input[0]
    shape_ops = [
        helper.make_node("Shape", [x], ["f_shape"], name="/Shape"),
        helper.make_node("Constant", [], ["f_zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Gather", ["f_shape", "f_zero"], ["f_batch"], name="/Gather", axis=0),
        helper.make_node("Constant", [], ["f_axes"], value=numpy_helper.from_array(np.array([0], np.int64))),
        helper.make_node("Unsqueeze", ["f_batch", "f_axes"], ["f_batch1"], name="/Unsqueeze"),
        helper.make_node("Constant", [], ["f_rest"], value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["f_batch1", "f_rest"], ["f_target"], name="/Concat", axis=0),
        helper.make_node("Reshape", [x, "f_target"], [flatten.output[0]], name="/Reshape"),
    ]
    nodes = new + [n for n in graph.node if n is not flatten]
    position = next(i for i, n in enumerate(nodes) if n.output and n.output[0] == x) + 1
    nodes[position:position] = shape_ops
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def histogram(model):
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--compare", help="ops.json of scripts/export_torchvision.py")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ops = {}
    for name, (build, size) in ARCHITECTURES.items():
        model = build(args.width, args.classes, size)
        onnx.save(model, os.path.join(args.out, f"{name}.onnx"))
        ops[name] = histogram(model)
        if name == "resnet18":
            onnx.save(externalised(model, args.out, "resnet18_external"),
                      os.path.join(args.out, "resnet18_external.onnx"))
        if name == "alexnet":
            onnx.save(folded(model), os.path.join(args.out, "alexnet_folded.onnx"))
    rng = np.random.default_rng(0)
    for size in sorted({size for _, size in ARCHITECTURES.values()}):
        np.savez(os.path.join(args.out, f"data{size}.npz"),
                 x=rng.uniform(0, 1, (args.samples, 3, size, size)).astype(np.float32))
    if args.compare:
        real = json.load(open(args.compare))
        bad = {n: (ops[n], real[n]) for n in ops if n in real and ops[n] != real[n]}
        for name, (mine, theirs) in bad.items():
            print(f"{name}: replica {mine}\n{' ' * len(name)}  export  {theirs}")
        if bad:
            raise SystemExit(1)
        print("op histograms equal:", ", ".join(ops))


if __name__ == "__main__":
    main()
