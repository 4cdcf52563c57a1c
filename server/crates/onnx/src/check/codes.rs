//! Every diagnostic code the checker emits, with a one-line meaning. The list
//! is the contract with editors and CI scripts: codes are never renamed.
//! `docs/onnx-checker.md` lists the same table (a test keeps them in step).

pub const IR_VERSION_MISSING: &str = "onnx/ir-version-missing";
pub const IR_VERSION_UNSUPPORTED: &str = "onnx/ir-version-unsupported";
pub const METADATA_DUPLICATE_KEY: &str = "onnx/metadata-duplicate-key";
pub const OPSET_IMPORT_MISSING: &str = "onnx/opset-import-missing";
pub const OPSET_IMPORT_FORBIDDEN: &str = "onnx/opset-import-forbidden";
pub const OPSET_IMPORT_DUPLICATE: &str = "onnx/opset-import-duplicate";
pub const OPSET_TOO_NEW: &str = "onnx/opset-too-new";
pub const MISSING_GRAPH: &str = "onnx/missing-graph";
pub const GRAPH_NAME: &str = "onnx/graph-name";
pub const TOO_DEEP: &str = "onnx/too-deep";
pub const VALUE_INFO: &str = "onnx/value-info";
pub const SSA: &str = "onnx/ssa";
pub const INITIALIZER_NAME: &str = "onnx/initializer-name";
pub const DUPLICATE_INITIALIZER: &str = "onnx/duplicate-initializer";
pub const INITIALIZER_NOT_INPUT: &str = "onnx/initializer-not-input";
pub const UNDEFINED_INPUT: &str = "onnx/undefined-input";
pub const TOPOLOGICAL_ORDER: &str = "onnx/topological-order";
pub const CYCLE: &str = "onnx/cycle";
pub const UNDEFINED_OUTPUT: &str = "onnx/undefined-output";
pub const NODE_OP_TYPE: &str = "onnx/node-op-type";
pub const NODE_NO_IO: &str = "onnx/node-no-io";
pub const UNKNOWN_DOMAIN: &str = "onnx/unknown-domain";
pub const UNKNOWN_OP: &str = "onnx/unknown-op";
pub const OP_NOT_IN_OPSET: &str = "onnx/op-not-in-opset";
pub const DEPRECATED_OP: &str = "onnx/deprecated-op";
pub const EXPERIMENTAL_OP: &str = "onnx/experimental-op";
pub const ARITY: &str = "onnx/arity";
pub const MISSING_INPUT: &str = "onnx/missing-input";
pub const MISSING_OUTPUT: &str = "onnx/missing-output";
pub const DUPLICATE_ATTRIBUTE: &str = "onnx/duplicate-attribute";
pub const UNKNOWN_ATTRIBUTE: &str = "onnx/unknown-attribute";
pub const ATTRIBUTE_TYPE: &str = "onnx/attribute-type";
pub const MISSING_ATTRIBUTE: &str = "onnx/missing-attribute";
pub const ATTRIBUTE_PROTO: &str = "onnx/attribute-proto";
pub const ATTRIBUTE_REF: &str = "onnx/attribute-ref";
pub const TENSOR_DATA_TYPE: &str = "onnx/tensor-data-type";
pub const TENSOR_DATA_FIELD: &str = "onnx/tensor-data-field";
pub const TENSOR_DIMS: &str = "onnx/tensor-dims";
pub const TENSOR_SIZE: &str = "onnx/tensor-size";
pub const SPARSE_TENSOR: &str = "onnx/sparse-tensor";
pub const SPARSE_INDEX: &str = "onnx/sparse-index";
pub const EXTERNAL_DATA_LOCATION: &str = "onnx/external-data-location";
pub const EXTERNAL_DATA_OUTSIDE: &str = "onnx/external-data-outside";
pub const EXTERNAL_DATA_MISSING: &str = "onnx/external-data-missing";
pub const EXTERNAL_DATA_RANGE: &str = "onnx/external-data-range";
pub const FUNCTION_NAME: &str = "onnx/function-name";
pub const FUNCTION_DUPLICATE: &str = "onnx/function-duplicate";
pub const FUNCTION_SIGNATURE: &str = "onnx/function-signature";
pub const FUNCTION_OPSET_MISMATCH: &str = "onnx/function-opset-mismatch";
pub const TRAINING_BINDING: &str = "onnx/training-binding";

/// (code, severity, one-line meaning), in the order of `docs/onnx-checker.md`.
pub const ALL: &[(&str, &str, &str)] = &[
    (IR_VERSION_MISSING, "error", "`ir_version` is not set (0)"),
    (
        IR_VERSION_UNSUPPORTED,
        "error",
        "`ir_version` is newer than the newest IR this checker knows",
    ),
    (
        METADATA_DUPLICATE_KEY,
        "error",
        "two `metadata_props` entries share a key",
    ),
    (
        OPSET_IMPORT_MISSING,
        "error",
        "IR >= 3 but `opset_import` is empty",
    ),
    (
        OPSET_IMPORT_FORBIDDEN,
        "error",
        "IR < 3 but `opset_import` is given",
    ),
    (
        OPSET_IMPORT_DUPLICATE,
        "warning",
        "a domain is imported twice (the last version wins, as in onnx)",
    ),
    (
        OPSET_TOO_NEW,
        "warning",
        "a standard domain is imported at a version newer than the schemas know",
    ),
    (MISSING_GRAPH, "error", "the model has no graph"),
    (GRAPH_NAME, "error", "a graph has an empty name"),
    (
        TOO_DEEP,
        "error",
        "subgraphs are nested deeper than the checker follows (64 levels)",
    ),
    (
        VALUE_INFO,
        "error",
        "a graph input/output/value_info lacks a name, type, element type or shape, or has an unknown element type",
    ),
    (
        SSA,
        "error",
        "a value name is defined twice (inputs, initializers, node outputs, function inputs)",
    ),
    (
        INITIALIZER_NAME,
        "error",
        "an initializer (dense or sparse) has an empty name",
    ),
    (
        DUPLICATE_INITIALIZER,
        "error",
        "two initializers (dense or sparse) share a name",
    ),
    (
        INITIALIZER_NOT_INPUT,
        "error",
        "IR <= 3: an initializer is not also a graph input",
    ),
    (
        UNDEFINED_INPUT,
        "error",
        "a node input is defined by no node, graph input, initializer or outer scope",
    ),
    (
        TOPOLOGICAL_ORDER,
        "error",
        "a node uses a value produced by a later node (nodes must be sorted)",
    ),
    (
        CYCLE,
        "error",
        "nodes depend on each other in a cycle (named node by node)",
    ),
    (
        UNDEFINED_OUTPUT,
        "error",
        "a graph or function output is produced by nothing",
    ),
    (NODE_OP_TYPE, "error", "a node has an empty `op_type`"),
    (NODE_NO_IO, "error", "a node has neither inputs nor outputs"),
    (
        UNKNOWN_DOMAIN,
        "error",
        "a node's domain has no `opset_import` entry",
    ),
    (
        UNKNOWN_OP,
        "error",
        "no operator of that name exists in a standard domain",
    ),
    (
        OP_NOT_IN_OPSET,
        "error",
        "the operator exists, but only from a later opset than the model imports",
    ),
    (
        DEPRECATED_OP,
        "warning",
        "the operator version in force is deprecated (removed) at the imported opset; onnx.checker rejects it",
    ),
    (
        EXPERIMENTAL_OP,
        "warning",
        "a removed experimental operator (ATen, Affine, Crop, ...)",
    ),
    (
        ARITY,
        "error",
        "a node has fewer or more inputs/outputs than its operator (or local function) allows",
    ),
    (
        MISSING_INPUT,
        "error",
        "a required (single) input is given as the empty name",
    ),
    (
        MISSING_OUTPUT,
        "error",
        "a required (single) output is given as the empty name",
    ),
    (
        DUPLICATE_ATTRIBUTE,
        "error",
        "a node sets an attribute twice",
    ),
    (
        UNKNOWN_ATTRIBUTE,
        "error",
        "the operator declares no attribute of that name",
    ),
    (
        ATTRIBUTE_TYPE,
        "error",
        "an attribute's type differs from the one the operator declares",
    ),
    (
        MISSING_ATTRIBUTE,
        "error",
        "a required attribute is not set",
    ),
    (
        ATTRIBUTE_PROTO,
        "error",
        "an AttributeProto is malformed: no name, no type, several value fields, type vs field mismatch, missing t/g/tp",
    ),
    (
        ATTRIBUTE_REF,
        "error",
        "`ref_attr_name` outside a function, or naming no attribute of the function",
    ),
    (
        TENSOR_DATA_TYPE,
        "error",
        "a tensor's `data_type` is missing, UNDEFINED or unknown",
    ),
    (
        TENSOR_DATA_FIELD,
        "error",
        "a tensor has no or several value fields, the wrong field for its type, strings in raw_data, or data besides external data",
    ),
    (
        TENSOR_DIMS,
        "error",
        "a tensor has a negative dim or more elements than 64 bits count",
    ),
    (
        TENSOR_SIZE,
        "error",
        "a tensor's data length differs from dims x element type",
    ),
    (
        SPARSE_TENSOR,
        "error",
        "a sparse tensor's values/indices/dims are malformed",
    ),
    (
        SPARSE_INDEX,
        "error",
        "a sparse index is out of range or not in ascending order",
    ),
    (
        EXTERNAL_DATA_LOCATION,
        "error",
        "external data has no/empty location, or a bad offset/length",
    ),
    (
        EXTERNAL_DATA_OUTSIDE,
        "error",
        "external data location is absolute, uses `..`, or is a symlink leaving the model's folder",
    ),
    (
        EXTERNAL_DATA_MISSING,
        "error",
        "the external data file does not exist or is not a regular file",
    ),
    (
        EXTERNAL_DATA_RANGE,
        "error",
        "offset + length of external data end past the end of the file",
    ),
    (
        FUNCTION_NAME,
        "error",
        "a local function has an empty name or (IR >= 8) no domain",
    ),
    (
        FUNCTION_DUPLICATE,
        "error",
        "two local functions share (domain, name, overload)",
    ),
    (
        FUNCTION_SIGNATURE,
        "error",
        "a local function lists an output or attribute twice",
    ),
    (
        FUNCTION_OPSET_MISMATCH,
        "error",
        "a function imports a domain at a version whose operator differs from the model's import",
    ),
    (
        TRAINING_BINDING,
        "error",
        "a training-info binding names no initializer or no output of its graph",
    ),
];
