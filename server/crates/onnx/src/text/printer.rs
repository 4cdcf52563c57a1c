//! The printer proper: a transcription of onnx/defs/printer.cc that records
//! where each anchor lands. Kept in the same order as the C++ so the two can
//! be compared function by function.

use super::number::{f32_text, f64_text};
use super::{Occurrence, PrintOptions};
use crate::diagnostic::{Anchor, GraphId};
use crate::proto::attribute_proto::AttributeType;
use crate::proto::tensor_proto::DataType;
use crate::proto::{
    AttributeProto, FunctionProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto,
    TensorProto, TypeProto, ValueInfoProto, type_proto,
};
use std::collections::HashSet;
use std::fmt::Write;

pub(super) fn print_model(model: &ModelProto, options: &PrintOptions) -> (String, Vec<Occurrence>) {
    let mut p = Printer {
        out: String::new(),
        occ: Vec::new(),
        indent: 3,
        options,
        scopes: Vec::new(),
    };
    p.model(model);
    (p.out, p.occ)
}

struct Printer<'a> {
    out: String,
    occ: Vec<Occurrence>,
    indent: usize,
    options: &'a PrintOptions,
    /// Initializer names of the enclosing graphs, innermost last: a node
    /// input naming one anchors to the initializer.
    scopes: Vec<HashSet<String>>,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    }
}

fn elem_name(elem: i32) -> &'static str {
    match DataType::try_from(elem) {
        Ok(DataType::Undefined) | Err(_) => "",
        Ok(_) => crate::dtype::onnx_name(elem),
    }
}

fn attr_type_name(t: i32) -> &'static str {
    match AttributeType::try_from(t) {
        Ok(AttributeType::Float) => "float",
        Ok(AttributeType::Int) => "int",
        Ok(AttributeType::String) => "string",
        Ok(AttributeType::Tensor) => "tensor",
        Ok(AttributeType::Graph) => "graph",
        Ok(AttributeType::SparseTensor) => "sparse_tensor",
        Ok(AttributeType::TypeProto) => "type_proto",
        Ok(AttributeType::Floats) => "floats",
        Ok(AttributeType::Ints) => "ints",
        Ok(AttributeType::Strings) => "strings",
        Ok(AttributeType::Tensors) => "tensors",
        Ok(AttributeType::Graphs) => "graphs",
        Ok(AttributeType::SparseTensors) => "sparse_tensors",
        Ok(AttributeType::TypeProtos) => "type_protos",
        Ok(AttributeType::Undefined) | Err(_) => "",
    }
}

impl Printer<'_> {
    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn spaces(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }
    fn mark(&mut self, anchor: Anchor, start: usize, definition: bool) {
        let end = self.out.len();
        self.occ.push(Occurrence {
            anchor,
            start,
            end,
            definition,
        });
    }

    fn quoted(&mut self, s: &str) {
        self.out.push('"');
        for ch in s.chars() {
            if ch == '\\' || ch == '"' {
                self.out.push('\\');
            }
            self.out.push(ch);
        }
        self.out.push('"');
    }
    fn quoted_bytes(&mut self, b: &[u8]) {
        self.quoted(&String::from_utf8_lossy(b));
    }
    fn id(&mut self, s: &str) {
        if is_identifier(s) {
            self.w(s)
        } else {
            self.quoted(s)
        }
    }
    /// A value name, recorded as a value (or initializer) occurrence.
    fn value_id(&mut self, graph: &GraphId, name: &str, definition: bool) {
        let start = self.out.len();
        self.id(name);
        if name.is_empty() {
            return;
        }
        let anchor = if !definition && self.scopes.iter().rev().any(|s| s.contains(name)) {
            Anchor::Initializer {
                graph: self.initializer_graph(graph, name),
                name: name.to_owned(),
            }
        } else {
            Anchor::Value {
                graph: graph.clone(),
                name: name.to_owned(),
            }
        };
        self.mark(anchor, start, definition);
    }
    /// Which enclosing graph holds initializer `name` (scopes align with the
    /// chain of `GraphId::Sub` parents).
    fn initializer_graph(&self, graph: &GraphId, name: &str) -> GraphId {
        let mut chain = vec![graph.clone()];
        let mut g = graph;
        while let GraphId::Sub(parent, _, _) = g {
            chain.push((**parent).clone());
            g = parent;
        }
        // chain[0] is innermost; scopes.last() is innermost.
        for (depth, scope) in self.scopes.iter().rev().enumerate() {
            if scope.contains(name) {
                return chain.get(depth).cloned().unwrap_or_else(|| graph.clone());
            }
        }
        graph.clone()
    }

    fn dim(&mut self, d: &crate::proto::tensor_shape_proto::Dimension) {
        use crate::proto::tensor_shape_proto::dimension::Value;
        match &d.value {
            Some(Value::DimValue(v)) => {
                let _ = write!(self.out, "{v}");
            }
            Some(Value::DimParam(p)) => self.id(p),
            None => self.w("?"),
        }
    }
    fn shape(&mut self, s: &crate::proto::TensorShapeProto) {
        self.each(["[", ",", "]"], &s.dim, |p, d| p.dim(d));
    }
    fn tensor_type(&mut self, elem: Option<i32>, shape: Option<&crate::proto::TensorShapeProto>) {
        self.w(elem_name(elem.unwrap_or(0)));
        match shape {
            Some(s) if !s.dim.is_empty() => self.shape(s),
            Some(_) => {}
            None => self.w("[]"),
        }
    }
    /// `open`, the inner type (when there is one), then `)`.
    fn type_of(&mut self, open: &str, inner: Option<&TypeProto>) {
        self.w(open);
        if let Some(inner) = inner {
            self.type_proto(inner);
        }
        self.w(")");
    }

    fn type_proto(&mut self, t: &TypeProto) {
        match &t.value {
            Some(type_proto::Value::TensorType(tt)) => {
                self.tensor_type(tt.elem_type, tt.shape.as_ref())
            }
            Some(type_proto::Value::SequenceType(s)) => {
                self.type_of("seq(", s.elem_type.as_deref());
            }
            Some(type_proto::Value::MapType(m)) => {
                let key = format!("map({}, ", elem_name(m.key_type.unwrap_or(0)));
                self.type_of(&key, m.value_type.as_deref());
            }
            Some(type_proto::Value::OptionalType(o)) => {
                self.type_of("optional(", o.elem_type.as_deref());
            }
            Some(type_proto::Value::SparseTensorType(s)) => {
                self.w("sparse_tensor(");
                self.tensor_type(s.elem_type, s.shape.as_ref());
                self.w(")");
            }
            Some(type_proto::Value::OpaqueType(o)) => {
                self.w("opaque(");
                if let Some(d) = o.domain.as_deref().filter(|d| !d.is_empty()) {
                    self.w(d);
                    self.w(",");
                }
                if let Some(n) = o.name.as_deref().filter(|n| !n.is_empty()) {
                    self.w(n);
                }
                self.w(")");
            }
            None => {}
        }
    }

    /// `open`, then each item written by `write` with `sep` between, then `close`.
    fn each<T>(
        &mut self,
        [open, sep, close]: [&str; 3],
        items: impl IntoIterator<Item = T>,
        mut write: impl FnMut(&mut Self, T),
    ) {
        self.w(open);
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.w(sep);
            }
            write(self, item);
        }
        self.w(close);
    }

    fn list<T: Copy + std::fmt::Display>(
        &mut self,
        open: &str,
        sep: &str,
        close: &str,
        items: &[T],
    ) {
        self.each([open, sep, close], items, |p, v| {
            let _ = write!(p.out, "{v}");
        });
    }
    fn float_list(
        &mut self,
        open: &str,
        sep: &str,
        close: &str,
        items: impl Iterator<Item = String>,
    ) {
        self.each([open, sep, close], items, |p, v| p.w(&v));
    }

    fn entries(&mut self, entries: &[StringStringEntryProto]) {
        self.w("[");
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.quoted(e.key.as_deref().unwrap_or(""));
            self.w(": ");
            self.quoted(e.value.as_deref().unwrap_or(""));
        }
        self.w("]");
    }

    fn tensor(&mut self, t: &TensorProto, is_initializer: bool) {
        let dtype = t.data_type.unwrap_or(0);
        self.w(elem_name(dtype));
        if !t.dims.is_empty() {
            self.list("[", ",", "]", &t.dims);
        }
        if let Some(name) = t.name.as_deref().filter(|n| !n.is_empty()) {
            self.w(" ");
            self.id(name);
        }
        if is_initializer {
            self.w(" = ");
        }
        if crate::tensor::is_external(t) {
            self.entries(&t.external_data);
            return;
        }
        if let Some(max) = self.options.max_tensor_elements
            && crate::tensor::stored_count(t).is_ok_and(|n| n > max as u64)
        {
            self.w(" {...}");
            return;
        }
        if let Some(raw) = &t.raw_data {
            self.raw_tensor(dtype, raw);
            return;
        }
        match DataType::try_from(dtype) {
            Ok(
                DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Uint8
                | DataType::Uint16
                | DataType::Bool
                | DataType::Float16
                | DataType::Bfloat16
                | DataType::Float8e4m3fn
                | DataType::Float8e4m3fnuz
                | DataType::Float8e5m2
                | DataType::Float8e5m2fnuz
                | DataType::Float8e8m0,
            ) => self.list(" {", ",", "}", &t.int32_data),
            Ok(DataType::Int64) => self.list(" {", ",", "}", &t.int64_data),
            Ok(DataType::Uint32 | DataType::Uint64) => self.list(" {", ",", "}", &t.uint64_data),
            Ok(DataType::Float) => {
                self.float_list(" {", ",", "}", t.float_data.iter().map(|&v| f32_text(v)))
            }
            Ok(DataType::Double) => {
                self.float_list(" {", ",", "}", t.double_data.iter().map(|&v| f64_text(v)))
            }
            Ok(DataType::String) => {
                self.each(["{", ", ", "}"], &t.string_data, |p, s| p.quoted_bytes(s))
            }
            _ => self.w("..."),
        }
    }

    /// `raw_data` decoded little-endian; narrow types widen as the C++ does
    /// (float16/bfloat16/float8 print their bit patterns).
    fn raw_tensor(&mut self, dtype: i32, raw: &[u8]) {
        fn each<const N: usize>(
            raw: &[u8],
            f: impl Fn([u8; N]) -> String,
        ) -> impl Iterator<Item = String> {
            raw.chunks_exact(N)
                .map(move |c| f(c.try_into().unwrap_or([0; N])))
        }
        let items: Box<dyn Iterator<Item = String>> = match DataType::try_from(dtype) {
            Ok(DataType::Int8) => Box::new(each::<1>(raw, |b| (b[0] as i8).to_string())),
            Ok(
                DataType::Uint8
                | DataType::Bool
                | DataType::Float8e4m3fn
                | DataType::Float8e4m3fnuz
                | DataType::Float8e5m2
                | DataType::Float8e5m2fnuz
                | DataType::Float8e8m0,
            ) => Box::new(each::<1>(raw, |b| b[0].to_string())),
            Ok(DataType::Int16) => Box::new(each::<2>(raw, |b| i16::from_le_bytes(b).to_string())),
            Ok(DataType::Uint16 | DataType::Float16 | DataType::Bfloat16) => {
                Box::new(each::<2>(raw, |b| u16::from_le_bytes(b).to_string()))
            }
            Ok(DataType::Int32) => Box::new(each::<4>(raw, |b| i32::from_le_bytes(b).to_string())),
            Ok(DataType::Uint32) => Box::new(each::<4>(raw, |b| u32::from_le_bytes(b).to_string())),
            Ok(DataType::Int64) => Box::new(each::<8>(raw, |b| i64::from_le_bytes(b).to_string())),
            Ok(DataType::Uint64) => Box::new(each::<8>(raw, |b| u64::from_le_bytes(b).to_string())),
            Ok(DataType::Float) => Box::new(each::<4>(raw, |b| f32_text(f32::from_le_bytes(b)))),
            Ok(DataType::Double) => Box::new(each::<8>(raw, |b| f64_text(f64::from_le_bytes(b)))),
            _ => {
                self.w("...");
                return;
            }
        };
        self.float_list(" {", ",", "}", items);
    }

    fn value_info(&mut self, vi: &ValueInfoProto, graph: &GraphId, definition: bool) {
        if let Some(t) = &vi.r#type {
            self.type_proto(t);
        }
        self.w(" ");
        self.value_id(graph, vi.name.as_deref().unwrap_or(""), definition);
    }
    fn value_infos(&mut self, list: &[ValueInfoProto], graph: &GraphId, definition: bool) {
        self.each(["(", ", ", ")"], list, |p, vi| {
            p.value_info(vi, graph, definition)
        });
    }

    fn attribute(&mut self, a: &AttributeProto, graph: &GraphId, node_index: usize) {
        let name = a.name.as_deref().unwrap_or("");
        let ty = attr_type_name(a.r#type.unwrap_or(0));
        if let Some(r) = &a.ref_attr_name {
            let _ = write!(self.out, "{name}: {ty} = @{r}");
            return;
        }
        let _ = write!(self.out, "{name}: {ty} = ");
        match AttributeType::try_from(a.r#type.unwrap_or(0)) {
            Ok(AttributeType::Int) => {
                let _ = write!(self.out, "{}", a.i.unwrap_or(0));
            }
            Ok(AttributeType::Ints) => self.list("[", ", ", "]", &a.ints),
            Ok(AttributeType::Float) => self.w(&f32_text(a.f.unwrap_or(0.0))),
            Ok(AttributeType::Floats) => {
                self.float_list("[", ", ", "]", a.floats.iter().map(|&v| f32_text(v)))
            }
            Ok(AttributeType::String) => self.quoted_bytes(a.s.as_deref().unwrap_or(b"")),
            Ok(AttributeType::Strings) => {
                self.each(["[", ", ", "]"], &a.strings, |p, s| p.quoted_bytes(s))
            }
            Ok(AttributeType::Graph) => {
                self.indent += 3;
                let id = GraphId::Sub(Box::new(graph.clone()), node_index, name.to_owned());
                self.graph(a.g.as_deref().unwrap_or(&GraphProto::default()), &id);
                self.indent -= 3;
            }
            Ok(AttributeType::Graphs) => {
                self.indent += 3;
                let id = GraphId::Sub(Box::new(graph.clone()), node_index, name.to_owned());
                self.each(["[", ", ", "]"], &a.graphs, |p, g| p.graph(g, &id));
                self.indent -= 3;
            }
            Ok(AttributeType::Tensor) => {
                self.tensor(a.t.as_deref().unwrap_or(&TensorProto::default()), false)
            }
            Ok(AttributeType::Tensors) => {
                self.each(["[", ", ", "]"], &a.tensors, |p, t| p.tensor(t, false));
            }
            Ok(AttributeType::TypeProto) => {
                if let Some(tp) = &a.tp {
                    self.type_proto(tp);
                }
            }
            Ok(AttributeType::TypeProtos) => {
                self.each(["[", ", ", "]"], &a.type_protos, |p, t| p.type_proto(t));
            }
            _ => {}
        }
    }
    fn attributes(&mut self, attrs: &[AttributeProto], graph: &GraphId, node_index: usize) {
        self.each([" <", ", ", ">"], attrs, |p, a| {
            p.attribute(a, graph, node_index)
        });
    }

    fn node(&mut self, n: &NodeProto, graph: &GraphId, index: usize) {
        self.spaces(self.indent);
        let start = self.out.len();
        if let Some(name) = &n.name {
            self.w("[");
            self.id(name);
            self.w("] ");
        }
        for (i, o) in n.output.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.value_id(graph, o, true);
        }
        self.w(" = ");
        if let Some(d) = n.domain.as_deref().filter(|d| !d.is_empty()) {
            self.w(d);
            self.w(".");
        }
        self.w(n.op_type.as_deref().unwrap_or(""));
        if let Some(o) = n.overload.as_deref().filter(|o| !o.is_empty()) {
            self.w(":");
            self.w(o);
        }
        let has_subgraph = n
            .attribute
            .iter()
            .any(|a| a.g.is_some() || !a.graphs.is_empty());
        if !has_subgraph && !n.attribute.is_empty() {
            self.attributes(&n.attribute, graph, index);
        }
        self.each([" (", ", ", ")"], &n.input, |p, x| {
            p.value_id(graph, x, false)
        });
        if has_subgraph && !n.attribute.is_empty() {
            self.attributes(&n.attribute, graph, index);
        }
        self.mark(
            Anchor::Node {
                graph: graph.clone(),
                index,
            },
            start,
            true,
        );
        self.w("\n");
    }
    fn nodes(&mut self, nodes: &[NodeProto], graph: &GraphId) {
        self.w("{\n");
        for (i, n) in nodes.iter().enumerate() {
            self.node(n, graph, i);
        }
        if self.indent > 3 {
            // setw(indent - 3) << "   ": at least the three spaces.
            self.spaces((self.indent - 3).max(3));
        }
        self.w("}");
    }

    fn graph(&mut self, g: &GraphProto, id: &GraphId) {
        let start = self.out.len();
        self.id(g.name.as_deref().unwrap_or(""));
        self.mark(Anchor::Graph(id.clone()), start, true);
        self.w(" ");
        self.value_infos(&g.input, id, true);
        self.w(" => ");
        // Outputs are uses of values defined by nodes (or inputs).
        self.scopes.push(
            g.initializer
                .iter()
                .filter_map(|t| t.name.clone())
                .collect(),
        );
        self.value_infos(&g.output, id, false);
        self.w(" ");
        if !g.initializer.is_empty() || !g.value_info.is_empty() {
            self.w("\n");
            self.spaces(self.indent);
            self.w("<");
            let mut sep = "";
            for t in &g.initializer {
                self.w(sep);
                let s = self.out.len();
                self.tensor(t, true);
                let name = t.name.clone().unwrap_or_default();
                self.mark(
                    Anchor::Initializer {
                        graph: id.clone(),
                        name,
                    },
                    s,
                    true,
                );
                sep = ", ";
            }
            for vi in &g.value_info {
                self.w(sep);
                self.value_info(vi, id, false);
                sep = ", ";
            }
            self.w(">\n");
        }
        self.nodes(&g.node, id);
        self.scopes.pop();
    }

    fn key_value(&mut self, key: &str, first: bool) {
        if !first {
            self.w(",\n");
        }
        self.spaces(self.indent);
        self.w(key);
        self.w(": ");
    }

    fn model(&mut self, m: &ModelProto) {
        let start = self.out.len();
        self.w("<\n");
        self.key_value("ir_version", true);
        let _ = write!(self.out, "{}", m.ir_version.unwrap_or(0));
        self.key_value("opset_import", false);
        self.opsets(&m.opset_import, ", ");
        for (key, value) in [
            ("producer_name", &m.producer_name),
            ("producer_version", &m.producer_version),
            ("domain", &m.domain),
        ] {
            if let Some(v) = value {
                self.key_value(key, false);
                self.quoted(v);
            }
        }
        if let Some(v) = m.model_version {
            self.key_value("model_version", false);
            let _ = write!(self.out, "{v}");
        }
        if let Some(v) = &m.doc_string {
            self.key_value("doc_string", false);
            self.quoted(v);
        }
        if !m.metadata_props.is_empty() {
            self.key_value("metadata_props", false);
            self.entries(&m.metadata_props);
        }
        self.w("\n>");
        self.mark(Anchor::Model, start, true);
        self.w("\n");
        self.graph(
            m.graph.as_ref().unwrap_or(&GraphProto::default()),
            &GraphId::Main,
        );
        for f in &m.functions {
            self.w("\n");
            self.function(f);
        }
    }

    fn opsets(&mut self, opsets: &[crate::proto::OperatorSetIdProto], sep: &str) {
        self.w("[");
        for (i, o) in opsets.iter().enumerate() {
            if i > 0 {
                self.w(sep);
            }
            self.quoted(o.domain.as_deref().unwrap_or(""));
            let _ = write!(self.out, " : {}", o.version.unwrap_or(0));
        }
        self.w("]");
    }

    fn function(&mut self, f: &FunctionProto) {
        let domain = f.domain.clone().unwrap_or_default();
        let name = f.name.clone().unwrap_or_default();
        let overload = f.overload.clone().unwrap_or_default();
        let id = GraphId::Function {
            domain: domain.clone(),
            name: name.clone(),
            overload: overload.clone(),
        };
        let start = self.out.len();
        self.w("<\n  domain: ");
        self.quoted(&domain);
        self.w(",\n");
        if !overload.is_empty() {
            self.w("  overload: ");
            self.quoted(&overload);
            self.w(",\n");
        }
        self.w("  opset_import: ");
        self.opsets(&f.opset_import, ",");
        self.w("\n>\n");
        self.id(&name);
        self.w(" ");
        if !f.attribute.is_empty() {
            self.w("<");
            self.w(&f.attribute.join(","));
            self.w(">");
        }
        self.each(["(", ", ", ") => ("], &f.input, |p, x| {
            p.value_id(&id, x, true)
        });
        for (i, x) in f.output.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.value_id(&id, x, false);
        }
        self.w(")");
        self.mark(
            Anchor::Function {
                domain,
                name,
                overload,
            },
            start,
            true,
        );
        self.w("\n");
        let saved = std::mem::take(&mut self.scopes);
        self.nodes(&f.node, &id);
        self.scopes = saved;
    }
}
