//! `neuride serve` driven as its users drive it: the real binary on a free
//! loopback port, a real HTTP client (ureq), and checks that the server
//! never logged a panic.

#![allow(dead_code)]

use super::support;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub url: String,
    pub root: PathBuf,
    stderr: Arc<Mutex<String>>,
}

/// A workspace holding a copy of `examples/` (models, data, apps).
pub fn examples_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&support::repo_root().join("examples"), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Server {
    /// Starts `neuride serve ROOT --port 0 ARGS...` and waits for the line
    /// that gives its address.
    pub fn start(root: &Path, args: &[&str]) -> Server {
        Server::try_start(root, args)
            .unwrap_or_else(|stderr| panic!("server did not start: {stderr}"))
    }

    /// As [`Server::start`]; `Err` holds stderr when the server exited instead.
    pub fn try_start(root: &Path, args: &[&str]) -> Result<Server, String> {
        let mut child = Command::new(support::binary())
            .arg("serve")
            .arg(root)
            .args(["--port", "0"])
            .args(args)
            .env("NEURIDE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (sender, receiver) = std::sync::mpsc::channel();
        let reader = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if let Some((_, address)) = line.split_once(" on http://") {
                    let _ = sender.send(format!("http://{}", address.trim_end_matches('/')));
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        match receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => Ok(Server {
                child,
                url,
                root: root.canonicalize().unwrap(),
                stderr,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                Err(stderr.lock().unwrap().clone())
            }
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn get(&self, path: &str) -> Reply {
        Reply::of(Server::agent().get(self.url(path)).call())
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        Reply::of(
            Server::agent()
                .post(self.url(path))
                .header("Content-Type", "application/json")
                .send(serde_json::to_vec(body).unwrap().as_slice()),
        )
    }

    pub fn put(&self, path: &str, body: &[u8], token: Option<&str>) -> Reply {
        let mut request = Server::agent().put(self.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Reply::of(request.send(body))
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = Server::agent().delete(self.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Reply::of(request.call())
    }

    /// Uploads `bytes` as a browser form does: `multipart/form-data` with
    /// the file in the field `file`, named `file_name`.
    pub fn post_form(&self, file_name: &str, bytes: &[u8]) -> Reply {
        let boundary = "neuride-test-boundary";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        form.extend_from_slice(bytes);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Reply::of(
            Server::agent()
                .post(self.url("/api/models"))
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .send(form.as_slice()),
        )
    }

    /// Polls `path` until `done` holds for its reply (the watcher is
    /// asynchronous), or fails after 30 s.
    pub fn wait_for(&self, path: &str, what: &str, done: impl Fn(&Reply) -> bool) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let reply = self.get(path);
            if done(&reply) {
                return reply;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {reply:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            std::thread::sleep(Duration::from_millis(50));
            let log = self.stderr();
            assert!(!log.contains("panicked"), "the server panicked:\n{log}");
        }
    }
}

/// A response: status, headers that tests look at, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub header_length: Option<usize>,
    pub disposition: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    fn of(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = result.unwrap_or_else(|e| panic!("request failed: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let disposition = header("content-disposition");
        let header_length = header("inference-header-content-length").and_then(|v| v.parse().ok());
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap();
        Reply {
            status: response.status().as_u16(),
            content_type,
            retry_after,
            header_length,
            disposition,
            body,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    /// The error message of an error reply.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Converts the digits CNN of an examples workspace into a spiking model
/// `digits-snn/models/NAME.snn.onnx` (served as `NAME.snn`) with
/// `neuride convert`.
pub fn add_spiking_model(workspace: &Path, name: &str) {
    let models = workspace.join("digits-snn/models");
    let converted = Command::new(support::binary())
        .arg("convert")
        .arg(models.join("digits_cnn.onnx"))
        .arg("--calib")
        .arg(workspace.join("digits-snn/data/digits_calib.npz"))
        .arg("-o")
        .arg(models.join(format!("{name}.neuro")))
        .output()
        .unwrap();
    assert!(converted.status.success(), "{converted:?}");
}

/// The first `count` test digits of the examples (as a flat list of
/// pixels) and their labels, read by numpy.
pub fn digits(count: usize) -> (serde_json::Value, Vec<i64>) {
    samples(
        &support::repo_root().join("examples/digits-snn/data/digits_test.npz"),
        count,
    )
}

/// The first `count` samples of the arrays `x` (as a flat list) and `y` of
/// the archive `data`, read by numpy.
pub fn samples(data: &Path, count: usize) -> (serde_json::Value, Vec<i64>) {
    let python = format!(
        "import numpy as np, json; z = np.load('{}'); print(json.dumps({{'x': z['x'][:{count}].ravel().tolist(), 'y': z['y'][:{count}].tolist()}}))",
        data.display()
    );
    let out = Command::new(support::test_python())
        .args(["-c", &python])
        .output()
        .unwrap();
    let samples: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels = samples["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y.as_i64().unwrap())
        .collect();
    (samples["x"].clone(), labels)
}

/// Posts `request` to `path` on a thread of its own: (status, body, time taken).
pub fn post_in_background(
    server: &Server,
    path: &str,
    request: &serde_json::Value,
) -> std::thread::JoinHandle<(u16, String, Duration)> {
    let url = server.url(path);
    let body = serde_json::to_vec(request).unwrap();
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut reply = Server::agent()
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.as_slice())
            .unwrap();
        (
            reply.status().as_u16(),
            reply.body_mut().read_to_string().unwrap(),
            started.elapsed(),
        )
    })
}
