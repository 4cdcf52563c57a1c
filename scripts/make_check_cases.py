#!/usr/bin/env python3
"""Writes the broken (and a few valid) models the checker tests run on, under
server/crates/onnx/tests/data/check/, and cases.json saying which code each
must raise. Every model is also given to onnx.checker.check_model(full_check=True):
the script fails unless onnx rejects exactly the cases marked `onnx_rejects`,
so the Rust checker is held to the reference on real files.

    python3 scripts/make_check_cases.py
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parent.parent / "server/crates/onnx/tests/data/check"
EXT = OUT / "external"

F = TensorProto.FLOAT


def vi(name, shape=(2,), elem=F):
    return helper.make_tensor_value_info(name, elem, list(shape))


def model(nodes, inputs=("x",), outputs=("y",), inits=(), ir=8, opset=17, opsets=None, name="g", **kw):
    graph = helper.make_graph(
        list(nodes),
        name,
        [vi(i) if isinstance(i, str) else i for i in inputs],
        [vi(o) if isinstance(o, str) else o for o in outputs],
        list(inits),
        sparse_initializer=kw.pop("sparse", None),
    )
    imports = opsets if opsets is not None else [helper.make_opsetid("", opset)]
    m = helper.make_model(graph, opset_imports=imports, **kw)
    m.ir_version = ir
    return m


def relu():
    return helper.make_node("Relu", ["x"], ["y"], name="r")


def tensor(name, values=(1.0, 2.0)):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


CASES: dict[str, tuple] = {}


def case(name, code, onnx_rejects, subdir=None):
    def register(build):
        CASES[name] = (code, onnx_rejects, build, subdir)
        return build

    return register


# --- model level -----------------------------------------------------------
@case("ir_version_missing", "onnx/ir-version-missing", True)
def _():
    return model([relu()], ir=0)


@case("ir_version_unsupported", "onnx/ir-version-unsupported", True)
def _():
    return model([relu()], ir=99)


@case("metadata_duplicate_key", "onnx/metadata-duplicate-key", True)
def _():
    m = model([relu()])
    helper.set_model_props(m, {"a": "1"})
    m.metadata_props.add(key="a", value="2")
    return m


@case("opset_import_missing", "onnx/opset-import-missing", True)
def _():
    return model([relu()], opsets=[])


@case("opset_import_forbidden", "onnx/opset-import-forbidden", True)
def _():
    return model([relu()], ir=2)


@case("opset_import_duplicate", "onnx/opset-import-duplicate", False)
def _():
    return model([relu()], opsets=[helper.make_opsetid("", 13), helper.make_opsetid("", 17)])


@case("opset_too_new", "onnx/opset-too-new", False)
def _():
    return model([relu()], opset=99)


@case("missing_graph", "onnx/missing-graph", True)
def _():
    m = model([relu()])
    m.ClearField("graph")
    return m


# --- graph level -----------------------------------------------------------
@case("graph_name_empty", "onnx/graph-name", True)
def _():
    return model([relu()], name="")


@case("value_info_no_type", "onnx/value-info", True)
def _():
    x = onnx.ValueInfoProto(name="x")
    return model([relu()], inputs=[x])


@case("value_info_no_shape", "onnx/value-info", True)
def _():
    return model([relu()], inputs=[helper.make_tensor_value_info("x", F, None)])


@case("ssa_duplicate_output", "onnx/ssa", True)
def _():
    return model([relu(), helper.make_node("Neg", ["x"], ["y"], name="n")])


@case("ssa_duplicate_graph_input", "onnx/ssa", True)
def _():
    return model([relu()], inputs=["x", "x"])


@case("initializer_name_empty", "onnx/initializer-name", True)
def _():
    return model([relu()], inits=[tensor("")])


@case("duplicate_initializer", "onnx/duplicate-initializer", True)
def _():
    return model([relu()], inits=[tensor("w"), tensor("w")])


@case("initializer_not_input", "onnx/initializer-not-input", True)
def _():
    return model([relu()], inits=[tensor("w")], ir=3, opset=8)


@case("undefined_input", "onnx/undefined-input", True)
def _():
    return model([helper.make_node("Gemm", ["x", "B"], ["y"], name="fc1")], inputs=[vi("x", (1, 2))])


@case("topological_order", "onnx/topological-order", True)
def _():
    return model([helper.make_node("Relu", ["t"], ["y"], name="second"), helper.make_node("Neg", ["x"], ["t"], name="first")])


@case("cycle", "onnx/cycle", True)
def _():
    return model(
        [
            helper.make_node("Add", ["x", "b"], ["a"], name="add"),
            helper.make_node("Neg", ["a"], ["b"], name="neg"),
            helper.make_node("Relu", ["a"], ["y"], name="out"),
        ]
    )


@case("undefined_output", "onnx/undefined-output", True)
def _():
    return model([relu()], outputs=["y", "z"])


# --- nodes -------------------------------------------------------------------
@case("node_op_type_empty", "onnx/node-op-type", True)
def _():
    return model([helper.make_node("", ["x"], ["y"], name="nothing")])


@case("node_no_io", "onnx/node-no-io", True)
def _():
    return model([relu(), helper.make_node("Relu", [], [], name="idle")])


@case("unknown_domain", "onnx/unknown-domain", True)
def _():
    return model([helper.make_node("Relu", ["x"], ["y"], name="r", domain="com.example")])


@case("unknown_op", "onnx/unknown-op", True)
def _():
    return model([helper.make_node("Relux", ["x"], ["y"], name="r")])


@case("op_not_in_opset", "onnx/op-not-in-opset", True)
def _():
    return model([helper.make_node("Gelu", ["x"], ["y"], name="act")], opset=17)


@case("deprecated_op", "onnx/deprecated-op", True)
def _():
    scales = helper.make_tensor("scales", F, [1], [2.0])
    return model(
        [helper.make_node("Upsample", ["x", "scales"], ["y"], name="up")], inits=[scales], opset=10, ir=5
    )


@case("experimental_op", "onnx/experimental-op", False)
def _():
    return model([helper.make_node("ImageScaler", ["x"], ["y"], name="scale")])


@case("arity_too_few", "onnx/arity", True)
def _():
    return model([helper.make_node("Add", ["x"], ["y"], name="add")])


@case("arity_too_many", "onnx/arity", True)
def _():
    return model([helper.make_node("Relu", ["x", "x"], ["y"], name="r")])


@case("missing_input", "onnx/missing-input", True)
def _():
    return model([helper.make_node("Gemm", ["", "x"], ["y"], name="fc")], inputs=[vi("x", (2, 2))])


@case("duplicate_attribute", "onnx/duplicate-attribute", True)
def _():
    node = helper.make_node("LeakyRelu", ["x"], ["y"], name="lr", alpha=0.1)
    node.attribute.append(helper.make_attribute("alpha", 0.2))
    return model([node])


@case("unknown_attribute", "onnx/unknown-attribute", True)
def _():
    return model([helper.make_node("Relu", ["x"], ["y"], name="r", alpha=0.1)])


@case("attribute_type", "onnx/attribute-type", True)
def _():
    return model([helper.make_node("Gemm", ["x", "x"], ["y"], name="fc", alpha=2)], inputs=[vi("x", (2, 2))])


@case("missing_attribute", "onnx/missing-attribute", True)
def _():
    return model([helper.make_node("Concat", ["x", "x"], ["y"], name="cat")])


@case("attribute_two_fields", "onnx/attribute-proto", True)
def _():
    node = helper.make_node("LeakyRelu", ["x"], ["y"], name="lr")
    attr = helper.make_attribute("alpha", 0.1)
    attr.i = 3
    node.attribute.append(attr)
    return model([node])


@case("attribute_no_type", "onnx/attribute-proto", True)
def _():
    node = helper.make_node("LeakyRelu", ["x"], ["y"], name="lr")
    node.attribute.append(onnx.AttributeProto(name="alpha", f=0.1))
    return model([node])


@case("attribute_missing_tensor", "onnx/attribute-proto", True)
def _():
    node = helper.make_node("Constant", [], ["y"], name="c")
    node.attribute.append(onnx.AttributeProto(name="value", type=onnx.AttributeProto.TENSOR))
    return model([node], inputs=[])


@case("attribute_ref_outside_function", "onnx/attribute-ref", False)
def _():
    node = helper.make_node("LeakyRelu", ["x"], ["y"], name="lr")
    node.attribute.append(onnx.AttributeProto(name="alpha", type=onnx.AttributeProto.FLOAT, ref_attr_name="a"))
    return model([node])


# --- tensors -----------------------------------------------------------------
def with_init(t):
    return model([helper.make_node("Add", ["x", t.name or "w"], ["y"], name="add")], inits=[t])


@case("tensor_data_type_undefined", "onnx/tensor-data-type", True)
def _():
    t = tensor("w")
    t.data_type = TensorProto.UNDEFINED
    return with_init(t)


@case("tensor_two_fields", "onnx/tensor-data-field", True)
def _():
    t = tensor("w")
    t.float_data.extend([1.0, 2.0])
    return with_init(t)


@case("tensor_wrong_field", "onnx/tensor-data-field", True)
def _():
    t = onnx.TensorProto(name="w", data_type=F, dims=[2], int64_data=[1, 2])
    return with_init(t)


@case("tensor_string_raw", "onnx/tensor-data-field", True)
def _():
    t = onnx.TensorProto(name="w", data_type=TensorProto.STRING, dims=[1], raw_data=b"abcd")
    return model([helper.make_node("Identity", ["w"], ["y"], name="id")], inputs=[], outputs=[vi("y", (1,), TensorProto.STRING)], inits=[t])


@case("tensor_size_raw", "onnx/tensor-size", False)
def _():
    t = onnx.TensorProto(name="w", data_type=F, dims=[2], raw_data=b"\0" * 12)
    return with_init(t)


@case("tensor_size_typed", "onnx/tensor-size", False)
def _():
    t = onnx.TensorProto(name="w", data_type=F, dims=[2], float_data=[1.0, 2.0, 3.0])
    return with_init(t)


@case("tensor_zero_elements_with_data", "onnx/tensor-size", True)
def _():
    t = onnx.TensorProto(name="w", data_type=F, dims=[0], float_data=[1.0])
    return with_init(t)


@case("tensor_negative_dim", "onnx/tensor-dims", True)
def _():
    t = onnx.TensorProto(name="w", data_type=F, dims=[-2], float_data=[1.0, 2.0])
    return with_init(t)


@case("tensor_absurd_dims", "onnx/tensor-size", True)
def _():
    # 2^62 elements declared, 8 bytes present: must be refused without allocating.
    t = onnx.TensorProto(name="w", data_type=F, dims=[2**31, 2**31], raw_data=b"\0" * 8)
    return model([helper.make_node("Identity", ["w"], ["y"], name="id")], inputs=[], inits=[t])


def sparse(values, indices, dims, indices_type=TensorProto.INT64, name="s"):
    v = helper.make_tensor(name, F, [len(values)], values)
    i = None
    if indices is not None:
        arr = np.array(indices, dtype=np.int64)
        i = helper.make_tensor(name + "_idx", indices_type, list(arr.shape), arr.flatten().tolist())
    sp = onnx.SparseTensorProto(values=v, dims=dims)
    if i is not None:
        sp.indices.CopyFrom(i)
    return sp


def with_sparse(sp):
    return model([helper.make_node("Identity", ["s"], ["y"], name="id")], inputs=[], outputs=[vi("y", (4,))], sparse=[sp])


@case("sparse_values_rank", "onnx/sparse-tensor", True)
def _():
    sp = sparse([1.0, 2.0], [0, 1], [4])
    sp.values.dims[:] = [1, 2]
    return with_sparse(sp)


@case("sparse_index_range", "onnx/sparse-index", True)
def _():
    return with_sparse(sparse([1.0, 2.0], [1, 7], [4]))


@case("sparse_index_order", "onnx/sparse-index", True)
def _():
    return with_sparse(sparse([1.0, 2.0], [2, 1], [4]))


@case("sparse_coordinates_order", "onnx/sparse-index", True)
def _():
    sp = sparse([1.0, 2.0], [[1, 0], [0, 1]], [2, 2])
    return model([helper.make_node("Identity", ["s"], ["y"], name="id")], inputs=[], outputs=[vi("y", (2, 2))], sparse=[sp])


@case("sparse_no_indices", "onnx/sparse-tensor", True)
def _():
    return with_sparse(sparse([1.0, 2.0], None, [4]))


@case("sparse_indices_int32", "onnx/sparse-tensor", True)
def _():
    return with_sparse(sparse([1.0, 2.0], [0, 1], [4], indices_type=TensorProto.INT32))


# --- external data (models live in external/, next to their data files) ------
def external(location, offset=None, length=None, add_raw=False):
    t = onnx.TensorProto(name="w", data_type=F, dims=[2])
    t.data_location = TensorProto.EXTERNAL
    entries = {"location": location}
    if offset is not None:
        entries["offset"] = str(offset)
    if length is not None:
        entries["length"] = str(length)
    for k, v in entries.items():
        t.external_data.add(key=k, value=v)
    if add_raw:
        t.raw_data = b"\0" * 8
    return with_init(t)


@case("external_no_location", "onnx/external-data-location", True, "external")
def _():
    m = external("weights.bin")
    del m.graph.initializer[0].external_data[:]
    return m


@case("external_absolute", "onnx/external-data-outside", True, "external")
def _():
    return external("/etc/passwd")


@case("external_parent_dir", "onnx/external-data-outside", True, "external")
def _():
    return external("../outside.bin")


@case("external_symlink_outside", "onnx/external-data-outside", True, "external")
def _():
    return external("link_to_outside.bin")


@case("external_missing_file", "onnx/external-data-missing", True, "external")
def _():
    return external("no_such_file.bin")


@case("external_range", "onnx/external-data-range", False, "external")
def _():
    return external("weights.bin", offset=8, length=8)


@case("external_with_raw_data", "onnx/tensor-data-field", True, "external")
def _():
    return external("weights.bin", add_raw=True)


# --- subgraphs ---------------------------------------------------------------
def if_model(then_nodes, then_out="t_out"):
    then_branch = helper.make_graph(then_nodes, "then", [], [vi(then_out)])
    else_branch = helper.make_graph([helper.make_node("Neg", ["x"], ["e_out"], name="neg")], "else", [], [vi("e_out")])
    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    node = helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_branch, else_branch=else_branch)
    return model([node], inits=[cond])


@case("subgraph_undefined_input", "onnx/undefined-input", True)
def _():
    return if_model([helper.make_node("Relu", ["nowhere"], ["t_out"], name="inner")])


@case("subgraph_ssa_outer_name", "onnx/ssa", True)
def _():
    return if_model([helper.make_node("Relu", ["x"], ["x"], name="inner")], then_out="x")


@case("loop_body_unknown_op", "onnx/unknown-op", True)
def _():
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep"),
            helper.make_node("Frobnicate", ["x"], ["scan"], name="bad"),
        ],
        "body",
        [vi("i", (), TensorProto.INT64), vi("cond_in", (), TensorProto.BOOL)],
        [vi("cond_out", (), TensorProto.BOOL), vi("scan")],
    )
    trip = helper.make_tensor("trip", TensorProto.INT64, [], [2])
    node = helper.make_node("Loop", ["trip", ""], ["y"], name="loop", body=body)
    return model([node], inits=[trip], outputs=[vi("y", (2, 2))])


# --- local functions -----------------------------------------------------------
def with_function(fn, call_attrs=None, opsets=None, ir=8):
    call = helper.make_node(fn.name, ["x"], ["y"], name="call", domain=fn.domain, **(call_attrs or {}))
    imports = opsets or [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    m = model([call], opsets=imports, ir=ir)
    m.functions.append(fn)
    return m


def function(nodes, inputs=("a",), outputs=("b",), attributes=(), domain="local", name="f", opset=17):
    return helper.make_function(domain, name, list(inputs), list(outputs), nodes, [helper.make_opsetid("", opset)], list(attributes))


@case("function_undefined_input", "onnx/undefined-input", True)
def _():
    return with_function(function([helper.make_node("Relu", ["zz"], ["b"])]))


@case("function_duplicate_output", "onnx/function-signature", True)
def _():
    return with_function(function([helper.make_node("Relu", ["a"], ["b"])], outputs=("b", "b")))


@case("function_no_domain", "onnx/function-name", True)
def _():
    fn = function([helper.make_node("Relu", ["a"], ["b"])])
    fn.ClearField("domain")
    return with_function(fn)


@case("function_opset_mismatch", "onnx/function-opset-mismatch", True)
def _():
    fn = function([helper.make_node("ReduceMean", ["a"], ["b"], keepdims=1)], opset=13)
    return with_function(fn, opsets=[helper.make_opsetid("", 18), helper.make_opsetid("local", 1)])


@case("function_attribute_ref_unknown", "onnx/attribute-ref", False)
def _():
    node = helper.make_node("LeakyRelu", ["a"], ["b"])
    node.attribute.append(onnx.AttributeProto(name="alpha", type=onnx.AttributeProto.FLOAT, ref_attr_name="slope"))
    return with_function(function([node], attributes=("alpha",)))


@case("function_duplicate", "onnx/function-duplicate", True)
def _():
    m = with_function(function([helper.make_node("Relu", ["a"], ["b"])]))
    m.functions.append(function([helper.make_node("Neg", ["a"], ["b"])]))
    return m


@case("function_call_arity", "onnx/arity", False)
def _():
    m = with_function(function([helper.make_node("Relu", ["a"], ["b"])]))
    m.graph.node[0].input.append("x")
    return m


# --- training info -------------------------------------------------------------
@case("training_binding", "onnx/training-binding", False)
def _():
    m = model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], inits=[tensor("w")])
    algo = helper.make_graph([helper.make_node("Neg", ["w"], ["w_new"], name="step")], "algo", [], [vi("w_new")])
    info = onnx.TrainingInfoProto(algorithm=algo)
    info.update_binding.add(key="not_an_initializer", value="w_new")
    m.training_info.append(info)
    return m


# --- valid models: the checker must stay silent, as onnx does ------------------
@case("ok_subgraph_function_external", None, False, "external")
def _():
    then_branch = helper.make_graph([helper.make_node("Relu", ["x"], ["t"], name="inner")], "then", [], [vi("t")])
    else_branch = helper.make_graph([helper.make_node("Neg", ["w"], ["e"], name="neg")], "else", [], [vi("e")])
    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    w = onnx.TensorProto(name="w", data_type=F, dims=[2])
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="weights.bin")
    w.external_data.add(key="offset", value="0")
    w.external_data.add(key="length", value="8")
    nodes = [
        helper.make_node("If", ["cond"], ["branch"], name="if", then_branch=then_branch, else_branch=else_branch),
        helper.make_node("f", ["branch"], ["y"], name="call", domain="local"),
    ]
    m = model(nodes, inits=[cond, w], opsets=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    m.graph.sparse_initializer.append(sparse([1.0, 2.0], [0, 3], [4], name="sp"))
    m.functions.append(function([helper.make_node("Relu", ["a"], ["b"])]))
    return m


def main() -> None:
    EXT.mkdir(parents=True, exist_ok=True)
    for old in OUT.rglob("*.onnx"):
        old.unlink()
    (EXT / "weights.bin").write_bytes(np.array([1.0, 2.0], dtype=np.float32).tobytes())
    (OUT / "outside.bin").write_bytes(np.array([3.0, 4.0], dtype=np.float32).tobytes())
    link = EXT / "link_to_outside.bin"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink("../outside.bin", link)

    manifest = {}
    wrong = []
    for name, (code, onnx_rejects, build, subdir) in CASES.items():
        m = build()
        path = (OUT / subdir if subdir else OUT) / f"{name}.onnx"
        path.write_bytes(m.SerializeToString())
        try:
            onnx.checker.check_model(str(path), full_check=True)
            rejected, reason = False, ""
        except Exception as error:  # onnx raises ValidationError or InferenceError
            rejected, reason = True, str(error).splitlines()[0]
        if rejected != onnx_rejects:
            wrong.append(f"{name}: onnx {'rejects' if rejected else 'accepts'} it ({reason}), expected the opposite")
        manifest[str(path.relative_to(OUT))] = {"code": code, "onnx_rejects": rejected, "onnx_reason": reason}
    (OUT / "cases.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if wrong:
        raise SystemExit("\n".join(wrong))
    print(f"wrote {len(manifest)} models to {OUT}; onnx.checker verdicts match")


if __name__ == "__main__":
    main()
