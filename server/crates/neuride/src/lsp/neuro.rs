//! The `.neuro` features: the language crate's functions (byte ranges) over
//! the file's latest analysis, converted to LSP positions here.

use super::{to_proto, uri};
use ls_types::*;
use neuride_dsl as dsl;
use neuride_ide::neuro::NeuroAnalysis;

pub fn position_offset(neuro: &NeuroAnalysis, position: Position) -> usize {
    neuro.offset(to_proto::from_position(position))
}

fn range(neuro: &NeuroAnalysis, range: dsl::TextRange) -> Range {
    to_proto::range(neuro.range(range))
}

pub fn hover(neuro: &NeuroAnalysis, position: Position) -> Option<Hover> {
    let hover = dsl::hover(
        &neuro.parse,
        &neuro.analysis,
        position_offset(neuro, position),
    )?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: hover.markdown,
        }),
        range: Some(range(neuro, hover.range)),
    })
}

/// [`hover`], and for a `to_image(...)` dataset a drawing of its first
/// sample (text art; also a picture when the editor shows images).
pub fn hover_with_preview(
    neuro: &NeuroAnalysis,
    position: Position,
    pictures: bool,
) -> Option<Hover> {
    let mut hover = hover(neuro, position)?;
    let offset = position_offset(neuro, position);
    if let Some(item) = neuride_ide::run::image::image_dataset_at(neuro, offset) {
        let extra = match neuride_ide::run::image::preview(
            neuro,
            item,
            &std::sync::atomic::AtomicBool::new(false),
        ) {
            Ok(preview) => preview.markdown(pictures),
            Err(error) => format!("no preview: {error}"),
        };
        if let HoverContents::Markup(markup) = &mut hover.contents {
            markup.value.push_str("\n\n");
            markup.value.push_str(&extra);
        }
    }
    Some(hover)
}

/// In-file targets, archive keys (the array's row in the archive's text
/// view), model inputs (the input in the model's text view), and files.
pub fn definition(
    neuro: &NeuroAnalysis,
    file_uri: &Uri,
    position: Position,
    target_range: impl Fn(&std::path::Path, &str, bool) -> Option<neuride_ide::Range>,
) -> Option<Location> {
    let target = dsl::goto_definition(
        &neuro.parse,
        &neuro.analysis,
        position_offset(neuro, position),
    )?;
    let base = neuro.path.parent()?;
    let is_archive = matches!(target, dsl::Target::ArchiveEntry { .. });
    match target {
        dsl::Target::InFile { selection, .. } => Some(Location {
            uri: file_uri.clone(),
            range: range(neuro, selection),
        }),
        // A name inside a bound file: found in the file's text view.
        dsl::Target::ArchiveEntry { path, key: name } | dsl::Target::ModelInput { path, name } => {
            let path = base.join(path);
            let found = target_range(&path, &name, is_archive).unwrap_or_default();
            Some(Location {
                uri: uri::virtual_from_path(&path)?,
                range: to_proto::range(found),
            })
        }
        dsl::Target::File { path } => Some(Location {
            uri: uri::from_path(&base.join(path))?,
            range: Range::default(),
        }),
    }
}

pub fn references(
    neuro: &NeuroAnalysis,
    file_uri: &Uri,
    position: Position,
    include_declaration: bool,
) -> Vec<Location> {
    dsl::references(
        &neuro.analysis,
        position_offset(neuro, position),
        include_declaration,
    )
    .into_iter()
    .map(|r| Location {
        uri: file_uri.clone(),
        range: range(neuro, r),
    })
    .collect()
}

pub fn prepare_rename(neuro: &NeuroAnalysis, position: Position) -> Option<PrepareRenameResponse> {
    dsl::prepare_rename(&neuro.analysis, position_offset(neuro, position))
        .ok()
        .map(|r| PrepareRenameResponse::Range(range(neuro, r)))
}

pub fn rename(
    neuro: &NeuroAnalysis,
    file_uri: &Uri,
    position: Position,
    new_name: &str,
) -> Result<WorkspaceEdit, String> {
    let edits = dsl::rename(&neuro.analysis, position_offset(neuro, position), new_name)
        .map_err(|e| e.to_string())?;
    Ok(workspace_edit(neuro, file_uri, &edits))
}

fn text_edits(neuro: &NeuroAnalysis, edits: &[dsl::TextEdit]) -> Vec<TextEdit> {
    edits
        .iter()
        .map(|e| TextEdit {
            range: range(neuro, e.range),
            new_text: e.new_text.clone(),
        })
        .collect()
}

fn workspace_edit(neuro: &NeuroAnalysis, file_uri: &Uri, edits: &[dsl::TextEdit]) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(
            [(file_uri.clone(), text_edits(neuro, edits))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    }
}

pub fn completion(neuro: &NeuroAnalysis, position: Position) -> Vec<CompletionItem> {
    let workspace = neuride_ide::neuro::DiskWorkspace::new(
        neuro.path.parent().unwrap_or(std::path::Path::new(".")),
    );
    dsl::completion(
        &neuro.parse,
        &neuro.analysis,
        &workspace,
        position_offset(neuro, position),
    )
    .into_iter()
    .map(|item| CompletionItem {
        label: item.label,
        kind: Some(match item.kind {
            dsl::CompletionKind::Keyword => CompletionItemKind::KEYWORD,
            dsl::CompletionKind::Snippet => CompletionItemKind::SNIPPET,
            dsl::CompletionKind::Function => CompletionItemKind::FUNCTION,
            dsl::CompletionKind::Variable => CompletionItemKind::VARIABLE,
            dsl::CompletionKind::Field => CompletionItemKind::FIELD,
            dsl::CompletionKind::Property => CompletionItemKind::PROPERTY,
            dsl::CompletionKind::Value => CompletionItemKind::VALUE,
            dsl::CompletionKind::File => CompletionItemKind::FILE,
            dsl::CompletionKind::Folder => CompletionItemKind::FOLDER,
        }),
        detail: item.detail,
        insert_text_format: Some(if item.is_snippet {
            InsertTextFormat::SNIPPET
        } else {
            InsertTextFormat::PLAIN_TEXT
        }),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
            range: range(neuro, item.replace),
            new_text: item.insert_text,
        })),
        ..Default::default()
    })
    .collect()
}

pub fn semantic_tokens_legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: dsl::TOKEN_TYPES
            .iter()
            .map(|t| SemanticTokenType::new(t))
            .collect(),
        token_modifiers: dsl::TOKEN_MODIFIERS
            .iter()
            .map(|m| SemanticTokenModifier::new(m))
            .collect(),
    }
}

/// Tokens delta-encoded as LSP wants; tokens spanning lines are split per line.
pub fn semantic_tokens(neuro: &NeuroAnalysis) -> SemanticTokens {
    let mut data = Vec::new();
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for token in dsl::semantic_tokens(&neuro.parse, &neuro.analysis) {
        let r = neuro.range(token.range);
        if r.start.line != r.end.line || r.end.character <= r.start.character {
            continue;
        }
        let delta_line = r.start.line - last_line;
        let delta_start = if delta_line == 0 {
            r.start.character - last_start
        } else {
            r.start.character
        };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: r.end.character - r.start.character,
            token_type: token.token_type,
            token_modifiers_bitset: token.modifiers,
        });
        last_line = r.start.line;
        last_start = r.start.character;
    }
    SemanticTokens {
        result_id: None,
        data,
    }
}

/// An editor's range as byte offsets (a reversed range is empty at its start).
fn text_range(neuro: &NeuroAnalysis, range: Range) -> dsl::TextRange {
    let start = position_offset(neuro, range.start);
    let end = position_offset(neuro, range.end);
    dsl::TextRange::new(start, end.max(start))
}

pub fn formatting(neuro: &NeuroAnalysis) -> Vec<TextEdit> {
    text_edits(neuro, &dsl::format_edits(&neuro.parse))
}

pub fn inlay_hints(neuro: &NeuroAnalysis, visible: Range) -> Vec<InlayHint> {
    dsl::inlay_hints(&neuro.parse, &neuro.analysis, text_range(neuro, visible))
        .into_iter()
        .map(|hint| InlayHint {
            position: to_proto::position(neuro.line_index.position(&neuro.text, hint.offset)),
            label: InlayHintLabel::String(hint.label),
            kind: Some(InlayHintKind::TYPE),
            text_edits: None,
            tooltip: Some(InlayHintTooltip::String(hint.tooltip)),
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect()
}

pub fn code_actions(
    neuro: &NeuroAnalysis,
    file_uri: &Uri,
    selected: Range,
) -> Vec<CodeActionOrCommand> {
    dsl::code_actions(&neuro.parse, &neuro.analysis, text_range(neuro, selected))
        .into_iter()
        .map(|action| {
            CodeActionOrCommand::CodeAction(CodeAction {
                title: action.title,
                kind: Some(match action.kind {
                    dsl::CodeActionKind::QuickFix => CodeActionKind::QUICKFIX,
                    dsl::CodeActionKind::Refactor => CodeActionKind::REFACTOR,
                }),
                edit: Some(workspace_edit(neuro, file_uri, &action.edits)),
                ..Default::default()
            })
        })
        .collect()
}

/// Simulate, Sweep and Infer above runnable blocks, Run app above apps, Graph
/// above models and converted networks (the source model's graph).
/// Arguments are the objects `neuride.simulate`/`neuride.infer`/
/// `neuride.runApp`/`neuride.sweep`/`neuride.showGraph` take.
pub fn code_lenses(neuro: &NeuroAnalysis, file_uri: &Uri) -> Vec<CodeLens> {
    dsl::code_lenses(&neuro.parse)
        .into_iter()
        .filter_map(|lens| {
            let name = lens.arguments.first().cloned().unwrap_or_default();
            let run = |command: &str| {
                (
                    command.to_owned(),
                    serde_json::json!({ "uri": file_uri, "name": name }),
                )
            };
            let (command, argument) = match lens.action {
                dsl::LensAction::Simulate => run(super::commands::SIMULATE),
                dsl::LensAction::Infer => run(super::commands::INFER),
                dsl::LensAction::RunApp => (
                    super::commands::RUN_APP.to_owned(),
                    serde_json::json!({ "uri": file_uri, "app": name }),
                ),
                dsl::LensAction::Sweep => run(super::commands::SWEEP),
                dsl::LensAction::Graph => {
                    let model = graph_model(neuro, &name)?;
                    (
                        super::commands::SHOW_GRAPH.to_owned(),
                        serde_json::json!({ "uri": uri::from_path(&model)? }),
                    )
                }
            };
            Some(CodeLens {
                range: range(neuro, lens.range),
                command: Some(Command {
                    title: lens.title,
                    command,
                    arguments: Some(vec![argument]),
                }),
                data: None,
            })
        })
        .collect()
}

/// The ONNX file drawn for item `name`: a model's file, or a converted
/// network's source model; hand-written networks have no ONNX graph.
fn graph_model(neuro: &NeuroAnalysis, name: &str) -> Option<std::path::PathBuf> {
    let items = &neuro.analysis.items;
    let mut info = items.get(*neuro.analysis.names.get(name)?)?;
    if let Some(source) = info.source_model {
        info = items.get(source)?;
    }
    let path = info.path.as_ref()?;
    path.ends_with(".onnx").then(|| {
        neuro
            .path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(path)
    })
}
