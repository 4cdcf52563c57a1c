//! Go to definition, find references and rename.

use super::find::{Found, StringRole, find_at};
use crate::check::{Analysis, Def, TextEdit};
use crate::syntax::ast::ItemKind;
use crate::syntax::{Parse, TextRange, TokenKind};

/// Where a definition lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// In this file: the whole definition and the name to select.
    InFile {
        range: TextRange,
        selection: TextRange,
    },
    /// An array of an NPZ archive (path as written, relative to this file);
    /// the server maps it to the line of the archive's text view.
    ArchiveEntry { path: String, key: String },
    /// An input of an ONNX model, in the model's text view.
    ModelInput { path: String, name: String },
    /// A whole file (from the path string of `onnx(...)`/`npz(...)`).
    File { path: String },
}

fn definition_range(
    parse: &Parse,
    analysis: &Analysis,
    def: &Def,
) -> Option<(TextRange, TextRange)> {
    let selection = analysis
        .references_to(def)
        .find(|reference| reference.is_definition)
        .map(|reference| reference.range);
    match def {
        Def::Item(index) => {
            let item = parse.ast.items.get(*index)?;
            Some((item.range, selection.unwrap_or(item.selection_range())))
        }
        Def::Entry(item, entry) => {
            let entry = parse.ast.items.get(*item)?.entries().get(*entry)?;
            Some((entry.range, selection.unwrap_or(entry.keyword_range)))
        }
        _ => None,
    }
}

pub fn goto_definition(parse: &Parse, analysis: &Analysis, offset: usize) -> Option<Target> {
    if let Some(reference) = analysis.reference_at(offset) {
        return match &reference.def {
            Def::ArchiveKey { item, key } => Some(Target::ArchiveEntry {
                path: analysis.items.get(*item)?.path.clone()?,
                key: key.clone(),
            }),
            Def::ModelInput { item, name } => Some(Target::ModelInput {
                path: analysis.items.get(*item)?.path.clone()?,
                name: name.clone(),
            }),
            def => definition_range(parse, analysis, def)
                .map(|(range, selection)| Target::InFile { range, selection }),
        };
    }
    if let Some(Found::String {
        item,
        role: StringRole::Path { .. },
        ..
    }) = find_at(&parse.ast, offset)
    {
        let path = analysis.items.get(item)?.path.clone()?;
        let _ = ItemKind::Model;
        return Some(Target::File { path });
    }
    None
}

/// Every range in this file that refers to the same thing as `offset`.
pub fn references(analysis: &Analysis, offset: usize, include_declaration: bool) -> Vec<TextRange> {
    let Some(reference) = analysis.reference_at(offset) else {
        return Vec::new();
    };
    let mut ranges: Vec<TextRange> = analysis
        .references_to(&reference.def)
        .filter(|other| include_declaration || !other.is_definition)
        .map(|other| other.range)
        .collect();
    ranges.sort_by_key(|range| range.start);
    ranges.dedup();
    ranges
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameError {
    NothingToRename,
    /// Archive keys and model inputs live in other files.
    NotInThisFile,
    InvalidName(String),
}

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenameError::NothingToRename => {
                write!(f, "expected the cursor on a name, found nothing to rename")
            }
            RenameError::NotInThisFile => write!(
                f,
                "expected a name defined in this file, found an archive key or model input (rename it in its file)"
            ),
            RenameError::InvalidName(name) => write!(
                f,
                "expected an identifier that is not a keyword, found `{name}`"
            ),
        }
    }
}

/// The range of the name that would be renamed.
pub fn prepare_rename(analysis: &Analysis, offset: usize) -> Result<TextRange, RenameError> {
    let reference = analysis
        .reference_at(offset)
        .ok_or(RenameError::NothingToRename)?;
    match reference.def {
        Def::Item(_) | Def::Entry(..) => Ok(reference.range),
        _ => Err(RenameError::NotInThisFile),
    }
}

pub fn rename(
    analysis: &Analysis,
    offset: usize,
    new_name: &str,
) -> Result<Vec<TextEdit>, RenameError> {
    prepare_rename(analysis, offset)?;
    let valid = new_name.bytes().enumerate().all(|(index, byte)| {
        byte == b'_' || byte.is_ascii_alphabetic() || (index > 0 && byte.is_ascii_digit())
    }) && !new_name.is_empty()
        && TokenKind::keyword(new_name).is_none();
    if !valid {
        return Err(RenameError::InvalidName(new_name.to_string()));
    }
    Ok(references(analysis, offset, true)
        .into_iter()
        .map(|range| TextEdit {
            range,
            new_text: new_name.to_string(),
        })
        .collect())
}
