//! Writing a [`Document`] as `nir.write` does: a root `version` string and a
//! `node` group; every node a group with its `type` (a variable-length UTF-8
//! string, h5py's `string_dtype()`) and one dataset per parameter in its
//! element type; arrays gzip-compressed (level 4, h5py's default) and
//! scalars plain; graph edges as an `[n, 2]` array of strings (an empty list
//! as an empty float64 array, which is what h5py makes of `[]`); metadata in
//! a `metadata` group, left out when empty.
//!
//! The HDF5 container is superblock version 3 (HDF5 1.10 and later: the
//! oldest `hdf5-pure` writes chunked datasets in), where h5py's default is
//! version 0: the groups, datasets, element types and filters are the same,
//! so `nir.read` sees the same file.

use crate::graph::{Array, Document, Dtype, Graph, Node, Param};
use hdf5_pure::{FileBuilder, GroupBuilder};

/// Gzip level of array datasets (h5py's default for `compression="gzip"`).
const GZIP_LEVEL: u32 = 4;

#[derive(Debug, thiserror::Error)]
#[error("writing the NIR file: {0}")]
pub struct WriteError(String);

/// The document as the bytes of a `.nir` file.
pub fn write(document: &Document) -> Result<Vec<u8>, WriteError> {
    let mut file = FileBuilder::new();
    file.create_dataset("version")
        .with_vlen_strings(&[document.version.as_str()])
        .with_shape(&[]);
    let mut node = file.create_group("node");
    write_graph(&mut node, &document.graph, &[])?;
    file.add_group(node.finish());
    file.finish().map_err(|e| WriteError(e.to_string()))
}

fn write_graph(
    group: &mut GroupBuilder,
    graph: &Graph,
    extra: &[(String, Param)],
) -> Result<(), WriteError> {
    text(group, "type", "NIRGraph");
    let names: Vec<&str> = graph
        .edges
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .collect();
    if names.is_empty() {
        group
            .create_dataset("edges")
            .with_f64_data(&[])
            .with_shape(&[0]);
    } else {
        group
            .create_dataset("edges")
            .with_vlen_strings(&names)
            .with_shape(&[graph.edges.len() as u64, 2]);
    }
    let mut nodes = group.create_group("nodes");
    for node in &graph.nodes {
        let mut child = nodes.create_group(&node.name);
        write_node(&mut child, node)?;
        nodes.add_group(child.finish());
    }
    group.add_group(nodes.finish());
    for (name, param) in extra {
        write_param(group, name, param);
    }
    write_metadata(group, &graph.metadata);
    Ok(())
}

fn write_node(group: &mut GroupBuilder, node: &Node) -> Result<(), WriteError> {
    if let Some(graph) = &node.graph {
        return write_graph(group, graph, &node.params);
    }
    text(group, "type", &node.type_name);
    for (name, param) in &node.params {
        write_param(group, name, param);
    }
    write_metadata(group, &node.metadata);
    Ok(())
}

fn write_metadata(group: &mut GroupBuilder, metadata: &[(String, Param)]) {
    if metadata.is_empty() {
        return;
    }
    let mut meta = group.create_group("metadata");
    for (name, param) in metadata {
        write_param(&mut meta, name, param);
    }
    group.add_group(meta.finish());
}

fn text(group: &mut GroupBuilder, name: &str, value: &str) {
    group
        .create_dataset(name)
        .with_vlen_strings(&[value])
        .with_shape(&[]);
}

fn write_param(group: &mut GroupBuilder, name: &str, param: &Param) {
    match param {
        Param::Array(array) => write_array(group, name, array),
        Param::Text { value } => text(group, name, value),
        Param::Texts { shape, values } => {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            group
                .create_dataset(name)
                .with_vlen_strings(&refs)
                .with_shape(&shape);
        }
    }
}

fn write_array(group: &mut GroupBuilder, name: &str, array: &Array) {
    let dataset = group.create_dataset(name);
    let values = &array.values;
    match array.dtype {
        Dtype::F32 => dataset.with_f32_data(&values.iter().map(|&v| v as f32).collect::<Vec<_>>()),
        Dtype::F64 => dataset.with_f64_data(values),
        Dtype::I8 => dataset.with_i8_data(&values.iter().map(|&v| v as i8).collect::<Vec<_>>()),
        Dtype::I16 => dataset.with_i16_data(&values.iter().map(|&v| v as i16).collect::<Vec<_>>()),
        Dtype::I32 => dataset.with_i32_data(&values.iter().map(|&v| v as i32).collect::<Vec<_>>()),
        Dtype::I64 => dataset.with_i64_data(&values.iter().map(|&v| v as i64).collect::<Vec<_>>()),
        Dtype::U8 | Dtype::Bool => {
            dataset.with_u8_data(&values.iter().map(|&v| v as u8).collect::<Vec<_>>())
        }
        Dtype::U16 => dataset.with_u16_data(&values.iter().map(|&v| v as u16).collect::<Vec<_>>()),
        Dtype::U32 => dataset.with_u32_data(&values.iter().map(|&v| v as u32).collect::<Vec<_>>()),
        Dtype::U64 => dataset.with_u64_data(&values.iter().map(|&v| v as u64).collect::<Vec<_>>()),
    };
    let shape: Vec<u64> = array.shape.iter().map(|&d| d as u64).collect();
    dataset.with_shape(&shape);
    // Arrays are compressed as nir.write compresses numpy arrays; a scalar
    // or an empty array cannot be chunked (h5py stores those plainly too).
    if !array.shape.is_empty() && !array.values.is_empty() {
        dataset.with_deflate(GZIP_LEVEL);
    }
}
