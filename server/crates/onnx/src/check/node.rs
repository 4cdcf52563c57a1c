//! Node rules: op_type, domain imported, the operator's schema at the
//! imported opset (onnx's `check_node` + `OpSchema::Verify`), attribute
//! well-formedness (`check_attribute`), and subgraphs held by attributes.

use super::graph::node_label;
use super::scope::Scope;
use super::{Checker, GraphCx, MAX_DEPTH, Opsets, codes};
use crate::diagnostic::{Anchor, GraphId};
use crate::proto::{AttributeProto, FunctionProto, GraphProto, NodeProto};
use crate::schema::{self, AttrType, OpSchema, ParamOption};

/// A node being checked and what it is checked against: its graph, the
/// names in scope before it and the imported opsets. Displayed, it is the
/// node as messages name it (`node 3 'r' (Relu) in then_branch of ...`).
pub(crate) struct NodeCx<'m, 'p, 'a> {
    pub(crate) node: &'m NodeProto,
    pub(crate) index: usize,
    pub(crate) gcx: &'a GraphCx<'m>,
    pub(crate) scope: &'a Scope<'m, 'p>,
    pub(crate) opsets: &'a Opsets<'m>,
}

impl NodeCx<'_, '_, '_> {
    /// Where diagnostics about the node point.
    fn anchor(&self) -> Anchor {
        Anchor::Node {
            graph: self.gcx.id.clone(),
            index: self.index,
        }
    }
}

impl std::fmt::Display for NodeCx<'_, '_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}{}", node_label(self.index, self.node), self.gcx.place)
    }
}

/// Operators onnx once had as experimental and removed; onnx.checker only warns.
const EXPERIMENTAL_OPS: &[&str] = &[
    "ATen",
    "Affine",
    "ConstantFill",
    "Crop",
    "DynamicSlice",
    "GRUUnit",
    "GivenTensorFill",
    "ImageScaler",
    "ParametricSoftplus",
    "Scale",
    "ScaledTanh",
];

impl<'m, 'c> Checker<'m, 'c> {
    pub(crate) fn check_node(&mut self, at: &NodeCx<'m, '_, '_>) {
        let node = at.node;
        if node.op_type().is_empty() {
            self.error(
                codes::NODE_OP_TYPE,
                at.anchor(),
                format!("{at}: op_type is empty, an operator name was expected"),
            );
        }
        if node.input.is_empty() && node.output.is_empty() {
            self.error(
                codes::NODE_NO_IO,
                at.anchor(),
                format!("{at}: has neither inputs nor outputs"),
            );
        }
        let domain = schema::canonical_domain(node.domain());
        let version = at.opsets.get(domain).copied();
        if version.is_none() {
            let mut imported: Vec<String> = at.opsets.keys().map(|d| format!("'{d}'")).collect();
            imported.sort();
            let message = format!(
                "{at}: domain '{domain}' is not imported: opset_import has no entry for it (imported: {})",
                if imported.is_empty() {
                    "none".to_owned()
                } else {
                    imported.join(", ")
                }
            );
            self.error(codes::UNKNOWN_DOMAIN, at.anchor(), message);
        }

        self.check_node_attributes(at);

        let is_standard = schema::is_builtin_domain(domain);
        if domain.is_empty() && EXPERIMENTAL_OPS.contains(&node.op_type()) {
            let message = format!(
                "{}: {} is a removed experimental operator; runtimes may reject it",
                at,
                node.op_type()
            );
            return self.warning(codes::EXPERIMENTAL_OP, at.anchor(), message);
        }
        if let Some(function) = self.local_function(domain, node.op_type(), node.overload()) {
            return self.check_call_arity(node, function, at.anchor(), at);
        }
        let Some(version) = version.filter(|_| !node.op_type().is_empty()) else {
            return;
        };
        let Some(op) = self.schema(domain, node.op_type(), version) else {
            if let Some(first) = schema::versions(domain, node.op_type()).first() {
                let message = format!(
                    "{}: {} exists only from opset {} of domain '{domain}', but the model imports version {version}",
                    at,
                    node.op_type(),
                    first.since_version
                );
                self.error(codes::OP_NOT_IN_OPSET, at.anchor(), message);
            } else if is_standard || self.ctx().check_custom_domain {
                let message = format!(
                    "{}: no operator '{}' in domain '{domain}' (opset {version})",
                    at,
                    node.op_type()
                );
                self.error(codes::UNKNOWN_OP, at.anchor(), message);
            }
            return;
        };
        if op.deprecated {
            let message = format!(
                "{}: {} is deprecated (removed) since opset {} of domain '{domain}'; the model imports {version}, and onnx.checker rejects it",
                at,
                node.op_type(),
                op.since_version
            );
            return self.warning(codes::DEPRECATED_OP, at.anchor(), message);
        }
        self.verify_against_schema(node, op, at.anchor(), at);
    }

    /// A node calling a model-local function passes at most as many inputs
    /// and outputs as the function declares.
    fn check_call_arity(
        &mut self,
        node: &NodeProto,
        function: &FunctionProto,
        anchor: Anchor,
        label: &dyn std::fmt::Display,
    ) {
        for (what, given, declared) in [
            ("inputs", node.input.len(), function.input.len()),
            ("outputs", node.output.len(), function.output.len()),
        ] {
            if given > declared {
                let message = format!(
                    "{label}: has {given} {what}, local function '{}' declares {declared}",
                    function.name()
                );
                self.error(codes::ARITY, anchor.clone(), message);
            }
        }
    }

    /// `OpSchema::Verify`: input/output counts and required positions,
    /// attribute names, types and presence.
    fn verify_against_schema(
        &mut self,
        node: &NodeProto,
        op: &OpSchema,
        anchor: Anchor,
        label: &dyn std::fmt::Display,
    ) {
        let version = super::Lazy(|f: &mut std::fmt::Formatter| {
            write!(f, "{} (version {})", op.name, op.since_version)
        });
        for (what, given, min, max, formals, names) in [
            (
                "inputs",
                node.input.len(),
                op.min_input,
                op.max_input,
                op.inputs,
                &node.input,
            ),
            (
                "outputs",
                node.output.len(),
                op.min_output,
                op.max_output,
                op.outputs,
                &node.output,
            ),
        ] {
            let given = given as i64;
            if given < i64::from(min) || given > i64::from(max) {
                let range = if max == i32::MAX {
                    format!("at least {min}")
                } else if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                };
                let message = format!("{label}: has {given} {what}, {version} takes {range}");
                self.error(codes::ARITY, anchor.clone(), message);
            } else if formals
                .last()
                .is_none_or(|last| last.option != ParamOption::Variadic)
                && given > formals.len() as i64
            {
                let message = format!(
                    "{label}: has {given} {what}, {version} declares {}",
                    formals.len()
                );
                self.error(codes::ARITY, anchor.clone(), message);
            }
            for (position, name) in names.iter().enumerate() {
                let Some(formal) = formals.get(position) else {
                    break;
                };
                if name.is_empty() && formal.option == ParamOption::Single {
                    let (code, one) = if what == "inputs" {
                        (codes::MISSING_INPUT, "input")
                    } else {
                        (codes::MISSING_OUTPUT, "output")
                    };
                    let message = format!(
                        "{label}: {one} {position} '{}' of {version} is required but given as ''",
                        formal.name
                    );
                    self.error(code, anchor.clone(), message);
                }
            }
        }
        let mut seen = Vec::with_capacity(node.attribute.len());
        for attr in &node.attribute {
            let name = attr.name();
            seen.push(name);
            // onnx ignores attributes named with two leading underscores.
            if name.starts_with("__") || name.is_empty() {
                continue;
            }
            let Some(declared) = op.attribute(name) else {
                let known: Vec<&str> = op.attributes.iter().map(|a| a.name).collect();
                let known = if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                };
                let message =
                    format!("{label}: {version} has no attribute '{name}' (it has: {known})");
                self.error(codes::UNKNOWN_ATTRIBUTE, anchor.clone(), message);
                continue;
            };
            let found = attr.r#type.unwrap_or(0);
            if found != declared.ty.proto_value() {
                let found_name = AttrType::from_proto(found).map_or_else(
                    || format!("unknown type {found}"),
                    |t| t.proto_name().to_owned(),
                );
                let message = format!(
                    "{label}: attribute '{name}' must be {}, found {found_name}",
                    declared.ty.proto_name()
                );
                self.error(codes::ATTRIBUTE_TYPE, anchor.clone(), message);
                continue;
            }
            if !attr.ref_attr_name().is_empty() {
                continue;
            }
            let missing_field = match declared.ty {
                AttrType::Tensor if attr.t.is_none() => Some("t"),
                AttrType::SparseTensor if attr.sparse_tensor.is_none() => Some("sparse_tensor"),
                AttrType::Graph if attr.g.is_none() => Some("g"),
                AttrType::TypeProto if attr.tp.is_none() => Some("tp"),
                _ => None,
            };
            if let Some(field) = missing_field {
                let message = format!(
                    "{label}: attribute '{name}' is {} but its field '{field}' is not set",
                    declared.ty.proto_name()
                );
                self.error(codes::ATTRIBUTE_PROTO, anchor.clone(), message);
            }
        }
        for declared in op.attributes.iter().filter(|a| a.required) {
            if !seen.contains(&declared.name) {
                let message = format!(
                    "{label}: required attribute '{}' ({}) of {version} is missing",
                    declared.name,
                    declared.ty.proto_name()
                );
                self.error(codes::MISSING_ATTRIBUTE, anchor.clone(), message);
            }
        }
    }

    fn check_node_attributes(&mut self, at: &NodeCx<'m, '_, '_>) {
        let node = at.node;
        for (position, attr) in node.attribute.iter().enumerate() {
            if node.attribute[..position]
                .iter()
                .any(|earlier| earlier.name() == attr.name())
            {
                let message = format!("{at}: attribute '{}' is set more than once", attr.name());
                self.error(codes::DUPLICATE_ATTRIBUTE, at.anchor(), message);
            }
            let what = || format!("{at}: attribute '{}'", attr.name());
            self.check_attribute(attr, &at.anchor(), &what, at.gcx.function);
            let subgraphs = attr.g.as_deref().map(|g| (attr.name().to_owned(), g));
            let listed = attr
                .graphs
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("{}[{i}]", attr.name()), g));
            for (slot, graph) in subgraphs.into_iter().chain(listed) {
                self.check_subgraph(graph, at, slot);
            }
        }
    }

    fn check_subgraph(&mut self, graph: &'m GraphProto, at: &NodeCx<'m, '_, '_>, slot: String) {
        let gcx = at.gcx;
        let place = format!(" in {slot} of {at}");
        let id = GraphId::Sub(Box::new(gcx.id.clone()), at.index, slot);
        if gcx.depth >= MAX_DEPTH {
            let message = format!(
                "subgraph{place} is nested more than {MAX_DEPTH} levels deep; not checked further"
            );
            return self.error(codes::TOO_DEEP, Anchor::Graph(id), message);
        }
        let sub = GraphCx {
            id,
            is_main: false,
            function: gcx.function,
            depth: gcx.depth + 1,
            place,
        };
        // SAFETY of lifetimes: the subgraph sees the names defined so far.
        self.check_graph(graph, &sub, Some(at.scope), at.opsets);
    }

    /// onnx's `check_attribute`: a name, a type (IR >= 2), at most one value
    /// field and the one the type names; tensors inside are checked too.
    pub(crate) fn check_attribute(
        &mut self,
        attr: &'m AttributeProto,
        anchor: &Anchor,
        what: &dyn Fn() -> String,
        function: Option<&'m FunctionProto>,
    ) {
        if attr.name().is_empty() {
            self.error(
                codes::ATTRIBUTE_PROTO,
                anchor.clone(),
                format!("{}: attribute name is empty", what()),
            );
        }
        if self.ir_version() >= 2 && attr.r#type.is_none_or(|t| t == 0) {
            self.error(
                codes::ATTRIBUTE_PROTO,
                anchor.clone(),
                format!("{}: AttributeProto.type is not set", what()),
            );
        }
        let fields = [
            (attr.f.is_some(), AttrType::Float, "f"),
            (attr.i.is_some(), AttrType::Int, "i"),
            (attr.s.is_some(), AttrType::String, "s"),
            (attr.t.is_some(), AttrType::Tensor, "t"),
            (attr.g.is_some(), AttrType::Graph, "g"),
            (attr.tp.is_some(), AttrType::TypeProto, "tp"),
            (
                attr.sparse_tensor.is_some(),
                AttrType::SparseTensor,
                "sparse_tensor",
            ),
            (!attr.floats.is_empty(), AttrType::Floats, "floats"),
            (!attr.ints.is_empty(), AttrType::Ints, "ints"),
            (!attr.strings.is_empty(), AttrType::Strings, "strings"),
            (!attr.tensors.is_empty(), AttrType::Tensors, "tensors"),
            (!attr.graphs.is_empty(), AttrType::Graphs, "graphs"),
            (
                !attr.sparse_tensors.is_empty(),
                AttrType::SparseTensors,
                "sparse_tensors",
            ),
            (
                !attr.type_protos.is_empty(),
                AttrType::TypeProtos,
                "type_protos",
            ),
        ];
        let used: Vec<(AttrType, &str)> =
            fields.iter().filter(|f| f.0).map(|f| (f.1, f.2)).collect();
        if let Some(declared) = attr.r#type.filter(|t| *t != 0) {
            for (ty, field) in &used {
                if ty.proto_value() != declared {
                    let declared = AttrType::from_proto(declared).map_or_else(
                        || format!("unknown type {declared}"),
                        |t| t.proto_name().to_owned(),
                    );
                    let message = format!(
                        "{}: type is {declared} but the value is in field '{field}' ({})",
                        what(),
                        ty.proto_name()
                    );
                    self.error(codes::ATTRIBUTE_PROTO, anchor.clone(), message);
                }
            }
        }
        if used.len() > 1 {
            let names: Vec<&str> = used.iter().map(|u| u.1).collect();
            let message = format!(
                "{}: has {} value fields ({}), exactly one was expected",
                what(),
                used.len(),
                names.join(", ")
            );
            self.error(codes::ATTRIBUTE_PROTO, anchor.clone(), message);
        }
        if !attr.ref_attr_name().is_empty() {
            self.check_attribute_ref(attr, anchor, what, function, !used.is_empty());
        }
        if let Some(t) = &attr.t {
            self.check_tensor(
                t,
                anchor,
                &super::Lazy(|f: &mut std::fmt::Formatter| f.write_str(&what())),
            );
        }
        if let Some(sparse) = &attr.sparse_tensor {
            self.check_sparse_tensor(
                sparse,
                anchor,
                &super::Lazy(|f: &mut std::fmt::Formatter| f.write_str(&what())),
            );
        }
        for (i, t) in attr.tensors.iter().enumerate() {
            self.check_tensor(
                t,
                anchor,
                &super::Lazy(|f: &mut std::fmt::Formatter| write!(f, "{}[{i}]", what())),
            );
        }
        for (i, sparse) in attr.sparse_tensors.iter().enumerate() {
            self.check_sparse_tensor(
                sparse,
                anchor,
                &super::Lazy(|f: &mut std::fmt::Formatter| write!(f, "{}[{i}]", what())),
            );
        }
    }

    fn check_attribute_ref(
        &mut self,
        attr: &AttributeProto,
        anchor: &Anchor,
        what: &dyn Fn() -> String,
        function: Option<&FunctionProto>,
        has_value: bool,
    ) {
        let target = attr.ref_attr_name();
        let Some(function) = function else {
            let message = format!(
                "{}: refers to attribute '{target}' of a calling function, but it is not inside a function body",
                what()
            );
            return self.error(codes::ATTRIBUTE_REF, anchor.clone(), message);
        };
        if has_value {
            let message = format!(
                "{}: refers to attribute '{target}' of the calling node, so it must not carry a value too",
                what()
            );
            self.error(codes::ATTRIBUTE_PROTO, anchor.clone(), message);
        }
        let declared = function
            .attribute
            .iter()
            .map(String::as_str)
            .chain(function.attribute_proto.iter().map(|a| a.name()));
        if !declared.clone().any(|name| name == target) {
            let names: Vec<&str> = declared.collect();
            let message = format!(
                "{}: refers to attribute '{target}', which function '{}' does not declare (it declares: {})",
                what(),
                function.name(),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            );
            self.error(codes::ATTRIBUTE_REF, anchor.clone(), message);
        }
    }
}
