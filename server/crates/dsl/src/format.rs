//! The formatter: one canonical layout, comments kept, idempotent.
//!
//! Style (also in docs/neuro-language.md): one item or entry per line; block
//! bodies indented by four spaces; `{` on the item's line, `}` on its own
//! line (`{}` when empty); single spaces around `=`, `->`, `=>`, `@` and
//! comparisons and after `,` and `:`; none inside brackets or before `(`/`[`
//! of a call, index or type; at most one blank line kept between items or
//! entries, none after `{` or before `}`; a comment stays on its line when it
//! followed code there, otherwise it gets its own line; lines break only at
//! items, entries and after line comments (a break inside an expression is
//! indented one level more); one newline at the end of the file.

use std::collections::HashSet;

use crate::syntax::lexer::Token;
use crate::syntax::{Parse, TokenKind};

const INDENT: &str = "    ";

/// The formatted text, or `None` when the file has syntax errors (a broken
/// file is never rewritten).
pub fn format(parse: &Parse) -> Option<String> {
    if !parse.errors.is_empty() {
        return None;
    }
    let text = parse.text.as_str();
    let mut line_starts = HashSet::new();
    parse.tree.walk(&mut |node| {
        if node.kind().is_item() || node.kind().is_entry() {
            line_starts.insert(node.range().start);
        }
    });
    let tokens = parse.tree.tokens();
    let mut next_significant = NextSignificant { tokens, at: 0 };
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut depth = 0usize;
    let mut newlines = 0usize;
    let mut prev: Option<TokenKind> = None;
    // Whether the previous emitted token is a block comment that began its line.
    let mut prev_comment_began_line = false;
    for (index, token) in tokens.iter().enumerate() {
        let token_text = &text[token.range.start..token.range.end];
        if token.kind == TokenKind::Whitespace {
            newlines += token_text.matches('\n').count();
            continue;
        }
        let is_comment = matches!(token.kind, TokenKind::LineComment | TokenKind::BlockComment);
        if token.kind == TokenKind::RBrace {
            depth = depth.saturating_sub(1);
        }
        let at_file_start = prev.is_none();
        let break_line = if at_file_start {
            false
        } else if prev == Some(TokenKind::LineComment) {
            true
        } else if is_comment {
            newlines > 0
        } else if token.kind == TokenKind::RBrace {
            prev != Some(TokenKind::LBrace)
        } else if line_starts.contains(&token.range.start) {
            !(prev == Some(TokenKind::BlockComment) && prev_comment_began_line && newlines == 0)
        } else {
            false
        };
        if break_line {
            let after_open = prev == Some(TokenKind::LBrace);
            let next = next_significant.after(index);
            let before_close = next.is_some_and(|next| next.kind == TokenKind::RBrace)
                && !is_comment
                || token.kind == TokenKind::RBrace;
            let blank = newlines >= 2 && !after_open && !before_close;
            out.push('\n');
            if blank {
                out.push('\n');
            }
            // A line that does not start an item, entry or `}` continues an
            // expression: one level deeper.
            let starts_line = token.kind == TokenKind::RBrace
                || line_starts.contains(&token.range.start)
                || (is_comment && starts_line(next, &line_starts));
            let level = if starts_line { depth } else { depth + 1 };
            for _ in 0..level {
                out.push_str(INDENT);
            }
            prev_comment_began_line = true;
        } else if let Some(prev_kind) = prev {
            if space_between(prev_kind, token.kind) {
                out.push(' ');
            }
            prev_comment_began_line = false;
        } else {
            prev_comment_began_line = true;
        }
        if token.kind == TokenKind::LineComment {
            out.push_str(token_text.trim_end());
        } else {
            out.push_str(token_text);
        }
        if token.kind == TokenKind::LBrace {
            depth += 1;
        }
        prev = Some(token.kind);
        newlines = 0;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    Some(out)
}

/// The first significant token after a given index. The formatter asks in
/// text order, so the search resumes where the last one stopped: scanning
/// from each comment of a run of comment lines to its end was quadratic
/// (100,000 comment lines took a minute).
struct NextSignificant<'t> {
    tokens: &'t [Token],
    at: usize,
}

impl NextSignificant<'_> {
    fn after(&mut self, index: usize) -> Option<Token> {
        self.at = self.at.max(index + 1);
        while self
            .tokens
            .get(self.at)
            .is_some_and(|token| token.kind.is_trivia())
        {
            self.at += 1;
        }
        self.tokens.get(self.at).copied()
    }
}

/// Whether `next` (the next significant token) begins a line of its own.
fn starts_line(next: Option<Token>, line_starts: &HashSet<usize>) -> bool {
    match next {
        Some(token) => token.kind == TokenKind::RBrace || line_starts.contains(&token.range.start),
        None => true,
    }
}

fn space_between(prev: TokenKind, next: TokenKind) -> bool {
    use TokenKind::*;
    if matches!(next, RParen | RBracket | Comma | Colon | Dot) {
        return false;
    }
    if matches!(prev, LParen | LBracket | Dot | Minus) {
        return false;
    }
    if matches!(next, LParen | LBracket) && matches!(prev, Ident | ConvertKw) {
        return false;
    }
    true
}

/// The edits that format the document: one whole-text replacement, or none
/// when the text is already formatted or has syntax errors.
pub fn format_edits(parse: &Parse) -> Vec<crate::check::TextEdit> {
    match format(parse) {
        Some(formatted) if formatted != parse.text => vec![crate::check::TextEdit {
            range: crate::syntax::TextRange::new(0, parse.text.len()),
            new_text: formatted,
        }],
        _ => Vec::new(),
    }
}
