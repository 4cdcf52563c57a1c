//! Semantic tokens: every token classified from its place in the tree and
//! what its name resolves to. Ranges are byte ranges (block comments may
//! span lines; the server splits them if the client cannot take that).

use crate::catalog;
use crate::check::{Analysis, Def};
use crate::syntax::ast::ItemKind;
use crate::syntax::{NodeKind, Parse, SyntaxElement, SyntaxNode, TextRange, TokenKind};

/// The legend: index into this list is `SemanticToken::token_type`.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",    // 0
    "variable",   // 1
    "function",   // 2
    "parameter",  // 3
    "property",   // 4
    "string",     // 5
    "number",     // 6
    "comment",    // 7
    "operator",   // 8
    "type",       // 9
    "class",      // 10
    "namespace",  // 11
    "enumMember", // 12
    "event",      // 13
];

/// Bit `i` of `SemanticToken::modifiers` is this list's entry `i`.
pub const TOKEN_MODIFIERS: &[&str] = &["declaration", "definition", "readonly", "defaultLibrary"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: TextRange,
    pub token_type: u32,
    pub modifiers: u32,
}

const DECLARATION: u32 = 1;
const DEFINITION: u32 = 2;
const READONLY: u32 = 4;
const DEFAULT_LIBRARY: u32 = 8;

pub fn semantic_tokens(parse: &Parse, analysis: &Analysis) -> Vec<SemanticToken> {
    let mut by_start = std::collections::HashMap::new();
    for reference in &analysis.references {
        by_start.insert(reference.range.start, reference);
    }
    let mut out = Vec::new();
    visit(
        parse.tree.root(),
        NodeKind::SourceFile,
        parse,
        analysis,
        &by_start,
        &mut out,
    );
    out
}

fn visit(
    node: SyntaxNode<'_>,
    parent: NodeKind,
    parse: &Parse,
    analysis: &Analysis,
    by_start: &std::collections::HashMap<usize, &crate::check::Reference>,
    out: &mut Vec<SemanticToken>,
) {
    let kind = node.kind();
    for child in node.children() {
        let token = match child {
            SyntaxElement::Node(inner) => {
                visit(inner, kind, parse, analysis, by_start, out);
                continue;
            }
            SyntaxElement::Token(token) => token,
        };
        let (token_type, modifiers) = match token.kind {
            TokenKind::Whitespace | TokenKind::Error | TokenKind::Eof => continue,
            TokenKind::LineComment | TokenKind::BlockComment => (7, 0),
            TokenKind::String => (5, 0),
            TokenKind::Number => (6, 0),
            TokenKind::TrueKw | TokenKind::FalseKw => (0, READONLY),
            TokenKind::ConvertKw if kind == NodeKind::NameRef => (2, DEFAULT_LIBRARY),
            kind if kind.is_keyword() => (0, 0),
            TokenKind::Ident => {
                match classify_ident(kind, parent, token.range, parse, analysis, by_start) {
                    Some(class) => class,
                    None => continue,
                }
            }
            TokenKind::Arrow
            | TokenKind::FatArrow
            | TokenKind::EqEq
            | TokenKind::NotEq
            | TokenKind::Lt
            | TokenKind::Gt
            | TokenKind::LtEq
            | TokenKind::GtEq
            | TokenKind::Eq
            | TokenKind::At
            | TokenKind::Minus => (8, 0),
            _ => continue,
        };
        out.push(SemanticToken {
            range: token.range,
            token_type,
            modifiers,
        });
    }
}

fn classify_ident(
    node: NodeKind,
    parent: NodeKind,
    range: TextRange,
    parse: &Parse,
    _analysis: &Analysis,
    by_start: &std::collections::HashMap<usize, &crate::check::Reference>,
) -> Option<(u32, u32)> {
    let text = &parse.text[range.start..range.end];
    if let Some(reference) = by_start.get(&range.start) {
        let modifiers = if reference.is_definition {
            DECLARATION | DEFINITION
        } else {
            0
        };
        let token_type = match &reference.def {
            Def::Item(index) => match parse.ast.items.get(*index).map(|item| item.kind) {
                Some(ItemKind::Network) => 10,
                Some(ItemKind::App) => 11,
                _ => 1,
            },
            Def::Entry(item, entry) => {
                let is_rule = parse
                    .ast
                    .items
                    .get(*item)
                    .and_then(|item| item.entries().get(*entry))
                    .is_some_and(|entry| entry.kind == crate::syntax::ast::EntryKind::Rule);
                if is_rule { 13 } else { 1 }
            }
            Def::ArchiveKey { .. } | Def::ModelInput { .. } => 4,
        };
        return Some((token_type, modifiers));
    }
    match (node, parent) {
        (NodeKind::NameRef, NodeKind::CallExpr) => Some((
            2,
            if catalog::call(text).is_some() {
                DEFAULT_LIBRARY
            } else {
                0
            },
        )),
        (NodeKind::NameRef, NodeKind::TensorType) => Some((9, DEFAULT_LIBRARY)),
        (NodeKind::Name, NodeKind::Arg) => Some((3, 0)),
        (NodeKind::Name, NodeKind::SettingEntry) => Some((4, 0)),
        (NodeKind::Name, _) => Some((1, DECLARATION | DEFINITION)),
        (NodeKind::NameRef, NodeKind::PipelineEntry) => Some((2, DEFAULT_LIBRARY)),
        (NodeKind::NameRef, _) => Some((12, READONLY)),
        (NodeKind::Dim, _) => Some((1, READONLY)),
        _ => None,
    }
}
