//! Errors as the protocol wants them: an HTTP status and `{"error": "..."}`
//! (the Open Inference Protocol's error body, used by the registry too),
//! with extra fields where a client can act on them (a refused upload's
//! diagnostics).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neuride_ide::run::RunError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Extra fields merged into the body.
    pub details: Option<Value>,
    /// Seconds a client should wait before trying again (503).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: String) -> ApiError {
        ApiError {
            status,
            message,
            details: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: String) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: String) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn busy(message: String) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }
}

/// A run's error: what the client sent is 400, the engine failing is 500.
impl From<RunError> for ApiError {
    fn from(error: RunError) -> ApiError {
        let status = match &error {
            RunError::Data(_) | RunError::Setting(_) | RunError::Unsupported(_) => {
                StatusCode::BAD_REQUEST
            }
            RunError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let (Some(Value::Object(extra)), Some(object)) = (self.details, body.as_object_mut()) {
            object.extend(extra);
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
