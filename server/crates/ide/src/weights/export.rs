//! Model -> archive: every initializer of the main graph as an array of the
//! same name, dtype and shape (external data included).

use super::{WeightProblem, npz_dtype};
use neuride_npz::{Array, NpzWriter, WriteOptions};
use neuride_onnx::dtype::onnx_name;
use neuride_onnx::load::{ModelDir, tensor_bytes};
use neuride_onnx::proto::ModelProto;

/// Writes every initializer into an `.npz`. `dir` resolves external data
/// (pass the model's folder). Any initializer that cannot be exported (no
/// numpy dtype, unreadable external file, bad size) is listed and nothing
/// is produced.
pub fn export(
    model: &ModelProto,
    dir: Option<&ModelDir>,
    options: WriteOptions,
) -> Result<Vec<u8>, Vec<WeightProblem>> {
    let initializers = super::initializers(model);
    let mut problems = Vec::new();
    let mut payloads = Vec::with_capacity(initializers.len());
    for tensor in initializers {
        let name = tensor.name();
        let Some(dtype) = npz_dtype(tensor.data_type()) else {
            problems.push(
                WeightProblem::error(
                    "weights/unsupported-dtype",
                    format!(
                        "initializer '{name}' has element type {}, which numpy cannot store",
                        onnx_name(tensor.data_type())
                    ),
                )
                .about(Some(name), None),
            );
            continue;
        };
        match tensor_bytes(tensor, dir) {
            // Keep the bytes (views into the model's map) and build borrowed arrays below.
            Ok(bytes) => payloads.push((
                name.to_owned(),
                dtype,
                tensor.dims.iter().map(|&d| d as u64).collect::<Vec<_>>(),
                bytes.bytes,
            )),
            Err(error) => problems.push(
                WeightProblem::error("weights/unreadable", error.to_string())
                    .about(Some(name), None),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut writer = NpzWriter::new(Vec::new(), options);
    for (name, dtype, shape, bytes) in &payloads {
        let added = Array::new(*dtype, shape.clone(), &bytes[..])
            .map_err(|e| e.to_string())
            .and_then(|array| writer.add(name, &array).map_err(|e| e.to_string()));
        if let Err(error) = added {
            problems.push(
                WeightProblem::error("weights/bad-name", format!("initializer '{name}': {error}"))
                    .about(Some(name), None),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    writer
        .finish()
        .map_err(|error| vec![WeightProblem::error("weights/write", error.to_string())])
}
