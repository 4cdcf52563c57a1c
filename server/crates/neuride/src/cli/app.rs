//! `neuride app run FILE.neuro`: runs an app (docs/app.md). Replay sensors
//! read their datasets; with `--mqtt` the app's `mqtt(...)` sensors are fed
//! by a broker and events can be published back (`--emit-topic`). Events
//! go to stdout (`--format jsonl`), to `--events FILE.jsonl` (appended,
//! flushed per event), to the broker, and, for people, to a live status
//! line and a summary table. Ctrl-C stops the run cleanly: the report is
//! still written.

use crate::mqtt::{Bridge, Settings};
use anyhow::{Context, bail};
use neuride_ide::run::app::{
    DEFAULT_QUEUE, Event, EventKind, Observer, Outside, Report, RunApp, Speed, Status, prepare_app,
};
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Run an app of a .neuro file: sensors, pipelines, rules, events.
    Run(Args),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A live status line and a summary table.
    Text,
    /// The report as JSON at the end.
    Json,
    /// One JSON event per line as they happen.
    Jsonl,
}

#[derive(clap::Args)]
pub struct Args {
    /// The .neuro file.
    pub file: PathBuf,
    /// The app to run (default: the first app of the file).
    #[arg(long)]
    pub app: Option<String>,
    /// max (virtual time, as fast as the stages go), realtime, or a factor
    /// N (N times real time). Default: max, or realtime with --mqtt.
    #[arg(long, value_parser = parse_speed)]
    pub speed: Option<Speed>,
    /// At most N readings per sensor.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Replay sensors start over at the end of their data.
    #[arg(long = "loop")]
    pub loop_: bool,
    /// The broker that feeds the app's mqtt sensors: mqtt://HOST:PORT.
    #[arg(long)]
    pub mqtt: Option<String>,
    /// Publish events (QoS 1) under PREFIX/<event> (needs --mqtt).
    #[arg(long, value_name = "PREFIX")]
    pub emit_topic: Option<String>,
    /// Share each mqtt topic with the other instances of this group (MQTT 5
    /// shared subscriptions): each reading goes to one instance.
    #[arg(long, value_name = "NAME")]
    pub shared_group: Option<String>,
    /// The MQTT client id (default: neuride-APP-PID).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Append every event to this JSON-lines file, flushed per event.
    #[arg(long, value_name = "FILE.jsonl")]
    pub events: Option<PathBuf>,
    /// Also emit an event per reading and per prediction.
    #[arg(long)]
    pub trace: bool,
    /// Readings each sensor's queue holds in real time before the oldest drops.
    #[arg(long, default_value_t = DEFAULT_QUEUE)]
    pub queue: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn parse_speed(text: &str) -> Result<Speed, String> {
    text.parse()
}

impl Args {
    /// The run's options, as the language server would deserialize them.
    pub fn options(&self) -> RunApp {
        RunApp {
            app: self.app.clone(),
            speed: self.speed,
            limit: self.limit,
            loop_: self.loop_,
            trace: self.trace,
            queue: self.queue,
        }
    }
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => run_app(args),
    }
}

/// Set by SIGINT / SIGTERM: the run stops at the next reading.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn interrupted(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Ctrl-C (and SIGTERM) stop the run instead of the process; a second
/// Ctrl-C kills it as usual (the handler resets itself).
fn stop_on_interrupt() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic (async-signal-safe);
        // the sigaction struct is fully initialised before the call.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = interrupted as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

fn run_app(args: Args) -> anyhow::Result<ExitCode> {
    if args.mqtt.is_none() {
        for (flag, given) in [
            ("--emit-topic", args.emit_topic.is_some()),
            ("--shared-group", args.shared_group.is_some()),
            ("--client-id", args.client_id.is_some()),
        ] {
            if given {
                bail!("{flag} needs a broker: add --mqtt mqtt://HOST:PORT");
            }
        }
    }
    let neuro = neuride_ide::run::read_neuro(&args.file)?;
    let outside = Outside {
        connected: args.mqtt.is_some(),
        shared: args.shared_group.is_some(),
    };
    let prepared = prepare_app(&neuro, &args.options(), outside)?;
    let events_file = match &args.events {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open {} for appending", path.display()))?,
        ),
        None => None,
    };
    let mut bridge = match &args.mqtt {
        Some(url) => {
            let client_id = args
                .client_id
                .clone()
                .unwrap_or_else(|| format!("neuride-{}-{}", prepared.name(), std::process::id()));
            let settings = Settings {
                url: url.clone(),
                client_id,
                shared_group: args.shared_group.clone(),
                topics: prepared.topics().to_vec(),
            };
            Some(Bridge::connect(
                settings,
                prepared.inbox(),
                prepared.arrival_clock(),
            )?)
        }
        None => None,
    };
    let tty = std::io::stderr().is_terminal();
    let mut sinks = Sinks {
        format: args.format,
        events_file: events_file.map(|file| (file, args.events.clone().unwrap_or_default())),
        bridge: bridge.as_mut(),
        emit_topic: args.emit_topic.clone(),
        status: (args.format == Format::Text && tty).then(StatusLine::default),
        failure: None,
    };
    if args.format == Format::Text {
        eprintln!(
            "neuride: running app {} of {} ({}); Ctrl-C stops it",
            prepared.name(),
            args.file.display(),
            match prepared.speed() {
                Speed::Max => "virtual time, as fast as it goes".to_string(),
                Speed::Realtime => "real time".to_string(),
                Speed::Times(n) => format!("{n}x real time"),
            }
        );
    }
    stop_on_interrupt();
    let mut report = prepared.run(&mut sinks, &INTERRUPTED)?;
    if let Some(line) = &mut sinks.status {
        line.clear();
    }
    let failure = sinks.failure.take();
    if let Some(bridge) = bridge {
        report.notes.extend(bridge.finish(Duration::from_secs(3)));
    }
    if report.stopped == "cancelled" {
        report.stopped = "interrupted".into();
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Jsonl => {}
        Format::Text => summary(&mut stdout, &report)?,
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a CLI run's events go.
struct Sinks<'a> {
    format: Format,
    events_file: Option<(File, PathBuf)>,
    bridge: Option<&'a mut Bridge>,
    emit_topic: Option<String>,
    status: Option<StatusLine>,
    /// The first sink failure (a full disk): reported after the run.
    failure: Option<anyhow::Error>,
}

impl Observer for Sinks<'_> {
    fn event(&mut self, event: &Event) {
        let line = event.to_json_line();
        if let Some((file, path)) = &mut self.events_file {
            // One write per event, straight to the file: a process killed
            // right after has every event before it on disk.
            if let Err(error) = file.write_all(format!("{line}\n").as_bytes()) {
                self.failure.get_or_insert_with(|| {
                    anyhow::anyhow!("cannot write the events to {}: {error}", path.display())
                });
                self.events_file = None;
            }
        }
        if let (Some(bridge), Some(prefix)) = (self.bridge.as_deref_mut(), &self.emit_topic) {
            bridge.publish(format!("{prefix}/{}", event.topic_name()), line.clone());
        }
        match self.format {
            Format::Jsonl => {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{line}");
                let _ = stdout.flush();
            }
            Format::Text if !matches!(event.kind, EventKind::Reading | EventKind::Prediction) => {
                if let Some(status) = &mut self.status {
                    status.clear();
                }
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{}", describe(event));
            }
            _ => {}
        }
    }

    fn reading_done(&mut self, status: &dyn Fn() -> Status) {
        if let Some(line) = &mut self.status {
            line.maybe_show(status);
        }
    }
}

/// The live one-line status on a terminal (stderr), redrawn at most ten
/// times a second.
#[derive(Default)]
struct StatusLine {
    calls: u32,
    last: Option<Instant>,
    shown: bool,
}

impl StatusLine {
    fn maybe_show(&mut self, status: &dyn Fn() -> Status) {
        self.calls = self.calls.wrapping_add(1);
        if !self.calls.is_multiple_of(256) && self.last.is_some() {
            return;
        }
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let status = status();
        let readings: u64 = status.readings.values().sum();
        let events: u64 = status.events.values().sum();
        eprint!(
            "\r\x1b[K  t={:.1} s  {readings} readings  {events} rule events  {:.0} readings/s  {} bad  {} dropped",
            status.t, status.readings_per_s, status.bad_readings, status.dropped
        );
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[K");
            self.shown = false;
        }
    }
}

/// One event for people: `    12.400 s  unlock (rule open)  digit=7`.
fn describe(event: &Event) -> String {
    format!(
        "{:>10.3} s  {}",
        event.t,
        neuride_ide::run::app::describe(event)
    )
}

fn summary(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let readings: u64 = report.readings.values().sum();
    writeln!(
        out,
        "\napp {}: {} after {readings} readings in {:.3} s ({:.0} readings/s; run clock {:.1} s, {})",
        report.app,
        report.stopped,
        report.wall_s,
        report.readings_per_s,
        report.run_s,
        report.clock
    )?;
    writeln!(
        out,
        "\n{:<16} {:<7} {:<5} {:>10} {:>6} {:>8}",
        "sensor", "source", "state", "readings", "bad", "dropped"
    )?;
    for s in &report.sensors {
        let state = serde_json::to_value(s.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<16} {:<7} {:<5} {:>10} {:>6} {:>8}",
            s.name, s.source, state, s.readings, s.bad, s.dropped
        )?;
    }
    writeln!(out, "\n{:<16} {:>11}", "pipeline", "predictions")?;
    for (name, n) in &report.predictions {
        writeln!(out, "{name:<16} {n:>11}")?;
    }
    if !report.events.is_empty() {
        writeln!(out, "\n{:<16} {:>11}", "rule", "events")?;
        for (name, n) in &report.events {
            writeln!(out, "{name:<16} {n:>11}")?;
        }
    }
    writeln!(
        out,
        "\n{:<28} {:>10} {:>10} {:>10}",
        "stage", "readings", "p50 µs", "p99 µs"
    )?;
    for stage in &report.stages {
        writeln!(
            out,
            "{:<28} {:>10} {:>10.2} {:>10.2}",
            format!("{} <- {}", stage.pipeline, stage.stage),
            stage.readings,
            stage.p50_us,
            stage.p99_us
        )?;
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}
