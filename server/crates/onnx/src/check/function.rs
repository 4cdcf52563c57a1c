//! Model-local functions (onnx's `check_model_local_functions` /
//! `check_function` / `check_opset_compatibility`) and training info graphs.

use super::scope::{Def, Scope};
use super::{Checker, GraphCx, Opsets, codes};
use crate::diagnostic::{Anchor, GraphId};
use crate::hash::{HashMap, HashSet};
use crate::proto::{FunctionProto, ModelProto};
use crate::schema;

impl<'m, 'c> Checker<'m, 'c> {
    pub(crate) fn check_functions(&mut self, model: &'m ModelProto, model_opsets: &Opsets<'m>) {
        // onnx merges every function's imports into the model's (the model's
        // version wins) to compare versions a function relies on.
        let mut merged = model_opsets.clone();
        for function in &model.functions {
            for import in &function.opset_import {
                merged
                    .entry(schema::canonical_domain(import.domain()))
                    .or_insert(import.version());
            }
        }
        let mut seen = HashSet::default();
        for function in &model.functions {
            let key = (
                schema::canonical_domain(function.domain()),
                function.name(),
                function.overload(),
            );
            if !seen.insert(key) {
                let message = format!(
                    "local function '{}' (domain '{}', overload '{}') is defined more than once",
                    function.name(),
                    function.domain(),
                    function.overload()
                );
                self.error(
                    codes::FUNCTION_DUPLICATE,
                    function_anchor(function),
                    message,
                );
            }
            self.check_function(function, &merged);
        }
    }

    fn check_function(&mut self, function: &'m FunctionProto, merged: &Opsets<'m>) {
        let anchor = function_anchor(function);
        let title = format!("local function '{}'", function.name());
        if function.name().is_empty() {
            self.error(
                codes::FUNCTION_NAME,
                anchor.clone(),
                "local function has an empty name".to_owned(),
            );
        }
        if self.ir_version() >= 8 && function.domain.is_none() {
            let message = format!("{title}: domain is not set (required from ir_version 8)");
            self.error(codes::FUNCTION_NAME, anchor.clone(), message);
        }
        let mut opsets = Opsets::default();
        for import in &function.opset_import {
            opsets.insert(schema::canonical_domain(import.domain()), import.version());
        }
        let mut scope = Scope::root();
        for input in &function.input {
            if scope.this_graph(input).is_some() {
                let message = format!(
                    "{title}: input '{input}' is listed more than once: each name must be defined once (SSA)"
                );
                self.error(codes::SSA, anchor.clone(), message);
            }
            scope.add(input, Def::FunctionInput);
        }
        for (list, names) in [
            (
                "output",
                function
                    .output
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            ),
            (
                "attribute",
                function
                    .attribute
                    .iter()
                    .map(String::as_str)
                    .chain(function.attribute_proto.iter().map(|a| a.name()))
                    .collect(),
            ),
        ] {
            let mut seen = HashSet::default();
            for name in names {
                if !seen.insert(name) {
                    let message = format!("{title}: {list} '{name}' is listed more than once");
                    self.error(codes::FUNCTION_SIGNATURE, anchor.clone(), message);
                }
            }
        }
        for attr in &function.attribute_proto {
            let what = || format!("{title}: default of attribute '{}'", attr.name());
            self.check_attribute(attr, &anchor, &what, Some(function));
        }
        let id = GraphId::Function {
            domain: function.domain().to_owned(),
            name: function.name().to_owned(),
            overload: function.overload().to_owned(),
        };
        for (index, node) in function.node.iter().enumerate() {
            self.check_opset_compatibility(node, index, &id, &title, &opsets, merged);
        }
        let gcx = GraphCx {
            id,
            is_main: false,
            function: Some(function),
            depth: 0,
            place: format!(" in {title}"),
        };
        self.check_nodes(
            &function.node,
            &gcx,
            &mut scope,
            &opsets,
            super::graph::Body::Function,
        );
        for output in &function.output {
            if scope.this_graph(output).is_none() {
                let message = format!(
                    "{title}: output '{output}' is produced by no node and is no function input"
                );
                self.error(codes::UNDEFINED_OUTPUT, anchor.clone(), message);
            }
        }
    }

    /// A function may import a domain at another version than the model,
    /// as long as its operators resolve to the same schema versions.
    fn check_opset_compatibility(
        &mut self,
        node: &crate::proto::NodeProto,
        index: usize,
        id: &GraphId,
        title: &str,
        function_opsets: &Opsets<'m>,
        model_opsets: &Opsets<'m>,
    ) {
        let domain = schema::canonical_domain(node.domain());
        let (Some(&in_function), Some(&in_model)) =
            (function_opsets.get(domain), model_opsets.get(domain))
        else {
            return; // a missing import is reported as an unknown domain
        };
        if in_function == in_model {
            return;
        }
        let for_model = schema::lookup(domain, node.op_type(), in_model).map(|s| s.since_version);
        let for_function =
            schema::lookup(domain, node.op_type(), in_function).map(|s| s.since_version);
        if (for_model.is_some() || for_function.is_some()) && for_model != for_function {
            let message = format!(
                "{} in {title}: the function imports domain '{domain}' version {in_function} but the model imports {in_model}, and {} differs between them",
                super::graph::node_label(index, node),
                node.op_type()
            );
            self.error(
                codes::FUNCTION_OPSET_MISMATCH,
                Anchor::Node {
                    graph: id.clone(),
                    index,
                },
                message,
            );
        }
    }

    /// Training info: both graphs checked like subgraphs that see the main
    /// graph's values; bindings name main-graph initializers and outputs of
    /// their own graph (onnx.checker itself does not look at training info).
    pub(crate) fn check_training_info(
        &mut self,
        model: &'m ModelProto,
        main_names: Option<&HashMap<&'m str, Def>>,
        opsets: &Opsets<'m>,
    ) {
        let mut outer = Scope::root();
        if let Some(names) = main_names {
            outer.names = names.clone();
        }
        let initializers: HashSet<&str> = model
            .graph
            .iter()
            .flat_map(|g| g.initializer.iter().map(|t| t.name()))
            .collect();
        for (index, info) in model.training_info.iter().enumerate() {
            for (role, graph, bindings) in [
                (
                    "initialization",
                    &info.initialization,
                    &info.initialization_binding,
                ),
                ("algorithm", &info.algorithm, &info.update_binding),
            ] {
                let id = GraphId::Training(index, role.to_owned());
                let place = format!(" in training_info[{index}].{role}");
                let outputs: HashSet<&str> = graph
                    .iter()
                    .flat_map(|g| g.output.iter().map(|o| o.name()))
                    .collect();
                if let Some(graph) = graph {
                    let gcx = GraphCx {
                        id: id.clone(),
                        is_main: false,
                        function: None,
                        depth: 0,
                        place: place.clone(),
                    };
                    self.check_graph(graph, &gcx, Some(&outer), opsets);
                }
                for binding in bindings {
                    let (key, value) = (binding.key(), binding.value());
                    let problem = if !initializers.contains(key) {
                        Some(format!(
                            "binding key '{key}' is not an initializer of the main graph"
                        ))
                    } else if !outputs.contains(value) {
                        Some(format!(
                            "binding value '{value}' is not an output of the {role} graph"
                        ))
                    } else {
                        None
                    };
                    if let Some(problem) = problem {
                        self.error(
                            codes::TRAINING_BINDING,
                            Anchor::Graph(id.clone()),
                            format!("training_info[{index}]: {problem}"),
                        );
                    }
                }
            }
        }
    }
}

fn function_anchor(function: &FunctionProto) -> Anchor {
    Anchor::Function {
        domain: function.domain().to_owned(),
        name: function.name().to_owned(),
        overload: function.overload().to_owned(),
    }
}
