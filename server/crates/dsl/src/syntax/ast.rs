//! The typed syntax the parser builds alongside the lossless tree. Every part
//! a user wrote carries its byte range; parts that are missing are `None` or
//! `ExprKind::Missing`, so a broken file still yields everything that parsed.

use super::TextRange;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: String,
    pub range: TextRange,
}

#[derive(Clone, Debug, Default)]
pub struct SourceFile {
    pub items: Vec<Item>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Model,
    Weights,
    Dataset,
    Network,
    Simulate,
    Sweep,
    Infer,
    App,
}

impl ItemKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ItemKind::Model => "model",
            ItemKind::Weights => "weights",
            ItemKind::Dataset => "dataset",
            ItemKind::Network => "network",
            ItemKind::Simulate => "simulate",
            ItemKind::Sweep => "sweep",
            ItemKind::Infer => "infer",
            ItemKind::App => "app",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    pub range: TextRange,
    pub keyword_range: TextRange,
    /// The defined name (`model NAME`); `None` for simulate/infer.
    pub name: Option<Name>,
    /// `onnx(...)`, `npz(...)`, or `convert(MODEL)` for a converted network.
    pub value: Option<Expr>,
    /// `simulate TARGET on DATA` / `infer TARGET on DATA`.
    pub target: Option<Name>,
    pub data: Option<Name>,
    pub body: Option<Block>,
}

impl Item {
    /// The name shown for this item: its own name, or `simulate snn` for runs.
    pub fn label(&self) -> String {
        match (&self.name, &self.target) {
            (Some(name), _) => name.text.clone(),
            (None, Some(target)) => format!("{} {}", self.kind.keyword(), target.text),
            (None, None) => self.kind.keyword().to_string(),
        }
    }
    pub fn entries(&self) -> &[Entry] {
        self.body
            .as_ref()
            .map(|body| body.entries.as_slice())
            .unwrap_or(&[])
    }
    /// The range users point at for this item: its name, else its keyword.
    pub fn selection_range(&self) -> TextRange {
        self.name
            .as_ref()
            .or(self.target.as_ref())
            .map(|name| name.range)
            .unwrap_or(self.keyword_range)
    }
}

#[derive(Clone, Debug)]
pub struct Block {
    pub range: TextRange,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Input,
    Layer,
    Output,
    Setting,
    Sensor,
    Pipeline,
    Rule,
}

impl EntryKind {
    pub fn keyword(self) -> &'static str {
        match self {
            EntryKind::Input => "input",
            EntryKind::Layer => "layer",
            EntryKind::Output => "output",
            EntryKind::Setting => "setting",
            EntryKind::Sensor => "sensor",
            EntryKind::Pipeline => "pipeline",
            EntryKind::Rule => "rule",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: EntryKind,
    pub range: TextRange,
    pub keyword_range: TextRange,
    /// The defined name, or the setting's key.
    pub name: Option<Name>,
    /// `input x: f32[...]`, `sensor s: f32[...] @ ...`.
    pub ty: Option<TensorType>,
    /// The right-hand side of `=`; for a rule, its condition.
    pub value: Option<Expr>,
    /// `sensor s: T @ RATE = SOURCE`: the rate.
    pub rate: Option<Expr>,
    /// `pipeline a -> b -> c`.
    pub stages: Vec<Name>,
    /// `rule r when COND for HOLD => emit "x"`: the hold.
    pub hold: Option<Expr>,
    /// The emitted event of a rule and its range.
    pub emit: Option<(String, TextRange)>,
}

#[derive(Clone, Debug)]
pub struct TensorType {
    pub range: TextRange,
    pub dtype: Name,
    pub dims: Vec<Dim>,
}

#[derive(Clone, Debug)]
pub struct Dim {
    pub range: TextRange,
    pub value: DimValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimValue {
    Known(u64),
    Symbolic(String),
    Invalid(String),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub range: TextRange,
    pub kind: ExprKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    NotEq,
    Lt,
    Gt,
    LtEq,
    GtEq,
}

impl BinaryOp {
    /// Whether `lhs OP rhs` holds (how an app's rule reads it).
    #[inline]
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            BinaryOp::Eq => lhs == rhs,
            BinaryOp::NotEq => lhs != rhs,
            BinaryOp::Lt => lhs < rhs,
            BinaryOp::Gt => lhs > rhs,
            BinaryOp::LtEq => lhs <= rhs,
            BinaryOp::GtEq => lhs >= rhs,
        }
    }
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `20ms`: the value as written and the unit suffix (`""` when bare).
    Number {
        value: f64,
        unit: String,
        is_integer: bool,
    },
    String(String),
    Bool(bool),
    Name(Name),
    Call(Call),
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Field {
        base: Box<Expr>,
        field: Option<Name>,
    },
    List(Vec<Expr>),
    Paren(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Neg(Box<Expr>),
    Missing,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub callee: Name,
    pub args: Vec<Arg>,
    /// From `(` to `)` (or to where the list stopped when `)` is missing).
    pub args_range: TextRange,
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub range: TextRange,
    pub name: Option<Name>,
    pub value: Expr,
}

impl Call {
    pub fn positional(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|arg| arg.name.is_none())
    }
    pub fn named(&self, key: &str) -> Option<&Arg> {
        self.args
            .iter()
            .find(|arg| arg.name.as_ref().is_some_and(|name| name.text == key))
    }
}

impl Expr {
    pub fn missing(at: usize) -> Expr {
        Expr {
            range: TextRange::empty(at),
            kind: ExprKind::Missing,
        }
    }
    pub fn as_name(&self) -> Option<&Name> {
        match &self.kind {
            ExprKind::Name(name) => Some(name),
            _ => None,
        }
    }
    pub fn as_call(&self) -> Option<&Call> {
        match &self.kind {
            ExprKind::Call(call) => Some(call),
            _ => None,
        }
    }
    pub fn as_string(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::String(value) => Some(value),
            _ => None,
        }
    }
    /// Visits this expression and every sub-expression (pre-order).
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Call(call) => call.args.iter().for_each(|arg| arg.value.walk(visit)),
            ExprKind::Index { base, index } => {
                base.walk(visit);
                index.walk(visit);
            }
            ExprKind::Field { base, .. } => base.walk(visit),
            ExprKind::List(items) => items.iter().for_each(|item| item.walk(visit)),
            ExprKind::Paren(inner) | ExprKind::Neg(inner) => inner.walk(visit),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(visit);
                rhs.walk(visit);
            }
            _ => {}
        }
    }
}

impl Entry {
    /// Every expression the entry holds, for walks.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        [self.value.as_ref(), self.rate.as_ref(), self.hold.as_ref()]
            .into_iter()
            .flatten()
    }
}

/// Unescapes a string token's text (with its quotes) into its value.
pub fn unescape_string(token_text: &str) -> String {
    let inner = token_text.strip_prefix('"').unwrap_or(token_text);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
