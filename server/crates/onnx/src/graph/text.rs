//! Small text helpers shared by the views: how shapes, types and attributes
//! are spelled, escaping for XML and DOT, and shortening long labels.

use crate::dtype::onnx_name;
use crate::proto::attribute_proto::AttributeType;
use crate::proto::tensor_shape_proto::dimension;
use crate::proto::type_proto;
use crate::proto::{AttributeProto, TensorShapeProto, TypeProto};
use std::fmt::Write;

/// Lists longer than this are shown as their first items and a count.
const LIST_ITEMS_SHOWN: usize = 8;
/// Strings in attributes are cut at this many characters.
const STRING_CHARS_SHOWN: usize = 40;

/// `float[1,64]` from an initializer's element type and dims.
pub fn tensor_shape(data_type: i32, dims: &[i64]) -> String {
    let mut out = String::from(onnx_name(data_type));
    out.push('[');
    for (index, dim) in dims.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{dim}");
    }
    out.push(']');
    out
}

fn shape_dims(shape: &TensorShapeProto, out: &mut String) {
    out.push('[');
    for (index, dim) in shape.dim.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        match &dim.value {
            Some(dimension::Value::DimValue(value)) => {
                let _ = write!(out, "{value}");
            }
            Some(dimension::Value::DimParam(param)) if !param.is_empty() => out.push_str(param),
            _ => out.push('?'),
        }
    }
    out.push(']');
}

/// The display form of a declared type: `float[N,64]`, `float` (rank
/// unknown), `seq(map(int64,float))`; `None` when the type says nothing.
pub fn type_display(type_proto: &TypeProto) -> Option<String> {
    type_display_depth(type_proto, 0)
}

fn type_display_depth(type_proto: &TypeProto, depth: usize) -> Option<String> {
    // Types nest (sequence of map of ...); a hostile model could nest them
    // deeply, so stop describing past a few levels.
    if depth > 4 {
        return Some("…".to_owned());
    }
    let inner = |boxed: &Option<Box<TypeProto>>| {
        boxed
            .as_deref()
            .and_then(|t| type_display_depth(t, depth + 1))
            .unwrap_or_else(|| "?".to_owned())
    };
    match type_proto.value.as_ref()? {
        type_proto::Value::TensorType(tensor) => {
            let mut out = String::from(onnx_name(tensor.elem_type()));
            if let Some(shape) = &tensor.shape {
                shape_dims(shape, &mut out);
            }
            Some(out)
        }
        type_proto::Value::SparseTensorType(tensor) => {
            let mut out = format!("sparse {}", onnx_name(tensor.elem_type()));
            if let Some(shape) = &tensor.shape {
                shape_dims(shape, &mut out);
            }
            Some(out)
        }
        type_proto::Value::SequenceType(sequence) => {
            Some(format!("seq({})", inner(&sequence.elem_type)))
        }
        type_proto::Value::OptionalType(optional) => {
            Some(format!("optional({})", inner(&optional.elem_type)))
        }
        type_proto::Value::MapType(map) => Some(format!(
            "map({},{})",
            onnx_name(map.key_type()),
            inner(&map.value_type)
        )),
        type_proto::Value::OpaqueType(opaque) => {
            Some(format!("opaque({}.{})", opaque.domain(), opaque.name()))
        }
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let mut out = String::from("[");
    for (index, item) in items.iter().take(LIST_ITEMS_SHOWN).enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{item}");
    }
    if items.len() > LIST_ITEMS_SHOWN {
        let _ = write!(out, ",… ({} items)", items.len());
    }
    out.push(']');
    out
}

fn quoted(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    format!("\"{}\"", ellipsize_end(&text, STRING_CHARS_SHOWN))
}

/// A one-line summary of an attribute's value. Tensors and graphs are
/// described, never dumped.
pub fn attribute_summary(attribute: &AttributeProto) -> String {
    if !attribute.ref_attr_name().is_empty() {
        return format!("@{}", attribute.ref_attr_name());
    }
    match attribute.r#type() {
        AttributeType::Float => format!("{}", attribute.f()),
        AttributeType::Int => format!("{}", attribute.i()),
        AttributeType::String => quoted(attribute.s()),
        AttributeType::Tensor => match &attribute.t {
            Some(tensor) => format!("tensor {}", tensor_shape(tensor.data_type(), &tensor.dims)),
            None => "tensor".to_owned(),
        },
        AttributeType::Graph => match &attribute.g {
            Some(graph) => format!("graph({} nodes)", graph.node.len()),
            None => "graph".to_owned(),
        },
        AttributeType::Floats => list(&attribute.floats),
        AttributeType::Ints => list(&attribute.ints),
        AttributeType::Strings => {
            let shown: Vec<String> = attribute
                .strings
                .iter()
                .take(LIST_ITEMS_SHOWN + 1)
                .map(|s| quoted(s))
                .collect();
            let mut out = list(&shown[..shown.len().min(LIST_ITEMS_SHOWN)]);
            if attribute.strings.len() > LIST_ITEMS_SHOWN {
                out.truncate(out.len() - 1);
                let _ = write!(out, ",… ({} items)]", attribute.strings.len());
            }
            out
        }
        AttributeType::Tensors => format!("{} tensors", attribute.tensors.len()),
        AttributeType::Graphs => format!("{} graphs", attribute.graphs.len()),
        AttributeType::SparseTensor => "sparse tensor".to_owned(),
        AttributeType::SparseTensors => {
            format!("{} sparse tensors", attribute.sparse_tensors.len())
        }
        AttributeType::TypeProto => "type".to_owned(),
        AttributeType::TypeProtos => format!("{} types", attribute.type_protos.len()),
        AttributeType::Undefined => infer_untyped(attribute),
    }
}

/// Old exporters leave `type` unset; guess from the field that is filled.
fn infer_untyped(attribute: &AttributeProto) -> String {
    if !attribute.ints.is_empty() {
        list(&attribute.ints)
    } else if !attribute.floats.is_empty() {
        list(&attribute.floats)
    } else if let Some(value) = attribute.i {
        format!("{value}")
    } else if let Some(value) = attribute.f {
        format!("{value}")
    } else if let Some(value) = &attribute.s {
        quoted(value)
    } else {
        "?".to_owned()
    }
}

/// Keeps the first `max_chars` characters, marking a cut with `…`.
pub fn ellipsize_end(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Keeps the last `max_chars` characters (node names are most specific at
/// their end: `…/layer.3/attention/MatMul`).
pub fn ellipsize_start(text: &str, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text.to_owned();
    }
    let mut out = String::from("…");
    out.extend(text.chars().skip(count - max_chars.saturating_sub(1)));
    out
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    escape(text, |ch| match ch {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&apos;"),
        // XML 1.0 forbids most control characters even as references.
        c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => Some("\u{FFFD}"),
        _ => None,
    })
}

/// Escapes text inside a DOT double-quoted string (`\n` stays a line break).
pub fn dot_escape(text: &str) -> String {
    escape(text, |ch| match ch {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '\n' => Some("\\n"),
        c if c.is_control() => Some(" "),
        _ => None,
    })
}

/// `text` with the characters `replacement` names replaced.
fn escape(text: &str, replacement: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match replacement(ch) {
            Some(replaced) => out.push_str(replaced),
            None => out.push(ch),
        }
    }
    out
}
