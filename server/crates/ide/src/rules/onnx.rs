//! The `onnx/` rules: the checker's codes (`neuride_onnx::check::codes`),
//! shape inference's and the loader's. Examples are in ONNX's textual syntax
//! (`onnx.parser.parse_model`, `neuride print`).

use super::Rule;
use neuride_onnx::check::codes::*;

pub(super) const RULES: &[Rule] = &[
    rule!(
        "onnx/empty-file",
        "Empty model file",
        Error,
        false,
        "the file has no bytes: an ONNX model (protobuf ModelProto) was expected",
        r#"
An `.onnx` file of zero bytes: an export that failed half-way, or a file
created and never written.

**Example**: `open("model.onnx", "wb").close()`

**Fix**: export the model again (`torch.onnx.export`, `onnx.save`), or
delete the file.
"#
    ),
    rule!(
        "onnx/decode-error",
        "Not a protobuf model",
        Error,
        false,
        "the bytes do not decode as a protobuf ModelProto",
        r#"
The file is not an ONNX model: another format renamed `.onnx` (a PyTorch
`.pt`, a TensorFlow `.pb`), a file cut short by an interrupted copy, or a
Git LFS pointer that was never fetched.

**Example**: `printf 'version https://git-lfs.github.com/spec/v1' > model.onnx`

**Fix**: fetch or export the real model (`git lfs pull`, `torch.onnx.export`).
"#
    ),
    rule!(
        "onnx/io-error",
        "Unreadable model file",
        Error,
        false,
        "the model file could not be read (permissions, a folder, a device)",
        r#"
Reading the file failed; the message carries the operating system's reason.

**Example**: `chmod 000 model.onnx`

**Fix**: make the file readable by the user running neuride.
"#
    ),
    rule!(
        IR_VERSION_MISSING,
        "Missing IR version",
        Error,
        true,
        "`ir_version` is not set (0)",
        r#"
Every model must say which version of the ONNX IR it is written in;
runtimes refuse a model without it.

**Example**:
```
<opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) { y = Relu(x) }
```

**Fix**: set `ir_version` to the IR that goes with the imported opsets
(`<ir_version: 8, opset_import: ["" : 17]>`). `neuride check --fix` does
this: the IR of the ONNX release that introduced the newest imported
opset, at least 4 when initializers are not graph inputs.
"#
    ),
    rule!(
        IR_VERSION_UNSUPPORTED,
        "Unsupported IR version",
        Error,
        false,
        "`ir_version` is newer than the newest IR this checker knows",
        r#"
The model claims an IR version newer than the newest this build knows,
so its rules cannot be checked (onnx.checker fails it the same way).

**Example**: `<ir_version: 99, opset_import: ["" : 17]>`

**Fix**: export for an IR your runtimes know (e.g. `ir_version: 10`), or
update neuride.
"#
    ),
    rule!(
        METADATA_DUPLICATE_KEY,
        "Duplicate metadata key",
        Error,
        false,
        "two `metadata_props` entries share a key",
        r#"
`metadata_props` is a map: a key given twice makes readers disagree about
its value.

**Example**: `onnx.helper.set_model_props(model, ...)` called with a list
that holds `("author", "a")` and `("author", "b")`.

**Fix**: keep one entry per key.
"#
    ),
    rule!(
        OPSET_IMPORT_MISSING,
        "Missing opset import",
        Error,
        false,
        "IR >= 3 but `opset_import` is empty",
        r#"
From IR 3 on a model must import the operator sets its nodes use; without
an import no operator can be resolved.

**Example**:
```
<ir_version: 8>
g (float[2] x) => (float[2] y) { y = Relu(x) }
```

**Fix**: import the default domain at the opset the model was written for:
`<ir_version: 8, opset_import: ["" : 17]>`.
"#
    ),
    rule!(
        OPSET_IMPORT_FORBIDDEN,
        "Opset import before IR 3",
        Error,
        false,
        "IR < 3 but `opset_import` is given",
        r#"
IR versions 1 and 2 predate `opset_import`; such a model mixes two eras.

**Example**: `<ir_version: 2, opset_import: ["" : 1]>`

**Fix**: raise `ir_version` to the IR of the imported opsets (3 or later).
"#
    ),
    rule!(
        OPSET_IMPORT_DUPLICATE,
        "Duplicate opset import",
        Warning,
        true,
        "a domain is imported twice (the last version wins, as in onnx)",
        r#"
A domain imported twice is ambiguous; onnx keeps the last entry silently,
other tools may take the first.

**Example**: `<ir_version: 8, opset_import: ["" : 13, "" : 17]>`

**Fix**: keep one entry per domain. `neuride check --fix` merges them into
the entry onnx uses (the last), so nothing the model computes changes.
"#
    ),
    rule!(
        OPSET_TOO_NEW,
        "Opset newer than known",
        Warning,
        false,
        "a standard domain is imported at a version newer than the schemas know",
        r#"
Operators are resolved against the newest schemas this build has; newer
changes are not checked.

**Example**: `<ir_version: 10, opset_import: ["" : 99]>`

**Fix**: export at an opset your runtimes support, or update neuride.
"#
    ),
    rule!(
        MISSING_GRAPH,
        "No graph",
        Error,
        false,
        "the model has no graph",
        r#"
A ModelProto without a graph computes nothing.

**Example**: `onnx.ModelProto(ir_version=8)` saved as it is.

**Fix**: export the model with its graph (`onnx.helper.make_model(graph)`).
"#
    ),
    rule!(
        GRAPH_NAME,
        "Unnamed graph",
        Error,
        false,
        "a graph has an empty name",
        r#"
`GraphProto.name` is required (also for the subgraphs of `If`, `Loop`,
`Scan`).

**Example**: `onnx.helper.make_graph(nodes, "", inputs, outputs)`

**Fix**: give every graph a name.
"#
    ),
    rule!(
        TOO_DEEP,
        "Nesting too deep",
        Error,
        false,
        "subgraphs are nested deeper than the checker follows (64 levels)",
        r#"
Subgraphs inside subgraphs beyond 64 levels (or protobuf messages beyond
100 levels) are not followed; no real model nests that deep, so the file
is corrupt or hostile.

**Example**: an `If` whose `then_branch` holds an `If` ... 100 times.

**Fix**: flatten the control flow, or regenerate the file.
"#
    ),
    rule!(
        VALUE_INFO,
        "Incomplete value info",
        Error,
        false,
        "a graph input/output/value_info lacks a name, type, element type or shape, or has an unknown element type",
        r#"
The main graph's inputs and outputs must carry a name, a tensor type with
a known element type, and a shape; every `value_info` needs a name.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (x) => (float[2] y) { y = Relu(x) }
```

**Fix**: declare the type: `g (float[2] x) => (float[2] y)`.
"#
    ),
    rule!(
        SSA,
        "Value defined twice",
        Error,
        false,
        "a value name is defined twice (inputs, initializers, node outputs, function inputs)",
        r#"
ONNX graphs are in static single assignment form: each name is defined by
exactly one graph input, initializer or node output.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) {
    t = Relu(x)
    t = Neg(x)
    y = Add(t, t)
}
```

**Fix**: rename one of the definitions (`u = Neg(x)`) and its uses.
"#
    ),
    rule!(
        INITIALIZER_NAME,
        "Unnamed initializer",
        Error,
        false,
        "an initializer (dense or sparse) has an empty name",
        r#"
An initializer without a name can be used by nothing.

**Example**: `onnx.numpy_helper.from_array(np.zeros(2, np.float32), "")`
added to `graph.initializer`.

**Fix**: name it, or drop it.
"#
    ),
    rule!(
        DUPLICATE_INITIALIZER,
        "Duplicate initializer",
        Error,
        false,
        "two initializers (dense or sparse) share a name",
        r#"
Two tensors under one name: which one a runtime uses is undefined.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) <float[2] w = {1, 2}, float[2] w = {3, 4}> { y = Add(x, w) }
```

**Fix**: keep one of them (or rename one and its uses).
"#
    ),
    rule!(
        INITIALIZER_NOT_INPUT,
        "Initializer not an input (IR <= 3)",
        Error,
        false,
        "IR <= 3: an initializer is not also a graph input",
        r#"
Up to IR 3 every initializer had to be listed among the graph inputs too
(IR 4 dropped the rule).

**Example**:
```
<ir_version: 3, opset_import: ["" : 8]>
g (float[2] x) => (float[2] y) <float[2] w = {1, 2}> { y = Add(x, w) }
```

**Fix**: raise `ir_version` to 4 or later, or add `w` to the graph inputs.
"#
    ),
    rule!(
        UNDEFINED_INPUT,
        "Undefined node input",
        Error,
        false,
        "a node input is defined by no node, graph input, initializer or outer scope",
        r#"
A node reads a value that nothing defines: a typo, an initializer that was
dropped, or a graph cut out of a bigger one.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) { y = Add(x, bias) }
```

**Fix**: define the value (an initializer `<float[2] bias = {0, 0}>`, a
graph input, a node output) or correct the name.
"#
    ),
    rule!(
        TOPOLOGICAL_ORDER,
        "Nodes not sorted",
        Error,
        true,
        "a node uses a value produced by a later node (nodes must be sorted)",
        r#"
Nodes must be listed so that each value is produced before it is used;
graph surgery that appends nodes often breaks this.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) {
    y = Relu(t)
    t = Neg(x)
}
```

**Fix**: sort the nodes topologically. `neuride check --fix` does it,
keeping the original order wherever it is already valid (values a
subgraph reads from the enclosing graph count as inputs of the node that
holds it).
"#
    ),
    rule!(
        CYCLE,
        "Cycle",
        Error,
        false,
        "nodes depend on each other in a cycle (named node by node)",
        r#"
Nodes that feed each other cannot be ordered at all: ONNX graphs are
acyclic (loops are written with `Loop` or `Scan`).

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) {
    a = Add(x, b)
    b = Relu(a)
    y = Identity(b)
}
```

**Fix**: break the cycle, or express the recurrence with `Loop`/`Scan`.
"#
    ),
    rule!(
        UNDEFINED_OUTPUT,
        "Undefined graph output",
        Error,
        false,
        "a graph or function output is produced by nothing",
        r#"
A graph output must be produced by a node, or be a graph input or an
initializer.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y, float[2] z) { y = Relu(x) }
```

**Fix**: produce `z`, or drop it from the outputs.
"#
    ),
    rule!(
        NODE_OP_TYPE,
        "Node without operator",
        Error,
        false,
        "a node has an empty `op_type`",
        r#"
**Example**: `onnx.helper.make_node("", ["x"], ["y"])`

**Fix**: set the operator the node should run.
"#
    ),
    rule!(
        NODE_NO_IO,
        "Node without inputs or outputs",
        Error,
        false,
        "a node has neither inputs nor outputs",
        r#"
A node with no inputs and no outputs has no effect and is invalid.

**Example**: `onnx.helper.make_node("Relu", [], [])`

**Fix**: connect it or remove it.
"#
    ),
    rule!(
        UNKNOWN_DOMAIN,
        "Domain not imported",
        Error,
        false,
        "a node's domain has no `opset_import` entry",
        r#"
Every node's domain must be imported so its operator can be resolved.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[4] x) => (float[1] y) { y = ai.onnx.ml.LinearRegressor(x) }
```

**Fix**: import the domain: `opset_import: ["" : 17, "ai.onnx.ml" : 3]`.
"#
    ),
    rule!(
        UNKNOWN_OP,
        "Unknown operator",
        Error,
        false,
        "no operator of that name exists in a standard domain",
        r#"
The standard domains (`ai.onnx`, `ai.onnx.ml`, ...) have no operator of
that name: usually a typo or a custom op put in the default domain.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) { y = ReLU(x) }
```

**Fix**: use the operator's real name (`Relu`), or move a custom op to
its own domain.
"#
    ),
    rule!(
        OP_NOT_IN_OPSET,
        "Operator newer than the opset",
        Error,
        false,
        "the operator exists, but only from a later opset than the model imports",
        r#"
**Example**: `LayerNormalization` (opset 17) in a model importing opset 13:
```
<ir_version: 7, opset_import: ["" : 13]>
g (float[2,4] x, float[4] s) => (float[2,4] y) { y = LayerNormalization(x, s) }
```

**Fix**: import an opset that has the operator (`"" : 17`, with the IR
that goes with it), or export with an older operator set.
"#
    ),
    rule!(
        DEPRECATED_OP,
        "Deprecated operator",
        Warning,
        false,
        "the operator version in force is deprecated (removed) at the imported opset; onnx.checker rejects it",
        r#"
The operator was removed at the imported opset (onnx.checker fails it;
neuride warns because older runtimes still run it).

**Example**: `Upsample` at opset 10 and later:
```
<ir_version: 8, opset_import: ["" : 13]>
g (float[1,1,2,2] x, float[4] s) => (float[1,1,4,4] y) { y = Upsample(x, s) }
```

**Fix**: use its replacement (`Resize`).
"#
    ),
    rule!(
        EXPERIMENTAL_OP,
        "Removed experimental operator",
        Warning,
        false,
        "a removed experimental operator (ATen, Affine, Crop, ...)",
        r#"
Experimental operators were never part of a released opset and most
runtimes do not run them.

**Example**: `y = ATen(x)` (PyTorch's fallback export).

**Fix**: export with `operator_export_type=ONNX` so the exporter writes
standard operators, or register a custom domain.
"#
    ),
    rule!(
        ARITY,
        "Wrong number of inputs or outputs",
        Error,
        false,
        "a node has fewer or more inputs/outputs than its operator (or local function) allows",
        r#"
**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) { y = Add(x) }
```

**Fix**: pass the operator's inputs (`y = Add(x, x)`); the message says
how many it takes.
"#
    ),
    rule!(
        MISSING_INPUT,
        "Required input omitted",
        Error,
        false,
        "a required (single) input is given as the empty name",
        r#"
The empty name marks an omitted optional input; a required input cannot
be omitted.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) { y = Add(x, "") }
```

**Fix**: connect the input.
"#
    ),
    rule!(
        MISSING_OUTPUT,
        "Required output omitted",
        Error,
        false,
        "a required (single) output is given as the empty name",
        r#"
**Example**: `onnx.helper.make_node("Relu", ["x"], [""])`

**Fix**: name the output.
"#
    ),
    rule!(
        DUPLICATE_ATTRIBUTE,
        "Attribute set twice",
        Error,
        false,
        "a node sets an attribute twice",
        r#"
**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2,3] x) => (float[2,3] y) { y = Softmax <axis = 1, axis = 0> (x) }
```

**Fix**: keep one value.
"#
    ),
    rule!(
        UNKNOWN_ATTRIBUTE,
        "Unknown attribute",
        Error,
        false,
        "the operator declares no attribute of that name",
        r#"
**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2,3] x) => (float[2,3] y) { y = Softmax <axes = [1]> (x) }
```

**Fix**: use the operator's attribute name (`axis`), or drop it.
"#
    ),
    rule!(
        ATTRIBUTE_TYPE,
        "Attribute of the wrong type",
        Error,
        false,
        "an attribute's type differs from the one the operator declares",
        r#"
**Example**: `Softmax`'s `axis` is an int:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2,3] x) => (float[2,3] y) { y = Softmax <axis = 1.0> (x) }
```

**Fix**: write the value with the declared type (`axis = 1`).
"#
    ),
    rule!(
        MISSING_ATTRIBUTE,
        "Required attribute missing",
        Error,
        false,
        "a required attribute is not set",
        r#"
**Example**: `Cast` needs `to`:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (int64[2] y) { y = Cast(x) }
```

**Fix**: set it (`y = Cast <to = 7> (x)`).
"#
    ),
    rule!(
        ATTRIBUTE_PROTO,
        "Malformed attribute",
        Error,
        false,
        "an AttributeProto is malformed: no name, no type, several value fields, type vs field mismatch, missing t/g/tp",
        r#"
**Example**: an attribute with `type = INT` whose value is stored in `f`
(a hand-built `AttributeProto`).

**Fix**: build attributes with `onnx.helper.make_attribute`, which sets
the type and the one field that goes with it.
"#
    ),
    rule!(
        ATTRIBUTE_REF,
        "Bad attribute reference",
        Error,
        false,
        "`ref_attr_name` outside a function, or naming no attribute of the function",
        r#"
`ref_attr_name` lets a node inside a function body take a value from the
function's own attributes; elsewhere it refers to nothing.

**Example**: a node of the main graph with `alpha` given as
`ref_attr_name: "alpha"`.

**Fix**: give the value directly, or declare the attribute on the function.
"#
    ),
    rule!(
        TENSOR_DATA_TYPE,
        "Tensor without element type",
        Error,
        false,
        "a tensor's `data_type` is missing, UNDEFINED or unknown",
        r#"
**Example**: `onnx.TensorProto(name="w", dims=[2])` with no `data_type`.

**Fix**: set `data_type` (`onnx.numpy_helper.from_array` does).
"#
    ),
    rule!(
        TENSOR_DATA_FIELD,
        "Tensor data in the wrong field",
        Error,
        false,
        "a tensor has no or several value fields, the wrong field for its type, strings in raw_data, or data besides external data",
        r#"
A tensor keeps its values in exactly one place: `raw_data`, the typed
field for its element type, or external data.

**Example**: a FLOAT tensor whose values are in `int64_data`.

**Fix**: store the values in one field that fits the type.
"#
    ),
    rule!(
        TENSOR_DIMS,
        "Bad tensor dims",
        Error,
        false,
        "a tensor has a negative dim or more elements than 64 bits count",
        r#"
**Example**: `onnx.helper.make_tensor("w", onnx.TensorProto.FLOAT, [-1], [])`

**Fix**: give the tensor its real, non-negative dims.
"#
    ),
    rule!(
        TENSOR_SIZE,
        "Tensor data length differs from its dims",
        Error,
        false,
        "a tensor's data length differs from dims x element type",
        r#"
The stored bytes (or values) must be exactly the product of the dims times
the element size: anything else is a truncated or mislabelled tensor.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[3] x) => (float[3] y) <float[3] w = {1, 2}> { y = Add(x, w) }
```

**Fix**: store all the values, or correct the dims.
"#
    ),
    rule!(
        SPARSE_TENSOR,
        "Malformed sparse tensor",
        Error,
        false,
        "a sparse tensor's values/indices/dims are malformed",
        r#"
A sparse tensor needs 1-D `values`, `indices` of shape [NNZ] or [NNZ, rank]
and `dims` of the dense shape.

**Example**: a SparseTensorProto whose `indices` has 3 entries for 2 values.

**Fix**: build it with `onnx.helper.make_sparse_tensor` from consistent
values and indices.
"#
    ),
    rule!(
        SPARSE_INDEX,
        "Bad sparse index",
        Error,
        false,
        "a sparse index is out of range or not in ascending order",
        r#"
**Example**: indices `[5, 2]` for a tensor of dims `[4]`.

**Fix**: sort the indices and keep them inside the dense shape.
"#
    ),
    rule!(
        EXTERNAL_DATA_LOCATION,
        "Bad external data entry",
        Error,
        false,
        "external data has no/empty location, or a bad offset/length",
        r#"
**Example**: a tensor with `data_location = EXTERNAL` and no `location` key.

**Fix**: save with `onnx.save(model, path, save_as_external_data=True)`,
which writes the entries.
"#
    ),
    rule!(
        EXTERNAL_DATA_OUTSIDE,
        "External data outside the model's folder",
        Error,
        false,
        "external data location is absolute, uses `..`, or is a symlink leaving the model's folder",
        r#"
External data is read only from inside the model's folder, so a model
cannot make a tool read `/etc/passwd` or a file of another project.

**Example**: `location = "../../secrets.bin"`

**Fix**: keep the data file next to the model and name it relatively.
"#
    ),
    rule!(
        EXTERNAL_DATA_MISSING,
        "External data file missing",
        Error,
        false,
        "the external data file does not exist or is not a regular file",
        r#"
**Example**: `model.onnx` copied without its `model.onnx.data`.

**Fix**: copy the data file along with the model (same folder, same name).
"#
    ),
    rule!(
        EXTERNAL_DATA_RANGE,
        "External data past the end of its file",
        Error,
        false,
        "offset + length of external data end past the end of the file",
        r#"
**Example**: `offset = 4096, length = 1024` in a 4,100-byte data file
(a data file cut short or from another export).

**Fix**: save the model and its data again together.
"#
    ),
    rule!(
        FUNCTION_NAME,
        "Unnamed local function",
        Error,
        false,
        "a local function has an empty name or (IR >= 8) no domain",
        r#"
**Example**: `onnx.helper.make_function("", "", ...)` in `model.functions`.

**Fix**: give the function a name and a domain (`"local"`).
"#
    ),
    rule!(
        FUNCTION_DUPLICATE,
        "Duplicate local function",
        Error,
        false,
        "two local functions share (domain, name, overload)",
        r#"
**Example**: two functions `local.Block` in `model.functions`.

**Fix**: rename one (and its calls), or drop the copy.
"#
    ),
    rule!(
        FUNCTION_SIGNATURE,
        "Bad function signature",
        Error,
        false,
        "a local function lists an output or attribute twice",
        r#"
**Example**: a function with outputs `["y", "y"]`.

**Fix**: name each output and attribute once.
"#
    ),
    rule!(
        FUNCTION_OPSET_MISMATCH,
        "Function opset differs from the model's",
        Error,
        false,
        "a function imports a domain at a version whose operator differs from the model's import",
        r#"
A function body runs with the model's operators; importing a domain at a
version where an operator it uses means something else is an error.

**Example**: the model imports `"" : 17`, a function `"" : 11`, and the
function uses `Squeeze` (whose `axes` moved to an input at 13).

**Fix**: import the same opset in the function as in the model.
"#
    ),
    rule!(
        TRAINING_BINDING,
        "Bad training binding",
        Error,
        false,
        "a training-info binding names no initializer or no output of its graph",
        r#"
**Example**: `training_info[0].update_binding` maps `"w"` when the main
graph has no initializer `w`.

**Fix**: bind existing initializers to outputs of the training graph.
"#
    ),
    rule!(
        neuride_onnx::fix::UNUSED_INITIALIZER,
        "Unused initializer",
        Warning,
        true,
        "an initializer no node, subgraph or graph output reads",
        r#"
Weights nothing reads make the file bigger and slower to load; they are
often left behind by graph surgery or constant folding.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) <float[2] w = {1, 2}, float[2] old = {3, 4}> { y = Add(x, w) }
```

**Fix**: remove it. `neuride check --fix` does (models with training info
are left alone: their bindings may name initializers).
"#
    ),
    rule!(
        neuride_onnx::fix::UNUSED_INPUT,
        "Unused overridable input",
        Warning,
        true,
        "a graph input backed by an initializer that nothing reads",
        r#"
An input that is also an initializer is a default callers may override;
when no node reads it, it only widens the model's interface.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x, float[2] scale) => (float[2] y) <float[2] scale = {1, 1}> { y = Relu(x) }
```

**Fix**: remove the input and its initializer. `neuride check --fix` does.
"#
    ),
    rule!(
        neuride_onnx::fix::UNUSED_VALUE_INFO,
        "Dangling value info",
        Warning,
        true,
        "a `value_info` entry names no value of its graph",
        r#"
`value_info` annotates values of its graph with types; an entry for a name
the graph does not have is left over from an edit.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2] x) => (float[2] y) <float[2] gone> { y = Relu(x) }
```
(`gone` in `graph.value_info`.)

**Fix**: remove it. `neuride check --fix` does.
"#
    ),
    rule!(
        "onnx/shape-mismatch",
        "Shapes or types do not fit",
        Error,
        false,
        "shape inference found inputs whose shapes or element types the operator cannot take",
        r#"
Shape inference follows every node; this one receives inputs it cannot
combine, so the model fails when run.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2,3] a, float[4,5] b) => (float[2,5] y) { y = MatMul(a, b) }
```

**Fix**: correct the shapes (a reshape or transpose is usually missing).
"#
    ),
    rule!(
        "onnx/shape-declared-mismatch",
        "Declared type differs from inferred",
        Warning,
        false,
        "a value's declared type or shape differs from what shape inference finds",
        r#"
A graph output or `value_info` declares a type or shape the nodes do not
produce: stale annotations after editing, or a real bug.

**Example**:
```
<ir_version: 8, opset_import: ["" : 17]>
g (float[2,3] x) => (float[3,2] y) { y = Relu(x) }
```

**Fix**: correct the declaration (`float[2,3] y`), or the graph.
"#
    ),
];
