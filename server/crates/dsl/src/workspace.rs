//! What the checker needs to know about other files, and the trait through
//! which the caller (the language server, the CLI, a test) provides it. The
//! dsl crate never reads a file: paths are passed exactly as written in the
//! `.neuro` file (relative to it), and the caller resolves them.

use std::fmt;
use std::sync::Arc;

/// One dimension of a shape: a number, or a symbol such as `batch` (empty
/// when the file leaves the dimension unnamed).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    Known(u64),
    Symbolic(String),
}

impl fmt::Debug for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(value) => write!(f, "{value}"),
            Dim::Symbolic(name) if name.is_empty() => write!(f, "?"),
            Dim::Symbolic(name) => write!(f, "{name}"),
        }
    }
}

/// A shape; prints as `[1, 8, 8]`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    pub fn known(dims: &[u64]) -> Shape {
        Shape(dims.iter().map(|&dim| Dim::Known(dim)).collect())
    }
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    /// The number of elements when every dimension is known.
    pub fn elements(&self) -> Option<u64> {
        self.0.iter().try_fold(1u64, |product, dim| match dim {
            Dim::Known(value) => product.checked_mul(*value),
            Dim::Symbolic(_) => None,
        })
    }
    pub fn dims_known(&self) -> Option<Vec<u64>> {
        self.0
            .iter()
            .map(|dim| {
                if let Dim::Known(value) = dim {
                    Some(*value)
                } else {
                    None
                }
            })
            .collect()
    }
    /// Drops the leading batch dimension of a model or dataset tensor.
    pub fn per_sample(&self) -> Shape {
        Shape(self.0.iter().skip(1).cloned().collect())
    }
    /// Same shape, treating a symbolic dimension as matching anything.
    pub fn compatible(&self, other: &Shape) -> bool {
        self.rank() == other.rank()
            && self.0.iter().zip(&other.0).all(|pair| match pair {
                (Dim::Known(a), Dim::Known(b)) => a == b,
                _ => true,
            })
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (index, dim) in self.0.iter().enumerate() {
            if index > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{dim:?}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What the caller found at a path.
#[derive(Clone, Debug)]
pub enum FileFact<T> {
    /// No file there.
    Missing,
    /// A file that is not of the expected format; the message says why
    /// (e.g. "not an ONNX model: protobuf decode failed at byte 12").
    WrongFormat(String),
    Ok(Arc<T>),
}

/// A model's classification (DESIGN.md "Model classification").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    Snn,
    Ml,
    Dl,
    Mixed,
    Unknown,
}

impl ModelKind {
    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Snn => "spiking network (SNN)",
            ModelKind::Ml => "classic ML",
            ModelKind::Dl => "deep learning (DL)",
            ModelKind::Mixed => "mixed ML + DL",
            ModelKind::Unknown => "unknown kind",
        }
    }
}

/// A named tensor: element type as written in `.neuro` (`f32`, `i64`, ...,
/// or the ONNX name for others) and shape (`None` when unknown).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorFact {
    pub name: String,
    pub elem_type: String,
    pub shape: Option<Shape>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OpFact {
    /// The node's name (may be empty in the file).
    pub node: String,
    pub op_type: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelFacts {
    pub kind: ModelKind,
    /// Why the model got its kind (node names, ops, metadata), for hover.
    pub evidence: Vec<String>,
    pub inputs: Vec<TensorFact>,
    pub outputs: Vec<TensorFact>,
    pub ops: Vec<OpFact>,
    /// Ops the ANN-to-SNN converter cannot convert (computed by the caller).
    pub unconvertible: Vec<OpFact>,
    /// Initializers (name and shape), for `weights = W` in convert.
    pub initializers: Vec<TensorFact>,
    pub parameter_count: u64,
    pub producer: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArrayStats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub std: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArrayFact {
    pub name: String,
    /// numpy-style dtype name: `f32`, `i64`, `u8`, `bool`, ...
    pub dtype: String,
    pub shape: Vec<u64>,
    /// `None` for non-numeric arrays or when not computed.
    pub stats: Option<ArrayStats>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct ArchiveFacts {
    pub arrays: Vec<ArrayFact>,
}

impl ArchiveFacts {
    pub fn array(&self, name: &str) -> Option<&ArrayFact> {
        self.arrays.iter().find(|array| array.name == name)
    }
}

/// One directory entry, for path completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub is_dir: bool,
}

/// Facts about the files a `.neuro` file binds. Paths are as written in the
/// file (relative to it); the implementation resolves and caches them.
pub trait Workspace {
    fn model(&self, path: &str) -> FileFact<ModelFacts>;
    fn archive(&self, path: &str) -> FileFact<ArchiveFacts>;
    /// Entries of the directory `dir` (relative to the `.neuro` file; `""`
    /// is its own directory). Empty when the directory does not exist.
    fn files(&self, dir: &str) -> Vec<DirEntry>;
}

/// A workspace with no files: every path is missing.
pub struct EmptyWorkspace;

impl Workspace for EmptyWorkspace {
    fn model(&self, _: &str) -> FileFact<ModelFacts> {
        FileFact::Missing
    }
    fn archive(&self, _: &str) -> FileFact<ArchiveFacts> {
        FileFact::Missing
    }
    fn files(&self, _: &str) -> Vec<DirEntry> {
        Vec::new()
    }
}
