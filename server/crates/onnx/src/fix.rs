//! Safe fixes: changes to a model that cannot change what it computes, and
//! the findings only they address (values nothing uses).
//!
//! - `onnx/topological-order`: nodes sorted so each value is produced
//!   before it is used, keeping the original order wherever it is already
//!   valid (values a subgraph reads from the enclosing graph count as
//!   inputs of the node that holds it); never done for a cycle.
//! - `onnx/unused-initializer`, `onnx/unused-input`, `onnx/unused-value-info`:
//!   initializers no node, subgraph or graph output reads (and the graph
//!   inputs that only existed to let callers override them), and
//!   `value_info` entries naming no value of their graph, removed. Models
//!   with training info are left alone (its bindings and algorithm may read
//!   initializers by name).
//! - `onnx/opset-import-duplicate`: one entry per domain, the one onnx uses
//!   (the last).
//! - `onnx/ir-version-missing`: set to the IR of the ONNX release that
//!   introduced the newest imported opset (onnx's `VERSION_TABLE`), at least
//!   4 when an initializer is not a graph input and 8 with local functions.
//!
//! Each fix is kept only if the checker finds, afterwards, no problem it
//! did not find before; so a fix never trades one diagnostic for another.

use crate::attr;
use crate::check::{CheckContext, check_model, codes};
use crate::diagnostic::{Anchor, Diagnostic, GraphId};
use crate::hash::{HashMap, HashSet};
use crate::proto::{FunctionProto, GraphProto, ModelProto, NodeProto};
use crate::schema;
use std::collections::{BTreeMap, BinaryHeap};

pub const UNUSED_INITIALIZER: &str = "onnx/unused-initializer";
pub const UNUSED_INPUT: &str = "onnx/unused-input";
pub const UNUSED_VALUE_INFO: &str = "onnx/unused-value-info";

/// The codes [`fix`] repairs.
pub const FIXABLE: &[&str] = &[
    codes::TOPOLOGICAL_ORDER,
    UNUSED_INITIALIZER,
    UNUSED_INPUT,
    UNUSED_VALUE_INFO,
    codes::OPSET_IMPORT_DUPLICATE,
    codes::IR_VERSION_MISSING,
];

/// One fix applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub code: &'static str,
    /// What changed, e.g. `removed 3 unused initializers (w1, w2, w3)`.
    pub description: String,
}

/// Values nothing uses, as warnings (the checker's companion findings;
/// `neuride check` reports them, `--fix` removes them).
pub fn unused(model: &ModelProto) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if !model.training_info.is_empty() {
        return found;
    }
    if let Some(graph) = &model.graph {
        unused_in(graph, &GraphId::Main, &mut found);
    }
    found
}

fn unused_in(graph: &GraphProto, id: &GraphId, found: &mut Vec<Diagnostic>) {
    // Only graphs with initializers or value_info can have unused ones: the
    // name sets (tens of thousands of names in an exporter's graph) are not
    // built for the others.
    if !graph.initializer.is_empty() || !graph.value_info.is_empty() {
        unused_here(graph, id, found);
    }
    for_each_subgraph(graph, |index, attribute, subgraph| {
        let sub = GraphId::Sub(Box::new(id.clone()), index, attribute.to_owned());
        unused_in(subgraph, &sub, found);
    });
}

/// Unused initializers and value_info of `graph` itself.
fn unused_here(graph: &GraphProto, id: &GraphId, found: &mut Vec<Diagnostic>) {
    let used = used_names(graph);
    let inputs: HashSet<&str> = graph.input.iter().map(|v| v.name()).collect();
    for init in &graph.initializer {
        let name = init.name();
        if name.is_empty() || used.contains(name) {
            continue;
        }
        let (code, message) = if inputs.contains(name) {
            (
                UNUSED_INPUT,
                format!("graph input '{name}' (an initializer too) is used by no node or output"),
            )
        } else {
            (
                UNUSED_INITIALIZER,
                format!("initializer '{name}' is used by no node or output"),
            )
        };
        let anchor = Anchor::Initializer {
            graph: id.clone(),
            name: name.to_owned(),
        };
        found.push(Diagnostic::warning(code, anchor, message));
    }
    let defined = if graph.value_info.is_empty() {
        HashSet::default()
    } else {
        defined_names(graph)
    };
    for value in &graph.value_info {
        let name = value.name();
        if !name.is_empty() && !defined.contains(name) && !used.contains(name) {
            let anchor = Anchor::Value {
                graph: id.clone(),
                name: name.to_owned(),
            };
            let message = format!("value_info '{name}' describes no value of the graph");
            found.push(Diagnostic::warning(UNUSED_VALUE_INFO, anchor, message));
        }
    }
}

/// Names read in `graph`: node inputs (also inside subgraphs, at any
/// depth) and graph outputs.
fn used_names(graph: &GraphProto) -> HashSet<&str> {
    let mut used = HashSet::default();
    collect_reads(graph, &mut used);
    used
}

fn collect_reads<'g>(graph: &'g GraphProto, used: &mut HashSet<&'g str>) {
    used.extend(graph.output.iter().map(|v| v.name()));
    for node in &graph.node {
        used.extend(node.input.iter().map(String::as_str));
        for attribute in &node.attribute {
            for subgraph in attribute.g.as_deref().into_iter().chain(&attribute.graphs) {
                collect_reads(subgraph, used);
            }
        }
    }
}

fn defined_names(graph: &GraphProto) -> HashSet<&str> {
    let mut defined: HashSet<&str> = graph.input.iter().map(|v| v.name()).collect();
    defined.extend(graph.initializer.iter().map(|t| t.name()));
    for node in &graph.node {
        defined.extend(node.output.iter().map(String::as_str));
    }
    defined
}

fn for_each_subgraph<'g>(
    graph: &'g GraphProto,
    mut visit: impl FnMut(usize, String, &'g GraphProto),
) {
    for (index, node) in graph.node.iter().enumerate() {
        for attribute in &node.attribute {
            if let Some(subgraph) = &attribute.g {
                visit(index, attribute.name().to_owned(), subgraph);
            }
            for (i, subgraph) in attribute.graphs.iter().enumerate() {
                visit(index, format!("{}[{i}]", attribute.name()), subgraph);
            }
        }
    }
}

type Step = fn(&mut ModelProto, &dyn Fn(&str) -> bool) -> Option<Applied>;

/// The problems `--fix` would address in `model`: the checker's fixable
/// codes among `diagnostics` plus the unused values.
pub fn fixable(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| FIXABLE.contains(&d.code))
}

/// Applies every safe fix to a copy of `model`. `ctx` is what the checker
/// needs to verify each fix. Returns the fixed model and what was done
/// (empty: nothing to fix).
pub fn fix(
    model: &ModelProto,
    ctx: &CheckContext,
    allowed: &dyn Fn(&str) -> bool,
) -> (ModelProto, Vec<Applied>) {
    let mut current = model.clone();
    let mut before = problems(&current, ctx);
    let mut applied = Vec::new();
    let steps: [(&[&str], Step); 5] = [
        (&[codes::OPSET_IMPORT_DUPLICATE], merge_opset_imports),
        (&[codes::IR_VERSION_MISSING], set_ir_version),
        (&[codes::TOPOLOGICAL_ORDER], sort_nodes),
        (&[UNUSED_INITIALIZER, UNUSED_INPUT], remove_unused),
        (&[UNUSED_VALUE_INFO], remove_dangling_value_info),
    ];
    for (step_codes, step) in steps {
        if !step_codes.iter().any(|code| allowed(code)) {
            continue;
        }
        let mut candidate = current.clone();
        let Some(done) = step(&mut candidate, allowed) else {
            continue;
        };
        let after = problems(&candidate, ctx);
        // Keep the fix only if it removed problems and added none (counted
        // per code: moving nodes renumbers the anchors of the others).
        let added = after
            .iter()
            .any(|(code, n)| before.get(code).is_none_or(|b| n > b));
        if !added && after != before {
            current = candidate;
            before = after;
            applied.push(done);
        }
    }
    (current, applied)
}

/// How many problems of each code the checker and the unused-value
/// findings report.
fn problems(model: &ModelProto, ctx: &CheckContext) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for diagnostic in check_model(model, ctx).into_iter().chain(unused(model)) {
        *counts.entry(diagnostic.code).or_default() += 1;
    }
    counts
}

fn merge_opset_imports(model: &mut ModelProto, _: &dyn Fn(&str) -> bool) -> Option<Applied> {
    let imports = &model.opset_import;
    let mut last: HashMap<&str, usize> = HashMap::default();
    for (index, import) in imports.iter().enumerate() {
        last.insert(schema::canonical_domain(import.domain()), index);
    }
    if last.len() == imports.len() {
        return None;
    }
    let mut merged = Vec::new();
    let mut placed = HashSet::default();
    for import in imports {
        let domain = schema::canonical_domain(import.domain());
        if placed.insert(domain) {
            merged.push(imports[last[domain]].clone());
        }
    }
    let removed = imports.len() - merged.len();
    let summary: Vec<String> = merged
        .iter()
        .map(|i| format!("'{}' {}", i.domain(), i.version()))
        .collect();
    model.opset_import = merged;
    Some(Applied {
        code: codes::OPSET_IMPORT_DUPLICATE,
        description: format!(
            "merged {removed} duplicate opset import{} (now {})",
            if removed == 1 { "" } else { "s" },
            summary.join(", ")
        ),
    })
}

/// The IR version of the ONNX release that introduced `version` of
/// `domain` (onnx.helper.VERSION_TABLE), if known.
pub fn ir_for_opset(domain: &str, version: i64) -> Option<i64> {
    let table: &[(i64, i64)] = match schema::canonical_domain(domain) {
        // (first opset, IR) for the default domain.
        "" => &[
            (1, 3),
            (9, 4),
            (10, 5),
            (11, 6),
            (12, 7),
            (15, 8),
            (19, 9),
            (21, 10),
            (23, 11),
            (24, 12),
            (25, 13),
            (28, 14),
        ],
        "ai.onnx.ml" => &[(1, 3), (2, 6), (3, 8), (4, 9), (5, 10)],
        "ai.onnx.training" | "ai.onnx.preview.training" => &[(1, 7)],
        _ => return None,
    };
    table
        .iter()
        .rev()
        .find(|(first, _)| version >= *first)
        .map(|(_, ir)| *ir)
}

fn set_ir_version(model: &mut ModelProto, _: &dyn Fn(&str) -> bool) -> Option<Applied> {
    if !matches!(model.ir_version, None | Some(0)) {
        return None;
    }
    let from_opsets = model
        .opset_import
        .iter()
        .filter_map(|import| ir_for_opset(import.domain(), import.version()))
        .max()?;
    let mut ir = from_opsets;
    let mut why = String::new();
    if let Some(graph) = &model.graph {
        let inputs: HashSet<&str> = graph.input.iter().map(|v| v.name()).collect();
        if ir < 4 && graph.initializer.iter().any(|t| !inputs.contains(t.name())) {
            ir = 4;
            why = ", 4 because initializers are not graph inputs".into();
        }
    }
    if ir < 8 && !model.functions.is_empty() {
        ir = 8;
        why = ", 8 for local functions".into();
    }
    let ir = ir.min(schema::MAX_IR_VERSION);
    model.ir_version = Some(ir);
    Some(Applied {
        code: codes::IR_VERSION_MISSING,
        description: format!("set ir_version to {ir} (from the opset imports{why})"),
    })
}

fn sort_nodes(model: &mut ModelProto, _: &dyn Fn(&str) -> bool) -> Option<Applied> {
    let mut moved = 0;
    if let Some(graph) = &mut model.graph {
        moved += sort_graph(graph);
    }
    for function in &mut model.functions {
        moved += sort_function(function);
    }
    (moved > 0).then(|| Applied {
        code: codes::TOPOLOGICAL_ORDER,
        description: format!(
            "sorted the nodes topologically ({moved} node{} moved)",
            if moved == 1 { "" } else { "s" }
        ),
    })
}

/// Sorts `graph` and its subgraphs; returns how many nodes moved.
fn sort_graph(graph: &mut GraphProto) -> usize {
    let moved = in_subgraphs(graph, sort_graph);
    let reads: Vec<Vec<String>> = graph.node.iter().map(node_reads).collect();
    moved + reorder(&mut graph.node, &reads)
}

fn sort_function(function: &mut FunctionProto) -> usize {
    let reads: Vec<Vec<String>> = function.node.iter().map(node_reads).collect();
    reorder(&mut function.node, &reads)
}

/// What a node reads from its graph: its inputs, and the names its
/// subgraphs read that they do not define themselves.
fn node_reads(node: &NodeProto) -> Vec<String> {
    let mut reads: Vec<String> = node
        .input
        .iter()
        .filter(|i| !i.is_empty())
        .cloned()
        .collect();
    for attribute in &node.attribute {
        for subgraph in attribute.g.as_deref().into_iter().chain(&attribute.graphs) {
            reads.extend(free_names(subgraph));
        }
    }
    reads
}

/// Names `graph` (with its subgraphs) reads from enclosing graphs.
fn free_names(graph: &GraphProto) -> Vec<String> {
    let defined = defined_names(graph);
    let mut free = Vec::new();
    for node in &graph.node {
        for name in node_reads(node) {
            if !defined.contains(name.as_str()) {
                free.push(name);
            }
        }
    }
    for output in &graph.output {
        if !defined.contains(output.name()) {
            free.push(output.name().to_owned());
        }
    }
    free
}

/// Kahn's algorithm taking the lowest original index among ready nodes, so
/// a sorted list stays as it is. Returns how many nodes changed place (0
/// also when the nodes form a cycle: that is not fixable).
fn reorder(nodes: &mut Vec<NodeProto>, reads: &[Vec<String>]) -> usize {
    let mut producer: HashMap<&str, usize> = HashMap::default();
    for (index, node) in nodes.iter().enumerate() {
        for output in node.output.iter().filter(|o| !o.is_empty()) {
            producer.entry(output.as_str()).or_insert(index);
        }
    }
    let mut waiting = vec![0usize; nodes.len()];
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (index, names) in reads.iter().enumerate() {
        let mut from: Vec<usize> = names
            .iter()
            .filter_map(|name| producer.get(name.as_str()).copied())
            .filter(|&p| p != index)
            .collect();
        from.sort_unstable();
        from.dedup();
        waiting[index] = from.len();
        for p in from {
            consumers[p].push(index);
        }
    }
    let mut ready: BinaryHeap<std::cmp::Reverse<usize>> = (0..nodes.len())
        .filter(|&i| waiting[i] == 0)
        .map(std::cmp::Reverse)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(std::cmp::Reverse(index)) = ready.pop() {
        order.push(index);
        for &consumer in &consumers[index] {
            waiting[consumer] -= 1;
            if waiting[consumer] == 0 {
                ready.push(std::cmp::Reverse(consumer));
            }
        }
    }
    if order.len() != nodes.len() {
        return 0;
    }
    let moved = order.iter().enumerate().filter(|(at, i)| at != *i).count();
    if moved > 0 {
        let mut slots: Vec<Option<NodeProto>> =
            std::mem::take(nodes).into_iter().map(Some).collect();
        *nodes = order
            .iter()
            .map(|&i| slots[i].take().unwrap_or_default())
            .collect();
    }
    moved
}

fn remove_unused(model: &mut ModelProto, allowed: &dyn Fn(&str) -> bool) -> Option<Applied> {
    let findings = unused(model);
    let mut names: HashMap<String, (bool, Vec<String>)> = HashMap::default();
    for finding in findings.iter().filter(|f| allowed(f.code)) {
        if let Anchor::Initializer { graph, name } = &finding.anchor {
            let entry = names.entry(format!("{graph:?}")).or_default();
            entry.0 |= finding.code == UNUSED_INPUT;
            entry.1.push(name.clone());
        }
    }
    if names.is_empty() {
        return None;
    }
    let graph = model.graph.as_mut()?;
    let mut removed = Vec::new();
    remove_in(graph, &GraphId::Main, &names, &mut removed);
    let shown: Vec<&str> = removed.iter().take(5).map(String::as_str).collect();
    let more = removed.len().saturating_sub(shown.len());
    Some(Applied {
        code: UNUSED_INITIALIZER,
        description: format!(
            "removed {} unused initializer{} ({}{})",
            removed.len(),
            if removed.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if more > 0 {
                format!(", {more} more")
            } else {
                String::new()
            }
        ),
    })
}

fn remove_in(
    graph: &mut GraphProto,
    id: &GraphId,
    names: &HashMap<String, (bool, Vec<String>)>,
    removed: &mut Vec<String>,
) {
    if let Some((_, unused)) = names.get(&format!("{id:?}")) {
        let unused: HashSet<&str> = unused.iter().map(String::as_str).collect();
        graph.initializer.retain(|t| {
            let drop = unused.contains(t.name());
            if drop {
                removed.push(t.name().to_owned());
            }
            !drop
        });
        graph.input.retain(|v| !unused.contains(v.name()));
    }
    for (index, node) in graph.node.iter_mut().enumerate() {
        for attribute in &mut node.attribute {
            let name = attribute.name().to_owned();
            if let Some(subgraph) = &mut attribute.g {
                let sub = GraphId::Sub(Box::new(id.clone()), index, name.clone());
                remove_in(subgraph, &sub, names, removed);
            }
            for (i, subgraph) in attribute.graphs.iter_mut().enumerate() {
                let sub = GraphId::Sub(Box::new(id.clone()), index, format!("{name}[{i}]"));
                remove_in(subgraph, &sub, names, removed);
            }
        }
    }
}

fn remove_dangling_value_info(model: &mut ModelProto, _: &dyn Fn(&str) -> bool) -> Option<Applied> {
    let graph = model.graph.as_mut()?;
    let removed = drop_dangling(graph);
    (removed > 0).then(|| Applied {
        code: UNUSED_VALUE_INFO,
        description: format!(
            "removed {removed} value_info entr{} naming no value",
            if removed == 1 { "y" } else { "ies" }
        ),
    })
}

fn drop_dangling(graph: &mut GraphProto) -> usize {
    let removed = in_subgraphs(graph, drop_dangling);
    let keep: HashSet<String> = {
        let used = used_names(graph);
        let defined = defined_names(graph);
        graph
            .value_info
            .iter()
            .map(|v| v.name())
            .filter(|name| name.is_empty() || used.contains(name) || defined.contains(name))
            .map(str::to_owned)
            .collect()
    };
    let before = graph.value_info.len();
    graph.value_info.retain(|v| keep.contains(v.name()));
    removed + before - graph.value_info.len()
}

/// The sum of `fix` over the subgraphs of `graph`'s nodes.
fn in_subgraphs(graph: &mut GraphProto, fix: fn(&mut GraphProto) -> usize) -> usize {
    graph
        .node
        .iter_mut()
        .flat_map(attr::graphs_mut)
        .map(fix)
        .sum()
}

#[cfg(test)]
mod tests;
