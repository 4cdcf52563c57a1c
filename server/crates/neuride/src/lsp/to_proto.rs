//! Conversions from the analysis host's editor-level values to LSP types,
//! all in one place.

use ls_types as lsp;
use neuride_ide::symbols::{Symbol, SymbolKind};
use neuride_ide::{FileDiagnostic, Position, Range, Severity};

pub fn position(position: Position) -> lsp::Position {
    lsp::Position {
        line: position.line,
        character: position.character,
    }
}

pub fn range(range: Range) -> lsp::Range {
    lsp::Range {
        start: position(range.start),
        end: position(range.end),
    }
}

pub fn diagnostic(diagnostic: &FileDiagnostic) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: range(diagnostic.range),
        severity: Some(match diagnostic.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lsp::NumberOrString::String(diagnostic.code.clone())),
        source: Some("neuride".into()),
        message: diagnostic.message.clone(),
        ..Default::default()
    }
}

pub fn symbol_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Model => lsp::SymbolKind::MODULE,
        SymbolKind::Graph => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Node => lsp::SymbolKind::FUNCTION,
        SymbolKind::Input => lsp::SymbolKind::VARIABLE,
        SymbolKind::Initializer => lsp::SymbolKind::CONSTANT,
        SymbolKind::Function => lsp::SymbolKind::FUNCTION,
        SymbolKind::Item => lsp::SymbolKind::OBJECT,
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the struct
pub fn document_symbol(symbol: &Symbol) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: symbol.name.clone(),
        detail: (!symbol.detail.is_empty()).then(|| symbol.detail.clone()),
        kind: symbol_kind(symbol.kind),
        tags: None,
        deprecated: None,
        range: range(symbol.range),
        selection_range: range(symbol.selection),
        children: (!symbol.children.is_empty())
            .then(|| symbol.children.iter().map(document_symbol).collect()),
    }
}

/// For clients without hierarchical symbol support.
#[allow(deprecated)]
pub fn flat_symbols(
    symbols: &[Symbol],
    uri: &lsp::Uri,
    container: Option<&str>,
    out: &mut Vec<lsp::SymbolInformation>,
) {
    for symbol in symbols {
        out.push(lsp::SymbolInformation {
            name: symbol.name.clone(),
            kind: symbol_kind(symbol.kind),
            tags: None,
            deprecated: None,
            location: lsp::Location {
                uri: uri.clone(),
                range: range(symbol.selection),
            },
            container_name: container.map(str::to_owned),
        });
        flat_symbols(&symbol.children, uri, Some(&symbol.name), out);
    }
}

pub fn from_position(position: lsp::Position) -> Position {
    Position {
        line: position.line,
        character: position.character,
    }
}
