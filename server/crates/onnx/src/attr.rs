//! Reading a node's attributes by name: the one reader that the checker's
//! shape rules, both inference engines and the converter share.
//!
//! A reader answers `None` when the attribute is absent or its field is unset
//! (a malformed attribute then reads as absent and the op's default applies).
//! List readers answer the stored slice, possibly empty.

use crate::proto::{AttributeProto, GraphProto, NodeProto, TensorProto};

/// The attribute `name` of `node`, if present.
pub fn find<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

pub fn has(node: &NodeProto, name: &str) -> bool {
    find(node, name).is_some()
}

pub fn int(node: &NodeProto, name: &str) -> Option<i64> {
    find(node, name).and_then(|a| a.i)
}

pub fn float(node: &NodeProto, name: &str) -> Option<f32> {
    find(node, name).and_then(|a| a.f)
}

/// A string attribute that is valid UTF-8.
pub fn string<'a>(node: &'a NodeProto, name: &str) -> Option<&'a str> {
    find(node, name)
        .and_then(|a| a.s.as_ref())
        .and_then(|s| std::str::from_utf8(s).ok())
}

/// A string attribute, invalid UTF-8 replaced (labels and names to show).
pub fn text(node: &NodeProto, name: &str) -> Option<String> {
    find(node, name)
        .and_then(|a| a.s.as_ref())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

pub fn ints<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [i64]> {
    find(node, name).map(|a| a.ints.as_slice())
}

pub fn floats<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [f32]> {
    find(node, name).map(|a| a.floats.as_slice())
}

/// A list of strings, invalid UTF-8 replaced.
pub fn strings(node: &NodeProto, name: &str) -> Option<Vec<String>> {
    find(node, name).map(|a| {
        a.strings
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    })
}

pub fn strings_len(node: &NodeProto, name: &str) -> usize {
    find(node, name).map_or(0, |a| a.strings.len())
}

pub fn tensor<'a>(node: &'a NodeProto, name: &str) -> Option<&'a TensorProto> {
    find(node, name).and_then(|a| a.t.as_deref())
}

/// A graph attribute (the bodies of If, Loop, Scan, SequenceMap).
pub fn graph<'a>(node: &'a NodeProto, name: &str) -> Option<&'a GraphProto> {
    find(node, name).and_then(|a| a.g.as_deref())
}

/// Every graph attribute of `node` (`g` and `graphs`), in attribute order.
pub fn graphs(node: &NodeProto) -> impl Iterator<Item = &GraphProto> {
    node.attribute
        .iter()
        .flat_map(|a| a.g.as_deref().into_iter().chain(a.graphs.iter()))
}

/// [`graphs`], to rewrite them.
pub fn graphs_mut(node: &mut NodeProto) -> impl Iterator<Item = &mut GraphProto> {
    node.attribute
        .iter_mut()
        .flat_map(|a| a.g.as_deref_mut().into_iter().chain(a.graphs.iter_mut()))
}
