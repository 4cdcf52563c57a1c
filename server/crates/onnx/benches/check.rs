//! Load + check end to end, as `neuride check` does it, on the models named
//! in `NEURIDE_CHECK_BENCH_FILES` (colon-separated; bench/check_bench.py
//! generates a ViT-B/16-sized and an 8,000-node transformer), or on the
//! repository's fixtures when unset.

use criterion::{Criterion, criterion_group, criterion_main};
use neuride_onnx::check::check_loaded;
use neuride_onnx::load::load_file;
use std::path::PathBuf;

fn files() -> Vec<PathBuf> {
    match std::env::var("NEURIDE_CHECK_BENCH_FILES") {
        Ok(list) => list
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
        Err(_) => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures");
            vec![
                root.join("snn/digits_snntorch.onnx"),
                root.join("dl/digits_cnn.onnx"),
            ]
        }
    }
}

fn load_and_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("load+check");
    group.sample_size(20);
    for file in files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        group.bench_function(name, |b| {
            b.iter(|| {
                let model = load_file(&file).unwrap();
                check_loaded(&model)
            })
        });
    }
    group.finish();
}

fn schema_lookup(c: &mut Criterion) {
    let ops = [
        "Conv",
        "MatMul",
        "Add",
        "LayerNormalization",
        "Softmax",
        "Gelu",
        "Reshape",
        "Transpose",
    ];
    c.bench_function("schema lookup x8", |b| {
        b.iter(|| {
            ops.iter()
                .filter_map(|op| neuride_onnx::schema::lookup("", op, 21))
                .count()
        })
    });
}

criterion_group!(benches, load_and_check, schema_lookup);
criterion_main!(benches);
