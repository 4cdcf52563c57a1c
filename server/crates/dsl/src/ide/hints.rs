//! Inlay hints (each layer's output shape) and code lenses (Simulate,
//! Infer, Graph) as data.

use crate::check::Analysis;
use crate::syntax::ast::ItemKind;
use crate::syntax::{Parse, TextRange};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the hint is shown (after the layer's name).
    pub offset: usize,
    pub label: String,
    /// Tooltip.
    pub tooltip: String,
}

pub fn inlay_hints(parse: &Parse, analysis: &Analysis, range: TextRange) -> Vec<InlayHint> {
    let mut hints = Vec::new();
    for layer in &analysis.layers {
        let Some(entry) = parse
            .ast
            .items
            .get(layer.item)
            .and_then(|item| item.entries().get(layer.entry))
        else {
            continue;
        };
        let (Some(name), Some(output)) = (&entry.name, &layer.output) else {
            continue;
        };
        if !range.contains_range(name.range) {
            continue;
        }
        let tooltip = if layer.parameters > 0 {
            format!("output shape per sample; {} parameters", layer.parameters)
        } else {
            "output shape per sample".to_string()
        };
        hints.push(InlayHint {
            offset: name.range.end,
            label: format!(": {output}"),
            tooltip,
        });
    }
    for (index, item) in parse.ast.items.iter().enumerate() {
        if item.kind != ItemKind::Network || item.value.is_none() {
            continue;
        }
        let (Some(name), Some(info)) = (&item.name, analysis.items.get(index)) else {
            continue;
        };
        let (Some((_, Some(input))), Some((_, Some(output)))) =
            (info.inputs.first(), info.outputs.first())
        else {
            continue;
        };
        if range.contains_range(name.range) {
            hints.push(InlayHint {
                offset: name.range.end,
                label: format!(": {input} -> {output}"),
                tooltip: "converted network, per sample".into(),
            });
        }
    }
    hints.sort_by_key(|hint| hint.offset);
    hints
}

/// What a code lens does; the language server maps each to its command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LensAction {
    /// Run a `simulate` block.
    Simulate,
    /// Run an `infer` block.
    Infer,
    /// Run a `sweep` block.
    Sweep,
    /// Draw a model's (or a converted network's source model's) graph.
    Graph,
    /// Run an `app`.
    RunApp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLens {
    /// The item's first line (keyword to name).
    pub range: TextRange,
    pub title: String,
    pub action: LensAction,
    /// Item names: [network, dataset] / [model, dataset] / [name].
    pub arguments: Vec<String>,
}

pub fn code_lenses(parse: &Parse) -> Vec<CodeLens> {
    let mut lenses = Vec::new();
    for item in &parse.ast.items {
        let range = item.keyword_range.cover(item.selection_range());
        let run_args = || {
            vec![
                item.target
                    .as_ref()
                    .map(|t| t.text.clone())
                    .unwrap_or_default(),
                item.data
                    .as_ref()
                    .map(|d| d.text.clone())
                    .unwrap_or_default(),
            ]
        };
        // Runs name their target and dataset; apps and graphs the item itself.
        let (title, action, arguments) = match item.kind {
            ItemKind::Simulate if item.target.is_some() => {
                ("▶ Simulate", LensAction::Simulate, run_args())
            }
            ItemKind::Sweep if item.target.is_some() => ("▶ Sweep", LensAction::Sweep, run_args()),
            ItemKind::Infer if item.target.is_some() => ("▶ Infer", LensAction::Infer, run_args()),
            ItemKind::App if item.name.is_some() => {
                ("▶ Run app", LensAction::RunApp, vec![item.label()])
            }
            ItemKind::Model | ItemKind::Network if item.name.is_some() => {
                ("Graph", LensAction::Graph, vec![item.label()])
            }
            _ => continue,
        };
        lenses.push(CodeLens {
            range,
            title: title.into(),
            action,
            arguments,
        });
    }
    lenses
}
