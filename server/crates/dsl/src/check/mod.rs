//! The semantic checker: resolves names, binds files through the
//! [`Workspace`], propagates shapes through every network and pipeline, and
//! checks arguments, units and value ranges. It returns an [`Analysis`]: the
//! diagnostics plus everything the editor features need (what each name
//! refers to, each layer's shapes, each item's file facts).

mod app;
mod items;
mod network;
mod runs;
mod values;

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;

use crate::fxhash::FxHashMap;
use crate::syntax::ast::{Entry, Item, ItemKind};
use crate::syntax::{Parse, TextRange};
use crate::workspace::{ArchiveFacts, FileFact, ModelFacts, Shape, Workspace};

pub use values::{Unit, parse_unit};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

/// A text edit: replace `range` with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

/// A fix offered for a diagnostic (a quick-fix code action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// Stable code, e.g. `neuro/unknown-name`.
    pub code: &'static str,
    pub message: String,
    pub fixes: Vec<Fix>,
}

/// What a name (or an archive key) refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Def {
    /// A top-level item, by index into `parse.ast.items`.
    Item(usize),
    /// An entry of an item's block (input, layer, output, sensor, rule, the
    /// sink of a pipeline), by item and entry index.
    Entry(usize, usize),
    /// One array of the archive bound by a `weights` or `dataset` item.
    ArchiveKey { item: usize, key: String },
    /// An input of the model bound by a `model` item.
    ModelInput { item: usize, name: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub range: TextRange,
    pub def: Def,
    /// True at the place that defines the name.
    pub is_definition: bool,
}

/// Shapes and size of one layer of a written network.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerInfo {
    pub item: usize,
    pub entry: usize,
    pub inputs: Vec<Option<Shape>>,
    pub output: Option<Shape>,
    pub parameters: u64,
}

/// What the checker learned about one item.
#[derive(Clone, Debug, Default)]
pub struct ItemInfo {
    /// The path written in `onnx("...")` / `npz("...")`.
    pub path: Option<String>,
    pub model: Option<Arc<ModelFacts>>,
    pub archive: Option<Arc<ArchiveFacts>>,
    /// Per-sample input and output shapes (networks and models).
    pub inputs: Vec<(String, Option<Shape>)>,
    pub outputs: Vec<(String, Option<Shape>)>,
    pub parameters: u64,
    /// For a converted network: the source model's item index.
    pub source_model: Option<usize>,
    /// For a `to_image(...)` dataset: what it is made from and how.
    pub image: Option<ImageDataset>,
}

impl ItemInfo {
    /// Takes a model's per-sample inputs and outputs and its parameter count.
    pub(crate) fn set_signature(&mut self, facts: &ModelFacts) {
        let per_sample = |tensors: &[crate::workspace::TensorFact]| {
            tensors
                .iter()
                .map(|t| (t.name.clone(), t.shape.as_ref().map(Shape::per_sample)))
                .collect()
        };
        self.inputs = per_sample(&facts.inputs);
        self.outputs = per_sample(&facts.outputs);
        self.parameters = facts.parameter_count;
    }
}

/// A dataset made by `to_image(DATA, size: [H, W], method, assign, fit, map)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageDataset {
    /// The dataset holding the table (an `npz(...)` dataset).
    pub source: usize,
    /// The dataset whose rows the map is fitted on (default: `source`).
    pub fit: Option<usize>,
    /// `[height, width]`.
    pub size: [u64; 2],
    pub method: String,
    pub assign: String,
    /// A saved map (path as written) used instead of fitting.
    pub map: Option<String>,
    /// Features per row of the table, when known.
    pub features: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    pub references: Vec<Reference>,
    pub items: Vec<ItemInfo>,
    pub layers: Vec<LayerInfo>,
    /// Top-level names to item indexes (first definition wins).
    pub names: HashMap<String, usize>,
}

impl Analysis {
    pub fn layer(&self, item: usize, entry: usize) -> Option<&LayerInfo> {
        self.layers
            .iter()
            .find(|layer| layer.item == item && layer.entry == entry)
    }
    /// The reference whose range touches `offset` (the innermost/shortest).
    pub fn reference_at(&self, offset: usize) -> Option<&Reference> {
        self.references
            .iter()
            .filter(|reference| reference.range.touches(offset))
            .min_by_key(|reference| reference.range.len())
    }
    pub fn references_to<'a>(&'a self, def: &'a Def) -> impl Iterator<Item = &'a Reference> + 'a {
        self.references
            .iter()
            .filter(move |reference| &reference.def == def)
    }
}

/// Checks a parsed file against the workspace. Syntax errors are included as
/// `neuro/syntax` diagnostics, so this is the one list to publish.
pub fn check(parse: &Parse, workspace: &dyn Workspace) -> Analysis {
    let mut checker = Checker::new(parse, workspace);
    for error in &parse.errors {
        checker.push(
            error.range,
            Severity::Error,
            "neuro/syntax",
            error.message.clone(),
        );
    }
    checker.collect_names();
    for index in 0..parse.ast.items.len() {
        items::check_file_item(&mut checker, index);
    }
    // Datasets made from others, once every file-bound dataset is known.
    for index in 0..parse.ast.items.len() {
        items::check_image_dataset(&mut checker, index);
    }
    // Networks before runs and apps: those read the networks' shapes.
    for (index, item) in parse.ast.items.iter().enumerate() {
        if item.kind == ItemKind::Network {
            network::check_network(&mut checker, index);
        }
    }
    for index in 0..parse.ast.items.len() {
        items::check_default_input_key(&mut checker, index);
    }
    for (index, item) in parse.ast.items.iter().enumerate() {
        match item.kind {
            ItemKind::Simulate => runs::check_simulate(&mut checker, index),
            ItemKind::Sweep => runs::check_sweep(&mut checker, index),
            ItemKind::Infer => runs::check_infer(&mut checker, index),
            ItemKind::App => app::check_app(&mut checker, index),
            _ => {}
        }
    }
    let mut analysis = checker.analysis;
    analysis
        .diagnostics
        .sort_by_key(|diagnostic| (diagnostic.range.start, diagnostic.range.end));
    analysis
}

pub(crate) struct Checker<'a> {
    pub parse: &'a Parse,
    pub workspace: &'a dyn Workspace,
    pub analysis: Analysis,
    models: HashMap<String, FileFact<ModelFacts>>,
    archives: HashMap<String, FileFact<ArchiveFacts>>,
    /// Network name to its first `simulate` item, built on first use.
    simulates: Option<FxHashMap<&'a str, usize>>,
    /// How many more items "did you mean" may look at (see [`Checker::suggest`]).
    suggestion_budget: usize,
}

/// The fact about `path` in `cache`, asked of `load` the first time.
fn cached<T: Clone>(cache: &mut HashMap<String, T>, path: &str, load: impl FnOnce(&str) -> T) -> T {
    if let Some(fact) = cache.get(path) {
        return fact.clone();
    }
    let fact = load(path);
    cache.insert(path.to_string(), fact.clone());
    fact
}

/// Items looked at for "did you mean" suggestions in one check. Each unknown
/// name is compared with every item of the kind it should name, so a file of
/// 16,000 unknown names and as many items took 150 s to check; with the
/// budget the first unknown names get suggestions and the cost stays
/// bounded (a normal file spends a few hundred).
const SUGGESTION_BUDGET: usize = 100_000;

impl<'a> Checker<'a> {
    fn new(parse: &'a Parse, workspace: &'a dyn Workspace) -> Checker<'a> {
        Checker {
            parse,
            workspace,
            analysis: Analysis {
                items: vec![ItemInfo::default(); parse.ast.items.len()],
                ..Analysis::default()
            },
            models: HashMap::new(),
            archives: HashMap::new(),
            simulates: None,
            suggestion_budget: SUGGESTION_BUDGET,
        }
    }

    pub fn items(&self) -> &'a [Item] {
        &self.parse.ast.items
    }

    pub fn push(
        &mut self,
        range: TextRange,
        severity: Severity,
        code: &'static str,
        message: String,
    ) {
        self.analysis.diagnostics.push(Diagnostic {
            range,
            severity,
            code,
            message,
            fixes: Vec::new(),
        });
    }
    pub fn error(&mut self, range: TextRange, code: &'static str, message: String) {
        self.push(range, Severity::Error, code, message);
    }
    pub fn warning(&mut self, range: TextRange, code: &'static str, message: String) {
        self.push(range, Severity::Warning, code, message);
    }
    /// The error `expected EXPECTED, found `TEXT``, TEXT being what the file
    /// has at `range`.
    pub fn expected_found(&mut self, range: TextRange, code: &'static str, expected: impl Display) {
        let found = &self.parse.text[range.start..range.end];
        let message = format!("expected {expected}, found `{found}`");
        self.error(range, code, message);
    }
    pub fn error_with_fix(
        &mut self,
        range: TextRange,
        code: &'static str,
        message: String,
        fix: Option<Fix>,
    ) {
        self.analysis.diagnostics.push(Diagnostic {
            range,
            severity: Severity::Error,
            code,
            message,
            fixes: fix.into_iter().collect(),
        });
    }
    pub fn reference(&mut self, range: TextRange, def: Def, is_definition: bool) {
        self.analysis.references.push(Reference {
            range,
            def,
            is_definition,
        });
    }

    pub fn model_fact(&mut self, path: &str) -> FileFact<ModelFacts> {
        let workspace = self.workspace;
        cached(&mut self.models, path, |path| workspace.model(path))
    }
    /// The facts of the file at `path` that should be `what` (`an ONNX
    /// model`), or `None` with the error said at `range` when it is missing
    /// or something else.
    pub fn file_facts<T>(
        &mut self,
        fact: FileFact<T>,
        range: TextRange,
        what: &str,
        path: &str,
    ) -> Option<Arc<T>> {
        let (code, found) = match fact {
            FileFact::Ok(facts) => return Some(facts),
            FileFact::Missing => ("neuro/missing-file", "no file".to_owned()),
            FileFact::WrongFormat(why) => ("neuro/wrong-format", why),
        };
        self.error(
            range,
            code,
            format!("expected {what} at \"{path}\", found {found}"),
        );
        None
    }

    pub fn archive_fact(&mut self, path: &str) -> FileFact<ArchiveFacts> {
        let workspace = self.workspace;
        cached(&mut self.archives, path, |path| workspace.archive(path))
    }

    /// Registers every top-level name; a second definition is an error.
    fn collect_names(&mut self) {
        for (index, item) in self.items().iter().enumerate() {
            let Some(name) = &item.name else { continue };
            self.reference(name.range, Def::Item(index), true);
            if let Some(&first) = self.analysis.names.get(&name.text) {
                let first_kind = self.items()[first].kind.keyword();
                self.error(
                    name.range,
                    "neuro/duplicate-name",
                    format!(
                        "expected a new name, found `{}` already defined as a {first_kind} above",
                        name.text
                    ),
                );
            } else {
                self.analysis.names.insert(name.text.clone(), index);
            }
        }
    }

    /// Resolves a top-level name used where an item of one of `expected`
    /// kinds belongs; reports unknown names and names of the wrong kind.
    pub fn resolve_item(
        &mut self,
        name: &crate::syntax::ast::Name,
        expected: &[ItemKind],
        what: &str,
    ) -> Option<usize> {
        self.resolve_item_of(name, expected, &what)
    }

    /// [`Checker::resolve_item`] with `what` formatted only for a message.
    pub fn resolve_item_of(
        &mut self,
        name: &crate::syntax::ast::Name,
        expected: &[ItemKind],
        what: &dyn std::fmt::Display,
    ) -> Option<usize> {
        let Some(&index) = self.analysis.names.get(&name.text) else {
            let fix = create_item_fix(
                self.parse,
                name,
                expected,
                self.item_containing(name.range.start),
            );
            let hint = self.suggest(&name.text, expected);
            self.error_with_fix(
                name.range,
                "neuro/unknown-name",
                format!("expected {what}, found unknown name `{}`{hint}", name.text),
                fix,
            );
            return None;
        };
        self.reference(name.range, Def::Item(index), false);
        let kind = self.items()[index].kind;
        if !expected.contains(&kind) {
            self.error(
                name.range,
                "neuro/wrong-kind",
                format!(
                    "expected {what}, found `{}` which is a {}",
                    name.text,
                    kind.keyword()
                ),
            );
            return None;
        }
        Some(index)
    }

    /// The first `simulate` item that runs the network named `network`.
    pub fn simulate_of(&mut self, network: &str) -> Option<usize> {
        let items = self.items();
        let map = self.simulates.get_or_insert_with(|| {
            let mut map = FxHashMap::default();
            for (index, item) in items.iter().enumerate() {
                if let (ItemKind::Simulate, Some(target)) = (item.kind, &item.target) {
                    map.entry(target.text.as_str()).or_insert(index);
                }
            }
            map
        });
        map.get(network).copied()
    }

    /// The first item whose range touches `offset`. Items are in text order
    /// and do not overlap: a binary search, as this runs per unknown name.
    pub fn item_containing(&self, offset: usize) -> Option<usize> {
        let items = self.items();
        let index = items.partition_point(|item| item.range.end < offset);
        items
            .get(index)
            .filter(|item| item.range.touches(offset))
            .map(|_| index)
    }

    /// "; did you mean `x`?" for a close top-level name of the right kind,
    /// while the check's suggestion budget lasts.
    pub fn suggest(&mut self, text: &str, expected: &[ItemKind]) -> String {
        let items = self.items();
        let Some(left) = self.suggestion_budget.checked_sub(items.len()) else {
            return String::new();
        };
        self.suggestion_budget = left;
        let best = items
            .iter()
            .filter(|item| expected.contains(&item.kind))
            .filter_map(|item| item.name.as_ref())
            .map(|name| (strsim::jaro_winkler(text, &name.text), &name.text))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        best.map(|(_, name)| format!("; did you mean `{name}`?"))
            .unwrap_or_default()
    }

    pub fn entry(&self, item: usize, entry: usize) -> &'a Entry {
        &self.items()[item].entries()[entry]
    }
}

/// "Create `dataset test`": a new item inserted above the item that uses it.
fn create_item_fix(
    parse: &Parse,
    name: &crate::syntax::ast::Name,
    expected: &[ItemKind],
    user: Option<usize>,
) -> Option<Fix> {
    let kind = *expected.first()?;
    let text = match kind {
        ItemKind::Model => format!("model {} = onnx(\"{}.onnx\")\n", name.text, name.text),
        ItemKind::Weights => format!("weights {} = npz(\"{}.npz\")\n", name.text, name.text),
        ItemKind::Dataset => format!(
            "dataset {} = npz(\"{}.npz\", x: \"x\", y: \"y\")\n",
            name.text, name.text
        ),
        ItemKind::Network => format!(
            "network {} {{\n    input x: f32[1]\n    output y = relu(x)\n}}\n\n",
            name.text
        ),
        _ => return None,
    };
    let at = user
        .map(|index| parse.ast.items[index].range.start)
        .unwrap_or(parse.text.len());
    Some(Fix {
        title: format!("Create {} `{}`", kind.keyword(), name.text),
        edits: vec![TextEdit {
            range: TextRange::empty(at),
            new_text: text,
        }],
    })
}

/// A number literal (possibly negated): value, unit suffix, is-integer, range.
pub fn values_number(expr: &crate::syntax::ast::Expr) -> Option<(f64, &str, bool, TextRange)> {
    values::number_of(expr)
}

/// A number printed without trailing zeros.
pub fn trim_number(value: f64) -> String {
    runs::trim(value)
}

/// dt and steps in force for a `simulate` item.
pub fn simulate_timing(parse: &Parse, item: &Item) -> runs::Timing {
    runs::timing_of(&parse.text, item)
}

pub use runs::{Timing, convert_block_fix_for};
pub use values::{insert_args_fix_for, placeholder};
