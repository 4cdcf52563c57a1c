//! Safe fixes of a model file (`neuride check --fix`/`--diff`, the editor's
//! code actions): the ONNX core's fixes (`neuride_onnx::fix`) applied to the
//! file's model, verified by the checker, with the new bytes to write and a
//! diff of the text view. Writing is the caller's (atomically, through
//! [`crate::weights::write_atomically`]).

use crate::model::ModelView;
use neuride_onnx::fix::Applied;
use neuride_onnx::proto::ModelProto;
use prost::Message;
use std::path::Path;

pub use neuride_onnx::fix::FIXABLE;

pub struct ModelFix {
    pub original: ModelProto,
    pub fixed: ModelProto,
    pub applied: Vec<Applied>,
}

impl ModelFix {
    /// The fixed model, serialized.
    pub fn bytes(&self) -> Vec<u8> {
        self.fixed.encode_to_vec()
    }

    /// A unified diff of the model's text view (`neuride print`) before
    /// and after, labelled with `path`.
    pub fn diff(&self, path: &str) -> String {
        let before = ModelView::of_model(&self.original).text;
        let after = ModelView::of_model(&self.fixed).text;
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(2)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string()
    }
}

/// The fixes for the model in `contents` (read from `path`) whose codes
/// `allowed` accepts; `Ok(None)` when there is nothing to fix. A file that
/// does not decode is an error: there is nothing safe to do with it.
pub fn fix_model(
    path: &Path,
    contents: &crate::source::Contents,
    allowed: &dyn Fn(&str) -> bool,
) -> Result<Option<ModelFix>, String> {
    let decoded = match contents.file() {
        Some(file) => neuride_onnx::load::decode_mapped(&contents.bytes, file),
        None => neuride_onnx::load::decode(contents.bytes.clone()),
    };
    let original = decoded.map_err(|error| error.to_string())?;
    let (fixed, applied) = crate::model::check::with_context(path, |context| {
        neuride_onnx::fix::fix(&original, context, allowed)
    });
    Ok((!applied.is_empty()).then_some(ModelFix {
        original,
        fixed,
        applied,
    }))
}
