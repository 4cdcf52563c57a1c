//! Pairing a model with the archive beside it (`X.onnx` + `X.npz`): arrays
//! whose shape or dtype differs from the same-named initializer, and
//! initializers the archive has no array for.

use super::{WeightProblem, npz_dtype};
use neuride_npz::{Archive, ElementType};
use neuride_onnx::dtype::onnx_name;
use neuride_onnx::proto::ModelProto;

/// Compares by name; reads only the archive's headers.
pub fn compare(model: &ModelProto, archive: &Archive<'_>) -> Vec<WeightProblem> {
    let initializers = super::initializers(model);
    let mut problems = Vec::new();
    for tensor in initializers {
        let name = tensor.name();
        let Some(entry) = archive.entry(name) else {
            problems.push(
                WeightProblem::warning(
                    "weights/missing-array",
                    format!("initializer '{name}' has no array of that name in the archive"),
                )
                .about(Some(name), None),
            );
            continue;
        };
        let Ok(header) = &entry.header else { continue };
        let dims: Vec<u64> = tensor.dims.iter().map(|&d| d.max(0) as u64).collect();
        if header.shape != dims {
            problems.push(
                WeightProblem::error(
                    "weights/shape-mismatch",
                    format!(
                        "array '{name}' has shape {:?}, the initializer has {:?}",
                        header.shape, dims
                    ),
                )
                .about(Some(name), Some(name)),
            );
        }
        if let ElementType::Numeric { dtype, .. } = header.element
            && npz_dtype(tensor.data_type()) != Some(dtype)
        {
            problems.push(
                WeightProblem::error(
                    "weights/dtype-mismatch",
                    format!(
                        "array '{name}' is {}, the initializer is {}",
                        dtype.numpy_name(),
                        onnx_name(tensor.data_type())
                    ),
                )
                .about(Some(name), Some(name)),
            );
        }
    }
    problems
}
