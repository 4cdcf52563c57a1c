//! The Open Inference Protocol (KServe v2) over REST: health, server and
//! model metadata, readiness and inference, with JSON tensors and the
//! binary tensor extension, as `tritonclient.http` and KServe's clients
//! speak it. Every model of the workspace is served under its file stem.

use super::AppState;
use super::error::ApiError;
use super::state::Resolved;
use super::tensor;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use neuride_ide::run::model::Predict;
use neuride_infer::Value;
use serde_json::{Map, Value as Json, json};
use std::sync::atomic::Ordering;

/// The header that splits a request or response into its JSON part and
/// the binary tensors after it.
const HEADER_LENGTH: &str = "inference-header-content-length";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(|| async { StatusCode::OK }))
        .route("/v2/health/ready", get(server_ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(version_metadata),
        )
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(version_ready),
        )
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(version_infer),
        )
}

async fn server_metadata() -> axum::Json<Json> {
    axum::Json(json!({
        "name": "neuride",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": ["binary_tensor_data"],
    }))
}

async fn server_ready(State(served): State<AppState>) -> StatusCode {
    if served.scanned.load(Ordering::Acquire) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Resolving may prepare the model (first use of a revision): off the
/// async threads.
async fn resolve(
    served: &AppState,
    name: String,
    version: Option<String>,
) -> Result<Resolved, ApiError> {
    super::state::check_name(&name).map_err(|e| ApiError::not_found(e.message))?;
    let served = served.clone();
    tokio::task::spawn_blocking(move || served.resolve(&name, version.as_deref()))
        .await
        .map_err(|e| ApiError::internal(format!("preparing the model failed: {e}")))?
}

async fn model_metadata(
    State(served): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    metadata(served, name, None).await
}

async fn version_metadata(
    State(served): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<axum::Json<Json>, ApiError> {
    metadata(served, name, Some(version)).await
}

async fn metadata(
    served: AppState,
    name: String,
    version: Option<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let resolved = resolve(&served, name.clone(), version).await?;
    let signature = &resolved.predictor.signature;
    let ports = |ports: &[neuride_infer::Port]| -> Vec<Json> {
        ports
            .iter()
            .map(|p| tensor::metadata(&p.name, &p.ty))
            .collect()
    };
    let versions: Vec<String> = served
        .all_versions(&name)
        .iter()
        .map(u32::to_string)
        .collect();
    Ok(axum::Json(json!({
        "name": name,
        "versions": versions,
        "platform": resolved.platform,
        "inputs": ports(&signature.inputs),
        "outputs": ports(&signature.outputs),
        "parameters": { "engine": resolved.predictor.engine() },
    })))
}

async fn model_ready(
    State(served): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    resolve(&served, name, None).await.map(|_| StatusCode::OK)
}

async fn version_ready(
    State(served): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    resolve(&served, name, Some(version))
        .await
        .map(|_| StatusCode::OK)
}

async fn infer(
    State(served): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    run(served, name, None, headers, body).await
}

async fn version_infer(
    State(served): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    run(served, name, Some(version), headers, body).await
}

/// An inference: accepted only while fewer than `--max-inflight` are, run
/// on a blocking thread once a core is free.
async fn run(
    served: AppState,
    name: String,
    version: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Ok(accepted) = served.inflight.clone().try_acquire_owned() else {
        return Err(ApiError::busy(
            "too many inferences in flight: try again shortly".to_owned(),
        ));
    };
    let json_length = match headers.get(HEADER_LENGTH) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n <= body.len())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Inference-Header-Content-Length must be a byte count within the body's {} bytes",
                        body.len()
                    ))
                })?,
        ),
    };
    let resolved = resolve(&served, name.clone(), version).await?;
    let running = served
        .running
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("the server is stopping".to_owned()))?;
    // The permits go with the work: a request answered by the timeout
    // still counts until its computation ends.
    tokio::task::spawn_blocking(move || {
        let _permits = (accepted, running);
        let (head, binary) = body.split_at(json_length.unwrap_or(body.len()));
        let request: Json = serde_json::from_slice(head)
            .map_err(|e| ApiError::bad_request(format!("the request is not valid JSON: {e}")))?;
        respond(&name, &resolved, &request, binary)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the inference failed: {e}")))?
}

/// Reads the request, predicts, and encodes the response.
fn respond(
    name: &str,
    resolved: &Resolved,
    request: &Json,
    binary: &[u8],
) -> Result<Response, ApiError> {
    let bad = ApiError::bad_request;
    let request = request
        .as_object()
        .ok_or_else(|| bad("the request must be a JSON object with \"inputs\"".to_owned()))?;
    let inputs = read_inputs(request, binary).map_err(bad)?;
    let parameters = request.get("parameters").and_then(Json::as_object);
    let options = predict_options(parameters).map_err(bad)?;
    let outputs = resolved.predictor.predict(inputs, &options)?;
    let all_binary = parameters
        .and_then(|p| p.get("binary_data_output"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let wanted = requested_outputs(request, &outputs, all_binary).map_err(bad)?;

    let mut response = Map::new();
    if let Some(id) = request.get("id") {
        response.insert("id".into(), id.clone());
    }
    response.insert("model_name".into(), name.into());
    response.insert("model_version".into(), resolved.version.to_string().into());
    let mut blobs = Vec::new();
    let mut entries = Vec::new();
    for (output_name, binary) in wanted {
        let Some((_, value)) = outputs.iter().find(|(n, _)| *n == output_name) else {
            continue;
        };
        let output = tensor::output(value);
        let mut entry = json!({
            "name": output_name,
            "datatype": output.datatype,
            "shape": output.shape,
        });
        if binary {
            let bytes = output.binary_data();
            entry["parameters"] = json!({ "binary_data_size": bytes.len() });
            blobs.push(bytes);
        } else {
            entry["data"] = output.json_data();
        }
        entries.push(entry);
    }
    response.insert("outputs".into(), Json::Array(entries));
    let head = serde_json::to_vec(&response)
        .map_err(|e| ApiError::internal(format!("encoding the response: {e}")))?;
    if blobs.is_empty() {
        return Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            head,
        )
            .into_response());
    }
    let head_length = head.len();
    let mut body = head;
    blobs.iter().for_each(|blob| body.extend_from_slice(blob));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::HeaderName::from_static(HEADER_LENGTH),
                HeaderValue::from(head_length),
            ),
        ],
        body,
    )
        .into_response())
}

/// The request's inputs, decoded with the datatype and shape each states;
/// binary inputs take their `binary_data_size` bytes from `binary` in order.
fn read_inputs(request: &Map<String, Json>, binary: &[u8]) -> Result<Vec<(String, Value)>, String> {
    let inputs = request.get("inputs").and_then(Json::as_array).ok_or(
        "the request needs \"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}, ...]",
    )?;
    let mut rest = binary;
    let mut decoded = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let name = input
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("inputs[{index}] needs a \"name\""))?;
        let datatype = input
            .get("datatype")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                format!(
                    "input '{name}' needs a \"datatype\" ({})",
                    tensor::SUPPORTED
                )
            })?;
        let dtype = tensor::dtype(datatype).map_err(|e| format!("input '{name}': {e}"))?;
        let shape = tensor::shape(
            name,
            input
                .get("shape")
                .ok_or_else(|| format!("input '{name}' needs a \"shape\""))?,
        )?;
        let binary_size = input
            .get("parameters")
            .and_then(|p| p.get("binary_data_size"));
        let value = match (binary_size, input.get("data")) {
            (Some(size), _) => {
                let size = size
                    .as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .ok_or_else(|| {
                        format!("input '{name}': binary_data_size must be a byte count")
                    })?;
                if size > rest.len() {
                    return Err(format!(
                        "input '{name}': binary_data_size is {size} bytes but only {} binary bytes are left in the request",
                        rest.len()
                    ));
                }
                let (bytes, tail) = rest.split_at(size);
                rest = tail;
                tensor::from_binary(name, dtype, &shape, bytes)?
            }
            (None, Some(data)) => tensor::from_json(name, dtype, &shape, data)?,
            (None, None) => {
                return Err(format!(
                    "input '{name}' needs \"data\" (or parameters.binary_data_size with binary data)"
                ));
            }
        };
        decoded.push((name.to_owned(), Value::Tensor(value)));
    }
    if !rest.is_empty() {
        return Err(format!(
            "{} binary bytes after the inputs' binary_data_size are left over",
            rest.len()
        ));
    }
    Ok(decoded)
}

/// The simulator's options among the request's parameters (the protocol's
/// own parameters, such as `binary_data_output`, are not ours).
fn predict_options(parameters: Option<&Map<String, Json>>) -> Result<Predict, String> {
    let ours: Map<String, Json> = parameters
        .into_iter()
        .flatten()
        .filter(|(key, _)| matches!(key.as_str(), "steps" | "encode" | "decode" | "seed"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    serde_json::from_value(Json::Object(ours)).map_err(|e| format!("parameters: {e}"))
}

/// The outputs to return, in order, each with whether it goes binary: the
/// request's `outputs` (by name, `parameters.binary_data`), else all.
fn requested_outputs(
    request: &Map<String, Json>,
    outputs: &[(String, Value)],
    all_binary: bool,
) -> Result<Vec<(String, bool)>, String> {
    let Some(wanted) = request.get("outputs") else {
        return Ok(outputs
            .iter()
            .map(|(name, _)| (name.clone(), all_binary))
            .collect());
    };
    let wanted = wanted
        .as_array()
        .ok_or("\"outputs\" must be an array of {\"name\"}")?;
    wanted
        .iter()
        .map(|output| {
            let name = output
                .get("name")
                .and_then(Json::as_str)
                .ok_or("every requested output needs a \"name\"")?;
            if !outputs.iter().any(|(n, _)| n == name) {
                let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
                return Err(format!(
                    "output '{name}' is not an output of the model (outputs: {})",
                    names.join(", ")
                ));
            }
            let binary = output
                .get("parameters")
                .and_then(|p| p.get("binary_data"))
                .and_then(Json::as_bool)
                .unwrap_or(all_binary);
            Ok((name.to_owned(), binary))
        })
        .collect()
}
