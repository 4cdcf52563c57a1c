//! The `.npy` format (versions 1.0, 2.0, 3.0): header parsing and writing.
//! <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>

use crate::NpzError;
use crate::array::Array;
use crate::dtype::{ElementType, parse_simple_descr};
use crate::pyliteral::{self, PyValue};

pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted. numpy refuses more than 10,000 bytes unless told
/// otherwise; this leaves room for big structured dtypes while bounding what
/// a hostile file can make us decompress or parse.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// numpy aligns the data to 64 bytes (`numpy.lib.format.ARRAY_ALIGN`).
const ARRAY_ALIGN: usize = 64;
/// numpy leaves room for the growing axis to reach this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyHeader {
    pub version: (u8, u8),
    pub element: ElementType,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// Where the data starts, counted from the magic bytes.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements, or `None` if the product overflows.
    pub fn element_count(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Bytes of data the header promises (numeric and unicode types only).
    pub fn data_len(&self) -> Option<u64> {
        let item = self.element.item_size()?;
        self.element_count()?.checked_mul(item as u64)
    }
}

/// The total header length (magic through the newline) from the first bytes
/// of a `.npy`: 10 bytes suffice for version 1.0, 12 for 2.0/3.0.
pub fn header_len(prefix: &[u8]) -> Result<usize, NpzError> {
    let truncated = |expected: usize| NpzError::Truncated {
        what: ".npy preamble".to_owned(),
        expected: expected as u64,
        found: prefix.len() as u64,
    };
    if prefix.len() < 8 {
        if !MAGIC.starts_with(&prefix[..prefix.len().min(6)]) {
            return Err(NpzError::NotNpy {
                found: String::from_utf8_lossy(prefix).into_owned(),
            });
        }
        return Err(truncated(10));
    }
    if &prefix[..6] != MAGIC {
        return Err(NpzError::NotNpy {
            found: String::from_utf8_lossy(&prefix[..6]).into_owned(),
        });
    }
    let (major, minor) = (prefix[6], prefix[7]);
    let (len_bytes, total) = match (major, minor) {
        (1, 0) => (2, 10),
        (2, 0) | (3, 0) => (4, 12),
        _ => return Err(NpzError::UnsupportedVersion { major, minor }),
    };
    if prefix.len() < total {
        return Err(truncated(total));
    }
    let dict_len = if len_bytes == 2 {
        u16::from_le_bytes([prefix[8], prefix[9]]) as usize
    } else {
        u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize
    };
    if dict_len > MAX_HEADER_LEN {
        return Err(NpzError::BadHeader(format!(
            "header claims {dict_len} bytes; at most {MAX_HEADER_LEN} are accepted"
        )));
    }
    Ok(total + dict_len)
}

/// Parses the header at the start of `bytes` (which may end right after it).
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader, NpzError> {
    let data_offset = header_len(bytes)?;
    let version = (bytes[6], bytes[7]);
    let preamble = if version.0 == 1 { 10 } else { 12 };
    let Some(dict_bytes) = bytes.get(preamble..data_offset) else {
        return Err(NpzError::Truncated {
            what: ".npy header".to_owned(),
            expected: data_offset as u64,
            found: bytes.len() as u64,
        });
    };
    // 1.0 and 2.0 headers are latin-1, 3.0 is UTF-8; latin-1 maps byte to char.
    let text: String = if version.0 == 3 {
        std::str::from_utf8(dict_bytes)
            .map_err(|_| NpzError::BadHeader("version 3.0 header is not UTF-8".to_owned()))?
            .to_owned()
    } else {
        dict_bytes.iter().map(|&b| b as char).collect()
    };
    let PyValue::Dict(items) = pyliteral::parse(&text).map_err(NpzError::BadHeader)? else {
        return Err(NpzError::BadHeader(format!(
            "expected a dict, found {:?}",
            truncate(&text)
        )));
    };
    let lookup = |key: &str| {
        items
            .iter()
            .find(|(k, _)| matches!(k, PyValue::Str(s) if s == key))
            .map(|(_, v)| v)
    };
    let missing =
        |key: &str| NpzError::BadHeader(format!("key '{key}' missing from {:?}", truncate(&text)));
    let element = descr_to_element(lookup("descr").ok_or_else(|| missing("descr"))?)?;
    let fortran_order = match lookup("fortran_order").ok_or_else(|| missing("fortran_order"))? {
        PyValue::Bool(b) => *b,
        other => {
            return Err(NpzError::BadHeader(format!(
                "fortran_order must be True or False, found {other:?}"
            )));
        }
    };
    let shape = match lookup("shape").ok_or_else(|| missing("shape"))? {
        PyValue::Tuple(dims) | PyValue::List(dims) => dims
            .iter()
            .map(|d| match d {
                PyValue::Int(n) if *n >= 0 && *n <= u64::MAX as i128 => Ok(*n as u64),
                other => Err(NpzError::BadHeader(format!(
                    "shape entries must be non-negative integers, found {other:?}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(NpzError::BadHeader(format!(
                "shape must be a tuple, found {other:?}"
            )));
        }
    };
    let header = NpyHeader {
        version,
        element,
        fortran_order,
        shape,
        data_offset,
    };
    if header.element_count().is_none() {
        return Err(NpzError::BadHeader(format!(
            "shape {:?} has more elements than fit in 64 bits",
            header.shape
        )));
    }
    if header.element.item_size().is_some() && header.data_len().is_none() {
        return Err(NpzError::BadHeader(format!(
            "shape {:?} needs more bytes than fit in 64 bits",
            header.shape
        )));
    }
    Ok(header)
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

/// A structured dtype (a list of fields) is an object array if any field holds
/// objects, else an unsupported type.
fn descr_to_element(descr: &PyValue) -> Result<ElementType, NpzError> {
    match descr {
        PyValue::Str(s) => Ok(parse_simple_descr(s)),
        PyValue::List(_) | PyValue::Tuple(_) => {
            if contains_object(descr) {
                Ok(ElementType::Object)
            } else {
                Ok(ElementType::Unsupported {
                    descr: format!("structured {}", describe(descr)),
                })
            }
        }
        other => Err(NpzError::BadHeader(format!(
            "descr must be a string or a list of fields, found {other:?}"
        ))),
    }
}

fn contains_object(value: &PyValue) -> bool {
    match value {
        PyValue::Str(s) => parse_simple_descr(s) == ElementType::Object,
        PyValue::List(items) | PyValue::Tuple(items) => items.iter().any(contains_object),
        _ => false,
    }
}

fn describe(value: &PyValue) -> String {
    match value {
        PyValue::Str(s) => format!("'{s}'"),
        PyValue::Int(n) => n.to_string(),
        PyValue::List(items) => format!(
            "[{}]",
            items.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        PyValue::Tuple(items) => format!(
            "({})",
            items.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// Reads a whole `.npy` held in memory; the data is borrowed, not copied.
/// `name` only labels errors.
pub fn read_npy<'a>(bytes: &'a [u8], name: &str) -> Result<Array<'a>, NpzError> {
    let header = parse_header(bytes)?;
    array_from_header(&header, &bytes[header.data_offset..], name, false)
}

/// Checks `header` against the `data` that follows it and builds the array.
/// More data than promised is accepted here (the caller reports it).
/// An array's data shorter than its header says.
pub(crate) fn truncated(
    header: &NpyHeader,
    dtype: crate::DType,
    name: &str,
    found: u64,
) -> NpzError {
    NpzError::Truncated {
        what: format!(
            "array '{name}' ({} x {:?})",
            dtype.numpy_name(),
            header.shape
        ),
        expected: header.data_len().unwrap_or(u64::MAX),
        found,
    }
}

pub(crate) fn array_from_header<'a>(
    header: &NpyHeader,
    data: &'a [u8],
    name: &str,
    _owned: bool,
) -> Result<Array<'a>, NpzError> {
    let (dtype, byte_order) = match &header.element {
        ElementType::Numeric { dtype, byte_order } => (*dtype, *byte_order),
        ElementType::Object => {
            return Err(NpzError::ObjectArray {
                name: name.to_owned(),
            });
        }
        // Strings are read by `strings::from_header`, never as numbers.
        ElementType::Unicode { .. } | ElementType::Unsupported { .. } => {
            return Err(NpzError::UnsupportedDType {
                name: name.to_owned(),
                descr: header.element.name(),
            });
        }
    };
    let needed = header.data_len().unwrap_or(u64::MAX);
    if needed > data.len() as u64 {
        return Err(truncated(header, dtype, name, data.len() as u64));
    }
    Ok(Array {
        dtype,
        byte_order,
        fortran_order: header.fortran_order,
        shape: header.shape.clone(),
        data: std::borrow::Cow::Borrowed(&data[..needed as usize]),
    })
}

/// Reads a `.npy` from a stream. Memory grows only as data actually arrives,
/// so a header that lies about the size cannot make us allocate it.
pub fn read_npy_from<R: std::io::Read>(
    mut reader: R,
    name: &str,
) -> Result<Array<'static>, NpzError> {
    use std::io::Read;
    let io_error = |e: std::io::Error| NpzError::BadHeader(format!("read failed: {e}"));
    let mut head = Vec::with_capacity(128);
    (&mut reader)
        .take(12)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let total = header_len(&head)?;
    let more = (total as u64).saturating_sub(head.len() as u64);
    (&mut reader)
        .take(more)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let header = parse_header(&head)?;
    // Data may start before byte 12 only in a malformed file; keep what we read.
    let mut data = head.split_off(header.data_offset.min(head.len()));
    if let Some(needed) = header.data_len() {
        let wanted = needed.saturating_sub(data.len() as u64);
        (&mut reader)
            .take(wanted)
            .read_to_end(&mut data)
            .map_err(io_error)?;
    }
    let array = array_from_header(&header, &data, name, true)?;
    Ok(array.into_owned())
}

/// The header numpy's `np.save` writes for this array, byte for byte
/// (version 1.0 unless the header needs more than 65,535 bytes).
pub fn header_bytes(descr: &str, fortran_order: bool, shape: &[u64]) -> Vec<u8> {
    let shape_repr = match shape {
        [] => "()".to_owned(),
        [d] => format!("({d},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_repr}, }}",
        if fortran_order { "True" } else { "False" }
    );
    if !shape.is_empty() {
        let growth_axis = if fortran_order {
            shape[shape.len() - 1]
        } else {
            shape[0]
        };
        let digits = growth_axis.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    // numpy pads with 1..=64 spaces (a full 64 when already aligned).
    let pad_for = |preamble: usize| ARRAY_ALIGN - (preamble + dict.len() + 1) % ARRAY_ALIGN;
    let (version, preamble) = if dict.len() + 1 + pad_for(10) < 65536 {
        (1u8, 10)
    } else {
        (2u8, 12)
    };
    let pad = pad_for(preamble);
    dict.extend(std::iter::repeat_n(' ', pad));
    dict.push('\n');
    let mut out = Vec::with_capacity(preamble + dict.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out
}

/// A whole `.npy` file for `array`.
pub fn write_npy(array: &Array<'_>) -> Vec<u8> {
    let mut out = header_bytes(&array.descr(), array.fortran_order, &array.shape);
    out.extend_from_slice(&array.data);
    out
}
