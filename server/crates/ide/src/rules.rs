//! Every diagnostic code neuride emits, as data: its name, default severity,
//! one-line summary, an explanation with a failing example and the fix, and
//! whether `neuride check --fix` repairs it. `neuride rules`, `neuride
//! explain CODE`, SARIF's rule table and `docs/rules.md` are all made from
//! this one table; a test fails when any crate emits a code it does not list.
//!
//! The codes themselves stay with the crates that emit them (the ONNX
//! checker's `codes` module, npz's errors, the Neuro checker): this is the
//! first crate that sees all of them.

use crate::report::Severity;
use serde::Serialize;

/// `rule!(code, "Name", Error, fixable, "summary", "explanation")`.
macro_rules! rule {
    ($code:expr, $name:literal, $severity:ident, $fixable:literal, $summary:literal, $explanation:literal $(,)?) => {
        $crate::rules::Rule {
            code: $code,
            name: $name,
            severity: $crate::report::Severity::$severity,
            summary: $summary,
            explanation: $explanation,
            fixable: $fixable,
        }
    };
}

mod neuro;
mod nir;
mod npz;
mod onnx;

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rule {
    /// Stable code, `family/slug`.
    pub code: &'static str,
    /// A short human title.
    pub name: &'static str,
    /// The severity it is reported with unless configured otherwise. A few
    /// rules report milder cases as a warning (said in the explanation).
    pub severity: Severity,
    pub summary: &'static str,
    /// Markdown: what it means, an example that fails, and the fix.
    #[serde(skip)]
    pub explanation: &'static str,
    /// `neuride check --fix` repairs it without changing what the model computes.
    pub fixable: bool,
}

/// The families in the order they are listed, with what each covers.
pub const FAMILIES: &[(&str, &str)] = &[
    (
        "onnx",
        "ONNX models (`.onnx`): the checker, shape inference, decoding",
    ),
    ("npz", "NumPy archives and arrays (`.npz`, `.npy`)"),
    ("neuro", "Neuro language files (`.neuro`)"),
    (
        "nir",
        "NIR files (`.nir`): the Neuromorphic Intermediate Representation",
    ),
];

/// Every rule, family by family.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    onnx::RULES
        .iter()
        .chain(npz::RULES)
        .chain(neuro::RULES)
        .chain(nir::RULES)
}

/// The rule of `code`, if there is one.
pub fn find(code: &str) -> Option<&'static Rule> {
    all().find(|rule| rule.code == code)
}

/// Whether `selector` names `code`: the code itself, its family (`onnx` or
/// `onnx/`), a prefix ending at a `-` boundary (`onnx/external-data`), or
/// `ALL`.
pub fn matches(selector: &str, code: &str) -> bool {
    if selector == "ALL" || selector == code {
        return true;
    }
    let Some(rest) = code.strip_prefix(selector) else {
        return false;
    };
    selector.ends_with('/') || rest.starts_with('/') || rest.starts_with('-')
}

/// How specific a selector is: longer prefixes win over shorter ones
/// (`ALL` is the least specific).
pub fn specificity(selector: &str) -> usize {
    if selector == "ALL" {
        0
    } else {
        selector.trim_end_matches('/').len()
    }
}

/// Whether `selector` names at least one rule.
pub fn selects_any(selector: &str) -> bool {
    all().any(|rule| matches(selector, rule.code))
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// `docs/rules.md`: the table of every rule, then each explanation.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n\
         <!-- Generated from server/crates/ide/src/rules/ by `neuride rules --format markdown`; \
         a test fails when this file is out of date. -->\n\n\
         Every diagnostic neuride reports has a stable code. `neuride rules` lists them,\n\
         `neuride explain CODE` prints one explanation, and `neuride.toml` (or\n\
         `[tool.neuride]` in `pyproject.toml`) selects, ignores and re-grades them\n\
         (docs/lint.md). Fixable rules are repaired by `neuride check --fix`.\n",
    );
    for (family, what) in FAMILIES {
        out.push_str(&format!(
            "\n## `{family}/`: {what}\n\n| code | name | severity | fixable | summary |\n|---|---|---|---|---|\n"
        ));
        for rule in all().filter(|rule| rule.code.starts_with(&format!("{family}/"))) {
            out.push_str(&format!(
                "| [`{}`](#{}) | {} | {} | {} | {} |\n",
                rule.code,
                anchor(rule.code),
                rule.name,
                severity_name(rule.severity),
                if rule.fixable { "yes" } else { "" },
                rule.summary.replace('|', "\\|"),
            ));
        }
    }
    out.push_str("\n## Explanations\n");
    for rule in all() {
        out.push_str(&format!("\n### {}\n\n{}\n", rule.code, explain(rule)));
    }
    out
}

/// `neuride explain CODE`: the rule's header and its explanation.
pub fn explain(rule: &Rule) -> String {
    format!(
        "{} ({}): {}. Default severity: {}.{}\n\n{}",
        rule.name,
        rule.code,
        rule.summary,
        severity_name(rule.severity),
        if rule.fixable {
            " Fixable with `neuride check --fix`."
        } else {
            ""
        },
        rule.explanation.trim()
    )
}

/// The GitHub markdown anchor of a `### code` heading.
fn anchor(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

#[cfg(test)]
mod tests;
