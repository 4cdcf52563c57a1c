//! The safety cases of `neuride serve` (docs/serve.md): no token, no
//! non-loopback bind; writes need the token; names are never paths; body
//! limits; the in-flight bound answers 503 with Retry-After; requests time
//! out.

#[path = "e2e/serve.rs"]
mod serve;
#[path = "e2e/support.rs"]
mod support;

use serde_json::json;
use serve::Server;
use std::time::Duration;

fn iris() -> Vec<u8> {
    std::fs::read(support::fixture("ml/iris_logreg_nozipmap.onnx")).unwrap()
}

#[test]
fn a_public_bind_needs_a_token_and_writes_present_it() {
    let workspace = tempfile::tempdir().unwrap();
    let refused = Server::try_start(workspace.path(), &["--host", "0.0.0.0"]).err();
    let refused = refused.expect("the server must refuse 0.0.0.0 without a token");
    assert!(
        refused.contains("refusing to serve on 0.0.0.0 without --token"),
        "{refused}"
    );
    let empty = Server::try_start(workspace.path(), &["--host", "0.0.0.0", "--token", ""]).err();
    assert!(empty.is_some(), "an empty token is no token");

    let token = "s3cret-token";
    // Bound on every interface; the test talks to it over loopback only.
    let public = Server::start(workspace.path(), &["--host", "0.0.0.0", "--token", token]);
    let port = public.url.rsplit(':').next().unwrap().to_owned();
    let local = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let put = |token: Option<&str>| {
        let mut request = Server::agent().put(local("/api/models/iris"));
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        request.send(iris().as_slice()).unwrap().status().as_u16()
    };
    assert_eq!(put(None), 401);
    assert_eq!(put(Some("Bearer wrong")), 401);
    assert_eq!(put(Some("Bearer s3cret-tokenX")), 401);
    assert_eq!(put(Some("Basic s3cret-token")), 401);
    assert!(!workspace.path().join("iris.onnx").exists());
    assert_eq!(put(Some("Bearer s3cret-token")), 201);
    // Reads need no token.
    let read = Server::agent().get(local("/api/models")).call().unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let delete = |token: Option<&str>| {
        let mut request = Server::agent().delete(local("/api/models/iris"));
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        request.call().unwrap().status().as_u16()
    };
    assert_eq!(delete(None), 401);
    assert!(workspace.path().join("iris.onnx").exists());
    assert_eq!(delete(Some("Bearer s3cret-token")), 200);
    drop(public);
}

#[test]
fn names_are_never_paths() {
    let outside = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir(workspace.path().join("ws")).unwrap();
    let root = workspace.path().join("ws");
    let server = Server::start(&root, &[]);
    let escapes = [
        "..%2F..%2Fescaped",
        "..%2Fescaped",
        "%2E%2E%2Fescaped",
        "sub%2Fescaped",
        "..",
        ".hidden",
        "a%5Cb",
        "%00",
    ];
    for name in escapes {
        let reply = server.put(&format!("/api/models/{name}"), &iris(), None);
        assert!(
            reply.status == 400 || reply.status == 404,
            "{name}: {} {}",
            reply.status,
            reply.text()
        );
        for path in ["/download", "/text", "/graph.svg", ""] {
            let read = server.get(&format!("/api/models/{name}{path}"));
            assert!(
                read.status == 400 || read.status == 404,
                "{name}{path}: {read:?}"
            );
        }
        let infer = server.post_json(&format!("/v2/models/{name}/infer"), &json!({"inputs": []}));
        assert!(
            infer.status == 400 || infer.status == 404,
            "{name}: {infer:?}"
        );
    }
    // Raw dot segments, as curl --path-as-is sends them.
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--path-as-is",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "PUT",
            "--data-binary",
            "@-",
        ])
        .arg(server.url("/api/models/../../escaped"))
        .stdin(std::fs::File::open(support::fixture("ml/iris_logreg_nozipmap.onnx")).unwrap())
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(code == "404" || code == "400", "{code}");
    // A multipart file name with folders keeps only its stem.
    let posted = server.post_form("../../escaped.onnx", &iris());
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert!(root.join("escaped.onnx").is_file());
    let leaked: Vec<_> = walk(workspace.path())
        .into_iter()
        .chain(walk(outside.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("escaped"))
        })
        .filter(|p| !p.starts_with(&root))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn bodies_are_limited() {
    let workspace = serve::examples_workspace();
    let server = Server::start(
        workspace.path(),
        &["--max-upload-mb", "1", "--max-infer-mb", "1"],
    );
    let big = vec![b' '; 2 << 20];
    let upload = server.put("/api/models/big", &big, None);
    assert_eq!(upload.status, 413, "{}", upload.text());
    assert!(!workspace.path().join("big.onnx").exists());
    let infer = Server::agent()
        .post(server.url("/v2/models/digits_cnn/infer"))
        .send(big.as_slice())
        .unwrap();
    assert_eq!(infer.status().as_u16(), 413);
    // The default infer limit is 16 MiB: 17 MiB is refused.
    drop(server);
    let server = Server::start(workspace.path(), &[]);
    let bigger = vec![b' '; 17 << 20];
    let infer = Server::agent()
        .post(server.url("/v2/models/digits_cnn/infer"))
        .send(bigger.as_slice())
        .unwrap();
    assert_eq!(infer.status().as_u16(), 413);
    // A lying binary header is a 400, not a crash.
    let lying = Server::agent()
        .post(server.url("/v2/models/digits_cnn/infer"))
        .header("Inference-Header-Content-Length", "999999")
        .send(&b"{}"[..])
        .unwrap();
    assert_eq!(lying.status().as_u16(), 400);
}

/// A spiking model and a request that keeps it busy for many seconds: the
/// most steps a request may ask (10,000) for 1,024 digits (64 digits
/// became too few once the simulator's loops were vectorised, finishing
/// inside the 2 s timeout). The server is killed when the test ends, so the
/// rest of the run costs nothing.
fn slow_workspace() -> (tempfile::TempDir, serde_json::Value) {
    let workspace = serve::examples_workspace();
    serve::add_spiking_model(workspace.path(), "slow");
    let request = json!({"parameters": {"steps": 10000},
        "inputs": [{"name": "x", "shape": [1024, 1, 8, 8], "datatype": "FP32", "data": vec![0.5; 1024 * 64]}]});
    (workspace, request)
}

#[test]
fn in_flight_inferences_are_bounded_and_requests_time_out() {
    let (workspace, slow) = slow_workspace();
    let server = Server::start(workspace.path(), &["--max-inflight", "1", "--timeout", "2"]);
    let first = serve::post_in_background(&server, "/v2/models/slow.snn/infer", &slow);
    std::thread::sleep(Duration::from_millis(500));
    let busy = server.post_json(
        "/v2/models/digits_cnn/infer",
        &json!({"inputs": [{"name": "x", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": vec![0.0; 64]}]}),
    );
    assert_eq!(busy.status, 503, "{}", busy.text());
    assert_eq!(busy.retry_after.as_deref(), Some("1"));
    assert!(
        busy.error().contains("too many inferences"),
        "{}",
        busy.error()
    );
    // The slow one runs past --timeout 2: answered 503 at about 2 s.
    let (status, text, took) = first.join().unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("longer than 2 s"), "{text}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Reads are never blocked by the bound.
    assert_eq!(server.get("/api/models").status, 200);
    assert_eq!(server.get("/v2/health/live").status, 200);
}
