//! Arguments and values: units, ranges, and the generic check of a call's
//! arguments against its catalog entry.

use std::fmt::Display;

use super::{Checker, Def, Fix, TextEdit};
use crate::catalog::{CallSpec, Param, ValueKind};
use crate::fxhash::FxHashMap;
use crate::syntax::TextRange;
use crate::syntax::ast::{Call, Expr, ExprKind, ItemKind};
use crate::workspace::Shape;

/// A unit suffix: none, a time (factor to seconds) or a frequency (to Hz).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    None,
    Time(f64),
    Freq(f64),
}

pub fn parse_unit(suffix: &str) -> Option<Unit> {
    Some(match suffix {
        "" => Unit::None,
        "s" => Unit::Time(1.0),
        "ms" => Unit::Time(1e-3),
        "us" => Unit::Time(1e-6),
        "Hz" => Unit::Freq(1.0),
        "kHz" => Unit::Freq(1e3),
        _ => return None,
    })
}

/// A checked argument value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Int(i64),
    Seconds(f64),
    Hertz(f64),
    Word(String),
    Bool(bool),
    Str(String),
    Tensor(Option<Shape>),
    /// `3` or `[3, 5]` for an `Ints` parameter (a single number as a list of one).
    Ints(Vec<i64>),
    /// The values of a repeated positional parameter, in order.
    List(Vec<Value>),
    /// A layer or input of the current network, by entry index.
    Layer(usize),
    Item(usize),
    /// `[height, width]`.
    Size([u64; 2]),
    /// Present but wrong (already reported).
    Invalid,
}

impl Value {
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(value) if *value >= 0 => Some(*value as u64),
            _ => None,
        }
    }
}

/// A number literal, possibly negated: (value, unit suffix, is_integer, range of the literal).
pub fn number_of(expr: &Expr) -> Option<(f64, &str, bool, TextRange)> {
    match &expr.kind {
        ExprKind::Number {
            value,
            unit,
            is_integer,
        } => Some((*value, unit.as_str(), *is_integer, expr.range)),
        ExprKind::Neg(inner) => number_of(inner)
            .map(|(value, unit, is_integer, _)| (-value, unit, is_integer, expr.range)),
        ExprKind::Paren(inner) => number_of(inner),
        _ => None,
    }
}

fn format_number(value: f64) -> String {
    let text = format!("{value}");
    text
}

/// Names of the current network's inputs and layers, for `Layer` values.
pub struct Scope<'s> {
    pub item: usize,
    pub layers: &'s FxHashMap<&'s str, usize>,
}

/// A call's checked values by parameter name. A call has a handful of
/// parameters, so a list beats a hash map (no hashing, one allocation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallValues {
    entries: Vec<(&'static str, Value)>,
}

impl CallValues {
    pub fn new() -> CallValues {
        CallValues::default()
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Sets `name` (replacing an earlier value, like a map).
    pub fn insert(&mut self, name: &'static str, value: Value) {
        match self.entries.iter_mut().find(|(key, _)| *key == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(key, _)| *key == name)?;
        Some(self.entries.swap_remove(at).1)
    }
}

impl<'a> Checker<'a> {
    /// Checks a call's arguments against its spec: too many positional
    /// arguments, unknown, duplicate and missing named ones, and each value.
    /// `with_positional` is false for neuron calls inside `convert`.
    pub fn check_call_args(
        &mut self,
        call: &Call,
        spec: &CallSpec,
        scope: Option<&Scope>,
        with_positional: bool,
    ) -> CallValues {
        let mut values = CallValues::new();
        let positional_params: &[Param] = if with_positional {
            spec.positional
        } else {
            &[]
        };
        let mut positional_index = 0;
        for arg in &call.args {
            match &arg.name {
                None => {
                    // A repeating last parameter takes every further argument.
                    let param = positional_params.get(positional_index).or_else(|| {
                        positional_params
                            .last()
                            .filter(|last| last.repeat && positional_index > 0)
                    });
                    let Some(param) = param else {
                        self.error(
                            arg.range,
                            "neuro/unknown-argument",
                            format!(
                                "expected {} positional argument{} to `{}`, found another one",
                                positional_params.len(),
                                if positional_params.len() == 1 {
                                    ""
                                } else {
                                    "s"
                                },
                                spec.name
                            ),
                        );
                        positional_index += 1;
                        continue;
                    };
                    positional_index += 1;
                    let value = self.check_value(&arg.value, param, scope);
                    if param.repeat {
                        let mut list = match values.remove(param.name) {
                            Some(Value::List(list)) => list,
                            _ => Vec::new(),
                        };
                        list.push(value);
                        values.insert(param.name, Value::List(list));
                    } else {
                        values.insert(param.name, value);
                    }
                }
                Some(name) => {
                    let Some(param) = spec.named.iter().find(|param| param.name == name.text)
                    else {
                        let known: Vec<&str> = spec.named.iter().map(|param| param.name).collect();
                        let hint = known
                            .iter()
                            .map(|known| (strsim::jaro_winkler(known, &name.text), known))
                            .filter(|(score, _)| *score > 0.8)
                            .max_by(|a, b| a.0.total_cmp(&b.0))
                            .map(|(_, known)| format!("; did you mean `{known}`?"))
                            .unwrap_or_default();
                        let expected = if known.is_empty() {
                            format!("no named arguments to `{}`", spec.name)
                        } else {
                            format!("one of {} for `{}`", known.join(", "), spec.name)
                        };
                        self.error(
                            name.range,
                            "neuro/unknown-argument",
                            format!("expected {expected}, found `{}`{hint}", name.text),
                        );
                        continue;
                    };
                    if values.contains_key(param.name) {
                        self.error(
                            name.range,
                            "neuro/duplicate-argument",
                            format!("expected `{}` once, found it again", name.text),
                        );
                        continue;
                    }
                    let value = self.check_value(&arg.value, param, scope);
                    values.insert(param.name, value);
                }
            }
        }
        let missing: Vec<&Param> = positional_params
            .iter()
            .chain(spec.named)
            .filter(|param| param.is_required() && !values.contains_key(param.name))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|param| param.name).collect();
            let fix = insert_args_fix(self, call, &missing, "Insert missing arguments");
            self.error_with_fix(
                call.callee.range,
                "neuro/missing-argument",
                format!(
                    "`{}` expects {}, found no value for them",
                    spec.name,
                    names.join(", ")
                ),
                Some(fix),
            );
        }
        values
    }

    pub fn check_value(&mut self, expr: &Expr, param: &Param, scope: Option<&Scope>) -> Value {
        // Formatted only when a message needs it: most values are fine.
        self.check_value_of(expr, param.kind, &format_args!("`{}`", param.name), scope)
    }

    pub fn check_value_kind(
        &mut self,
        expr: &Expr,
        kind: ValueKind,
        what: &str,
        scope: Option<&Scope>,
    ) -> Value {
        self.check_value_of(expr, kind, &what, scope)
    }

    /// [`Checker::check_value_kind`] with `what` (how messages name the value)
    /// formatted lazily.
    fn check_value_of(
        &mut self,
        expr: &Expr,
        kind: ValueKind,
        what: &dyn Display,
        scope: Option<&Scope>,
    ) -> Value {
        if matches!(expr.kind, ExprKind::Missing) {
            return Value::Invalid;
        }
        match kind {
            ValueKind::Int { .. }
            | ValueKind::Float { .. }
            | ValueKind::Time { .. }
            | ValueKind::Freq => self.check_number(expr, kind, what),
            ValueKind::Ints { min, lens } => self.check_ints(expr, min, lens, what),
            ValueKind::Tensor => self.check_tensor(expr, what),
            ValueKind::Layer => {
                let Some(name) = expr.as_name() else {
                    return self.invalid(expr, what, kind);
                };
                if let Some(scope) = scope
                    && let Some(&entry) = scope.layers.get(name.text.as_str())
                {
                    self.reference(name.range, Def::Entry(scope.item, entry), false);
                    return Value::Layer(entry);
                }
                let found = match self.analysis.names.get(&name.text) {
                    Some(&index) => format!(
                        "`{}` which is a {}, not a layer of this network",
                        name.text,
                        self.items()[index].kind.keyword()
                    ),
                    None => format!("unknown name `{}`", name.text),
                };
                self.error(
                    name.range,
                    "neuro/unknown-name",
                    format!("expected {what} to name an earlier input or layer, found {found}"),
                );
                Value::Invalid
            }
            ValueKind::Dataset | ValueKind::Model | ValueKind::Weights => {
                let (expected, label) = match kind {
                    ValueKind::Dataset => (ItemKind::Dataset, "a dataset"),
                    ValueKind::Model => (ItemKind::Model, "a model"),
                    _ => (ItemKind::Weights, "a weights archive"),
                };
                let Some(name) = expr.as_name() else {
                    return self.invalid(expr, what, kind);
                };
                match self.resolve_item_of(name, &[expected], &format_args!("{label} for {what}")) {
                    Some(index) => Value::Item(index),
                    None => Value::Invalid,
                }
            }
            ValueKind::Word(words) => match expr.as_name() {
                Some(name) if words.contains(&name.text.as_str()) => Value::Word(name.text.clone()),
                _ => {
                    let expected = format!("{what} to be one of {}", words.join(", "));
                    self.expected_found(expr.range, "neuro/invalid-value", expected);
                    Value::Invalid
                }
            },
            ValueKind::Bool => match expr.kind {
                ExprKind::Bool(value) => Value::Bool(value),
                _ => self.invalid(expr, what, kind),
            },
            ValueKind::Str => match expr.as_string() {
                Some(value) => Value::Str(value.to_string()),
                None => self.invalid(expr, what, kind),
            },
            ValueKind::Size => {
                let sides: Option<Vec<u64>> = match &expr.kind {
                    ExprKind::List(items) if (1..=2).contains(&items.len()) => items
                        .iter()
                        .map(|item| match number_of(item) {
                            Some((value, "", true, _)) if value >= 1.0 => Some(value as u64),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                };
                match sides.as_deref() {
                    Some(&[side]) => Value::Size([side, side]),
                    Some(&[height, width]) => Value::Size([height, width]),
                    _ => self.invalid(expr, what, kind),
                }
            }
        }
    }

    /// `3` or `[3, 5]`: whole numbers >= `min`, one or as many as one of `lens`.
    fn check_ints(&mut self, expr: &Expr, min: i64, lens: &[usize], what: &dyn Display) -> Value {
        let single = ValueKind::Int { min };
        let ExprKind::List(items) = &expr.kind else {
            return match self.check_number(expr, single, what) {
                Value::Int(v) => Value::Ints(vec![v]),
                other => other,
            };
        };
        if !lens.contains(&items.len()) {
            let counts: Vec<String> = lens.iter().map(|n| n.to_string()).collect();
            let expected = format!(
                "{what} to be one number or a list of {}",
                counts.join(" or ")
            );
            self.expected_found(expr.range, "neuro/invalid-value", expected);
            return Value::Invalid;
        }
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match self.check_number(item, single, what) {
                Value::Int(v) => values.push(v),
                _ => return Value::Invalid,
            }
        }
        Value::Ints(values)
    }

    fn invalid(&mut self, expr: &Expr, what: &dyn Display, kind: ValueKind) -> Value {
        let expected = format!("{what} to be {}", kind.describe());
        self.expected_found(expr.range, "neuro/invalid-value", expected);
        Value::Invalid
    }

    fn check_number(&mut self, expr: &Expr, kind: ValueKind, what: &dyn Display) -> Value {
        let Some((value, suffix, is_integer, range)) = number_of(expr) else {
            return self.invalid(expr, what, kind);
        };
        let Some(unit) = parse_unit(suffix) else {
            self.error(
                range,
                "neuro/unit",
                format!("expected a unit among ms, s, us, Hz, kHz (or none) for {what}, found `{suffix}`"),
            );
            return Value::Invalid;
        };
        let written = &self.parse.text[range.start..range.end];
        match (kind, unit) {
            (ValueKind::Int { min }, Unit::None) => {
                if !is_integer || value.fract() != 0.0 || !value.is_finite() {
                    self.error(
                        range,
                        "neuro/range",
                        format!("expected {what} to be a whole number, found {written}"),
                    );
                    return Value::Invalid;
                }
                if value < min as f64 {
                    self.error(
                        range,
                        "neuro/range",
                        format!("expected {what} >= {min}, found {written}"),
                    );
                    return Value::Invalid;
                }
                Value::Int(value.min(i64::MAX as f64) as i64)
            }
            (ValueKind::Float { min, max }, Unit::None) => {
                if !(value >= min && value <= max) {
                    // A minimum of f64::MIN_POSITIVE stands for "strictly positive".
                    let open_low = min > 0.0 && min < 1e-300;
                    let expected = match (max.is_infinite(), open_low) {
                        (true, true) => "a number > 0".to_string(),
                        (true, false) => format!("a number >= {min}"),
                        (false, true) => format!("a number in (0, {max}]"),
                        (false, false) => format!("a number in [{min}, {max}]"),
                    };
                    self.error(
                        range,
                        "neuro/range",
                        format!("expected {what} to be {expected}, found {written}"),
                    );
                    return Value::Invalid;
                }
                Value::Number(value)
            }
            (ValueKind::Time { allow_zero }, Unit::Time(factor)) => {
                let seconds = value * factor;
                if seconds < 0.0 || (!allow_zero && seconds == 0.0) {
                    let bound = if allow_zero { ">= 0" } else { "> 0" };
                    self.error(
                        range,
                        "neuro/range",
                        format!("expected {what} to be a time {bound}, found {written}"),
                    );
                    return Value::Invalid;
                }
                Value::Seconds(seconds)
            }
            (ValueKind::Freq, Unit::Freq(factor)) => {
                let hertz = value * factor;
                if hertz <= 0.0 {
                    self.error(
                        range,
                        "neuro/range",
                        format!("expected {what} to be a frequency > 0, found {written}"),
                    );
                    return Value::Invalid;
                }
                Value::Hertz(hertz)
            }
            _ => {
                let found = match unit {
                    Unit::None => format!("the dimensionless number {written}"),
                    Unit::Time(_) => format!("the time {written}"),
                    Unit::Freq(_) => format!("the frequency {written}"),
                };
                let number_text = &written[..written.len() - suffix.len()];
                let (new_text, title) = match kind {
                    ValueKind::Time { .. } => {
                        let unit = if unit == Unit::None && value.abs() < 1.0 {
                            "s"
                        } else {
                            "ms"
                        };
                        (
                            format!("{number_text}{unit}"),
                            format!("Use {unit}: {number_text}{unit}"),
                        )
                    }
                    ValueKind::Freq => (
                        format!("{number_text}Hz"),
                        format!("Use Hz: {number_text}Hz"),
                    ),
                    _ => (
                        number_text.to_string(),
                        format!("Remove the unit: {number_text}"),
                    ),
                };
                let fix = Fix {
                    title,
                    edits: vec![TextEdit { range, new_text }],
                };
                self.error_with_fix(
                    range,
                    "neuro/unit",
                    format!("expected {what} to be {}, found {found}", kind.describe()),
                    Some(fix),
                );
                Value::Invalid
            }
        }
    }

    /// `W["key"]`: resolves the weights item and the key, returns its shape.
    fn check_tensor(&mut self, expr: &Expr, what: &dyn Display) -> Value {
        let ExprKind::Index { base, index } = &expr.kind else {
            return self.invalid(expr, what, ValueKind::Tensor);
        };
        let Some(name) = base.as_name() else {
            return self.invalid(expr, what, ValueKind::Tensor);
        };
        let Some(item) = self.resolve_item_of(
            name,
            &[ItemKind::Weights],
            &format_args!("a weights archive for {what}"),
        ) else {
            return Value::Invalid;
        };
        let Some(key) = index.as_string() else {
            let expected = "a string key such as \"fc.weight\"";
            self.expected_found(index.range, "neuro/invalid-value", expected);
            return Value::Invalid;
        };
        self.reference(
            index.range,
            Def::ArchiveKey {
                item,
                key: key.to_string(),
            },
            false,
        );
        self.archive_key_shape(item, key, index.range)
            .map(|shape| Value::Tensor(Some(shape)))
            .unwrap_or(Value::Tensor(None))
    }

    /// The shape of `key` in the archive bound by `item`; reports a missing
    /// key (with the closest existing keys) when the archive is known.
    pub fn archive_key_shape(&mut self, item: usize, key: &str, range: TextRange) -> Option<Shape> {
        let info = &self.analysis.items[item];
        let archive = info.archive.clone()?;
        if let Some(array) = archive.array(key) {
            return Some(Shape::known(&array.shape));
        }
        let path = info.path.clone().unwrap_or_default();
        let mut keys: Vec<&str> = archive
            .arrays
            .iter()
            .map(|array| array.name.as_str())
            .collect();
        keys.sort_by(|a, b| strsim::jaro_winkler(b, key).total_cmp(&strsim::jaro_winkler(a, key)));
        keys.truncate(5);
        self.error(
            range,
            "neuro/unknown-key",
            format!(
                "expected a key of `{path}` (e.g. {}), found \"{key}\"",
                keys.iter()
                    .map(|k| format!("\"{k}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        None
    }

    /// The per-sample shape of a dataset's inputs (`x` key), when known.
    pub fn dataset_input_shape(&mut self, dataset: usize) -> Option<Shape> {
        if let Some(image) = &self.analysis.items[dataset].image {
            return Some(Shape::known(&[1, image.size[0], image.size[1]]));
        }
        let key = self.dataset_x(dataset).unwrap_or("x").to_string();
        self.dataset_array_shape(dataset, &key)
    }

    /// The key a dataset's `x:` names, if it names one.
    pub fn dataset_x(&self, dataset: usize) -> Option<&str> {
        self.items()[dataset]
            .value
            .as_ref()
            .and_then(|value| value.as_call())
            .and_then(|call| call.named("x"))
            .and_then(|arg| arg.value.as_string())
    }

    /// The per-sample shape of array `key` of a dataset's archive.
    pub fn dataset_array_shape(&self, dataset: usize, key: &str) -> Option<Shape> {
        let archive = self.analysis.items[dataset].archive.clone()?;
        archive
            .array(key)
            .map(|array| Shape::known(&array.shape).per_sample())
    }

    pub fn dataset_has_labels(&self, dataset: usize) -> bool {
        if let Some(image) = &self.analysis.items[dataset].image {
            return self.dataset_has_labels(image.source);
        }
        let item = &self.items()[dataset];
        item.value
            .as_ref()
            .and_then(|value| value.as_call())
            .and_then(|call| call.named("y"))
            .is_some()
    }

    pub fn model_of(&self, item: usize) -> Option<std::sync::Arc<crate::workspace::ModelFacts>> {
        self.analysis.items[item].model.clone()
    }
}

/// Inserts `name: placeholder` for each parameter before the closing `)`.
pub fn insert_args_fix(checker: &Checker, call: &Call, params: &[&Param], title: &str) -> Fix {
    insert_args_fix_for(&checker.parse.text, checker.items(), call, params, title)
}

/// Inserts `name: placeholder` for each parameter before the closing `)`.
pub fn insert_args_fix_for(
    text: &str,
    items: &[crate::syntax::ast::Item],
    call: &Call,
    params: &[&Param],
    title: &str,
) -> Fix {
    let weights_name = items
        .iter()
        .find(|item| item.kind == ItemKind::Weights)
        .and_then(|item| item.name.as_ref())
        .map(|name| name.text.clone())
        .unwrap_or_else(|| "w".to_string());
    let close = call.args_range.end;
    let has_close = close > 0 && text.as_bytes().get(close - 1) == Some(&b')');
    let insert_at = if has_close { close - 1 } else { close };
    let mut parts = Vec::new();
    for param in params {
        parts.push(format!(
            "{}: {}",
            param.name,
            placeholder(param, &weights_name)
        ));
    }
    let needs_comma = !call.args.is_empty();
    let mut new_text = String::new();
    if needs_comma {
        new_text.push_str(", ");
    }
    new_text.push_str(&parts.join(", "));
    if !has_close {
        new_text.push(')');
    }
    Fix {
        title: title.to_string(),
        edits: vec![TextEdit {
            range: TextRange::empty(insert_at),
            new_text,
        }],
    }
}

/// A value to insert for a parameter: its default, or an example of its kind.
pub fn placeholder(param: &Param, weights_name: &str) -> String {
    if let Some(default) = param.default {
        return default.to_string();
    }
    match param.kind {
        ValueKind::Int { min } | ValueKind::Ints { min, .. } => format!("{}", min.max(1)),
        ValueKind::Float { max, .. } if max.is_finite() => format_number(max),
        ValueKind::Float { .. } => "1.0".to_string(),
        ValueKind::Time { .. } => "1ms".to_string(),
        ValueKind::Freq => "1000Hz".to_string(),
        ValueKind::Tensor => format!("{weights_name}[\"{}\"]", param.name),
        ValueKind::Layer => "x".to_string(),
        ValueKind::Dataset => "data".to_string(),
        ValueKind::Model => "model".to_string(),
        ValueKind::Weights => weights_name.to_string(),
        ValueKind::Word(words) => words.first().copied().unwrap_or("").to_string(),
        ValueKind::Bool => "true".to_string(),
        ValueKind::Str => "\"\"".to_string(),
        ValueKind::Size => "[16, 16]".to_string(),
    }
}
