//! When tract's result can be trusted over the evaluator's.

use neuride_onnx::proto::GraphProto;

pub(crate) fn tract_is_faithful(_graph: &GraphProto) -> bool {
    false
}
