#!/usr/bin/env python3
"""Generates ONNX backend-test style cases for the deep-learning operators a
neuride inference engine must run: tests/conformance/dl/<case>/model.onnx plus
test_data_set_<k>/input_<i>.pb and output_<i>.pb (TensorProto), where the
outputs are what onnxruntime (CPUExecutionProvider, one thread) returns.
server/crates/infer/tests/conformance.rs runs every case through
neuride_infer::Session and compares with tests/common's tolerance.

Covered: Conv (bias, strides, symmetric/asymmetric pads, dilations, groups,
depthwise, auto_pad, odd channel counts and spatial sizes, 1x1, batches),
Gemm/MatMul, broadcasting arithmetic and comparisons, Cast, activations,
pools, shape ops, BatchNormalization, (Log)Softmax and a few small whole
networks (a CNN with a symbolic batch run at two batch sizes, a residual
block, an MLP and an snnTorch-style unrolled leaky neuron).

All data is float32 (plus bool where an op makes or takes it, and int64
constant indices/shapes); default-domain opset 17, IR version 8. Weights are
scaled like a trained layer's (std 1/sqrt(fan_in)) so sums do not cancel
into values only rounding decides.

Provenance: the onnx, onnxruntime and numpy versions that produced the data
are written to tests/conformance/dl/VERSIONS.txt. Each output is also checked
against onnx's reference evaluator (onnx.reference) and a disagreement is
printed as a warning (the files always hold onnxruntime's result).

Run from the repository root:  python3 scripts/gen_dl_conformance.py
Needs: onnx, onnxruntime, numpy (pip install onnx onnxruntime numpy).
Deterministic (fixed seeds); rerunning rewrites tests/conformance/dl whole.
"""
import os
import platform
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OUT = os.path.join("tests", "conformance", "dl")
OPSET = 17
rng = np.random.default_rng(2024)
FLOAT, INT64, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
N = "N"  # the symbolic batch dimension
CASES = []


def vi(name, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def node(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, name=f"{op.lower()}_{outputs[0]}", **attrs)


def init(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def normal(*shape, scale=1.0):
    return (rng.normal(size=shape) * scale).astype(np.float32)


def weight(*shape):
    """A conv/linear weight [out, in/group, k...] or [in, out] scaled by 1/sqrt(fan_in)."""
    fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else shape[0]
    return normal(*shape, scale=1.0 / np.sqrt(fan_in))


def run_ort(model, feeds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def check_reference(case, model, feeds, results):
    """Warns when onnx's reference evaluator disagrees with onnxruntime."""
    try:
        reference = ReferenceEvaluator(model).run(None, feeds)
    except Exception as error:
        print(f"  {case}: note, onnx reference evaluator cannot run it: {str(error)[:100]}")
        return
    for got, want in zip(reference, results):
        got, want = np.asarray(got), np.asarray(want)
        if got.shape != want.shape:
            print(f"  {case}: WARNING reference shape {got.shape} vs onnxruntime {want.shape}")
        elif want.dtype == np.bool_:
            if not np.array_equal(got, want):
                print(f"  {case}: WARNING reference bools differ from onnxruntime")
        elif not np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-5, atol=1e-6):
            print(f"  {case}: WARNING reference differs from onnxruntime by {np.max(np.abs(got - want)):.3g}")


def save(case, nodes, inputs, outputs, feeds, initializers=()):
    """Writes one case; `feeds` is one dict of inputs or a list of them (one test_data_set each)."""
    assert case not in CASES, f"duplicate case {case}"
    feed_sets = feeds if isinstance(feeds, list) else [feeds]
    graph = helper.make_graph(nodes, case, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="neuride gen_dl_conformance")
    model.ir_version = 8
    # Outputs declared without a shape get the one shape inference finds (strict: a typo fails here).
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    folder = os.path.join(OUT, case)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        all_results = [run_ort(model, f) for f in feed_sets]
    except Exception as error:  # a case onnxruntime itself cannot run is not a conformance case
        print(f"{case}: SKIPPED, onnxruntime cannot run it: {str(error)[:160]}")
        return
    os.makedirs(folder)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for k, (feed, results) in enumerate(zip(feed_sets, all_results)):
        check_reference(case, model, feed, results)
        data = os.path.join(folder, f"test_data_set_{k}")
        os.makedirs(data)
        for i, v in enumerate(inputs):
            write(os.path.join(data, f"input_{i}.pb"), v.name, feed[v.name])
        for i, (v, value) in enumerate(zip(outputs, results)):
            write(os.path.join(data, f"output_{i}.pb"), v.name, value)
    CASES.append(case)
    print(f"{case}: {[list(r.shape) for r in all_results[0]]}" + (f" x{len(feed_sets)} sets" if len(feed_sets) > 1 else ""))


def write(path, name, value):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.asarray(value), name).SerializeToString())


def unary(case, op, shape, x, **attrs):
    """One op, one float input, same-shaped float output (x's concrete shape is fed)."""
    save(case, [node(op, ["X"], ["Y"], **attrs)], [vi("X", shape)], [vi("Y", shape)], {"X": x})


shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)

# ---------------------------------------------------------------- Conv 2D NCHW


def conv(case, x_shape, out_ch, kernel, group=1, bias=True, batch_symbolic=False, extra_batches=(), **attrs):
    n, c, h, w = x_shape
    wt = weight(out_ch, c // group, *kernel)
    inits = [init("W", wt)]
    ins = ["X", "W"]
    if bias:
        inits.append(init("B", normal(out_ch, scale=0.5)))
        ins.append("B")
    x_vi = vi("X", [N if batch_symbolic else n, c, h, w])
    feeds = [{"X": normal(b, c, h, w)} for b in (n, *extra_batches)]
    save(case, [node("Conv", ins, ["Y"], group=group, **attrs)], [x_vi], [vi("Y", None)], feeds, inits)


conv("conv_3to5_k3_nobias", (1, 3, 7, 9), 5, (3, 3), bias=False)
conv("conv_3to5_k3_bias", (1, 3, 7, 9), 5, (3, 3))
conv("conv_3to5_k3_pad1", (1, 3, 7, 9), 5, (3, 3), pads=[1, 1, 1, 1])
conv("conv_stride2", (1, 3, 7, 9), 5, (3, 3), strides=[2, 2])
conv("conv_stride2_pad1", (1, 3, 7, 9), 5, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv("conv_pad_asym", (1, 3, 7, 9), 5, (3, 3), pads=[0, 1, 2, 0])
conv("conv_stride2_pad_asym", (1, 3, 7, 9), 5, (3, 3), strides=[2, 2], pads=[1, 0, 0, 2])
conv("conv_stride_2x1", (1, 3, 7, 9), 4, (3, 3), strides=[2, 1], pads=[1, 1, 1, 1])
conv("conv_dilation2", (1, 3, 7, 9), 5, (3, 3), dilations=[2, 2])
conv("conv_dilation2_pad2_nobias", (1, 3, 7, 9), 5, (3, 3), bias=False, dilations=[2, 2], pads=[2, 2, 2, 2])
conv("conv_dilation2_stride2", (1, 4, 9, 9), 6, (3, 3), dilations=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1])
conv("conv_group2", (1, 6, 7, 9), 4, (3, 3), group=2, pads=[1, 1, 1, 1])
conv("conv_group2_nobias_stride2", (1, 4, 7, 9), 6, (3, 3), group=2, bias=False, strides=[2, 2])
conv("conv_group3_6to9", (1, 6, 5, 5), 9, (3, 3), group=3, pads=[1, 1, 1, 1])
conv("conv_depthwise", (1, 6, 7, 9), 6, (3, 3), group=6, pads=[1, 1, 1, 1])
conv("conv_depthwise_nobias_stride2", (1, 8, 7, 9), 8, (3, 3), group=8, bias=False, strides=[2, 2], pads=[1, 1, 1, 1])
conv("conv_depthwise_multiplier2", (1, 3, 7, 9), 6, (3, 3), group=3, pads=[1, 1, 1, 1])
conv("conv_depthwise_16_batch3", (3, 16, 5, 5), 16, (3, 3), group=16, pads=[1, 1, 1, 1])
conv("conv_auto_pad_same_upper", (1, 3, 7, 9), 5, (3, 3), auto_pad="SAME_UPPER")
conv("conv_auto_pad_same_upper_stride2", (1, 3, 7, 9), 5, (3, 3), auto_pad="SAME_UPPER", strides=[2, 2])
conv("conv_auto_pad_same_lower_stride2", (1, 3, 7, 9), 5, (3, 3), auto_pad="SAME_LOWER", strides=[2, 2])
conv("conv_auto_pad_same_upper_k2", (1, 3, 7, 9), 5, (2, 2), auto_pad="SAME_UPPER")
conv("conv_auto_pad_same_lower_k2", (1, 3, 7, 9), 5, (2, 2), auto_pad="SAME_LOWER")
conv("conv_auto_pad_valid", (1, 3, 7, 9), 5, (3, 3), auto_pad="VALID", strides=[2, 2])
conv("conv_8to16", (1, 8, 6, 6), 16, (3, 3), pads=[1, 1, 1, 1])
conv("conv_16to8_stride2", (1, 16, 6, 6), 8, (3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
conv("conv_6to20", (1, 6, 7, 9), 20, (3, 3), pads=[1, 1, 1, 1])
conv("conv_1to7_k5", (1, 1, 9, 7), 7, (5, 5), pads=[2, 2, 2, 2])
conv("conv_kernel_3x1", (1, 3, 7, 9), 5, (3, 1), pads=[1, 0, 1, 0])
conv("conv_1x1_3to5", (1, 3, 7, 9), 5, (1, 1))
conv("conv_1x1_16to8_nobias", (1, 16, 4, 4), 8, (1, 1), bias=False)
conv("conv_1x1_stride2", (1, 6, 7, 9), 5, (1, 1), strides=[2, 2])
conv("conv_batch3", (3, 3, 7, 9), 5, (3, 3), pads=[1, 1, 1, 1])
conv("conv_batch_symbolic", (3, 3, 7, 9), 5, (3, 3), pads=[1, 1, 1, 1], strides=[2, 2], batch_symbolic=True, extra_batches=(1,))
conv("conv_depthwise_batch_symbolic", (1, 5, 7, 9), 5, (3, 3), group=5, pads=[1, 1, 1, 1], batch_symbolic=True, extra_batches=(3,))

# ---------------------------------------------------------------- Gemm, MatMul


def gemm(case, m, k, n, trans_a=0, trans_b=0, alpha=1.0, beta=1.0, c_shape="none", b_input=False, batch_symbolic=False):
    a_shape = [k, m] if trans_a else [m, k]
    b_shape = [n, k] if trans_b else [k, n]
    attrs = {}
    if trans_a:
        attrs["transA"] = 1
    if trans_b:
        attrs["transB"] = 1
    if alpha != 1.0:
        attrs["alpha"] = alpha
    if beta != 1.0:
        attrs["beta"] = beta
    b = weight(*b_shape)
    inputs = [vi("A", [N, k] if batch_symbolic else a_shape)]
    feeds = {"A": normal(*a_shape)}
    inits = []
    if b_input:
        inputs.append(vi("B", b_shape))
        feeds["B"] = b
    else:
        inits.append(init("B", b))
    names = ["A", "B"]
    if c_shape != "none":
        inits.append(init("C", normal(*c_shape, scale=0.5)))
        names.append("C")
    save(case, [node("Gemm", names, ["Y"], **attrs)], inputs, [vi("Y", [N if batch_symbolic else m, n])], feeds, inits)


gemm("gemm_no_c", 3, 4, 5)
gemm("gemm_c_vector", 3, 4, 5, c_shape=(5,))
gemm("gemm_transA", 3, 4, 5, trans_a=1, c_shape=(5,))
gemm("gemm_transB", 3, 4, 5, trans_b=1, c_shape=(5,))
gemm("gemm_transA_transB", 3, 4, 5, trans_a=1, trans_b=1, c_shape=(3, 5))
gemm("gemm_transA_alpha", 3, 6, 5, trans_a=1, alpha=0.5)
gemm("gemm_alpha_beta_c_vector", 4, 6, 3, alpha=2.0, beta=0.5, c_shape=(3,))
gemm("gemm_transB_alpha_beta_c_row", 4, 6, 7, trans_b=1, alpha=0.25, beta=-1.5, c_shape=(1, 7))
gemm("gemm_c_matrix_beta", 3, 5, 4, beta=2.0, c_shape=(3, 4))
gemm("gemm_c_column", 3, 5, 4, c_shape=(3, 1))
gemm("gemm_c_scalar", 3, 5, 4, alpha=1.5, beta=0.5, c_shape=())
gemm("gemm_b_input_transB", 3, 4, 5, trans_b=1, b_input=True, c_shape=(5,))
gemm("gemm_batch_symbolic_transB", 6, 10, 7, trans_b=1, c_shape=(7,), batch_symbolic=True)
gemm("gemm_17x19x11", 17, 19, 11, trans_b=1, c_shape=(11,))

save("matmul_const_b", [node("MatMul", ["A", "B"], ["Y"])], [vi("A", [N, 6])], [vi("Y", [N, 5])],
     [{"A": normal(4, 6)}, {"A": normal(1, 6)}], [init("B", weight(6, 5))])
save("matmul_two_inputs", [node("MatMul", ["A", "B"], ["Y"])], [vi("A", [3, 6]), vi("B", [6, 5])], [vi("Y", [3, 5])],
     {"A": normal(3, 6), "B": weight(6, 5)})
save("matmul_3d_2d_const", [node("MatMul", ["A", "B"], ["Y"])], [vi("A", [2, 3, 6])], [vi("Y", [2, 3, 5])],
     {"A": normal(2, 3, 6)}, [init("B", weight(6, 5))])
save("matmul_3d_2d_inputs", [node("MatMul", ["A", "B"], ["Y"])], [vi("A", [N, 3, 4]), vi("B", [4, 7])], [vi("Y", [N, 3, 7])],
     {"A": normal(2, 3, 4), "B": weight(4, 7)})
save("matmul_vector_matrix", [node("MatMul", ["A", "B"], ["Y"])], [vi("A", [6])], [vi("Y", [5])],
     {"A": normal(6)}, [init("B", weight(6, 5))])

# ---------------------------------------------------------------- elementwise, broadcasting


def binary(case, op, a, b, out_elem=FLOAT, a_const=False, b_const=False):
    inputs, feeds, inits = [], {}, []
    for name, value, const in [("A", a, a_const), ("B", b, b_const)]:
        if const:
            inits.append(init(name, value))
        else:
            inputs.append(vi(name, list(value.shape), BOOL if value.dtype == np.bool_ else FLOAT))
            feeds[name] = value
    save(case, [node(op, ["A", "B"], ["Y"])], inputs, [vi("Y", None, out_elem)], feeds, inits)


def away_from_zero(*shape):
    v = normal(*shape)
    return (np.sign(v) + (v == 0)) * (np.abs(v) + 0.5)


binary("add_same_shape", "Add", normal(2, 3, 4), normal(2, 3, 4))
binary("add_bcast_last", "Add", normal(2, 3, 4), normal(4))
binary("add_bcast_first_rank_lower", "Add", normal(3, 1), normal(2, 1, 4))
binary("add_scalar_const", "Add", normal(2, 3, 4), np.array(0.75, dtype=np.float32), b_const=True)
binary("sub_bcast_last", "Sub", normal(2, 3, 4), normal(4))
binary("sub_scalar_const_first", "Sub", np.array(1.5, dtype=np.float32), normal(2, 3), a_const=True)
binary("sub_bcast_middle", "Sub", normal(2, 1, 4), normal(3, 1))
binary("mul_bcast_middle", "Mul", normal(2, 1, 4), normal(3, 1))
binary("mul_scalar_const", "Mul", normal(3, 5), np.array(-0.5, dtype=np.float32), b_const=True)
binary("mul_bcast_channel_const", "Mul", normal(2, 3, 4, 5), normal(3, 1, 1), b_const=True)
binary("div_bcast_last", "Div", normal(2, 3, 4), away_from_zero(4))
binary("div_bcast_middle", "Div", normal(2, 1, 4), away_from_zero(3, 1))
binary("div_scalar_const", "Div", normal(3, 5), np.array(4.0, dtype=np.float32), b_const=True)
binary("div_scalar_const_first", "Div", np.array(2.0, dtype=np.float32), away_from_zero(3, 5), a_const=True)
binary("greater_bcast", "Greater", normal(2, 3, 4), normal(4), out_elem=BOOL)
binary("greater_scalar_const", "Greater", normal(3, 5), np.array(0.25, dtype=np.float32), out_elem=BOOL, b_const=True)
binary("less_bcast_middle", "Less", normal(2, 1, 4), normal(3, 1), out_elem=BOOL)
ints = lambda *s: rng.integers(-2, 3, size=s).astype(np.float32)
binary("equal_bcast", "Equal", ints(2, 3, 4), ints(4), out_elem=BOOL)
binary("equal_scalar_const", "Equal", ints(3, 5), np.array(1.0, dtype=np.float32), out_elem=BOOL, b_const=True)
save("cast_bool_to_float", [node("Cast", ["X"], ["Y"], to=FLOAT)], [vi("X", [3, 4], BOOL)], [vi("Y", [3, 4])],
     {"X": rng.random((3, 4)) > 0.5})
xz = normal(3, 4)
xz[0, 1] = xz[2, 3] = 0.0
xz[1, 2] = -0.0
save("cast_float_to_bool", [node("Cast", ["X"], ["Y"], to=BOOL)], [vi("X", [3, 4])], [vi("Y", [3, 4], BOOL)], {"X": xz})
save("greater_cast_float", [node("Greater", ["A", "B"], ["G"]), node("Cast", ["G"], ["Y"], to=FLOAT)],
     [vi("A", [N, 5]), vi("B", [5])], [vi("Y", [N, 5])], {"A": normal(3, 5), "B": normal(5)})

# ---------------------------------------------------------------- activations

X4 = normal(2, 3, 4, scale=2.0)
unary("relu", "Relu", [2, 3, 4], X4)
unary("relu_batch_symbolic", "Relu", [N, 7], normal(5, 7))
unary("leaky_relu_default", "LeakyRelu", [2, 3, 4], X4)
unary("leaky_relu_alpha0p2", "LeakyRelu", [2, 3, 4], X4, alpha=0.2)
unary("sigmoid", "Sigmoid", [2, 3, 4], X4)
unary("sigmoid_wide_range", "Sigmoid", [3, 7], np.linspace(-12, 12, 21, dtype=np.float32).reshape(3, 7))
unary("tanh", "Tanh", [2, 3, 4], X4)
unary("tanh_wide_range", "Tanh", [3, 7], np.linspace(-6, 6, 21, dtype=np.float32).reshape(3, 7))
unary("neg", "Neg", [2, 3, 4], X4)
unary("abs", "Abs", [2, 3, 4], X4)
unary("exp", "Exp", [2, 3, 4], X4)
unary("sqrt", "Sqrt", [2, 3, 4], np.abs(X4) + 0.01)
unary("elu_default", "Elu", [2, 3, 4], X4)
unary("elu_alpha0p5", "Elu", [2, 3, 4], X4, alpha=0.5)
unary("softplus", "Softplus", [2, 3, 4], X4)
unary("hard_sigmoid_default", "HardSigmoid", [2, 3, 4], X4 * 2)
unary("hard_sigmoid_alpha_beta", "HardSigmoid", [2, 3, 4], X4 * 2, alpha=0.25, beta=0.4)
save("clip_min_max", [node("Clip", ["X", "lo", "hi"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4},
     [init("lo", np.array(-1.0, dtype=np.float32)), init("hi", np.array(1.5, dtype=np.float32))])
save("clip_min_only", [node("Clip", ["X", "lo"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4},
     [init("lo", np.array(0.0, dtype=np.float32))])
save("clip_max_only", [node("Clip", ["X", "", "hi"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4},
     [init("hi", np.array(6.0 / 4, dtype=np.float32))])
save("clip_none", [node("Clip", ["X"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4})
save("clip_min_max_graph_inputs", [node("Clip", ["X", "lo", "hi"], ["Y"])],
     [vi("X", [2, 3, 4]), vi("lo", []), vi("hi", [])], [vi("Y", [2, 3, 4])],
     {"X": X4, "lo": np.array(-0.5, dtype=np.float32), "hi": np.array(0.5, dtype=np.float32)})

# ---------------------------------------------------------------- pools

P = normal(1, 3, 7, 9)


def pool(case, op, x, x_shape=None, **attrs):
    shape = x_shape or list(x.shape)
    save(case, [node(op, ["X"], ["Y"], **attrs)], [vi("X", shape)], [vi("Y", None)], x if isinstance(x, list) else {"X": x})


pool("averagepool_k2_s2", "AveragePool", P, kernel_shape=[2, 2], strides=[2, 2])
pool("averagepool_k3_s1", "AveragePool", P, kernel_shape=[3, 3])
pool("averagepool_k3_s2", "AveragePool", P, kernel_shape=[3, 3], strides=[2, 2])
pool("averagepool_k3_pad1_exclude_pad", "AveragePool", P, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
pool("averagepool_k3_pad1_include_pad", "AveragePool", P, kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
pool("averagepool_k3_s2_pad1_include_pad", "AveragePool", P, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
pool("averagepool_k2_s2_pad_asym_exclude_pad", "AveragePool", P, kernel_shape=[2, 2], strides=[2, 2], pads=[1, 0, 0, 1])
pool("averagepool_k2_s2_ceil", "AveragePool", P, kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
pool("averagepool_k3_s2_ceil", "AveragePool", normal(1, 2, 8, 6), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
pool("averagepool_k3_s2_ceil_pad1_include_pad", "AveragePool", normal(1, 2, 8, 6), kernel_shape=[3, 3], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)
pool("averagepool_k3_s2_ceil_pad1_exclude_pad", "AveragePool", normal(1, 2, 8, 6), kernel_shape=[3, 3], strides=[2, 2],
     pads=[1, 1, 1, 1], ceil_mode=1)
pool("averagepool_kernel_2x3_stride_1x2", "AveragePool", P, kernel_shape=[2, 3], strides=[1, 2])
pool("maxpool_k2_s2", "MaxPool", P, kernel_shape=[2, 2], strides=[2, 2])
pool("maxpool_k2_s1", "MaxPool", P, kernel_shape=[2, 2])
pool("maxpool_k3_s2", "MaxPool", P, kernel_shape=[3, 3], strides=[2, 2])
pool("maxpool_k3_s1_pad1", "MaxPool", P, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
pool("maxpool_k3_s2_pad1", "MaxPool", P, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
pool("maxpool_k2_s2_pad_asym", "MaxPool", P, kernel_shape=[2, 2], strides=[2, 2], pads=[0, 1, 1, 0])
pool("maxpool_k2_s2_ceil", "MaxPool", P, kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
pool("maxpool_k3_s2_ceil", "MaxPool", normal(1, 2, 8, 6), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
pool("maxpool_k3_s2_ceil_pad1", "MaxPool", normal(1, 2, 8, 6), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
pool("maxpool_kernel_2x3_stride_1x2", "MaxPool", P, kernel_shape=[2, 3], strides=[1, 2])
pool("maxpool_batch_symbolic", "MaxPool", [{"X": normal(2, 3, 6, 6)}, {"X": normal(1, 3, 6, 6)}], x_shape=[N, 3, 6, 6],
     kernel_shape=[2, 2], strides=[2, 2])
pool("global_average_pool", "GlobalAveragePool", P)
pool("global_average_pool_batch_symbolic", "GlobalAveragePool", [{"X": normal(3, 5, 4, 3)}, {"X": normal(1, 5, 4, 3)}],
     x_shape=[N, 5, 4, 3])
pool("global_max_pool", "GlobalMaxPool", P)
pool("global_max_pool_batch_symbolic", "GlobalMaxPool", [{"X": normal(3, 5, 4, 3)}, {"X": normal(1, 5, 4, 3)}],
     x_shape=[N, 5, 4, 3])

# ---------------------------------------------------------------- shape ops

S = normal(2, 3, 4, 5)
for axis in [0, 1, 2]:
    save(f"flatten_axis{axis}", [node("Flatten", ["X"], ["Y"], axis=axis)], [vi("X", [2, 3, 4, 5])], [vi("Y", None)], {"X": S})
save("flatten_batch_symbolic", [node("Flatten", ["X"], ["Y"])], [vi("X", [N, 3, 2, 2])], [vi("Y", [N, 12])],
     [{"X": normal(2, 3, 2, 2)}, {"X": normal(1, 3, 2, 2)}])
for case, target in [("reshape_zero_minus1", [0, -1]), ("reshape_minus1_first", [-1, 5]),
                     ("reshape_zero_zero_minus1", [0, 0, -1]), ("reshape_4d_explicit", [6, 2, 5, 2]),
                     ("reshape_zero_minus1_zero", [0, -1, 0, 1])]:
    save(case, [node("Reshape", ["X", "shape"], ["Y"])], [vi("X", [2, 3, 4, 5])], [vi("Y", None)], {"X": S},
         [init("shape", np.array(target, dtype=np.int64))])
save("reshape_batch_symbolic", [node("Reshape", ["X", "shape"], ["Y"])], [vi("X", [N, 3, 4])], [vi("Y", None)],
     [{"X": normal(2, 3, 4)}, {"X": normal(1, 3, 4)}], [init("shape", np.array([0, -1], dtype=np.int64))])
save("squeeze_axes", [node("Squeeze", ["X", "axes"], ["Y"])], [vi("X", [2, 1, 4, 1])], [vi("Y", [2, 4])],
     {"X": normal(2, 1, 4, 1)}, [init("axes", np.array([1, 3], dtype=np.int64))])
save("squeeze_negative_axis", [node("Squeeze", ["X", "axes"], ["Y"])], [vi("X", [3, 4, 1])], [vi("Y", [3, 4])],
     {"X": normal(3, 4, 1)}, [init("axes", np.array([-1], dtype=np.int64))])
save("squeeze_no_axes", [node("Squeeze", ["X"], ["Y"])], [vi("X", [1, 3, 1, 2])], [vi("Y", [3, 2])], {"X": normal(1, 3, 1, 2)})
save("unsqueeze_axes", [node("Unsqueeze", ["X", "axes"], ["Y"])], [vi("X", [3, 4])], [vi("Y", [1, 3, 1, 4])],
     {"X": normal(3, 4)}, [init("axes", np.array([0, 2], dtype=np.int64))])
save("unsqueeze_negative_axis", [node("Unsqueeze", ["X", "axes"], ["Y"])], [vi("X", [N, 4])], [vi("Y", [N, 4, 1])],
     {"X": normal(3, 4)}, [init("axes", np.array([-1], dtype=np.int64))])
save("identity", [node("Identity", ["X"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4})
save("dropout_inference", [node("Dropout", ["X"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4})
save("dropout_inference_ratio_mask", [node("Dropout", ["X", "ratio"], ["Y", "mask"])], [vi("X", [2, 3, 4])],
     [vi("Y", [2, 3, 4]), vi("mask", [2, 3, 4], BOOL)], {"X": X4}, [init("ratio", np.array(0.3, dtype=np.float32))])
save("transpose_default", [node("Transpose", ["X"], ["Y"])], [vi("X", [2, 3, 4])], [vi("Y", [4, 3, 2])], {"X": X4})
save("transpose_perm_0231", [node("Transpose", ["X"], ["Y"], perm=[0, 2, 3, 1])], [vi("X", [2, 3, 4, 5])], [vi("Y", [2, 4, 5, 3])], {"X": S})
save("transpose_perm_102", [node("Transpose", ["X"], ["Y"], perm=[1, 0, 2])], [vi("X", [N, 3, 4])], [vi("Y", [3, N, 4])],
     {"X": normal(2, 3, 4)})
save("transpose_2d", [node("Transpose", ["X"], ["Y"], perm=[1, 0])], [vi("X", [5, 7])], [vi("Y", [7, 5])], {"X": normal(5, 7)})
save("concat_axis1", [node("Concat", ["A", "B"], ["Y"], axis=1)], [vi("A", [2, 3, 4]), vi("B", [2, 5, 4])], [vi("Y", [2, 8, 4])],
     {"A": normal(2, 3, 4), "B": normal(2, 5, 4)})
save("concat_axis1_three_with_const", [node("Concat", ["A", "C", "B"], ["Y"], axis=1)],
     [vi("A", [N, 2, 3, 3]), vi("B", [N, 1, 3, 3])], [vi("Y", [N, 7, 3, 3])],
     {"A": normal(1, 2, 3, 3), "B": normal(1, 1, 3, 3)}, [init("C", normal(1, 4, 3, 3))])
save("concat_axis_neg1", [node("Concat", ["A", "B"], ["Y"], axis=-1)], [vi("A", [3, 2]), vi("B", [3, 4])], [vi("Y", [3, 6])],
     {"A": normal(3, 2), "B": normal(3, 4)})
G = normal(4, 3, 5)
save("gather_scalar_index_axis0", [node("Gather", ["X", "i"], ["Y"], axis=0)], [vi("X", [4, 3, 5])], [vi("Y", [3, 5])],
     {"X": G}, [init("i", np.array(2, dtype=np.int64))])
save("gather_negative_scalar_index_axis0", [node("Gather", ["X", "i"], ["Y"], axis=0)], [vi("X", [4, 3, 5])], [vi("Y", [3, 5])],
     {"X": G}, [init("i", np.array(-1, dtype=np.int64))])
save("gather_index_vector_axis1", [node("Gather", ["X", "i"], ["Y"], axis=1)], [vi("X", [4, 3, 5])], [vi("Y", [4, 3, 5])],
     {"X": G}, [init("i", np.array([2, 0, 2], dtype=np.int64))])
save("gather_index_vector_axis1_batch_symbolic", [node("Gather", ["X", "i"], ["Y"], axis=1)], [vi("X", [N, 6])], [vi("Y", [N, 2])],
     {"X": normal(3, 6)}, [init("i", np.array([5, 1], dtype=np.int64))])
save("gather_index_matrix_axis0", [node("Gather", ["X", "i"], ["Y"], axis=0)], [vi("X", [4, 3])], [vi("Y", [2, 2, 3])],
     {"X": normal(4, 3)}, [init("i", np.array([[0, 3], [1, 1]], dtype=np.int64))])

# ---------------------------------------------------------------- normalisation, softmax


def batchnorm_params(c):
    return [init("scale", normal(c, scale=0.5) + 1), init("bias", normal(c, scale=0.5)),
            init("mean", normal(c, scale=0.5)), init("var", (rng.random(c) + 0.2).astype(np.float32))]


save("batchnorm_epsilon", [node("BatchNormalization", ["X", "scale", "bias", "mean", "var"], ["Y"], epsilon=1e-3)],
     [vi("X", [2, 5, 3, 4])], [vi("Y", [2, 5, 3, 4])], {"X": normal(2, 5, 3, 4)}, batchnorm_params(5))
save("batchnorm_default_batch_symbolic", [node("BatchNormalization", ["X", "scale", "bias", "mean", "var"], ["Y"])],
     [vi("X", [N, 3, 7, 9])], [vi("Y", [N, 3, 7, 9])], [{"X": normal(1, 3, 7, 9)}, {"X": normal(2, 3, 7, 9)}], batchnorm_params(3))
save("batchnorm_rank2", [node("BatchNormalization", ["X", "scale", "bias", "mean", "var"], ["Y"], epsilon=1e-5)],
     [vi("X", [N, 6])], [vi("Y", [N, 6])], {"X": normal(4, 6)}, batchnorm_params(6))
for op in ["Softmax", "LogSoftmax"]:
    name = op.lower()
    save(f"{name}_axis_neg1", [node(op, ["X"], ["Y"], axis=-1)], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4})
    save(f"{name}_axis1", [node(op, ["X"], ["Y"], axis=1)], [vi("X", [2, 3, 4])], [vi("Y", [2, 3, 4])], {"X": X4})
    save(f"{name}_default_axis_2d_batch_symbolic", [node(op, ["X"], ["Y"])], [vi("X", [N, 10])], [vi("Y", [N, 10])],
         [{"X": normal(4, 10, scale=3.0)}, {"X": normal(1, 10, scale=3.0)}])
save("softmax_axis1_4d", [node("Softmax", ["X"], ["Y"], axis=1)], [vi("X", [2, 4, 3, 3])], [vi("Y", [2, 4, 3, 3])],
     {"X": normal(2, 4, 3, 3)})

# ---------------------------------------------------------------- small whole networks

# CNN: conv->relu->avgpool->conv->relu->maxpool->flatten->gemm, symbolic batch, run at batch 1 and 5.
save("net_cnn_batch_symbolic",
     [node("Conv", ["X", "W1", "B1"], ["c1"], pads=[1, 1, 1, 1]),
      node("Relu", ["c1"], ["r1"]),
      node("AveragePool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
      node("Conv", ["p1", "W2", "B2"], ["c2"]),
      node("Relu", ["c2"], ["r2"]),
      node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
      node("Flatten", ["p2"], ["f"], axis=1),
      node("Gemm", ["f", "W3", "B3"], ["logits"], transB=1)],
     [vi("X", [N, 1, 12, 12])], [vi("logits", [N, 10])],
     [{"X": normal(1, 1, 12, 12)}, {"X": normal(5, 1, 12, 12)}],
     [init("W1", weight(4, 1, 3, 3)), init("B1", normal(4, scale=0.1)),
      init("W2", weight(6, 4, 3, 3)), init("B2", normal(6, scale=0.1)),
      init("W3", weight(10, 24)), init("B3", normal(10, scale=0.1))])


def bn(prefix, c):
    return [init(f"{prefix}_scale", normal(c, scale=0.2) + 1), init(f"{prefix}_bias", normal(c, scale=0.2)),
            init(f"{prefix}_mean", normal(c, scale=0.2)), init(f"{prefix}_var", (rng.random(c) + 0.5).astype(np.float32))]


save("net_residual_block",
     [node("Conv", ["X", "W1"], ["c1"], pads=[1, 1, 1, 1]),
      node("BatchNormalization", ["c1", "bn1_scale", "bn1_bias", "bn1_mean", "bn1_var"], ["b1"]),
      node("Relu", ["b1"], ["r1"]),
      node("Conv", ["r1", "W2"], ["c2"], pads=[1, 1, 1, 1]),
      node("BatchNormalization", ["c2", "bn2_scale", "bn2_bias", "bn2_mean", "bn2_var"], ["b2"]),
      node("Add", ["b2", "X"], ["s"]),
      node("Relu", ["s"], ["Y"])],
     [vi("X", [N, 4, 6, 6])], [vi("Y", [N, 4, 6, 6])], [{"X": normal(1, 4, 6, 6)}, {"X": normal(2, 4, 6, 6)}],
     [init("W1", weight(4, 4, 3, 3)), init("W2", weight(4, 4, 3, 3)), *bn("bn1", 4), *bn("bn2", 4)])

save("net_mlp_softmax",
     [node("Gemm", ["X", "W1", "B1"], ["h1"], transB=1),
      node("Relu", ["h1"], ["r1"]),
      node("Gemm", ["r1", "W2", "B2"], ["h2"]),
      node("Relu", ["h2"], ["r2"]),
      node("Gemm", ["r2", "W3", "B3"], ["logits"], transB=1),
      node("Softmax", ["logits"], ["P"], axis=-1)],
     [vi("X", [N, 8])], [vi("P", [N, 3])], [{"X": normal(4, 8)}, {"X": normal(1, 8)}],
     [init("W1", weight(13, 8)), init("B1", normal(13, scale=0.1)),
      init("W2", weight(13, 6)), init("B2", normal(6, scale=0.1)),
      init("W3", weight(3, 6)), init("B3", normal(3, scale=0.1))])

# snnTorch-style unrolled Leaky neuron (reset by subtraction) over T=3 steps:
#   cur_t = Gemm(X[t], W, b); mem_t = beta*mem_{t-1} + cur_t - spk_{t-1}*thr;
#   spk_t = Cast(Greater(mem_t - thr, 0)); outputs sum_t spk_t and mem_T.
T, B, F, H = 3, 2, 5, 6
beta, thr = 0.9, 0.5
W_snn, b_snn = weight(H, F), normal(H, scale=0.1)
snn_nodes = []
for t in range(T):
    snn_nodes += [node("Gather", ["X", f"t{t}"], [f"x{t}"], axis=0),
                  node("Gemm", [f"x{t}", "W", "b"], [f"cur{t}"], transB=1)]
    if t == 0:
        mem = f"cur{t}"
    else:
        snn_nodes += [node("Mul", [f"mem{t - 1}", "beta"], [f"decay{t}"]),
                      node("Add", [f"decay{t}", f"cur{t}"], [f"pre{t}"]),
                      node("Mul", [f"spk{t - 1}", "thr"], [f"reset{t}"]),
                      node("Sub", [f"pre{t}", f"reset{t}"], [f"mem{t}"])]
        mem = f"mem{t}"
    if t == 0:
        snn_nodes.append(node("Identity", [mem], ["mem0"]))
    snn_nodes += [node("Sub", [f"mem{t}", "thr"], [f"over{t}"]),
                  node("Greater", [f"over{t}", "zero"], [f"fire{t}"]),
                  node("Cast", [f"fire{t}"], [f"spk{t}"], to=FLOAT)]
snn_nodes += [node("Add", ["spk0", "spk1"], ["spk01"]), node("Add", ["spk01", "spk2"], ["spikes"]),
              node("Identity", [f"mem{T - 1}"], ["mem"])]


def snn_margin(x):
    """Smallest |mem_t - thr| in numpy (float64): keeps Greater away from rounding ties."""
    mem, spk, margin = np.zeros((x.shape[1], H)), np.zeros((x.shape[1], H)), np.inf
    for t in range(T):
        mem = beta * mem + x[t].astype(np.float64) @ W_snn.T.astype(np.float64) + b_snn - spk * thr
        margin = min(margin, np.min(np.abs(mem - thr)))
        spk = (mem > thr).astype(np.float64)
    return margin


snn_feeds = []
while len(snn_feeds) < 2:
    x = normal(T, B + 2 * len(snn_feeds), F, scale=1.5)  # batches 2 and 4
    if snn_margin(x) > 1e-3:
        snn_feeds.append({"X": x})
save("net_snn_leaky_unrolled", snn_nodes, [vi("X", [T, N, F])], [vi("spikes", [N, H]), vi("mem", [N, H])], snn_feeds,
     [init("W", W_snn), init("b", b_snn), init("beta", np.array(beta, dtype=np.float32)),
      init("thr", np.array(thr, dtype=np.float32)), init("zero", np.array(0.0, dtype=np.float32)),
      *[init(f"t{t}", np.array(t, dtype=np.int64)) for t in range(T)]])

with open(os.path.join(OUT, "VERSIONS.txt"), "w") as f:
    f.write("Generated by scripts/gen_dl_conformance.py (run from the repository root:\n"
            "python3 scripts/gen_dl_conformance.py); expected outputs from onnxruntime,\n"
            "CPUExecutionProvider, one thread; default-domain opset 17, IR version 8.\n"
            f"onnx {onnx.__version__}\nonnxruntime {ort.__version__}\nnumpy {np.__version__}\n"
            f"python {platform.python_version()}\ncases {len(CASES)}\n")
print(f"{len(CASES)} cases in {OUT}", file=sys.stderr)
