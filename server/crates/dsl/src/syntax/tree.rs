//! The lossless syntax tree. Nodes own their children; tokens are kinds plus
//! byte ranges into the text the `Parse` keeps. The parser bounds nesting
//! depth, so recursive walks over this tree cannot overflow the stack.

use super::lexer::Token;
use super::{NodeKind, TextRange};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxNode {
    pub kind: NodeKind,
    pub range: TextRange,
    pub children: Vec<SyntaxElement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxElement {
    Node(SyntaxNode),
    Token(Token),
}

impl SyntaxElement {
    pub fn range(&self) -> TextRange {
        match self {
            SyntaxElement::Node(node) => node.range,
            SyntaxElement::Token(token) => token.range,
        }
    }
}

impl SyntaxNode {
    /// Every token under this node, in text order (trivia included).
    pub fn tokens(&self) -> Vec<Token> {
        let mut out = Vec::new();
        self.collect_tokens(&mut out);
        out
    }

    fn collect_tokens(&self, out: &mut Vec<Token>) {
        for child in &self.children {
            match child {
                SyntaxElement::Node(node) => node.collect_tokens(out),
                SyntaxElement::Token(token) => out.push(*token),
            }
        }
    }

    /// Calls `visit` on every node (pre-order) with its parent's kind.
    pub fn walk(&self, visit: &mut dyn FnMut(&SyntaxNode)) {
        visit(self);
        for child in &self.children {
            if let SyntaxElement::Node(node) = child {
                node.walk(visit);
            }
        }
    }

    pub(crate) fn dump(&self, text: &str, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{:indent$}{:?}@{:?}\n",
            "",
            self.kind,
            self.range,
            indent = indent
        ));
        for child in &self.children {
            match child {
                SyntaxElement::Node(node) => node.dump(text, indent + 2, out),
                SyntaxElement::Token(token) => out.push_str(&format!(
                    "{:indent$}{:?}@{:?} {:?}\n",
                    "",
                    token.kind,
                    token.range,
                    &text[token.range.start..token.range.end],
                    indent = indent + 2
                )),
            }
        }
    }
}

/// Builds the tree from start/token/finish events. Children of open nodes
/// live in one flat stack, so wrapping already-parsed children in a new node
/// (`start_at`, for `a == b` and `f(x)`) is a cheap split.
pub(crate) struct Builder {
    stack: Vec<SyntaxElement>,
    open: Vec<(NodeKind, usize)>,
    last_end: usize,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            stack: Vec::new(),
            open: Vec::new(),
            last_end: 0,
        }
    }
    pub fn checkpoint(&self) -> usize {
        self.stack.len()
    }
    pub fn start(&mut self, kind: NodeKind) {
        self.open.push((kind, self.stack.len()));
    }
    pub fn start_at(&mut self, checkpoint: usize, kind: NodeKind) {
        self.open.push((kind, checkpoint));
    }
    pub fn token(&mut self, token: Token) {
        self.last_end = token.range.end;
        self.stack.push(SyntaxElement::Token(token));
    }
    pub fn finish(&mut self) {
        let (kind, start) = self.open.pop().expect("finish without start");
        let children = self.stack.split_off(start);
        let range = match (children.first(), children.last()) {
            (Some(first), Some(last)) => TextRange::new(first.range().start, last.range().end),
            _ => TextRange::empty(self.last_end),
        };
        self.stack.push(SyntaxElement::Node(SyntaxNode {
            kind,
            range,
            children,
        }));
    }
    pub fn finish_root(mut self) -> SyntaxNode {
        while !self.open.is_empty() {
            self.finish();
        }
        match self.stack.pop() {
            Some(SyntaxElement::Node(node)) if self.stack.is_empty() => node,
            _ => unreachable!("the root node wraps every element"),
        }
    }
}
