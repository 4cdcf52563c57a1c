//! Hover on a model's text view: for a node its op, domain, inputs and
//! outputs with their shapes, attributes, parameter count and bytes, MACs,
//! and statistics of its weights (read lazily, only when hovered); for a
//! value its type, producer and, for initializers, the same statistics.

use crate::model::ModelAnalysis;
use crate::report::{Position, Range};
use neuride_onnx::proto::GraphProto;
use neuride_onnx::{Anchor, GraphId};
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq)]
pub struct HoverResult {
    /// Markdown.
    pub markdown: String,
    pub range: Range,
}

pub fn model_hover(model: &ModelAnalysis, position: Position) -> Option<HoverResult> {
    let mut hover = hover_of(model, position)?;
    // Statistics read from pages the file lost are zeros, not its weights.
    if model.was_truncated() {
        let name = model.path.file_name().unwrap_or_default().to_string_lossy();
        hover.markdown = format!(
            "`{name}` changed on disk (truncated while its weights were read): \
             statistics return once it is read again"
        );
    }
    Some(hover)
}

fn hover_of(model: &ModelAnalysis, position: Position) -> Option<HoverResult> {
    let facts = model.facts.as_ref()?;
    // On a value use (a node input) show the value, not the whole node.
    if let Some(value_use) = model.view.use_at(position) {
        let markdown = value_markdown(model, &value_use.graph, &value_use.name)?;
        return Some(HoverResult {
            markdown,
            range: value_use.range,
        });
    }
    let item = model.view.anchor_at(position)?;
    let markdown = match &item.anchor {
        Anchor::Node { graph, index } => node_markdown(model, graph, *index)?,
        Anchor::Value { graph, name } | Anchor::Initializer { graph, name } => {
            value_markdown(model, graph, name)?
        }
        Anchor::Model => model_markdown(model),
        Anchor::Graph(id) => {
            let graph = crate::model::graph(&facts.proto, id)?;
            format!(
                "**graph** `{}`: {} nodes, {} initializers",
                graph.name(),
                graph.node.len(),
                graph.initializer.len()
            )
        }
        Anchor::Function { domain, name, .. } => format!("**function** `{domain}.{name}`"),
    };
    Some(HoverResult {
        markdown,
        range: item.range,
    })
}

fn model_markdown(model: &ModelAnalysis) -> String {
    let entry = crate::registry::entry(model);
    format!(
        "**model** `{}`: {} ({:.0} % confidence)\n\nIR {}, opsets {}, producer {}\n\n{} nodes, {} parameters",
        model.path.file_name().unwrap_or_default().to_string_lossy(),
        entry.kind,
        entry.confidence * 100.0,
        entry.ir_version.unwrap_or_default(),
        neuride_onnx::summary::opsets_text(&entry.opsets, " "),
        if entry.producer.is_empty() {
            "unknown"
        } else {
            &entry.producer
        },
        entry.nodes,
        entry.parameters,
    )
}

fn node_markdown(model: &ModelAnalysis, graph_id: &GraphId, index: usize) -> Option<String> {
    let facts = model.facts.as_ref()?;
    let node = neuride_onnx::summary::node_summary(&facts.proto, &facts.shapes, graph_id, index)?;
    let graph = crate::model::graph(&facts.proto, graph_id)?;
    let domain = neuride_onnx::summary::domain_name(&node.domain);
    let mut out = format!("**{}** (`{domain}`) node #{index}", node.op_type);
    if !node.name.is_empty() {
        let _ = write!(out, " `{}`", node.name);
    }
    if domain == crate::model::nir::NIR_DOMAIN
        && let Some(doc) = crate::model::nir::type_markdown(&node.op_type)
    {
        let _ = write!(out, "\n\n{doc}");
    }
    out.push_str("\n\n**inputs**\n");
    for input in &node.inputs {
        let _ = writeln!(out, "- `{}`: {}", input.name, input.ty);
    }
    out.push_str("\n**outputs**\n");
    for output in &node.outputs {
        let _ = writeln!(out, "- `{}`: {}", output.name, output.ty);
    }
    if !node.attributes.is_empty() {
        out.push_str("\n**attributes**\n");
        for attribute in &node.attributes {
            let _ = writeln!(
                out,
                "- `{}`: {} = {}",
                attribute.name, attribute.ty, attribute.value
            );
        }
    }
    if node.parameters > 0 {
        let _ = writeln!(
            out,
            "\n**parameters** {} ({})",
            node.parameters,
            human_bytes(node.parameter_bytes)
        );
        for input in &node.inputs {
            if let Some(tensor) = graph.initializer.iter().find(|t| t.name() == input.name) {
                let _ = writeln!(out, "- `{}`: {}", input.name, stats_text(tensor));
            }
        }
    }
    if let Some(macs) = node.macs {
        let note = if node.macs_assumed {
            " (symbolic dims counted as 1)"
        } else {
            ""
        };
        let _ = writeln!(out, "\n**MACs** {macs}{note}");
    }
    Some(out)
}

fn value_markdown(model: &ModelAnalysis, graph_id: &GraphId, name: &str) -> Option<String> {
    let facts = model.facts.as_ref()?;
    let graph: &GraphProto = crate::model::graph(&facts.proto, graph_id)?;
    let ty = facts
        .shapes
        .get(graph_id, name)
        .map_or_else(|| "?".to_owned(), ToString::to_string);
    let mut out = format!("**value** `{name}`: {ty}");
    if let Some(tensor) = graph.initializer.iter().find(|t| t.name() == name) {
        let _ = write!(out, "\n\ninitializer: {}", stats_text(tensor));
    }
    if let Some((index, producer)) = graph
        .node
        .iter()
        .enumerate()
        .find(|(_, n)| n.output.iter().any(|o| o == name))
    {
        let _ = write!(
            out,
            "\n\nproduced by **{}** node #{index} `{}`",
            producer.op_type(),
            producer.name()
        );
    }
    Some(out)
}

/// min/max/mean/std of a weight, read now (this is the only place a hover
/// touches weight bytes).
fn stats_text(tensor: &neuride_onnx::proto::TensorProto) -> String {
    if neuride_onnx::tensor::is_external(tensor) {
        return "in external data (not read for a hover)".into();
    }
    match neuride_onnx::tensor::stats(tensor) {
        Ok(stats) => match (stats.min, stats.max, stats.mean, stats.std) {
            (Some(min), Some(max), Some(mean), Some(std)) => {
                format!(
                    "min {min:.4}, max {max:.4}, mean {mean:.4}, std {std:.4} ({} values)",
                    stats.count
                )
            }
            _ => format!("{} values, none finite", stats.count),
        },
        Err(error) => format!("no statistics: {error}"),
    }
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
