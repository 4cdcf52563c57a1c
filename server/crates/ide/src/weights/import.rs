//! Archive -> model: replace initializers by name (or through a map), after
//! checking every pairing; any mismatch means nothing is changed.

use super::map::{MapEntry, WeightMap};
use super::{WeightProblem, npz_dtype};
use neuride_npz::Archive;
use neuride_onnx::dtype::onnx_name;
use neuride_onnx::proto::ModelProto;
use neuride_onnx::proto::tensor_proto::DataLocation;
use serde::Serialize;

/// What an import did (it succeeded) — for the CLI to print.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Initializers that got new data.
    pub replaced: Vec<String>,
    /// Initializers no array went into (they keep their values).
    pub kept: Vec<String>,
    /// Warnings: arrays that went nowhere.
    pub warnings: Vec<WeightProblem>,
}

/// Replaces initializers of `model` with arrays of `archive`. Without a
/// map an array goes into the initializer of the same name (PyTorch's
/// `fc1.weight` is the name its exporter keeps). Every problem (unknown
/// names, dtype or shape mismatches, unreadable arrays, nothing matched) is
/// listed together and `model` is left untouched.
pub fn import(
    model: &mut ModelProto,
    archive: &Archive<'_>,
    map: Option<&WeightMap>,
) -> Result<ImportReport, Vec<WeightProblem>> {
    let initializers = super::initializers(model);
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    // (array name, target) pairs in archive order.
    let mut pairs: Vec<(String, MapEntry)> = Vec::new();
    match map {
        Some(map) => {
            for (array, entry) in &map.entries {
                if archive.entry(array).is_none() {
                    problems.push(
                        WeightProblem::error(
                            "weights/missing-array",
                            format!("the map names array '{array}', which is not in the archive"),
                        )
                        .about(Some(&entry.initializer), Some(array)),
                    );
                    continue;
                }
                pairs.push((array.clone(), entry.clone()));
            }
            for name in archive.names() {
                if !map.entries.contains_key(name) {
                    warnings.push(
                        WeightProblem::warning(
                            "weights/unused-array",
                            format!("array '{name}' is not in the map; not imported"),
                        )
                        .about(None, Some(name)),
                    );
                }
            }
        }
        None => {
            for name in archive.names() {
                if initializers.iter().any(|t| t.name() == name) {
                    pairs.push((
                        name.to_owned(),
                        MapEntry {
                            initializer: name.to_owned(),
                            transpose: false,
                        },
                    ));
                } else {
                    warnings.push(
                        WeightProblem::warning(
                            "weights/unused-array",
                            format!("array '{name}' matches no initializer; not imported"),
                        )
                        .about(None, Some(name)),
                    );
                }
            }
        }
    }
    let mut seen_targets = std::collections::HashMap::new();
    let mut replacements = Vec::with_capacity(pairs.len());
    for (array_name, target) in &pairs {
        if let Some(previous) = seen_targets.insert(target.initializer.clone(), array_name.clone())
        {
            problems.push(
                WeightProblem::error(
                    "weights/duplicate-target",
                    format!(
                        "arrays '{previous}' and '{array_name}' both go into initializer '{}'",
                        target.initializer
                    ),
                )
                .about(Some(&target.initializer), Some(array_name)),
            );
            continue;
        }
        let Some(index) = initializers
            .iter()
            .position(|t| t.name() == target.initializer)
        else {
            problems.push(WeightProblem::error("weights/unknown-initializer", format!("array '{array_name}' is mapped to initializer '{}', which the model does not have", target.initializer)).about(Some(&target.initializer), Some(array_name)));
            continue;
        };
        let tensor = &initializers[index];
        let array = match archive
            .array(array_name)
            .and_then(|a| a.to_standard(target.transpose))
        {
            Ok(array) => array,
            Err(error) => {
                problems.push(
                    WeightProblem::error(
                        "weights/unreadable",
                        format!("array '{array_name}': {error}"),
                    )
                    .about(Some(tensor.name()), Some(array_name)),
                );
                continue;
            }
        };
        let wanted_dtype = npz_dtype(tensor.data_type());
        if wanted_dtype != Some(array.dtype) {
            problems.push(
                WeightProblem::error(
                    "weights/dtype-mismatch",
                    format!(
                        "array '{array_name}' is {}, initializer '{}' is {}",
                        array.dtype.numpy_name(),
                        tensor.name(),
                        onnx_name(tensor.data_type())
                    ),
                )
                .about(Some(tensor.name()), Some(array_name)),
            );
            continue;
        }
        let dims: Vec<u64> = tensor.dims.iter().map(|&d| d.max(0) as u64).collect();
        if dims != array.shape {
            let transposed = if target.transpose {
                " after transposing"
            } else {
                ""
            };
            problems.push(WeightProblem::error("weights/shape-mismatch", format!(
                    "array '{array_name}' has shape {:?}{transposed}, initializer '{}' has {:?}",
                    array.shape,
                    tensor.name(),
                    dims
                )).about(Some(tensor.name()), Some(array_name)));
            continue;
        }
        replacements.push((index, array.data.into_owned()));
    }
    if replacements.is_empty() && problems.is_empty() {
        problems.push(WeightProblem::error("weights/no-match", "no array matches an initializer by name; positional archives (arr_0, arr_1, ... as NengoDL saves them) need --map (see `neuride weights map`)"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let graph = model.graph.as_mut().expect("replacements imply a graph");
    let mut replaced = Vec::with_capacity(replacements.len());
    for (index, data) in replacements {
        let tensor = &mut graph.initializer[index];
        // raw_data holds little-endian bytes for every numeric type; the typed
        // fields and any external reference are cleared so only it remains.
        tensor.raw_data = Some(data.into());
        tensor.float_data.clear();
        tensor.int32_data.clear();
        tensor.int64_data.clear();
        tensor.double_data.clear();
        tensor.uint64_data.clear();
        tensor.external_data.clear();
        if tensor.data_location == Some(DataLocation::External as i32) {
            tensor.data_location = Some(DataLocation::Default as i32);
        }
        replaced.push(tensor.name().to_owned());
    }
    let kept = graph
        .initializer
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|n| !replaced.contains(n))
        .collect();
    Ok(ImportReport {
        replaced,
        kept,
        warnings,
    })
}
