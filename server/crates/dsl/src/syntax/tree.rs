//! The lossless syntax tree, stored flat: every token the lexer produced (in
//! text order), every node (children before parents), and each node's
//! children as one contiguous run of a shared list. Building it costs no
//! allocation per node, and dropping it is three frees; a 5,000-line file
//! has some 40,000 nodes, which as separately owned vectors used to cost more
//! than lexing, parsing and checking together.
//!
//! [`SyntaxNode`] is a cheap copyable view (tree + node index). The parser
//! bounds nesting depth, so recursive walks over this tree cannot overflow
//! the stack.

use super::lexer::Token;
use super::{NodeKind, TextRange};

/// One child of a node: a node or a token, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Child {
    Node(u32),
    Token(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NodeData {
    kind: NodeKind,
    range: TextRange,
    /// `children[first..end]`.
    first: u32,
    end: u32,
}

/// The whole tree of a file; [`SyntaxTree::root`] is its `SourceFile` node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxTree {
    tokens: Vec<Token>,
    nodes: Vec<NodeData>,
    children: Vec<Child>,
    root: u32,
}

/// A node of a [`SyntaxTree`].
#[derive(Clone, Copy)]
pub struct SyntaxNode<'a> {
    tree: &'a SyntaxTree,
    id: u32,
}

#[derive(Clone, Copy)]
pub enum SyntaxElement<'a> {
    Node(SyntaxNode<'a>),
    Token(Token),
}

impl SyntaxElement<'_> {
    pub fn range(&self) -> TextRange {
        match self {
            SyntaxElement::Node(node) => node.range(),
            SyntaxElement::Token(token) => token.range,
        }
    }
}

impl SyntaxTree {
    pub fn root(&self) -> SyntaxNode<'_> {
        SyntaxNode {
            tree: self,
            id: self.root,
        }
    }
    /// Every token of the file, in text order (trivia included): the tree is
    /// lossless, so these are exactly the lexer's tokens.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }
    /// Calls `visit` on every node (pre-order).
    pub fn walk(&self, visit: &mut dyn FnMut(SyntaxNode<'_>)) {
        self.root().walk(visit);
    }
    pub(crate) fn dump(&self, text: &str, out: &mut String) {
        self.root().dump(text, 0, out);
    }
}

impl<'a> SyntaxNode<'a> {
    fn data(&self) -> &'a NodeData {
        &self.tree.nodes[self.id as usize]
    }
    pub fn kind(&self) -> NodeKind {
        self.data().kind
    }
    pub fn range(&self) -> TextRange {
        self.data().range
    }
    /// The direct children, in text order.
    pub fn children(&self) -> impl Iterator<Item = SyntaxElement<'a>> + 'a {
        let tree = self.tree;
        let data = self.data();
        tree.children[data.first as usize..data.end as usize]
            .iter()
            .map(move |child| match *child {
                Child::Node(id) => SyntaxElement::Node(SyntaxNode { tree, id }),
                Child::Token(index) => SyntaxElement::Token(tree.tokens[index as usize]),
            })
    }

    /// Every token under this node, in text order (trivia included).
    pub fn tokens(&self) -> Vec<Token> {
        let mut out = Vec::new();
        self.collect_tokens(&mut out);
        out
    }

    fn collect_tokens(&self, out: &mut Vec<Token>) {
        for child in self.children() {
            match child {
                SyntaxElement::Node(node) => node.collect_tokens(out),
                SyntaxElement::Token(token) => out.push(token),
            }
        }
    }

    /// Calls `visit` on every node (pre-order).
    pub fn walk(&self, visit: &mut dyn FnMut(SyntaxNode<'a>)) {
        visit(*self);
        for child in self.children() {
            if let SyntaxElement::Node(node) = child {
                node.walk(visit);
            }
        }
    }

    fn dump(&self, text: &str, indent: usize, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "{:indent$}{:?}@{:?}",
            "",
            self.kind(),
            self.range(),
            indent = indent
        );
        for child in self.children() {
            match child {
                SyntaxElement::Node(node) => node.dump(text, indent + 2, out),
                SyntaxElement::Token(token) => {
                    let _ = writeln!(
                        out,
                        "{:indent$}{:?}@{:?} {:?}",
                        "",
                        token.kind,
                        token.range,
                        &text[token.range.start..token.range.end],
                        indent = indent + 2
                    );
                }
            }
        }
    }
}

/// Builds the tree from start/token/finish events. Children of open nodes
/// live in one flat stack, so wrapping already-parsed children in a new node
/// (`start_at`, for `a == b` and `f(x)`) is a cheap split. Tokens are added by
/// their index into the lexer's list, and must be added in order, each once.
pub(crate) struct Builder<'t> {
    tokens: &'t [Token],
    stack: Vec<Child>,
    open: Vec<(NodeKind, usize)>,
    nodes: Vec<NodeData>,
    children: Vec<Child>,
    last_end: usize,
}

impl<'t> Builder<'t> {
    pub fn new(tokens: &'t [Token]) -> Builder<'t> {
        Builder {
            tokens,
            stack: Vec::with_capacity(64),
            open: Vec::with_capacity(16),
            // Some 0.53 nodes per token in real files, and one child per node
            // or token: reserved up front rather than regrown.
            nodes: Vec::with_capacity(tokens.len() * 5 / 8 + 1),
            children: Vec::with_capacity(tokens.len() + tokens.len() * 5 / 8 + 1),
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
    /// Adds the token at `index` of the lexer's list.
    pub fn token(&mut self, index: usize) {
        self.last_end = self.tokens[index].range.end;
        self.stack.push(Child::Token(index as u32));
    }
    fn child_range(&self, child: Child) -> TextRange {
        match child {
            Child::Node(id) => self.nodes[id as usize].range,
            Child::Token(index) => self.tokens[index as usize].range,
        }
    }
    pub fn finish(&mut self) {
        let (kind, start) = self.open.pop().expect("finish without start");
        let range = match (self.stack.get(start), self.stack.last()) {
            (Some(&first), Some(&last)) if start < self.stack.len() => {
                TextRange::new(self.child_range(first).start, self.child_range(last).end)
            }
            _ => TextRange::empty(self.last_end),
        };
        let first = self.children.len() as u32;
        self.children.extend_from_slice(&self.stack[start..]);
        self.stack.truncate(start);
        let id = self.nodes.len() as u32;
        self.nodes.push(NodeData {
            kind,
            range,
            first,
            end: self.children.len() as u32,
        });
        self.stack.push(Child::Node(id));
    }
    /// Closes every open node. The tree gets its tokens once the borrow of
    /// them ends: see [`BuiltTree::with_tokens`].
    pub fn finish_root(mut self) -> BuiltTree {
        while !self.open.is_empty() {
            self.finish();
        }
        let root = match self.stack.pop() {
            Some(Child::Node(id)) if self.stack.is_empty() => id,
            _ => unreachable!("the root node wraps every element"),
        };
        BuiltTree {
            token_count: self.tokens.len(),
            nodes: self.nodes,
            children: self.children,
            root,
        }
    }
}

/// The nodes of a finished tree, waiting for the tokens they index.
pub(crate) struct BuiltTree {
    token_count: usize,
    nodes: Vec<NodeData>,
    children: Vec<Child>,
    root: u32,
}

impl BuiltTree {
    /// `tokens` must be the list the builder read.
    pub fn with_tokens(self, tokens: Vec<Token>) -> SyntaxTree {
        debug_assert_eq!(tokens.len(), self.token_count);
        SyntaxTree {
            tokens,
            nodes: self.nodes,
            children: self.children,
            root: self.root,
        }
    }
}
