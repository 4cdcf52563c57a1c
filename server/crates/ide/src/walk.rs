//! Finding the files neuride analyses under folders, respecting
//! `.gitignore` (and `.ignore`) like ripgrep does.

use crate::file_kind::FileKind;
use std::path::{Path, PathBuf};

/// Every analysable file under `root` (or `root` itself when it is a file of
/// a known kind), sorted. Hidden files are skipped, as are ignored ones;
/// the walk also honours `.gitignore` outside a git repository.
pub fn analysable_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for_each_analysable_file(root, |path| files.push(path));
    files.sort_unstable_by(|a, b| path_order(a, b));
    files
}

/// Calls `found` with each file [`analysable_files`] lists, as the walk
/// finds them (in no particular order: a caller can start on the first
/// files while the walk goes on, and sort by [`path_order`] at the end).
pub fn for_each_analysable_file(root: &Path, mut found: impl FnMut(PathBuf)) {
    if root.is_file() {
        if FileKind::from_path(root).is_some() {
            found(root.to_owned());
        }
        return;
    }
    walk(root)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .filter(|path| FileKind::from_path(path).is_some())
        .for_each(&mut found);
}

/// The entries under `root` that are neither hidden nor ignored, the walk
/// both the file and the folder lists take.
fn walk(root: &Path) -> impl Iterator<Item = ignore::DirEntry> {
    ignore::WalkBuilder::new(root)
        .require_git(false)
        .build()
        .filter_map(Result::ok)
}

/// `Path`'s order (component by component) for the paths a walk yields,
/// computed on the bytes: the separator sorts before every other byte,
/// which is what comparing component by component amounts to. `Path`'s own
/// comparison parses components on every call, and sorting a big folder's
/// paths with it cost more than walking it.
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let rank = |byte: u8| {
        if std::path::is_separator(char::from(byte)) {
            0
        } else {
            u16::from(byte) + 1
        }
    };
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match (a.get(common), b.get(common)) {
        (Some(&x), Some(&y)) => rank(x).cmp(&rank(y)),
        _ => a.len().cmp(&b.len()),
    }
}

/// Every folder under `root` (itself included) the walk of
/// [`analysable_files`] visits: ignored and hidden folders are skipped and
/// symbolic links are not followed, so the list is as long as the real tree.
pub fn folders(root: &Path) -> Vec<PathBuf> {
    walk(root)
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

    /// `paths` below `root`, with `/` separators.
    fn relative(root: &Path, paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| {
                p.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect()
    }

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
        let found = relative(root, &analysable_files(root));
        assert_eq!(found, ["a.onnx", "app.neuro", "models/b.npz"]);
        assert!(is_ignored(root, &root.join("models/skip/c.onnx")));
        assert!(is_ignored(root, &root.join("x.tmp.onnx")));
        assert!(!is_ignored(root, &root.join("models/b.npz")));
    }

    #[test]
    fn path_order_is_paths_own_order() {
        // Every path of up to four characters over an alphabet with the
        // separator and bytes just below and above it, compared pairwise.
        let alphabet = ['a', 'b', '-', '.', '/', '0'];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            paths.extend(longer);
        }
        // Paths a walk yields below a root: names only (no `.` or `..`
        // components, which `Path` ranks before names), no empty
        // components, no trailing separator.
        paths.retain(|p| {
            !p.is_empty()
                && !p.starts_with('/')
                && !p.ends_with('/')
                && !p.contains("//")
                && Path::new(p)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
                && !p.split('/').any(|c| c == "." || c == "..")
        });
        paths.sort();
        paths.dedup();
        for a in &paths {
            for b in &paths {
                let (a, b) = (Path::new(a), Path::new(b));
                assert_eq!(path_order(a, b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn the_walk_yields_paths_in_path_order() {
        // Byte order would put "a-b/x.onnx" before "a/b.onnx"; `Path`'s
        // component order (what users see sorted) puts folder "a" first.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "ab.onnx",
            "a-b/x.onnx",
            "a/z.onnx",
            "a/c/d.onnx",
            "a/b.onnx",
            "a.onnx",
            "B.onnx",
        ] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
        let found = analysable_files(root);
        let mut sorted = found.clone();
        sorted.sort();
        assert_eq!(found, sorted);
        assert_eq!(
            relative(root, &found),
            [
                "B.onnx",
                "a/b.onnx",
                "a/c/d.onnx",
                "a/z.onnx",
                "a-b/x.onnx",
                "a.onnx",
                "ab.onnx"
            ]
        );
    }
}
