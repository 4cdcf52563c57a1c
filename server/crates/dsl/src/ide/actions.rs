//! Code actions: the fixes the checker attached to diagnostics, plus
//! refactors at the cursor (insert all arguments of a call, insert a
//! `convert` block for a DL model).

use super::find::{call_around, entry_at, item_at};
use crate::catalog;
use crate::check::{Analysis, TextEdit, convert_block_fix_for, insert_args_fix_for};
use crate::syntax::ast::ItemKind;
use crate::syntax::{Parse, TextRange};
use crate::workspace::ModelKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeActionKind {
    QuickFix,
    Refactor,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub kind: CodeActionKind,
    pub edits: Vec<TextEdit>,
    /// The code of the diagnostic a quick fix resolves.
    pub diagnostic_code: Option<&'static str>,
}

pub fn code_actions(parse: &Parse, analysis: &Analysis, range: TextRange) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    for diagnostic in &analysis.diagnostics {
        let overlaps = diagnostic.range.start <= range.end && range.start <= diagnostic.range.end;
        if !overlaps {
            continue;
        }
        for fix in &diagnostic.fixes {
            actions.push(CodeAction {
                title: fix.title.clone(),
                kind: CodeActionKind::QuickFix,
                edits: fix.edits.clone(),
                diagnostic_code: Some(diagnostic.code),
            });
        }
    }
    let offset = range.start;
    if let Some((item_index, item)) = item_at(&parse.ast, offset) {
        let exprs: Vec<_> = match entry_at(item, offset) {
            Some((_, entry)) => entry.exprs().collect(),
            None => item.value.iter().collect(),
        };
        for expr in exprs {
            let Some(call) = call_around(expr, offset).or_else(|| {
                expr.as_call()
                    .filter(|call| call.callee.range.touches(offset))
            }) else {
                continue;
            };
            let Some(spec) = catalog::call(&call.callee.text) else {
                continue;
            };
            let missing: Vec<_> = spec
                .named
                .iter()
                .filter(|param| call.named(param.name).is_none())
                .collect();
            if missing.is_empty() {
                continue;
            }
            let fix = insert_args_fix_for(
                &parse.text,
                &parse.ast.items,
                call,
                &missing,
                &format!("Insert all arguments of `{}`", spec.name),
            );
            actions.push(CodeAction {
                title: fix.title,
                kind: CodeActionKind::Refactor,
                edits: fix.edits,
                diagnostic_code: None,
            });
        }
        if item.kind == ItemKind::Model {
            let is_dl = analysis
                .items
                .get(item_index)
                .and_then(|info| info.model.as_ref())
                .is_none_or(|facts| facts.kind == ModelKind::Dl);
            let already = analysis
                .items
                .iter()
                .any(|info| info.source_model == Some(item_index));
            if is_dl && !already && item.name.is_some() {
                let fix = convert_block_fix_for(&parse.ast.items, item_index, None);
                actions.push(CodeAction {
                    title: fix.title,
                    kind: CodeActionKind::Refactor,
                    edits: fix.edits,
                    diagnostic_code: None,
                });
            }
        }
    }
    actions
}
