//! `model`, `weights` and `dataset` items: the loader call, the file it
//! binds (missing, wrong format), and a dataset's `x`/`y` keys.

use super::{Checker, Def};
use crate::catalog;
use crate::syntax::ast::ItemKind;
use crate::workspace::{FileFact, Shape};

pub(super) fn check_file_item(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    let loader = match item.kind {
        ItemKind::Model => "onnx",
        ItemKind::Weights | ItemKind::Dataset => "npz",
        _ => return,
    };
    let Some(value) = &item.value else { return };
    let Some(call) = value.as_call() else {
        let text = &checker.parse.text[value.range.start..value.range.end];
        if !text.is_empty() {
            checker.error(
                value.range,
                "neuro/wrong-kind",
                format!("expected `{loader}(\"path\")`, found `{text}`"),
            );
        }
        return;
    };
    if call.callee.text != loader {
        checker.error(
            call.callee.range,
            "neuro/wrong-kind",
            format!(
                "expected `{loader}(...)` for a {}, found `{}(...)`",
                item.kind.keyword(),
                call.callee.text
            ),
        );
        return;
    }
    let Some(spec) = catalog::call(loader) else {
        return;
    };
    // Only datasets take `x:` and `y:`.
    if item.kind != ItemKind::Dataset {
        for arg in &call.args {
            if let Some(name) = &arg.name {
                checker.error(
                    name.range,
                    "neuro/unknown-argument",
                    format!(
                        "expected only a path for a {}, found `{}:` (x and y are for datasets)",
                        item.kind.keyword(),
                        name.text
                    ),
                );
            }
        }
    }
    checker.check_call_args(call, spec, None, true);
    let Some(path_arg) = call.positional().next() else {
        return;
    };
    let Some(path) = path_arg.value.as_string() else {
        return;
    };
    let path = path.to_string();
    checker.analysis.items[index].path = Some(path.clone());
    let range = path_arg.value.range;
    if item.kind == ItemKind::Model {
        match checker.model_fact(&path) {
            FileFact::Missing => checker.error(
                range,
                "neuro/missing-file",
                format!("expected an ONNX model at \"{path}\", found no file"),
            ),
            FileFact::WrongFormat(why) => checker.error(
                range,
                "neuro/wrong-format",
                format!("expected an ONNX model at \"{path}\", found {why}"),
            ),
            FileFact::Ok(facts) => {
                let info = &mut checker.analysis.items[index];
                info.inputs = facts
                    .inputs
                    .iter()
                    .map(|t| (t.name.clone(), t.shape.as_ref().map(Shape::per_sample)))
                    .collect();
                info.outputs = facts
                    .outputs
                    .iter()
                    .map(|t| (t.name.clone(), t.shape.as_ref().map(Shape::per_sample)))
                    .collect();
                info.parameters = facts.parameter_count;
                info.model = Some(facts);
            }
        }
        return;
    }
    match checker.archive_fact(&path) {
        FileFact::Missing => checker.error(
            range,
            "neuro/missing-file",
            format!("expected an NPZ archive at \"{path}\", found no file"),
        ),
        FileFact::WrongFormat(why) => checker.error(
            range,
            "neuro/wrong-format",
            format!("expected an NPZ archive at \"{path}\", found {why}"),
        ),
        FileFact::Ok(facts) => {
            checker.analysis.items[index].parameters = facts
                .arrays
                .iter()
                .map(|array| array.shape.iter().product::<u64>())
                .sum();
            checker.analysis.items[index].archive = Some(facts);
        }
    }
    if item.kind != ItemKind::Dataset {
        return;
    }
    let explicit_x = call.named("x").is_some();
    for role in ["x", "y"] {
        let Some(arg) = call.named(role) else {
            continue;
        };
        let Some(key) = arg.value.as_string() else {
            continue;
        };
        checker.reference(
            arg.value.range,
            Def::ArchiveKey {
                item: index,
                key: key.to_string(),
            },
            false,
        );
        checker.archive_key_shape(index, key, arg.value.range);
    }
    if !explicit_x
        && checker.analysis.items[index]
            .archive
            .as_ref()
            .is_some_and(|archive| archive.array("x").is_none())
    {
        checker.error(
            call.callee.range,
            "neuro/unknown-key",
            format!("expected an array \"x\" in \"{path}\" (the default input key), found none; name the key with `x: \"...\"`"),
        );
    }
    if let Some(shape) = checker.dataset_input_shape(index) {
        checker.analysis.items[index].inputs = vec![("x".to_string(), Some(shape))];
    }
}
