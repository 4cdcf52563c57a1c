//! The check every `-o`/`--output` path gets before a command does any work:
//! a command writes only the formats it knows, chosen by the extension, so an
//! extension it cannot write is an error naming the path and the extensions
//! it can write, never a file whose content does not match its name.

use anyhow::Context;
use std::path::Path;

/// Writes `bytes` to `path` atomically (see
/// [`neuride_ide::weights::write_atomically`]), naming the path on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    neuride_ide::weights::write_atomically(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The extension of `path` (lower case, without the dot) when it is one of
/// `writable`, else an error that names the path and lists `writable`.
pub fn output_format(path: &Path, writable: &[&'static str]) -> anyhow::Result<&'static str> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if let Some(format) = writable.iter().find(|w| extension.as_deref() == Some(**w)) {
        return Ok(format);
    }
    let found = match &extension {
        Some(extension) => format!("a .{extension} file"),
        None => "a file without an extension".to_owned(),
    };
    let expected = writable
        .iter()
        .map(|w| format!(".{w}"))
        .collect::<Vec<_>>()
        .join(" or ");
    anyhow::bail!(
        "cannot write {}: this command writes {expected}, not {found}",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/folder/out.json");
        let error = write_atomic(&missing, b"x").unwrap_err();
        assert!(format!("{error:#}").contains("out.json"), "{error:#}");
    }

    #[test]
    fn a_listed_extension_is_its_format_in_any_case() {
        let formats = ["npz", "json"];
        assert_eq!(
            output_format(Path::new("out.npz"), &formats).unwrap(),
            "npz"
        );
        assert_eq!(
            output_format(Path::new("d/OUT.JSON"), &formats).unwrap(),
            "json"
        );
    }

    #[test]
    fn other_extensions_name_the_path_and_the_writable_ones() {
        let error = output_format(Path::new("out.nir"), &["neuro"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot write out.nir: this command writes .neuro, not a .nir file"
        );
        let error = output_format(Path::new("out"), &["npz", "json"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot write out: this command writes .npz or .json, not a file without an extension"
        );
    }
}
