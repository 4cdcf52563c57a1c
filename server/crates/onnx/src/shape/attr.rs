//! Reading node attributes by name.

use crate::proto::{NodeProto, TensorProto};

fn find<'a>(node: &'a NodeProto, name: &str) -> Option<&'a crate::proto::AttributeProto> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

pub fn int(node: &NodeProto, name: &str) -> Option<i64> {
    find(node, name).and_then(|a| a.i)
}

pub fn ints<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [i64]> {
    find(node, name).map(|a| a.ints.as_slice())
}

pub fn floats<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [f32]> {
    find(node, name).map(|a| a.floats.as_slice())
}

pub fn string<'a>(node: &'a NodeProto, name: &str) -> Option<&'a str> {
    find(node, name)
        .and_then(|a| a.s.as_ref())
        .and_then(|s| std::str::from_utf8(s).ok())
}

pub fn strings_len(node: &NodeProto, name: &str) -> usize {
    find(node, name).map_or(0, |a| a.strings.len())
}

pub fn tensor<'a>(node: &'a NodeProto, name: &str) -> Option<&'a TensorProto> {
    find(node, name).and_then(|a| a.t.as_ref())
}

pub fn has(node: &NodeProto, name: &str) -> bool {
    find(node, name).is_some()
}
