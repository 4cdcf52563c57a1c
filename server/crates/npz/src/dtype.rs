//! Element types numpy writes into `.npy` headers (`descr`), with numpy's
//! names, so summaries read the same as `arr.dtype` does in Python.

use serde::Serialize;

/// A numeric element type: every fixed-size numeric dtype numpy writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float16,
    Float32,
    Float64,
    Complex64,
    Complex128,
}

/// All numeric dtypes, for tests and tables.
pub const ALL_DTYPES: [DType; 14] = [
    DType::Bool,
    DType::Int8,
    DType::Int16,
    DType::Int32,
    DType::Int64,
    DType::Uint8,
    DType::Uint16,
    DType::Uint32,
    DType::Uint64,
    DType::Float16,
    DType::Float32,
    DType::Float64,
    DType::Complex64,
    DType::Complex128,
];

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::Int8 | DType::Uint8 => 1,
            DType::Int16 | DType::Uint16 | DType::Float16 => 2,
            DType::Int32 | DType::Uint32 | DType::Float32 => 4,
            DType::Int64 | DType::Uint64 | DType::Float64 | DType::Complex64 => 8,
            DType::Complex128 => 16,
        }
    }

    /// The name numpy gives it (`np.dtype('<f4').name`).
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Float16 => "float16",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Complex64 => "complex64",
            DType::Complex128 => "complex128",
        }
    }

    /// numpy's kind character (`b`, `i`, `u`, `f`, `c`).
    pub fn kind(self) -> char {
        match self {
            DType::Bool => 'b',
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => 'i',
            DType::Uint8 | DType::Uint16 | DType::Uint32 | DType::Uint64 => 'u',
            DType::Float16 | DType::Float32 | DType::Float64 => 'f',
            DType::Complex64 | DType::Complex128 => 'c',
        }
    }

    pub fn is_complex(self) -> bool {
        self.kind() == 'c'
    }

    /// Size of one byte-swapped unit: complex numbers swap each component.
    pub fn swap_unit(self) -> usize {
        if self.is_complex() {
            self.size() / 2
        } else {
            self.size()
        }
    }

    pub fn from_kind_size(kind: char, size: usize) -> Option<DType> {
        Some(match (kind, size) {
            ('b', 1) => DType::Bool,
            ('i', 1) => DType::Int8,
            ('i', 2) => DType::Int16,
            ('i', 4) => DType::Int32,
            ('i', 8) => DType::Int64,
            ('u', 1) => DType::Uint8,
            ('u', 2) => DType::Uint16,
            ('u', 4) => DType::Uint32,
            ('u', 8) => DType::Uint64,
            ('f', 2) => DType::Float16,
            ('f', 4) => DType::Float32,
            ('f', 8) => DType::Float64,
            ('c', 8) => DType::Complex64,
            ('c', 16) => DType::Complex128,
            _ => return None,
        })
    }

    /// The `descr` string numpy writes for this type in `order`
    /// (single-byte types always get `|`, as numpy does).
    pub fn descr(self, order: ByteOrder) -> String {
        let order = if self.size() == 1 {
            ByteOrder::NotApplicable
        } else {
            order
        };
        format!("{}{}{}", order.as_char(), self.kind(), self.size())
    }
}

/// Byte order as numpy marks it in `descr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `<`
    Little,
    /// `>`
    Big,
    /// `|`: single-byte types, where order does not apply.
    NotApplicable,
}

impl ByteOrder {
    pub fn as_char(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }

    /// True when bytes must be swapped to read them as little-endian.
    pub fn is_big(self) -> bool {
        self == ByteOrder::Big
    }
}

/// What a `.npy` header's `descr` says the elements are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElementType {
    Numeric {
        dtype: DType,
        byte_order: ByteOrder,
    },
    /// `<U8`: fixed-width unicode strings, `chars` UTF-32 code units each,
    /// padded with NULs. Read as text ([`crate::StringArray`]), never as numbers.
    Unicode {
        chars: usize,
        byte_order: ByteOrder,
    },
    /// `O`, or a structured type with an object field: pickled Python objects.
    Object,
    /// Byte strings, datetimes, void and structured types: listed, not read.
    Unsupported {
        descr: String,
    },
}

impl ElementType {
    /// numpy's name for the dtype (`float32`, `object`) or the descr
    /// (`<U8`, which says more than numpy's `str256`).
    pub fn name(&self) -> String {
        match self {
            ElementType::Numeric { dtype, .. } => dtype.numpy_name().to_owned(),
            ElementType::Unicode { chars, byte_order } => {
                format!("{}U{chars}", byte_order.as_char())
            }
            ElementType::Object => "object".to_owned(),
            ElementType::Unsupported { descr } => descr.clone(),
        }
    }

    /// The order mark of numeric types; `|` for everything else, as
    /// summaries have always shown it for strings.
    pub fn byte_order_char(&self) -> char {
        match self {
            ElementType::Numeric { byte_order, .. } => byte_order.as_char(),
            _ => '|',
        }
    }

    /// Bytes per element, for the types whose elements have a fixed size.
    pub fn item_size(&self) -> Option<usize> {
        match self {
            ElementType::Numeric { dtype, .. } => Some(dtype.size()),
            ElementType::Unicode { chars, .. } => chars.checked_mul(4),
            ElementType::Object | ElementType::Unsupported { .. } => None,
        }
    }
}

/// Parses a simple `descr` string (`<f4`, `|b1`, `>c16`, `|O`, `<U10`).
/// Native (`=`) and missing order marks mean little-endian: neuride runs on
/// little-endian hosts and numpy itself never writes `=` into a file.
pub fn parse_simple_descr(descr: &str) -> ElementType {
    let unsupported = || ElementType::Unsupported {
        descr: descr.to_owned(),
    };
    let (order, rest) = match descr.chars().next() {
        Some('<') | Some('=') => (ByteOrder::Little, &descr[1..]),
        Some('>') => (ByteOrder::Big, &descr[1..]),
        Some('|') => (ByteOrder::NotApplicable, &descr[1..]),
        _ => (ByteOrder::Little, descr),
    };
    if rest == "O" || rest.starts_with("O") && rest[1..].chars().all(|c| c.is_ascii_digit()) {
        return ElementType::Object;
    }
    let mut chars = rest.chars();
    let Some(kind) = chars.next() else {
        return unsupported();
    };
    let Ok(size) = chars.as_str().parse::<usize>() else {
        return unsupported();
    };
    if kind == 'U' {
        // The count is of characters (4 bytes each), not bytes; `|` (no order) reads as native.
        let byte_order = match order {
            ByteOrder::Big => ByteOrder::Big,
            _ => ByteOrder::Little,
        };
        return ElementType::Unicode {
            chars: size,
            byte_order,
        };
    }
    match DType::from_kind_size(kind, size) {
        Some(dtype) => {
            let byte_order = if dtype.size() == 1 {
                ByteOrder::NotApplicable
            } else {
                order
            };
            // A multi-byte type marked `|` has no defined order; numpy reads it
            // as native, so do we.
            let byte_order = if byte_order == ByteOrder::NotApplicable && dtype.size() > 1 {
                ByteOrder::Little
            } else {
                byte_order
            };
            ElementType::Numeric { dtype, byte_order }
        }
        None => unsupported(),
    }
}
