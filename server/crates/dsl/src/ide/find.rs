//! Finding what is under the cursor in the typed syntax.

use crate::syntax::TextRange;
use crate::syntax::ast::{Arg, Call, Entry, Expr, ExprKind, Item, SourceFile};

/// What the cursor is on, innermost first.
pub enum Found<'a> {
    Callee {
        call: &'a Call,
    },
    ArgName {
        call: &'a Call,
        arg: &'a Arg,
    },
    SettingKey {
        item: usize,
        entry: usize,
    },
    Number {
        expr: &'a Expr,
    },
    String {
        item: usize,
        expr: &'a Expr,
        role: StringRole<'a>,
    },
}

pub enum StringRole<'a> {
    /// The path of `onnx("...")` / `npz("...")`.
    Path {
        loader: &'a str,
    },
    /// `W["key"]` with W's name.
    Key {
        archive: &'a str,
    },
    /// `x: "key"` / `y: "key"` of a dataset's `npz(...)`.
    DatasetKey,
    Other,
}

pub fn item_at(file: &SourceFile, offset: usize) -> Option<(usize, &Item)> {
    file.items
        .iter()
        .enumerate()
        .find(|(_, item)| item.range.touches(offset))
}

pub fn entry_at(item: &Item, offset: usize) -> Option<(usize, &Entry)> {
    item.entries()
        .iter()
        .enumerate()
        .find(|(_, entry)| entry.range.touches(offset))
}

/// The innermost call whose argument list contains `offset` (after `(`).
pub fn call_around(expr: &Expr, offset: usize) -> Option<&Call> {
    let mut best: Option<&Call> = None;
    expr.walk(&mut |sub| {
        if let ExprKind::Call(call) = &sub.kind
            && call.args_range.start < offset
            && (offset < call.args_range.end || !closes(call))
        {
            best = Some(call);
        }
    });
    best
}

fn closes(call: &Call) -> bool {
    // An unclosed list ends where parsing stopped; the cursor after it is inside.
    call.args_range.len() >= 2
}

pub fn find_at(file: &SourceFile, offset: usize) -> Option<Found<'_>> {
    let (item_index, item) = item_at(file, offset)?;
    let entry = entry_at(item, offset);
    if let Some((entry_index, entry)) = entry
        && entry.kind == crate::syntax::ast::EntryKind::Setting
        && entry
            .name
            .as_ref()
            .is_some_and(|name| name.range.touches(offset))
    {
        return Some(Found::SettingKey {
            item: item_index,
            entry: entry_index,
        });
    }
    let exprs: Vec<&Expr> = match entry {
        Some((_, entry)) => entry.exprs().collect(),
        None => item.value.iter().collect(),
    };
    let entry_index = entry.map(|(index, _)| index);
    for expr in exprs {
        if !expr.range.touches(offset) {
            continue;
        }
        let mut found = None;
        find_in_expr(expr, offset, item_index, entry_index, item, &mut found);
        if found.is_some() {
            return found;
        }
    }
    None
}

fn find_in_expr<'a>(
    expr: &'a Expr,
    offset: usize,
    item: usize,
    _entry: Option<usize>,
    owner: &'a Item,
    found: &mut Option<Found<'a>>,
) {
    expr.walk(&mut |sub| match &sub.kind {
        ExprKind::Call(call) => {
            if call.callee.range.touches(offset) {
                *found = Some(Found::Callee { call });
            }
            for arg in &call.args {
                if arg
                    .name
                    .as_ref()
                    .is_some_and(|name| name.range.touches(offset))
                {
                    *found = Some(Found::ArgName { call, arg });
                }
                if let ExprKind::String(_) = &arg.value.kind
                    && inside(arg.value.range, offset)
                {
                    let role = match (call.callee.text.as_str(), &arg.name) {
                        ("onnx" | "npz", None) => StringRole::Path {
                            loader: if call.callee.text == "onnx" {
                                "onnx"
                            } else {
                                "npz"
                            },
                        },
                        ("npz", Some(name))
                            if (name.text == "x" || name.text == "y")
                                && owner.kind == crate::syntax::ast::ItemKind::Dataset =>
                        {
                            StringRole::DatasetKey
                        }
                        _ => StringRole::Other,
                    };
                    *found = Some(Found::String {
                        item,
                        expr: &arg.value,
                        role,
                    });
                }
            }
        }
        ExprKind::Index { base, index } => {
            if let (Some(name), ExprKind::String(_)) = (base.as_name(), &index.kind)
                && inside(index.range, offset)
            {
                *found = Some(Found::String {
                    item,
                    expr: index,
                    role: StringRole::Key {
                        archive: &name.text,
                    },
                });
            }
        }
        ExprKind::Number { .. } if sub.range.touches(offset) && found.is_none() => {
            *found = Some(Found::Number { expr: sub });
        }
        _ => {}
    });
}

/// Strictly inside a string token's quotes (or at the end of an unclosed one).
pub fn inside(range: TextRange, offset: usize) -> bool {
    range.start < offset && offset <= range.end
}
