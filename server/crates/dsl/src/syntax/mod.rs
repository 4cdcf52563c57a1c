//! Syntax: byte ranges, token and node kinds, the lossless tree, and `parse`.

pub mod ast;
pub mod lexer;
mod parser;
mod tree;

pub use parser::parse;
pub use tree::{SyntaxElement, SyntaxNode, SyntaxTree};

use std::fmt;

/// A half-open byte range `start..end` into the source text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> TextRange {
        TextRange {
            start,
            end: end.max(start),
        }
    }
    pub fn empty(offset: usize) -> TextRange {
        TextRange {
            start: offset,
            end: offset,
        }
    }
    pub fn len(self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
    /// True when `offset` is inside the range or at its end (a cursor just after a word).
    pub fn touches(self, offset: usize) -> bool {
        self.start <= offset && offset <= self.end
    }
    pub fn contains_range(self, other: TextRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl fmt::Debug for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A syntax error: where, and a message naming what was expected and found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub range: TextRange,
    pub message: String,
}

impl SyntaxError {
    pub fn new(range: TextRange, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            range,
            message: message.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Whitespace,
    LineComment,
    BlockComment,
    Ident,
    Number,
    String,
    // keywords
    ModelKw,
    WeightsKw,
    DatasetKw,
    NetworkKw,
    ConvertKw,
    InputKw,
    LayerKw,
    OutputKw,
    NeuronKw,
    SimulateKw,
    SweepKw,
    InferKw,
    OnKw,
    AppKw,
    SensorKw,
    PipelineKw,
    RuleKw,
    WhenKw,
    ForKw,
    EmitKw,
    TrueKw,
    FalseKw,
    // punctuation
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Eq,
    Dot,
    At,
    Minus,
    Arrow,
    FatArrow,
    EqEq,
    NotEq,
    Lt,
    Gt,
    LtEq,
    GtEq,
    Error,
    Eof,
}

/// Every keyword with its token kind, in the order DSL.md lists them.
pub const KEYWORDS: &[(&str, TokenKind)] = &[
    ("model", TokenKind::ModelKw),
    ("weights", TokenKind::WeightsKw),
    ("dataset", TokenKind::DatasetKw),
    ("network", TokenKind::NetworkKw),
    ("convert", TokenKind::ConvertKw),
    ("input", TokenKind::InputKw),
    ("layer", TokenKind::LayerKw),
    ("output", TokenKind::OutputKw),
    ("neuron", TokenKind::NeuronKw),
    ("simulate", TokenKind::SimulateKw),
    ("sweep", TokenKind::SweepKw),
    ("infer", TokenKind::InferKw),
    ("on", TokenKind::OnKw),
    ("app", TokenKind::AppKw),
    ("sensor", TokenKind::SensorKw),
    ("pipeline", TokenKind::PipelineKw),
    ("rule", TokenKind::RuleKw),
    ("when", TokenKind::WhenKw),
    ("for", TokenKind::ForKw),
    ("emit", TokenKind::EmitKw),
    ("true", TokenKind::TrueKw),
    ("false", TokenKind::FalseKw),
];

impl TokenKind {
    /// A `match` on the word (not a scan of `KEYWORDS`): the lexer asks this
    /// for every identifier, so it must be cheap.
    pub fn keyword(word: &str) -> Option<TokenKind> {
        use TokenKind::*;
        Some(match word {
            "model" => ModelKw,
            "weights" => WeightsKw,
            "dataset" => DatasetKw,
            "network" => NetworkKw,
            "convert" => ConvertKw,
            "input" => InputKw,
            "layer" => LayerKw,
            "output" => OutputKw,
            "neuron" => NeuronKw,
            "simulate" => SimulateKw,
            "sweep" => SweepKw,
            "infer" => InferKw,
            "on" => OnKw,
            "app" => AppKw,
            "sensor" => SensorKw,
            "pipeline" => PipelineKw,
            "rule" => RuleKw,
            "when" => WhenKw,
            "for" => ForKw,
            "emit" => EmitKw,
            "true" => TrueKw,
            "false" => FalseKw,
            _ => return None,
        })
    }
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
        )
    }
    pub fn is_keyword(self) -> bool {
        KEYWORDS.iter().any(|(_, kind)| *kind == self)
    }
    /// What a user would call this token in an error message.
    pub fn describe(self) -> &'static str {
        use TokenKind::*;
        if let Some((text, _)) = KEYWORDS.iter().find(|(_, kind)| *kind == self) {
            return text;
        }
        match self {
            Whitespace => "whitespace",
            LineComment | BlockComment => "a comment",
            Ident => "a name",
            Number => "a number",
            String => "a string",
            LParen => "`(`",
            RParen => "`)`",
            LBrace => "`{`",
            RBrace => "`}`",
            LBracket => "`[`",
            RBracket => "`]`",
            Comma => "`,`",
            Colon => "`:`",
            Eq => "`=`",
            Dot => "`.`",
            At => "`@`",
            Minus => "`-`",
            Arrow => "`->`",
            FatArrow => "`=>`",
            EqEq => "`==`",
            NotEq => "`!=`",
            Lt => "`<`",
            Gt => "`>`",
            LtEq => "`<=`",
            GtEq => "`>=`",
            Error => "an unknown character",
            Eof => "the end of the file",
            _ => "a keyword",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    SourceFile,
    ModelItem,
    WeightsItem,
    DatasetItem,
    NetworkItem,
    SimulateItem,
    SweepItem,
    InferItem,
    AppItem,
    Block,
    InputEntry,
    LayerEntry,
    OutputEntry,
    SettingEntry,
    SensorEntry,
    PipelineEntry,
    RuleEntry,
    /// A name being defined.
    Name,
    /// A name being used.
    NameRef,
    TensorType,
    Dim,
    CallExpr,
    ArgList,
    Arg,
    IndexExpr,
    FieldExpr,
    ListExpr,
    ParenExpr,
    BinaryExpr,
    NegExpr,
    Literal,
    EmitAction,
    Error,
}

impl NodeKind {
    pub fn is_item(self) -> bool {
        matches!(
            self,
            NodeKind::ModelItem
                | NodeKind::WeightsItem
                | NodeKind::DatasetItem
                | NodeKind::NetworkItem
                | NodeKind::SimulateItem
                | NodeKind::SweepItem
                | NodeKind::InferItem
                | NodeKind::AppItem
        )
    }
    pub fn is_entry(self) -> bool {
        matches!(
            self,
            NodeKind::InputEntry
                | NodeKind::LayerEntry
                | NodeKind::OutputEntry
                | NodeKind::SettingEntry
                | NodeKind::SensorEntry
                | NodeKind::PipelineEntry
                | NodeKind::RuleEntry
        )
    }
}

/// The result of parsing: the lossless tree, the typed syntax (AST) built in
/// the same pass, and every syntax error. Parsing never fails.
#[derive(Clone, Debug)]
pub struct Parse {
    pub text: String,
    pub tree: SyntaxTree,
    pub ast: ast::SourceFile,
    pub errors: Vec<SyntaxError>,
}

impl Parse {
    /// The tree and errors as text, for snapshot tests.
    pub fn debug_dump(&self) -> String {
        let mut out = String::new();
        self.tree.dump(&self.text, &mut out);
        if !self.errors.is_empty() {
            out.push_str("errors:\n");
            for error in &self.errors {
                out.push_str(&format!("  {:?}: {}\n", error.range, error.message));
            }
        }
        out
    }
}
