//! The run loop: readings in time order, through their pipelines, into the
//! rules, out as events; the report at the end.
//!
//! On a virtual clock a replay sensor's readings run through the stages in
//! batches ahead of time (a stage is a pure function of its reading), and
//! are then delivered one by one in time order, so the events are exactly
//! those of a reading-by-reading run. On the wall clock readings queue in
//! the [`Inbox`] as they fall due or arrive and run one at a time; when the
//! stages fall behind, the queues drop their oldest readings.

use crate::Error;
use crate::clock::Clock;
use crate::event::{Event, EventKind, Observer, number};
use crate::inbox::{Arrival, Inbox, Input};
use crate::report::{Latency, Report, SensorReport, SensorState, StageReport, Status};
use crate::rule::{Code, Hysteresis};
use crate::spec::{App, Element, Hold, Sensor, Source, StageKind};
use crate::stage::{Flow, Model, builtin_flow, run_builtin};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How a run goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// At most this many readings per sensor (bad ones included).
    pub limit: Option<u64>,
    /// Replay sensors start again at their first row at the end of their data.
    pub looping: bool,
    /// Emit `reading` and `prediction` events.
    pub trace: bool,
    /// Readings a replay sensor runs through its stages per call on a
    /// virtual clock.
    pub batch: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limit: None,
            looping: false,
            trace: false,
            batch: 256,
        }
    }
}

/// A compiled rule and where it stands.
struct RuleRun {
    code: Code,
    hold: Hold,
    /// The names it reads and their slots, for its events' `values`.
    names: Vec<(String, usize)>,
    state: Hysteresis,
    fired: u64,
}

/// Stage timings of one pipeline stage.
#[derive(Default)]
struct StageStats {
    latency: Latency,
    calls: u64,
    readings: u64,
}

/// One sensor's progress.
#[derive(Default)]
struct Feed {
    /// Readings handed to the loop (replay: the next reading's index).
    produced: u64,
    /// Readings delivered (bad ones included).
    taken: u64,
    bad: u64,
    dropped: u64,
    /// Replay readings run ahead of time (virtual clock).
    ahead: Batch,
}

/// Readings of one sensor after their stages.
#[derive(Default)]
struct Batch {
    /// Index of the first reading in its sensor's stream.
    first: u64,
    /// The readings' values, one after the other, from `offset`.
    values: Option<Arc<[f32]>>,
    offset: usize,
    /// Per reading: its row in `outputs`, or why it was refused.
    verdicts: Vec<Result<usize, String>>,
    /// Per pipeline of the sensor, the outputs of the good readings.
    outputs: Vec<Vec<f32>>,
    /// The next reading to deliver.
    next: usize,
}

impl Batch {
    fn is_spent(&self) -> bool {
        self.next >= self.verdicts.len()
    }
}

/// An app ready to run: its spec, its compiled models and the inbox that
/// outside producers push readings into.
pub struct Runtime {
    app: App,
    models: Vec<Box<dyn Model>>,
    options: Options,
    inbox: Arc<Inbox>,
    /// Per pipeline: the flow out of every stage (index 0: the sensor).
    flows: Vec<Vec<Flow>>,
    /// Per sensor: its pipelines.
    pipelines_of: Vec<Vec<usize>>,
    /// Per sensor: the rules its readings (and its pipelines' outputs) feed.
    rules_of: Vec<Vec<usize>>,
    /// Value slots: per sensor (when it is a single value), per pipeline.
    sensor_slot: Vec<Option<usize>>,
    output_slot: Vec<usize>,
    values: Vec<Option<f64>>,
    classes: Vec<bool>,
    /// The latest output of each pipeline (empty before the first).
    latest: Vec<Vec<f32>>,
    rules: Vec<RuleRun>,
    timed_rules: Vec<usize>,
    stats: Vec<Vec<StageStats>>,
    predictions: Vec<u64>,
}

impl Runtime {
    /// Checks that the pipelines connect (each model takes what the stage
    /// before it yields) and that rules compare classes and scalars.
    /// Outside producers push into `inbox` (one queue per sensor).
    pub fn new(
        app: App,
        models: Vec<Box<dyn Model>>,
        options: Options,
        inbox: Arc<Inbox>,
    ) -> Result<Runtime, Error> {
        for sensor in &app.sensors {
            if let Source::Replay { .. } = sensor.source
                && !(sensor.rate_hz.is_finite() && sensor.rate_hz > 0.0)
            {
                return Err(Error::Spec(format!(
                    "sensor `{}`: expected a rate above 0 Hz for a replay, found {} Hz",
                    sensor.name, sensor.rate_hz
                )));
            }
        }
        let mut flows = Vec::new();
        let mut pipelines_of = vec![Vec::new(); app.sensors.len()];
        for (index, pipeline) in app.pipelines.iter().enumerate() {
            let sensor = app.sensors.get(pipeline.sensor).ok_or_else(|| {
                Error::Spec(format!("pipeline `{}`: no such sensor", pipeline.output))
            })?;
            pipelines_of[pipeline.sensor].push(index);
            let mut flow = vec![Flow::tensor(sensor.width())];
            let mut from = sensor.name.as_str();
            for stage in &pipeline.stages {
                let into = *flow.last().expect("starts with the sensor");
                let out = match stage.kind {
                    StageKind::Model(model) => {
                        let model = models.get(model).ok_or_else(|| {
                            Error::Spec(format!("stage `{}`: no such model", stage.label))
                        })?;
                        if model.input_len() != into.width {
                            return Err(Error::Spec(format!(
                                "pipeline `{}`: stage `{}` takes {} values per reading, found {} from `{from}`",
                                pipeline.output,
                                stage.label,
                                model.input_len(),
                                into.describe()
                            )));
                        }
                        model.output()
                    }
                    builtin => builtin_flow(builtin, into),
                };
                flow.push(out);
                from = &stage.label;
            }
            flows.push(flow);
        }

        // Slots: single-valued sensors first, then every pipeline's output.
        let mut names: Vec<(String, Flow)> = Vec::new();
        let mut sensor_slot = Vec::new();
        for sensor in &app.sensors {
            names.push((sensor.name.clone(), Flow::tensor(sensor.width())));
            sensor_slot.push(Some(names.len() - 1));
        }
        let mut output_slot = Vec::new();
        for (index, pipeline) in app.pipelines.iter().enumerate() {
            names.push((pipeline.output.clone(), *flows[index].last().expect("flow")));
            output_slot.push(names.len() - 1);
        }
        let slot_of = |name: &str| names.iter().position(|(n, _)| n == name);
        let mut rules = Vec::new();
        let mut rules_of = vec![Vec::new(); app.sensors.len()];
        for (index, rule) in app.rules.iter().enumerate() {
            let code = Code::compile(&rule.condition, &slot_of).map_err(|unknown| {
                Error::Spec(format!(
                    "rule `{}`: `{unknown}` is not a sensor or pipeline output of app `{}`",
                    rule.name, app.name
                ))
            })?;
            let mut rule_names = Vec::new();
            for name in rule.condition.names() {
                let slot = slot_of(name).expect("compiled");
                let flow = names[slot].1;
                if flow.width != 1 {
                    return Err(Error::Spec(format!(
                        "rule `{}`: `{name}` is {}; a rule compares classes and scalars (end its pipeline with argmax, mean or max)",
                        rule.name,
                        flow.describe()
                    )));
                }
                rule_names.push((name.to_owned(), slot));
                // The sensor whose readings update this name.
                let sensor = match sensor_slot.iter().position(|s| *s == Some(slot)) {
                    Some(sensor) => sensor,
                    None => app.pipelines[slot - app.sensors.len()].sensor,
                };
                if !rules_of[sensor].contains(&index) {
                    rules_of[sensor].push(index);
                }
            }
            if let Hold::Count(0) = rule.hold {
                return Err(Error::Spec(format!(
                    "rule `{}`: expected `for` a count of at least 1, found 0",
                    rule.name
                )));
            }
            rules.push(RuleRun {
                code,
                hold: rule.hold,
                names: rule_names,
                state: Hysteresis::default(),
                fired: 0,
            });
        }
        for sensor_rules in &mut rules_of {
            sensor_rules.sort_unstable();
        }
        let timed_rules = (0..rules.len())
            .filter(|&r| matches!(rules[r].hold, Hold::Seconds(_)))
            .collect();
        let stats = app
            .pipelines
            .iter()
            .map(|p| p.stages.iter().map(|_| StageStats::default()).collect())
            .collect();
        let classes = names.iter().map(|(_, flow)| flow.class).collect();
        Ok(Runtime {
            values: vec![None; names.len()],
            classes,
            latest: vec![Vec::new(); app.pipelines.len()],
            predictions: vec![0; app.pipelines.len()],
            sensor_slot: sensor_slot
                .into_iter()
                .enumerate()
                .map(|(s, slot)| slot.filter(|_| app.sensors[s].width() == 1))
                .collect(),
            app,
            models,
            options,
            inbox,
            flows,
            pipelines_of,
            rules_of,
            output_slot,
            rules,
            timed_rules,
            stats,
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// The readings the run will take in all, when that is known (replay
    /// sensors only, or every live outside sensor bounded by the limit).
    pub fn expected_readings(&self) -> Option<u64> {
        let mut total = 0u64;
        for (sensor, spec) in self.app.sensors.iter().enumerate() {
            total += match &spec.source {
                Source::Replay { .. } => self.replay_total(sensor)?,
                Source::External { live: false, .. } => 0,
                Source::External { .. } => self.options.limit?,
            };
        }
        Some(total)
    }

    /// The inbox outside producers push into.
    pub fn inbox(&self) -> &Arc<Inbox> {
        &self.inbox
    }

    /// Runs until the readings run out, every sensor reached the limit, or
    /// `cancel` is set; events go to `observer` as they happen.
    pub fn run(
        &mut self,
        clock: &mut dyn Clock,
        observer: &mut dyn Observer,
        cancel: &AtomicBool,
    ) -> Report {
        let started = Instant::now();
        let mut run = Run {
            feeds: (0..self.app.sensors.len())
                .map(|_| Feed::default())
                .collect(),
            last_dropped_event: None,
            unreported_drops: vec![0; self.app.sensors.len()],
            notes: Vec::new(),
            started,
        };
        // The run's clock starts at 0 (a wall clock has moved a few
        // microseconds by now; the event is the same for every clock).
        let mut start = Event::new(0.0, &self.app.name, EventKind::Started);
        for sensor in &self.app.sensors {
            start
                .values
                .insert(sensor.name.clone(), Value::from(describe_source(sensor)));
        }
        observer.event(&start);
        for sensor in &self.app.sensors {
            if let Source::External { topic, live: false } = &sensor.source {
                run.notes.push(format!(
                    "sensor `{}` is idle: nothing feeds \"{topic}\"",
                    sensor.name
                ));
            }
        }
        let stopped = self.run_loop(clock, observer, cancel, &mut run);
        let now = clock.now();
        self.take_news(now, observer, &mut run, true);
        let mut stop = Event::new(now, &self.app.name, EventKind::Stopped);
        stop.message = Some(stopped.to_owned());
        stop.count = Some(run.feeds.iter().map(|f| f.taken).sum());
        observer.event(&stop);
        self.report(clock, &run, stopped)
    }

    /// Turns of the run loop until the readings run out or `cancel` is set.
    /// On a virtual clock time jumps to the next deadline or replay reading
    /// (outside readings are taken first); on the wall clock the loop takes
    /// what fell due or arrived, then waits for the next of them.
    fn run_loop(
        &mut self,
        clock: &mut dyn Clock,
        observer: &mut dyn Observer,
        cancel: &AtomicBool,
        run: &mut Run,
    ) -> &'static str {
        let is_virtual = clock.is_virtual();
        while !cancel.load(Ordering::Relaxed) {
            if is_virtual {
                if self.inbox.maybe_pending() {
                    let now = clock.now();
                    self.take_news(now, observer, run, false);
                    if let Some(arrival) = self.inbox.pop() {
                        self.arrived(arrival, now, observer, run);
                        continue;
                    }
                }
                let replay = self.next_replay(run);
                match (replay, self.next_deadline()) {
                    (_, Some((t, rule))) if replay.is_none_or(|(replay_t, _)| t <= replay_t) => {
                        clock.wait_until(Some(t), &self.inbox, cancel);
                        self.deadline_reached(rule, t, observer);
                    }
                    (Some((t, sensor)), _) => {
                        clock.wait_until(Some(t), &self.inbox, cancel);
                        self.replay_reading(sensor, t, observer, run);
                    }
                    (None, _) if self.external_open(run) => {
                        clock.wait_until(None, &self.inbox, cancel)
                    }
                    (None, _) => return "end of data",
                }
            } else {
                let now = clock.now();
                self.queue_due_replays(now, run);
                self.take_news(now, observer, run, false);
                if let Some(arrival) = self.inbox.pop() {
                    let t = arrival.t.unwrap_or(now);
                    self.deadlines_until(t, observer);
                    self.arrived(arrival, now, observer, run);
                    continue;
                }
                self.deadlines_until(now, observer);
                let replay = self.next_replay(run).map(|(t, _)| t);
                let deadline = self.next_deadline().map(|(t, _)| t);
                if replay.is_none() && deadline.is_none() && !self.external_open(run) {
                    return "end of data";
                }
                clock.wait_until(smaller(replay, deadline), &self.inbox, cancel);
            }
        }
        "cancelled"
    }

    /// A virtual clock's replay reading of `sensor` at `t`, from the batch
    /// run ahead through its stages (a new batch when that one is spent).
    fn replay_reading(
        &mut self,
        sensor: usize,
        t: f64,
        observer: &mut dyn Observer,
        run: &mut Run,
    ) {
        let mut batch = std::mem::take(&mut run.feeds[sensor].ahead);
        if batch.is_spent() {
            batch = self.run_ahead(sensor, run);
        }
        run.feeds[sensor].produced += 1;
        self.deliver(sensor, t, &batch, observer, run);
        batch.next += 1;
        run.feeds[sensor].ahead = batch;
    }

    /// Readings a replay sensor will produce in all (None: no end).
    fn replay_total(&self, sensor: usize) -> Option<u64> {
        let Source::Replay { count, .. } = &self.app.sensors[sensor].source else {
            return Some(0);
        };
        let data = if self.options.looping && *count > 0 {
            None
        } else {
            Some(*count as u64)
        };
        smaller(data, self.options.limit)
    }

    /// The earliest next replay reading: its time and sensor.
    fn next_replay(&self, run: &Run) -> Option<(f64, usize)> {
        let mut best: Option<(f64, usize)> = None;
        for (sensor, spec) in self.app.sensors.iter().enumerate() {
            if !matches!(spec.source, Source::Replay { .. }) {
                continue;
            }
            let next = run.feeds[sensor].produced;
            if self.replay_total(sensor).is_some_and(|total| next >= total) {
                continue;
            }
            let t = next as f64 / spec.rate_hz;
            if best.is_none_or(|(best_t, _)| t < best_t) {
                best = Some((t, sensor));
            }
        }
        best
    }

    /// Whether an outside producer may still send readings that count.
    fn external_open(&self, run: &Run) -> bool {
        self.app.sensors.iter().enumerate().any(|(sensor, spec)| {
            matches!(spec.source, Source::External { live: true, .. })
                && self
                    .options
                    .limit
                    .is_none_or(|l| run.feeds[sensor].taken < l)
        })
    }

    /// On the wall clock: replay readings due by `now` go into the inbox.
    /// Readings more than a queue behind are dropped at once (counted).
    fn queue_due_replays(&mut self, now: f64, run: &mut Run) {
        for sensor in 0..self.app.sensors.len() {
            let rate = self.app.sensors[sensor].rate_hz;
            if !matches!(self.app.sensors[sensor].source, Source::Replay { .. }) {
                continue;
            }
            let total = self.replay_total(sensor).unwrap_or(u64::MAX);
            let due = ((now * rate).floor() as u64).saturating_add(1).min(total);
            let feed = &mut run.feeds[sensor];
            if due <= feed.produced {
                continue;
            }
            let capacity = self.inbox.capacity() as u64;
            if due - feed.produced > capacity {
                let skipped = due - feed.produced - capacity;
                feed.dropped += skipped;
                run.unreported_drops[sensor] += skipped;
                feed.produced += skipped;
            }
            for index in feed.produced..due {
                self.inbox.push(Arrival {
                    sensor,
                    t: Some(index as f64 / rate),
                    input: Input::Row(index),
                });
            }
            feed.produced = due;
        }
    }

    /// Handles one arrival from the inbox.
    fn arrived(&mut self, arrival: Arrival, now: f64, observer: &mut dyn Observer, run: &mut Run) {
        let sensor = arrival.sensor;
        if self
            .options
            .limit
            .is_some_and(|l| run.feeds[sensor].taken >= l)
        {
            return;
        }
        let t = arrival.t.unwrap_or(now);
        let batch = match arrival.input {
            Input::Row(index) => {
                let (rows, count, width) = self.replay_data(sensor);
                let row = (index % count as u64) as usize;
                self.run_batch(sensor, index, rows, row * width, 1)
            }
            Input::Values { values, .. } => {
                run.feeds[sensor].produced += 1;
                let index = run.feeds[sensor].taken;
                let width = values.len();
                self.run_values(sensor, index, Arc::from(values), width)
            }
            Input::Bad(message) => {
                run.feeds[sensor].produced += 1;
                Batch {
                    verdicts: vec![Err(message)],
                    ..Batch::default()
                }
            }
        };
        self.deliver(sensor, t, &batch, observer, run);
    }

    /// A replay sensor's rows, their number (at least 1) and width.
    fn replay_data(&self, sensor: usize) -> (Arc<[f32]>, usize, usize) {
        let spec = &self.app.sensors[sensor];
        match &spec.source {
            Source::Replay { rows, count } => (rows.clone(), (*count).max(1), spec.width()),
            Source::External { .. } => (Arc::from(Vec::new()), 1, spec.width()),
        }
    }

    /// The next readings of a replay sensor run through its pipelines
    /// ahead of time (virtual clock): at most `batch` of them, never across
    /// the end of the data.
    fn run_ahead(&mut self, sensor: usize, run: &Run) -> Batch {
        let (rows, count, width) = self.replay_data(sensor);
        let first = run.feeds[sensor].produced;
        let left = self
            .replay_total(sensor)
            .map_or(u64::MAX, |total| total.saturating_sub(first));
        let row = (first % count as u64) as usize;
        let n = (self.options.batch.max(1) as u64)
            .min(left)
            .min((count - row) as u64) as usize;
        self.run_batch(sensor, first, rows, row * width, n)
    }

    /// A reading from outside (values of any length: checked here).
    fn run_values(&mut self, sensor: usize, index: u64, values: Arc<[f32]>, len: usize) -> Batch {
        if let Err(message) = check_reading(&self.app.sensors[sensor], &values[..len]) {
            return Batch {
                verdicts: vec![Err(message)],
                ..Batch::default()
            };
        }
        self.run_batch(sensor, index, values, 0, 1)
    }

    /// Checks `n` readings of `sensor` laid out in `values` from `offset`
    /// and runs the good ones through the sensor's pipelines. `first` is
    /// the first reading's index (replay: the dataset row's index, so a
    /// reading draws the same random spikes in every batch).
    fn run_batch(
        &mut self,
        sensor: usize,
        first: u64,
        values: Arc<[f32]>,
        offset: usize,
        n: usize,
    ) -> Batch {
        let width = self.app.sensors[sensor].width();
        let block = values.get(offset..offset + n * width).unwrap_or(&[]);
        let mut verdicts = Vec::with_capacity(n);
        let mut good: Vec<f32> = Vec::new();
        let mut good_rows = 0;
        for reading in block.chunks_exact(width.max(1)) {
            match check_reading(&self.app.sensors[sensor], reading) {
                Ok(()) => {
                    verdicts.push(Ok(good_rows));
                    good_rows += 1;
                }
                Err(message) => verdicts.push(Err(message)),
            }
        }
        let input: &[f32] = if good_rows == n {
            block
        } else {
            for (reading, verdict) in block.chunks_exact(width.max(1)).zip(&verdicts) {
                if verdict.is_ok() {
                    good.extend_from_slice(reading);
                }
            }
            &good
        };
        let outputs = if good_rows == 0 {
            Ok(vec![Vec::new(); self.pipelines_of[sensor].len()])
        } else {
            self.run_stages(sensor, first, input, good_rows)
        };
        let outputs = match outputs {
            Ok(outputs) => outputs,
            Err(message) => {
                for verdict in &mut verdicts {
                    if verdict.is_ok() {
                        *verdict = Err(message.clone());
                    }
                }
                Vec::new()
            }
        };
        Batch {
            first,
            values: Some(values),
            offset,
            verdicts,
            outputs,
            next: 0,
        }
    }

    /// Every pipeline of `sensor` over `rows` readings; per pipeline its
    /// outputs, row-major.
    fn run_stages(
        &mut self,
        sensor: usize,
        first: u64,
        input: &[f32],
        rows: usize,
    ) -> Result<Vec<Vec<f32>>, String> {
        let mut outputs = Vec::with_capacity(self.pipelines_of[sensor].len());
        for local in 0..self.pipelines_of[sensor].len() {
            let pipeline = self.pipelines_of[sensor][local];
            let mut current: Vec<f32> = input.to_vec();
            let mut next = Vec::new();
            for stage_index in 0..self.app.pipelines[pipeline].stages.len() {
                let stage = &self.app.pipelines[pipeline].stages[stage_index];
                let width = self.flows[pipeline][stage_index].width.max(1);
                next.clear();
                let started = Instant::now();
                let mut calls = 1;
                match stage.kind {
                    StageKind::Model(model) => {
                        let model = &mut self.models[model];
                        let chunk = model.max_batch().clamp(1, rows);
                        calls = rows.div_ceil(chunk) as u64;
                        for (call, part) in current.chunks(chunk * width).enumerate() {
                            model
                                .run(
                                    first + (call * chunk) as u64,
                                    part,
                                    part.len() / width,
                                    &mut next,
                                )
                                .map_err(|e| format!("stage `{}`: {e}", stage.label))?;
                        }
                        let want = rows * self.flows[pipeline][stage_index + 1].width;
                        if next.len() != want {
                            return Err(format!(
                                "stage `{}`: expected {want} output values for {rows} readings, found {}",
                                stage.label,
                                next.len()
                            ));
                        }
                    }
                    builtin => run_builtin(builtin, width, &current, &mut next),
                }
                let elapsed = started.elapsed().as_nanos() as f64;
                let stats = &mut self.stats[pipeline][stage_index];
                stats.latency.record(elapsed / rows as f64, rows as u64);
                stats.calls += calls;
                stats.readings += rows as u64;
                std::mem::swap(&mut current, &mut next);
            }
            outputs.push(current);
        }
        Ok(outputs)
    }

    /// The next reading of `batch` reaches the app at `t`: counts, value
    /// slots, traces, rules.
    fn deliver(
        &mut self,
        sensor: usize,
        t: f64,
        batch: &Batch,
        observer: &mut dyn Observer,
        run: &mut Run,
    ) {
        run.feeds[sensor].taken += 1;
        let position = batch.next;
        let name = &self.app.sensors[sensor].name;
        match &batch.verdicts[position] {
            Err(message) => {
                run.feeds[sensor].bad += 1;
                let mut event = Event::new(t, &self.app.name, EventKind::BadReading);
                event.sensor = Some(name.clone());
                event.message = Some(message.clone());
                observer.event(&event);
            }
            Ok(row) => {
                let width = self.app.sensors[sensor].width();
                let start = batch.offset + position * width;
                let values = batch
                    .values
                    .as_deref()
                    .map_or(&[][..], |v| &v[start..start + width]);
                if self.options.trace {
                    let mut event = Event::new(t, &self.app.name, EventKind::Reading);
                    event.sensor = Some(name.clone());
                    event.count = Some(batch.first + position as u64);
                    event.values.insert(name.clone(), floats(values, false));
                    observer.event(&event);
                }
                if let Some(slot) = self.sensor_slot[sensor] {
                    self.values[slot] = Some(values[0] as f64);
                }
                for (local, outputs) in batch.outputs.iter().enumerate() {
                    let pipeline = self.pipelines_of[sensor][local];
                    let out_width = self.flows[pipeline].last().expect("flow").width;
                    let output = &outputs[row * out_width..(row + 1) * out_width];
                    self.predictions[pipeline] += 1;
                    let slot = self.output_slot[pipeline];
                    if let [value] = output {
                        self.values[slot] = Some(*value as f64);
                    }
                    if self.options.trace {
                        let out = &self.app.pipelines[pipeline].output;
                        let mut event = Event::new(t, &self.app.name, EventKind::Prediction);
                        event.pipeline = Some(out.clone());
                        event
                            .values
                            .insert(out.clone(), floats(output, self.classes[slot]));
                        observer.event(&event);
                    }
                    let latest = &mut self.latest[pipeline];
                    latest.clear();
                    latest.extend_from_slice(output);
                }
                for position in 0..self.rules_of[sensor].len() {
                    let rule = self.rules_of[sensor][position];
                    self.evaluate(rule, t, observer);
                }
            }
        }
        observer.reading_done(&|| self.status(t, run));
    }

    fn evaluate(&mut self, rule: usize, t: f64, observer: &mut dyn Observer) {
        let run = &mut self.rules[rule];
        let Some(value) = run.code.eval(&self.values) else {
            return;
        };
        let holds = value != 0.0 && !value.is_nan();
        if run.state.evaluated(run.hold, t, holds) {
            self.fire(rule, t, observer);
        }
    }

    /// The earliest pending time hold: its time and rule.
    fn next_deadline(&self) -> Option<(f64, usize)> {
        let mut best: Option<(f64, usize)> = None;
        for &rule in &self.timed_rules {
            let run = &self.rules[rule];
            if let Some(t) = run.state.deadline(run.hold)
                && best.is_none_or(|(best_t, _)| t < best_t)
            {
                best = Some((t, rule));
            }
        }
        best
    }

    fn deadlines_until(&mut self, now: f64, observer: &mut dyn Observer) {
        while let Some((t, rule)) = self.next_deadline().filter(|&(t, _)| t <= now) {
            self.deadline_reached(rule, t, observer);
        }
    }

    fn deadline_reached(&mut self, rule: usize, t: f64, observer: &mut dyn Observer) {
        self.rules[rule].state.deadline_reached();
        self.fire(rule, t, observer);
    }

    fn fire(&mut self, rule: usize, t: f64, observer: &mut dyn Observer) {
        let spec = &self.app.rules[rule];
        let run = &mut self.rules[rule];
        run.fired += 1;
        let mut event = Event::new(t, &self.app.name, EventKind::Rule);
        event.rule = Some(spec.name.clone());
        event.event = Some(spec.event.clone());
        for (name, slot) in &run.names {
            let value = self.values[*slot].map_or(Value::Null, |v| number(v, self.classes[*slot]));
            event.values.insert(name.clone(), value);
        }
        observer.event(&event);
    }

    /// Notices and drops reported by the inbox; a `dropped` event at most
    /// once per second of the run (and at the end, when `flush`).
    fn take_news(&mut self, now: f64, observer: &mut dyn Observer, run: &mut Run, flush: bool) {
        let (notices, dropped) = self.inbox.take_news();
        for message in notices {
            let mut event = Event::new(now, &self.app.name, EventKind::Notice);
            event.message = Some(message.clone());
            observer.event(&event);
            run.notes.push(message);
        }
        for (sensor, n) in dropped.into_iter().enumerate() {
            run.feeds[sensor].dropped += n;
            run.unreported_drops[sensor] += n;
        }
        let pending: u64 = run.unreported_drops.iter().sum();
        let due = run.last_dropped_event.is_none_or(|last| now - last >= 1.0);
        if pending > 0 && (due || flush) {
            let mut event = Event::new(now, &self.app.name, EventKind::Dropped);
            event.count = Some(pending);
            for (sensor, n) in run.unreported_drops.iter_mut().enumerate() {
                if *n > 0 {
                    event
                        .values
                        .insert(self.app.sensors[sensor].name.clone(), Value::from(*n));
                    *n = 0;
                }
            }
            observer.event(&event);
            run.last_dropped_event = Some(now);
        }
    }

    fn status(&self, t: f64, run: &Run) -> Status {
        let readings: u64 = run.feeds.iter().map(|f| f.taken).sum();
        Status {
            t,
            readings: self.per_sensor(|s| run.feeds[s].taken),
            predictions: self.per_pipeline(|p| self.predictions[p]),
            latest: self
                .app
                .pipelines
                .iter()
                .enumerate()
                .map(|(p, pipeline)| {
                    let value = match self.latest[p].as_slice() {
                        [] => Value::Null,
                        values => floats(values, self.classes[self.output_slot[p]]),
                    };
                    (pipeline.output.clone(), value)
                })
                .collect(),
            events: self.per_rule(),
            dropped: run.feeds.iter().map(|f| f.dropped).sum(),
            bad_readings: run.feeds.iter().map(|f| f.bad).sum(),
            readings_per_s: readings as f64 / run.started.elapsed().as_secs_f64().max(1e-9),
        }
    }

    fn per_sensor(&self, count: impl Fn(usize) -> u64) -> BTreeMap<String, u64> {
        by_name(self.app.sensors.iter().map(|sensor| &sensor.name), count)
    }

    fn per_pipeline(&self, count: impl Fn(usize) -> u64) -> BTreeMap<String, u64> {
        by_name(
            self.app.pipelines.iter().map(|pipeline| &pipeline.output),
            count,
        )
    }

    fn per_rule(&self) -> BTreeMap<String, u64> {
        self.app
            .rules
            .iter()
            .zip(&self.rules)
            .map(|(rule, run)| (rule.name.clone(), run.fired))
            .collect()
    }

    fn report(&self, clock: &mut dyn Clock, run: &Run, stopped: &str) -> Report {
        let wall_s = run.started.elapsed().as_secs_f64();
        let readings: u64 = run.feeds.iter().map(|f| f.taken).sum();
        let sensors = self
            .app
            .sensors
            .iter()
            .enumerate()
            .map(|(s, sensor)| {
                let feed = &run.feeds[s];
                let (source, state) = match &sensor.source {
                    Source::Replay { .. } => {
                        let done = self.replay_total(s).is_some_and(|t| feed.produced >= t);
                        let state = if done {
                            SensorState::Done
                        } else {
                            SensorState::Live
                        };
                        ("replay", state)
                    }
                    Source::External { live: false, .. } => ("mqtt", SensorState::Idle),
                    Source::External { .. } => {
                        let done = self.options.limit.is_some_and(|l| feed.taken >= l);
                        let state = if done {
                            SensorState::Done
                        } else {
                            SensorState::Live
                        };
                        ("mqtt", state)
                    }
                };
                SensorReport {
                    name: sensor.name.clone(),
                    source: source.to_owned(),
                    state,
                    readings: feed.taken,
                    bad: feed.bad,
                    dropped: feed.dropped,
                }
            })
            .collect();
        let mut stages = Vec::new();
        for (p, pipeline) in self.app.pipelines.iter().enumerate() {
            for (s, stage) in pipeline.stages.iter().enumerate() {
                let stats = &self.stats[p][s];
                stages.push(StageReport {
                    pipeline: pipeline.output.clone(),
                    stage: stage.label.clone(),
                    readings: stats.readings,
                    calls: stats.calls,
                    p50_us: stats.latency.quantile_us(0.5),
                    p99_us: stats.latency.quantile_us(0.99),
                    mean_us: stats.latency.mean_us(),
                });
            }
        }
        Report {
            app: self.app.name.clone(),
            clock: if clock.is_virtual() {
                "virtual"
            } else {
                "wall"
            },
            readings: self.per_sensor(|s| run.feeds[s].taken),
            predictions: self.per_pipeline(|p| self.predictions[p]),
            events: self.per_rule(),
            dropped: run.feeds.iter().map(|f| f.dropped).sum(),
            bad_readings: run.feeds.iter().map(|f| f.bad).sum(),
            sensors,
            stages,
            readings_per_s: readings as f64 / wall_s.max(1e-9),
            wall_s,
            run_s: clock.now(),
            stopped: stopped.to_owned(),
            notes: run.notes.clone(),
        }
    }
}

/// What one run keeps besides the runtime's own state.
struct Run {
    feeds: Vec<Feed>,
    last_dropped_event: Option<f64>,
    unreported_drops: Vec<u64>,
    notes: Vec<String>,
    started: Instant,
}

/// `replay(rows)` / `mqtt("topic")` for the `started` event.
fn describe_source(sensor: &Sensor) -> String {
    match &sensor.source {
        Source::Replay { count, .. } => format!("replay of {count} rows @ {} Hz", sensor.rate_hz),
        Source::External { topic, live: true } => format!("mqtt \"{topic}\""),
        Source::External { topic, live: false } => format!("mqtt \"{topic}\" (idle)"),
    }
}

/// Refuses a reading that does not fit the sensor's declared type.
pub fn check_reading(sensor: &Sensor, values: &[f32]) -> Result<(), String> {
    let width = sensor.width();
    if values.len() != width {
        return Err(format!(
            "expected {width} values (shape {:?}), found {}",
            sensor.shape,
            values.len()
        ));
    }
    for (index, &value) in values.iter().enumerate() {
        let fits = match sensor.element {
            Element::Float => value.is_finite(),
            Element::Integer { min, max } => {
                value.fract() == 0.0 && (min..=max).contains(&(value as f64))
            }
            Element::Bool => value == 0.0 || value == 1.0,
        };
        if !fits {
            let expected = match sensor.element {
                Element::Float => "a finite number".to_string(),
                Element::Integer { min, max } => format!("a whole number in {min}..={max}"),
                Element::Bool => "0 or 1".to_string(),
            };
            return Err(format!("value {index} is {value}, expected {expected}"));
        }
    }
    Ok(())
}

/// Values as JSON: one number for a single value, else an array.
fn floats(values: &[f32], class: bool) -> Value {
    match values {
        [one] => number(*one as f64, class),
        many => Value::Array(many.iter().map(|&v| number(v as f64, class)).collect()),
    }
}

/// The smaller of two bounds, either of which may be absent (no bound).
fn smaller<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// `count(i)` of the i-th of `names`, by name.
fn by_name<'a>(
    names: impl Iterator<Item = &'a String>,
    count: impl Fn(usize) -> u64,
) -> BTreeMap<String, u64> {
    names
        .enumerate()
        .map(|(i, name)| (name.clone(), count(i)))
        .collect()
}
