//! Tensors to and from `.npy`/`.npz` bytes through `neuride-npz`, the
//! workspace's one NPY/NPZ codec: inference reads what `info` and
//! `simulate` read (Fortran order, big-endian, deflated entries, zip64), and
//! only the mapping between numpy dtypes and [`Data`] lives here.

use crate::error::Error;
use crate::value::{Data, Tensor};
use neuride_npz::{Array, DType, ElementType, Entry, NpzError, NpzWriter, StringArray};

/// A file that cannot be read or written as NPY/NPZ.
fn format_error(e: impl std::fmt::Display) -> Error {
    Error::Format(e.to_string())
}

/// Every array of an `.npz` archive, in archive order.
pub(crate) fn read_npz(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, Error> {
    let archive = neuride_npz::list(bytes).map_err(format_error)?;
    archive
        .entries
        .iter()
        .map(|entry| {
            let tensor = entry_tensor(entry)
                .map_err(|e| Error::Format(format!("npz entry '{}': {e}", entry.name)))?;
            Ok((entry.name.clone(), tensor))
        })
        .collect()
}

fn entry_tensor(entry: &Entry<'_>) -> Result<Tensor, Error> {
    let header = entry.header.as_ref().map_err(format_error)?;
    if let ElementType::Unicode { .. } = header.element {
        return strings_tensor(entry.read_strings().map_err(format_error)?);
    }
    // The zip reader inference used before checked every entry's CRC; keep
    // that: the data is read in full anyway, to convert it.
    entry.verify_crc().map_err(format_error)?;
    array_tensor(&entry.read().map_err(format_error)?)
}

/// One `.npy` file.
pub(crate) fn read_npy(bytes: &[u8]) -> Result<Tensor, Error> {
    let header = neuride_npz::npy::parse_header(bytes).map_err(format_error)?;
    if let ElementType::Unicode { .. } = header.element {
        return strings_tensor(
            neuride_npz::read_npy_strings(bytes, "array").map_err(format_error)?,
        );
    }
    array_tensor(&neuride_npz::read_npy(bytes, "array").map_err(format_error)?)
}

fn shape_of(shape: &[u64]) -> Result<Vec<usize>, Error> {
    shape
        .iter()
        .map(|&d| {
            usize::try_from(d)
                .map_err(|_| Error::Format(format!("dimension {d} does not fit in memory")))
        })
        .collect()
}

fn strings_tensor(array: StringArray) -> Result<Tensor, Error> {
    Ok(Tensor {
        shape: shape_of(&array.shape)?,
        data: Data::Str(array.values),
    })
}

/// Every numpy dtype keeps its type (complex numbers are refused).
fn array_tensor(array: &Array<'_>) -> Result<Tensor, Error> {
    let shape = shape_of(&array.shape)?;
    let error = |e: NpzError| format_error(e);
    let data = match array.dtype {
        DType::Float32 => Data::F32(array.to_vec().map_err(error)?),
        DType::Float64 => Data::F64(array.to_vec().map_err(error)?),
        DType::Int64 => Data::I64(array.to_vec().map_err(error)?),
        DType::Int32 => Data::I32(array.to_vec().map_err(error)?),
        DType::Int16 => Data::I16(array.to_vec().map_err(error)?),
        DType::Int8 => Data::I8(array.to_vec().map_err(error)?),
        DType::Uint64 => Data::U64(array.to_vec().map_err(error)?),
        DType::Uint32 => Data::U32(array.to_vec().map_err(error)?),
        DType::Uint16 => Data::U16(array.to_vec().map_err(error)?),
        DType::Uint8 => Data::U8(array.to_vec().map_err(error)?),
        DType::Bool => Data::Bool(array.to_vec().map_err(error)?),
        // float16 has no Rust primitive for `to_vec`: read its bytes.
        DType::Float16 => Data::F16(
            array
                .to_c_order_le()
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ),
        DType::Complex64 | DType::Complex128 => {
            return Err(Error::Format(format!(
                "npy dtype {} is not supported (complex numbers have no ONNX tensor type here)",
                array.dtype.numpy_name()
            )));
        }
    };
    Ok(Tensor { shape, data })
}

/// One `.npy` file for a tensor, C order, little-endian. Fails only for a
/// tensor whose data does not fill its shape.
fn npy_bytes(tensor: &Tensor) -> Result<Vec<u8>, NpzError> {
    let shape: Vec<u64> = tensor.shape.iter().map(|&d| d as u64).collect();
    let dtype = match &tensor.data {
        Data::Str(v) => {
            let strings = StringArray::new(shape, v.clone())?;
            return Ok(neuride_npz::write_npy_strings(&strings));
        }
        Data::F32(_) => DType::Float32,
        Data::F64(_) => DType::Float64,
        Data::F16(_) => DType::Float16,
        Data::I64(_) => DType::Int64,
        Data::I32(_) => DType::Int32,
        Data::I16(_) => DType::Int16,
        Data::I8(_) => DType::Int8,
        Data::U64(_) => DType::Uint64,
        Data::U32(_) => DType::Uint32,
        Data::U16(_) => DType::Uint16,
        Data::U8(_) => DType::Uint8,
        Data::Bool(_) => DType::Bool,
        // numpy has no bfloat16 or 8/4/2-bit types: written as float32.
        other => {
            let values = other.to_f32().unwrap_or_default();
            return Ok(neuride_npz::write_npy(&Array::from_f32(shape, &values)?));
        }
    };
    let data = crate::tensor_proto::raw_bytes(&tensor.data).unwrap_or_default();
    Ok(neuride_npz::write_npy(&Array::new(dtype, shape, data)?))
}

/// Tensors as an uncompressed `.npz`, one `<name>.npy` entry each.
pub(crate) fn write_npz(arrays: &[(String, Tensor)]) -> Result<Vec<u8>, Error> {
    let mut writer = NpzWriter::new(Vec::new(), neuride_npz::WriteOptions::stored());
    for (name, tensor) in arrays {
        let npy = npy_bytes(tensor).map_err(|e| Error::Format(format!("output '{name}': {e}")))?;
        // Output names come from the model and may hold '/' (TensorFlow
        // exports: "dense/BiasAdd:0"); numpy's savez writes them as given,
        // so this does too rather than refuse them as `add` would.
        writer
            .add_raw(&format!("{name}.npy"), &npy)
            .map_err(|e| Error::Format(format!("output '{name}': {e}")))?;
    }
    writer.finish().map_err(format_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensors() -> Vec<Tensor> {
        vec![
            Tensor::new(vec![2, 2], vec![1.5f32, -2.0, 0.0, 3.25]).unwrap(),
            Tensor::new(vec![3], vec![1i64, -7, 9]).unwrap(),
            Tensor::new(vec![], vec![2.5f64]).unwrap(),
            Tensor::new(vec![2], vec![-3i32, 4]).unwrap(),
            Tensor::new(vec![2], vec![0u8, 255]).unwrap(),
            Tensor::new(vec![2], vec![-128i8, 127]).unwrap(),
            Tensor::new(vec![2], vec![-3i16, 300]).unwrap(),
            Tensor::new(vec![2], vec![u64::MAX, 1]).unwrap(),
            Tensor::new(vec![2], vec![70000u32, 1]).unwrap(),
            Tensor::new(vec![2], vec![half::f16::from_f32(0.5), half::f16::MAX]).unwrap(),
            Tensor::new(vec![2], vec![true, false]).unwrap(),
            Tensor::new(vec![2], vec!["ab".to_owned(), "é".to_owned()]).unwrap(),
            Tensor::new(vec![0, 3], Vec::<f32>::new()).unwrap(),
        ]
    }

    #[test]
    fn npy_round_trips_every_dtype() {
        for t in tensors() {
            assert_eq!(read_npy(&npy_bytes(&t).unwrap()).unwrap(), t);
        }
    }

    #[test]
    fn npz_round_trips_every_dtype_in_order() {
        let named: Vec<(String, Tensor)> = tensors()
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("out/{i}"), t))
            .collect();
        assert_eq!(read_npz(&write_npz(&named).unwrap()).unwrap(), named);
    }

    #[test]
    fn truncated_npy_is_an_error() {
        let bytes = npy_bytes(&Tensor::new(vec![4], vec![1.0f32; 4]).unwrap()).unwrap();
        for cut in 0..bytes.len() {
            assert!(read_npy(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn fortran_order_reads_as_c_order() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let columns: Vec<u8> = [1f64, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let array = Array {
            fortran_order: true,
            ..Array::new(DType::Float64, vec![2, 3], columns).unwrap()
        };
        let tensor = read_npy(&neuride_npz::write_npy(&array)).unwrap();
        assert_eq!(
            tensor,
            Tensor::new(vec![2, 3], vec![1f64, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap()
        );
    }

    #[test]
    fn narrow_integers_and_halves_keep_their_type_and_complex_is_refused() {
        let u16s: Vec<u8> = [7u16, 65535].iter().flat_map(|v| v.to_le_bytes()).collect();
        let array = Array::new(DType::Uint16, vec![2], u16s).unwrap();
        assert_eq!(
            read_npy(&neuride_npz::write_npy(&array)).unwrap(),
            Tensor::new(vec![2], vec![7u16, 65535]).unwrap()
        );
        let half = Array::new(DType::Float16, vec![1], vec![0, 0x3c]).unwrap();
        assert_eq!(
            read_npy(&neuride_npz::write_npy(&half)).unwrap(),
            Tensor::new(vec![1], vec![half::f16::ONE]).unwrap()
        );
        let complex = Array::new(DType::Complex64, vec![1], vec![0; 8]).unwrap();
        let error = read_npy(&neuride_npz::write_npy(&complex)).unwrap_err();
        assert!(
            error.to_string().contains("complex64 is not supported"),
            "{error}"
        );
    }
}
