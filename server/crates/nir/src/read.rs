//! Reading a `.nir` file: HDF5 bytes to a [`Document`] and the problems
//! found, laid out as `nir/serialization.py` writes it: a root `version`
//! string and a `node` group; a node group holds a `type` string and one
//! dataset per parameter (an optional `metadata` group); a `NIRGraph` holds
//! a `nodes` group of node groups and an `edges` array of `[from, to]` names.
//!
//! Every path is bounded: graphs nest at most [`MAX_DEPTH`] deep, a file
//! holds at most [`MAX_NODES`] nodes and [`MAX_VALUES`] values, and no array
//! is read before its element count and byte size are checked. Problems are
//! reported, never panicked on: the HDF5 decoder (`hdf5-pure`) runs under
//! `catch_unwind`, so even a bug of its own becomes a diagnostic.

use crate::graph::{Array, Document, Dtype, Edge, Graph, Node, Param};
use crate::schema::{self, ParamKind};
use crate::{Problem, codes};
use hdf5_pure::{Dataset, File, Group};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Nested graphs deeper than this are not read.
pub const MAX_DEPTH: usize = 16;
/// Nodes in a file, over all graphs.
pub const MAX_NODES: usize = 100_000;
/// Values (array elements and string characters) in a file.
pub const MAX_VALUES: usize = 1 << 27;

/// What reading found: the document (`None` when the bytes are not a NIR
/// file at all) and every problem, each naming the node it is about.
#[derive(Debug, Default)]
pub struct Read {
    pub document: Option<Document>,
    pub problems: Vec<Problem>,
}

/// Reads `bytes` as a `.nir` file.
pub fn read(bytes: &[u8]) -> Read {
    let mut problems = Vec::new();
    let document = match catch_unwind(AssertUnwindSafe(|| read_inner(bytes, &mut problems))) {
        Ok(document) => document,
        Err(_) => {
            problems.push(Problem::error(
                codes::NOT_HDF5,
                Vec::new(),
                "the HDF5 structure could not be decoded (the decoder failed on it)",
            ));
            None
        }
    };
    Read { document, problems }
}

fn read_inner(bytes: &[u8], problems: &mut Vec<Problem>) -> Option<Document> {
    if !hdf5_pure::is_hdf5_bytes(bytes) {
        problems.push(Problem::error(
            codes::NOT_HDF5,
            Vec::new(),
            format!(
                "not an HDF5 file (a .nir file starts with the HDF5 signature \\x89HDF; {} bytes)",
                bytes.len()
            ),
        ));
        return None;
    }
    let file = match File::from_bytes(bytes.to_vec()) {
        Ok(file) => file,
        Err(error) => {
            problems.push(Problem::error(
                codes::NOT_HDF5,
                Vec::new(),
                format!("HDF5: {error}"),
            ));
            return None;
        }
    };
    let root = file.root();
    let mut reader = Reader {
        problems,
        nodes: 0,
        values: 0,
    };
    let version = match root.dataset("version") {
        Ok(dataset) => match reader.param(&dataset, &[], "version") {
            Some(Param::Text { value }) => value,
            _ => {
                reader.layout(&[], "the root `version` is not a string");
                String::new()
            }
        },
        Err(_) => {
            reader.layout(&[], "no root `version` dataset (written by nir.write?)");
            String::new()
        }
    };
    let Ok(node) = root.group("node") else {
        reader.layout(&[], "no root `node` group: not a NIR file");
        return None;
    };
    let root_node = reader.node(&node, "node", &[], 0)?;
    if root_node.type_name != "NIRGraph" {
        reader.layout(
            &[],
            format!(
                "the root node is a {}, a NIRGraph was expected",
                root_node.type_name
            ),
        );
    }
    let graph = root_node.graph.map(|g| *g).unwrap_or_default();
    Some(Document { version, graph })
}

struct Reader<'p> {
    problems: &'p mut Vec<Problem>,
    nodes: usize,
    values: usize,
}

impl Reader<'_> {
    fn layout(&mut self, path: &[String], message: impl Into<String>) {
        self.problems
            .push(Problem::error(codes::LAYOUT, path.to_vec(), message));
    }

    /// The node stored in `group`; `path` names it (empty for the root).
    fn node(&mut self, group: &Group, name: &str, path: &[String], depth: usize) -> Option<Node> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            if self.nodes == MAX_NODES + 1 {
                self.problems.push(Problem::error(
                    codes::LIMIT,
                    path.to_vec(),
                    format!("more than {MAX_NODES} nodes: the rest are not read"),
                ));
            }
            return None;
        }
        let type_name = match group.dataset("type") {
            Ok(dataset) => match self.param(&dataset, path, "type") {
                Some(Param::Text { value }) => value,
                _ => {
                    self.layout(path, "`type` is not a string");
                    return None;
                }
            },
            Err(_) => {
                self.layout(path, format!("node '{name}' has no `type` dataset"));
                return None;
            }
        };
        let mut node = Node::new(name, type_name);
        if node.type_name == "NIRGraph" {
            if depth >= MAX_DEPTH {
                self.problems.push(Problem::error(
                    codes::LIMIT,
                    path.to_vec(),
                    format!("graphs nest more than {MAX_DEPTH} deep: the inner ones are not read"),
                ));
                return Some(node);
            }
            node.graph = Some(Box::new(self.graph(group, path, depth)));
        }
        for dataset_name in sorted(group.datasets()) {
            if dataset_name == "type" || (node.graph.is_some() && dataset_name == "edges") {
                continue;
            }
            let Ok(dataset) = group.dataset(&dataset_name) else {
                continue;
            };
            if let Some(param) = self.param(&dataset, path, &dataset_name) {
                node.params.push((dataset_name, param));
            }
        }
        for child in sorted(group.groups()) {
            match child.as_str() {
                "metadata" => {
                    if let Ok(meta) = group.group("metadata") {
                        node.metadata = self.metadata(&meta, path);
                    }
                }
                "nodes" if node.graph.is_some() => {}
                other => self.problems.push(Problem::warning(
                    codes::UNKNOWN_PARAM,
                    path.to_vec(),
                    format!("group '{other}' is not part of a {} node", node.type_name),
                )),
            }
        }
        if node.graph.is_some()
            && let Some(graph) = node.graph.as_mut()
        {
            graph.metadata = std::mem::take(&mut node.metadata);
        }
        check_params(&node, path, self.problems);
        Some(node)
    }

    fn graph(&mut self, group: &Group, path: &[String], depth: usize) -> Graph {
        let mut graph = Graph::default();
        match group.group("nodes") {
            Ok(nodes) => {
                for name in sorted(nodes.groups()) {
                    let Ok(child) = nodes.group(&name) else {
                        continue;
                    };
                    let mut child_path = path.to_vec();
                    child_path.push(name.clone());
                    if let Some(node) = self.node(&child, &name, &child_path, depth + 1) {
                        graph.nodes.push(node);
                    }
                }
            }
            Err(_) => self.layout(path, "a NIRGraph without a `nodes` group"),
        }
        match group.dataset("edges") {
            Ok(dataset) => match self.param(&dataset, path, "edges") {
                Some(Param::Texts { shape, values }) if shape.len() == 2 && shape[1] == 2 => {
                    graph.edges = values
                        .chunks_exact(2)
                        .map(|pair| Edge::new(pair[0].clone(), pair[1].clone()))
                        .collect();
                }
                // `nir.write` stores an empty edge list as an empty float array.
                Some(Param::Array(array)) if array.is_empty() => {}
                Some(other) => self.layout(
                    path,
                    format!(
                        "`edges` is {}, a [n, 2] array of node names was expected",
                        other.type_text()
                    ),
                ),
                None => {}
            },
            Err(_) => self.layout(path, "a NIRGraph without an `edges` dataset"),
        }
        graph
    }

    fn metadata(&mut self, group: &Group, path: &[String]) -> Vec<(String, Param)> {
        let mut metadata = Vec::new();
        for name in sorted(group.datasets()) {
            if let Ok(dataset) = group.dataset(&name)
                && let Some(param) = self.param(&dataset, path, &name)
            {
                metadata.push((name, param));
            }
        }
        metadata
    }

    /// One dataset, its size checked before it is read.
    fn param(&mut self, dataset: &Dataset, path: &[String], name: &str) -> Option<Param> {
        match self.param_inner(dataset) {
            Ok(param) => Some(param),
            Err(message) => {
                self.problems.push(Problem::error(
                    codes::PARAM_TYPE,
                    path.to_vec(),
                    format!("`{name}`: {message}"),
                ));
                None
            }
        }
    }

    fn param_inner(&mut self, dataset: &Dataset) -> Result<Param, String> {
        let dims = dataset.shape().map_err(|e| e.to_string())?;
        let mut shape = Vec::with_capacity(dims.len());
        let mut count = 1usize;
        for &dim in &dims {
            let dim = usize::try_from(dim).map_err(|_| format!("dimension {dim} is too large"))?;
            count = count
                .checked_mul(dim)
                .ok_or_else(|| format!("shape {dims:?} overflows"))?;
            shape.push(dim);
        }
        let element_size = dataset.element_size().map_err(|e| e.to_string())? as usize;
        let budget = MAX_VALUES - self.values;
        if count > budget || count.saturating_mul(element_size.max(1)) > budget.saturating_mul(8) {
            return Err(format!(
                "shape {dims:?} holds more values than a NIR file may ({MAX_VALUES} in all)"
            ));
        }
        let dtype = dataset.dtype().map_err(|e| e.to_string())?;
        let numeric = |dtype: Dtype, values: Vec<f64>| -> Result<Param, String> {
            Ok(Param::Array(Array {
                dtype,
                shape: shape.clone(),
                values,
            }))
        };
        let e = |error: hdf5_pure::Error| error.to_string();
        use hdf5_pure::DType as H;
        let param = match dtype {
            H::F32 => numeric(Dtype::F32, widen(dataset.read_f32().map_err(e)?)),
            H::F64 => numeric(Dtype::F64, dataset.read_f64().map_err(e)?),
            H::I8 | H::I16 | H::I32 | H::I64 | H::U8 | H::U16 | H::U32 | H::U64 => {
                let (dtype, signed) = match dtype {
                    H::I8 => (Dtype::I8, true),
                    H::I16 => (Dtype::I16, true),
                    H::I32 => (Dtype::I32, true),
                    H::I64 => (Dtype::I64, true),
                    H::U8 => (Dtype::U8, false),
                    H::U16 => (Dtype::U16, false),
                    H::U32 => (Dtype::U32, false),
                    _ => (Dtype::U64, false),
                };
                let values: Vec<f64> = if signed {
                    let values = dataset.read_i64().map_err(e)?;
                    values.into_iter().map(|v| v as f64).collect()
                } else {
                    let values = dataset.read_u64().map_err(e)?;
                    values.into_iter().map(|v| v as f64).collect()
                };
                numeric(dtype, values)
            }
            // h5py stores numpy bools as an enum of int8 named FALSE/TRUE.
            H::Enum(names) if names.len() == 2 => {
                let values = dataset.read_i64().map_err(e)?;
                numeric(Dtype::Bool, values.into_iter().map(|v| v as f64).collect())
            }
            H::String | H::VariableLengthString => {
                let values = dataset.read_string().map_err(e)?;
                let chars: usize = values.iter().map(String::len).sum();
                if chars > budget {
                    return Err(format!("strings of {chars} bytes exceed the file's budget"));
                }
                self.values += chars;
                if shape.is_empty() {
                    let value = values.into_iter().next().unwrap_or_default();
                    return Ok(Param::Text { value });
                }
                return Ok(Param::Texts { shape, values });
            }
            other => return Err(format!("element type {other} is not one NIR uses")),
        }?;
        if let Param::Array(array) = &param
            && array.values.len() != count
        {
            return Err(format!(
                "holds {} values, shape {dims:?} needs {count}",
                array.values.len()
            ));
        }
        self.values += count;
        Ok(param)
    }
}

fn widen(values: Vec<f32>) -> Vec<f64> {
    values.into_iter().map(f64::from).collect()
}

fn sorted(names: Result<Vec<String>, hdf5_pure::Error>) -> Vec<String> {
    let mut names = names.unwrap_or_default();
    names.sort();
    names
}

/// Checks `node`'s parameters against its type in the schema: an unknown
/// type, missing required parameters, parameters of the wrong kind, extra
/// parameters.
pub(crate) fn check_params(node: &Node, path: &[String], problems: &mut Vec<Problem>) {
    let Some(spec) = schema::find(&node.type_name) else {
        problems.push(Problem::error(
            codes::UNKNOWN_TYPE,
            path.to_vec(),
            format!(
                "node '{}' has type '{}', which NIR does not define (known: {})",
                node.name,
                node.type_name,
                schema::TYPES
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        return;
    };
    for param in spec.params {
        match node.param(param.name) {
            None if param.required => problems.push(Problem::error(
                codes::MISSING_PARAM,
                path.to_vec(),
                format!(
                    "{} node '{}' has no `{}` ({})",
                    node.type_name, node.name, param.name, param.doc
                ),
            )),
            None => {}
            Some(value) => {
                let fits = match (param.kind, value) {
                    (ParamKind::Floats, Param::Array(_)) => true,
                    (ParamKind::Ints, Param::Array(a)) => {
                        !a.dtype.is_float() || a.values.iter().all(|v| v.fract() == 0.0)
                    }
                    (ParamKind::Padding, Param::Array(_)) => true,
                    (ParamKind::Padding, Param::Text { value }) => {
                        value == "same" || value == "valid"
                    }
                    _ => false,
                };
                if !fits {
                    problems.push(Problem::error(
                        codes::PARAM_TYPE,
                        path.to_vec(),
                        format!(
                            "`{}` of {} node '{}' is {}, {} was expected",
                            param.name,
                            node.type_name,
                            node.name,
                            value.type_text(),
                            match param.kind {
                                ParamKind::Floats => "a number array",
                                ParamKind::Ints => "whole numbers",
                                ParamKind::Padding => "whole numbers or 'same'/'valid'",
                            }
                        ),
                    ));
                }
            }
        }
    }
    for (name, _) in &node.params {
        if !spec.params.iter().any(|p| p.name == name) {
            problems.push(Problem::warning(
                codes::UNKNOWN_PARAM,
                path.to_vec(),
                format!(
                    "{} node '{}' has `{name}`, which NIR does not define for it (nir.read refuses it)",
                    node.type_name, node.name
                ),
            ));
        }
    }
}
