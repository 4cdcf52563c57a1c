//! The lexer: turns text into tokens that cover every byte (trivia included),
//! so the tree built from them is lossless. It never fails; bad bytes become
//! `Error` tokens and unterminated literals are reported as errors.

use super::{SyntaxError, TextRange, TokenKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub range: TextRange,
}

/// Lexes the whole text. Runs in linear time: every loop iteration consumes
/// at least one byte, and nested block comments are tracked with a counter,
/// never with recursion.
pub fn lex(text: &str) -> (Vec<Token>, Vec<SyntaxError>) {
    let bytes = text.as_bytes();
    // Source text averages under one token per two bytes (trivia included):
    // reserving that up front saves regrowing a large vector.
    let mut tokens = Vec::with_capacity(text.len() / 2 + 16);
    let mut errors = Vec::new();
    // Only the first unexpected character of a line is reported (with a
    // count of the rest): a line of 100,000 stray `!` is one error, not
    // 100,000 for every later pass and the editor to carry.
    let mut line_garbage: Option<LineGarbage> = None;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let start = pos;
        let byte = bytes[pos];
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
                    pos += 1;
                }
                TokenKind::Whitespace
            }
            b'/' if bytes.get(pos + 1) == Some(&b'/') => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
                TokenKind::LineComment
            }
            b'/' if bytes.get(pos + 1) == Some(&b'*') => {
                pos += 2;
                let mut depth = 1usize;
                while pos < bytes.len() && depth > 0 {
                    if bytes[pos] == b'/' && bytes.get(pos + 1) == Some(&b'*') {
                        depth += 1;
                        pos += 2;
                    } else if bytes[pos] == b'*' && bytes.get(pos + 1) == Some(&b'/') {
                        depth -= 1;
                        pos += 2;
                    } else {
                        pos += 1;
                    }
                }
                if depth > 0 {
                    errors.push(SyntaxError::new(
                        TextRange::new(start, pos),
                        "expected `*/` to close this block comment, found the end of the file",
                    ));
                }
                TokenKind::BlockComment
            }
            b'"' => {
                pos += 1;
                let mut closed = false;
                while pos < bytes.len() {
                    match bytes[pos] {
                        b'\\' => pos = (pos + 2).min(bytes.len()),
                        b'"' => {
                            pos += 1;
                            closed = true;
                            break;
                        }
                        b'\n' => break,
                        _ => pos += 1,
                    }
                }
                if !closed {
                    errors.push(SyntaxError::new(
                        TextRange::new(start, pos),
                        "expected `\"` to close this string, found the end of the line",
                    ));
                }
                TokenKind::String
            }
            b'0'..=b'9' => {
                pos = lex_number(bytes, pos);
                TokenKind::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while pos < bytes.len() && is_ident_continue(bytes[pos]) {
                    pos += 1;
                }
                TokenKind::keyword(&text[start..pos]).unwrap_or(TokenKind::Ident)
            }
            _ => {
                let (kind, len) = punct(bytes, pos);
                pos += len;
                if kind == TokenKind::Error {
                    // Keep whole UTF-8 characters together so ranges stay on char boundaries.
                    while pos < bytes.len() && !text.is_char_boundary(pos) {
                        pos += 1;
                    }
                    match &mut line_garbage {
                        Some(garbage) => garbage.more += 1,
                        None => {
                            line_garbage = Some(LineGarbage {
                                error: errors.len(),
                                more: 0,
                            });
                            errors.push(SyntaxError::new(
                                TextRange::new(start, pos),
                                format!("unexpected character `{}`", &text[start..pos]),
                            ));
                        }
                    }
                }
                kind
            }
        };
        let ends_line = matches!(kind, TokenKind::Whitespace | TokenKind::BlockComment)
            && bytes[start..pos].contains(&b'\n');
        if ends_line && let Some(garbage) = line_garbage.take() {
            garbage.report(&mut errors);
        }
        tokens.push(Token {
            kind,
            range: TextRange::new(start, pos),
        });
    }
    if let Some(garbage) = line_garbage {
        garbage.report(&mut errors);
    }
    (tokens, errors)
}

/// The reported unexpected character of the current line, and how many
/// more that line has.
struct LineGarbage {
    error: usize,
    more: usize,
}

impl LineGarbage {
    fn report(self, errors: &mut [SyntaxError]) {
        if self.more > 0
            && let Some(error) = errors.get_mut(self.error)
        {
            let s = if self.more == 1 { "" } else { "s" };
            error.message = format!(
                "{} (and {} more unexpected character{s} on this line)",
                error.message, self.more
            );
        }
    }
}

pub fn is_ident_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Digits, an optional fraction and exponent, then an optional unit glued on
/// (`20ms`). The unit is kept in the same token; the checker validates it.
fn lex_number(bytes: &[u8], pos: usize) -> usize {
    let (mut pos, _) = scan_mantissa(bytes, pos);
    while pos < bytes.len() && is_ident_continue(bytes[pos]) {
        pos += 1;
    }
    pos
}

/// Where the number starting at `pos` ends before any unit (its digits, an
/// optional fraction and exponent), and whether it is an integer.
pub(crate) fn scan_mantissa(bytes: &[u8], pos: usize) -> (usize, bool) {
    let digits = |mut pos: usize| {
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        pos
    };
    let mut end = digits(pos);
    let mut is_integer = true;
    if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
        is_integer = false;
        end = digits(end + 1);
    }
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut after = end + 1;
        if after < bytes.len() && (bytes[after] == b'-' || bytes[after] == b'+') {
            after += 1;
        }
        if after < bytes.len() && bytes[after].is_ascii_digit() {
            is_integer = false;
            end = digits(after);
        }
    }
    (end, is_integer)
}

fn punct(bytes: &[u8], pos: usize) -> (TokenKind, usize) {
    let next = bytes.get(pos + 1).copied();
    match (bytes[pos], next) {
        (b'-', Some(b'>')) => (TokenKind::Arrow, 2),
        (b'=', Some(b'>')) => (TokenKind::FatArrow, 2),
        (b'=', Some(b'=')) => (TokenKind::EqEq, 2),
        (b'!', Some(b'=')) => (TokenKind::NotEq, 2),
        (b'<', Some(b'=')) => (TokenKind::LtEq, 2),
        (b'>', Some(b'=')) => (TokenKind::GtEq, 2),
        (b'(', _) => (TokenKind::LParen, 1),
        (b')', _) => (TokenKind::RParen, 1),
        (b'{', _) => (TokenKind::LBrace, 1),
        (b'}', _) => (TokenKind::RBrace, 1),
        (b'[', _) => (TokenKind::LBracket, 1),
        (b']', _) => (TokenKind::RBracket, 1),
        (b',', _) => (TokenKind::Comma, 1),
        (b':', _) => (TokenKind::Colon, 1),
        (b'=', _) => (TokenKind::Eq, 1),
        (b'.', _) => (TokenKind::Dot, 1),
        (b'@', _) => (TokenKind::At, 1),
        (b'-', _) => (TokenKind::Minus, 1),
        (b'<', _) => (TokenKind::Lt, 1),
        (b'>', _) => (TokenKind::Gt, 1),
        _ => (TokenKind::Error, 1),
    }
}
