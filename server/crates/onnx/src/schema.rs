//! Operator schemas of the standard ONNX domains (`""` a.k.a. `ai.onnx`,
//! `ai.onnx.ml`, `ai.onnx.preview.training`, ...) for every opset version,
//! generated from the onnx Python package by `scripts/gen_op_schemas.py` into
//! `proto/onnx_op_schemas.rs`.
//!
//! The table is static and sorted by (domain, name, since_version). A lookup
//! goes through an index from (domain, name) to the op's run of versions,
//! built on first use: a binary search over the table touched ten cold
//! entries per lookup, a fifth of `neuride check` over the ONNX node tests.

/// How a formal input or output may be bound (`OpSchema::FormalParameterOption`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamOption {
    /// Exactly one value, never the empty name.
    Single,
    /// One value or the empty name `""` (or left off at the end).
    Optional,
    /// The last formal parameter may take any number (at least `min_arity`) of values.
    Variadic,
}

/// A formal input or output of an operator.
#[derive(Clone, Copy, Debug)]
pub struct FormalParam {
    pub name: &'static str,
    pub option: ParamOption,
    /// For variadic parameters: all values must share one element type.
    pub homogeneous: bool,
    /// For variadic parameters: the fewest values it takes.
    pub min_arity: i32,
}

/// `AttributeProto.AttributeType`, named as in onnx.proto.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

impl AttrType {
    /// The value `AttributeProto.type` holds for this type.
    pub fn proto_value(self) -> i32 {
        self as i32
    }

    /// The type for an `AttributeProto.type` value, `None` if unknown.
    pub fn from_proto(value: i32) -> Option<AttrType> {
        use AttrType::*;
        const ALL: [AttrType; 15] = [
            Undefined,
            Float,
            Int,
            String,
            Tensor,
            Graph,
            Floats,
            Ints,
            Strings,
            Tensors,
            Graphs,
            SparseTensor,
            SparseTensors,
            TypeProto,
            TypeProtos,
        ];
        usize::try_from(value)
            .ok()
            .and_then(|i| ALL.get(i).copied())
    }

    /// The name onnx.proto gives it (`INT`, `FLOATS`, ...).
    pub fn proto_name(self) -> &'static str {
        use AttrType::*;
        match self {
            Undefined => "UNDEFINED",
            Float => "FLOAT",
            Int => "INT",
            String => "STRING",
            Tensor => "TENSOR",
            Graph => "GRAPH",
            Floats => "FLOATS",
            Ints => "INTS",
            Strings => "STRINGS",
            Tensors => "TENSORS",
            Graphs => "GRAPHS",
            SparseTensor => "SPARSE_TENSOR",
            SparseTensors => "SPARSE_TENSORS",
            TypeProto => "TYPE_PROTO",
            TypeProtos => "TYPE_PROTOS",
        }
    }
}

/// An attribute an operator declares.
#[derive(Clone, Copy, Debug)]
pub struct AttrSchema {
    pub name: &'static str,
    pub ty: AttrType,
    pub required: bool,
}

/// One version of one operator, as `onnx.defs.OpSchema` describes it.
#[derive(Clone, Copy, Debug)]
pub struct OpSchema {
    /// `""` for the default domain (also spelled `ai.onnx`).
    pub domain: &'static str,
    pub name: &'static str,
    pub since_version: i64,
    /// A deprecated version means the op was removed at that opset.
    pub deprecated: bool,
    pub min_input: i32,
    /// `i32::MAX` when the last input is variadic.
    pub max_input: i32,
    pub min_output: i32,
    pub max_output: i32,
    pub inputs: &'static [FormalParam],
    pub outputs: &'static [FormalParam],
    /// Sorted by name.
    pub attributes: &'static [AttrSchema],
}

impl OpSchema {
    /// The declared attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&'static AttrSchema> {
        let attributes = self.attributes;
        attributes
            .binary_search_by(|a| a.name.cmp(name))
            .ok()
            .map(|i| &attributes[i])
    }
}

mod data {
    use super::AttrSchema as A;
    use super::AttrType::*;
    use super::FormalParam as P;
    use super::OpSchema;
    use super::ParamOption::*;
    include!("../../../../proto/onnx_op_schemas.rs");
}

pub use data::{DOMAIN_VERSIONS, MAX_IR_VERSION, ONNX_PACKAGE_VERSION};

/// Every schema, sorted by (domain, name, since_version).
pub fn all() -> &'static [OpSchema] {
    data::SCHEMAS
}

/// Maps the alias `ai.onnx` to the canonical empty default domain.
pub fn canonical_domain(domain: &str) -> &str {
    if domain == "ai.onnx" { "" } else { domain }
}

/// True for the domains whose ops must all have a schema (onnx.checker fails
/// an unknown op there, but skips ops of custom domains).
pub fn is_builtin_domain(domain: &str) -> bool {
    matches!(
        canonical_domain(domain),
        "" | "ai.onnx.ml" | "ai.onnx.training" | "ai.onnx.preview.training" | "ai.onnx.preview"
    )
}

/// The highest opset version the schema table knows for `domain`.
pub fn max_opset(domain: &str) -> Option<i64> {
    let domain = canonical_domain(domain);
    DOMAIN_VERSIONS
        .iter()
        .find(|(d, _, _)| *d == domain)
        .map(|(_, _, high)| *high)
}

type Index = crate::hash::HashMap<(&'static str, &'static str), std::ops::Range<usize>>;

/// (domain, name) -> the range of `SCHEMAS` holding that op's versions.
static INDEX: std::sync::LazyLock<Index> = std::sync::LazyLock::new(|| {
    let mut index = Index::default();
    for (i, s) in data::SCHEMAS.iter().enumerate() {
        index.entry((s.domain, s.name)).or_insert(i..i).end = i + 1;
    }
    index
});

/// All versions of `op` in `domain`, oldest first (empty if unknown).
pub fn versions(domain: &str, op: &str) -> &'static [OpSchema] {
    // The map is covariant in its key: it answers borrowed names too.
    let index: &crate::hash::HashMap<(&str, &str), std::ops::Range<usize>> = &INDEX;
    index
        .get(&(canonical_domain(domain), op))
        .map_or(&[], |range| &data::SCHEMAS[range.clone()])
}

/// The version of `op` in force for a model importing `opset_version` of
/// `domain`: the greatest `since_version <= opset_version`, as onnx resolves it.
pub fn lookup(domain: &str, op: &str, opset_version: i64) -> Option<&'static OpSchema> {
    let versions = versions(domain, op);
    let n_older = versions.partition_point(|s| s.since_version <= opset_version);
    n_older.checked_sub(1).map(|i| &versions[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        let schemas = all();
        assert!(schemas.len() > 600, "{} schemas", schemas.len());
        for pair in schemas.windows(2) {
            let key = |s: &OpSchema| (s.domain, s.name, s.since_version);
            assert!(
                key(&pair[0]) < key(&pair[1]),
                "{:?} !< {:?}",
                key(&pair[0]),
                key(&pair[1])
            );
        }
        for s in schemas {
            assert!(
                s.attributes.windows(2).all(|w| w[0].name < w[1].name),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn lookup_takes_greatest_since_version_not_above_import() {
        let found = |d, op, v| lookup(d, op, v).map(|s| s.since_version);
        assert_eq!(found("", "Relu", 12), Some(6));
        assert_eq!(found("", "Relu", 13), Some(13));
        assert_eq!(found("ai.onnx", "Relu", 14), Some(14));
        assert_eq!(found("", "LayerNormalization", 16), None);
        assert_eq!(found("", "LayerNormalization", 17), Some(17));
        assert_eq!(found("", "NoSuchOp", 17), None);
        assert_eq!(found("ai.onnx.ml", "TreeEnsembleClassifier", 3), Some(3));
        let upsample = lookup("", "Upsample", 10).unwrap();
        assert!(upsample.deprecated);
        let gemm = lookup("", "Gemm", 13).unwrap();
        assert_eq!((gemm.min_input, gemm.max_input), (2, 3));
        assert_eq!(gemm.attribute("transA").map(|a| a.ty), Some(AttrType::Int));
        let concat = lookup("", "Concat", 13).unwrap();
        assert_eq!(concat.inputs[0].option, ParamOption::Variadic);
        assert!(concat.attribute("axis").unwrap().required);
        assert_eq!(max_opset("ai.onnx.ml"), Some(5));
    }
}
