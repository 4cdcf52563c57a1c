//! Dims and value types as shape inference knows them.

use serde::{Serialize, Serializer};
use std::fmt;

/// One dimension: a number, a symbol (`batch`, `N`) or unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    Known(i64),
    Sym(String),
    Unknown,
}

impl Dim {
    pub fn known(&self) -> Option<i64> {
        match self {
            Dim::Known(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(v) => write!(f, "{v}"),
            Dim::Sym(s) => f.write_str(s),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// Serialized as a number, a string, or `null` for unknown.
impl Serialize for Dim {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dim::Known(v) => s.serialize_i64(*v),
            Dim::Sym(n) => s.serialize_str(n),
            Dim::Unknown => s.serialize_none(),
        }
    }
}

/// The type of a value. `elem` is a `TensorProto.DataType` (0 = unknown);
/// `shape: None` means the rank is unknown.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueType {
    Tensor { elem: i32, shape: Option<Vec<Dim>> },
    Sequence(Box<ValueType>),
    Map { key: i32, value: Box<ValueType> },
    Optional(Box<ValueType>),
    Unknown,
}

/// Writes shapes as `[N,4]`, for messages.
pub fn shape_text(dims: &[Dim]) -> String {
    let inner: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", inner.join(","))
}

impl fmt::Display for ValueType {
    /// `float[N,3]`, `int64[]` (a scalar), `float[...]` (rank unknown),
    /// `seq(map(int64, float))`, `?` (unknown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Tensor {
                elem: 0,
                shape: None,
            } => f.write_str("?"),
            ValueType::Tensor { elem, shape } => {
                let name = if *elem == 0 {
                    "?"
                } else {
                    crate::dtype::onnx_name(*elem)
                };
                match shape {
                    Some(dims) => write!(f, "{name}{}", shape_text(dims)),
                    None => write!(f, "{name}[...]"),
                }
            }
            ValueType::Sequence(e) => write!(f, "seq({e})"),
            ValueType::Map { key, value } => {
                write!(f, "map({}, {value})", crate::dtype::onnx_name(*key))
            }
            ValueType::Optional(e) => write!(f, "optional({e})"),
            ValueType::Unknown => f.write_str("?"),
        }
    }
}

impl Serialize for ValueType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl ValueType {
    pub fn tensor(elem: i32, shape: Vec<Dim>) -> ValueType {
        ValueType::Tensor {
            elem,
            shape: Some(shape),
        }
    }
    pub fn tensor_unranked(elem: i32) -> ValueType {
        ValueType::Tensor { elem, shape: None }
    }
    pub fn elem(&self) -> i32 {
        match self {
            ValueType::Tensor { elem, .. } => *elem,
            _ => 0,
        }
    }
    pub fn shape(&self) -> Option<&[Dim]> {
        match self {
            ValueType::Tensor { shape: Some(s), .. } => Some(s),
            _ => None,
        }
    }
    /// A tensor's element type and shape (if ranked); `None` for the other
    /// kinds of value.
    fn as_tensor(&self) -> Option<(i32, Option<&[Dim]>)> {
        match self {
            ValueType::Tensor { elem, shape } => Some((*elem, shape.as_deref())),
            _ => None,
        }
    }

    /// How much is known, to pick the better of two descriptions.
    fn knowledge(&self) -> usize {
        match self {
            ValueType::Unknown => 0,
            ValueType::Tensor { elem, shape } => {
                (*elem != 0) as usize
                    + shape.as_ref().map_or(0, |s| {
                        1 + s.iter().filter(|d| !matches!(d, Dim::Unknown)).count()
                    })
            }
            _ => 1,
        }
    }
    pub fn is_less_known_than(&self, other: &ValueType) -> bool {
        self.knowledge() < other.knowledge()
    }

    /// Why `self` (inferred) and `declared` cannot both be true, if they can't:
    /// different element types or ranks, or two different known dims.
    pub fn conflict(&self, declared: &ValueType) -> Option<String> {
        let (Some((e1, s1)), Some((e2, s2))) = (self.as_tensor(), declared.as_tensor()) else {
            return None;
        };
        if e1 != 0 && e2 != 0 && e1 != e2 {
            return Some(format!(
                "element type {} vs {}",
                crate::dtype::onnx_name(e1),
                crate::dtype::onnx_name(e2)
            ));
        }
        let (Some(s1), Some(s2)) = (s1, s2) else {
            return None;
        };
        if s1.len() != s2.len() {
            return Some(format!("rank {} vs {}", s1.len(), s2.len()));
        }
        s1.iter()
            .zip(s2)
            .enumerate()
            .find_map(|(i, (a, b))| match (a, b) {
                (Dim::Known(x), Dim::Known(y)) if x != y => Some(format!("dim {i} is {x} vs {y}")),
                _ => None,
            })
    }

    /// Fills what `self` does not know from `declared` (assumes no conflict).
    pub fn refine(self, declared: &ValueType) -> ValueType {
        match (self, declared) {
            (ValueType::Unknown, d) => d.clone(),
            (
                ValueType::Tensor { elem, shape },
                ValueType::Tensor {
                    elem: de,
                    shape: ds,
                },
            ) => {
                let elem = if elem == 0 { *de } else { elem };
                let shape = match (shape, ds) {
                    (None, ds) => ds.clone(),
                    (Some(s), Some(ds)) if s.len() == ds.len() => Some(
                        s.into_iter()
                            .zip(ds)
                            .map(|(a, b)| match (&a, b) {
                                (Dim::Unknown, b) => b.clone(),
                                (Dim::Sym(_), Dim::Known(_)) => b.clone(),
                                _ => a,
                            })
                            .collect(),
                    ),
                    (s, _) => s,
                };
                ValueType::Tensor { elem, shape }
            }
            (s, _) => s,
        }
    }

    /// What two alternatives (If branches) have in common.
    pub fn merge(&self, other: &ValueType) -> ValueType {
        if let (Some((e1, s1)), Some((e2, s2))) = (self.as_tensor(), other.as_tensor()) {
            let elem = if e1 == e2 { e1 } else { 0 };
            let shape = match (s1, s2) {
                (Some(a), Some(b)) if a.len() == b.len() => Some(
                    a.iter()
                        .zip(b)
                        .map(|(x, y)| if x == y { x.clone() } else { Dim::Unknown })
                        .collect(),
                ),
                _ => None,
            };
            ValueType::Tensor { elem, shape }
        } else if self == other {
            self.clone()
        } else {
            ValueType::Unknown
        }
    }

    pub fn prepend_dim(&self, dim: Dim) -> ValueType {
        match self {
            ValueType::Tensor { elem, shape } => ValueType::Tensor {
                elem: *elem,
                shape: shape
                    .as_ref()
                    .map(|s| std::iter::once(dim).chain(s.iter().cloned()).collect()),
            },
            _ => ValueType::Unknown,
        }
    }

    pub fn drop_first_dim(&self) -> ValueType {
        match self {
            ValueType::Tensor { elem, shape } => ValueType::Tensor {
                elem: *elem,
                shape: shape
                    .as_ref()
                    .and_then(|s| (!s.is_empty()).then(|| s[1..].to_vec())),
            },
            _ => ValueType::Unknown,
        }
    }
}
