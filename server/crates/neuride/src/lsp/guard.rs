//! Every request runs under `catch_unwind`: a panic becomes an error
//! response and a log line, never a dead server.

use super::jsonrpc::{Error, ErrorCode, Result};
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

pub async fn guard<T>(method: &str, future: impl Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(method, "request handler panicked: {message}");
            Err(Error {
                code: ErrorCode::InternalError,
                message: format!("{method} failed: {message}").into(),
                data: None,
            })
        }
    }
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

pub fn invalid_params(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into().into(),
        data: None,
    }
}

pub fn internal(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into().into(),
        data: None,
    }
}
