//! Which model checks run, in one place so the CLI and the server agree:
//! the ONNX core's checker (every `onnx.checker` rule, external data looked
//! up in the model's folder) and the unused values `--fix` removes.
//! Shape-inference diagnostics are added by the caller from the shape facts
//! it computes anyway.

use neuride_onnx::Diagnostic;
use neuride_onnx::check::{CheckContext, ExternalFiles, check_model};
use neuride_onnx::load::ModelDir;
use neuride_onnx::proto::ModelProto;
use std::path::{Path, PathBuf};

pub fn check(path: &Path, proto: &ModelProto) -> Vec<Diagnostic> {
    let mut diagnostics = with_context(path, |context| check_model(proto, context));
    diagnostics.extend(neuride_onnx::fix::unused(proto));
    diagnostics
}

/// Runs `f` with the checker's context for the model at `path` (external
/// data looked up in its folder).
pub fn with_context<R>(path: &Path, f: impl FnOnce(&CheckContext) -> R) -> R {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_owned(),
        _ => PathBuf::from("."),
    };
    let dir = ModelDir::new(folder);
    let context = CheckContext {
        external_files: Some(&dir as &dyn ExternalFiles),
        check_custom_domain: false,
    };
    f(&context)
}
