//! Full re-check (parse + check) of a generated 5,000-line `.neuro` file and
//! completion in it. Goals (issue 5): re-check under 20 ms, completion under
//! 5 ms. Run: `cargo bench -p neuride-dsl --bench check`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};

/// About 5,000 lines: the digits example's items repeated under new names.
fn generate() -> String {
    let mut text = String::from(
        "model cnn = onnx(\"cnn.onnx\")\nweights w = npz(\"cnn.npz\")\ndataset test = npz(\"data/test.npz\", x: \"x\", y: \"y\")\ndataset calib = npz(\"data/calib.npz\")\n\n",
    );
    let mut index = 0;
    while text.lines().count() < 5_000 {
        text.push_str(&format!(
            "network n{index} {{\n    input x: f32[1, 8, 8]\n    layer c1 = conv2d(x, out: 8, kernel: 3, padding: 1, weight: w[\"conv1.weight\"])\n    layer s1 = leaky(c1, beta: 0.9, threshold: 1.0, reset: subtract)\n    layer p1 = avgpool(s1, kernel: 2)\n    layer c2 = conv2d(p1, out: 16, kernel: 3, padding: 1, weight: w[\"conv2.weight\"])\n    layer s2 = lif(c2, tau_rc: 20ms, tau_ref: 2ms)\n    layer p2 = avgpool(s2, kernel: 2)\n    layer f = flatten(p2)\n    layer d = dense(f, out: 10, weight: w[\"fc.weight\"])\n    output y = leaky(d, beta: 0.9)\n}}\n\nnetwork c{index} = convert(cnn) {{\n    neuron = if(threshold: 1.0, reset: subtract)\n    normalize = percentile(99.9, data: calib)\n}}\n\nsimulate n{index} on test {{\n    dt = 1ms\n    steps = 50\n    encode = rate(max_rate: 1000Hz, seed: 7)\n    decode = count\n    record = [accuracy, rates, raster(s1)]\n}}\n\napp a{index} {{\n    sensor cam: f32[1, 8, 8] @ 10Hz = replay(test)\n    pipeline cam -> c{index} -> argmax -> digit\n    rule open when digit == 7 for 2 => emit \"unlock\"\n}}\n\n"
        ));
        index += 1;
    }
    text
}

fn benches(criterion: &mut Criterion) {
    let text = generate();
    let workspace = support::all_facts();
    {
        let parse = neuride_dsl::parse(&text);
        let analysis = neuride_dsl::check(&parse, &workspace);
        assert!(
            analysis.diagnostics.is_empty(),
            "the generated file must check clean: {:?}",
            &analysis.diagnostics[..3.min(analysis.diagnostics.len())]
        );
    }
    criterion.bench_function("parse_5000_lines", |bench| {
        bench.iter(|| neuride_dsl::parse(&text))
    });
    criterion.bench_function("recheck_5000_lines", |bench| {
        bench.iter(|| {
            let parse = neuride_dsl::parse(&text);
            neuride_dsl::check(&parse, &workspace)
        })
    });
    let parse = neuride_dsl::parse(&text);
    let analysis = neuride_dsl::check(&parse, &workspace);
    // In the middle of the file, inside a layer's argument list.
    let offset = text[text.len() / 2..]
        .find("avgpool(s1, ")
        .map(|at| text.len() / 2 + at + "avgpool(s1, ".len())
        .expect("a call");
    criterion.bench_function("completion_5000_lines", |bench| {
        bench.iter(|| neuride_dsl::completion(&parse, &analysis, &workspace, offset))
    });
    criterion.bench_function("format_5000_lines", |bench| {
        bench.iter(|| neuride_dsl::format(&parse))
    });
}

criterion_group!(group, benches);
criterion_main!(group);
