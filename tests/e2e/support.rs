//! A minimal LSP client for end-to-end tests: it starts the real `neuride lsp`
//! binary, speaks JSON-RPC over its stdio exactly as an editor does, answers
//! the server's own requests like an editor would, and on shutdown checks
//! that the server exited cleanly and logged no panic.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_neuride")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .unwrap()
}

pub fn fixture(relative: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(relative)
}

pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_str().unwrap().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(byte as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

pub fn view_uri(path: &Path) -> String {
    file_uri(path).replacen("file:", "neuride-model:", 1)
}

/// The recorded `initialize` request of `client` (`vscode` or `nvim`) with
/// the workspace root substituted.
pub fn initialize_params(client: &str, root: &Path) -> Value {
    let file = match client {
        "vscode" => "vscode-initialize.json",
        "nvim" => "nvim-0.7.2-initialize.json",
        other => panic!("no recorded initialize for {other}"),
    };
    let text = std::fs::read_to_string(repo_root().join("tests/e2e").join(file)).unwrap();
    let text = text
        .replace("$ROOT_URI", &file_uri(root))
        .replace("$ROOT_PATH", root.to_str().unwrap());
    let message: Value = serde_json::from_str(&text).unwrap();
    message["params"].clone()
}

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Server messages read but not yet asked for (notifications, requests).
    pending: VecDeque<Value>,
    next_id: i64,
    pub stderr: Arc<Mutex<String>>,
    /// Every server->client request seen, by method.
    pub server_requests: Vec<Value>,
}

impl Client {
    pub fn start(root: &Path) -> Client {
        let mut child = Command::new(binary())
            .arg("lsp")
            .current_dir(root)
            .env("NEURIDE_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start neuride lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr_pipe);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Client {
            child,
            stdin,
            messages,
            pending: VecDeque::new(),
            next_id: 1,
            stderr,
            server_requests: Vec::new(),
        }
    }

    /// Starts the server and runs `initialize` / `initialized` with the
    /// recorded capabilities of `client`. Returns the initialize result.
    pub fn initialized(root: &Path, client: &str) -> (Client, Value) {
        let mut lsp = Client::start(root);
        let result = lsp.request("initialize", initialize_params(client, root));
        lsp.notify("initialized", json!({}));
        (lsp, result)
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The server's process id (to read its /proc entries).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes bytes to the server's stdin as they are (bad frames).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits (up to 10 s) for the process to end and returns its status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// The whole response (with `result` or `error`) to request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        // Requests run concurrently: a later one may have been answered
        // first, while waiting for an earlier one.
        let answer = |m: &Value| m.get("id") == Some(&json!(id)) && m.get("method").is_none();
        if let Some(index) = self.pending.iter().position(answer) {
            return self.pending.remove(index).unwrap();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next_message(deadline).unwrap_or_else(|| {
                panic!("no response to request {id}; stderr:\n{}", self.stderr())
            });
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.pending.push_back(message);
        }
    }

    /// Sends a request and returns its `result`, failing on an error.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let response = self.response(id);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Reads the next message from the server, answering server requests
    /// the way an editor does.
    fn next_message(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let message = match self.messages.recv_timeout(wait) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
            };
            if message.get("method").is_some() && message.get("id").is_some() {
                self.answer_server_request(&message);
                self.server_requests.push(message.clone());
                continue;
            }
            return Some(message);
        }
    }

    fn answer_server_request(&mut self, request: &Value) {
        let result = match request["method"].as_str().unwrap() {
            "window/showDocument" => json!({ "success": true }),
            "workspace/configuration" => json!([]),
            _ => Value::Null,
        };
        let id = request["id"].clone();
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": result }));
    }

    /// Waits for a notification matching `predicate`, keeping the others.
    pub fn wait_for(&mut self, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.pending.iter().position(&predicate) {
            return self.pending.remove(index).unwrap();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let Some(message) = self.next_message(deadline) else {
                panic!("timed out waiting for {what}; stderr:\n{}", self.stderr());
            };
            if predicate(&message) {
                return message;
            }
            self.pending.push_back(message);
        }
    }

    /// Waits for `publishDiagnostics` on `uri` whose list satisfies `predicate`;
    /// earlier publications for the uri are dropped.
    pub fn wait_diagnostics(
        &mut self,
        uri: &str,
        predicate: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let message = self.wait_for(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && predicate(m["params"]["diagnostics"].as_array().unwrap())
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    /// Server notifications received so far and not consumed.
    pub fn drain(&mut self) -> Vec<Value> {
        while let Ok(message) = self.messages.try_recv() {
            if message.get("method").is_some() && message.get("id").is_some() {
                self.answer_server_request(&message);
                self.server_requests.push(message);
            } else {
                self.pending.push_back(message);
            }
        }
        self.pending.drain(..).collect()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `shutdown` then `exit`: the server must answer null, exit with 0,
    /// leave no response unread, and have logged no panic.
    pub fn shutdown(mut self) {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after `exit`"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        // Give the stderr reader a moment to collect the last lines.
        std::thread::sleep(Duration::from_millis(50));
        let leftover = self.drain();
        assert!(
            leftover.iter().all(|m| m.get("method").is_some()),
            "responses nobody asked for: {leftover:?}"
        );
        let stderr = self.stderr();
        assert!(
            status.success(),
            "server exited with {status}; stderr:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "server panicked:\n{stderr}");
        assert!(
            !stderr.contains("ERROR"),
            "server logged an error:\n{stderr}"
        );
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A temporary workspace with the given fixture files copied in (by their
/// path relative to tests/fixtures) and any extra files.
pub fn workspace(fixtures: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for relative in fixtures {
        let target = dir.path().join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixture(relative), &target).unwrap();
        // Fixtures are read-only; tests overwrite their copies.
        let mut permissions = std::fs::metadata(&target).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&target, permissions).unwrap();
    }
    dir
}

/// Canonical path of a temp dir (macOS /var -> /private/var), as the server sees it.
pub fn canonical(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().canonicalize().unwrap()
}

/// The Python of the test environment (`scripts/test-venv`: a venv under
/// `target/` with the light peers of tests/python/requirements.txt), created
/// on first use. Tests that compare with a real peer call this; it panics
/// with pip's message when the environment cannot be made.
pub fn test_python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(repo_root().join("scripts/test-venv"))
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/test-venv");
            assert!(out.status.success(), "scripts/test-venv failed");
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        })
        .clone()
}
