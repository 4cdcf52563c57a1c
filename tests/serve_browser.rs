//! The registry page in a real browser: Debian's headless Chromium driven
//! by playwright-core (from npm, installed into target/serve-browser on
//! first use, no browser download): the list renders with kinds, an upload
//! through the form appears, a prediction through the form shows the right
//! class. Screenshots land in target/serve-browser/screenshots, or in
//! docs/img/ (the README's) with NEURIDE_UPDATE_SCREENSHOTS=1.

#[path = "e2e/serve.rs"]
mod serve;
#[path = "e2e/support.rs"]
mod support;

use serve::Server;
use std::path::PathBuf;
use std::process::Command;

const PLAYWRIGHT: &str = "playwright-core@1.65.1";

/// playwright-core in a folder of its own under target/ (gitignored),
/// installed once; a lock keeps parallel runs from racing.
fn playwright() -> PathBuf {
    let dir = support::repo_root().join("target/serve-browser");
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "set -e; exec 9>.lock; flock 9; \
         [ -f node_modules/playwright-core/package.json ] && exit 0; \
         echo '{{\"name\": \"serve-browser\", \"private\": true}}' > package.json; \
         PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --ignore-scripts {PLAYWRIGHT} >&2"
    );
    let status = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success(), "npm install {PLAYWRIGHT} failed");
    dir
}

#[test]
fn the_page_lists_uploads_and_predicts_in_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: scripts/test-all installs Debian's chromium"
    );
    let workspace = serve::examples_workspace();
    let server = Server::start(workspace.path(), &[]);
    // One test digit and its label, as the form's JSON.
    let (pixels, labels) = serve::digits(4);
    let pixels: Vec<serde_json::Value> = pixels.as_array().unwrap()[3 * 64..4 * 64].to_vec();
    let label = labels[3].to_string();
    let screenshots = if std::env::var_os("NEURIDE_UPDATE_SCREENSHOTS").is_some() {
        support::repo_root().join("docs/img")
    } else {
        support::repo_root().join("target/serve-browser/screenshots")
    };
    std::fs::create_dir_all(&screenshots).unwrap();
    let output = Command::new("node")
        .arg(support::repo_root().join("tests/serve/browser.js"))
        .arg(playwright())
        .arg(&server.url)
        .arg(support::fixture("dl/digits_mlp.onnx"))
        .arg(&screenshots)
        .env("CHROMIUM", &chromium)
        .env("DIGIT_PIXELS", serde_json::Value::Array(pixels).to_string())
        .env("DIGIT_LABEL", &label)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "browser test failed:\n{}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.stderr()
    );
    eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(workspace.path().join("uploaded_mlp.onnx").is_file());
}
