//! A NIR document as it is stored: the format version and the root graph,
//! each node with its type name and its parameters exactly as the file
//! holds them (element type, shape, values), so a file read and written
//! again keeps what it said. What the parameters *mean* is `schema`'s.

use serde::Serialize;

/// A whole `.nir` file: the `version` string and the root `node` (a graph).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Document {
    pub version: String,
    pub graph: Graph,
}

/// A `NIRGraph`: named nodes and the edges between them. Several edges into
/// one node sum their sources.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub metadata: Vec<(String, Param)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
}

impl Edge {
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    /// The `type` dataset: `LIF`, `Affine`, `NIRGraph`, ... (also names
    /// this crate does not know, which are reported, never dropped).
    pub type_name: String,
    /// Every dataset of the node's group but `type`, in name order.
    pub params: Vec<(String, Param)>,
    pub metadata: Vec<(String, Param)>,
    /// The nodes and edges of a nested `NIRGraph`.
    pub graph: Option<Box<Graph>>,
}

impl Node {
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Node {
        Node {
            name: name.into(),
            type_name: type_name.into(),
            params: Vec::new(),
            metadata: Vec::new(),
            graph: None,
        }
    }

    pub fn with(mut self, name: &str, param: Param) -> Node {
        self.params.push((name.to_owned(), param));
        self
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    pub fn meta(&self, name: &str) -> Option<&Param> {
        self.metadata
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }
}

/// The element types NIR files hold (numpy dtypes through h5py).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Bool,
}

impl Dtype {
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
            Dtype::U8 => "uint8",
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
            Dtype::U64 => "uint64",
            Dtype::Bool => "bool",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F64)
    }

    pub fn size(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
            Dtype::I16 | Dtype::U16 => 2,
            Dtype::F32 | Dtype::I32 | Dtype::U32 => 4,
            Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
        }
    }
}

/// A numeric dataset. Values are held as f64, which is exact for every
/// float32/float64 value and for integers up to 2^53.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Array {
    pub dtype: Dtype,
    /// Empty for a scalar.
    pub shape: Vec<usize>,
    #[serde(skip)]
    pub values: Vec<f64>,
}

impl Array {
    pub fn f32(shape: Vec<usize>, values: &[f32]) -> Array {
        Array {
            dtype: Dtype::F32,
            shape,
            values: values.iter().map(|&v| v as f64).collect(),
        }
    }

    pub fn f64(shape: Vec<usize>, values: Vec<f64>) -> Array {
        Array {
            dtype: Dtype::F64,
            shape,
            values,
        }
    }

    pub fn ints(values: &[i64]) -> Array {
        Array {
            dtype: Dtype::I64,
            shape: vec![values.len()],
            values: values.iter().map(|&v| v as f64).collect(),
        }
    }

    pub fn scalar_int(value: i64) -> Array {
        Array {
            dtype: Dtype::I64,
            shape: Vec::new(),
            values: vec![value as f64],
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn to_f32(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Param {
    Array(Array),
    /// A scalar string (`'same'` padding, a metadata note).
    Text {
        value: String,
    },
    /// An array of strings (the edges of a graph, a metadata list).
    Texts {
        shape: Vec<usize>,
        values: Vec<String>,
    },
}

impl Param {
    pub fn text(value: impl Into<String>) -> Param {
        Param::Text {
            value: value.into(),
        }
    }

    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Param::Array(array) => Some(array),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Param::Text { value } => Some(value),
            _ => None,
        }
    }

    /// `float32[128, 784]`, `'same'`, `str[3, 2]`: what the text view and
    /// hovers print for a parameter.
    pub fn type_text(&self) -> String {
        match self {
            Param::Array(array) if array.shape.is_empty() => array.dtype.name().to_owned(),
            Param::Array(array) => format!("{}{:?}", array.dtype.name(), array.shape),
            Param::Text { value } => format!("{value:?}"),
            Param::Texts { shape, .. } => format!("str{shape:?}"),
        }
    }
}
