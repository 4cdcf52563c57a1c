//! `neuride fmt [--check] PATH...`: formats `.neuro` files in place (files
//! or folders, recursive) with the canonical style of `neuride_dsl::format`.
//! `--check` writes nothing and exits 1 listing the files that would change.
//! Writes are atomic: the new text goes to a temporary file in the same
//! folder, which is then renamed over the original.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders (folders are searched recursively for .neuro files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Report unformatted files and exit 1 instead of rewriting them.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for path in &args.paths {
        collect_neuro_files(path, &mut files)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    files.sort();
    files.dedup();
    let mut unformatted = Vec::new();
    let mut broken = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let parse = neuride_dsl::parse(&text);
        let Some(formatted) = neuride_dsl::format(&parse) else {
            broken.push((file.clone(), parse.errors.len()));
            continue;
        };
        if formatted == text {
            continue;
        }
        if !args.check {
            neuride_ide::weights::write_atomically(file, formatted.as_bytes())
                .with_context(|| format!("writing {}", file.display()))?;
        }
        unformatted.push(file.clone());
    }
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    for (file, errors) in &broken {
        writeln!(
            stderr,
            "{}: not formatted: {errors} syntax error(s) (run `neuride check`)",
            file.display()
        )?;
    }
    for file in &unformatted {
        if args.check {
            writeln!(stderr, "{}: not formatted", file.display())?;
        } else {
            writeln!(stderr, "{}: formatted", file.display())?;
        }
    }
    let failed = !broken.is_empty() || (args.check && !unformatted.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn collect_neuro_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let metadata = std::fs::metadata(path)?;
    if metadata.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let child = entry.path();
        let file_type = entry.file_type()?;
        // Hidden folders (.git, .venv) and build output hold no sources.
        let hidden = child
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.') || name == "target");
        if file_type.is_dir() && !hidden {
            collect_neuro_files(&child, out)?;
        } else if file_type.is_file() && child.extension().is_some_and(|ext| ext == "neuro") {
            out.push(child);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ExitCode` has no `PartialEq` on every supported toolchain; compare its Debug form.
    fn code(code: ExitCode) -> String {
        format!("{code:?}")
    }

    #[test]
    fn formats_folders_recursively_and_check_reports() {
        let dir = tempfile::tempdir().expect("temp dir");
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).expect("mkdir");
        let messy = nested.join("m.neuro");
        std::fs::write(&messy, "model  m=onnx(\"m.onnx\")").expect("write");
        let clean = dir.path().join("c.neuro");
        std::fs::write(&clean, "model m = onnx(\"m.onnx\")\n").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "model  m").expect("write");

        let fmt = |check| {
            run(Args {
                paths: vec![dir.path().to_path_buf()],
                check,
            })
            .expect("fmt")
        };
        let check = fmt(true);
        assert_eq!(code(check), code(ExitCode::from(1)));
        assert_eq!(
            std::fs::read_to_string(&messy).expect("read"),
            "model  m=onnx(\"m.onnx\")"
        );

        let fix = fmt(false);
        assert_eq!(code(fix), code(ExitCode::SUCCESS));
        assert_eq!(
            std::fs::read_to_string(&messy).expect("read"),
            "model m = onnx(\"m.onnx\")\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("notes.txt")).expect("read"),
            "model  m"
        );

        let again = fmt(true);
        assert_eq!(code(again), code(ExitCode::SUCCESS));
    }

    #[test]
    fn broken_files_fail_and_stay_untouched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let broken = dir.path().join("b.neuro");
        std::fs::write(&broken, "model m = \nnetwork {").expect("write");
        let result = run(Args {
            paths: vec![broken.clone()],
            check: false,
        })
        .expect("fmt");
        assert_eq!(code(result), code(ExitCode::from(1)));
        assert_eq!(
            std::fs::read_to_string(&broken).expect("read"),
            "model m = \nnetwork {"
        );
    }
}
