//! Tensor rules (onnx's `check_tensor` and `check_sparse_tensor`), plus the
//! size checks onnx leaves to runtimes: data length against dims and type.
//! Sizes are computed with overflow checks and never allocate by dims.

use super::{Checker, codes};
use crate::diagnostic::Anchor;
use crate::dtype;
use crate::load::{ExternalData, ExternalDataError, element_count};
use crate::proto::tensor_proto::{DataLocation, DataType};
use crate::proto::{SparseTensorProto, TensorProto};

/// The typed field onnx.proto assigns to an element type, and how many
/// entries `count` elements take there.
fn typed_field(data_type: DataType, count: u64) -> Option<(&'static str, u64)> {
    use DataType::*;
    Some(match data_type {
        Float => ("float_data", count),
        Complex64 => ("float_data", count.checked_mul(2)?),
        Double => ("double_data", count),
        Complex128 => ("double_data", count.checked_mul(2)?),
        Int64 => ("int64_data", count),
        Uint32 | Uint64 => ("uint64_data", count),
        String => ("string_data", count),
        Int4 | Uint4 | Float4e2m1 => ("int32_data", count.div_ceil(2)),
        Int2 | Uint2 => ("int32_data", count.div_ceil(4)),
        Undefined => return None,
        _ => ("int32_data", count),
    })
}

impl Checker<'_, '_> {
    /// Checks one tensor; `what` names it in messages ("initializer 'W'").
    /// Returns its element count when dims are valid.
    pub(crate) fn check_tensor(
        &mut self,
        tensor: &TensorProto,
        anchor: &Anchor,
        what: &dyn std::fmt::Display,
    ) -> Option<u64> {
        let data_type = match tensor.data_type {
            None | Some(0) => {
                let message = format!(
                    "{what}: data_type is not set (UNDEFINED): an element type such as FLOAT was expected"
                );
                self.error(codes::TENSOR_DATA_TYPE, anchor.clone(), message);
                None
            }
            Some(value) => match DataType::try_from(value) {
                Ok(data_type) => Some(data_type),
                Err(_) => {
                    let message = format!(
                        "{what}: data_type {value} is not a TensorProto.DataType (1..=27 expected)"
                    );
                    self.error(codes::TENSOR_DATA_TYPE, anchor.clone(), message);
                    None
                }
            },
        };
        let fields: [(&str, bool); 7] = [
            ("float_data", !tensor.float_data.is_empty()),
            ("int32_data", !tensor.int32_data.is_empty()),
            ("string_data", !tensor.string_data.is_empty()),
            ("int64_data", !tensor.int64_data.is_empty()),
            (
                "raw_data",
                tensor.raw_data.as_ref().is_some_and(|r| !r.is_empty()),
            ),
            ("double_data", !tensor.double_data.is_empty()),
            ("uint64_data", !tensor.uint64_data.is_empty()),
        ];
        let used: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
        let count = match element_count(tensor.name(), &tensor.dims) {
            Ok(count) => Some(count),
            Err(error) => {
                self.error(
                    codes::TENSOR_DIMS,
                    anchor.clone(),
                    format!("{what}: {}", strip_name(&error.to_string())),
                );
                None
            }
        };

        if tensor.data_location == Some(DataLocation::External as i32) {
            if !used.is_empty() {
                let message = format!(
                    "{what}: data is stored externally, yet the tensor also has {}",
                    used.join(", ")
                );
                self.error(codes::TENSOR_DATA_FIELD, anchor.clone(), message);
            }
            let expected = data_type
                .zip(count)
                .and_then(|(t, n)| dtype::byte_len(t as i32, n));
            self.check_external(tensor, anchor, what, expected);
            return count;
        }
        let count = count?;
        if count == 0 {
            if !used.is_empty() {
                let message = format!(
                    "{what}: dims {:?} have 0 elements but the tensor has data in {}",
                    tensor.dims,
                    used.join(", ")
                );
                self.error(codes::TENSOR_SIZE, anchor.clone(), message);
            }
            return Some(count);
        }
        if used.len() != 1 {
            let message = if used.is_empty() {
                format!(
                    "{what}: dims {:?} have {count} elements but no value field holds data",
                    tensor.dims
                )
            } else {
                format!(
                    "{what}: has {} value fields ({}), exactly one was expected",
                    used.len(),
                    used.join(", ")
                )
            };
            self.error(codes::TENSOR_DATA_FIELD, anchor.clone(), message);
            return Some(count);
        }
        let data_type = data_type?;
        let name = dtype::onnx_name(data_type as i32);
        if used[0] == "raw_data" {
            if data_type == DataType::String {
                let message =
                    format!("{what}: string tensors cannot use raw_data; string_data was expected");
                self.error(codes::TENSOR_DATA_FIELD, anchor.clone(), message);
            } else {
                let found = tensor.raw_data.as_ref().map_or(0, |r| r.len() as u64);
                let expected = dtype::byte_len(data_type as i32, count);
                if expected != Some(found) {
                    let expected =
                        expected.map_or_else(|| "more than 2^64".to_owned(), |e| e.to_string());
                    let message = format!(
                        "{what}: raw_data has {found} bytes, dims {:?} x {name} need {expected}",
                        tensor.dims
                    );
                    self.error(codes::TENSOR_SIZE, anchor.clone(), message);
                }
            }
            return Some(count);
        }
        let Some((field, expected)) = typed_field(data_type, count) else {
            return Some(count);
        };
        if used[0] != field {
            let message = format!("{what}: {name} values belong in {field}, found {}", used[0]);
            self.error(codes::TENSOR_DATA_FIELD, anchor.clone(), message);
            return Some(count);
        }
        let found = match field {
            "float_data" => tensor.float_data.len(),
            "double_data" => tensor.double_data.len(),
            "int64_data" => tensor.int64_data.len(),
            "uint64_data" => tensor.uint64_data.len(),
            "string_data" => tensor.string_data.len(),
            _ => tensor.int32_data.len(),
        } as u64;
        if found != expected {
            let message = format!(
                "{what}: {field} has {found} entries, dims {:?} x {name} need {expected}",
                tensor.dims
            );
            self.error(codes::TENSOR_SIZE, anchor.clone(), message);
        }
        Some(count)
    }

    /// External data: a location inside the model's folder, a file that
    /// exists, and a byte range inside it matching the tensor's size.
    fn check_external(
        &mut self,
        tensor: &TensorProto,
        anchor: &Anchor,
        what: &dyn std::fmt::Display,
        expected: Option<u64>,
    ) {
        let external = match ExternalData::of(tensor) {
            Ok(external) => external,
            Err(error) => {
                let code = external_error_code(&error);
                return self.error(code, anchor.clone(), format!("{what}: {error}"));
            }
        };
        let Some(files) = self.ctx().external_files else {
            return;
        };
        let file_len = match files.file_len(&external.location) {
            Ok(len) => len,
            Err(error) => {
                let code = external_error_code(&error);
                return self.error(code, anchor.clone(), format!("{what}: {error}"));
            }
        };
        let length = external
            .length
            .or(expected)
            .unwrap_or_else(|| file_len.saturating_sub(external.offset));
        let end = external.offset.checked_add(length);
        if end.is_none_or(|end| end > file_len) {
            let message = format!(
                "{what}: external data '{}' offset {} + length {length} ends past the end of the file ({file_len} bytes)",
                external.location, external.offset
            );
            return self.error(codes::EXTERNAL_DATA_RANGE, anchor.clone(), message);
        }
        if let (Some(length), Some(expected)) = (external.length, expected)
            && length != expected
        {
            let message = format!(
                "{what}: external data length is {length} bytes, dims {:?} x {} need {expected}",
                tensor.dims,
                dtype::onnx_name(tensor.data_type())
            );
            self.error(codes::TENSOR_SIZE, anchor.clone(), message);
        }
    }

    /// onnx's `check_sparse_tensor`: values of rank 1, positive dense dims,
    /// INT64 indices of shape [NNZ] (linear) or [NNZ, rank] (coordinates),
    /// every index in range and strictly ascending.
    pub(crate) fn check_sparse_tensor(
        &mut self,
        sparse: &SparseTensorProto,
        anchor: &Anchor,
        what: &dyn std::fmt::Display,
    ) {
        let Some(values) = &sparse.values else {
            return self.error(
                codes::SPARSE_TENSOR,
                anchor.clone(),
                format!("{what}: sparse tensor has no values"),
            );
        };
        self.check_tensor(values, anchor, &format_args!("{what} values"));
        let fail = |checker: &mut Self, message: String| {
            checker.error(
                codes::SPARSE_TENSOR,
                anchor.clone(),
                format!("{what}: {message}"),
            )
        };
        if values.dims.len() != 1 {
            return fail(
                self,
                format!(
                    "values must have rank 1 ([NNZ]), found dims {:?}",
                    values.dims
                ),
            );
        }
        let nnz = values.dims[0];
        if sparse.dims.is_empty() {
            return fail(
                self,
                "dense dims are empty: a rank > 0 was expected".to_owned(),
            );
        }
        if sparse.dims.iter().any(|d| *d <= 0) {
            return fail(
                self,
                format!("dense dims {:?} must all be positive", sparse.dims),
            );
        }
        let Some(indices) = &sparse.indices else {
            if nnz != 0 {
                fail(self, format!("has {nnz} values but no indices"));
            }
            return;
        };
        self.check_tensor(indices, anchor, &format_args!("{what} indices"));
        if indices.data_type() != DataType::Int64 as i32 {
            return fail(
                self,
                format!(
                    "indices must be INT64, found {}",
                    dtype::onnx_name(indices.data_type())
                ),
            );
        }
        let rank = sparse.dims.len() as i64;
        match indices.dims.as_slice() {
            [n] if *n != nnz => fail(
                self,
                format!("indices have {n} entries but there are {nnz} values"),
            ),
            [n, r] if *n != nnz || *r != rank => fail(
                self,
                format!(
                    "indices have shape [{n}, {r}], [{nnz}, {rank}] (NNZ, dense rank) was expected"
                ),
            ),
            [_] | [_, _] => self.check_sparse_indices(sparse, indices, nnz as u64, anchor, what),
            dims => fail(
                self,
                format!("indices must have rank 1 or 2, found dims {dims:?}"),
            ),
        }
    }

    fn check_sparse_indices(
        &mut self,
        sparse: &SparseTensorProto,
        indices: &TensorProto,
        nnz: u64,
        anchor: &Anchor,
        what: &dyn std::fmt::Display,
    ) {
        let Some(values) = int64_values(indices) else {
            return;
        };
        let per_entry = if indices.dims.len() == 2 {
            sparse.dims.len()
        } else {
            1
        };
        // A short indices tensor was reported as a size error already.
        let entries = (values.len() / per_entry).min(nnz as usize);
        let dense_size = sparse
            .dims
            .iter()
            .try_fold(1i64, |acc, d| acc.checked_mul(*d));
        let mut previous: Option<i128> = None;
        for entry in 0..entries {
            let coordinates = &values[entry * per_entry..(entry + 1) * per_entry];
            let linear = if per_entry == 1 {
                let index = coordinates[0];
                if index < 0 || dense_size.is_some_and(|size| index >= size) {
                    let message = format!(
                        "{what}: index {index} at position {entry} is outside [0, {})",
                        dense_size.unwrap_or(i64::MAX)
                    );
                    return self.error(codes::SPARSE_INDEX, anchor.clone(), message);
                }
                i128::from(index)
            } else {
                let mut linear = 0i128;
                for (axis, (&index, &dim)) in coordinates.iter().zip(&sparse.dims).enumerate() {
                    if index < 0 || index >= dim {
                        let message = format!(
                            "{what}: index [{entry}, {axis}] is {index}, outside [0, {dim})"
                        );
                        return self.error(codes::SPARSE_INDEX, anchor.clone(), message);
                    }
                    linear = linear
                        .saturating_mul(i128::from(dim))
                        .saturating_add(i128::from(index));
                }
                linear
            };
            if previous.is_some_and(|p| linear <= p) {
                let message = format!(
                    "{what}: index at position {entry} is not after the previous one: indices must be strictly ascending"
                );
                return self.error(codes::SPARSE_INDEX, anchor.clone(), message);
            }
            previous = Some(linear);
        }
    }
}

/// INT64 index values from `int64_data` or little-endian `raw_data`.
fn int64_values(tensor: &TensorProto) -> Option<Vec<i64>> {
    if !tensor.int64_data.is_empty() {
        return Some(tensor.int64_data.clone());
    }
    let raw = tensor.raw_data.as_ref()?;
    Some(
        raw.chunks_exact(8)
            .map(|chunk| i64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])))
            .collect(),
    )
}

fn external_error_code(error: &ExternalDataError) -> &'static str {
    match error {
        ExternalDataError::Absolute(_)
        | ExternalDataError::ParentDir(_)
        | ExternalDataError::SymlinkOutside { .. } => codes::EXTERNAL_DATA_OUTSIDE,
        ExternalDataError::Missing(_)
        | ExternalDataError::NotRegularFile(_)
        | ExternalDataError::Io { .. } => codes::EXTERNAL_DATA_MISSING,
        ExternalDataError::OutOfRange { .. } => codes::EXTERNAL_DATA_RANGE,
        ExternalDataError::NoLocation
        | ExternalDataError::EmptyLocation
        | ExternalDataError::BadNumber { .. }
        | ExternalDataError::NoModelDir => codes::EXTERNAL_DATA_LOCATION,
    }
}

/// Messages from `element_count` start with "tensor 'name': "; the checker
/// names the tensor its own way.
fn strip_name(message: &str) -> &str {
    message.split_once("': ").map_or(message, |(_, rest)| rest)
}
