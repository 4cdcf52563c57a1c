//! JSON-RPC 2.0 messages as LSP uses them: decoding a frame's body into a
//! request, notification or response (or the error to answer), and the
//! error type every handler returns.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

pub type Result<T> = std::result::Result<T, Error>;

/// An error answer: `{"code", "message", "data"?}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub data: Option<Value>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code.code(), "message": self.message });
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        error
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code.code())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    InternalError,
    ServerNotInitialized,
    RequestCancelled,
    Other(i64),
}

impl ErrorCode {
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::InternalError => -32603,
            ErrorCode::ServerNotInitialized => -32002,
            ErrorCode::RequestCancelled => -32800,
            ErrorCode::Other(code) => code,
        }
    }

    fn from_code(code: i64) -> ErrorCode {
        [
            ErrorCode::ParseError,
            ErrorCode::InvalidRequest,
            ErrorCode::MethodNotFound,
            ErrorCode::InvalidParams,
            ErrorCode::InternalError,
            ErrorCode::ServerNotInitialized,
            ErrorCode::RequestCancelled,
        ]
        .into_iter()
        .find(|known| known.code() == code)
        .unwrap_or(ErrorCode::Other(code))
    }
}

/// A request id: JSON-RPC allows integers and strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Number(i64),
    String(String),
}

impl Id {
    fn from_json(value: &Value) -> Option<Id> {
        match value {
            Value::Number(number) => number.as_i64().map(Id::Number),
            Value::String(text) => Some(Id::String(text.clone())),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum Message {
    Request {
        id: Id,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    Response {
        id: Id,
        result: Result<Value>,
    },
}

/// Why a body is no message, with the id to answer when one could be read
/// (`None`: answer with `"id": null`, as JSON-RPC says).
#[derive(Debug)]
pub struct Rejected {
    pub id: Option<Id>,
    pub error: Error,
}

impl Message {
    pub fn decode(body: &[u8]) -> std::result::Result<Message, Rejected> {
        let value = parse_json(body).map_err(|error| Rejected {
            id: None,
            error: Error::new(ErrorCode::ParseError, format!("parse error: {error}")),
        })?;
        let Value::Object(mut object) = value else {
            return Err(invalid(None, "a message must be a JSON object"));
        };
        let id = match object.get("id") {
            None => None,
            Some(raw) => Some(Id::from_json(raw).ok_or_else(|| {
                invalid(
                    None,
                    format!("id must be an integer or a string, not {raw}"),
                )
            })?),
        };
        let params = match object.remove("params") {
            None | Some(Value::Null) => Value::Null,
            Some(params @ (Value::Object(_) | Value::Array(_))) => params,
            Some(other) => {
                return Err(invalid(
                    id,
                    format!("params must be an object or an array, not {other}"),
                ));
            }
        };
        match (object.remove("method"), id) {
            (Some(Value::String(method)), Some(id)) => Ok(Message::Request { id, method, params }),
            (Some(Value::String(method)), None) => Ok(Message::Notification { method, params }),
            (Some(other), id) => Err(invalid(id, format!("method must be a string, not {other}"))),
            (None, Some(id)) => response(id, object),
            (None, None) => Err(invalid(
                None,
                "neither a request, a notification nor a response",
            )),
        }
    }
}

fn response(id: Id, mut object: Map<String, Value>) -> std::result::Result<Message, Rejected> {
    if let Some(error) = object.remove("error") {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut error = Error::new(ErrorCode::from_code(code), message);
        error.data = object.remove("data");
        return Ok(Message::Response {
            id,
            result: Err(error),
        });
    }
    match object.remove("result") {
        Some(result) => Ok(Message::Response {
            id,
            result: Ok(result),
        }),
        None => Err(invalid(Some(id), "a response needs a result or an error")),
    }
}

fn invalid(id: Option<Id>, message: impl Into<Cow<'static, str>>) -> Rejected {
    Rejected {
        id,
        error: Error::new(ErrorCode::InvalidRequest, message),
    }
}

/// Parses a body; a lone UTF-16 surrogate escape (`"\ud800"`, which
/// JavaScript clients can send for half an emoji) becomes U+FFFD instead of
/// failing the whole message.
fn parse_json(body: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice(body).or_else(|error| {
        let replaced = replace_lone_surrogates(body);
        if replaced == body {
            return Err(error);
        }
        serde_json::from_slice(&replaced)
    })
}

fn replace_lone_surrogates(body: &[u8]) -> Vec<u8> {
    fn escape_at(body: &[u8], at: usize) -> Option<u16> {
        let digits = body.get(at..at + 6)?;
        if &digits[..2] != b"\\u" {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&digits[2..]).ok()?, 16).ok()
    }
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    while at < body.len() {
        if body[at] == b'\\' {
            match escape_at(body, at) {
                Some(0xD800..=0xDBFF)
                    if escape_at(body, at + 6)
                        .is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) =>
                {
                    out.extend_from_slice(&body[at..at + 12]);
                    at += 12;
                }
                Some(0xD800..=0xDFFF) => {
                    out.extend_from_slice(b"\\ufffd");
                    at += 6;
                }
                _ => {
                    // Any other escape: copy the backslash and the escaped byte.
                    out.extend_from_slice(&body[at..(at + 2).min(body.len())]);
                    at += 2;
                }
            }
        } else {
            out.push(body[at]);
            at += 1;
        }
    }
    out
}

pub fn response_json(id: Option<&Id>, result: &Result<Value>) -> Value {
    let id = id.map_or(Value::Null, |id| {
        serde_json::to_value(id).unwrap_or(Value::Null)
    });
    match result {
        Ok(value) => json!({ "jsonrpc": "2.0", "id": id, "result": value }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() }),
    }
}

pub fn notification_json(method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": params })
}

pub fn request_json(id: &Id, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(body: &str) -> Rejected {
        Message::decode(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn malformed_bodies_are_rejected_with_the_right_code() {
        assert_eq!(rejected("{").error.code, ErrorCode::ParseError);
        assert_eq!(rejected("\u{0}").error.code, ErrorCode::ParseError);
        assert_eq!(rejected("[]").error.code, ErrorCode::InvalidRequest);
        assert_eq!(rejected("{}").error.code, ErrorCode::InvalidRequest);
        let fractional = rejected(r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#);
        assert_eq!(fractional.error.code, ErrorCode::InvalidRequest);
        assert_eq!(fractional.id, None);
        let bad_params = rejected(r#"{"jsonrpc":"2.0","id":7,"method":"x","params":3}"#);
        assert_eq!(bad_params.id, Some(Id::Number(7)));
        assert!(Message::decode(b"{\"id\":1,\"method\":\"x\",\"params\":\"\xff\"}").is_err());
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let body = r#"{"method":"m","params":{"text":"a\ud800b\ud83d\ude00\\ud800"}}"#;
        let Ok(Message::Notification { params, .. }) = Message::decode(body.as_bytes()) else {
            panic!("not decoded");
        };
        assert_eq!(params["text"], "a\u{fffd}b\u{1f600}\\ud800");
    }

    #[test]
    fn responses_keep_their_errors() {
        let body = r#"{"jsonrpc":"2.0","id":"s1","error":{"code":-32800,"message":"gone"}}"#;
        let Ok(Message::Response { id, result }) = Message::decode(body.as_bytes()) else {
            panic!("not a response");
        };
        assert_eq!(id, Id::String("s1".into()));
        assert_eq!(result.unwrap_err().code, ErrorCode::RequestCancelled);
    }
}
