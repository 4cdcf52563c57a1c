//! Expressions: comparisons, unary minus, calls, indexes, fields, lists and
//! parentheses.
//!
//! Nesting is bounded. Every bracket, call, index, field and minus sign, and
//! every link of a chain of comparisons (`a == b == c` nests as
//! `(a == b) == c`), counts one level; past [`MAX_DEPTH`] levels the rest of
//! the expression is reported once and skipped flat, in one error node, in
//! linear time. So the parser's own recursion is bounded, and so is the depth
//! of every tree and typed syntax it hands on: the checker, the formatter, the
//! editor features and the derived `Clone`/`Drop` may recurse over them
//! without overflowing a 2 MiB thread stack, on any input.

use super::{Parser, is_entry_keyword};
use crate::syntax::ast::*;
use crate::syntax::{NodeKind, SyntaxError, TextRange, TokenKind};

/// Deeper nesting than this is reported and skipped, not parsed.
pub(super) const MAX_DEPTH: usize = 64;

fn binary_op(kind: TokenKind) -> Option<BinaryOp> {
    Some(match kind {
        TokenKind::EqEq => BinaryOp::Eq,
        TokenKind::NotEq => BinaryOp::NotEq,
        TokenKind::Lt => BinaryOp::Lt,
        TokenKind::Gt => BinaryOp::Gt,
        TokenKind::LtEq => BinaryOp::LtEq,
        TokenKind::GtEq => BinaryOp::GtEq,
        _ => return None,
    })
}

fn is_operand(kind: TokenKind) -> bool {
    use TokenKind::*;
    matches!(
        kind,
        Ident | Number | String | TrueKw | FalseKw | ConvertKw | Error
    )
}

impl Parser<'_> {
    pub(super) fn expr(&mut self) -> Expr {
        let outer = self.depth;
        let checkpoint = self.builder.checkpoint();
        let mut lhs = self.unary();
        while let Some(op) = binary_op(self.current()) {
            if self.depth >= MAX_DEPTH {
                self.too_deep(true);
                break;
            }
            // The chain so far becomes the left operand: one level deeper.
            self.depth += 1;
            self.builder.start_at(checkpoint, NodeKind::BinaryExpr);
            self.bump();
            let rhs = self.unary();
            self.finish();
            let range = lhs.range.cover(rhs.range);
            lhs = Expr {
                range,
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            };
        }
        self.depth = outer;
        lhs
    }

    /// Reports nesting deeper than [`MAX_DEPTH`] once and swallows the rest
    /// of the expression as one error node, without recursing: minus signs,
    /// operands, comparisons, postfix `(...)`/`[...]`/`.name` on the same line
    /// and bracket-balanced groups, up to the first token that cannot
    /// continue it (`,`, `=>`, an unmatched `)`, a new line's name, ...) or a
    /// recovery point. `wants_operand` is false when called after an operand
    /// (at a postfix bracket or dot).
    fn too_deep(&mut self, wants_operand: bool) -> Expr {
        let start = self.current_range().start;
        self.errors.push(SyntaxError::new(
            self.current_range(),
            format!(
                "expected an expression nested at most {MAX_DEPTH} levels deep, found deeper nesting (the rest of it is skipped)"
            ),
        ));
        self.start(NodeKind::Error);
        let mut wants_operand = wants_operand;
        let mut open = 0usize;
        while !self.at_recovery_point() {
            let kind = self.current();
            if open > 0 {
                match kind {
                    TokenKind::LParen | TokenKind::LBracket => open += 1,
                    TokenKind::RParen | TokenKind::RBracket => open -= 1,
                    _ => {}
                }
                self.bump();
                continue;
            }
            let same_line = !self.newline_before_current();
            let continues = match kind {
                _ if binary_op(kind).is_some() => {
                    wants_operand = true;
                    true
                }
                TokenKind::Minus => wants_operand,
                TokenKind::LParen | TokenKind::LBracket if wants_operand || same_line => {
                    open = 1;
                    wants_operand = false;
                    true
                }
                TokenKind::Dot if !wants_operand && same_line => {
                    wants_operand = true;
                    true
                }
                _ if is_operand(kind) && wants_operand => {
                    wants_operand = false;
                    true
                }
                _ => false,
            };
            if !continues {
                break;
            }
            self.bump();
        }
        self.finish();
        Expr {
            range: TextRange::new(start, self.last_end().max(start)),
            kind: ExprKind::Missing,
        }
    }

    fn unary(&mut self) -> Expr {
        if !self.at(TokenKind::Minus) {
            return self.postfix();
        }
        if self.depth >= MAX_DEPTH {
            return self.too_deep(true);
        }
        self.depth += 1;
        self.start(NodeKind::NegExpr);
        let minus = self.bump();
        let inner = self.unary();
        self.finish();
        self.depth -= 1;
        Expr {
            range: minus.cover(inner.range),
            kind: ExprKind::Neg(Box::new(inner)),
        }
    }

    fn postfix(&mut self) -> Expr {
        let outer = self.depth;
        let checkpoint = self.builder.checkpoint();
        let mut expr = self.primary();
        // Calls and indexing continue an expression only on the same line, so a
        // newline always ends an entry (see docs/neuro-language.md).
        while !self.newline_before_current() {
            let continues = match self.current() {
                TokenKind::LParen => expr.as_name().is_some(),
                TokenKind::LBracket | TokenKind::Dot => true,
                _ => false,
            };
            if !continues {
                break;
            }
            if self.depth >= MAX_DEPTH {
                self.too_deep(false);
                break;
            }
            // Like a comparison chain, each link nests what came before.
            self.depth += 1;
            expr = match self.current() {
                TokenKind::LParen => {
                    let callee = expr.as_name().cloned().unwrap_or_else(|| Name {
                        text: String::new(),
                        range: expr.range,
                    });
                    self.builder.start_at(checkpoint, NodeKind::CallExpr);
                    let (args, args_range) = self.arg_list();
                    self.finish();
                    Expr {
                        range: expr.range.cover(args_range),
                        kind: ExprKind::Call(Call {
                            callee,
                            args,
                            args_range,
                        }),
                    }
                }
                TokenKind::LBracket => {
                    self.builder.start_at(checkpoint, NodeKind::IndexExpr);
                    self.bump();
                    let index = self.expr();
                    self.expect(TokenKind::RBracket);
                    self.finish();
                    Expr {
                        range: TextRange::new(expr.range.start, self.last_end()),
                        kind: ExprKind::Index {
                            base: Box::new(expr),
                            index: Box::new(index),
                        },
                    }
                }
                _ => {
                    self.builder.start_at(checkpoint, NodeKind::FieldExpr);
                    self.bump();
                    let field = self.name(NodeKind::NameRef);
                    self.finish();
                    Expr {
                        range: TextRange::new(expr.range.start, self.last_end()),
                        kind: ExprKind::Field {
                            base: Box::new(expr),
                            field,
                        },
                    }
                }
            };
        }
        self.depth = outer;
        expr
    }

    fn arg_list(&mut self) -> (Vec<Arg>, TextRange) {
        self.start(NodeKind::ArgList);
        let open = self.bump();
        let first_arg = self.arg_scratch.len();
        loop {
            if self.eat(TokenKind::RParen).is_some() {
                break;
            }
            if self.at(TokenKind::RBrace)
                || self.at(TokenKind::Eof)
                || self.at_item_start()
                || is_entry_keyword(self.current())
            {
                self.error_here("`)`");
                break;
            }
            self.start(NodeKind::Arg);
            let start = self.current_range().start;
            let mut name = None;
            if self.at(TokenKind::Ident) && self.nth(1) == TokenKind::Colon {
                let text = self.current_text().to_string();
                self.start(NodeKind::Name);
                let range = self.bump();
                self.finish();
                self.bump();
                name = Some(Name { text, range });
            }
            let value = self.expr();
            self.finish();
            let consumed = self.last_end() > start || name.is_some();
            self.arg_scratch.push(Arg {
                range: TextRange::new(start, self.last_end().max(start)),
                name,
                value,
            });
            if self.eat(TokenKind::Comma).is_some() {
                continue;
            }
            if !self.at(TokenKind::RParen) {
                self.error_here("`,` or `)`");
                if !consumed && !self.at_recovery_point() {
                    // Make progress: the bad token becomes an error node.
                    self.start(NodeKind::Error);
                    self.bump();
                    self.finish();
                }
                if self.at_recovery_point() {
                    break;
                }
            }
        }
        self.finish();
        let args: Vec<Arg> = self.arg_scratch.drain(first_arg..).collect();
        (args, TextRange::new(open.start, self.last_end()))
    }

    fn primary(&mut self) -> Expr {
        let range = self.current_range();
        match self.current() {
            TokenKind::Number => {
                let (value, unit, is_integer) = super::split_number(self.current_text());
                self.literal();
                Expr {
                    range,
                    kind: ExprKind::Number {
                        value,
                        unit,
                        is_integer,
                    },
                }
            }
            TokenKind::String => {
                let value = unescape_string(self.current_text());
                self.literal();
                Expr {
                    range,
                    kind: ExprKind::String(value),
                }
            }
            TokenKind::TrueKw | TokenKind::FalseKw => {
                let value = self.at(TokenKind::TrueKw);
                self.literal();
                Expr {
                    range,
                    kind: ExprKind::Bool(value),
                }
            }
            TokenKind::Ident | TokenKind::ConvertKw => {
                // `convert` is a keyword but reads as the callee of `convert(MODEL)`.
                let text = self.current_text().to_string();
                self.start(NodeKind::NameRef);
                self.bump();
                self.finish();
                Expr {
                    range,
                    kind: ExprKind::Name(Name { text, range }),
                }
            }
            TokenKind::LParen | TokenKind::LBracket if self.depth >= MAX_DEPTH => {
                self.too_deep(true)
            }
            TokenKind::LParen => {
                self.depth += 1;
                self.start(NodeKind::ParenExpr);
                self.bump();
                let inner = self.expr();
                self.expect(TokenKind::RParen);
                self.finish();
                self.depth -= 1;
                Expr {
                    range: TextRange::new(range.start, self.last_end()),
                    kind: ExprKind::Paren(Box::new(inner)),
                }
            }
            TokenKind::LBracket => {
                self.depth += 1;
                self.start(NodeKind::ListExpr);
                self.bump();
                let mut items = Vec::new();
                while !self.at(TokenKind::RBracket)
                    && !self.at_recovery_point()
                    && !self.at(TokenKind::RParen)
                {
                    let before = self.cursor;
                    items.push(self.expr());
                    if self.eat(TokenKind::Comma).is_none() || self.cursor == before {
                        break;
                    }
                }
                self.expect(TokenKind::RBracket);
                self.finish();
                self.depth -= 1;
                Expr {
                    range: TextRange::new(range.start, self.last_end()),
                    kind: ExprKind::List(items),
                }
            }
            _ => {
                self.error_here("an expression");
                let kind = self.current();
                let stops = matches!(
                    kind,
                    TokenKind::RParen
                        | TokenKind::RBracket
                        | TokenKind::Comma
                        | TokenKind::LBrace
                        | TokenKind::Eof
                ) || kind.is_keyword()
                    || self.at_recovery_point();
                if !stops {
                    self.start(NodeKind::Error);
                    self.bump();
                    self.finish();
                    return Expr {
                        range,
                        kind: ExprKind::Missing,
                    };
                }
                Expr::missing(self.last_end())
            }
        }
    }

    fn literal(&mut self) {
        self.start(NodeKind::Literal);
        self.bump();
        self.finish();
    }
}
