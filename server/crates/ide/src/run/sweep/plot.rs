//! A sweep's two plots as one SVG: accuracy against time steps (one curve
//! per setting of the other parameters: the accuracy after every step of
//! its longest trial, a dot per trial), and accuracy against synaptic
//! operations per sample with the Pareto front drawn through its trials.

use super::{SweepReport, Trial, pareto_front};
use neuride_onnx::graph::xml_escape;
use std::fmt::Write;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 420.0;
const PANEL: f64 = 400.0;
const LEFT: f64 = 60.0;
const TOP: f64 = 40.0;
const PLOT_H: f64 = 300.0;
const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A linear or logarithmic axis mapping data to pixels.
struct Scale {
    low: f64,
    high: f64,
    log: bool,
    from: f64,
    to: f64,
}

impl Scale {
    fn new(values: impl Iterator<Item = f64>, from: f64, to: f64, log: bool) -> Scale {
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
            low = low.min(v);
            high = high.max(v);
        }
        if !low.is_finite() {
            (low, high) = (if log { 1.0 } else { 0.0 }, 1.0);
        }
        if log {
            (low, high) = (
                10f64.powf(low.log10().floor()),
                10f64.powf(high.log10().ceil()),
            );
        }
        if high <= low {
            high = low + if log { low * 9.0 } else { 1.0 };
        }
        Scale {
            low,
            high,
            log,
            from,
            to,
        }
    }

    fn at(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.low).log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            (v - self.low) / (self.high - self.low)
        };
        self.from + t * (self.to - self.from)
    }

    /// Tick values: decades for a log axis, about five round steps otherwise.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut out = Vec::new();
            let mut v = self.low;
            while v <= self.high * 1.0001 {
                out.push(v);
                v *= 10.0;
            }
            return out;
        }
        let raw = (self.high - self.low) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(raw);
        let mut out = Vec::new();
        let mut v = (self.low / step).ceil() * step;
        while v <= self.high + step * 1e-9 {
            out.push(v);
            v += step;
        }
        out
    }
}

fn label(v: f64) -> String {
    if v.abs() >= 1e4 {
        let exponent = v.abs().log10().floor() as i32;
        let mantissa = v / 10f64.powi(exponent);
        if (mantissa - 1.0).abs() < 1e-9 {
            format!("1e{exponent}")
        } else {
            format!("{mantissa:.1}e{exponent}")
        }
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Draws the frame, ticks and titles of a panel starting at `x0`.
fn axes(out: &mut String, x0: f64, x: &Scale, y: &Scale, x_title: &str, title: &str) {
    let bottom = TOP + PLOT_H;
    let _ = write!(
        out,
        "<rect x=\"{x0}\" y=\"{TOP}\" width=\"{}\" height=\"{PLOT_H}\" fill=\"none\" stroke=\"#888\"/>",
        PANEL - LEFT
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
        x0 + (PANEL - LEFT) / 2.0,
        TOP - 14.0,
        xml_escape(title)
    );
    for t in x.ticks() {
        let px = x.at(t);
        let _ = write!(
            out,
            "<line x1=\"{px:.1}\" y1=\"{bottom}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#888\"/><text x=\"{px:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            bottom + 4.0,
            bottom + 17.0,
            label(t)
        );
    }
    for t in y.ticks() {
        let py = y.at(t);
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{py:.1}\" x2=\"{x0}\" y2=\"{py:.1}\" stroke=\"#888\"/><line x1=\"{x0}\" y1=\"{py:.1}\" x2=\"{}\" y2=\"{py:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            x0 - 4.0,
            x0 + PANEL - LEFT,
            x0 - 6.0,
            py + 4.0,
            label((t * 1e8).round() / 1e6)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
        x0 + (PANEL - LEFT) / 2.0,
        bottom + 34.0,
        xml_escape(x_title)
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 {} {})\">accuracy (%)</text>",
        x0 - 42.0,
        TOP + PLOT_H / 2.0,
        x0 - 42.0,
        TOP + PLOT_H / 2.0
    );
}

/// The two panels and a legend, as a standalone SVG document.
pub fn plot_svg(report: &SweepReport) -> String {
    let trials: Vec<&Trial> = report
        .results
        .iter()
        .filter(|t| t.accuracy.is_some())
        .collect();
    // One group per setting of the parameters other than `steps`.
    let mut groups: Vec<String> = Vec::new();
    let group_of: Vec<usize> = trials
        .iter()
        .map(|t| {
            let key = t.params.label_without("steps");
            match groups.iter().position(|g| *g == key) {
                Some(i) => i,
                None => {
                    groups.push(key);
                    groups.len() - 1
                }
            }
        })
        .collect();
    let colour = |g: usize| COLOURS[g % COLOURS.len()];
    let accuracies = trials
        .iter()
        .flat_map(|t| t.accuracy_per_step.iter().copied().chain(t.accuracy));
    let y = Scale::new(accuracies, TOP + PLOT_H, TOP, false);
    let y = Scale {
        low: (y.low * 20.0).floor() / 20.0,
        high: ((y.high * 20.0).ceil() / 20.0)
            .min(1.0)
            .max((y.low * 20.0).floor() / 20.0 + 0.05),
        ..y
    };
    let max_steps = trials.iter().map(|t| t.steps).max().unwrap_or(1) as f64;
    let x_steps = Scale::new([0.0, max_steps].into_iter(), LEFT, PANEL, false);
    let synops: Vec<f64> = trials.iter().map(|t| t.synops).collect();
    let spread = synops.iter().cloned().fold(0f64, f64::max)
        / synops
            .iter()
            .cloned()
            .filter(|s| *s > 0.0)
            .fold(f64::INFINITY, f64::min);
    let x_synops = Scale::new(
        synops.iter().copied(),
        PANEL + LEFT + 20.0,
        2.0 * PANEL + 20.0,
        spread.is_finite() && spread > 20.0,
    );

    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{}\" font-family=\"sans-serif\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        HEIGHT + 18.0 * groups.len().saturating_sub(1) as f64
    );
    axes(
        &mut out,
        LEFT,
        &x_steps,
        &y,
        "time steps",
        &format!("accuracy vs steps: {}", report.target),
    );
    axes(
        &mut out,
        PANEL + LEFT + 20.0,
        &x_synops,
        &y,
        if x_synops.log {
            "synaptic operations per sample (log)"
        } else {
            "synaptic operations per sample"
        },
        "accuracy vs synops, Pareto front",
    );

    // Left: each group's longest trial, accuracy after every step.
    for (g, _) in groups.iter().enumerate() {
        let longest = trials
            .iter()
            .zip(&group_of)
            .filter(|(_, gi)| **gi == g)
            .map(|(t, _)| *t)
            .max_by_key(|t| t.steps);
        if let Some(t) = longest.filter(|t| !t.accuracy_per_step.is_empty()) {
            let points: Vec<String> = t
                .accuracy_per_step
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{:.1},{:.1}", x_steps.at((i + 1) as f64), y.at(*a)))
                .collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" opacity=\"0.8\"/>",
                points.join(" "),
                colour(g)
            );
        }
    }
    for (t, &g) in trials.iter().zip(&group_of) {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\"><title>{} steps: {:.2} %</title></circle>",
            x_steps.at(t.steps as f64),
            y.at(t.accuracy.unwrap_or(0.0)),
            colour(g),
            t.steps,
            t.accuracy.unwrap_or(0.0) * 100.0
        );
    }

    // Right: every trial, the front as a step line through its trials.
    for (t, &g) in trials.iter().zip(&group_of) {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\" opacity=\"0.7\"><title>{}: {:.2} %, {:.0} synops</title></circle>",
            x_synops.at(t.synops),
            y.at(t.accuracy.unwrap_or(0.0)),
            colour(g),
            xml_escape(&t.params.label_without("")),
            t.accuracy.unwrap_or(0.0) * 100.0,
            t.synops
        );
    }
    let mut front: Vec<&Trial> = pareto_front(&report.results)
        .into_iter()
        .map(|i| &report.results[i])
        .collect();
    front.sort_by(|a, b| a.synops.total_cmp(&b.synops));
    if !front.is_empty() {
        let mut points = Vec::new();
        let mut best = f64::NEG_INFINITY;
        for t in &front {
            let accuracy = t.accuracy.unwrap_or(0.0);
            if best.is_finite() && accuracy > best {
                points.push(format!("{:.1},{:.1}", x_synops.at(t.synops), y.at(best)));
            }
            best = best.max(accuracy);
            points.push(format!("{:.1},{:.1}", x_synops.at(t.synops), y.at(best)));
        }
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>",
            points.join(" ")
        );
        for t in &front {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{} st</text>",
                x_synops.at(t.synops),
                y.at(t.accuracy.unwrap_or(0.0)),
                x_synops.at(t.synops) + 8.0,
                y.at(t.accuracy.unwrap_or(0.0)) - 8.0,
                t.steps
            );
        }
    }

    // Legend: one line per group, then the front's mark.
    let legend_top = TOP + PLOT_H + 52.0;
    for (g, name) in groups.iter().enumerate() {
        let ly = legend_top + 18.0 * g as f64;
        let _ = write!(
            out,
            "<circle cx=\"{}\" cy=\"{ly}\" r=\"4\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            LEFT + 6.0,
            colour(g),
            LEFT + 16.0,
            ly + 4.0,
            xml_escape(name)
        );
    }
    let _ = write!(
        out,
        "<circle cx=\"{}\" cy=\"{legend_top}\" r=\"7\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">Pareto front (accuracy up, synops down, steps down)</text>",
        PANEL + LEFT + 26.0,
        PANEL + LEFT + 38.0,
        legend_top + 4.0
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::finished_trial;
    use super::super::{ParamValue, Params};
    use super::*;

    #[test]
    fn the_svg_has_both_panels_a_curve_per_setting_and_the_front() {
        let trial = |steps: usize, encode: &str, accuracy: f64, synops: f64| {
            let params = Params(vec![
                ("steps".into(), ParamValue::Number(steps as f64)),
                ("encode".into(), ParamValue::Text(encode.into())),
            ]);
            let curve = (1..=steps)
                .map(|s| accuracy * s as f64 / steps as f64)
                .collect();
            finished_trial(params, steps, curve, synops)
        };
        let results = vec![
            trial(10, "current", 0.8, 1e3),
            trial(20, "current", 0.9, 2e3),
            trial(10, "rate", 0.6, 5e4),
            trial(20, "rate", 0.7, 1e5),
        ];
        let report = SweepReport {
            target: "m.onnx".into(),
            axes: vec!["steps".into(), "encode".into()],
            grid_size: 4,
            jobs: 1,
            wall_s: 0.4,
            pareto: Vec::new(),
            results,
        };
        let svg = plot_svg(&report);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(
            svg.matches("<polyline").count(),
            3,
            "two curves and the front"
        );
        assert!(svg.contains("encode=current") && svg.contains("encode=rate"));
        assert!(svg.contains("(log)"), "synops spread over two decades");
        assert_eq!(
            svg.matches("r=\"7\"").count(),
            3,
            "two front trials and the legend mark"
        );
    }
}
