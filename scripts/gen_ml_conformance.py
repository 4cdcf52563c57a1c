#!/usr/bin/env python3
"""Generates ONNX backend-test style cases for every ai.onnx.ml operator
neuride implements: tests/conformance/ml/<case>/model.onnx plus
test_data_set_0/input_<i>.pb and output_<i>.pb, where the outputs are what
onnxruntime (CPU) returns. Tensors are TensorProto; sequences and maps use
onnx-data.proto's SequenceProto/MapProto (onnx.numpy_helper.from_list/from_dict).

Run from the repository root:  python3 scripts/gen_ml_conformance.py
Needs: onnx, onnxruntime, numpy. Deterministic (fixed seeds).
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join("tests", "conformance", "ml")
rng = np.random.default_rng(7)
FLOAT, INT64, STRING, DOUBLE = TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING, TensorProto.DOUBLE


def tensor_vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def seq_map_vi(name, key, value=FLOAT):
    t = helper.make_sequence_type_proto(helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None)))
    return helper.make_value_info(name, t)


def map_vi(name, key, value):
    return helper.make_value_info(name, helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None)))


def save(case, nodes, inputs, outputs, feeds, ml_opset=3, initializers=()):
    graph = helper.make_graph(nodes, case, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", ml_opset)],
        producer_name="neuride gen_ml_conformance",
    )
    model.ir_version = 8 if ml_opset < 4 else 10
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        results = session.run(None, feeds)
    except Exception as error:  # a case onnxruntime itself cannot run is not a conformance case
        print(f"{case}: SKIPPED, onnxruntime cannot run it: {str(error)[:120]}")
        shutil.rmtree(os.path.join(OUT, case), ignore_errors=True)
        return
    folder = os.path.join(OUT, case)
    shutil.rmtree(folder, ignore_errors=True)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for i, vi in enumerate(inputs):
        write(os.path.join(data, f"input_{i}.pb"), vi.name, feeds[vi.name])
    for i, (vi, value) in enumerate(zip(outputs, results)):
        write(os.path.join(data, f"output_{i}.pb"), vi.name, value)
    print(f"{case}: {[getattr(r, 'shape', type(r).__name__) for r in results]}")


def map_proto(mapping, name=""):
    """A MapProto with the values as one 1-D tensor (numpy_helper.from_dict cannot take string keys)."""
    proto = onnx.MapProto(name=name)
    keys = list(mapping.keys())
    if all(isinstance(k, str) for k in keys):
        proto.key_type = STRING
        proto.string_keys.extend(k.encode() for k in keys)
    else:
        proto.key_type = INT64
        proto.keys.extend(int(k) for k in keys)
    values = np.array(list(mapping.values()))
    if values.dtype == np.float64:
        values = values.astype(np.float32)  # the maps here are declared map(_, float)
    if values.dtype.kind in "US":
        values = values.astype(object)
    proto.values.elem_type = onnx.SequenceProto.TENSOR
    proto.values.tensor_values.append(numpy_helper.from_array(values, ""))
    return proto


def write(path, name, value):
    if isinstance(value, dict):
        proto = map_proto(value, name)
    elif isinstance(value, list):
        proto = onnx.SequenceProto(name=name, elem_type=onnx.SequenceProto.MAP)
        proto.map_values.extend(map_proto(m) for m in value)
    else:
        proto = numpy_helper.from_array(np.asarray(value), name)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def ml(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, domain="ai.onnx.ml", **attrs)


X = rng.normal(size=(6, 3)).astype(np.float32)

# ---- linear models
for post in ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO"]:
    save(f"linear_classifier_{post.lower()}",
         [ml("LinearClassifier", ["X"], ["label", "scores"], coefficients=rng.normal(size=9).tolist(),
             intercepts=[0.1, -0.2, 0.3], classlabels_ints=[10, 20, 30], post_transform=post)],
         [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", INT64, [None]), tensor_vi("scores", FLOAT, [None, 3])],
         {"X": X})
save("linear_classifier_binary_strings",
     [ml("LinearClassifier", ["X"], ["label", "scores"], coefficients=[0.5, -1.0, 0.25], intercepts=[0.1],
         classlabels_strings=["no", "yes"], post_transform="LOGISTIC")],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", STRING, [None]), tensor_vi("scores", FLOAT, [None, 2])],
     {"X": X})
save("linear_regressor_two_targets",
     [ml("LinearRegressor", ["X"], ["Y"], coefficients=rng.normal(size=6).tolist(), intercepts=[1.0, -1.0], targets=2)],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 2])], {"X": X})
save("linear_regressor_double_input",
     [ml("LinearRegressor", ["X"], ["Y"], coefficients=[0.5, 0.25, -2.0], intercepts=[3.0])],
     [tensor_vi("X", DOUBLE, [None, 3])], [tensor_vi("Y", FLOAT, [None, 1])], {"X": X.astype(np.float64)})

# ---- row-wise feature ops
for norm in ["MAX", "L1", "L2"]:
    save(f"normalizer_{norm.lower()}", [ml("Normalizer", ["X"], ["Y"], norm=norm)],
         [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 3])], {"X": X})
save("scaler", [ml("Scaler", ["X"], ["Y"], offset=[0.5, -1.0, 2.0], scale=[2.0, 0.5, -1.0])],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 3])], {"X": X})
save("scaler_int64_one_value", [ml("Scaler", ["X"], ["Y"], offset=[1.0], scale=[0.5])],
     [tensor_vi("X", INT64, [None, 3])], [tensor_vi("Y", FLOAT, [None, 3])], {"X": np.arange(12, dtype=np.int64).reshape(4, 3)})
save("binarizer", [ml("Binarizer", ["X"], ["Y"], threshold=0.2)],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 3])], {"X": X})
Xn = X.copy()
Xn[1, 2] = np.nan
Xn[3, 0] = np.nan
save("imputer_nan", [ml("Imputer", ["X"], ["Y"], imputed_value_floats=[9.0, 8.0, 7.0], replaced_value_float=float("nan"))],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 3])], {"X": Xn})
save("imputer_int64", [ml("Imputer", ["X"], ["Y"], imputed_value_int64s=[-5], replaced_value_int64=3)],
     [tensor_vi("X", INT64, [None, 3])], [tensor_vi("Y", INT64, [None, 3])], {"X": np.arange(12, dtype=np.int64).reshape(4, 3) % 5})
save("array_feature_extractor",
     [ml("ArrayFeatureExtractor", ["X", "idx"], ["Y"])],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 2])], {"X": X},
     initializers=[numpy_helper.from_array(np.array([2, 0], dtype=np.int64), "idx")])
save("array_feature_extractor_strings",
     [ml("ArrayFeatureExtractor", ["X", "idx"], ["Y"])],
     [tensor_vi("X", STRING, [None, 3])], [tensor_vi("Y", STRING, [None, 1])],
     {"X": np.array([["a", "b", "c"], ["d", "e", "f"]], dtype=object)},
     initializers=[numpy_helper.from_array(np.array([1], dtype=np.int64), "idx")])
save("feature_vectorizer",
     [ml("FeatureVectorizer", ["A", "B"], ["Y"], inputdimensions=[2, 3])],
     [tensor_vi("A", FLOAT, [None, 2]), tensor_vi("B", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 5])],
     {"A": X[:, :2].copy(), "B": np.arange(18, dtype=np.float32).reshape(6, 3)})

# ---- categories and labels
save("zipmap_int64", [ml("ZipMap", ["X"], ["Z"], classlabels_int64s=[1, 5, 9])],
     [tensor_vi("X", FLOAT, [None, 3])], [seq_map_vi("Z", INT64)], {"X": X})
save("zipmap_strings", [ml("ZipMap", ["X"], ["Z"], classlabels_strings=["a", "b", "c"])],
     [tensor_vi("X", FLOAT, [None, 3])], [seq_map_vi("Z", STRING)], {"X": X})
words = np.array(["cat", "dog", "emu", "cat", "yak"], dtype=object)
save("label_encoder_string_to_int",
     [ml("LabelEncoder", ["X"], ["Y"], keys_strings=["cat", "dog", "emu"], values_int64s=[3, 1, 2], default_int64=-7)],
     [tensor_vi("X", STRING, [None])], [tensor_vi("Y", INT64, [None])], {"X": words})
save("label_encoder_int_to_string",
     [ml("LabelEncoder", ["X"], ["Y"], keys_int64s=[1, 2, 3], values_strings=["one", "two", "three"], default_string="?")],
     [tensor_vi("X", INT64, [None])], [tensor_vi("Y", STRING, [None])], {"X": np.array([3, 1, 4, 2], dtype=np.int64)})
save("label_encoder_float_to_float",
     [ml("LabelEncoder", ["X"], ["Y"], keys_floats=[0.5, 1.5], values_floats=[10.0, 20.0], default_float=-1.0)],
     [tensor_vi("X", FLOAT, [None])], [tensor_vi("Y", FLOAT, [None])], {"X": np.array([1.5, 0.5, 2.5], dtype=np.float32)})
save("one_hot_encoder_int",
     [ml("OneHotEncoder", ["X"], ["Y"], cats_int64s=[1, 3, 5], zeros=1)],
     [tensor_vi("X", INT64, [None, 2])], [tensor_vi("Y", FLOAT, [None, 2, 3])], {"X": np.array([[1, 5], [3, 4]], dtype=np.int64)})
save("one_hot_encoder_strings",
     [ml("OneHotEncoder", ["X"], ["Y"], cats_strings=["cat", "dog", "emu"])],
     [tensor_vi("X", STRING, [None])], [tensor_vi("Y", FLOAT, [None, 3])], {"X": words})
save("category_mapper_to_int",
     [ml("CategoryMapper", ["X"], ["Y"], cats_strings=["cat", "dog", "emu"], cats_int64s=[7, 8, 9], default_int64=-1)],
     [tensor_vi("X", STRING, [None])], [tensor_vi("Y", INT64, [None])], {"X": words})
save("category_mapper_to_string",
     [ml("CategoryMapper", ["X"], ["Y"], cats_strings=["cat", "dog", "emu"], cats_int64s=[7, 8, 9], default_string="none")],
     [tensor_vi("X", INT64, [None])], [tensor_vi("Y", STRING, [None])], {"X": np.array([9, 7, 1], dtype=np.int64)})
save("dict_vectorizer_strings",
     [ml("DictVectorizer", ["X"], ["Y"], string_vocabulary=["a", "b", "c", "d"])],
     [map_vi("X", STRING, FLOAT)], [tensor_vi("Y", FLOAT, [None, 4])], {"X": {"c": 2.5, "a": -1.0, "z": 4.0}})
save("dict_vectorizer_int64",
     [ml("DictVectorizer", ["X"], ["Y"], int64_vocabulary=[5, 3, 1])],
     [map_vi("X", INT64, FLOAT)], [tensor_vi("Y", FLOAT, [None, 3])], {"X": {1: 2.5, 5: 7.0}})
save("cast_map_dense_float",
     [ml("CastMap", ["X"], ["Y"], cast_to="TO_FLOAT", map_form="DENSE")],
     [map_vi("X", INT64, FLOAT)], [tensor_vi("Y", FLOAT, [1, None])], {"X": {3: 1.5, 1: -2.0, 2: 0.25}})
save("cast_map_sparse_int64",
     [ml("CastMap", ["X"], ["Y"], cast_to="TO_INT64", map_form="SPARSE", max_map=5)],
     [map_vi("X", INT64, FLOAT)], [tensor_vi("Y", INT64, [1, 5])], {"X": {3: 1.5, 1: -2.0, 7: 3.0}})
save("cast_map_to_string",
     [ml("CastMap", ["X"], ["Y"], cast_to="TO_STRING", map_form="DENSE")],
     [map_vi("X", INT64, FLOAT)], [tensor_vi("Y", STRING, [1, None])], {"X": {2: 1.5, 0: -2.0}})

# ---- trees: two small trees over 3 features
tree = dict(
    nodes_treeids=[0, 0, 0, 0, 0, 1, 1, 1],
    nodes_nodeids=[0, 1, 2, 3, 4, 0, 1, 2],
    nodes_featureids=[0, 1, 0, 0, 0, 2, 0, 0],
    nodes_values=[0.0, -0.5, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0],
    nodes_modes=["BRANCH_LEQ", "BRANCH_LT", "LEAF", "LEAF", "LEAF", "BRANCH_GT", "LEAF", "LEAF"],
    nodes_truenodeids=[1, 2, 0, 0, 0, 1, 0, 0],
    nodes_falsenodeids=[4, 3, 0, 0, 0, 2, 0, 0],
    nodes_missing_value_tracks_true=[1, 0, 0, 0, 0, 0, 0, 0],
)
leaves = [(0, 2), (0, 3), (0, 4), (1, 1), (1, 2)]
Xt = X.copy()
Xt[2, 0] = np.nan
Xt[4, 2] = np.nan
for post, base in [("NONE", None), ("SOFTMAX", [0.1, 0.2, 0.3]), ("LOGISTIC", None), ("PROBIT", None)]:
    cls = dict(class_treeids=[], class_nodeids=[], class_ids=[], class_weights=[])
    for t, n in leaves:
        for c in range(3):
            cls["class_treeids"].append(t)
            cls["class_nodeids"].append(n)
            cls["class_ids"].append(c)
            cls["class_weights"].append(float(np.round(rng.uniform(0.05, 0.95), 3)))
    extra = {"base_values": base} if base else {}
    save(f"tree_classifier_{post.lower()}",
         [ml("TreeEnsembleClassifier", ["X"], ["label", "scores"], classlabels_int64s=[4, 5, 6], post_transform=post, **tree, **cls, **extra)],
         [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", INT64, [None]), tensor_vi("scores", FLOAT, [None, 3])], {"X": Xt})
for name, weights, post in [("binary_positive", [0.2, 0.7, 0.9, 0.1, 0.6], "NONE"), ("binary_mixed_logistic", [-1.0, 0.5, 2.0, -0.3, 0.8], "LOGISTIC")]:
    save(f"tree_classifier_{name}",
         [ml("TreeEnsembleClassifier", ["X"], ["label", "scores"], classlabels_strings=["neg", "pos"], post_transform=post, **tree,
             class_treeids=[t for t, _ in leaves], class_nodeids=[n for _, n in leaves], class_ids=[0] * 5, class_weights=weights)],
         [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", STRING, [None]), tensor_vi("scores", FLOAT, [None, 2])], {"X": Xt})
for agg in ["SUM", "AVERAGE", "MIN", "MAX"]:
    tgt = dict(target_treeids=[], target_nodeids=[], target_ids=[], target_weights=[])
    for t, n in leaves:
        for k in range(2):
            tgt["target_treeids"].append(t)
            tgt["target_nodeids"].append(n)
            tgt["target_ids"].append(k)
            tgt["target_weights"].append(float(np.round(rng.normal(), 3)))
    save(f"tree_regressor_{agg.lower()}",
         [ml("TreeEnsembleRegressor", ["X"], ["Y"], n_targets=2, aggregate_function=agg, base_values=[0.5, -0.5], **tree, **tgt)],
         [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 2])], {"X": Xt})
save("tree_regressor_double_one_target",
     [ml("TreeEnsembleRegressor", ["X"], ["Y"], n_targets=1, **tree, target_treeids=[t for t, _ in leaves],
         target_nodeids=[n for _, n in leaves], target_ids=[0] * 5, target_weights=[0.1, 0.2, 0.3, 0.4, 0.5])],
     [tensor_vi("X", DOUBLE, [None, 3])], [tensor_vi("Y", FLOAT, [None, 1])], {"X": Xt.astype(np.float64)})
# TreeEnsemble (ai.onnx.ml opset 5): one tree with a set-membership split.
save("tree_ensemble_v5",
     [ml("TreeEnsemble", ["X"], ["Y"], n_targets=2, aggregate_function=1, post_transform=0,
         tree_roots=[0, 2],
         nodes_featureids=[0, 1, 2],
         nodes_splits=numpy_helper.from_array(np.array([0.0, 0.0, 0.1], dtype=np.float32)),
         nodes_modes=numpy_helper.from_array(np.array([0, 6, 3], dtype=np.uint8)),
         nodes_truenodeids=[1, 0, 2], nodes_trueleafs=[0, 1, 1],
         nodes_falsenodeids=[1, 1, 3], nodes_falseleafs=[1, 1, 1],
         nodes_missing_value_tracks_true=[1, 0, 0],
         membership_values=numpy_helper.from_array(np.array([1.0, 2.0, 3.0], dtype=np.float32)),
         leaf_targetids=[0, 1, 0, 1],
         leaf_weights=numpy_helper.from_array(np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)))],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 2])],
     {"X": np.array([[-1, 2, 0], [-1, 5, 0], [1, 1, 0.5], [np.nan, 3, 0], [2, 0, 0]], dtype=np.float32)}, ml_opset=5)

# ---- SVMs
sv = rng.normal(size=(5, 3)).astype(np.float32)
common = dict(support_vectors=sv.ravel().tolist(), vectors_per_class=[2, 2, 1])
for kernel, params in [("RBF", [0.5, 0.0, 0.0]), ("POLY", [0.3, 1.0, 3.0]), ("SIGMOID", [0.2, 0.1, 0.0]), ("LINEAR", [0.0, 0.0, 0.0])]:
    save(f"svm_classifier_{kernel.lower()}",
         [ml("SVMClassifier", ["X"], ["label", "scores"], kernel_type=kernel, kernel_params=params, classlabels_ints=[0, 1, 2],
             coefficients=rng.normal(size=10).tolist(), rho=[0.1, -0.2, 0.05], **common)],
         [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", INT64, [None]), tensor_vi("scores", FLOAT, [None, 3])], {"X": X})
save("svm_classifier_rbf_proba",
     [ml("SVMClassifier", ["X"], ["label", "scores"], kernel_type="RBF", kernel_params=[0.5, 0.0, 0.0], classlabels_strings=["a", "b", "c"],
         coefficients=rng.normal(size=10).tolist(), rho=[0.1, -0.2, 0.05], prob_a=[-1.5, -2.0, -1.0], prob_b=[0.1, -0.1, 0.0], **common)],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", STRING, [None]), tensor_vi("scores", FLOAT, [None, 3])], {"X": X})
save("svm_classifier_binary",
     [ml("SVMClassifier", ["X"], ["label", "scores"], kernel_type="RBF", kernel_params=[0.5, 0.0, 0.0], classlabels_ints=[3, 8],
         support_vectors=sv[:3].ravel().tolist(), vectors_per_class=[2, 1], coefficients=[0.7, -0.4, -0.3], rho=[0.05])],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", INT64, [None]), tensor_vi("scores", FLOAT, [None, 2])], {"X": X})
save("svm_classifier_liblinear",
     [ml("SVMClassifier", ["X"], ["label", "scores"], kernel_type="LINEAR", kernel_params=[0.0, 0.0, 0.0], classlabels_ints=[0, 1, 2],
         coefficients=rng.normal(size=9).tolist(), rho=[0.3], post_transform="SOFTMAX")],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", INT64, [None]), tensor_vi("scores", FLOAT, [None, 3])], {"X": X})
save("svm_regressor_rbf",
     [ml("SVMRegressor", ["X"], ["Y"], kernel_type="RBF", kernel_params=[0.4, 0.0, 0.0], n_supports=5,
         support_vectors=sv.ravel().tolist(), coefficients=rng.normal(size=5).tolist(), rho=[0.25])],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 1])], {"X": X})
save("svm_regressor_linear",
     [ml("SVMRegressor", ["X"], ["Y"], kernel_type="LINEAR", kernel_params=[0.0, 0.0, 0.0], coefficients=[0.5, -1.0, 2.0], rho=[0.25])],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 1])], {"X": X})
save("svm_regressor_one_class",
     [ml("SVMRegressor", ["X"], ["Y"], kernel_type="RBF", kernel_params=[0.4, 0.0, 0.0], n_supports=5, one_class=1,
         support_vectors=sv.ravel().tolist(), coefficients=rng.normal(size=5).tolist(), rho=[-0.1])],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("Y", FLOAT, [None, 1])], {"X": X})

# ---- converter glue around ML ops (default-domain ops in one graph)
save("pipeline_scaler_argmax_softmax",
     [ml("Scaler", ["X"], ["S"], offset=[0.1, 0.2, 0.3], scale=[1.5, 0.5, 2.0]),
      helper.make_node("MatMul", ["S", "W"], ["M"]),
      helper.make_node("Add", ["M", "B"], ["A"]),
      helper.make_node("Softmax", ["A"], ["P"], axis=1),
      helper.make_node("ArgMax", ["P"], ["I"], axis=1, keepdims=0),
      helper.make_node("Cast", ["I"], ["label"], to=INT64),
      helper.make_node("ReduceSum", ["P", "axes"], ["total"], keepdims=0)],
     [tensor_vi("X", FLOAT, [None, 3])], [tensor_vi("label", INT64, [None]), tensor_vi("total", FLOAT, [None])], {"X": X},
     initializers=[numpy_helper.from_array(rng.normal(size=(3, 4)).astype(np.float32), "W"),
                   numpy_helper.from_array(np.array([0.1, 0.2, -0.1, 0.0], dtype=np.float32), "B"),
                   numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")])
