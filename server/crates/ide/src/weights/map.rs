//! The `--map` file that says which array goes into which initializer, and
//! `weights map`, which proposes one by shape, order and name similarity.
//!
//! A map is a JSON object keyed by array name. Each value is either the
//! initializer's name, or an object with `initializer` and optional
//! `transpose` (2-D arrays only: Keras stores a Dense kernel as `[in, out]`,
//! ONNX `Gemm` with `transB=1` wants `[out, in]`):
//!
//! ```json
//! {"arr_0": {"initializer": "fc1.weight", "transpose": true}, "arr_1": "fc1.bias"}
//! ```
//! Arrays the map does not name are left out of the import.

use super::npz_dtype;
use neuride_npz::{Archive, ElementType};
use neuride_onnx::proto::ModelProto;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapEntry {
    pub initializer: String,
    pub transpose: bool,
}

/// Array name -> where it goes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct WeightMap {
    pub entries: BTreeMap<String, MapEntry>,
}

impl WeightMap {
    /// Parses a map file; the error says which key is wrong and why.
    pub fn parse(json: &str) -> Result<WeightMap, String> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("map is not valid JSON: {e}"))?;
        let object = value
            .as_object()
            .ok_or("map must be a JSON object keyed by array name")?;
        let mut entries = BTreeMap::new();
        for (array, target) in object {
            let entry = match target {
                serde_json::Value::String(initializer) => MapEntry {
                    initializer: initializer.clone(),
                    transpose: false,
                },
                serde_json::Value::Object(fields) => {
                    if let Some(unknown) = fields
                        .keys()
                        .find(|k| *k != "initializer" && *k != "transpose")
                    {
                        return Err(format!(
                            "map entry '{array}': unknown key '{unknown}' (expected \"initializer\" and \"transpose\")"
                        ));
                    }
                    let initializer = fields
                        .get("initializer")
                        .and_then(|v| v.as_str())
                        .ok_or_else(|| {
                            format!("map entry '{array}': \"initializer\" (a string) is required")
                        })?;
                    let transpose = match fields.get("transpose") {
                        None => false,
                        Some(serde_json::Value::Bool(b)) => *b,
                        Some(other) => {
                            return Err(format!(
                                "map entry '{array}': \"transpose\" must be true or false, found {other}"
                            ));
                        }
                    };
                    MapEntry {
                        initializer: initializer.to_owned(),
                        transpose,
                    }
                }
                other => {
                    return Err(format!(
                        "map entry '{array}': expected an initializer name or an object, found {other}"
                    ));
                }
            };
            entries.insert(array.clone(), entry);
        }
        Ok(WeightMap { entries })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a map always serializes")
    }
}

struct Candidate {
    array_index: usize,
    initializer_index: usize,
    transpose: bool,
    score: f64,
}

/// Proposes a map: every (array, initializer) pair with the same dtype and
/// the same shape (or the transposed shape, for 2-D) is a candidate, scored
/// by name similarity and by how close their positions are; the best pairs
/// are taken greedily, each array and initializer at most once. Arrays named
/// `arr_<n>` (NengoDL/Keras) feeding a `Gemm` with `transB=1` are transposed.
pub fn propose_map(model: &ModelProto, archive: &Archive<'_>) -> WeightMap {
    let initializers = super::initializers(model);
    let transposed_b = gemm_transposed_weights(model);
    let arrays: Vec<(&str, neuride_npz::DType, &[u64])> = archive
        .entries
        .iter()
        .filter_map(|e| match e.header.as_ref().ok()?.element {
            ElementType::Numeric { dtype, .. } => Some((
                e.name.as_str(),
                dtype,
                e.header.as_ref().ok()?.shape.as_slice(),
            )),
            _ => None,
        })
        .collect();
    let mut candidates = Vec::new();
    for (array_index, (array_name, dtype, shape)) in arrays.iter().enumerate() {
        let keras = is_positional(array_name);
        for (initializer_index, tensor) in initializers.iter().enumerate() {
            if npz_dtype(tensor.data_type()) != Some(*dtype) {
                continue;
            }
            let dims: Vec<u64> = tensor.dims.iter().map(|&d| d.max(0) as u64).collect();
            let same = dims.as_slice() == *shape;
            let transposed = shape.len() == 2 && dims == [shape[1], shape[0]];
            let wants_transpose = keras && transposed && transposed_b.contains(&tensor.name());
            let transpose = if wants_transpose {
                true
            } else if same {
                false
            } else if transposed {
                true
            } else {
                continue;
            };
            let order = 1.0
                - (array_index as f64 / arrays.len().max(1) as f64
                    - initializer_index as f64 / initializers.len().max(1) as f64)
                    .abs();
            let name = similarity(array_name, tensor.name());
            let score = 2.0 * name + order + if transpose { 0.0 } else { 0.1 };
            candidates.push(Candidate {
                array_index,
                initializer_index,
                transpose,
                score,
            });
        }
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.array_index.cmp(&b.array_index))
    });
    let mut array_taken = vec![false; arrays.len()];
    let mut initializer_taken = vec![false; initializers.len()];
    let mut map = WeightMap::default();
    for candidate in candidates {
        if array_taken[candidate.array_index] || initializer_taken[candidate.initializer_index] {
            continue;
        }
        array_taken[candidate.array_index] = true;
        initializer_taken[candidate.initializer_index] = true;
        map.entries.insert(
            arrays[candidate.array_index].0.to_owned(),
            MapEntry {
                initializer: initializers[candidate.initializer_index].name().to_owned(),
                transpose: candidate.transpose,
            },
        );
    }
    map
}

/// `arr_0`, `arr_12`: numpy's names for positional `savez` arguments.
fn is_positional(name: &str) -> bool {
    name.strip_prefix("arr_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Initializers used as input B of a `Gemm` with `transB=1` (`[out, in]`).
fn gemm_transposed_weights(model: &ModelProto) -> Vec<&str> {
    let nodes = model
        .graph
        .as_ref()
        .map(|g| g.node.as_slice())
        .unwrap_or(&[]);
    nodes
        .iter()
        .filter(|n| n.op_type() == "Gemm")
        .filter(|n| {
            n.attribute
                .iter()
                .any(|a| a.name() == "transB" && a.i() == 1)
        })
        .filter_map(|n| n.input.get(1).map(String::as_str))
        .collect()
}

/// Normalized Levenshtein similarity (1 = equal) of the names with
/// separators and case ignored, so `dense_1/kernel` resembles `dense_1.kernel`.
fn similarity(a: &str, b: &str) -> f64 {
    let clean = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<Vec<_>>()
    };
    let (a, b) = (clean(a), clean(b));
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    // Two-row dynamic programme over edit distance.
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    1.0 - previous[b.len()] as f64 / longest as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_both_forms_and_names_errors() {
        let map = WeightMap::parse(
            r#"{"arr_0": {"initializer": "fc1.weight", "transpose": true}, "arr_1": "fc1.bias"}"#,
        )
        .unwrap();
        assert_eq!(
            map.entries["arr_0"],
            MapEntry {
                initializer: "fc1.weight".into(),
                transpose: true
            }
        );
        assert_eq!(
            map.entries["arr_1"],
            MapEntry {
                initializer: "fc1.bias".into(),
                transpose: false
            }
        );
        assert_eq!(
            WeightMap::parse(r#"{"arr_0": {"init": "x"}}"#).unwrap_err(),
            "map entry 'arr_0': unknown key 'init' (expected \"initializer\" and \"transpose\")"
        );
        assert!(WeightMap::parse("[1]").is_err());
        assert_eq!(WeightMap::parse(&map.to_json()).unwrap(), map);
    }

    #[test]
    fn similarity_ignores_separators() {
        assert_eq!(similarity("dense_1/kernel", "dense_1.kernel"), 1.0);
        assert!(similarity("fc1.weight", "fc1.bias") > similarity("fc1.weight", "arr_3"));
        assert!(is_positional("arr_10") && !is_positional("arr_") && !is_positional("arr_x"));
    }
}
