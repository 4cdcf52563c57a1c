//! Finding the files neuride analyses under folders, respecting
//! `.gitignore` (and `.ignore`) like ripgrep does.

use crate::file_kind::FileKind;
use std::path::{Path, PathBuf};

/// Every analysable file under `root` (or `root` itself when it is a file of
/// a known kind), sorted. Hidden files are skipped, as are ignored ones;
/// the walk also honours `.gitignore` outside a git repository.
pub fn analysable_files(root: &Path) -> Vec<PathBuf> {
    if root.is_file() {
        return FileKind::from_path(root)
            .map(|_| vec![root.to_owned()])
            .unwrap_or_default();
    }
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .require_git(false)
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .filter(|path| FileKind::from_path(path).is_some())
        .collect();
    files.sort();
    files
}

/// Every folder under `root` (itself included) the walk of
/// [`analysable_files`] visits: ignored and hidden folders are skipped and
/// symbolic links are not followed, so the list is as long as the real tree.
pub fn folders(root: &Path) -> Vec<PathBuf> {
    ignore::WalkBuilder::new(root)
        .require_git(false)
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_dir()))
        .map(ignore::DirEntry::into_path)
        .collect()
}

/// Whether `path` under `root` is ignored by a `.gitignore` between them
/// (used for files reported by a watcher, which does not know ignore rules).
pub fn is_ignored(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
    let mut folder = root.to_owned();
    let _ = builder.add(folder.join(".gitignore"));
    let components: Vec<_> = relative.components().collect();
    for component in components.iter().take(components.len().saturating_sub(1)) {
        folder.push(component);
        let _ = builder.add(folder.join(".gitignore"));
    }
    let Ok(gitignore) = builder.build() else {
        return false;
    };
    relative.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.starts_with('.') && s.len() > 1)
    }) || gitignore
        .matched_path_or_any_parents(path, path.is_dir())
        .is_ignore()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_respects_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("models/skip")).unwrap();
        std::fs::write(root.join(".gitignore"), "skip/\n*.tmp.onnx\n").unwrap();
        for name in [
            "a.onnx",
            "models/b.npz",
            "models/skip/c.onnx",
            "x.tmp.onnx",
            "app.neuro",
            "notes.txt",
        ] {
            std::fs::write(root.join(name), b"").unwrap();
        }
        let found: Vec<String> = analysable_files(root)
            .iter()
            .map(|p| {
                p.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        assert_eq!(found, ["a.onnx", "app.neuro", "models/b.npz"]);
        assert!(is_ignored(root, &root.join("models/skip/c.onnx")));
        assert!(is_ignored(root, &root.join("x.tmp.onnx")));
        assert!(!is_ignored(root, &root.join("models/b.npz")));
    }
}
