//! The embeddings and the assignment against the real peers in the test
//! environment (scripts/test-venv): scikit-learn's PCA, KernelPCA and exact
//! t-SNE, scipy's linear_sum_assignment.

mod support;

use neuride_tabular::lsa::linear_sum_assignment;
use neuride_tabular::pca::{kernel_pca, pca};
use neuride_tabular::tsne::{Metric, TsneOptions, distances, joint_probabilities, tsne};
use neuride_tabular::{Norm2, Points};
use serde_json::{Value, json};
use std::sync::atomic::AtomicBool;

/// The fixture's features as points (features x rows), Norm2-scaled as a
/// fit scales them.
fn feature_points() -> (Vec<f64>, usize, usize) {
    let table = support::genes();
    let mut scaled = table.x.clone();
    Norm2::fit(&table.x, table.features).apply(&mut scaled);
    let points = (0..table.features)
        .flat_map(|f| scaled.chunks_exact(table.features).map(move |row| row[f]))
        .collect();
    (points, table.features, table.rows)
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| match v.as_array() {
            Some(inner) => inner.iter().map(|x| x.as_f64().unwrap()).collect(),
            None => vec![v.as_f64().unwrap()],
        })
        .collect()
}

fn rows(points: &[f64], d: usize) -> Value {
    json!(points.chunks_exact(d).collect::<Vec<_>>())
}

const SKLEARN: &str = r#"
import json, sys
import numpy as np
from sklearn.decomposition import PCA, KernelPCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities
from sklearn.metrics import pairwise_distances
X = np.asarray(json.load(sys.stdin)["points"], dtype=np.float64)
tsne = TSNE(n_components=2, method="exact", init="pca", metric="cosine", perplexity=20.0)
embedded = tsne.fit_transform(X)
P = _joint_probabilities(pairwise_distances(X, metric="cosine"), 20.0, 0)
print(json.dumps({
    "pca": PCA(n_components=2).fit_transform(X).tolist(),
    "kpca": KernelPCA(n_components=2, kernel="rbf").fit_transform(X).tolist(),
    "P": P.tolist(),
    "kl": float(tsne.kl_divergence_),
    "trust": float(trustworthiness(X, embedded, n_neighbors=5, metric="cosine")),
}))
"#;

#[test]
fn embeddings_match_scikit_learn() {
    let (points, n, d) = feature_points();
    let theirs = support::run_python(SKLEARN, &json!({ "points": rows(&points, d) }));
    let cancel = AtomicBool::new(false);
    let features = Points::new(&points, n, d).unwrap();

    for (name, ours) in [
        ("pca", pca(features, 2, &cancel).unwrap()),
        ("kpca", kernel_pca(features, 2, &cancel).unwrap()),
    ] {
        let expected = floats(&theirs[name]);
        let scale = expected.iter().fold(0f64, |m, x| m.max(x.abs()));
        let worst = ours
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0f64, f64::max);
        assert!(
            worst <= 1e-8 * scale,
            "{name}: differs by {worst} (scale {scale})"
        );
    }

    // t-SNE: the same joint probabilities, and an optimum as good.
    let distances = distances(features, Metric::Cosine, &cancel).unwrap();
    let p = joint_probabilities(&distances, n, 20.0, &cancel).unwrap();
    let expected = floats(&theirs["P"]);
    assert_eq!(p.len(), expected.len());
    let worst = p
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs() / b.max(1e-12))
        .fold(0f64, f64::max);
    assert!(worst < 1e-6, "P differs by up to {worst} (relative)");

    let options = TsneOptions {
        perplexity: 20.0,
        ..TsneOptions::default()
    };
    let ours = tsne(features, &options, &cancel).unwrap();
    let kl = theirs["kl"].as_f64().unwrap();
    eprintln!(
        "t-SNE KL divergence: neuride {:.4}, scikit-learn {kl:.4}",
        ours.kl_divergence
    );
    assert!(
        ours.kl_divergence <= kl * 1.05,
        "KL {} vs scikit-learn's {kl}",
        ours.kl_divergence
    );
    let trust = support::run_python(
        r#"
import json, sys
import numpy as np
from sklearn.manifold import trustworthiness
data = json.load(sys.stdin)
print(json.dumps(float(trustworthiness(np.asarray(data["x"]), np.asarray(data["e"]), n_neighbors=5, metric="cosine"))))
"#,
        &json!({ "x": rows(&points, d), "e": rows(&ours.points, 2) }),
    );
    let (ours_trust, theirs_trust) = (trust.as_f64().unwrap(), theirs["trust"].as_f64().unwrap());
    eprintln!(
        "trustworthiness (5 neighbours): neuride {ours_trust:.4}, scikit-learn {theirs_trust:.4}"
    );
    assert!(ours_trust >= theirs_trust - 0.01);
}

#[test]
fn assignments_match_scipy() {
    // Real-valued costs (a unique optimum) and small integers (many ties:
    // the same matching only if the tie-breaking is scipy's).
    let mut state = 11u64;
    let mut cases = Vec::new();
    for (rows, columns, integers) in [
        (8, 8, false),
        (30, 30, true),
        (12, 40, false),
        (40, 12, true),
        (25, 25, false),
        (64, 144, true),
    ] {
        let cost: Vec<f64> = (0..rows * columns)
            .map(|_| {
                let x = neuride_tabular::linalg::splitmix(&mut state);
                if integers {
                    (x * 5.0).floor()
                } else {
                    x * 100.0
                }
            })
            .collect();
        cases.push((rows, columns, cost));
    }
    let input = json!(cases
        .iter()
        .map(|(r, c, cost)| json!({ "cost": cost.chunks_exact(*c).collect::<Vec<_>>(), "rows": r }))
        .collect::<Vec<_>>());
    let theirs = support::run_python(
        r#"
import json, sys
import numpy as np
from scipy.optimize import linear_sum_assignment
out = []
for case in json.load(sys.stdin):
    r, c = linear_sum_assignment(np.asarray(case["cost"], dtype=np.float64))
    out.append([r.tolist(), c.tolist()])
print(json.dumps(out))
"#,
        &input,
    );
    for ((rows, columns, cost), expected) in cases.iter().zip(theirs.as_array().unwrap()) {
        let ours = linear_sum_assignment(cost, *rows, *columns, &AtomicBool::new(false)).unwrap();
        let expected: Vec<(usize, usize)> = expected[0]
            .as_array()
            .unwrap()
            .iter()
            .zip(expected[1].as_array().unwrap())
            .map(|(r, c)| (r.as_u64().unwrap() as usize, c.as_u64().unwrap() as usize))
            .collect();
        assert_eq!(ours, expected, "{rows} x {columns}");
    }
}
