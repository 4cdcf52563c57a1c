//! Document symbols and go-to-definition on a model's text view, and
//! workspace symbols across models (the model itself and its graph nodes)
//! and `.neuro` files.

use crate::analysis::FileAnalysis;
use crate::model::ModelAnalysis;
use crate::model::view::AnchorRange;
use crate::neuro::NeuroAnalysis;
use crate::report::{Position, Range};
use neuride_onnx::{Anchor, GraphId};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    Model,
    Graph,
    Node,
    Input,
    Initializer,
    Function,
    /// A `.neuro` item (network, run, app, ...).
    Item,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Symbol {
    pub name: String,
    pub detail: String,
    pub kind: SymbolKind,
    pub range: Range,
    pub selection: Range,
    pub children: Vec<Symbol>,
}

/// The outline of a model's text view: each graph with its inputs,
/// initializers and nodes (subgraphs nested under the graph they belong to
/// are listed after it, flat, to keep the outline readable).
pub fn model_symbols(model: &ModelAnalysis) -> Vec<Symbol> {
    let Some(proto) = model.proto() else {
        return Vec::new();
    };
    let mut graphs: Vec<Symbol> = Vec::new();
    for item in &model.view.anchors {
        match &item.anchor {
            Anchor::Graph(id) => graphs.push(Symbol {
                name: graph_label(proto, id),
                detail: String::new(),
                kind: SymbolKind::Graph,
                range: item.range,
                selection: item.selection,
                children: Vec::new(),
            }),
            Anchor::Node { graph, index } => {
                let Some(node) = crate::model::node(proto, graph, *index) else {
                    continue;
                };
                let name = if node.name().is_empty() {
                    format!("#{index}")
                } else {
                    node.name().to_owned()
                };
                push_child(
                    &mut graphs,
                    symbol(item, name, node.op_type().to_owned(), SymbolKind::Node),
                );
            }
            Anchor::Initializer { name, .. } => {
                push_child(
                    &mut graphs,
                    symbol(
                        item,
                        name.clone(),
                        "initializer".into(),
                        SymbolKind::Initializer,
                    ),
                );
            }
            Anchor::Value { graph, name } if is_graph_input(proto, graph, name) => {
                push_child(
                    &mut graphs,
                    symbol(item, name.clone(), "input".into(), SymbolKind::Input),
                );
            }
            _ => {}
        }
    }
    // The graph's range covers only its header; widen it to its children so
    // editors nest the outline correctly.
    for graph in &mut graphs {
        if let Some(last) = graph.children.iter().map(|c| c.range.end).max() {
            graph.range.end = graph.range.end.max(last);
        }
    }
    graphs
}

fn symbol(item: &AnchorRange, name: String, detail: String, kind: SymbolKind) -> Symbol {
    Symbol {
        name,
        detail,
        kind,
        range: item.range,
        selection: item.selection,
        children: Vec::new(),
    }
}

fn push_child(graphs: &mut [Symbol], child: Symbol) {
    if let Some(graph) = graphs.last_mut() {
        graph.children.push(child);
    }
}

fn is_graph_input(proto: &neuride_onnx::proto::ModelProto, graph: &GraphId, name: &str) -> bool {
    crate::model::graph(proto, graph).is_some_and(|g| g.input.iter().any(|i| i.name() == name))
}

fn graph_label(proto: &neuride_onnx::proto::ModelProto, id: &GraphId) -> String {
    let name = crate::model::graph(proto, id)
        .map(|g| g.name().to_owned())
        .unwrap_or_default();
    match id {
        GraphId::Sub(_, index, attribute) => format!("{name} (node #{index} .{attribute})"),
        _ if name.is_empty() => "graph".into(),
        _ => name,
    }
}

/// Where the value under `position` is produced: its node output, graph
/// input or initializer. `None` when the cursor is on no value use.
pub fn model_definition(model: &ModelAnalysis, position: Position) -> Option<Range> {
    let value_use = model.view.use_at(position)?;
    // A value used in a subgraph may come from an enclosing graph.
    let mut graph = Some(value_use.graph.clone());
    while let Some(id) = graph {
        if let Some(item) = model.view.definition_of(&id, &value_use.name) {
            return Some(item.selection);
        }
        graph = match id {
            GraphId::Sub(parent, _, _) => Some(*parent),
            _ => None,
        };
    }
    None
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkspaceSymbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The file; for models, ranges refer to the model's text view.
    pub path: PathBuf,
    pub range: Range,
    /// The model or file the symbol is in.
    pub container: String,
}

/// Models, graph nodes and `.neuro` items whose name contains `query`
/// (case-insensitive; an empty query matches everything), at most `limit`.
pub fn workspace_symbols(
    analyses: &[std::sync::Arc<FileAnalysis>],
    query: &str,
    limit: usize,
) -> Vec<WorkspaceSymbol> {
    let query = query.to_lowercase();
    let matches = |name: &str| query.is_empty() || name.to_lowercase().contains(&query);
    let mut found = Vec::new();
    for analysis in analyses {
        let container = analysis
            .path()
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut push = |name: String, kind, range| {
            if found.len() < limit && matches(&name) {
                found.push(WorkspaceSymbol {
                    name,
                    kind,
                    path: analysis.path().to_owned(),
                    range,
                    container: container.clone(),
                });
            }
        };
        match analysis.as_ref() {
            FileAnalysis::Model(model) => {
                let stem = model
                    .path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                push(stem, SymbolKind::Model, model.view.header_range());
                let Some(proto) = model.proto() else { continue };
                for item in &model.view.anchors {
                    let Anchor::Node { graph, index } = &item.anchor else {
                        continue;
                    };
                    let Some(node) = crate::model::node(proto, graph, *index) else {
                        continue;
                    };
                    let name = if node.name().is_empty() {
                        format!("{} #{index}", node.op_type())
                    } else {
                        node.name().to_owned()
                    };
                    push(name, SymbolKind::Node, item.selection);
                }
            }
            FileAnalysis::Neuro(neuro) => {
                for symbol in neuro_symbols(neuro) {
                    push(symbol.name, SymbolKind::Item, symbol.selection);
                }
            }
            FileAnalysis::Archive(_) => {}
        }
        if found.len() >= limit {
            break;
        }
    }
    found
}

/// The items of a `.neuro` file for the outline and workspace symbols.
pub fn neuro_symbols(neuro: &NeuroAnalysis) -> Vec<Symbol> {
    fn convert(neuro: &NeuroAnalysis, symbol: &neuride_dsl::DocumentSymbol) -> Symbol {
        Symbol {
            name: symbol.name.clone(),
            detail: symbol.detail.clone().unwrap_or_default(),
            kind: SymbolKind::Item,
            range: neuro.range(symbol.range),
            selection: neuro.range(symbol.selection_range),
            children: symbol.children.iter().map(|c| convert(neuro, c)).collect(),
        }
    }
    neuride_dsl::document_symbols(&neuro.parse.ast, &neuro.text)
        .iter()
        .map(|s| convert(neuro, s))
        .collect()
}
