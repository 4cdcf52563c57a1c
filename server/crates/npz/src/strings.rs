//! numpy's unicode string arrays (`<U8`): every element is `chars` UTF-32
//! code units, NUL-padded. Models with string inputs and outputs (label
//! encoders, category mappers) read and write them; numbers never go
//! through here.

use crate::NpzError;
use crate::array::fortran_to_c;
use crate::dtype::{ByteOrder, ElementType};
use crate::npy::{NpyHeader, header_bytes};

/// A unicode string array, values in C order with numpy's padding removed.
#[derive(Clone, Debug, PartialEq)]
pub struct StringArray {
    pub shape: Vec<u64>,
    pub values: Vec<String>,
}

impl StringArray {
    /// Checks that `values` fill `shape` exactly.
    pub fn new(shape: Vec<u64>, values: Vec<String>) -> Result<StringArray, NpzError> {
        let expected = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .unwrap_or(u64::MAX);
        if expected != values.len() as u64 {
            return Err(NpzError::ElementCount {
                shape,
                expected,
                found: values.len() as u64,
            });
        }
        Ok(StringArray { shape, values })
    }

    /// The width numpy would choose: the longest value in characters, at
    /// least 1 (`np.array([''])` is `<U1`).
    pub fn chars(&self) -> usize {
        self.values
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
            .max(1)
    }

    /// The `descr` written for it (`<U5`).
    pub fn descr(&self) -> String {
        format!("<U{}", self.chars())
    }

    /// The data section of its `.npy`: little-endian UTF-32, NUL-padded.
    pub fn data_bytes(&self) -> Vec<u8> {
        let chars = self.chars();
        let mut out = Vec::with_capacity(self.values.len() * chars * 4);
        for value in &self.values {
            let mut written = 0;
            for c in value.chars() {
                out.extend_from_slice(&(c as u32).to_le_bytes());
                written += 1;
            }
            out.resize(out.len() + (chars - written) * 4, 0);
        }
        out
    }
}

/// A whole `.npy` file for `array` (C order).
pub fn write_npy_strings(array: &StringArray) -> Vec<u8> {
    let mut out = header_bytes(&array.descr(), false, &array.shape);
    out.extend_from_slice(&array.data_bytes());
    out
}

/// Decodes the `data` after a unicode header into C-order strings. Trailing
/// NULs are padding and dropped, as numpy drops them; a unit that is no
/// Unicode scalar value is an error, not a silent replacement.
pub(crate) fn from_header(
    header: &NpyHeader,
    data: &[u8],
    name: &str,
) -> Result<StringArray, NpzError> {
    let (chars, byte_order) = match &header.element {
        ElementType::Unicode { chars, byte_order } => (*chars, *byte_order),
        other => {
            return Err(NpzError::NotText {
                name: name.to_owned(),
                found: other.name(),
            });
        }
    };
    let needed = header.data_len().ok_or_else(|| {
        NpzError::BadHeader(format!(
            "array '{name}': {chars} characters x shape {:?} do not fit in 64 bits",
            header.shape
        ))
    })?;
    if needed > data.len() as u64 {
        return Err(NpzError::Truncated {
            what: format!("array '{name}' (<U{chars} x {:?})", header.shape),
            expected: needed,
            found: data.len() as u64,
        });
    }
    let data = &data[..needed as usize];
    let item = chars * 4;
    let reordered;
    let data = if header.fortran_order && header.shape.len() > 1 {
        reordered = fortran_to_c(data, &header.shape, item);
        &reordered[..]
    } else {
        data
    };
    let count = header.element_count().unwrap_or(0) as usize;
    let mut values = Vec::with_capacity(count);
    if item == 0 {
        // `<U0` holds nothing but still has elements: all empty strings.
        values.resize(count, String::new());
        return Ok(StringArray {
            shape: header.shape.clone(),
            values,
        });
    }
    for (index, element) in data.chunks_exact(item).enumerate() {
        let mut text = String::with_capacity(chars);
        for unit in element.chunks_exact(4) {
            let raw: [u8; 4] = unit.try_into().expect("chunks_exact yields full chunks");
            let code = if byte_order == ByteOrder::Big {
                u32::from_be_bytes(raw)
            } else {
                u32::from_le_bytes(raw)
            };
            let c = char::from_u32(code).ok_or_else(|| NpzError::BadCharacter {
                name: name.to_owned(),
                index: index as u64,
                code,
            })?;
            text.push(c);
        }
        text.truncate(text.trim_end_matches('\0').len());
        values.push(text);
    }
    Ok(StringArray {
        shape: header.shape.clone(),
        values,
    })
}

/// Reads a whole unicode `.npy` held in memory. `name` only labels errors.
pub fn read_npy_strings(bytes: &[u8], name: &str) -> Result<StringArray, NpzError> {
    let header = crate::npy::parse_header(bytes)?;
    from_header(&header, &bytes[header.data_offset..], name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn strings_round_trip_through_npy() {
        let array = StringArray::new(vec![2, 2], strings(&["ab", "é", "", "数字"])).unwrap();
        let bytes = write_npy_strings(&array);
        assert!(String::from_utf8_lossy(&bytes).contains("'descr': '<U2'"));
        assert_eq!(read_npy_strings(&bytes, "x").unwrap(), array);
    }

    #[test]
    fn all_empty_strings_are_written_one_character_wide() {
        let array = StringArray::new(vec![3], strings(&["", "", ""])).unwrap();
        assert_eq!(array.descr(), "<U1");
        assert_eq!(
            read_npy_strings(&write_npy_strings(&array), "x").unwrap(),
            array
        );
    }

    #[test]
    fn fortran_and_big_endian_strings_read_in_c_order() {
        // [[a, bb, c], [dd, e, f]] stored column by column, big-endian, 2 chars each.
        let columns = ["a", "dd", "bb", "e", "c", "f"];
        let mut data = Vec::new();
        for value in columns {
            let mut units: Vec<u32> = value.chars().map(|c| c as u32).collect();
            units.resize(2, 0);
            units
                .iter()
                .for_each(|u| data.extend_from_slice(&u.to_be_bytes()));
        }
        let mut bytes = header_bytes(">U2", true, &[2, 3]);
        bytes.extend_from_slice(&data);
        let array = read_npy_strings(&bytes, "x").unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.values, strings(&["a", "bb", "c", "dd", "e", "f"]));
    }

    #[test]
    fn a_unit_that_is_no_character_is_an_error() {
        let mut bytes = header_bytes("<U1", false, &[2]);
        bytes.extend_from_slice(&('a' as u32).to_le_bytes());
        bytes.extend_from_slice(&0x11_0000u32.to_le_bytes());
        let error = read_npy_strings(&bytes, "x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "array 'x': element 1 holds 0x110000, which is not a Unicode character"
        );
    }

    #[test]
    fn truncated_strings_are_an_error_at_every_cut() {
        let array = StringArray::new(vec![2], strings(&["ab", "c"])).unwrap();
        let bytes = write_npy_strings(&array);
        for cut in 0..bytes.len() {
            assert!(
                read_npy_strings(&bytes[..cut], "x").is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn numbers_are_not_read_as_strings() {
        let bytes = crate::write_npy(&crate::Array::from_f32(vec![1], &[1.0]).unwrap());
        let error = read_npy_strings(&bytes, "x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "array 'x' holds float32, not unicode strings (<U..)"
        );
    }

    #[test]
    fn values_must_fill_the_shape() {
        let error = StringArray::new(vec![2, 2], strings(&["a"])).unwrap_err();
        assert_eq!(error.to_string(), "shape [2, 2] holds 4 elements, 1 given");
    }
}
