//! The registry API (docs/serve.md): the models of the workspace with their
//! kinds, summaries and diagnostics, download, graph and text views,
//! checked and versioned uploads, deletes, and the event log (JSON, or
//! Server-Sent Events for live updates).

use super::AppState;
use super::error::ApiError;
use super::state::{check_name, model_extension};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use neuride_ide::events::{Event, EventKind};
use neuride_ide::model::ModelAnalysis;
use neuride_ide::{FileAnalysis, FileKind, Severity};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

pub fn read_routes() -> Router<AppState> {
    Router::new()
        .route("/api/models", get(list))
        .route("/api/models/{name}", get(show))
        .route("/api/models/{name}/download", get(download))
        .route("/api/models/{name}/graph.svg", get(graph))
        .route("/api/models/{name}/text", get(text))
        .route("/api/events", get(events))
}

pub fn write_routes() -> Router<AppState> {
    Router::new().route("/api/models", post(upload_form)).route(
        "/api/models/{name}",
        axum::routing::put(upload_raw).delete(delete),
    )
}

/// One model as the list shows it.
fn entry(served: &AppState, name: &str, model: &ModelAnalysis) -> Value {
    let mut summary = neuride_ide::registry::entry(model);
    summary.path = PathBuf::from(served.relative(&model.path));
    json!({
        "name": name,
        "path": summary.path,
        "kind": summary.kind,
        "errors": summary.errors,
        "warnings": summary.warnings,
        "size": summary.size,
        "versions": served.all_versions(name),
        "summary": summary,
    })
}

fn model_of(analysis: &FileAnalysis) -> Result<&ModelAnalysis, ApiError> {
    analysis
        .as_model()
        .ok_or_else(|| ApiError::internal("not a model".to_owned()))
}

/// The current analysis of model `name`, or 404 naming the models.
fn analysed(served: &AppState, name: &str) -> Result<Arc<FileAnalysis>, ApiError> {
    check_name(name)?;
    served
        .model_path(name)
        .and_then(|path| served.analysis(&path))
        .ok_or_else(|| served.unknown_model(name))
}

async fn list(State(served): State<AppState>) -> axum::Json<Vec<Value>> {
    let models = served
        .names()
        .into_iter()
        .filter_map(|(name, path)| {
            let analysis = served.analysis(&path)?;
            Some(entry(&served, &name, analysis.as_model()?))
        })
        .collect();
    axum::Json(models)
}

async fn show(
    State(served): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let analysis = analysed(&served, &name)?;
    let model = model_of(&analysis)?;
    let mut body = entry(&served, &name, model);
    body["details"] = neuride_ide::model::summary_json(model);
    if let Some(details) = body["details"].as_object_mut() {
        details.insert("path".into(), served.relative(&model.path).into());
    }
    body["diagnostics"] = json!(analysis.diagnostics());
    Ok(axum::Json(body))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<u32>,
}

async fn download(
    State(served): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    let path = match query.version {
        Some(version) if version != served.current_version(&name) => {
            served.kept_file(&name, version).ok_or_else(|| {
                ApiError::not_found(format!(
                    "model '{name}' has no version {version} (versions: {:?})",
                    served.all_versions(&name)
                ))
            })?
        }
        _ => served
            .model_path(&name)
            .ok_or_else(|| served.unknown_model(&name))?,
    };
    let extension = model_extension(&path);
    let bytes = tokio::task::spawn_blocking(move || neuride_ide::source::read_file(&path))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::not_found(format!("model '{name}' cannot be read: {e}")))?;
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

#[derive(Deserialize)]
struct GraphQuery {
    direction: Option<String>,
}

async fn graph(
    State(served): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<GraphQuery>,
) -> Result<Response, ApiError> {
    let analysis = analysed(&served, &name)?;
    let direction = query.direction.unwrap_or_else(|| "TB".to_owned());
    let svg = tokio::task::spawn_blocking(move || {
        let model = model_of(&analysis)?;
        neuride_ide::model::graph_view(model, "svg", &direction, None)
            .map_err(ApiError::bad_request)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

async fn text(
    State(served): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let analysis = analysed(&served, &name)?;
    let text = model_of(&analysis)?.view.text.clone();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `PUT /api/models/NAME` with the model's bytes as the body.
async fn upload_raw(
    State(served): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    upload(served, name, None, body).await
}

/// `POST /api/models` as a browser form sends it: `multipart/form-data`
/// with the model in the field `file` (its name from the file's name, or
/// from a field `name`).
async fn upload_form(
    State(served): State<AppState>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let mut file = None;
    let mut name = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the form cannot be read: {e}")))?
    {
        match field.name() {
            Some("file") => {
                let file_name = field.file_name().map(str::to_owned);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::bad_request(format!("field 'file': {e}")))?;
                file = Some((file_name, bytes));
            }
            Some("name") => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| ApiError::bad_request(format!("field 'name': {e}")))?;
                name = Some(text.trim().to_owned()).filter(|n| !n.is_empty());
            }
            _ => {}
        }
    }
    let Some((file_name, bytes)) = file else {
        return Err(ApiError::bad_request(
            "the form needs the model in a field named 'file'".to_owned(),
        ));
    };
    // The name the browser sent, never its folders.
    let base = file_name.and_then(|f| f.rsplit(['/', '\\']).next().map(str::to_owned));
    let kind = base
        .as_deref()
        .and_then(|b| FileKind::from_path(std::path::Path::new(b)));
    let name = name
        .or_else(|| {
            let base = base?;
            let stem = match kind {
                Some(FileKind::Onnx | FileKind::Nir) => base.rsplit_once('.').map(|(s, _)| s),
                _ => None,
            };
            Some(stem.unwrap_or(&base).to_owned())
        })
        .ok_or_else(|| {
            ApiError::bad_request("the file has no name: add a field 'name'".to_owned())
        })?;
    upload(served, name, kind, bytes).await
}

/// The format of uploaded bytes: the file name's extension when the form
/// gave one, else the content (NIR files are HDF5, which starts with its
/// signature; anything else is taken for ONNX and checked as such).
fn upload_extension(kind: Option<FileKind>, bytes: &[u8]) -> &'static str {
    const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";
    match kind {
        Some(FileKind::Nir) => "nir",
        Some(FileKind::Onnx) => "onnx",
        _ if bytes.starts_with(HDF5_SIGNATURE) => "nir",
        _ => "onnx",
    }
}

/// Checks `bytes` as model `name` and, when it has no errors, writes it
/// atomically over the current file (which is kept as a version first).
async fn upload(
    served: AppState,
    name: String,
    kind: Option<FileKind>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    check_name(&name)?;
    let _one_write = served.writes.lock().await;
    let extension = upload_extension(kind, &bytes);
    // The new file goes where the current one is, with the upload's
    // extension (a model may change format: the old file is then kept as a
    // version and removed).
    let current = served.model_path(&name);
    let target = match &current {
        Some(path) => path.with_extension(extension),
        None => served.root.join(format!("{name}.{extension}")),
    };
    let checking = (served.clone(), name.clone(), target.clone(), current);
    let created = tokio::task::spawn_blocking(move || {
        let (served, name, target, current) = checking;
        let contents = neuride_ide::source::Contents::from_bytes(bytes.clone());
        let analysis = neuride_ide::analysis::analyze_contents(&target, contents);
        let diagnostics = analysis.diagnostics();
        let errors: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        let decoded = analysis.as_model().is_some_and(|m| m.facts.is_some());
        if !errors.is_empty() || !decoded {
            let message = format!(
                "model '{name}' was refused: {} error(s), first: {}; the current version is kept",
                errors.len(),
                errors
                    .first()
                    .map_or("not an ONNX or NIR model", |d| d.message.as_str())
            );
            served.record(&target, EventKind::Refused, message.clone());
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
                .with_details(json!({ "diagnostics": diagnostics })));
        }
        let existed = current.as_deref().filter(|c| c.is_file());
        if let Some(current) = existed {
            keep_version(&served, &name, current, false)?;
        }
        neuride_ide::weights::write_atomically(&target, &bytes).map_err(|e| {
            ApiError::internal(format!("cannot write {}: {e}", served.relative(&target)))
        })?;
        if let Some(old) = existed.filter(|&c| c != target) {
            // Kept above; the name now means the new file.
            std::fs::remove_file(old).map_err(|e| {
                ApiError::internal(format!("cannot remove {}: {e}", served.relative(old)))
            })?;
            served.apply(&[old.to_owned()]);
        }
        served.wrote(&target, analysis);
        Ok(existed.is_none())
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let analysis = analysed(&served, &name)?;
    let body = entry(&served, &name, model_of(&analysis)?);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(body)).into_response())
}

/// Keeps the current file of `name` as its next version number: copied
/// (it goes on being served until its replacement is in place) or moved
/// (a delete).
fn keep_version(
    served: &AppState,
    name: &str,
    current: &std::path::Path,
    moved: bool,
) -> Result<u32, ApiError> {
    let version = served.current_version(name);
    let folder = served.versions_dir(name);
    let kept = folder.join(format!("{version}.{}", model_extension(current)));
    let failed = |e: std::io::Error| {
        ApiError::internal(format!(
            "cannot keep version {version} of '{name}' in {}: {e}",
            served.relative(&folder)
        ))
    };
    std::fs::create_dir_all(&folder).map_err(failed)?;
    let renamed = moved && std::fs::rename(current, &kept).is_ok();
    if !renamed {
        let bytes = std::fs::read(current).map_err(failed)?;
        neuride_ide::weights::write_atomically(&kept, &bytes).map_err(failed)?;
        if moved {
            std::fs::remove_file(current).map_err(failed)?;
        }
    }
    Ok(version)
}

async fn delete(
    State(served): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    check_name(&name)?;
    let _one_write = served.writes.lock().await;
    let path = served
        .model_path(&name)
        .ok_or_else(|| served.unknown_model(&name))?;
    let deleting = served.clone();
    let name_kept = name.clone();
    let version = tokio::task::spawn_blocking(move || {
        let version = keep_version(&deleting, &name_kept, &path, true)?;
        deleting.apply(&[path]);
        Ok::<_, ApiError>(version)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(axum::Json(
        json!({ "name": name, "deleted": true, "kept_version": version }),
    ))
}

/// An event for clients: the log's fields, the model's name and its
/// workspace-relative path.
fn event_json(served: &AppState, event: &Event) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    value["path"] = served.relative(&event.path).into();
    value["name"] = event
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .into();
    value
}

#[derive(Deserialize)]
struct EventsQuery {
    after: Option<u64>,
}

/// The event log as JSON, or as Server-Sent Events (the log so far, then
/// every new event) when the client accepts `text/event-stream`.
async fn events(
    State(served): State<AppState>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let after = resume.or(query.after).unwrap_or(0);
    // Subscribe before reading the log so no event falls between the two.
    let live = served.events.subscribe();
    let past: Vec<Event> = served
        .all_events()
        .into_iter()
        .filter(|e| e.sequence > after)
        .collect();
    if !wants_stream {
        let past: Vec<Value> = past.iter().map(|e| event_json(&served, e)).collect();
        return axum::Json(past).into_response();
    }
    let last = past.last().map_or(after, |e| e.sequence);
    let to_sse = {
        let served = served.clone();
        move |event: &Event| {
            SseEvent::default()
                .id(event.sequence.to_string())
                .event("registry")
                .json_data(event_json(&served, event))
                .unwrap_or_default()
        }
    };
    let backlog: Vec<_> = past.iter().map(&to_sse).collect();
    let stream = futures::stream::unfold((live, last), move |(mut live, last)| {
        let to_sse = to_sse.clone();
        async move {
            loop {
                match live.recv().await {
                    Ok(event) if event.sequence > last => {
                        let sequence = event.sequence;
                        return Some((to_sse(&event), (live, sequence)));
                    }
                    Ok(_) => continue,
                    // A slow reader missed events: it reloads the log.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        return Some((
                            SseEvent::default().event("lagged").data("reload"),
                            (live, last),
                        ));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    let stream = futures::StreamExt::map(
        futures::StreamExt::chain(futures::stream::iter(backlog), stream),
        Ok::<_, std::convert::Infallible>,
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
