//! `model`, `weights` and `dataset` items: the loader call, the file it
//! binds (missing, wrong format), and a dataset's `x`/`y` keys.

use super::values::Value;
use super::{Checker, Def, ImageDataset};
use crate::catalog;
use crate::syntax::ast::ItemKind;
use crate::workspace::Shape;

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
    if item.kind == ItemKind::Dataset && call.callee.text == "to_image" {
        return; // checked by `check_image_dataset` once the others are bound
    }
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
        let fact = checker.model_fact(&path);
        if let Some(facts) = checker.file_facts(fact, range, "an ONNX model", &path) {
            let info = &mut checker.analysis.items[index];
            info.set_signature(&facts);
            info.model = Some(facts);
        }
        return;
    }
    let fact = checker.archive_fact(&path);
    if let Some(facts) = checker.file_facts(fact, range, "an NPZ archive", &path) {
        checker.analysis.items[index].parameters = facts
            .arrays
            .iter()
            .map(|array| array.shape.iter().product::<u64>())
            .sum();
        checker.analysis.items[index].archive = Some(facts);
    }
    if item.kind != ItemKind::Dataset {
        return;
    }
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
    if let Some(shape) = checker.dataset_input_shape(index) {
        checker.analysis.items[index].inputs = vec![("x".to_string(), Some(shape))];
    }
}

/// A dataset bound without `x:` reads the archive's array `x`, which must
/// be there, unless every block that runs it runs a network of several
/// inputs (a NIR graph's Inputs), which read the arrays of their names
/// (checked with the block). After the networks: it needs their inputs.
pub(super) fn check_default_input_key(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    let Some(call) = item.value.as_ref().and_then(|value| value.as_call()) else {
        return;
    };
    let no_x = checker.analysis.items[index]
        .archive
        .as_ref()
        .is_some_and(|archive| archive.array("x").is_none());
    if item.kind != ItemKind::Dataset
        || call.callee.text != "npz"
        || call.named("x").is_some()
        || !no_x
    {
        return;
    }
    let name = item.label();
    let mut runs = checker
        .items()
        .iter()
        .filter(|run| matches!(run.kind, ItemKind::Simulate | ItemKind::Sweep))
        .filter(|run| run.data.as_ref().is_some_and(|data| data.text == name))
        .map(|run| {
            run.target
                .as_ref()
                .and_then(|target| checker.analysis.names.get(&target.text))
                .is_some_and(|&network| checker.analysis.items[network].inputs.len() > 1)
        })
        .peekable();
    if runs.peek().is_some() && runs.all(|several| several) {
        return;
    }
    let path = checker.analysis.items[index]
        .path
        .clone()
        .unwrap_or_default();
    checker.error(
        call.callee.range,
        "neuro/unknown-key",
        format!("expected an array \"x\" in \"{path}\" (the default input key), found none; name the key with `x: \"...\"`"),
    );
}

/// A dataset made by `to_image(DATA, ...)`: its arguments, the table it
/// reads (an `npz` dataset whose `x` is `[rows, features]`), the dataset
/// its map is fitted on, and its per-sample shape `[1, height, width]`.
pub(super) fn check_image_dataset(checker: &mut Checker, index: usize) {
    let item = &checker.items()[index];
    if item.kind != ItemKind::Dataset {
        return;
    }
    let Some(call) = item.value.as_ref().and_then(|v| v.as_call()) else {
        return;
    };
    if call.callee.text != "to_image" {
        return;
    }
    let Some(spec) = catalog::call("to_image") else {
        return;
    };
    let values = checker.check_call_args(call, spec, None, true);
    let word = |key: &str, fallback: &str| match values.get(key) {
        Some(Value::Word(word)) => word.clone(),
        _ => fallback.to_owned(),
    };
    let method = word("method", "pca");
    let assign = word("assign", "bin");
    let size = match values.get("size") {
        Some(Value::Size(size)) => *size,
        _ => [16, 16],
    };
    let map = match values.get("map") {
        Some(Value::Str(path)) => Some(path.clone()),
        _ => None,
    };
    let Some(&Value::Item(source)) = values.get("data") else {
        return;
    };
    let table_of = |checker: &mut Checker, dataset: usize, role: &str, range| {
        if checker.analysis.items[dataset].image.is_some() {
            checker.error(
                range,
                "neuro/wrong-kind",
                format!(
                    "expected {role} to be a dataset read with `npz(...)`, found `{}`, itself made by `to_image`",
                    checker.items()[dataset].label()
                ),
            );
            return None;
        }
        let shape = checker.dataset_input_shape(dataset)?;
        let features = shape.elements();
        if shape.rank() == 0 || features == Some(0) {
            checker.error(
                range,
                "neuro/shape-mismatch",
                format!(
                    "expected {role} to hold a table [rows, features], found samples of shape {shape}"
                ),
            );
            return None;
        }
        features
    };
    let data_range = call
        .positional()
        .next()
        .map_or(call.callee.range, |arg| arg.value.range);
    let features = table_of(checker, source, "`data`", data_range);
    let fit = match values.get("fit") {
        Some(&Value::Item(fit)) => {
            let fit_range = call
                .named("fit")
                .map_or(call.callee.range, |a| a.value.range);
            let fit_features = table_of(checker, fit, "`fit`", fit_range);
            if let (Some(a), Some(b)) = (features, fit_features)
                && a != b
            {
                checker.error(
                    fit_range,
                    "neuro/shape-mismatch",
                    format!("expected `fit` to have the same {a} features as `data`, found {b}"),
                );
            }
            Some(fit)
        }
        _ => None,
    };
    if method == "tsne"
        && map.is_none()
        && let Some(features) = features
        && features as f64 <= catalog::IMAGE_TSNE_PERPLEXITY
    {
        let range = call
            .named("method")
            .map_or(call.callee.range, |a| a.value.range);
        checker.error(
            range,
            "neuro/range",
            format!(
                "expected more features than t-SNE's perplexity ({}) for `method: tsne`, found {features}; use pca or kpca",
                catalog::IMAGE_TSNE_PERPLEXITY
            ),
        );
    }
    let info = &mut checker.analysis.items[index];
    info.inputs = vec![("x".to_string(), Some(Shape::known(&[1, size[0], size[1]])))];
    info.image = Some(ImageDataset {
        source,
        fit,
        size,
        method,
        assign,
        map,
        features,
    });
}
