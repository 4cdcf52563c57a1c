//! Tensors to and from `.npy`/`.npz` bytes through `neuride-npz`, the
//! workspace's one NPY/NPZ codec: inference reads what `info` and
//! `simulate` read (Fortran order, big-endian, deflated entries, zip64), and
//! only the mapping between numpy dtypes and [`Data`] lives here.

use crate::value::{Data, Tensor};
use neuride_npz::{Array, DType, ElementType, Entry, NpzError, NpzWriter, StringArray};

/// Every array of an `.npz` archive, in archive order.
pub(crate) fn read_npz(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    let archive = neuride_npz::list(bytes).map_err(|e| e.to_string())?;
    archive
        .entries
        .iter()
        .map(|entry| {
            let tensor =
                entry_tensor(entry).map_err(|e| format!("npz entry '{}': {e}", entry.name))?;
            Ok((entry.name.clone(), tensor))
        })
        .collect()
}

fn entry_tensor(entry: &Entry<'_>) -> Result<Tensor, String> {
    let header = entry.header.as_ref().map_err(|e| e.to_string())?;
    if let ElementType::Unicode { .. } = header.element {
        return strings_tensor(entry.read_strings().map_err(|e| e.to_string())?);
    }
    // The zip reader inference used before checked every entry's CRC; keep
    // that: the data is read in full anyway, to convert it.
    entry.verify_crc().map_err(|e| e.to_string())?;
    array_tensor(&entry.read().map_err(|e| e.to_string())?)
}

/// One `.npy` file.
pub(crate) fn read_npy(bytes: &[u8]) -> Result<Tensor, String> {
    let header = neuride_npz::npy::parse_header(bytes).map_err(|e| e.to_string())?;
    if let ElementType::Unicode { .. } = header.element {
        return strings_tensor(
            neuride_npz::read_npy_strings(bytes, "array").map_err(|e| e.to_string())?,
        );
    }
    array_tensor(&neuride_npz::read_npy(bytes, "array").map_err(|e| e.to_string())?)
}

fn shape_of(shape: &[u64]) -> Result<Vec<usize>, String> {
    shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d} does not fit in memory")))
        .collect()
}

fn strings_tensor(array: StringArray) -> Result<Tensor, String> {
    Ok(Tensor {
        shape: shape_of(&array.shape)?,
        data: Data::Str(array.values),
    })
}

/// The element types inference computes in keep their type; the integer
/// types it does not carry widen to int64 (losslessly but for uint64 above
/// 2^63, which wraps as numpy's `astype` does).
fn array_tensor(array: &Array<'_>) -> Result<Tensor, String> {
    let shape = shape_of(&array.shape)?;
    let error = |e: NpzError| e.to_string();
    let data = match array.dtype {
        DType::Float32 => Data::F32(array.to_vec().map_err(error)?),
        DType::Float64 => Data::F64(array.to_vec().map_err(error)?),
        DType::Int64 => Data::I64(array.to_vec().map_err(error)?),
        DType::Int32 => Data::I32(array.to_vec().map_err(error)?),
        DType::Uint8 => Data::U8(array.to_vec().map_err(error)?),
        DType::Int8 => Data::I8(array.to_vec().map_err(error)?),
        DType::Bool => Data::Bool(array.to_vec().map_err(error)?),
        DType::Int16 | DType::Uint16 | DType::Uint32 | DType::Uint64 => {
            Data::I64(array.to_i64_vec().map_err(error)?)
        }
        DType::Float16 | DType::Complex64 | DType::Complex128 => {
            return Err(format!(
                "npy dtype {} is not supported (float32, float64, the integer types, bool and unicode strings are)",
                array.dtype.numpy_name()
            ));
        }
    };
    Ok(Tensor { shape, data })
}

/// One `.npy` file for a tensor, C order, little-endian. Fails only for a
/// tensor whose data does not fill its shape.
fn npy_bytes(tensor: &Tensor) -> Result<Vec<u8>, NpzError> {
    let shape: Vec<u64> = tensor.shape.iter().map(|&d| d as u64).collect();
    let (dtype, data): (DType, Vec<u8>) = match &tensor.data {
        Data::F32(v) => (
            DType::Float32,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::F64(v) => (
            DType::Float64,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::I64(v) => (
            DType::Int64,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::I32(v) => (
            DType::Int32,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Data::U8(v) => (DType::Uint8, v.clone()),
        Data::I8(v) => (DType::Int8, v.iter().map(|&x| x as u8).collect()),
        Data::Bool(v) => (DType::Bool, v.iter().map(|&x| x as u8).collect()),
        Data::Str(v) => {
            let strings = StringArray::new(shape, v.clone())?;
            return Ok(neuride_npz::write_npy_strings(&strings));
        }
    };
    Ok(neuride_npz::write_npy(&Array::new(dtype, shape, data)?))
}

/// Tensors as an uncompressed `.npz`, one `<name>.npy` entry each.
pub(crate) fn write_npz(arrays: &[(String, Tensor)]) -> Result<Vec<u8>, String> {
    let mut writer = NpzWriter::new(Vec::new(), neuride_npz::WriteOptions::stored());
    for (name, tensor) in arrays {
        let npy = npy_bytes(tensor).map_err(|e| format!("output '{name}': {e}"))?;
        // Output names come from the model and may hold '/' (TensorFlow
        // exports: "dense/BiasAdd:0"); numpy's savez writes them as given,
        // so this does too rather than refuse them as `add` would.
        writer
            .add_raw(&format!("{name}.npy"), &npy)
            .map_err(|e| format!("output '{name}': {e}"))?;
    }
    writer.finish().map_err(|e| e.to_string())
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
    fn narrow_integers_widen_and_halves_are_refused() {
        let u16s: Vec<u8> = [7u16, 65535].iter().flat_map(|v| v.to_le_bytes()).collect();
        let array = Array::new(DType::Uint16, vec![2], u16s).unwrap();
        assert_eq!(
            read_npy(&neuride_npz::write_npy(&array)).unwrap(),
            Tensor::new(vec![2], vec![7i64, 65535]).unwrap()
        );
        let half = Array::new(DType::Float16, vec![1], vec![0, 0x3c]).unwrap();
        let error = read_npy(&neuride_npz::write_npy(&half)).unwrap_err();
        assert!(error.contains("float16 is not supported"), "{error}");
    }
}
