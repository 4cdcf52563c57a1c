//! The formats of `neuride check`: for people (a listing, or `--quiet`),
//! for scripts (JSON), for CI (GitHub workflow commands, SARIF 2.1.0,
//! JUnit XML), and `--statistics`. Every format takes the checked files
//! after the configuration was applied.
//!
//! Diagnostics of models and archives are placed on lines of their text
//! view (`neuride print`), which GitHub and SARIF viewers cannot show for
//! a binary file: there those carry the file only.

use super::Format;
use neuride_ide::lint::Checked;
use neuride_ide::rules;
use neuride_ide::{FileDiagnostic, FileReport, Severity};
use neuride_onnx::graph::xml_escape;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;

type Out<'a> = &'a mut dyn Write;

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
}

fn summary(files: &[Checked]) -> Summary {
    let count = |severity| files.iter().map(|f| f.report.count(severity)).sum();
    Summary {
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn summary_line(files: &[Checked]) -> String {
    let summary = summary(files);
    format!(
        "checked {}: {}, {}",
        plural(files.len(), "file"),
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning")
    )
}

/// `path:line:col: error[code]: message` (1-based, as compilers print them).
fn diagnostic_line(path: &str, diagnostic: &FileDiagnostic) -> String {
    format!(
        "{path}:{}:{}: {}[{}]: {}",
        diagnostic.range.start.line + 1,
        diagnostic.range.start.character + 1,
        rules::severity_name(diagnostic.severity),
        diagnostic.code,
        diagnostic.message
    )
}

/// The old output: the diagnostics, then the summary line.
pub fn quiet(out: Out, files: &[Checked]) -> std::io::Result<()> {
    for file in files {
        for diagnostic in &file.report.diagnostics {
            writeln!(out, "{}", diagnostic_line(&file.report.path, diagnostic))?;
        }
    }
    writeln!(out, "{}", summary_line(files))
}

/// ANSI styles, or nothing when the output is not a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn severity(&self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Error => self.paint("1;31", text),
            Severity::Warning => self.paint("1;33", text),
            Severity::Info => self.paint("1;36", text),
        }
    }
}

/// One line per file, aligned: path, kind, what it holds, size, verdict;
/// a file's diagnostics follow its line; the summary line is last.
pub fn human(out: Out, files: &[Checked], colour: bool) -> std::io::Result<()> {
    let style = Style { on: colour };
    let rows: Vec<[String; 4]> = files
        .iter()
        .map(|file| {
            let (detail, size) = file
                .overview
                .as_ref()
                .map_or((String::new(), String::new()), |o| {
                    (o.detail.clone(), size(o.size))
                });
            [
                file.report.path.clone(),
                file.report.kind.as_str().to_owned(),
                detail,
                size,
            ]
        })
        .collect();
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    for (file, row) in files.iter().zip(&rows) {
        let report = &file.report;
        let (errors, warnings) = (
            report.count(Severity::Error),
            report.count(Severity::Warning),
        );
        let verdict = if errors > 0 {
            let mut text = plural(errors, "error");
            if warnings > 0 {
                text.push_str(&format!(", {}", plural(warnings, "warning")));
            }
            style.severity(Severity::Error, &text)
        } else if warnings > 0 {
            style.severity(Severity::Warning, &plural(warnings, "warning"))
        } else if report.diagnostics.is_empty() {
            style.paint("32", "ok")
        } else {
            style.severity(Severity::Info, &plural(report.diagnostics.len(), "note"))
        };
        writeln!(
            out,
            "{}  {}  {}  {}  {verdict}",
            pad(&style.paint("1", &row[0]), &row[0], widths[0]),
            pad(&style.paint("2", &row[1]), &row[1], widths[1]),
            pad(&row[2], &row[2], widths[2]),
            left_pad(&row[3], widths[3]),
        )?;
        for diagnostic in &report.diagnostics {
            let line = diagnostic_line(&report.path, diagnostic);
            let label = format!(
                "{}[{}]",
                rules::severity_name(diagnostic.severity),
                diagnostic.code
            );
            writeln!(
                out,
                "  {}",
                line.replacen(&label, &style.severity(diagnostic.severity, &label), 1)
            )?;
        }
    }
    let summary = summary(files);
    let line = summary_line(files);
    let line = if summary.errors > 0 {
        style.severity(Severity::Error, &line)
    } else if summary.warnings > 0 {
        style.severity(Severity::Warning, &line)
    } else {
        style.paint("1;32", &line)
    };
    writeln!(out, "{line}")
}

/// `painted` (whose visible text is `plain`) padded to `width` columns.
fn pad(painted: &str, plain: &str, width: usize) -> String {
    let fill = width.saturating_sub(plain.chars().count());
    format!("{painted}{}", " ".repeat(fill))
}

fn left_pad(text: &str, width: usize) -> String {
    format!("{text:>width$}")
}

/// `812 B`, `41.3 kB`, `346 MB`.
fn size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 100.0 {
        format!("{value:.1} {}", units[unit])
    } else {
        format!("{value:.0} {}", units[unit])
    }
}

pub fn json(out: Out, files: &[Checked]) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Output<'a> {
        files: Vec<&'a FileReport>,
        summary: Summary,
    }
    let output = Output {
        files: files.iter().map(|f| &f.report).collect(),
        summary: summary(files),
    };
    serde_json::to_writer(&mut *out, &output)?;
    writeln!(out)
}

fn is_binary(report: &FileReport) -> bool {
    report.kind.is_binary()
}

/// GitHub Actions workflow commands: `::error file=F,line=L,col=C,endLine=..,
/// endColumn=..,title=CODE::message`; `warning`, and `notice` for infos.
pub fn github(out: Out, files: &[Checked]) -> std::io::Result<()> {
    for file in files {
        let report = &file.report;
        for diagnostic in &report.diagnostics {
            let command = match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut properties = format!("file={}", github_property(&report.path));
            if !is_binary(report) {
                let range = diagnostic.range;
                properties.push_str(&format!(
                    ",line={},col={},endLine={},endColumn={}",
                    range.start.line + 1,
                    range.start.character + 1,
                    range.end.line + 1,
                    range.end.character + 1
                ));
            }
            properties.push_str(&format!(",title={}", github_property(&diagnostic.code)));
            writeln!(
                out,
                "::{command} {properties}::{}",
                github_data(&format!("{} [{}]", diagnostic.message, diagnostic.code))
            )?;
        }
    }
    Ok(())
}

/// Escaping of a workflow command's message.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a workflow command's property value.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A relative file path as a URI reference (SARIF `artifactLocation.uri`).
fn uri_reference(path: &str) -> String {
    let mut uri = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(byte as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    if path.starts_with('/') {
        format!("file://{uri}")
    } else {
        uri
    }
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// SARIF 2.1.0: one run whose driver lists every rule (with its
/// explanation as help), and a result per diagnostic.
pub fn sarif(out: Out, files: &[Checked]) -> std::io::Result<()> {
    let all: Vec<&rules::Rule> = rules::all().collect();
    let index: BTreeMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(i, rule)| (rule.code, i))
        .collect();
    let rules_json: Vec<_> = all
        .iter()
        .map(|rule| {
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": { "text": rule.summary },
                "fullDescription": { "text": rules::explain(rule) },
                "help": { "text": rule.explanation.trim(), "markdown": rule.explanation.trim() },
                "defaultConfiguration": { "level": sarif_level(rule.severity) },
                "properties": { "fixable": rule.fixable },
            })
        })
        .collect();
    let mut results = Vec::new();
    for file in files {
        let report = &file.report;
        for diagnostic in &report.diagnostics {
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri_reference(&report.path) },
                }
            });
            if !is_binary(report) {
                let range = diagnostic.range;
                location["physicalLocation"]["region"] = json!({
                    "startLine": range.start.line + 1,
                    "startColumn": range.start.character + 1,
                    "endLine": range.end.line + 1,
                    "endColumn": range.end.character + 1,
                });
            }
            let mut result = json!({
                "ruleId": diagnostic.code,
                "level": sarif_level(diagnostic.severity),
                "message": { "text": diagnostic.message },
                "locations": [location],
            });
            if let Some(&i) = index.get(diagnostic.code.as_str()) {
                result["ruleIndex"] = json!(i);
            }
            results.push(result);
        }
    }
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "neuride",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules_json,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    serde_json::to_writer(&mut *out, &log)?;
    writeln!(out)
}

/// JUnit XML (as ruff writes it): a test suite per file; each diagnostic a
/// failing test case (`type` is its severity), a clean file one passing case.
pub fn junit(out: Out, files: &[Checked]) -> std::io::Result<()> {
    let total: usize = files
        .iter()
        .map(|f| f.report.diagnostics.len().max(1))
        .sum();
    let failures: usize = files.iter().map(|f| f.report.diagnostics.len()).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="neuride check" tests="{total}" failures="{failures}" errors="0">"#
    )?;
    for file in files {
        let report = &file.report;
        let path = xml_escape(&report.path);
        let tests = report.diagnostics.len().max(1);
        writeln!(
            out,
            r#"  <testsuite name="{path}" tests="{tests}" failures="{}" errors="0">"#,
            report.diagnostics.len()
        )?;
        if report.diagnostics.is_empty() {
            writeln!(
                out,
                r#"    <testcase name="no problems" classname="{path}"/>"#
            )?;
        }
        for diagnostic in &report.diagnostics {
            let line = diagnostic.range.start.line + 1;
            let column = diagnostic.range.start.character + 1;
            writeln!(
                out,
                r#"    <testcase name="{}" classname="{path}" file="{path}" line="{line}">"#,
                xml_escape(&format!("{} at {line}:{column}", diagnostic.code))
            )?;
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                rules::severity_name(diagnostic.severity),
                xml_escape(&diagnostic.message),
                xml_escape(&diagnostic_line(&report.path, diagnostic))
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// `--statistics`: how often each code was reported, most frequent first.
pub fn statistics(out: Out, files: &[Checked], format: Format) -> std::io::Result<()> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for file in files {
        for diagnostic in &file.report.diagnostics {
            *counts.entry(diagnostic.code.as_str()).or_default() += 1;
        }
    }
    let mut rows: Vec<(&str, usize)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if format == Format::Json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(code, count)| {
                let rule = rules::find(code);
                json!({
                    "code": code,
                    "name": rule.map(|r| r.name),
                    "count": count,
                    "fixable": rule.is_some_and(|r| r.fixable),
                })
            })
            .collect();
        serde_json::to_writer(&mut *out, &rows)?;
        return writeln!(out);
    }
    let count_width = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let code_width = rows.iter().map(|(code, _)| code.len()).max().unwrap_or(0);
    for (code, count) in &rows {
        let rule = rules::find(code);
        writeln!(
            out,
            "{count:>count_width$}  {code:code_width$}  {} {}",
            if rule.is_some_and(|r| r.fixable) {
                "[*]"
            } else {
                "   "
            },
            rule.map_or("", |r| r.name)
        )?;
    }
    if rows
        .iter()
        .any(|(code, _)| rules::find(code).is_some_and(|r| r.fixable))
    {
        writeln!(out, "[*] fixable with `neuride check --fix`")?;
    }
    Ok(())
}
