//! Every diagnostic code the checker emits. The list is the contract with
//! editors and CI scripts: codes are never renamed. What each means, its
//! severity and an example live in the rule registry (`neuride_ide::rules`,
//! `docs/rules.md`), which a test keeps in step with every code emitted.

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
