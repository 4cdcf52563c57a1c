//! Completion: keywords and item snippets, entry keywords per block, layer
//! and neuron calls with snippets for their required arguments, argument
//! names and values, NPZ keys inside `w["..."]`, dataset keys after `D.`,
//! and file paths inside `onnx("...")`/`npz("...")`.

use super::find::{Found, StringRole, call_around, find_at, item_at};
use crate::catalog::{self, CallKind, CallSpec, ValueKind};
use crate::check::{Analysis, Def};
use crate::syntax::ast::{EntryKind, ItemKind};
use crate::syntax::lexer::Token;
use crate::syntax::{Parse, TextRange, TokenKind};
use crate::workspace::{FileFact, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Snippet,
    Function,
    Variable,
    Field,
    Property,
    Value,
    File,
    Folder,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Text to insert; a snippet (`${1:x}`) when `is_snippet`.
    pub insert_text: String,
    pub is_snippet: bool,
    /// The range the insert text replaces (the word being typed).
    pub replace: TextRange,
}

struct Out {
    items: Vec<CompletionItem>,
    replace: TextRange,
}

impl Out {
    /// A name of the file, inserted as it is.
    fn variable(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        let name = name.into();
        self.push(name.clone(), CompletionKind::Variable, detail, name, false);
    }

    fn push(
        &mut self,
        label: impl Into<String>,
        kind: CompletionKind,
        detail: impl Into<String>,
        insert: impl Into<String>,
        is_snippet: bool,
    ) {
        let detail: String = detail.into();
        self.items.push(CompletionItem {
            label: label.into(),
            kind,
            detail: (!detail.is_empty()).then_some(detail),
            insert_text: insert.into(),
            is_snippet,
            replace: self.replace,
        });
    }
}

pub fn completion(
    parse: &Parse,
    analysis: &Analysis,
    workspace: &dyn Workspace,
    offset: usize,
) -> Vec<CompletionItem> {
    let offset = offset.min(parse.text.len());
    let tokens = parse.tree.tokens();
    let at = tokens.partition_point(|token| token.range.end < offset);
    let current = tokens.get(at).filter(|token| {
        token.range.start < offset
            || (token.range.start == offset && token.kind == TokenKind::Ident)
    });
    if let Some(token) = current {
        if matches!(token.kind, TokenKind::LineComment | TokenKind::BlockComment)
            && token.range.start < offset
        {
            return Vec::new();
        }
        if token.kind == TokenKind::String && token.range.start < offset {
            return string_completion(parse, analysis, workspace, offset, *token);
        }
    }
    let word = current
        .filter(|token| token.kind == TokenKind::Ident || token.kind.is_keyword())
        .map(|token| token.range);
    let replace = word
        .map(|range| TextRange::new(range.start, offset.max(range.start)))
        .unwrap_or(TextRange::empty(offset));
    let mut out = Out {
        items: Vec::new(),
        replace: word.unwrap_or(replace),
    };
    let before = replace.start;
    // The two significant tokens before the word (scanning back, not the whole file).
    let upto = tokens.partition_point(|token| token.range.start < before);
    let mut previous = tokens[..upto]
        .iter()
        .rev()
        .filter(|token| !token.kind.is_trivia() && token.range.end <= before);
    let prev = previous.next();
    let prev2 = previous.next();
    let newline_since_prev =
        prev.is_none_or(|prev| parse.text[prev.range.end..before].contains('\n'));
    let item =
        item_at(&parse.ast, before.saturating_sub(1)).or_else(|| item_at(&parse.ast, before));
    let in_body = item
        .and_then(|(index, item)| item.body.as_ref().map(|body| (index, item, body)))
        .filter(|(_, _, body)| {
            body.range.start < before
                && (before < body.range.end || !parse.text[..body.range.end].ends_with('}'))
        });
    let text_of = |token: &Token| &parse.text[token.range.start..token.range.end];

    // Dataset keys after `DATASET.`
    if let (Some(prev), Some(prev2)) = (prev, prev2)
        && prev.kind == TokenKind::Dot
    {
        if let Some(&index) = analysis.names.get(text_of(prev2)) {
            archive_keys(analysis, index, &mut out, false);
        }
        return out.items;
    }
    let prev_kind = prev.map(|token| token.kind);
    match prev_kind {
        Some(TokenKind::SimulateKw | TokenKind::SweepKw) => {
            return names_of(parse, &[ItemKind::Network], out);
        }
        Some(TokenKind::InferKw) => return names_of(parse, &[ItemKind::Model], out),
        Some(TokenKind::OnKw) => return names_of(parse, &[ItemKind::Dataset], out),
        Some(TokenKind::PipelineKw | TokenKind::Arrow) => {
            if let Some((index, item, _)) = in_body {
                for entry in item
                    .entries()
                    .iter()
                    .filter(|entry| entry.kind == EntryKind::Sensor)
                {
                    if let Some(name) = &entry.name {
                        out.variable(name.text.clone(), "sensor");
                    }
                }
                let _ = index;
            }
            for (name, doc) in catalog::PIPELINE_STAGES {
                out.push(*name, CompletionKind::Function, *doc, *name, false);
            }
            return names_of(parse, &[ItemKind::Network, ItemKind::Model], out);
        }
        Some(
            TokenKind::WhenKw
            | TokenKind::EqEq
            | TokenKind::NotEq
            | TokenKind::Lt
            | TokenKind::Gt
            | TokenKind::LtEq
            | TokenKind::GtEq,
        ) => {
            if let Some((app, item, _)) = in_body {
                for reference in analysis
                    .references
                    .iter()
                    .filter(|reference| reference.is_definition)
                {
                    if let Def::Entry(owner, entry) = reference.def
                        && owner == app
                        && item.entries()[entry].kind != EntryKind::Rule
                    {
                        let name = &parse.text[reference.range.start..reference.range.end];
                        out.variable(name, "sensor or pipeline output");
                    }
                }
            }
            return out.items;
        }
        _ => {}
    }
    // Inside an argument list.
    if let Some((_, item)) = item {
        let exprs: Vec<_> = item
            .entries()
            .iter()
            .flat_map(|entry| entry.exprs())
            .chain(item.value.iter())
            .collect();
        for expr in exprs {
            let Some(call) = call_around(expr, before) else {
                continue;
            };
            let Some(spec) = catalog::call(&call.callee.text) else {
                return out.items;
            };
            match prev_kind {
                Some(TokenKind::LParen | TokenKind::Comma) => {
                    for param in spec
                        .named
                        .iter()
                        .filter(|param| call.named(param.name).is_none())
                    {
                        out.push(
                            format!("{}:", param.name),
                            CompletionKind::Property,
                            param.kind.describe(),
                            format!("{}: ", param.name),
                            false,
                        );
                    }
                    let positional_given = call
                        .positional()
                        .filter(|arg| arg.range.end < before)
                        .count();
                    if let Some(param) = spec.positional.get(positional_given) {
                        value_candidates(parse, analysis, item, before, param.kind, &mut out);
                    }
                }
                Some(TokenKind::Colon) => {
                    let key = prev2.map(text_of).unwrap_or("");
                    if let Some(param) = spec.param(key) {
                        value_candidates(parse, analysis, item, before, param.kind, &mut out);
                    }
                }
                _ => {}
            }
            return out.items;
        }
    }
    // After `=`: the value of an item, a layer or a setting.
    if prev_kind == Some(TokenKind::Eq) {
        let key = prev2.map(text_of).unwrap_or("");
        let is_entry_key = prev2.is_some_and(|token| {
            in_body.is_some_and(|(_, _, body)| body.range.contains_range(token.range))
        });
        if !is_entry_key {
            match item.map(|(_, item)| item.kind) {
                Some(ItemKind::Model) => out.push(
                    "onnx",
                    CompletionKind::Function,
                    "bind an ONNX model",
                    "onnx(\"$1\")",
                    true,
                ),
                Some(ItemKind::Weights) => out.push(
                    "npz",
                    CompletionKind::Function,
                    "bind an NPZ archive",
                    "npz(\"$1\")",
                    true,
                ),
                Some(ItemKind::Dataset) => out.push(
                    "npz",
                    CompletionKind::Function,
                    "bind a dataset",
                    "npz(\"$1\", x: \"${2:x}\", y: \"${3:y}\")",
                    true,
                ),
                Some(ItemKind::Network) => {
                    let models: Vec<String> = parse
                        .ast
                        .items
                        .iter()
                        .filter(|i| i.kind == ItemKind::Model)
                        .map(|i| i.label())
                        .collect();
                    let first = models.first().cloned().unwrap_or_else(|| "model".into());
                    out.push("convert", CompletionKind::Function, "a spiking network converted from an ANN", format!("convert(${{1:{first}}}) {{\n    neuron = ${{2:if(threshold: 1.0, reset: subtract)}}\n}}"), true);
                    out.push(
                        "nir",
                        CompletionKind::Function,
                        "a spiking network read from a NIR file (.nir)",
                        "nir(\"${1:network.nir}\")".to_string(),
                        true,
                    );
                }
                _ => {}
            }
            return out.items;
        }
        let entry_kind = item.and_then(|(_, item)| {
            item.entries()
                .iter()
                .find(|entry| {
                    entry
                        .range
                        .contains_range(prev.map(|p| p.range).unwrap_or_default())
                })
                .map(|entry| entry.kind)
        });
        match (entry_kind, key) {
            (Some(EntryKind::Layer | EntryKind::Output), _) => {
                for spec in catalog::CALLS
                    .iter()
                    .filter(|spec| matches!(spec.kind, CallKind::Layer | CallKind::Neuron))
                {
                    out.push(
                        spec.name,
                        CompletionKind::Function,
                        spec.doc,
                        call_snippet(spec, true),
                        true,
                    );
                }
            }
            (_, "neuron") => calls_of(CallKind::Neuron, false, &mut out),
            (_, "encode") => calls_of(CallKind::Encoder, true, &mut out),
            (_, "normalize") => {
                calls_of(CallKind::Normalizer, true, &mut out);
                out.push(
                    "none",
                    CompletionKind::Value,
                    "no normalisation",
                    "none",
                    false,
                );
            }
            (_, "decode") => {
                for word in catalog::DECODERS {
                    out.push(*word, CompletionKind::Value, "decoder", *word, false);
                }
            }
            (_, "weights") => return names_of(parse, &[ItemKind::Weights], out),
            (_, "max_to_avg") => {
                out.push("true", CompletionKind::Value, "", "true", false);
                out.push("false", CompletionKind::Value, "", "false", false);
            }
            (_, "record") => {
                let records = if item.is_some_and(|(_, item)| item.kind == ItemKind::Infer) {
                    catalog::INFER_RECORDS
                } else {
                    catalog::SIMULATE_RECORDS
                };
                out.push(
                    "[...]",
                    CompletionKind::Snippet,
                    "what to record",
                    format!("[${{1:{}}}]", records[0]),
                    true,
                );
            }
            _ => {}
        }
        return out.items;
    }
    // Inside a record list.
    if (prev_kind == Some(TokenKind::LBracket) || (prev_kind == Some(TokenKind::Comma)))
        && let Some((_, item)) = in_body.map(|(index, item, _)| (index, item))
    {
        let records = if item.kind == ItemKind::Infer {
            catalog::INFER_RECORDS
        } else {
            catalog::SIMULATE_RECORDS
        };
        for record in records {
            out.push(*record, CompletionKind::Value, "record", *record, false);
        }
        if item.kind == ItemKind::Simulate {
            out.push(
                "raster",
                CompletionKind::Function,
                "spike raster of a layer",
                "raster(${1:layer})",
                true,
            );
        }
        return out.items;
    }
    // The start of an entry in a block.
    if let Some((_, item, _)) = in_body {
        if newline_since_prev || prev_kind == Some(TokenKind::LBrace) {
            entry_keywords(item, &mut out);
        }
        return out.items;
    }
    // The start of an item.
    if newline_since_prev || prev_kind == Some(TokenKind::RBrace) {
        item_keywords(parse, &mut out);
    }
    out.items
}

fn names_of(parse: &Parse, kinds: &[ItemKind], mut out: Out) -> Vec<CompletionItem> {
    for item in parse
        .ast
        .items
        .iter()
        .filter(|item| kinds.contains(&item.kind))
    {
        if let Some(name) = &item.name {
            out.variable(name.text.clone(), item.kind.keyword());
        }
    }
    out.items
}

fn calls_of(kind: CallKind, with_positional: bool, out: &mut Out) {
    for spec in catalog::calls_of(kind) {
        out.push(
            spec.name,
            CompletionKind::Function,
            spec.doc,
            call_snippet(spec, with_positional),
            true,
        );
    }
}

/// `dense(${1:x}, out: ${2}, weight: ${3})`: placeholders for the required arguments.
pub fn call_snippet(spec: &CallSpec, with_positional: bool) -> String {
    let mut parts = Vec::new();
    let mut index = 1;
    if with_positional {
        for param in spec.positional {
            parts.push(format!("${{{index}:{}}}", param.name));
            index += 1;
        }
    }
    for param in spec.named.iter().filter(|param| param.is_required()) {
        parts.push(format!("{}: ${{{index}}}", param.name));
        index += 1;
    }
    format!("{}({})", spec.name, parts.join(", "))
}

fn value_candidates(
    parse: &Parse,
    analysis: &Analysis,
    item: &crate::syntax::ast::Item,
    before: usize,
    kind: ValueKind,
    out: &mut Out,
) {
    match kind {
        ValueKind::Layer => {
            for entry in item.entries().iter().filter(|entry| {
                entry.range.end <= before
                    && matches!(
                        entry.kind,
                        EntryKind::Input | EntryKind::Layer | EntryKind::Output
                    )
            }) {
                if let Some(name) = &entry.name {
                    out.variable(name.text.clone(), entry.kind.keyword());
                }
            }
        }
        ValueKind::Tensor => {
            for weights in parse
                .ast
                .items
                .iter()
                .filter(|item| item.kind == ItemKind::Weights)
            {
                let name = weights.label();
                out.push(
                    format!("{name}[\"...\"]"),
                    CompletionKind::Variable,
                    "weights",
                    format!("{name}[\"$1\"]"),
                    true,
                );
            }
        }
        ValueKind::Dataset | ValueKind::Model | ValueKind::Weights => {
            let wanted = match kind {
                ValueKind::Dataset => ItemKind::Dataset,
                ValueKind::Model => ItemKind::Model,
                _ => ItemKind::Weights,
            };
            for other in parse.ast.items.iter().filter(|other| other.kind == wanted) {
                out.variable(other.label(), wanted.keyword());
            }
        }
        ValueKind::Word(words) => {
            for word in words {
                out.push(*word, CompletionKind::Value, "", *word, false);
            }
        }
        ValueKind::Bool => {
            out.push("true", CompletionKind::Value, "", "true", false);
            out.push("false", CompletionKind::Value, "", "false", false);
        }
        _ => {}
    }
    let _ = analysis;
}

fn entry_keywords(item: &crate::syntax::ast::Item, out: &mut Out) {
    let settings: &[catalog::SettingSpec] = match item.kind {
        ItemKind::Network if item.value.is_some() => catalog::CONVERT_SETTINGS,
        ItemKind::Network => {
            out.push(
                "input",
                CompletionKind::Keyword,
                "a network input",
                "input ${1:x}: ${2:f32}[${3:1, 8, 8}]",
                true,
            );
            out.push(
                "layer",
                CompletionKind::Keyword,
                "a layer",
                "layer ${1:name} = $0",
                true,
            );
            out.push(
                "output",
                CompletionKind::Keyword,
                "the network output",
                "output ${1:y} = $0",
                true,
            );
            return;
        }
        ItemKind::Simulate => catalog::SIMULATE_SETTINGS,
        ItemKind::Sweep => catalog::SWEEP_SETTINGS,
        ItemKind::Infer => {
            out.push(
                "input",
                CompletionKind::Keyword,
                "map a model input to a dataset key",
                "input ${1:NAME} = ${2:data}.${3:x}",
                true,
            );
            catalog::INFER_SETTINGS
        }
        ItemKind::App => {
            out.push(
                "sensor",
                CompletionKind::Keyword,
                "a sensor",
                "sensor ${1:name}: ${2:f32}[${3:4}] @ ${4:10Hz} = ${5:replay(data)}",
                true,
            );
            out.push(
                "pipeline",
                CompletionKind::Keyword,
                "sensor -> network -> output",
                "pipeline ${1:sensor} -> ${2:network} -> ${3:argmax} -> ${4:result}",
                true,
            );
            out.push(
                "rule",
                CompletionKind::Keyword,
                "an event rule",
                "rule ${1:name} when ${2:result == 1} => emit \"${3:event}\"",
                true,
            );
            return;
        }
        _ => return,
    };
    for setting in settings {
        out.push(
            setting.key,
            CompletionKind::Property,
            setting.doc,
            setting.snippet,
            true,
        );
    }
}

fn item_keywords(parse: &Parse, out: &mut Out) {
    let first = |kind: ItemKind, fallback: &str| {
        parse
            .ast
            .items
            .iter()
            .find(|item| item.kind == kind)
            .map(|item| item.label())
            .unwrap_or_else(|| fallback.to_string())
    };
    let snippets = [
        ("model", "model ${1:name} = onnx(\"$2\")".to_string()),
        ("weights", "weights ${1:w} = npz(\"$2\")".to_string()),
        (
            "dataset",
            "dataset ${1:data} = npz(\"$2\", x: \"${3:x}\", y: \"${4:y}\")".to_string(),
        ),
        (
            "network",
            "network ${1:name} {\n    input ${2:x}: f32[${3:1, 8, 8}]\n    $0\n}".to_string(),
        ),
        (
            "simulate",
            format!(
                "simulate ${{1:{}}} on ${{2:{}}} {{\n    dt = ${{3:1ms}}\n    steps = ${{4:50}}\n}}",
                first(ItemKind::Network, "network"),
                first(ItemKind::Dataset, "data")
            ),
        ),
        (
            "infer",
            format!(
                "infer ${{1:{}}} on ${{2:{}}} {{\n    record = [${{3:accuracy}}]\n}}",
                first(ItemKind::Model, "model"),
                first(ItemKind::Dataset, "data")
            ),
        ),
        ("app", "app ${1:name} {\n    $0\n}".to_string()),
    ];
    for (keyword, snippet) in snippets {
        out.push(
            keyword,
            CompletionKind::Keyword,
            format!("{keyword} item"),
            snippet,
            true,
        );
    }
}

fn archive_keys(analysis: &Analysis, item: usize, out: &mut Out, quoted: bool) {
    let Some(archive) = analysis
        .items
        .get(item)
        .and_then(|info| info.archive.as_ref())
    else {
        return;
    };
    for array in &archive.arrays {
        let detail = format!(
            "{} {}",
            array.dtype,
            crate::workspace::Shape::known(&array.shape)
        );
        let insert = if quoted {
            array.name.clone()
        } else {
            array.name.clone()
        };
        out.push(
            array.name.clone(),
            CompletionKind::Field,
            detail,
            insert,
            false,
        );
    }
}

fn string_completion(
    parse: &Parse,
    analysis: &Analysis,
    workspace: &dyn Workspace,
    offset: usize,
    token: Token,
) -> Vec<CompletionItem> {
    let token_text = &parse.text[token.range.start..token.range.end];
    let closed =
        token_text.len() >= 2 && token_text.ends_with('"') && !token_text.ends_with("\\\"");
    let content_end = if closed {
        token.range.end - 1
    } else {
        token.range.end
    };
    if offset > content_end {
        return Vec::new();
    }
    let content = TextRange::new(token.range.start + 1, content_end);
    let typed = &parse.text[content.start..offset];
    let mut out = Out {
        items: Vec::new(),
        replace: content,
    };
    match find_at(&parse.ast, offset) {
        Some(Found::String {
            role: StringRole::Path { loader },
            ..
        }) => {
            let dir_end = typed.rfind('/').map(|index| index + 1).unwrap_or(0);
            let dir = &typed[..dir_end];
            out.replace = TextRange::new(content.start + dir_end, content.end);
            let extension = if loader == "onnx" { ".onnx" } else { ".npz" };
            for entry in workspace.files(dir.trim_end_matches('/')) {
                if entry.is_dir {
                    out.push(
                        format!("{}/", entry.name),
                        CompletionKind::Folder,
                        "folder",
                        format!("{}/", entry.name),
                        false,
                    );
                } else if entry.name.ends_with(extension) {
                    out.push(
                        entry.name.clone(),
                        CompletionKind::File,
                        "file",
                        entry.name.clone(),
                        false,
                    );
                }
            }
        }
        Some(Found::String {
            role: StringRole::Key { archive },
            ..
        }) => {
            if let Some(&index) = analysis.names.get(archive) {
                archive_keys(analysis, index, &mut out, true);
            }
        }
        Some(Found::String {
            item,
            role: StringRole::DatasetKey,
            ..
        }) => {
            if analysis
                .items
                .get(item)
                .is_some_and(|info| info.archive.is_some())
            {
                archive_keys(analysis, item, &mut out, true);
            } else if let Some(path) = analysis.items.get(item).and_then(|info| info.path.clone()) {
                // The archive failed to load; nothing to offer but say nothing wrong.
                if let FileFact::Ok(archive) = workspace.archive(&path) {
                    for array in &archive.arrays {
                        out.push(
                            array.name.clone(),
                            CompletionKind::Field,
                            array.dtype.clone(),
                            array.name.clone(),
                            false,
                        );
                    }
                }
            }
        }
        _ => {}
    }
    out.items
}
