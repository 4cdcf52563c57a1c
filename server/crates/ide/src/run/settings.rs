//! Values of a checked `.neuro` file read back for running: numbers with
//! their units in SI (seconds, hertz), words, booleans, and the calls of
//! neurons, normalizers, encoders and decoders mapped to the simulator's
//! options. Parameters a call leaves out take the language's defaults from
//! the catalog (`neuride_dsl::catalog`), so hover, checker and runs agree.

use super::RunError;
use neuride_convert::{Decode, Encode, IfNeuron, Neuron, Reset};
use neuride_dsl::catalog;
use neuride_dsl::check::{Unit, parse_unit, values_number};
use neuride_dsl::syntax::ast::{Arg, Expr, ExprKind};

/// A call as written, or a bare call name (`encode = current`, `neuron = if`).
pub(crate) struct CallView<'a> {
    pub name: &'a str,
    pub args: &'a [Arg],
}

impl<'a> CallView<'a> {
    pub fn of(expr: &'a Expr) -> Option<CallView<'a>> {
        match &expr.kind {
            ExprKind::Call(call) => Some(CallView {
                name: &call.callee.text,
                args: &call.args,
            }),
            ExprKind::Name(name) => Some(CallView {
                name: &name.text,
                args: &[],
            }),
            ExprKind::Paren(inner) => CallView::of(inner),
            _ => None,
        }
    }

    pub fn named(&self, key: &str) -> Option<&'a Expr> {
        self.args
            .iter()
            .find(|arg| arg.name.as_ref().is_some_and(|name| name.text == key))
            .map(|arg| &arg.value)
    }

    pub fn positional(&self) -> impl Iterator<Item = &'a Expr> {
        self.args
            .iter()
            .filter(|arg| arg.name.is_none())
            .map(|arg| &arg.value)
    }

    /// The first positional argument, else the one named `key`
    /// (`percentile(99.9)` and `percentile(p: 99.9)`).
    pub fn leading(&self, key: &str) -> Option<&'a Expr> {
        self.positional().next().or_else(|| self.named(key))
    }

    /// The catalog default of a parameter, as written there (`"20ms"`).
    fn default(&self, key: &str) -> Option<&'static str> {
        catalog::call(self.name)
            .and_then(|spec| spec.param(key))
            .and_then(|param| param.default)
    }

    /// A number in SI units (`20ms` is 0.02), or the catalog default.
    pub fn number(&self, key: &str) -> Result<Option<f64>, RunError> {
        match self.named(key) {
            Some(expr) => number(expr).map(Some),
            None => Ok(self.default(key).and_then(parse_default)),
        }
    }

    /// A required number: present, or with a default in the catalog.
    pub fn number_or(&self, key: &str, fallback: f64) -> Result<f64, RunError> {
        Ok(self.number(key)?.unwrap_or(fallback))
    }

    /// A bare word (`reset: zero`), or the catalog default.
    pub fn word(&self, key: &str) -> Result<Option<String>, RunError> {
        match self.named(key) {
            Some(expr) => word(expr).map(Some),
            None => Ok(self.default(key).map(str::to_owned)),
        }
    }
}

/// `1.0` from `"1.0"`, 0.02 from `"20ms"`, 1000 from `"1kHz"`.
fn parse_default(text: &str) -> Option<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let value: f64 = text[..split].parse().ok()?;
    match parse_unit(&text[split..])? {
        Unit::None => Some(value),
        Unit::Time(factor) | Unit::Freq(factor) => Some(value * factor),
    }
}

/// A short description of what was written, for messages.
fn text_of(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Number { value, unit, .. } => format!("`{value}{unit}`"),
        ExprKind::String(text) => format!("\"{text}\""),
        ExprKind::Bool(value) => format!("`{value}`"),
        ExprKind::Name(name) => format!("`{}`", name.text),
        ExprKind::Call(call) => format!("`{}(...)`", call.callee.text),
        ExprKind::List(_) => "a list".to_string(),
        ExprKind::Missing => "nothing".to_string(),
        _ => "an expression".to_string(),
    }
}

/// A number literal in SI units (seconds, hertz, or dimensionless).
pub(crate) fn number(expr: &Expr) -> Result<f64, RunError> {
    let (value, suffix, _, _) = values_number(expr)
        .ok_or_else(|| RunError::Setting(format!("expected a number, found {}", text_of(expr))))?;
    match parse_unit(suffix) {
        Some(Unit::None) => Ok(value),
        Some(Unit::Time(factor)) | Some(Unit::Freq(factor)) => Ok(value * factor),
        None => Err(RunError::Setting(format!("unknown unit `{suffix}`"))),
    }
}

/// A whole number >= 0.
pub(crate) fn count(expr: &Expr) -> Result<usize, RunError> {
    let value = number(expr)?;
    if value >= 0.0 && value.fract() == 0.0 {
        Ok(value as usize)
    } else {
        Err(RunError::Setting(format!(
            "expected a whole number, found {value}"
        )))
    }
}

/// `3` or `[3, 5]`: whole numbers >= 0 (a single number as a list of one).
pub(crate) fn counts(expr: &Expr) -> Result<Vec<usize>, RunError> {
    match &expr.kind {
        ExprKind::List(items) => items.iter().map(count).collect(),
        _ => Ok(vec![count(expr)?]),
    }
}

pub(crate) fn word(expr: &Expr) -> Result<String, RunError> {
    match &expr.kind {
        ExprKind::Name(name) => Ok(name.text.clone()),
        ExprKind::String(text) => Ok(text.clone()),
        _ => Err(RunError::Setting(format!(
            "expected a word, found {}",
            text_of(expr)
        ))),
    }
}

pub(crate) fn boolean(expr: &Expr) -> Result<bool, RunError> {
    match &expr.kind {
        ExprKind::Bool(value) => Ok(*value),
        _ => Err(RunError::Setting(format!(
            "expected true or false, found {}",
            text_of(expr)
        ))),
    }
}

fn reset(call: &CallView) -> Result<Reset, RunError> {
    match call.word("reset")?.as_deref() {
        None | Some("subtract") => Ok(Reset::Subtract),
        Some("zero") => Ok(Reset::Zero),
        Some(other) => Err(RunError::Setting(format!(
            "`{}`: expected reset subtract or zero, found {other}",
            call.name
        ))),
    }
}

/// A neuron call (`lif(...)`, `if(...)`, `leaky(...)`) as the simulator's
/// neuron plus the layer's input scale and spike amplitude.
///
/// - `lif(tau_rc, tau_ref, threshold, amplitude)`: Nengo's LIF (threshold 1
///   on the membrane), driven by `input / threshold`, each spike `amplitude`;
/// - `if(threshold, reset, rectify)`: integrate-and-fire stepped as `v += J`
///   (the converter's IF, independent of dt; negative currents lower `v`
///   unless `rectify: true`);
/// - every neuron takes `input_scale` and `amplitude` (what `neuride
///   convert` writes for scaled layers) and `initial_membrane`;
/// - `leaky(beta, threshold, reset)`: snnTorch's Leaky.
pub(crate) struct NeuronSpec {
    pub neuron: Neuron,
    pub input_scale: f32,
    pub amplitude: f32,
    /// `initial_membrane: V` when written, as a fraction of the threshold
    /// (the simulator's unit); the caller decides the default.
    pub initial_membrane: Option<f32>,
}

pub(crate) fn neuron(call: &CallView) -> Result<NeuronSpec, RunError> {
    let threshold = call.number_or("threshold", 1.0)? as f32;
    let initial_membrane = call
        .named("initial_membrane")
        .map(number)
        .transpose()?
        .map(|v| v as f32 / threshold);
    let input_scale = call.number_or("input_scale", 1.0)? as f32;
    let amplitude = call.number_or("amplitude", 1.0)? as f32;
    Ok(match call.name {
        "lif" => NeuronSpec {
            neuron: Neuron::Lif {
                tau_rc: call.number_or("tau_rc", 0.02)? as f32,
                tau_ref: call.number_or("tau_ref", 0.002)? as f32,
                min_voltage: call.number_or("min_voltage", 0.0)? as f32,
            },
            input_scale: input_scale / threshold,
            amplitude,
            initial_membrane,
        },
        "if" => NeuronSpec {
            neuron: Neuron::If(IfNeuron {
                threshold,
                reset: reset(call)?,
                rectify: call
                    .named("rectify")
                    .map(boolean)
                    .transpose()?
                    .unwrap_or(false),
                max_spikes: call
                    .named("max_spikes")
                    .map(count)
                    .transpose()?
                    .map(|m| m.min(u32::MAX as usize) as u32),
                signed: call
                    .named("signed")
                    .map(boolean)
                    .transpose()?
                    .unwrap_or(false),
            }),
            input_scale,
            amplitude,
            initial_membrane,
        },
        "leaky" => NeuronSpec {
            neuron: Neuron::Leaky {
                beta: call.number_or("beta", 0.9)? as f32,
                threshold,
                reset: reset(call)?,
            },
            input_scale,
            amplitude,
            initial_membrane,
        },
        other => {
            return Err(RunError::Setting(format!(
                "expected a neuron (lif, if, leaky), found `{other}`"
            )));
        }
    })
}

/// `encode = ...`: current, rate, latency or delta.
pub(crate) fn encode(expr: &Expr) -> Result<Encode, RunError> {
    let call = CallView::of(expr).ok_or_else(|| {
        RunError::Setting(format!(
            "`encode`: expected a call, found {}",
            text_of(expr)
        ))
    })?;
    Ok(match call.name {
        "current" => Encode::Current,
        "rate" => Encode::Rate {
            max_rate: call.number("max_rate")?.map(|rate| rate as f32),
            seed: call.number_or("seed", 0.0)? as u64,
        },
        // The language sets only tau; the threshold is the CLI's (0.01).
        "latency" => Encode::Latency {
            tau: call.number_or("tau", 0.005)? as f32,
            threshold: 0.01,
        },
        "delta" => Encode::Delta {
            threshold: call.number_or("threshold", 0.1)? as f32,
        },
        other => {
            return Err(RunError::Setting(format!(
                "`encode`: expected rate, current, latency or delta, found `{other}`"
            )));
        }
    })
}

/// `decode = ...`: count, membrane or first_spike.
pub(crate) fn decode(expr: &Expr) -> Result<Decode, RunError> {
    Ok(match word(expr)?.as_str() {
        "count" => Decode::Count,
        "membrane" => Decode::Membrane,
        "first_spike" => Decode::FirstSpike,
        other => {
            return Err(RunError::Setting(format!(
                "`decode`: expected count, membrane or first_spike, found `{other}`"
            )));
        }
    })
}

/// `record = [accuracy, raster(s1)]` as written (`"raster(s1)"`).
pub(crate) fn record(expr: Option<&Expr>, text: &str) -> Vec<String> {
    match expr.map(|expr| &expr.kind) {
        Some(ExprKind::List(items)) => items
            .iter()
            .map(|item| text[item.range.start..item.range.end].to_string())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_default;

    #[test]
    fn catalog_defaults_parse_in_si_units() {
        assert_eq!(parse_default("20ms"), Some(0.02));
        assert_eq!(parse_default("1.0"), Some(1.0));
        assert_eq!(parse_default("0"), Some(0.0));
        assert_eq!(parse_default("1kHz"), Some(1000.0));
        assert_eq!(parse_default("subtract"), None);
    }
}
