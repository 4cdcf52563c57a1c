//! Document symbols: items with their entries as children.

use crate::syntax::TextRange;
use crate::syntax::ast::{EntryKind, ItemKind, SourceFile};

/// What a symbol is: an item or an entry, with the kind the syntax gives
/// it (the server maps these to its protocol's kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Item(ItemKind),
    Entry(EntryKind),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    pub range: TextRange,
    pub selection_range: TextRange,
    pub children: Vec<DocumentSymbol>,
}

pub fn document_symbols(file: &SourceFile, text: &str) -> Vec<DocumentSymbol> {
    file.items
        .iter()
        .map(|item| {
            let detail = match (&item.value, item.kind) {
                (Some(value), _) => Some(text[value.range.start..value.range.end].to_string()),
                (None, ItemKind::Simulate | ItemKind::Sweep | ItemKind::Infer) => {
                    item.data.as_ref().map(|data| format!("on {}", data.text))
                }
                _ => None,
            };
            let children = item
                .entries()
                .iter()
                .map(|entry| {
                    let name = match entry.kind {
                        EntryKind::Pipeline => entry
                            .stages
                            .iter()
                            .map(|stage| stage.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" -> "),
                        _ => entry
                            .name
                            .as_ref()
                            .map(|name| name.text.clone())
                            .unwrap_or_else(|| entry.kind.keyword().to_string()),
                    };
                    let detail = entry
                        .ty
                        .as_ref()
                        .map(|ty| ty.range)
                        .or(entry.value.as_ref().map(|value| value.range))
                        .map(|range| text[range.start..range.end].to_string());
                    let selection_range = entry
                        .name
                        .as_ref()
                        .map(|name| name.range)
                        .unwrap_or(entry.keyword_range);
                    DocumentSymbol {
                        name: if name.is_empty() {
                            "pipeline".into()
                        } else {
                            name
                        },
                        detail,
                        kind: SymbolKind::Entry(entry.kind),
                        range: entry.range,
                        selection_range,
                        children: Vec::new(),
                    }
                })
                .collect();
            DocumentSymbol {
                name: item.label(),
                detail,
                kind: SymbolKind::Item(item.kind),
                range: item.range,
                selection_range: item.selection_range(),
                children,
            }
        })
        .collect()
}
