#!/usr/bin/env python3
"""Golden files for the onnx crate's text view and shape facts.

Writes, under server/crates/onnx/tests/data/:
  text/<folder>_<name>.txt   onnx.printer.to_text of every fixture model
  text/synthetic_*.onnx/.txt small models covering what the fixtures do not
                             (subgraphs, functions, external data, strings,
                             float16, metadata, every attribute type)
  shape/<folder>_<name>.json onnx.shape_inference (strict off, data
                             propagation on) types of every value, to compare
                             neuride's shape facts against

Run from the repository root with the onnx package installed:
    python3 scripts/gen_text_golden.py
"""
import glob
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, printer, shape_inference

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "server", "crates", "onnx", "tests", "data")
TEXT = os.path.join(DATA, "text")
SHAPE = os.path.join(DATA, "shape")


def synthetic_models():
    """Small models built with onnx.helper; names say what each covers."""
    models = {}

    # Control flow: If with two branches, Loop with a body, a local function.
    then_g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["t"], name="then_relu")], "then_g", [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2, 3])])
    else_g = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["e"], name="else_neg")], "else_g", [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 3])])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "one"], ["acc_out"], name="body_add"),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "loop_body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.ones((2, 3), np.float32), "one")])
    fn = helper.make_function(
        "custom", "Double", ["a"], ["b"],
        [helper.make_node("Add", ["a", "a"], ["b"])],
        [helper.make_opsetid("", 17)], attributes=["alpha"])
    graph = helper.make_graph(
        [helper.make_node("Greater", ["x", "zero"], ["gt"]),
         helper.make_node("ReduceMax", ["gt_f"], ["c"], keepdims=0, name="any"),
         helper.make_node("Cast", ["gt"], ["gt_f"], to=TensorProto.FLOAT),
         helper.make_node("Cast", ["c"], ["cb"], to=TensorProto.BOOL),
         helper.make_node("If", ["cb"], ["y"], then_branch=then_g, else_branch=else_g, name="branch"),
         helper.make_node("Loop", ["n", "", "y"], ["z"], body=body, name="loop"),
         helper.make_node("Double", ["z"], ["w"], domain="custom", name="call")],
        "control flow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("n", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.zeros((), np.float32), "zero")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)],
                          functions=[fn], producer_name="neuride tests", doc_string='says "hi" \\ bye')
    helper.set_model_props(m, {"author": "neuride", "framework": "none"})
    models["synthetic_control_flow"] = m

    # Every attribute type, odd names, typed (non-raw) tensor fields, float16,
    # strings, int8/uint16/bool raw data, an external initializer, sparse types.
    t_typed = helper.make_tensor("typed", TensorProto.FLOAT, [3], [1.5, -2.0, 1e-8])
    t_f16 = numpy_helper.from_array(np.array([1.0, -0.5, 65504], np.float16), "half")
    t_i8 = numpy_helper.from_array(np.array([-128, 0, 127], np.int8), "i8")
    t_u16 = numpy_helper.from_array(np.array([0, 65535], np.uint16), "u16")
    t_bool = numpy_helper.from_array(np.array([True, False]), "flags")
    t_f64 = numpy_helper.from_array(np.array([0.1, 1e300, -3.0], np.float64), "f64")
    t_i64 = helper.make_tensor("shape", TensorProto.INT64, [2], [3, -1])
    t_str = helper.make_tensor("words", TensorProto.STRING, [2], [b"a\"b", b"c\\d"])
    t_ext = TensorProto(name="ext", data_type=TensorProto.FLOAT, dims=[4])
    t_ext.data_location = TensorProto.EXTERNAL
    for k, v in [("location", "weights.bin"), ("offset", "0"), ("length", "16")]:
        e = t_ext.external_data.add()
        e.key, e.value = k, v
    node_attrs = helper.make_node(
        "CustomOp", ["x.in", "typed"], ["out-1", "out2"], domain="my.domain", name="node with space",
        f=0.25, i=-7, s="text", floats=[1.0, 2.5e-6], ints=[1, 2, 3], strings=["p", "q"],
        t=numpy_helper.from_array(np.array([[1, 2]], np.int32)),
        tensors=[helper.make_tensor("", TensorProto.INT64, [1], [5])],
        tp=helper.make_tensor_type_proto(TensorProto.FLOAT, ["N", 4]),
        type_protos=[helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.INT64, None))])
    graph = helper.make_graph(
        [node_attrs,
         helper.make_node("Reshape", ["out-1", "shape"], ["r"]),
         helper.make_node("Identity", ["r"], ["y"])],
        "attributes",
        [helper.make_tensor_value_info("x.in", TensorProto.FLOAT, ["batch", None, 3]),
         helper.make_value_info("m", helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, []))),
         helper.make_value_info("o", helper.make_optional_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, [1]))),
         helper.make_value_info("sp", helper.make_sparse_tensor_type_proto(TensorProto.FLOAT, [2, 2]))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [t_typed, t_f16, t_i8, t_u16, t_bool, t_f64, t_i64, t_str, t_ext],
        value_info=[helper.make_tensor_value_info("r", TensorProto.FLOAT, [3, "k"])])
    models["synthetic_attributes"] = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("my.domain", 1)])
    return models


def shape_json(model):
    inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    out = {}
    g = inferred.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type
        if t.HasField("tensor_type"):
            tt = t.tensor_type
            dims = None
            if tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tt.shape.dim]
            out[vi.name] = {"elem": tt.elem_type, "shape": dims}
    return out


def main():
    os.makedirs(TEXT, exist_ok=True)
    os.makedirs(SHAPE, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "*", "*.onnx"))):
        folder = os.path.basename(os.path.dirname(path))
        name = f"{folder}_{os.path.splitext(os.path.basename(path))[0]}"
        model = onnx.load(path)
        with open(os.path.join(TEXT, name + ".txt"), "w", encoding="utf-8", newline="") as f:
            f.write(printer.to_text(model))
        with open(os.path.join(SHAPE, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(shape_json(model), f, indent=1, sort_keys=True)
    for name, model in synthetic_models().items():
        with open(os.path.join(TEXT, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())
        with open(os.path.join(TEXT, name + ".txt"), "w", encoding="utf-8", newline="") as f:
            f.write(printer.to_text(model))


if __name__ == "__main__":
    main()
