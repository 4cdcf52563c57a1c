//! Times `Session::run` on a model: prints one JSON line per batch size with
//! the median per-sample latency. Preparation (parse, optimise) and process
//! start-up are excluded, as they are for onnxruntime's side in
//! bench/infer_bench.py; input conversion into the engine is included.
//!
//! usage: infer_bench MODEL INPUTS.npz BATCH[,BATCH...] [REPEATS] [SAMPLES]
//! INPUTS.npz holds one array per model input (rows are tiled to the batch).
//! BATCH 0 runs the arrays as they are (fixed-shape models) and counts
//! SAMPLES samples per run. NEURIDE_ENGINE=native|tract picks the DL engine
//! (default: auto, the native engine when the graph is within its reach).

use neuride_infer::{EngineChoice, Session, Tensor, Value, io};
use std::time::Instant;

fn tile(t: &Tensor, rows: usize) -> Tensor {
    let have = t.rows();
    let mut out = t.slice_rows(0, 1.min(have));
    out.shape[0] = 0;
    let mut out_data = neuride_infer::Data::empty(t.dtype());
    for r in 0..rows {
        out_data.extend(&t.slice_rows(r % have, r % have + 1).data);
    }
    out.shape[0] = rows;
    out.data = out_data;
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: infer_bench MODEL INPUTS.npz BATCH[,BATCH...] [REPEATS]");
        std::process::exit(2);
    }
    let choice = match std::env::var("NEURIDE_ENGINE").as_deref() {
        Ok("native") => EngineChoice::Native,
        Ok("tract") => EngineChoice::Tract,
        _ => EngineChoice::Auto,
    };
    let session =
        Session::load_with(&std::fs::read(&args[1]).expect("model"), choice).expect("prepare");
    let arrays = io::read_npz(&std::fs::read(&args[2]).expect("inputs")).expect("npz");
    let repeats: usize = args.get(4).and_then(|r| r.parse().ok()).unwrap_or(50);
    for batch in args[3]
        .split(',')
        .map(|b| b.parse::<usize>().expect("batch"))
    {
        let native = batch == 0;
        let inputs: Vec<(String, Value)> = arrays
            .iter()
            .map(|(n, t)| {
                (
                    n.clone(),
                    Value::Tensor(if native { t.clone() } else { tile(t, batch) }),
                )
            })
            .collect();
        let samples = if native {
            args.get(5).and_then(|s| s.parse().ok()).unwrap_or(1)
        } else {
            batch
        };
        // Warm up (allocations, caches) before timing.
        for _ in 0..3 {
            session.run(inputs.clone()).expect("run");
        }
        let mut times = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let inputs = inputs.clone();
            let start = Instant::now();
            let out = session.run(inputs).expect("run");
            times.push(start.elapsed().as_secs_f64());
            std::hint::black_box(out);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = times[times.len() / 2];
        println!(
            "{{\"model\": \"{}\", \"batch\": {samples}, \"engine\": \"{:?}\", \"median_s\": {median:e}, \"per_sample_us\": {:.4}}}",
            args[1],
            session.engine(),
            median / samples as f64 * 1e6
        );
    }
}
