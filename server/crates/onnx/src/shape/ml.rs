//! Rules for the `ai.onnx.ml` ops (classic ML, as skl2onnx emits them).
//! Classifiers give `label [N]` and `scores [N, C]`; regressors `[N, targets]`.

use super::dim::{Dim, ValueType};
use super::{At, Fact};
use crate::attr;
use crate::proto::tensor_proto::DataType;

fn tensor(elem: i32, dims: Vec<Dim>) -> Fact {
    Fact::of(ValueType::tensor(elem, dims))
}

/// Rows of a feature matrix: `[N, F]` -> N, `[F]` -> 1.
fn rows(x: Option<&Fact>) -> Dim {
    match x.and_then(|f| f.ty.shape()) {
        Some([n, _]) => n.clone(),
        Some([_]) => Dim::Known(1),
        _ => Dim::Unknown,
    }
}

/// A count read from attributes: known when positive, else unknown (the
/// attribute was absent or empty).
fn count(n: i64) -> Dim {
    if n > 0 { Dim::Known(n) } else { Dim::Unknown }
}

/// The label element type and the class count of a classifier.
fn classes(at: &At) -> (i32, usize) {
    let ints = attr::ints(at.node, "classlabels_ints").map_or(0, |v| v.len());
    let strings = attr::strings_len(at.node, "classlabels_strings");
    if strings > 0 {
        (DataType::String as i32, strings)
    } else {
        (DataType::Int64 as i32, ints)
    }
}

fn classifier(n: Dim, label: i32, c: Dim) -> Vec<Fact> {
    vec![
        tensor(label, vec![n.clone()]),
        tensor(DataType::Float as i32, vec![n, c]),
    ]
}

/// The facts of an `ai.onnx.ml` node's outputs; ops are grouped by family,
/// each a function that answers `None` for ops not its own.
pub(crate) fn infer(at: &At, ins: &[Option<&Fact>]) -> Vec<Fact> {
    const FAMILIES: [Family; 4] = [classifiers, regressors, encoders, features];
    let op = at.node.op_type.as_deref().unwrap_or("");
    FAMILIES
        .iter()
        .find_map(|family| family(at, op, ins))
        .unwrap_or_default()
}

type Family = fn(&At, &str, &[Option<&Fact>]) -> Option<Vec<Fact>>;

/// Output 0's shape with element type `elem` (unranked when input 0's is unknown).
fn same(x: Option<&Fact>, elem: i32) -> Fact {
    match x.and_then(|f| f.ty.shape()) {
        Some(s) => tensor(elem, s.to_vec()),
        None => Fact::of(ValueType::tensor_unranked(elem)),
    }
}

/// Classifiers: a label per row and a score per class.
fn classifiers(at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let x = ins.first().copied().flatten();
    Some(match op {
        "LinearClassifier" => {
            let (label, n_labels) = classes(at);
            let n_intercepts = attr::floats(at.node, "intercepts").map_or(0, |v| v.len());
            // A binary model stores one intercept but scores both classes.
            let c = if n_intercepts == 1 && n_labels == 2 {
                2
            } else {
                n_intercepts
            };
            classifier(rows(x), label, count(c as i64))
        }
        "SVMClassifier" => {
            let (label, c) = classes(at);
            let has_proba = attr::floats(at.node, "prob_a").is_some_and(|v| !v.is_empty());
            let svc = attr::ints(at.node, "vectors_per_class").is_some_and(|v| !v.is_empty());
            // Without probabilities an SVC scores each pair of classes (one-vs-one).
            let cols = match (has_proba, svc, c) {
                (true, _, c) | (false, false, c) if c > 2 => Dim::Known(c as i64),
                (false, true, c) if c > 2 => Dim::Known((c * (c - 1) / 2) as i64),
                _ => Dim::Unknown,
            };
            classifier(rows(x), label, cols)
        }
        "TreeEnsembleClassifier" => {
            let (label, c) = classes(at);
            classifier(rows(x), label, count(c as i64))
        }
        _ => return None,
    })
}

/// Regressors and the ops that keep the shape of their input.
fn regressors(at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let x = ins.first().copied().flatten();
    Some(match op {
        "LinearRegressor" | "TreeEnsembleRegressor" | "TreeEnsemble" => {
            let targets = attr::int(at.node, "targets")
                .or_else(|| attr::int(at.node, "n_targets"))
                .unwrap_or(1);
            vec![tensor(
                DataType::Float as i32,
                vec![rows(x), Dim::Known(targets)],
            )]
        }
        "SVMRegressor" => vec![tensor(DataType::Float as i32, vec![rows(x), Dim::Known(1)])],
        "Scaler" | "Normalizer" => vec![same(x, DataType::Float as i32)],
        "Binarizer" | "Imputer" => vec![same(x, x.map_or(DataType::Float as i32, |f| f.ty.elem()))],
        _ => return None,
    })
}

/// Encoders: values mapped to labels, categories or one-hot rows.
fn encoders(at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let x = ins.first().copied().flatten();
    Some(match op {
        "ZipMap" => {
            let key = if attr::strings_len(at.node, "classlabels_strings") > 0 {
                DataType::String as i32
            } else {
                DataType::Int64 as i32
            };
            let map = ValueType::Map {
                key,
                value: Box::new(ValueType::tensor(DataType::Float as i32, vec![])),
            };
            vec![Fact::of(ValueType::Sequence(Box::new(map)))]
        }
        "LabelEncoder" => {
            let elem = if attr::has(at.node, "values_strings")
                || attr::has(at.node, "default_string")
                    && !attr::has(at.node, "values_int64s")
                    && !attr::has(at.node, "values_floats")
            {
                DataType::String as i32
            } else if attr::has(at.node, "values_floats") {
                DataType::Float as i32
            } else if attr::has(at.node, "values_int64s") {
                DataType::Int64 as i32
            } else {
                0
            };
            vec![same(x, elem)]
        }
        "CategoryMapper" => {
            let elem = match x.map(|f| DataType::try_from(f.ty.elem())) {
                Some(Ok(DataType::String)) => DataType::Int64 as i32,
                Some(Ok(DataType::Int64)) => DataType::String as i32,
                _ => 0,
            };
            vec![same(x, elem)]
        }
        "OneHotEncoder" => {
            let cats = attr::ints(at.node, "cats_int64s")
                .map_or(0, |v| v.len())
                .max(attr::strings_len(at.node, "cats_strings"));
            match x.and_then(|f| f.ty.shape()) {
                Some(s) => {
                    let mut d = s.to_vec();
                    d.push(Dim::Known(cats as i64));
                    vec![tensor(DataType::Float as i32, d)]
                }
                None => vec![Fact::of(ValueType::tensor_unranked(DataType::Float as i32))],
            }
        }
        _ => return None,
    })
}

/// Feature extraction: columns picked, vectors joined, dictionaries spread.
fn features(at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let x = ins.first().copied().flatten();
    Some(match op {
        "ArrayFeatureExtractor" => {
            let elem = x.map_or(0, |f| f.ty.elem());
            let picked = ins
                .get(1)
                .copied()
                .flatten()
                .and_then(|f| f.ty.shape())
                .and_then(|s| s.last().cloned())
                .unwrap_or(Dim::Unknown);
            match x.and_then(|f| f.ty.shape()) {
                Some(s) if s.len() >= 2 => {
                    let mut d = s.to_vec();
                    *d.last_mut().unwrap_or(&mut Dim::Unknown) = picked;
                    vec![tensor(elem, d)]
                }
                Some(_) => vec![tensor(elem, vec![Dim::Known(1), picked])],
                None => vec![Fact::of(ValueType::tensor_unranked(elem))],
            }
        }
        "FeatureVectorizer" => {
            let total: i64 = attr::ints(at.node, "inputdimensions").map_or(0, |v| v.iter().sum());
            vec![tensor(DataType::Float as i32, vec![rows(x), count(total)])]
        }
        "DictVectorizer" => {
            let v = attr::ints(at.node, "int64_vocabulary")
                .map_or(0, |v| v.len())
                .max(attr::strings_len(at.node, "string_vocabulary"));
            vec![tensor(0, vec![Dim::Unknown, Dim::Known(v as i64)])]
        }
        _ => return None,
    })
}
