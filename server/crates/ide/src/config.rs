//! Lint configuration: which rules run and how severe they are, read from
//! `neuride.toml` (`[lint]`) or `pyproject.toml` (`[tool.neuride.lint]`),
//! adjusted by command-line flags, and applied to a file's diagnostics.
//!
//! ```toml
//! [lint]
//! select = ["onnx", "neuro/syntax"]        # default: every rule
//! ignore = ["onnx/opset-too-new"]
//! severity = { "onnx/deprecated-op" = "error", "npz/nan" = "info" }
//!
//! [[lint.per-path]]
//! paths = ["legacy/**"]                    # globs relative to the config file's folder
//! ignore = ["onnx/topological-order"]
//! severity = { "onnx" = "warning" }
//! ```
//!
//! A selector is a code, a family (`onnx` or `onnx/`), a prefix ending at a
//! `-` (`onnx/external-data`) or `ALL`. When a code is matched by both
//! `select` and `ignore` the more specific selector wins, and `ignore` wins
//! a tie (as in ruff). This module is pure: finding and reading the files
//! is the caller's (`neuride`'s `config` module).

use crate::report::{FileDiagnostic, Severity};
use crate::rules;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file names looked for in each folder, in order of precedence.
pub const FILE_NAMES: [&str; 2] = ["neuride.toml", "pyproject.toml"];

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lint {
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default, rename = "per-path")]
    per_path: Vec<PerPathToml>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerPathToml {
    paths: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeurideToml {
    #[serde(default)]
    lint: Lint,
}

#[derive(Debug, Deserialize)]
struct Pyproject {
    #[serde(default)]
    tool: Option<PyprojectTools>,
}

#[derive(Debug, Deserialize)]
struct PyprojectTools {
    neuride: Option<NeurideToml>,
}

/// One `[[lint.per-path]]` table.
#[derive(Clone, Debug)]
struct PerPath {
    globs: globset::GlobSet,
    ignore: Vec<String>,
    severity: Vec<(String, Severity)>,
}

/// A parsed configuration file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it was read from (`None`: the defaults).
    pub path: Option<PathBuf>,
    /// The folder per-path globs are relative to.
    pub root: PathBuf,
    select: Option<Vec<String>>,
    ignore: Vec<String>,
    severity: Vec<(String, Severity)>,
    per_path: Vec<PerPath>,
}

/// What the command line adds: `--select` replaces the file's `select`,
/// `--ignore` adds to its `ignore`.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
}

impl Overrides {
    /// Checks every selector names a rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let selectors = self.select.iter().flatten().chain(&self.ignore);
        validate_selectors(selectors, "the command line")
    }
}

impl Config {
    /// Parses `text`, the contents of `path` (`neuride.toml` or, by its
    /// name, `pyproject.toml`). A `pyproject.toml` without a
    /// `[tool.neuride]` table gives `Ok(None)`: it is not a neuride config.
    pub fn parse(path: &Path, text: &str) -> Result<Option<Config>, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
        let lint = if is_pyproject {
            let pyproject: Pyproject =
                toml::from_str(text).map_err(|e| error(toml_message(text, &e)))?;
            match pyproject.tool.and_then(|tool| tool.neuride) {
                Some(neuride) => neuride.lint,
                None => return Ok(None),
            }
        } else {
            let file: NeurideToml =
                toml::from_str(text).map_err(|e| error(toml_message(text, &e)))?;
            file.lint
        };
        let root = path.parent().unwrap_or(Path::new("")).to_owned();
        let place = path.display().to_string();
        let config = Config {
            path: Some(path.to_owned()),
            root,
            select: lint.select,
            ignore: lint.ignore,
            severity: severities(&lint.severity).map_err(error)?,
            per_path: lint
                .per_path
                .iter()
                .map(|table| {
                    let mut builder = globset::GlobSetBuilder::new();
                    for pattern in &table.paths {
                        let glob = globset::GlobBuilder::new(pattern)
                            .literal_separator(true)
                            .build()
                            .map_err(|e| format!("per-path glob {pattern:?}: {e}"))?;
                        builder.add(glob);
                    }
                    Ok(PerPath {
                        globs: builder.build().map_err(|e| e.to_string())?,
                        ignore: table.ignore.clone(),
                        severity: severities(&table.severity)?,
                    })
                })
                .collect::<Result<_, String>>()
                .map_err(error)?,
        };
        let selectors = config
            .select
            .iter()
            .flatten()
            .chain(&config.ignore)
            .chain(config.severity.iter().map(|(s, _)| s))
            .chain(
                config
                    .per_path
                    .iter()
                    .flat_map(|p| p.ignore.iter().chain(p.severity.iter().map(|(s, _)| s))),
            );
        validate_selectors(selectors, &place)?;
        Ok(Some(config))
    }

    /// The rules in force for `file` (an absolute path, or one relative to
    /// the same folder as the config's).
    pub fn rules_for(&self, file: &Path, overrides: &Overrides) -> RuleSet {
        let relative = file.strip_prefix(&self.root).unwrap_or(file);
        let matching: Vec<&PerPath> = self
            .per_path
            .iter()
            .filter(|p| p.globs.is_match(relative))
            .collect();
        let select = overrides
            .select
            .clone()
            .or_else(|| self.select.clone())
            .unwrap_or_else(|| vec!["ALL".to_owned()]);
        let ignore = self
            .ignore
            .iter()
            .chain(&overrides.ignore)
            .chain(matching.iter().flat_map(|p| &p.ignore))
            .cloned()
            .collect();
        let severity = self
            .severity
            .iter()
            .chain(matching.iter().flat_map(|p| &p.severity))
            .cloned()
            .collect();
        RuleSet {
            select,
            ignore,
            severity,
        }
    }
}

/// The rules in force for one file.
#[derive(Clone, Debug)]
pub struct RuleSet {
    select: Vec<String>,
    ignore: Vec<String>,
    /// Later entries (per-path) win over earlier ones of the same specificity.
    severity: Vec<(String, Severity)>,
}

impl Default for RuleSet {
    fn default() -> Self {
        Config::default().rules_for(Path::new(""), &Overrides::default())
    }
}

impl RuleSet {
    /// `None` when `code` is not selected, else the severity to report it
    /// with (`emitted` unless the configuration re-grades it).
    pub fn severity(&self, code: &str, emitted: Severity) -> Option<Severity> {
        let best = |selectors: &[String]| {
            selectors
                .iter()
                .filter(|s| rules::matches(s, code))
                .map(|s| rules::specificity(s))
                .max()
        };
        let selected = best(&self.select)?;
        if best(&self.ignore).is_some_and(|ignored| ignored >= selected) {
            return None;
        }
        let mut chosen: Option<(usize, Severity)> = None;
        for (selector, severity) in &self.severity {
            if rules::matches(selector, code) {
                let specificity = rules::specificity(selector);
                if chosen.is_none_or(|(best, _)| specificity >= best) {
                    chosen = Some((specificity, *severity));
                }
            }
        }
        Some(chosen.map_or(emitted, |(_, severity)| severity))
    }

    /// Drops the diagnostics of rules not selected and re-grades the rest.
    pub fn apply(&self, diagnostics: Vec<FileDiagnostic>) -> Vec<FileDiagnostic> {
        diagnostics
            .into_iter()
            .filter_map(|mut diagnostic| {
                diagnostic.severity = self.severity(&diagnostic.code, diagnostic.severity)?;
                Some(diagnostic)
            })
            .collect()
    }
}

fn severities(table: &BTreeMap<String, String>) -> Result<Vec<(String, Severity)>, String> {
    table
        .iter()
        .map(|(selector, value)| {
            let severity = match value.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                other => {
                    return Err(format!(
                        "severity of {selector:?}: expected \"error\", \"warning\" or \"info\", found {other:?}"
                    ));
                }
            };
            Ok((selector.clone(), severity))
        })
        .collect()
}

fn validate_selectors<'a>(
    selectors: impl Iterator<Item = &'a String>,
    place: &str,
) -> Result<(), ConfigError> {
    for selector in selectors {
        if !rules::selects_any(selector) {
            return Err(ConfigError {
                path: place.to_owned(),
                message: format!(
                    "{selector:?} selects no rule: expected a code (`neuride rules` lists them), a family (`onnx`, `npz`, `neuro`), a prefix of codes or `ALL`"
                ),
            });
        }
    }
    Ok(())
}

/// toml's message with the line it is about.
fn toml_message(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim();
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests;
