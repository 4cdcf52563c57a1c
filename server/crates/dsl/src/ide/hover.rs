//! Hover: what an item, layer, key or call is, with shapes, sizes, the
//! neuron equation with the values in force, array statistics, and a
//! model's classification.

use super::find::{Found, StringRole, find_at};
use crate::catalog::{self, CallSpec};
use crate::check::{Analysis, Def, ItemInfo, Unit, parse_unit};
use crate::syntax::ast::{Call, EntryKind, ItemKind};
use crate::syntax::{Parse, TextRange};
use crate::workspace::Shape;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub range: TextRange,
    /// Markdown.
    pub markdown: String,
}

pub fn hover(parse: &Parse, analysis: &Analysis, offset: usize) -> Option<Hover> {
    if let Some(reference) = analysis.reference_at(offset) {
        let markdown = describe_def(parse, analysis, &reference.def)?;
        return Some(Hover {
            range: reference.range,
            markdown,
        });
    }
    match find_at(&parse.ast, offset)? {
        Found::Callee { call, .. } => {
            let spec = catalog::call(&call.callee.text)?;
            Some(Hover {
                range: call.callee.range,
                markdown: describe_call(spec, Some(call)),
            })
        }
        Found::ArgName { call, arg } => {
            let spec = catalog::call(&call.callee.text)?;
            let name = arg.name.as_ref()?;
            let param = spec.param(&name.text)?;
            let default = param
                .default
                .map(|value| format!(" (default `{value}`)"))
                .unwrap_or_default();
            Some(Hover {
                range: name.range,
                markdown: format!(
                    "`{}`: {} — {}{default}",
                    param.name,
                    param.kind.describe(),
                    param.doc
                ),
            })
        }
        Found::SettingKey { item, entry } => {
            let item = &parse.ast.items[item];
            let key = item.entries()[entry].name.as_ref()?;
            let settings = match item.kind {
                ItemKind::Network => catalog::CONVERT_SETTINGS,
                ItemKind::Simulate => catalog::SIMULATE_SETTINGS,
                ItemKind::Sweep => catalog::SWEEP_SETTINGS,
                ItemKind::Infer => catalog::INFER_SETTINGS,
                _ => return None,
            };
            let setting = settings.iter().find(|setting| setting.key == key.text)?;
            Some(Hover {
                range: key.range,
                markdown: format!("`{}`: {}", setting.key, setting.doc),
            })
        }
        Found::Number { expr } => {
            let (value, suffix, _, range) = crate::check::values_number(expr)?;
            let markdown = match parse_unit(suffix)? {
                Unit::Time(factor) => format!(
                    "time: {} s = {} ms",
                    fmt(value * factor),
                    fmt(value * factor * 1e3)
                ),
                Unit::Freq(factor) => format!(
                    "frequency: {} Hz (period {} ms)",
                    fmt(value * factor),
                    fmt(1e3 / (value * factor))
                ),
                Unit::None => format!("dimensionless number {}", fmt(value)),
            };
            Some(Hover { range, markdown })
        }
        Found::String {
            item,
            expr,
            role: StringRole::Path { .. },
        } => Some(Hover {
            range: expr.range,
            markdown: describe_item(parse, analysis, item)?,
        }),
        Found::String { .. } => None,
    }
}

fn fmt(value: f64) -> String {
    crate::check::trim_number(value)
}

fn shape_text(shape: &Option<Shape>) -> String {
    shape
        .as_ref()
        .map(|shape| shape.to_string())
        .unwrap_or_else(|| "?".to_string())
}

fn io_lines(info: &ItemInfo) -> String {
    let mut out = String::new();
    for (name, shape) in &info.inputs {
        out.push_str(&format!("\n- in `{name}`: {}", shape_text(shape)));
    }
    for (name, shape) in &info.outputs {
        out.push_str(&format!("\n- out `{name}`: {}", shape_text(shape)));
    }
    out
}

pub fn describe_item(parse: &Parse, analysis: &Analysis, index: usize) -> Option<String> {
    let item = parse.ast.items.get(index)?;
    let info = analysis.items.get(index)?;
    let label = item.label();
    let path = info
        .path
        .as_ref()
        .map(|path| format!(" — `{path}`"))
        .unwrap_or_default();
    Some(match item.kind {
        ItemKind::Model => {
            let mut out = format!("**model** `{label}`{path}");
            if let Some(facts) = &info.model {
                out.push_str(&format!(
                    "\n\n**{}** · {} ops · {} parameters · producer {}",
                    facts.kind.label(),
                    facts.ops.len(),
                    facts.parameter_count,
                    if facts.producer.is_empty() {
                        "unknown"
                    } else {
                        &facts.producer
                    }
                ));
                out.push_str("\n\nper-sample shapes (batch dimension dropped):");
                out.push_str(&io_lines(info));
                if !facts.evidence.is_empty() {
                    out.push_str(&format!("\n\nevidence: {}", facts.evidence.join("; ")));
                }
                if !facts.unconvertible.is_empty() {
                    let ops: Vec<&str> = facts
                        .unconvertible
                        .iter()
                        .map(|op| op.op_type.as_str())
                        .collect();
                    out.push_str(&format!(
                        "\n\ncannot be converted to a spiking network: {}",
                        ops.join(", ")
                    ));
                }
            }
            out
        }
        ItemKind::Dataset if info.image.is_some() => {
            let image = info.image.as_ref()?;
            let source = parse.ast.items.get(image.source)?.label();
            let features = image
                .features
                .map(|f| format!("{f} features"))
                .unwrap_or_else(|| "a table".to_owned());
            let fitted = match (&image.map, image.fit.and_then(|f| parse.ast.items.get(f))) {
                (Some(map), _) => format!("the saved map `{map}`"),
                (None, Some(fit)) => format!("a map fitted on `{}`", fit.label()),
                (None, None) => format!("a map fitted on `{source}`"),
            };
            format!(
                "**dataset** `{label}` = images of `{source}`\n\n{features} -> [1, {}, {}] per sample through {fitted} ({}, {}; Norm2-scaled, features sharing a pixel averaged)",
                image.size[0], image.size[1], image.method, image.assign
            )
        }
        ItemKind::Weights | ItemKind::Dataset => {
            let mut out = format!("**{}** `{label}`{path}", item.kind.keyword());
            if let Some(archive) = &info.archive {
                out.push_str(&format!(
                    "\n\n{} arrays, {} values",
                    archive.arrays.len(),
                    info.parameters
                ));
                for array in &archive.arrays {
                    out.push_str(&format!(
                        "\n- `{}`: {} {}",
                        array.name,
                        array.dtype,
                        Shape::known(&array.shape)
                    ));
                }
            }
            out
        }
        ItemKind::Network => {
            let kind = match info
                .source_model
                .and_then(|model| parse.ast.items.get(model))
            {
                Some(model) => format!("converted from `{}`", model.label()),
                None => format!(
                    "written, {} layers",
                    item.entries()
                        .iter()
                        .filter(|e| matches!(e.kind, EntryKind::Layer | EntryKind::Output))
                        .count()
                ),
            };
            let mut out = format!(
                "**network** `{label}` — {kind} · {} parameters",
                info.parameters
            );
            out.push_str(&io_lines(info));
            if let Some(neuron) = item
                .entries()
                .iter()
                .find(|entry| {
                    entry
                        .name
                        .as_ref()
                        .is_some_and(|name| name.text == "neuron")
                })
                .and_then(|entry| entry.value.as_ref())
                .and_then(|value| value.as_call())
                && let Some(spec) = catalog::call(&neuron.callee.text)
            {
                out.push_str(&format!("\n\nneuron: {}", neuron_in_force(spec, neuron)));
            }
            out
        }
        ItemKind::Sweep => {
            let mut out = format!(
                "**sweep** `{}` on `{}`",
                item.target.as_ref().map(|t| t.text.as_str()).unwrap_or("?"),
                item.data.as_ref().map(|d| d.text.as_str()).unwrap_or("?")
            );
            let mut trials = 1usize;
            for entry in item.entries() {
                if let (Some(key), Some(value)) = (&entry.name, &entry.value)
                    && let crate::syntax::ast::ExprKind::List(values) = &value.kind
                {
                    trials = trials.saturating_mul(values.len());
                    out.push_str(&format!("\n- `{}`: {} values", key.text, values.len()));
                }
            }
            out.push_str(&format!(
                "\n\n{trials} trials, run in parallel; the result's Pareto front trades accuracy against synops and steps"
            ));
            out
        }
        ItemKind::Simulate | ItemKind::Infer => {
            let mut out = format!(
                "**{}** `{}` on `{}`",
                item.kind.keyword(),
                item.target.as_ref().map(|t| t.text.as_str()).unwrap_or("?"),
                item.data.as_ref().map(|d| d.text.as_str()).unwrap_or("?")
            );
            if item.kind == ItemKind::Simulate {
                let timing = crate::check::simulate_timing(parse, item);
                out.push_str(&format!(
                    "\n\ndt = {} ms × {} steps = {} ms per sample",
                    fmt(timing.dt * 1e3),
                    timing.steps,
                    fmt(timing.dt * timing.steps as f64 * 1e3)
                ));
            }
            out
        }
        ItemKind::App => {
            let count = |kind: EntryKind| {
                item.entries()
                    .iter()
                    .filter(|entry| entry.kind == kind)
                    .count()
            };
            format!(
                "**app** `{label}` — {} sensors, {} pipelines, {} rules",
                count(EntryKind::Sensor),
                count(EntryKind::Pipeline),
                count(EntryKind::Rule)
            )
        }
    })
}

fn describe_def(parse: &Parse, analysis: &Analysis, def: &Def) -> Option<String> {
    match def {
        Def::Item(index) => describe_item(parse, analysis, *index),
        Def::Entry(item_index, entry_index) => {
            let item = parse.ast.items.get(*item_index)?;
            let entry = item.entries().get(*entry_index)?;
            let name = entry
                .name
                .as_ref()
                .map(|name| name.text.as_str())
                .unwrap_or("?");
            match entry.kind {
                EntryKind::Input => {
                    let shape = analysis.items[*item_index]
                        .inputs
                        .iter()
                        .find(|(input, _)| input == name)
                        .map(|(_, s)| shape_text(s));
                    Some(format!(
                        "**input** `{name}`: {}",
                        shape.unwrap_or_else(|| "?".into())
                    ))
                }
                EntryKind::Layer | EntryKind::Output => {
                    let call = entry.value.as_ref().and_then(|value| value.as_call());
                    let layer = analysis.layer(*item_index, *entry_index);
                    let callee = call.map(|call| call.callee.text.as_str()).unwrap_or("?");
                    let mut out =
                        format!("**{}** `{name}` = `{callee}(...)`", entry.kind.keyword());
                    if let Some(layer) = layer {
                        let inputs: Vec<String> = layer.inputs.iter().map(shape_text).collect();
                        out.push_str(&format!(
                            "\n\n{} → {}",
                            inputs.join(", "),
                            shape_text(&layer.output)
                        ));
                        if layer.parameters > 0 {
                            out.push_str(&format!(" · {} parameters", layer.parameters));
                        }
                    }
                    if let (Some(call), Some(spec)) =
                        (call, call.and_then(|call| catalog::call(&call.callee.text)))
                        && spec.equation.is_some()
                    {
                        out.push_str(&format!("\n\n{}", neuron_in_force(spec, call)));
                    }
                    Some(out)
                }
                EntryKind::Sensor => {
                    let rate = entry
                        .rate
                        .as_ref()
                        .map(|rate| &parse.text[rate.range.start..rate.range.end])
                        .unwrap_or("?");
                    let ty = entry
                        .ty
                        .as_ref()
                        .map(|ty| &parse.text[ty.range.start..ty.range.end])
                        .unwrap_or("?");
                    Some(format!("**sensor** `{name}`: {ty} @ {rate}"))
                }
                EntryKind::Pipeline => {
                    let stages: Vec<&str> = entry
                        .stages
                        .iter()
                        .map(|stage| stage.text.as_str())
                        .collect();
                    Some(format!(
                        "**pipeline output** `{}` = {}",
                        stages.last().unwrap_or(&"?"),
                        stages.join(" → ")
                    ))
                }
                EntryKind::Rule => Some(format!(
                    "**rule** `{name}` emits {}",
                    entry
                        .emit
                        .as_ref()
                        .map(|(event, _)| format!("\"{event}\""))
                        .unwrap_or_else(|| "nothing".into())
                )),
                EntryKind::Setting => None,
            }
        }
        Def::ArchiveKey { item, key } => {
            let info = analysis.items.get(*item)?;
            let archive = info.archive.as_ref()?;
            let array = archive.array(key)?;
            let mut out = format!(
                "**array** `{key}` in `{}`: {} {}",
                info.path.as_deref().unwrap_or("?"),
                array.dtype,
                Shape::known(&array.shape)
            );
            if let Some(stats) = &array.stats {
                out.push_str(&format!(
                    "\n\nmin {} · max {} · mean {} · std {}",
                    fmt4(stats.min),
                    fmt4(stats.max),
                    fmt4(stats.mean),
                    fmt4(stats.std)
                ));
            }
            Some(out)
        }
        Def::ModelInput { item, name } => {
            let info = analysis.items.get(*item)?;
            let shape = info
                .inputs
                .iter()
                .find(|(input, _)| input == name)
                .map(|(_, s)| shape_text(s))?;
            Some(format!("**model input** `{name}`: {shape} per sample"))
        }
    }
}

fn fmt4(value: f64) -> String {
    format!("{value:.4}")
}

/// A call's documentation and parameters; for neurons the equation and the
/// values in force (written or default).
pub fn describe_call(spec: &CallSpec, call: Option<&Call>) -> String {
    let mut out = format!("**{}** — {}", spec.name, spec.doc);
    if let Some(call) = call.filter(|_| spec.equation.is_some()) {
        out.push_str(&format!("\n\n{}", neuron_in_force(spec, call)));
        return out;
    }
    if let Some(equation) = spec.equation {
        out.push_str(&format!("\n\n`{equation}`"));
    }
    for param in spec.positional.iter().chain(spec.named) {
        let default = param
            .default
            .map(|value| format!(" = `{value}`"))
            .unwrap_or_default();
        out.push_str(&format!("\n- `{}`{default}: {}", param.name, param.doc));
    }
    out
}

fn neuron_in_force(spec: &CallSpec, call: &Call) -> String {
    let mut parts = Vec::new();
    for param in spec.named {
        match call
            .named(param.name)
            .and_then(|arg| literal_text(&arg.value))
        {
            Some(text) => parts.push(format!("{} = {text}", param.name)),
            None => parts.push(format!(
                "{} = {} (default)",
                param.name,
                param.default.unwrap_or("none")
            )),
        }
    }
    format!(
        "`{}` with {}",
        spec.equation.unwrap_or(spec.name),
        parts.join(", ")
    )
}

fn literal_text(expr: &crate::syntax::ast::Expr) -> Option<String> {
    use crate::syntax::ast::ExprKind;
    match &expr.kind {
        ExprKind::Number { value, unit, .. } => Some(format!("{}{unit}", fmt(*value))),
        ExprKind::Neg(inner) => literal_text(inner).map(|text| format!("-{text}")),
        ExprKind::Name(name) => Some(name.text.clone()),
        ExprKind::Bool(value) => Some(value.to_string()),
        _ => None,
    }
}
