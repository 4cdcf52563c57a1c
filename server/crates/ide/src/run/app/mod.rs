//! Running an `app` block (docs/app.md): the checked file's sensors,
//! pipelines and rules become a [`neuride_app::App`], replay sensors read
//! their datasets (through the npz crate), model stages are compiled once
//! per run through the router ([`build`]), and the run goes on a virtual
//! clock (replay at full speed) or the wall clock ([`WallClock`]).
//!
//! Readings from outside (MQTT) are not read here: the binary connects and
//! pushes them into the run's [`Inbox`]; [`Outside`] says whether anything
//! will. The CLI (`neuride app run`) and the language server
//! (`neuride.runApp`) both call [`prepare_app`] and [`PreparedApp::run`]
//! with the same [`RunApp`] options.

mod build;
mod clock;
mod stages;

pub use clock::WallClock;
pub use neuride_app::{Event, EventKind, Inbox, Observer, Report, Status};

use super::{RunError, ensure_clean};
use crate::neuro::NeuroAnalysis;
use crate::report::Range;
use neuride_app::{Clock, Options, Runtime, VirtualClock};
use neuride_dsl::syntax::ast::ItemKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

/// Readings each sensor's queue holds in real time before the oldest drops.
pub const DEFAULT_QUEUE: usize = 64;

/// How a run's clock goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// Virtual time: readings as fast as the stages allow.
    Max,
    /// The wall clock.
    Realtime,
    /// N times the wall clock.
    Times(f64),
}

impl FromStr for Speed {
    type Err = String;

    fn from_str(text: &str) -> Result<Speed, String> {
        match text {
            "max" => Ok(Speed::Max),
            "realtime" => Ok(Speed::Realtime),
            number => match number.parse::<f64>() {
                Ok(n) if n.is_finite() && n > 0.0 => Ok(Speed::Times(n)),
                _ => Err(format!(
                    "expected max, realtime or a factor above 0 (e.g. 10), found `{text}`"
                )),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Speed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Speed, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Word(String),
            Number(f64),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Word(word) => word,
            Written::Number(n) => n.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Options of an app run: `neuride app run` builds them from its flags,
/// the language server deserializes them from `neuride.runApp`'s argument.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunApp {
    /// The app to run (the first one in the file when left out).
    pub app: Option<String>,
    /// Default: `max` unless a sensor is fed from outside, then `realtime`.
    pub speed: Option<Speed>,
    /// At most this many readings per sensor.
    pub limit: Option<u64>,
    /// Replay sensors start over at the end of their data.
    #[serde(rename = "loop")]
    pub loop_: bool,
    /// Emit `reading` and `prediction` events.
    pub trace: bool,
    /// Readings each sensor's queue holds in real time.
    pub queue: usize,
}

impl Default for RunApp {
    fn default() -> RunApp {
        RunApp {
            app: None,
            speed: None,
            limit: None,
            loop_: false,
            trace: false,
            queue: DEFAULT_QUEUE,
        }
    }
}

/// What feeds the app's `mqtt(...)` sensors from outside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outside {
    /// A broker connection pushes their readings into the inbox; without
    /// one they are idle.
    pub connected: bool,
    /// Several instances share each topic (MQTT shared subscriptions):
    /// each sees only some readings, so rules that hold over consecutive
    /// readings of such a sensor are refused.
    pub shared: bool,
}

/// One `app` of a file, for code lenses and `--app`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppItem {
    pub name: String,
    /// Index of the item in the file's items.
    pub item: usize,
    pub range: Range,
    pub selection: Range,
}

/// The `app` blocks of a file, in file order.
pub fn app_items(neuro: &NeuroAnalysis) -> Vec<AppItem> {
    neuro
        .items()
        .iter()
        .enumerate()
        .filter(|(_, item)| item.kind == ItemKind::App)
        .filter_map(|(index, item)| {
            let name = item.name.as_ref()?;
            Some(AppItem {
                name: name.text.clone(),
                item: index,
                range: neuro.range(item.range),
                selection: neuro.range(name.range),
            })
        })
        .collect()
}

/// An mqtt sensor the binary subscribes for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSensor {
    /// Index of the sensor (the inbox queue to push into).
    pub sensor: usize,
    pub name: String,
    pub topic: String,
}

/// An app compiled for one run: its models prepared, its datasets read.
pub struct PreparedApp {
    runtime: Runtime,
    speed: Speed,
    topics: Vec<TopicSensor>,
    /// Model files the stages were compiled from, with what they were.
    models: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
    clock: Option<WallClock>,
    file: String,
}

/// Checks the file, finds the app and compiles it (see the module doc).
pub fn prepare_app(
    neuro: &NeuroAnalysis,
    options: &RunApp,
    outside: Outside,
) -> Result<PreparedApp, RunError> {
    super::in_neuro_file(neuro, || {
        ensure_clean(neuro)?;
        let apps = app_items(neuro);
        let chosen = match &options.app {
            None => apps.first(),
            Some(name) => apps.iter().find(|app| &app.name == name),
        };
        let Some(chosen) = chosen else {
            let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
            return Err(RunError::NotFound(match (&options.app, names.is_empty()) {
                (_, true) => {
                    "no app block (expected `app NAME { sensor ... pipeline ... rule ... }`)"
                        .to_string()
                }
                (Some(name), false) => format!("no app '{name}' (apps: {})", names.join(", ")),
                (None, false) => unreachable!("the first app is found when there is one"),
            }));
        };
        let built = build::build(neuro, chosen.item, outside)?;
        if outside.shared
            && let Some(refusal) = built.consecutive.first()
        {
            return Err(RunError::Unsupported(refusal.clone()));
        }
        let speed = options
            .speed
            .unwrap_or(if outside.connected && !built.topics.is_empty() {
                Speed::Realtime
            } else {
                Speed::Max
            });
        let clock = match speed {
            Speed::Max => None,
            Speed::Realtime => Some(WallClock::start(1.0)),
            Speed::Times(factor) => Some(WallClock::start(factor)),
        };
        let inbox = Arc::new(Inbox::new(built.app.sensors.len(), options.queue));
        let run_options = Options {
            limit: options.limit,
            looping: options.loop_,
            trace: options.trace,
            ..Options::default()
        };
        let runtime = Runtime::new(built.app, built.models, run_options, inbox)
            .map_err(|e| RunError::Setting(e.to_string()))?;
        Ok(PreparedApp {
            runtime,
            speed,
            topics: built.topics,
            models: built
                .files
                .into_iter()
                .map(|path| {
                    let stamp = stamp(&path);
                    (path, stamp)
                })
                .collect(),
            clock,
            file: neuro.path.display().to_string(),
        })
    })
}

/// A file's size and modification time (None when it cannot be read).
fn stamp(path: &std::path::Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// How often a run looks at its model files.
const MODEL_POLL: Duration = Duration::from_millis(500);

impl PreparedApp {
    pub fn name(&self) -> &str {
        &self.runtime.app().name
    }

    /// The `.neuro` file.
    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    /// The sensor names, in order.
    pub fn sensors(&self) -> Vec<String> {
        self.runtime
            .app()
            .sensors
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// The readings the run will take in all, when that is known.
    pub fn expected_readings(&self) -> Option<u64> {
        self.runtime.expected_readings()
    }

    /// The mqtt sensors to subscribe for.
    pub fn topics(&self) -> &[TopicSensor] {
        &self.topics
    }

    /// Where outside readings go.
    pub fn inbox(&self) -> Arc<Inbox> {
        self.runtime.inbox().clone()
    }

    /// The run's time for stamping an arrival now (None on a virtual
    /// clock: the loop stamps it with the time it has reached).
    pub fn arrival_clock(&self) -> impl Fn() -> Option<f64> + Send + Sync + 'static {
        let clock = self.clock.clone();
        move || clock.as_ref().map(WallClock::time)
    }

    /// Runs until the readings run out, the limit is reached or `cancel` is
    /// set. A model file that changes on disk meanwhile gets a notice: the
    /// run keeps the plan it compiled.
    pub fn run(
        mut self,
        observer: &mut dyn Observer,
        cancel: &AtomicBool,
    ) -> Result<Report, RunError> {
        let mut virtual_clock = VirtualClock::default();
        let clock: &mut dyn Clock = match &mut self.clock {
            Some(wall) => {
                wall.restart();
                wall
            }
            None => &mut virtual_clock,
        };
        let finished = AtomicBool::new(false);
        let inbox = self.runtime.inbox().clone();
        let models = std::mem::take(&mut self.models);
        let report = std::thread::scope(|scope| {
            scope.spawn(|| watch_models(models, &inbox, &finished));
            let report = self.runtime.run(clock, observer, cancel);
            finished.store(true, Ordering::Relaxed);
            report
        });
        Ok(report)
    }
}

/// Tells the run (a notice in its inbox) when a model file it compiled
/// changes on disk, once per change, until `finished`.
fn watch_models(
    mut models: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
    inbox: &Inbox,
    finished: &AtomicBool,
) {
    if models.is_empty() {
        return;
    }
    let mut waited = Duration::ZERO;
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
        waited += Duration::from_millis(20);
        if waited < MODEL_POLL {
            continue;
        }
        waited = Duration::ZERO;
        for (path, seen) in &mut models {
            let now = stamp(path);
            if now != *seen {
                *seen = now;
                inbox.notice(format!(
                    "{} changed on disk; this run keeps the model it compiled at the start",
                    path.display()
                ));
            }
        }
    }
}

/// An event in words: `virginica-detected (rule virginica)  species=2`.
pub fn describe(event: &Event) -> String {
    let what = match event.kind {
        EventKind::Rule => format!(
            "{} (rule {})",
            event.event.as_deref().unwrap_or_default(),
            event.rule.as_deref().unwrap_or_default()
        ),
        EventKind::BadReading => format!(
            "bad reading of {}: {}",
            event.sensor.as_deref().unwrap_or_default(),
            event.message.as_deref().unwrap_or_default()
        ),
        EventKind::Dropped => format!("dropped {} readings", event.count.unwrap_or(0)),
        kind => format!(
            "{} {}",
            kind.name(),
            event.message.as_deref().unwrap_or_default()
        ),
    };
    let values: Vec<String> = event
        .values
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!("{}  {}", what.trim_end(), values.join(" "))
        .trim_end()
        .to_string()
}

/// One line for the registry's event log about an app's event, or None
/// for the per-reading trace events (too many for a log).
pub fn log_detail(event: &Event) -> Option<String> {
    match event.kind {
        EventKind::Reading | EventKind::Prediction => None,
        _ => Some(format!(
            "app {} at t={} s: {}",
            event.app,
            event.t,
            describe(event)
        )),
    }
}

/// Prepares and runs an app with nothing outside (replay sensors only;
/// mqtt sensors idle).
pub fn run_app(
    neuro: &NeuroAnalysis,
    options: &RunApp,
    observer: &mut dyn Observer,
    cancel: &AtomicBool,
) -> Result<Report, RunError> {
    prepare_app(neuro, options, Outside::default())?.run(observer, cancel)
}

#[cfg(test)]
mod tests;
