//! One process, one load + check per file, timed from inside: what
//! `neuride check FILE` does for an ONNX file, without the CLI around it.
//! bench/check_bench.py runs this binary to measure wall time and peak RSS
//! (`cargo bench --bench check_once -- FILE...` also works by hand).

use neuride_onnx::Severity;
use neuride_onnx::check::check_loaded;
use neuride_onnx::load::load_file;
use std::path::Path;
use std::time::Instant;

fn main() {
    // cargo bench passes `--bench`; every other argument is a model file.
    for file in std::env::args().skip(1).filter(|a| !a.starts_with("--")) {
        let start = Instant::now();
        let model = match load_file(Path::new(&file)) {
            Ok(model) => model,
            Err(error) => {
                eprintln!("{file}: {error}");
                std::process::exit(2);
            }
        };
        let loaded = start.elapsed();
        let diagnostics = check_loaded(&model);
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let nodes = model.proto.graph.as_ref().map_or(0, |g| g.node.len());
        println!(
            "{file}: {nodes} nodes, {errors} errors, {} diagnostics; load {:.2} ms, load+check {:.2} ms",
            diagnostics.len(),
            loaded.as_secs_f64() * 1e3,
            start.elapsed().as_secs_f64() * 1e3
        );
        // Where the resident memory is: anonymous (ours) or file pages of the map.
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let rss: Vec<&str> = status
                .lines()
                .filter(|l| l.starts_with("Rss"))
                .map(|l| l.trim())
                .collect();
            eprintln!("{}", rss.join(", ").replace('\t', " "));
        }
        // As `neuride check` does: the process ends, nothing to free.
        std::mem::forget(model);
        std::mem::forget(diagnostics);
    }
}
