//! Graph view timings on synthetic transformer-like models and chains:
//! building the SVG (collapse decision + layout + rendering) and the layout
//! alone, for 1,000 and 8,000 nodes. Goal: large graphs under 2 s.
//!
//! Run: `cargo bench -p neuride-onnx --bench graph`.

use criterion::{Criterion, criterion_group};
use neuride_onnx::graph::{
    self, Collapse, Direction, GraphView, ViewOptions, collapse, layout, svg,
};
use std::hint::black_box;
use std::time::Duration;

fn options(collapse: Collapse) -> ViewOptions<'static> {
    ViewOptions {
        shapes: None,
        direction: Direction::LeftRight,
        collapse,
    }
}

fn bench_views(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph_svg");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for (label, model) in [
        ("transformer_1000", graph::synthetic::transformer_like(1000)),
        ("transformer_8000", graph::synthetic::transformer_like(8000)),
        ("chain_1000", graph::synthetic::chain(1000)),
        ("chain_8000", graph::synthetic::chain(8000)),
    ] {
        group.bench_function(format!("{label}/auto"), |b| {
            b.iter(|| graph::to_svg(black_box(&model), &options(Collapse::Auto)))
        });
        if label.ends_with("8000") {
            // The uncollapsed picture, to show what collapsing saves.
            group.bench_function(format!("{label}/never"), |b| {
                b.iter(|| graph::to_svg(black_box(&model), &options(Collapse::Never)))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("graph_layout_only");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for nodes in [1000, 8000] {
        let model = graph::synthetic::transformer_like(nodes);
        let view = GraphView::new(&model, None);
        let drawing = collapse::draw_graph(&view, Collapse::Never);
        let sizes = svg::box_sizes(&drawing);
        let edges: Vec<(usize, usize)> = drawing.edges.iter().map(|e| (e.from, e.to)).collect();
        group.bench_function(format!("transformer_{nodes}/never"), |b| {
            b.iter(|| layout::layout(black_box(&sizes), black_box(&edges), Direction::LeftRight))
        });
    }
    group.finish();

    let model = graph::synthetic::transformer_like(8000);
    c.bench_function("graph_json/transformer_8000", |b| {
        b.iter(|| graph::to_json(black_box(&model), None))
    });
}

criterion_group!(benches, bench_views);

criterion::criterion_main!(benches);
