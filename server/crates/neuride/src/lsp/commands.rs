//! `workspace/executeCommand`: importing and exporting models, opening a
//! graph outside the editor, and the long-running jobs.

use super::custom::{analysis_of, path_of};
use super::guard::{internal, invalid_params};
use super::jobs::{JobError, run_job};
use super::jsonrpc::Result;
use super::state::Shared;
use super::transport::Client;
use super::{analysis, uri};
use ls_types::{ExecuteCommandParams, ShowDocumentParams, Uri};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub const IMPORT_MODEL: &str = "neuride.importModel";
pub const EXPORT_MODEL: &str = "neuride.exportModel";
pub const SHOW_GRAPH: &str = "neuride.showGraph";
pub const RECHECK: &str = "neuride.recheck";
pub const SIMULATE: &str = "neuride.simulate";
pub const INFER: &str = "neuride.infer";
pub const CONVERT: &str = "neuride.convert";
pub const RUN_APP: &str = "neuride.runApp";
pub const FIX_MODEL: &str = "neuride.fixModel";
pub const SWEEP: &str = "neuride.sweep";

/// The commands this build implements (advertised in `initialize`).
pub fn all() -> Vec<String> {
    [
        IMPORT_MODEL,
        EXPORT_MODEL,
        SHOW_GRAPH,
        RECHECK,
        SIMULATE,
        INFER,
        CONVERT,
        RUN_APP,
        FIX_MODEL,
        SWEEP,
    ]
    .iter()
    .map(|c| (*c).to_owned())
    .collect()
}

pub async fn execute(
    shared: &Shared,
    client: &Client,
    params: ExecuteCommandParams,
) -> Result<Option<Value>> {
    let argument = params.arguments.into_iter().next().unwrap_or(Value::Null);
    let token = params.work_done_progress_params.work_done_token;
    let value = match params.command.as_str() {
        IMPORT_MODEL => import_model(shared, parse(argument)?).await?,
        EXPORT_MODEL => export_model(shared, parse(argument)?).await?,
        SHOW_GRAPH => show_graph(shared, client, parse(argument)?).await?,
        RECHECK => recheck(shared, client, token).await?,
        SIMULATE => super::runs::simulate(shared, client, token, argument).await?,
        INFER => super::runs::infer(shared, client, token, argument).await?,
        CONVERT => super::runs::convert(shared, argument).await?,
        RUN_APP => super::apps::run_app(shared, client, token, argument).await?,
        FIX_MODEL => super::fixes::fix_model(shared, parse(argument)?).await?,
        SWEEP => super::runs::sweep(shared, client, token, argument).await?,
        other => {
            return Err(invalid_params(format!(
                "unknown command {other:?}; known: {}",
                all().join(", ")
            )));
        }
    };
    Ok(Some(value))
}

fn parse<T: for<'de> Deserialize<'de>>(argument: Value) -> Result<T> {
    serde_json::from_value(argument)
        .map_err(|e| invalid_params(format!("bad command argument: {e}")))
}

#[derive(Deserialize)]
struct ImportArgs {
    /// The model (or archive) to copy into the workspace.
    source: Uri,
    /// A folder or file inside a workspace folder to copy to; default: the
    /// first workspace folder.
    #[serde(default)]
    target: Option<Uri>,
    /// Replace an existing model or archive of that name (never another
    /// kind of file).
    #[serde(default)]
    overwrite: bool,
}

/// Copies a model into the workspace, checks it, and returns its report.
/// The source is checked to be a regular model or archive file before a
/// byte is copied.
async fn import_model(shared: &Shared, args: ImportArgs) -> Result<Value> {
    let source = path_of(&args.source)?;
    let kind = neuride_ide::FileKind::from_path(&source).filter(|kind| kind.is_binary());
    if kind.is_none() {
        return Err(invalid_params(format!(
            "{} is not a model or weight archive (.onnx, .npz, .npy)",
            source.display()
        )));
    }
    let file_name = source
        .file_name()
        .ok_or_else(|| invalid_params("source has no file name"))?
        .to_owned();
    let roots = shared.lock().roots.clone();
    let target = match &args.target {
        Some(target) => {
            let target = path_of(target)?;
            if target.is_dir() {
                target.join(&file_name)
            } else {
                target
            }
        }
        None => roots
            .first()
            .cloned()
            .ok_or_else(|| invalid_params("no workspace folder to import into; pass a target"))?
            .join(&file_name),
    };
    let target = inside_workspace(&roots, &target)?;
    if neuride_ide::FileKind::from_path(&target) != kind {
        return Err(invalid_params(format!(
            "{}: the target must have the source's extension",
            target.display()
        )));
    }
    let copied_from = source.clone();
    let copied_to = target.clone();
    let overwrite = args.overwrite;
    blocking(move || {
        regular_file(&copied_from)?;
        if std::fs::symlink_metadata(&copied_to).is_ok() && !overwrite {
            return Err(invalid_params(format!(
                "{} already exists; import it under another name, or with overwrite",
                copied_to.display()
            )));
        }
        copy(&copied_from, &copied_to)
    })
    .await?;
    analysis::disk_changes(shared, [target.clone()]);
    report(shared, target).await
}

#[derive(Deserialize)]
struct ExportArgs {
    uri: Uri,
    target: Uri,
    /// The user picked `target` in a save dialog: it may lie outside the
    /// workspace folders.
    #[serde(default, rename = "userPicked")]
    user_picked: bool,
    #[serde(default)]
    overwrite: bool,
}

/// Saves a copy of a model (or archive) inside the workspace, or where the
/// user chose in a save dialog; never over an existing file unless asked.
async fn export_model(shared: &Shared, args: ExportArgs) -> Result<Value> {
    let source = path_of(&args.uri)?;
    let target = path_of(&args.target)?;
    let roots = shared.lock().roots.clone();
    let target = writable_target(&roots, &target, args.user_picked, args.overwrite)?;
    if source == target {
        return Err(invalid_params("export target is the model itself"));
    }
    let (copied_from, copied_to) = (source.clone(), target.clone());
    let bytes = blocking(move || {
        regular_file(&copied_from)?;
        copy(&copied_from, &copied_to)?;
        Ok(std::fs::metadata(&copied_to).map(|m| m.len()).unwrap_or(0))
    })
    .await?;
    if roots.iter().any(|root| target.starts_with(root)) {
        analysis::disk_changes(shared, [target.clone()]);
    }
    Ok(json!({ "uri": uri::from_path(&target), "path": target, "bytes": bytes }))
}

/// Runs file work off the async threads (a FIFO or a slow disk must not
/// freeze the server).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| internal(e.to_string()))?
}

/// Refuses FIFOs, devices and folders before opening them.
fn regular_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(_) => Err(invalid_params(format!(
            "{} is not a regular file",
            path.display()
        ))),
        Err(e) => Err(invalid_params(format!("{}: {e}", path.display()))),
    }
}

/// A path with no `..` step (which could leave any folder it names).
fn without_parent_steps(path: &Path) -> Result<PathBuf> {
    if path
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(invalid_params(format!(
            "{}: a target may not contain '..'",
            path.display()
        )));
    }
    Ok(path.to_owned())
}

/// `path` if a command may write it: inside a workspace folder (or picked
/// by the user in a save dialog) and not an existing file unless `overwrite`.
pub fn writable_target(
    roots: &[PathBuf],
    path: &Path,
    user_picked: bool,
    overwrite: bool,
) -> Result<PathBuf> {
    let path = if user_picked {
        without_parent_steps(path)?
    } else {
        inside_workspace(roots, path)?
    };
    match std::fs::symlink_metadata(&path) {
        Ok(_) if !overwrite => Err(invalid_params(format!(
            "{} already exists; choose another output, or pass overwrite: true to replace it",
            path.display()
        ))),
        Ok(metadata) if !metadata.is_file() => Err(invalid_params(format!(
            "{} exists and is not a regular file",
            path.display()
        ))),
        _ => Ok(path),
    }
}

/// `path` if it lies inside a workspace folder, also after following the
/// symbolic links of the part that exists.
pub fn inside_workspace(roots: &[PathBuf], path: &Path) -> Result<PathBuf> {
    let path = without_parent_steps(path)?;
    let mut existing = path.as_path();
    while std::fs::symlink_metadata(existing).is_err() {
        existing = existing.parent().unwrap_or(Path::new("/"));
    }
    let resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_owned());
    let inside = roots.iter().any(|root| {
        let root = root.canonicalize().unwrap_or_else(|_| root.clone());
        path.starts_with(&root) && resolved.starts_with(&root)
    });
    if !inside {
        return Err(invalid_params(format!(
            "{} is outside the workspace folders; commands write only inside them",
            path.display()
        )));
    }
    Ok(path)
}

/// Copies through a temporary file and renames, so watchers never see a
/// half-written model.
fn copy(source: &Path, target: &Path) -> Result<()> {
    let folder = target
        .parent()
        .ok_or_else(|| invalid_params("target has no folder"))?;
    std::fs::create_dir_all(folder)
        .map_err(|e| internal(format!("cannot create {}: {e}", folder.display())))?;
    let temporary = folder.join(format!(
        ".{}.neuride-tmp",
        target.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::copy(source, &temporary).map_err(|e| {
        internal(format!(
            "cannot copy {} to {}: {e}",
            source.display(),
            temporary.display()
        ))
    })?;
    std::fs::rename(&temporary, target).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        internal(format!(
            "cannot move {} to {}: {e}",
            temporary.display(),
            target.display()
        ))
    })
}

async fn report(shared: &Shared, path: PathBuf) -> Result<Value> {
    let analysis = analysis_of(shared, path.clone()).await?;
    let report = analysis.report();
    Ok(json!({
        "uri": uri::from_path(&path),
        "path": path,
        "kind": report.kind,
        "errors": report.count(neuride_ide::Severity::Error),
        "warnings": report.count(neuride_ide::Severity::Warning),
        "diagnostics": report.diagnostics,
    }))
}

#[derive(Deserialize)]
struct ShowGraphArgs {
    uri: Uri,
    #[serde(default)]
    direction: Option<String>,
}

/// Writes the model's SVG into a folder of the system's temporary directory
/// (never into the user's workspace: showing a graph must not add files to
/// it) and asks the client to open it in an external viewer
/// (`window/showDocument`).
async fn show_graph(shared: &Shared, client: &Client, args: ShowGraphArgs) -> Result<Value> {
    let path = path_of(&args.uri)?;
    let analysis = analysis_of(shared, path.clone()).await?;
    let direction = args.direction.unwrap_or_else(|| "LR".into());
    let svg_path = graph_view_path(&path);
    let written = svg_path.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let model = analysis
            .as_model()
            .ok_or_else(|| invalid_params("not an ONNX model"))?;
        let svg = neuride_ide::model::graph_view(model, "svg", &direction, None)
            .map_err(invalid_params)?;
        if let Some(folder) = written.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|e| internal(format!("cannot create {}: {e}", folder.display())))?;
        }
        std::fs::write(&written, svg)
            .map_err(|e| internal(format!("cannot write {}: {e}", written.display())))
    })
    .await
    .map_err(|e| internal(e.to_string()))??;
    let svg_uri = uri::from_path(&svg_path).ok_or_else(|| internal("svg path has no URI"))?;
    let shown = if shared.lock().client.show_document {
        client
            .show_document(ShowDocumentParams {
                uri: svg_uri.clone(),
                external: Some(true),
                take_focus: Some(true),
                selection: None,
            })
            .await
            .unwrap_or(false)
    } else {
        false
    };
    Ok(json!({ "uri": svg_uri, "path": svg_path, "shown": shown }))
}

/// `<temp>/neuride-graphs/<hash of the model's folder>/<model>.svg`: one
/// file per model, two same-named models in different folders apart.
fn graph_view_path(model: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    model.parent().hash(&mut hasher);
    let name = model.file_name().unwrap_or_default().to_string_lossy();
    std::env::temp_dir()
        .join("neuride-graphs")
        .join(format!("{:016x}", hasher.finish()))
        .join(format!("{name}.svg"))
}

/// Re-reads and re-checks every file of the workspace, as a cancellable
/// job with progress (useful after switching branches without a watcher).
async fn recheck(
    shared: &Shared,
    client: &Client,
    token: Option<ls_types::ProgressToken>,
) -> Result<Value> {
    let roots = shared.lock().roots.clone();
    let worker = shared.clone();
    run_job(
        shared,
        client,
        token,
        "neuride: re-checking workspace".into(),
        move |job| {
            let files: Vec<PathBuf> = roots
                .iter()
                .flat_map(|r| neuride_ide::walk::analysable_files(r))
                .collect();
            let (mut errors, mut warnings) = (0usize, 0usize);
            for (done, path) in files.iter().enumerate() {
                if job.is_cancelled() {
                    return Err(JobError::Cancelled);
                }
                let snapshot = {
                    let mut state = worker.lock();
                    state.host.file_changed_on_disk(path);
                    state.host.snapshot(path)
                };
                if let Some(analysis) =
                    snapshot.and_then(|s| analysis::analyze_and_publish(&worker, &s))
                {
                    let report = analysis.report();
                    errors += report.count(neuride_ide::Severity::Error);
                    warnings += report.count(neuride_ide::Severity::Warning);
                }
                job.report(
                    (done + 1) as f64 / files.len().max(1) as f64,
                    format!("{}/{} files", done + 1, files.len()),
                );
            }
            Ok(json!({ "files": files.len(), "errors": errors, "warnings": warnings }))
        },
    )
    .await
}
