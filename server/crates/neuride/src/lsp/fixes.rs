//! Safe fixes of models from the editor. A `WorkspaceEdit` cannot edit a
//! binary file, so the code actions on a model's diagnostics carry the
//! `neuride.fixModel` command: it applies the fixes (the same as `neuride
//! check --fix`), writes the model atomically, checks it again and
//! publishes the new diagnostics before it answers.

use super::custom::path_of;
use super::guard::{internal, invalid_params};
use super::jsonrpc::Result;
use super::state::Shared;
use super::{analysis, commands};
use ls_types::*;
use neuride_ide::{FileKind, Severity};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Code actions for a model (file or text-view URI): one per fixable code
/// among the diagnostics the client sent, and "fix all" when the model has
/// any fixable diagnostic under its rules.
pub fn code_actions(
    shared: &Shared,
    uri: &Uri,
    analysis: &neuride_ide::FileAnalysis,
    context: &CodeActionContext,
) -> Vec<CodeActionOrCommand> {
    let Some(path) = super::uri::to_path(uri) else {
        return Vec::new();
    };
    let file_uri = super::uri::from_path(&path).unwrap_or_else(|| uri.clone());
    let fixable = |code: &str| neuride_ide::fix::FIXABLE.contains(&code);
    let rules = shared.lock().config.rules_for(&path).unwrap_or_default();
    let mut actions = Vec::new();
    let mut seen = Vec::new();
    for diagnostic in &context.diagnostics {
        let Some(NumberOrString::String(code)) = &diagnostic.code else {
            continue;
        };
        if !fixable(code) || seen.contains(code) {
            continue;
        }
        seen.push(code.clone());
        let name = neuride_ide::rules::find(code).map_or(code.as_str(), |rule| rule.name);
        let title = format!("Fix {code} ({name}) in the model");
        let in_range: Vec<Diagnostic> = context
            .diagnostics
            .iter()
            .filter(|d| d.code == diagnostic.code)
            .cloned()
            .collect();
        actions.push(action(
            title,
            CodeActionKind::QUICKFIX,
            &file_uri,
            vec![code.clone()],
            Some(in_range),
        ));
    }
    let all: Vec<String> = rules
        .apply(analysis.diagnostics())
        .into_iter()
        .map(|d| d.code)
        .filter(|code| fixable(code))
        .collect();
    if !all.is_empty() {
        let mut codes = all;
        codes.sort();
        codes.dedup();
        actions.push(action(
            "Apply all safe fixes to the model".into(),
            CodeActionKind::SOURCE_FIX_ALL,
            &file_uri,
            codes,
            None,
        ));
    }
    actions
}

fn action(
    title: String,
    kind: CodeActionKind,
    uri: &Uri,
    codes: Vec<String>,
    diagnostics: Option<Vec<Diagnostic>>,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.clone(),
        kind: Some(kind),
        diagnostics,
        command: Some(Command {
            title,
            command: commands::FIX_MODEL.into(),
            arguments: Some(vec![json!({ "uri": uri, "codes": codes })]),
        }),
        ..Default::default()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixArgs {
    uri: Uri,
    /// The codes to fix; all fixable ones when absent.
    #[serde(default)]
    codes: Option<Vec<String>>,
}

/// `neuride.fixModel`: applies the fixes, writes atomically, re-checks.
/// Answers `{applied: [{code, description}], diagnostics: [...]}`.
pub async fn fix_model(shared: &Shared, args: FixArgs) -> Result<Value> {
    let path = path_of(&args.uri)?;
    if FileKind::from_path(&path) != Some(FileKind::Onnx) {
        return Err(invalid_params(format!(
            "{}: only ONNX models have fixes",
            path.display()
        )));
    }
    let roots = shared.lock().roots.clone();
    let path: PathBuf = commands::inside_workspace(&roots, &path)?;
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let contents = neuride_ide::source::read_contents(&path)
            .map_err(|e| invalid_params(format!("cannot read {}: {e}", path.display())))?;
        let rules = shared
            .lock()
            .config
            .rules_for(&path)
            .map_err(|e| invalid_params(e.to_string()))?;
        let allowed = |code: &str| {
            args.codes
                .as_ref()
                .is_none_or(|codes| codes.iter().any(|c| c == code))
                && rules.severity(code, Severity::Error).is_some()
        };
        let fix = neuride_ide::fix::fix_model(&path, &contents, &allowed)
            .map_err(|e| invalid_params(format!("{}: {e}", path.display())))?;
        drop(contents);
        let applied: Vec<Value> = match &fix {
            Some(fix) => {
                neuride_ide::weights::write_atomically(&path, &fix.bytes())
                    .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
                fix.applied
                    .iter()
                    .map(|a| json!({ "code": a.code, "description": a.description }))
                    .collect()
            }
            None => Vec::new(),
        };
        // Check the written file now and publish, before answering.
        let snapshot = {
            let mut state = shared.lock();
            state.host.file_changed_on_disk(&path);
            state.host.snapshot(&path)
        };
        let analysis = snapshot.and_then(|s| analysis::analyze_and_publish(&shared, &s));
        let diagnostics = match analysis {
            Some(analysis) => rules.apply(analysis.diagnostics()),
            None => Vec::new(),
        };
        Ok(json!({ "applied": applied, "diagnostics": diagnostics }))
    })
    .await
    .map_err(|e| internal(format!("fix failed: {e}")))?
}
