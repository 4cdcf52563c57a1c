//! The model checker: every rule `onnx.checker.check_model` applies (its
//! `checker.cc` and `OpSchema::Verify`), plus a few it leaves out (graph
//! outputs produced, tensor sizes against dims, cycles told apart from
//! unsorted nodes), but collecting every problem instead of stopping at the
//! first. Each problem is a [`Diagnostic`] with a stable code from [`codes`].
//!
//! The checker does no IO: whatever needs the disk (external data files)
//! goes through [`CheckContext::external_files`].

pub mod codes;
mod function;
mod graph;
mod node;
mod scope;
mod tensor;

use crate::diagnostic::{Anchor, Diagnostic, GraphId};
use crate::hash::HashMap;
use crate::load::{ExternalDataError, Model, ModelDir};
use crate::proto::{FunctionProto, ModelProto};
use crate::schema;

/// Answers the one question about the outside world the checker has: how
/// long is the external data file at `location` (relative to the model's
/// folder), refusing files that are missing or outside that folder.
pub trait ExternalFiles {
    fn file_len(&self, location: &str) -> Result<u64, ExternalDataError>;
}

impl ExternalFiles for ModelDir {
    fn file_len(&self, location: &str) -> Result<u64, ExternalDataError> {
        ModelDir::file_len(self, location)
    }
}

/// What the checker needs from outside the model.
#[derive(Clone, Copy, Default)]
pub struct CheckContext<'a> {
    /// Where external data files are looked up; `None` skips the file
    /// checks (the location is still checked lexically).
    pub external_files: Option<&'a dyn ExternalFiles>,
    /// Fail nodes of custom domains that have no schema (onnx's
    /// `check_custom_domain`); off by default, as in onnx.
    pub check_custom_domain: bool,
}

/// Checks a decoded model; every problem found, errors and warnings, in the
/// order the model is walked.
pub fn check_model(model: &ModelProto, ctx: &CheckContext) -> Vec<Diagnostic> {
    let mut checker = Checker::new(model, ctx);
    checker.check_model(model);
    checker.diagnostics
}

/// Checks a loaded model, looking external data up in the model's folder.
pub fn check_loaded(model: &Model) -> Vec<Diagnostic> {
    let dir = model.dir();
    let ctx = CheckContext {
        external_files: dir.as_ref().map(|d| d as &dyn ExternalFiles),
        check_custom_domain: false,
    };
    check_model(&model.proto, &ctx)
}

/// Imported opset version per canonical domain (`ai.onnx` is `""`).
pub(crate) type Opsets<'m> = HashMap<&'m str, i64>;

/// Subgraphs nested deeper than this are not followed (prost stops decoding
/// at 100 message levels, about 33 subgraph levels, so only models built in
/// memory get here).
const MAX_DEPTH: usize = 64;

pub(crate) struct Checker<'m, 'c> {
    ctx: &'c CheckContext<'c>,
    ir_version: i64,
    /// Local functions by (domain, name, overload).
    functions: HashMap<(&'m str, &'m str, &'m str), &'m FunctionProto>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Schema lookups so far: a graph uses few distinct ops many times.
    schemas: HashMap<(&'m str, &'m str, i64), Option<&'static schema::OpSchema>>,
}

/// Where a graph sits and what rules apply to it.
#[derive(Clone)]
pub(crate) struct GraphCx<'m> {
    pub(crate) id: GraphId,
    /// onnx relaxes value-info rules for everything but the main graph.
    pub(crate) is_main: bool,
    /// The function whose body this is (or holds this subgraph): attribute
    /// references resolve against its attributes.
    pub(crate) function: Option<&'m FunctionProto>,
    pub(crate) depth: usize,
    /// " in <where>" for messages about non-main graphs, empty for the main graph.
    pub(crate) place: String,
}

impl<'m, 'c> Checker<'m, 'c> {
    fn new(model: &'m ModelProto, ctx: &'c CheckContext<'c>) -> Self {
        let functions = model
            .functions
            .iter()
            .map(|f| {
                (
                    (schema::canonical_domain(f.domain()), f.name(), f.overload()),
                    f,
                )
            })
            .collect();
        Checker {
            ctx,
            ir_version: model.ir_version(),
            functions,
            diagnostics: Vec::new(),
            schemas: HashMap::default(),
        }
    }

    pub(crate) fn error(&mut self, code: &'static str, anchor: Anchor, message: String) {
        self.diagnostics
            .push(Diagnostic::error(code, anchor, message));
    }

    pub(crate) fn warning(&mut self, code: &'static str, anchor: Anchor, message: String) {
        self.diagnostics
            .push(Diagnostic::warning(code, anchor, message));
    }

    fn check_model(&mut self, model: &'m ModelProto) {
        self.check_ir_version(model);
        self.check_metadata(model);
        let opsets = self.model_opsets(model);
        let main_names = match &model.graph {
            Some(graph) => {
                let gcx = GraphCx {
                    id: GraphId::Main,
                    is_main: true,
                    function: None,
                    depth: 0,
                    place: String::new(),
                };
                Some(self.check_graph(graph, &gcx, None, &opsets))
            }
            None => {
                let message = "model has no graph: ModelProto.graph (field 7) expected, none found"
                    .to_owned();
                self.error(codes::MISSING_GRAPH, Anchor::Model, message);
                None
            }
        };
        // onnx checks local functions from IR 8 on, when they were introduced.
        if self.ir_version >= 8 || !model.functions.is_empty() {
            self.check_functions(model, &opsets);
        }
        self.check_training_info(model, main_names.as_ref(), &opsets);
    }

    fn check_ir_version(&mut self, model: &ModelProto) {
        match model.ir_version {
            None | Some(0) => self.error(
                codes::IR_VERSION_MISSING,
                Anchor::Model,
                "model has no ir_version: ModelProto.ir_version (field 1) must be set, e.g. 8"
                    .to_owned(),
            ),
            Some(v) if !(0..=schema::MAX_IR_VERSION).contains(&v) => self.error(
                codes::IR_VERSION_UNSUPPORTED,
                Anchor::Model,
                format!(
                    "ir_version {v} is not supported: expected 1..={} (onnx {})",
                    schema::MAX_IR_VERSION,
                    schema::ONNX_PACKAGE_VERSION
                ),
            ),
            Some(_) => {}
        }
    }

    fn check_metadata(&mut self, model: &ModelProto) {
        let mut seen = crate::hash::HashSet::default();
        for entry in &model.metadata_props {
            if !seen.insert(entry.key()) {
                self.error(
                    codes::METADATA_DUPLICATE_KEY,
                    Anchor::Model,
                    format!(
                        "metadata_props has key '{}' more than once: keys must be unique",
                        entry.key()
                    ),
                );
            }
        }
    }

    /// The model's opset imports as onnx reads them (the last entry for a
    /// domain wins; IR < 3 models implicitly import the default domain at 1).
    fn model_opsets(&mut self, model: &'m ModelProto) -> Opsets<'m> {
        let mut opsets = Opsets::default();
        for import in &model.opset_import {
            let domain = schema::canonical_domain(import.domain());
            let version = import.version();
            if let Some(previous) = opsets
                .insert(domain, version)
                .filter(|previous| *previous != version)
            {
                self.warning(
                    codes::OPSET_IMPORT_DUPLICATE,
                    Anchor::Model,
                    format!("opset_import lists domain '{domain}' twice (versions {previous} and {version}): onnx uses the last, {version}"),
                );
            }
            if let Some(max) = schema::max_opset(domain).filter(|max| version > *max) {
                self.warning(
                    codes::OPSET_TOO_NEW,
                    Anchor::Model,
                    format!("opset_import: domain '{domain}' version {version} is newer than the newest known ({max}, onnx {}); ops are checked against version {max}", schema::ONNX_PACKAGE_VERSION),
                );
            }
        }
        let ir = self.ir_version;
        if ir >= 3 && opsets.is_empty() {
            let message = format!(
                "ir_version {ir} requires opset_import (e.g. domain '' version 17), none found"
            );
            self.error(codes::OPSET_IMPORT_MISSING, Anchor::Model, message);
        } else if (1..3).contains(&ir) {
            if opsets.is_empty() {
                opsets.insert("", 1);
            } else {
                let message = format!(
                    "ir_version {ir} (< 3) predates opset_import, but the model has {} entries",
                    model.opset_import.len()
                );
                self.error(codes::OPSET_IMPORT_FORBIDDEN, Anchor::Model, message);
            }
        }
        opsets
    }

    pub(crate) fn schema(
        &mut self,
        domain: &'m str,
        op: &'m str,
        version: i64,
    ) -> Option<&'static schema::OpSchema> {
        *self
            .schemas
            .entry((domain, op, version))
            .or_insert_with(|| schema::lookup(domain, op, version))
    }

    pub(crate) fn ctx(&self) -> &CheckContext<'c> {
        self.ctx
    }

    pub(crate) fn ir_version(&self) -> i64 {
        self.ir_version
    }

    pub(crate) fn local_function(
        &self,
        domain: &str,
        name: &str,
        overload: &str,
    ) -> Option<&'m FunctionProto> {
        self.functions
            .get(&(schema::canonical_domain(domain), name, overload))
            .copied()
    }
}

/// Formats on demand: names in messages are built only when a problem is
/// reported, which keeps the clean path free of string formatting.
pub(crate) struct Lazy<F: Fn(&mut std::fmt::Formatter) -> std::fmt::Result>(pub(crate) F);

impl<F: Fn(&mut std::fmt::Formatter) -> std::fmt::Result> std::fmt::Display for Lazy<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        (self.0)(f)
    }
}
