//! neuride's own requests: the model text view, summary, classification,
//! graph, the registry and its event log. Params and results are plain
//! JSON objects documented in docs/editors.md.

use super::analysis;
use super::guard::invalid_params;
use super::jsonrpc::Result;
use super::state::Shared;
use super::uri;
use ls_types::Uri;
use neuride_ide::FileAnalysis;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct UriParams {
    pub uri: Uri,
}

#[derive(Serialize)]
pub struct ModelTextResult {
    /// The virtual `neuride-model:` URI on which hover, documentSymbol,
    /// definition and diagnostics are served.
    pub uri: Uri,
    pub text: String,
    pub map: Vec<MapEntry>,
}

/// One node, value, initializer or graph of the view and where it is.
#[derive(Serialize)]
pub struct MapEntry {
    /// `model`, `graph`, `node`, `value`, `initializer`, `function`.
    pub kind: &'static str,
    /// Node name (or `#index`), value or initializer name, graph name.
    pub name: String,
    /// For nodes: the node's index in its graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// For nodes: the op type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    pub range: ls_types::Range,
    #[serde(rename = "selectionRange")]
    pub selection_range: ls_types::Range,
}

#[derive(Deserialize)]
pub struct GraphParams {
    pub uri: Uri,
    #[serde(default = "default_format")]
    pub format: String,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub collapse: Option<String>,
}

fn default_format() -> String {
    "json".into()
}

/// The path a request's `uri` names (file or virtual).
pub fn path_of(uri: &Uri) -> Result<PathBuf> {
    uri::to_path(uri)
        .ok_or_else(|| invalid_params(format!("not a file or neuride-model URI: {}", uri.as_str())))
}

/// The latest analysis of `path`, analysing it now (off the async threads)
/// when there is none yet, e.g. for a model outside the workspace folders.
pub async fn analysis_of(shared: &Shared, path: PathBuf) -> Result<Arc<FileAnalysis>> {
    if let Some(analysis) = shared.lock().host.analysis(&path) {
        return Ok(analysis);
    }
    if !path.is_file() {
        return Err(invalid_params(format!("{}: no such file", path.display())));
    }
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let snapshot = {
            let mut state = shared.lock();
            if !state.host.contains(&path) {
                state.host.file_changed_on_disk(&path);
            }
            state.host.snapshot(&path)
        };
        let snapshot = snapshot.ok_or_else(|| {
            invalid_params(format!(
                "{}: not a .onnx, .nir, .npz, .npy or .neuro file",
                path.display()
            ))
        })?;
        if let Some(analysis) = analysis::analyze_and_publish(&shared, &snapshot) {
            return Ok(analysis);
        }
        // Changed while we analysed: answer from whatever is newest.
        shared
            .lock()
            .host
            .analysis(&path)
            .or_else(|| snapshot.analyze().map(Arc::new))
            .ok_or_else(|| invalid_params(format!("{}: cannot read", path.display())))
    })
    .await
    .map_err(|e| super::guard::internal(e.to_string()))?
}

pub async fn model_text(shared: &Shared, params: UriParams) -> Result<ModelTextResult> {
    let path = path_of(&params.uri)?;
    let analysis = analysis_of(shared, path.clone()).await?;
    let view_uri =
        uri::virtual_from_path(&path).ok_or_else(|| invalid_params("path has no URI"))?;
    let result = match analysis.as_ref() {
        FileAnalysis::Model(model) => {
            let proto = model.proto();
            let map = model
                .view
                .anchors
                .iter()
                .map(|item| map_entry(proto, item))
                .collect();
            ModelTextResult {
                uri: view_uri,
                text: model.view.text.clone(),
                map,
            }
        }
        FileAnalysis::Archive(archive) => ModelTextResult {
            uri: view_uri,
            text: archive.text.clone(),
            map: Vec::new(),
        },
        FileAnalysis::Neuro(_) => {
            return Err(invalid_params(".neuro files are text: open them directly"));
        }
    };
    // From now on the view's diagnostics are published too.
    let mut state = shared.lock();
    if state.viewed.insert(path.clone()) {
        analysis::publish(shared, &state, &path, &analysis);
    }
    Ok(result)
}

fn map_entry(
    proto: Option<&neuride_onnx::proto::ModelProto>,
    item: &neuride_ide::model::view::AnchorRange,
) -> MapEntry {
    use neuride_onnx::Anchor;
    let (kind, name, index, op) = match &item.anchor {
        Anchor::Model => ("model", String::new(), None, None),
        Anchor::Graph(id) => (
            "graph",
            proto
                .and_then(|p| neuride_ide::model::graph(p, id))
                .map(|g| g.name().to_owned())
                .unwrap_or_default(),
            None,
            None,
        ),
        Anchor::Node { graph, index } => {
            let node = proto.and_then(|p| neuride_ide::model::node(p, graph, *index));
            let name = node
                .map(|n| n.name().to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("#{index}"));
            (
                "node",
                name,
                Some(*index),
                node.map(|n| n.op_type().to_owned()),
            )
        }
        Anchor::Value { name, .. } => ("value", name.clone(), None, None),
        Anchor::Initializer { name, .. } => ("initializer", name.clone(), None, None),
        Anchor::Function { name, .. } => ("function", name.clone(), None, None),
    };
    MapEntry {
        kind,
        name,
        index,
        op,
        range: super::to_proto::range(item.range),
        selection_range: super::to_proto::range(item.selection),
    }
}

fn model_of(analysis: &FileAnalysis) -> Result<&neuride_ide::model::ModelAnalysis> {
    analysis.as_model().ok_or_else(|| {
        invalid_params(format!(
            "{} is not an ONNX model",
            analysis.path().display()
        ))
    })
}

pub async fn model_summary(shared: &Shared, params: UriParams) -> Result<Value> {
    let analysis = analysis_of(shared, path_of(&params.uri)?).await?;
    let model = model_of(&analysis)?;
    Ok(neuride_ide::model::summary_json(model))
}

pub async fn classify(shared: &Shared, params: UriParams) -> Result<Value> {
    let analysis = analysis_of(shared, path_of(&params.uri)?).await?;
    let model = model_of(&analysis)?;
    let facts = model.facts.as_ref().ok_or_else(|| {
        invalid_params(format!(
            "{} does not decode as an ONNX model",
            model.path.display()
        ))
    })?;
    let mut result = serde_json::to_value(&facts.classification).unwrap_or_default();
    if let Some(object) = result.as_object_mut() {
        object.insert("uri".into(), json!(params.uri));
        object.insert("path".into(), json!(model.path));
    }
    Ok(result)
}

pub async fn graph(shared: &Shared, params: GraphParams) -> Result<Value> {
    let analysis = analysis_of(shared, path_of(&params.uri)?).await?;
    let model = model_of(&analysis)?.path.clone();
    let analysis_for_graph = analysis.clone();
    let format = params.format.clone();
    let direction = params.direction.clone().unwrap_or_else(|| "LR".into());
    let collapse = params.collapse.clone();
    let content = tokio::task::spawn_blocking(move || {
        let model = analysis_for_graph.as_model().expect("checked above");
        neuride_ide::model::graph_view(model, &format, &direction, collapse.as_deref())
    })
    .await
    .map_err(|e| super::guard::internal(e.to_string()))?
    .map_err(|message| invalid_params(format!("{}: {message}", model.display())))?;
    Ok(json!({ "format": params.format, "content": content }))
}

pub fn models(shared: &Shared) -> Value {
    let analyses = workspace_analyses(shared);
    let entries: Vec<Value> = analyses
        .iter()
        .filter_map(|a| a.as_model())
        .map(|model| {
            let mut entry =
                serde_json::to_value(neuride_ide::registry::entry(model)).unwrap_or_default();
            if let (Some(object), Some(uri)) = (entry.as_object_mut(), uri::from_path(&model.path))
            {
                object.insert("uri".into(), json!(uri));
            }
            entry
        })
        .collect();
    Value::Array(entries)
}

pub fn events(shared: &Shared) -> Value {
    serde_json::to_value(shared.lock().host.events.all()).unwrap_or_default()
}

/// The analyses of files inside the workspace folders: a model outside
/// them that a client opened a view of is analysed, but is no workspace
/// model (not in the registry, not in workspace symbols).
pub fn workspace_analyses(shared: &Shared) -> Vec<Arc<FileAnalysis>> {
    let state = shared.lock();
    state
        .host
        .analyses()
        .into_iter()
        .filter(|analysis| {
            state
                .roots
                .iter()
                .any(|root| analysis.path().starts_with(root))
        })
        .collect()
}
