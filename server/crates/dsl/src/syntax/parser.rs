//! The recursive-descent parser. It builds the lossless tree and the typed
//! syntax in one pass and recovers from errors at item and entry boundaries.
//! Items, blocks and entries are here; expressions, whose nesting the parser
//! bounds (see `expr.rs`), are in `parser/expr.rs`.

use super::ast::*;
use super::lexer::{Token, lex};
use super::tree::Builder;
use super::{NodeKind, Parse, SyntaxError, TextRange, TokenKind};

mod expr;

pub fn parse(text: &str) -> Parse {
    let (tokens, lex_errors) = lex(text);
    let mut significant = Vec::with_capacity(tokens.len() * 2 / 3 + 1);
    let mut newline_before = Vec::with_capacity(tokens.len() * 2 / 3 + 1);
    let mut saw_newline = true;
    for (index, token) in tokens.iter().enumerate() {
        if token.kind.is_trivia() {
            let token_text = &text[token.range.start..token.range.end];
            saw_newline |= token_text.contains('\n') || token.kind == TokenKind::LineComment;
        } else {
            significant.push(index);
            newline_before.push(saw_newline);
            saw_newline = false;
        }
    }
    let mut parser = Parser {
        text,
        tokens: &tokens,
        significant,
        newline_before,
        cursor: 0,
        raw_next: 0,
        builder: Builder::new(&tokens),
        errors: lex_errors,
        depth: 0,
        entry_scratch: Vec::new(),
        arg_scratch: Vec::new(),
    };
    let ast = parser.source_file();
    let mut errors = parser.errors;
    let built = parser.builder.finish_root();
    errors.sort_by_key(|error| (error.range.start, error.range.end));
    errors.dedup_by(|a, b| a.range.start == b.range.start);
    Parse {
        text: text.to_string(),
        tree: built.with_tokens(tokens),
        ast,
        errors,
    }
}

struct Parser<'t> {
    text: &'t str,
    tokens: &'t [Token],
    /// Indexes of the non-trivia tokens in `tokens`.
    significant: Vec<usize>,
    newline_before: Vec<bool>,
    /// Position in `significant`.
    cursor: usize,
    /// The next raw token not yet added to the tree.
    raw_next: usize,
    builder: Builder<'t>,
    errors: Vec<SyntaxError>,
    depth: usize,
    /// Entries and arguments collect here and move into a vector of exactly
    /// their number when their block or list ends (nested lists stack up),
    /// instead of regrowing a vector of large elements in every block.
    entry_scratch: Vec<Entry>,
    arg_scratch: Vec<Arg>,
}

/// What a keyword starts: an item of the file or an entry of a block.
#[derive(Clone, Copy)]
enum Start {
    Item(ItemKind),
    Entry(EntryKind),
}

/// The item or entry each keyword starts, with its syntax node: the one
/// table behind the parser's dispatch and its recovery points. (`weights`
/// also names a setting inside a block; `entry` reads it so.)
fn start_of(kind: TokenKind) -> Option<(Start, NodeKind)> {
    use TokenKind::*;
    Some(match kind {
        ModelKw => (Start::Item(ItemKind::Model), NodeKind::ModelItem),
        WeightsKw => (Start::Item(ItemKind::Weights), NodeKind::WeightsItem),
        DatasetKw => (Start::Item(ItemKind::Dataset), NodeKind::DatasetItem),
        NetworkKw => (Start::Item(ItemKind::Network), NodeKind::NetworkItem),
        SimulateKw => (Start::Item(ItemKind::Simulate), NodeKind::SimulateItem),
        SweepKw => (Start::Item(ItemKind::Sweep), NodeKind::SweepItem),
        InferKw => (Start::Item(ItemKind::Infer), NodeKind::InferItem),
        AppKw => (Start::Item(ItemKind::App), NodeKind::AppItem),
        InputKw => (Start::Entry(EntryKind::Input), NodeKind::InputEntry),
        LayerKw => (Start::Entry(EntryKind::Layer), NodeKind::LayerEntry),
        OutputKw => (Start::Entry(EntryKind::Output), NodeKind::OutputEntry),
        SensorKw => (Start::Entry(EntryKind::Sensor), NodeKind::SensorEntry),
        PipelineKw => (Start::Entry(EntryKind::Pipeline), NodeKind::PipelineEntry),
        RuleKw => (Start::Entry(EntryKind::Rule), NodeKind::RuleEntry),
        _ => return None,
    })
}

fn is_item_start(kind: TokenKind) -> bool {
    matches!(start_of(kind), Some((Start::Item(_), _)))
}

fn is_entry_keyword(kind: TokenKind) -> bool {
    matches!(start_of(kind), Some((Start::Entry(_), _)))
}

impl<'t> Parser<'t> {
    // ---- token access ----

    fn nth(&self, n: usize) -> TokenKind {
        self.significant
            .get(self.cursor + n)
            .map(|&index| self.tokens[index].kind)
            .unwrap_or(TokenKind::Eof)
    }
    fn current(&self) -> TokenKind {
        self.nth(0)
    }
    fn at(&self, kind: TokenKind) -> bool {
        self.current() == kind
    }
    fn current_range(&self) -> TextRange {
        match self.significant.get(self.cursor) {
            Some(&index) => self.tokens[index].range,
            None => TextRange::empty(self.text.len()),
        }
    }
    fn current_text(&self) -> &'t str {
        let range = self.current_range();
        &self.text[range.start..range.end]
    }
    fn newline_before_current(&self) -> bool {
        self.newline_before
            .get(self.cursor)
            .copied()
            .unwrap_or(true)
    }
    /// `weights` starts an item, except as the `weights = W` setting of a convert block.
    fn at_item_start(&self) -> bool {
        let kind = self.current();
        is_item_start(kind) && !(kind == TokenKind::WeightsKw && self.nth(1) == TokenKind::Eq)
    }
    /// Tokens where error recovery stops skipping.
    fn at_recovery_point(&self) -> bool {
        let kind = self.current();
        kind == TokenKind::Eof
            || kind == TokenKind::RBrace
            || self.at_item_start()
            || is_entry_keyword(kind)
    }

    fn flush_trivia(&mut self) {
        let until = self
            .significant
            .get(self.cursor)
            .copied()
            .unwrap_or(self.tokens.len());
        while self.raw_next < until {
            self.builder.token(self.raw_next);
            self.raw_next += 1;
        }
    }
    fn bump(&mut self) -> TextRange {
        self.flush_trivia();
        let Some(&index) = self.significant.get(self.cursor) else {
            return TextRange::empty(self.text.len());
        };
        self.builder.token(index);
        self.raw_next = index + 1;
        self.cursor += 1;
        self.tokens[index].range
    }
    fn start(&mut self, kind: NodeKind) {
        self.flush_trivia();
        self.builder.start(kind);
    }
    fn finish(&mut self) {
        self.builder.finish();
    }
    fn eat(&mut self, kind: TokenKind) -> Option<TextRange> {
        if self.at(kind) {
            Some(self.bump())
        } else {
            None
        }
    }
    /// `= VALUE`: a missing `=` is reported, and the value is read anyway
    /// unless the parser stands where recovery would stop.
    fn value_after_eq(&mut self) -> Option<Expr> {
        if self.expect(TokenKind::Eq).is_some() || !self.at_recovery_point() {
            Some(self.expr())
        } else {
            None
        }
    }
    fn error_here(&mut self, expected: &str) {
        let found = self.current().describe();
        let found = if self.current() == TokenKind::Ident || self.current().is_keyword() {
            format!("`{}`", self.current_text())
        } else {
            found.to_string()
        };
        self.errors.push(SyntaxError::new(
            self.error_range(),
            format!("expected {expected}, found {found}"),
        ));
    }
    /// Where an error about the current token points. As in rustc, a token
    /// that starts a new line (or the end of the file) is rarely the
    /// mistake: what is missing belongs at the end of the previous token,
    /// so the error points there; a token on the same line is pointed at.
    fn error_range(&self) -> TextRange {
        if self.cursor > 0 && (self.at(TokenKind::Eof) || self.newline_before_current()) {
            TextRange::empty(self.last_end())
        } else {
            self.current_range()
        }
    }
    fn expect(&mut self, kind: TokenKind) -> Option<TextRange> {
        if let Some(range) = self.eat(kind) {
            return Some(range);
        }
        if kind.is_keyword() {
            self.error_here(&format!("`{}`", kind.describe()));
        } else {
            self.error_here(kind.describe());
        }
        None
    }
    /// The end of the last token added to the tree: where a missing part goes.
    fn last_end(&self) -> usize {
        if self.cursor == 0 {
            return 0;
        }
        self.tokens[self.significant[self.cursor - 1]].range.end
    }
    // ---- items ----

    fn source_file(&mut self) -> SourceFile {
        self.builder.start(NodeKind::SourceFile);
        let mut file = SourceFile::default();
        while !self.at(TokenKind::Eof) {
            if self.at_item_start() {
                file.items.push(self.item());
                continue;
            }
            self.error_here(
                "an item (model, weights, dataset, network, simulate, sweep, infer or app)",
            );
            self.start(NodeKind::Error);
            self.bump();
            while !self.at(TokenKind::Eof) && !self.at_item_start() {
                self.bump();
            }
            self.finish();
        }
        self.flush_trivia();
        file
    }

    fn item(&mut self) -> Item {
        // Called at an item start only (the fallback keeps it total).
        let (kind, node) = match start_of(self.current()) {
            Some((Start::Item(kind), node)) => (kind, node),
            _ => (ItemKind::App, NodeKind::AppItem),
        };
        self.start(node);
        let keyword_range = self.bump();
        let mut item = Item {
            kind,
            range: keyword_range,
            keyword_range,
            name: None,
            value: None,
            target: None,
            data: None,
            body: None,
        };
        match kind {
            ItemKind::Model | ItemKind::Weights | ItemKind::Dataset => {
                item.name = self.name(NodeKind::Name);
                item.value = self.value_after_eq();
            }
            ItemKind::Network => {
                item.name = self.name(NodeKind::Name);
                if self.eat(TokenKind::Eq).is_some() {
                    item.value = Some(self.expr());
                    // `network n = nir("file.nir")` says everything: its
                    // settings block is optional.
                    if self.at(TokenKind::LBrace) {
                        item.body = self.block();
                    }
                } else {
                    item.body = self.block();
                }
            }
            ItemKind::Simulate | ItemKind::Sweep | ItemKind::Infer => {
                item.target = self.name(NodeKind::NameRef);
                if self.expect(TokenKind::OnKw).is_some() {
                    item.data = self.name(NodeKind::NameRef);
                }
                item.body = self.block();
            }
            ItemKind::App => {
                item.name = self.name(NodeKind::Name);
                item.body = self.block();
            }
        }
        self.skip_stray_tokens_after_item();
        self.finish();
        item.range = TextRange::new(keyword_range.start, self.last_end());
        item
    }

    /// Anything left on an item's line that is not a new item is an error.
    fn skip_stray_tokens_after_item(&mut self) {
        if self.at(TokenKind::Eof) || self.at_item_start() {
            return;
        }
        self.error_here("a new item");
        self.start(NodeKind::Error);
        while !self.at(TokenKind::Eof) && !self.at_item_start() {
            self.bump();
        }
        self.finish();
    }

    /// A name being defined or used. Keywords that cannot start an item or an
    /// entry are taken as names (with an error) so that recovery is local.
    fn name(&mut self, node: NodeKind) -> Option<Name> {
        if self.at(TokenKind::Ident) {
            let text = self.current_text().to_string();
            self.start(node);
            let range = self.bump();
            self.finish();
            return Some(Name { text, range });
        }
        self.error_here("a name");
        let kind = self.current();
        if kind.is_keyword() && !self.at_recovery_point() && kind != TokenKind::OnKw {
            let text = self.current_text().to_string();
            self.start(node);
            let range = self.bump();
            self.finish();
            return Some(Name { text, range });
        }
        None
    }

    fn block(&mut self) -> Option<Block> {
        if !self.at(TokenKind::LBrace) {
            self.error_here("`{`");
            return None;
        }
        self.start(NodeKind::Block);
        let open = self.bump();
        let first_entry = self.entry_scratch.len();
        loop {
            match self.current() {
                TokenKind::RBrace => {
                    self.bump();
                    break;
                }
                TokenKind::Eof => {
                    self.error_here("`}` to close the block");
                    break;
                }
                _ if self.at_item_start() => {
                    self.error_here("`}` to close the block before the next item");
                    break;
                }
                _ => {
                    if let Some(entry) = self.entry() {
                        self.entry_scratch.push(entry);
                    }
                }
            }
        }
        self.finish();
        let entries: Vec<Entry> = self.entry_scratch.drain(first_entry..).collect();
        Some(Block {
            range: TextRange::new(open.start, self.last_end()),
            entries,
        })
    }

    fn entry(&mut self) -> Option<Entry> {
        let (kind, node) = match (start_of(self.current()), self.current()) {
            (Some((Start::Entry(kind), node)), _) => (kind, node),
            (_, TokenKind::Ident | TokenKind::NeuronKw | TokenKind::WeightsKw) => {
                (EntryKind::Setting, NodeKind::SettingEntry)
            }
            _ => {
                self.error_here(
                    "an entry (input, layer, output, sensor, pipeline, rule, or `key = value`)",
                );
                self.start(NodeKind::Error);
                self.bump();
                while !self.at_recovery_point() && !self.at(TokenKind::Ident) {
                    self.bump();
                }
                self.finish();
                return None;
            }
        };
        self.start(node);
        let keyword_range = if kind == EntryKind::Setting {
            self.current_range()
        } else {
            self.bump()
        };
        let mut entry = Entry {
            kind,
            range: keyword_range,
            keyword_range,
            name: None,
            ty: None,
            value: None,
            rate: None,
            stages: Vec::new(),
            hold: None,
            emit: None,
        };
        match kind {
            EntryKind::Setting => {
                let text = self.current_text().to_string();
                self.start(NodeKind::Name);
                let range = self.bump();
                self.finish();
                entry.name = Some(Name { text, range });
                entry.value = self.value_after_eq();
            }
            EntryKind::Input => {
                entry.name = self.name(NodeKind::Name);
                if self.eat(TokenKind::Colon).is_some() {
                    entry.ty = self.tensor_type();
                } else if self.eat(TokenKind::Eq).is_some() {
                    entry.value = Some(self.expr());
                } else {
                    self.error_here("`:` and a tensor type, or `=` and a dataset key");
                }
            }
            EntryKind::Layer | EntryKind::Output => {
                entry.name = self.name(NodeKind::Name);
                entry.value = self.value_after_eq();
            }
            EntryKind::Sensor => {
                entry.name = self.name(NodeKind::Name);
                if self.expect(TokenKind::Colon).is_some() {
                    entry.ty = self.tensor_type();
                }
                if self.expect(TokenKind::At).is_some() {
                    entry.rate = Some(self.expr());
                }
                if self.expect(TokenKind::Eq).is_some() {
                    entry.value = Some(self.expr());
                }
            }
            EntryKind::Pipeline => {
                if let Some(first) = self.name(NodeKind::NameRef) {
                    entry.stages.push(first);
                }
                while self.eat(TokenKind::Arrow).is_some() {
                    match self.name(NodeKind::NameRef) {
                        Some(stage) => entry.stages.push(stage),
                        None => break,
                    }
                }
            }
            EntryKind::Rule => {
                entry.name = self.name(NodeKind::Name);
                if self.expect(TokenKind::WhenKw).is_some() {
                    entry.value = Some(self.expr());
                }
                if self.eat(TokenKind::ForKw).is_some() {
                    entry.hold = Some(self.expr());
                }
                if self.expect(TokenKind::FatArrow).is_some() {
                    self.start(NodeKind::EmitAction);
                    self.expect(TokenKind::EmitKw);
                    if self.at(TokenKind::String) {
                        let value = unescape_string(self.current_text());
                        let range = self.bump();
                        entry.emit = Some((value, range));
                    } else {
                        self.error_here("a string naming the event to emit");
                    }
                    self.finish();
                }
            }
        }
        // Anything else on the entry's line is an error; stop at the next entry.
        if !self.at_recovery_point() && !self.newline_before_current() {
            self.error_here("the end of the entry");
            self.start(NodeKind::Error);
            while !self.at_recovery_point() && !self.newline_before_current() {
                self.bump();
            }
            self.finish();
        }
        self.finish();
        entry.range = TextRange::new(keyword_range.start, self.last_end().max(keyword_range.end));
        Some(entry)
    }

    fn tensor_type(&mut self) -> Option<TensorType> {
        if !self.at(TokenKind::Ident) {
            self.error_here("a tensor type such as `f32[1, 8, 8]`");
            return None;
        }
        self.start(NodeKind::TensorType);
        let dtype_text = self.current_text().to_string();
        self.start(NodeKind::NameRef);
        let dtype_range = self.bump();
        self.finish();
        let mut dims = Vec::new();
        if self.expect(TokenKind::LBracket).is_some() {
            while !self.at(TokenKind::RBracket) && !self.at_recovery_point() {
                let range = self.current_range();
                let value = match self.current() {
                    TokenKind::Number => {
                        let text = self.current_text();
                        match text.parse::<u64>() {
                            Ok(value) => DimValue::Known(value),
                            Err(_) => DimValue::Invalid(text.to_string()),
                        }
                    }
                    TokenKind::Ident => DimValue::Symbolic(self.current_text().to_string()),
                    _ => {
                        self.error_here("a dimension (a number or a name)");
                        break;
                    }
                };
                self.start(NodeKind::Dim);
                self.bump();
                self.finish();
                dims.push(Dim { range, value });
                if self.eat(TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(TokenKind::RBracket);
        }
        self.finish();
        Some(TensorType {
            range: TextRange::new(dtype_range.start, self.last_end()),
            dtype: Name {
                text: dtype_text,
                range: dtype_range,
            },
            dims,
        })
    }
}

/// Splits `20ms` into (20.0, "ms", true). Never fails: the lexer guarantees
/// a leading digit, and an unparsable mantissa reads as NaN for the checker.
pub fn split_number(text: &str) -> (f64, String, bool) {
    let (end, is_integer) = super::lexer::scan_mantissa(text.as_bytes(), 0);
    let value = text[..end].parse::<f64>().unwrap_or(f64::NAN);
    (value, text[end..].to_string(), is_integer)
}
