//! Whole runs of small apps on fake models: replay order and times, rule
//! holds, bad readings, limits, loops, traces, determinism, and drops when
//! the stages fall behind a wall clock.

use crate::*;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A "classifier": the class of a reading is its first value rounded.
struct Round {
    width: usize,
    /// Run time each call costs on a [`SteppingClock`] (seconds).
    cost: Option<(Rc<Cell<f64>>, f64)>,
    calls: Rc<Cell<usize>>,
}

// The tests run a runtime on one thread; the Rc never crosses one.
unsafe impl Send for Round {}

impl Model for Round {
    fn input_len(&self) -> usize {
        self.width
    }
    fn output(&self) -> Flow {
        Flow {
            width: 1,
            class: true,
        }
    }
    fn run(
        &mut self,
        _first: u64,
        input: &[f32],
        rows: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), String> {
        self.calls.set(self.calls.get() + 1);
        if let Some((now, cost)) = &self.cost {
            now.set(now.get() + cost * rows as f64);
        }
        out.extend(input.chunks(self.width).map(|row| row[0].round()));
        Ok(())
    }
}

fn round(width: usize) -> Box<dyn Model> {
    Box::new(Round {
        width,
        cost: None,
        calls: Rc::default(),
    })
}

fn sensor(name: &str, width: usize, rate_hz: f64, source: Source) -> Sensor {
    Sensor {
        name: name.into(),
        shape: vec![width],
        element: Element::Float,
        rate_hz,
        source,
    }
}

fn replay(name: &str, width: usize, rate_hz: f64, rows: &[f32]) -> Sensor {
    let count = rows.len() / width;
    let rows = Arc::from(rows);
    sensor(name, width, rate_hz, Source::Replay { rows, count })
}

/// A 1 Hz sensor read from `topic` (`live`: something publishes there).
fn external(name: &str, width: usize, topic: &str, live: bool) -> Sensor {
    let topic = topic.into();
    sensor(name, width, 1.0, Source::External { topic, live })
}

/// The usual pipeline: sensor 0 through model stage 0 into `output`.
fn sensor_through_model(output: &str) -> Vec<Pipeline> {
    vec![pipeline(0, &[("m", StageKind::Model(0))], output)]
}

fn pipeline(sensor: usize, stages: &[(&str, StageKind)], output: &str) -> Pipeline {
    Pipeline {
        sensor,
        stages: stages
            .iter()
            .map(|(label, kind)| Stage {
                label: (*label).into(),
                kind: *kind,
            })
            .collect(),
        output: output.into(),
    }
}

fn equals(name: &str, value: f64) -> Expr {
    Expr::Compare(
        BinaryOp::Eq,
        Box::new(Expr::Name(name.into())),
        Box::new(Expr::Number(value)),
    )
}

fn rule(name: &str, condition: Expr, hold: Hold) -> Rule {
    Rule {
        name: name.into(),
        condition,
        hold,
        event: format!("{name}-event"),
    }
}

fn app(sensors: Vec<Sensor>, pipelines: Vec<Pipeline>, rules: Vec<Rule>) -> App {
    App {
        name: "test".into(),
        sensors,
        pipelines,
        rules,
    }
}

/// One sensor through the rounding model into `output`, watched by one
/// rule, run with the default options.
fn run_one_rule(sensor: Sensor, output: &str, rule: Rule) -> (Vec<String>, Report) {
    let width = sensor.shape[0];
    let app = app(vec![sensor], sensor_through_model(output), vec![rule]);
    run(app, vec![round(width)], Options::default())
}

/// Runs on a virtual clock; the events as JSON lines and the report.
fn run(app: App, models: Vec<Box<dyn Model>>, options: Options) -> (Vec<String>, Report) {
    let inbox = Arc::new(Inbox::new(app.sensors.len(), 16));
    let mut runtime = Runtime::new(app, models, options, inbox).unwrap();
    run_to_end(&mut runtime)
}

/// Runs `runtime` on a virtual clock; the events as JSON lines and the report.
fn run_to_end(runtime: &mut Runtime) -> (Vec<String>, Report) {
    let mut lines = Vec::new();
    let mut observer = |event: &Event| lines.push(event.to_json_line());
    let report = runtime.run(
        &mut VirtualClock::default(),
        &mut observer,
        &AtomicBool::new(false),
    );
    (lines, report)
}

fn rule_times(lines: &[String]) -> Vec<(String, f64)> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] == "rule")
        .map(|e| {
            (
                e["rule"].as_str().unwrap().to_owned(),
                e["t"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn seven_readings_of_class_two_with_for_3_fire_once_at_the_third() {
    let rows = [0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0];
    let (lines, report) = run_one_rule(
        replay("leaf", 1, 5.0, &rows),
        "species",
        rule("virginica", equals("species", 2.0), Hold::Count(3)),
    );
    // Reading k is at k / 5 Hz: the third 2 is reading 3, t = 0.6.
    assert_eq!(rule_times(&lines), vec![("virginica".into(), 0.6)]);
    assert_eq!(
        lines[1..lines.len() - 1],
        [
            r#"{"t":0.6,"app":"test","kind":"rule","rule":"virginica","event":"virginica-event","values":{"species":2}}"#
        ]
    );
    assert!(
        lines[0].starts_with(r#"{"t":0.0,"app":"test","kind":"started""#),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines.last().unwrap(),
        r#"{"t":1.6,"app":"test","kind":"stopped","count":9,"message":"end of data"}"#
    );
    assert_eq!(report.readings["leaf"], 9);
    assert_eq!(report.predictions["species"], 9);
    assert_eq!(report.events["virginica"], 1);
    assert_eq!(report.stopped, "end of data");
    assert_eq!(report.sensors[0].state, SensorState::Done);
    assert_eq!(report.stages[0].readings, 9);
    assert_eq!(report.clock, "virtual");
}

#[test]
fn batches_do_not_change_the_events() {
    let rows: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 5) as f32).collect();
    let make = || {
        app(
            vec![replay("s", 1, 100.0, &rows)],
            sensor_through_model("c"),
            vec![
                rule("two", equals("c", 2.0), Hold::Count(2)),
                rule("edge", equals("c", 4.0), Hold::Count(1)),
            ],
        )
    };
    let with_batch = |batch| {
        let options = Options {
            batch,
            ..Options::default()
        };
        run(make(), vec![round(1)], options).0
    };
    let one = with_batch(1);
    let many = with_batch(64);
    assert_eq!(one, many);
    assert!(rule_times(&one).len() > 100);
}

#[test]
fn a_time_hold_fires_at_its_deadline_in_run_time() {
    // 1 Hz: c = 1 from t = 2 to t = 20, then 0.
    let mut rows = vec![0.0, 0.0];
    rows.extend([1.0; 19]);
    rows.extend([0.0, 0.0]);
    let (lines, _) = run_one_rule(
        replay("s", 1, 1.0, &rows),
        "c",
        rule("long", equals("c", 1.0), Hold::Seconds(10.5)),
    );
    assert_eq!(rule_times(&lines), vec![("long".into(), 12.5)]);
}

#[test]
fn rules_across_sensors_read_the_latest_of_each() {
    // a at 2 Hz, b at 1 Hz; `a != b` evaluated after each reading of either.
    let a = [1.0, 1.0, 2.0, 2.0, 2.0, 2.0];
    let b = [1.0, 1.0, 1.0];
    let differ = Expr::Compare(
        BinaryOp::NotEq,
        Box::new(Expr::Name("ca".into())),
        Box::new(Expr::Name("cb".into())),
    );
    let app = app(
        vec![replay("a", 1, 2.0, &a), replay("b", 1, 1.0, &b)],
        vec![
            pipeline(0, &[("m", StageKind::Model(0))], "ca"),
            pipeline(1, &[("m", StageKind::Model(0))], "cb"),
        ],
        vec![rule("differ", differ, Hold::Seconds(1.0))],
    );
    let (lines, report) = run(app, vec![round(1)], Options::default());
    // a = 2 from t = 1.0; b stays 1: held 1 s at t = 2.0.
    assert_eq!(rule_times(&lines), vec![("differ".into(), 2.0)]);
    assert_eq!(report.readings["a"], 6);
    assert_eq!(report.readings["b"], 3);
}

#[test]
fn bad_rows_are_events_and_the_run_goes_on() {
    let rows = [2.0, 0.0, f32::NAN, 0.0, f32::INFINITY, 0.0, 2.0, 0.0];
    let (lines, report) = run_one_rule(
        replay("s", 2, 10.0, &rows),
        "c",
        rule("two", equals("c", 2.0), Hold::Count(2)),
    );
    let bad: Vec<&String> = lines.iter().filter(|l| l.contains("bad_reading")).collect();
    assert_eq!(bad.len(), 2, "{lines:?}");
    assert_eq!(
        bad[0],
        r#"{"t":0.1,"app":"test","kind":"bad_reading","sensor":"s","message":"value 0 is NaN, expected a finite number"}"#
    );
    assert_eq!(report.bad_readings, 2);
    assert_eq!(report.predictions["c"], 2);
    // A bad reading is not an evaluation: rows 0 and 3 are the two 2s in a row.
    assert_eq!(rule_times(&lines), vec![("two".into(), 0.3)]);
}

#[test]
fn limit_loop_and_trace() {
    let rows = [0.0, 1.0, 2.0];
    let make = || {
        app(
            vec![replay("s", 1, 1.0, &rows)],
            vec![pipeline(
                0,
                &[("m", StageKind::Model(0)), ("max", StageKind::Max)],
                "c",
            )],
            vec![],
        )
    };
    let limited = Options {
        limit: Some(2),
        ..Options::default()
    };
    let (_, report) = run(make(), vec![round(1)], limited.clone());
    assert_eq!(report.readings["s"], 2);
    let looping = Options {
        limit: Some(7),
        looping: true,
        trace: true,
        ..Options::default()
    };
    let (lines, report) = run(make(), vec![round(1)], looping);
    assert_eq!(report.readings["s"], 7);
    let predictions: Vec<&String> = lines.iter().filter(|l| l.contains("prediction")).collect();
    assert_eq!(predictions.len(), 7);
    assert_eq!(
        predictions[4],
        r#"{"t":4.0,"app":"test","kind":"prediction","values":{"c":1.0},"pipeline":"c"}"#
    );
    let readings: Vec<&String> = lines.iter().filter(|l| l.contains("\"reading\"")).collect();
    assert_eq!(
        readings[3],
        r#"{"t":3.0,"app":"test","kind":"reading","values":{"s":0.0},"sensor":"s","count":3}"#
    );
    assert_eq!(report.stages.len(), 2);
    assert_eq!(report.stages[1].stage, "max");
}

#[test]
fn an_idle_sensor_does_not_keep_the_run_going() {
    let idle = external("probe", 1, "g/probe", false);
    let app = app(
        vec![replay("s", 1, 1.0, &[1.0, 2.0]), idle],
        vec![
            pipeline(0, &[("m", StageKind::Model(0))], "c"),
            pipeline(1, &[("m", StageKind::Model(0))], "p"),
        ],
        vec![rule(
            "x",
            Expr::Compare(
                BinaryOp::NotEq,
                Box::new(Expr::Name("c".into())),
                Box::new(Expr::Name("p".into())),
            ),
            Hold::Count(1),
        )],
    );
    let (lines, report) = run(app, vec![round(1)], Options::default());
    assert_eq!(report.sensors[1].state, SensorState::Idle);
    assert_eq!(report.readings["probe"], 0);
    assert!(
        report.notes[0].contains("`probe` is idle"),
        "{:?}",
        report.notes
    );
    // `p` never had a value: the rule was never evaluated.
    assert!(rule_times(&lines).is_empty());
}

#[test]
fn wrong_apps_are_refused_with_the_names() {
    let make = |rules, width| {
        let inbox = Arc::new(Inbox::new(1, 4));
        Runtime::new(
            app(
                vec![replay("cam", 4, 1.0, &[0.0; 8])],
                vec![
                    pipeline(0, &[("m", StageKind::Model(0))], "c"),
                    pipeline(0, &[], "raw"),
                ],
                rules,
            ),
            vec![round(width)],
            Options::default(),
            inbox,
        )
        .err()
        .map(|e| e.to_string())
    };
    assert_eq!(
        make(vec![], 3).unwrap(),
        "pipeline `c`: stage `m` takes 3 values per reading, found a tensor of 4 values from `cam`"
    );
    assert_eq!(
        make(vec![rule("r", equals("raw", 1.0), Hold::Count(1))], 4).unwrap(),
        "rule `r`: `raw` is a tensor of 4 values; a rule compares classes and scalars (end its pipeline with argmax, mean or max)"
    );
    assert_eq!(
        make(vec![rule("r", equals("nope", 1.0), Hold::Count(1))], 4).unwrap(),
        "rule `r`: `nope` is not a sensor or pipeline output of app `test`"
    );
    assert_eq!(
        make(vec![rule("r", equals("c", 1.0), Hold::Count(1))], 4),
        None
    );
}

#[test]
fn outside_readings_arrive_through_the_inbox() {
    let app = app(
        vec![external("probe", 2, "t", true)],
        sensor_through_model("c"),
        vec![rule("three", equals("c", 3.0), Hold::Count(1))],
    );
    let inbox = Arc::new(Inbox::new(1, 16));
    let options = Options {
        limit: Some(3),
        ..Options::default()
    };
    let mut runtime = Runtime::new(app, vec![round(2)], options, inbox.clone()).unwrap();
    for (t, input) in [
        (
            1.0,
            Input::Values {
                values: vec![3.0, 0.0],
                source_t: None,
            },
        ),
        (
            2.0,
            Input::Values {
                values: vec![3.0],
                source_t: None,
            },
        ),
        (3.0, Input::Bad("not JSON".into())),
        (
            4.0,
            Input::Values {
                values: vec![3.0, 1.0],
                source_t: None,
            },
        ),
    ] {
        inbox.push(Arrival {
            sensor: 0,
            t: Some(t),
            input,
        });
    }
    let (lines, report) = run_to_end(&mut runtime);
    // The limit (3) is reached at the bad reading: the fourth is not taken.
    assert_eq!(report.readings["probe"], 3);
    assert_eq!(report.bad_readings, 2);
    assert_eq!(rule_times(&lines), vec![("three".into(), 1.0)]);
    assert!(
        lines[2].contains("expected 2 values (shape [2]), found 1"),
        "{}",
        lines[2]
    );
    assert_eq!(report.sensors[0].state, SensorState::Done);
}

/// A wall-like clock whose time moves only when waited on or when a model
/// runs (the models add their cost to it).
struct SteppingClock(Rc<Cell<f64>>);

impl Clock for SteppingClock {
    fn is_virtual(&self) -> bool {
        false
    }
    fn now(&mut self) -> f64 {
        self.0.get()
    }
    fn wait_until(&mut self, until: Option<f64>, _: &Inbox, _: &AtomicBool) {
        if let Some(t) = until {
            self.0.set(self.0.get().max(t));
        }
    }
}

#[test]
fn a_slow_stage_on_the_wall_clock_drops_the_oldest_readings_and_says_so() {
    let now = Rc::new(Cell::new(0.0));
    let calls = Rc::new(Cell::new(0));
    // 100 readings at 10 Hz; each takes 0.25 s: 4x too slow.
    let rows: Vec<f32> = (0..100).map(|i| i as f32).collect();
    let app = app(
        vec![replay("s", 1, 10.0, &rows)],
        vec![pipeline(0, &[("slow", StageKind::Model(0))], "c")],
        vec![],
    );
    let model = Box::new(Round {
        width: 1,
        cost: Some((now.clone(), 0.25)),
        calls: calls.clone(),
    });
    let inbox = Arc::new(Inbox::new(1, 4));
    let mut runtime = Runtime::new(app, vec![model], Options::default(), inbox).unwrap();
    let mut lines = Vec::new();
    let mut observer = |event: &Event| lines.push(event.to_json_line());
    let report = runtime.run(
        &mut SteppingClock(now.clone()),
        &mut observer,
        &AtomicBool::new(false),
    );
    assert_eq!(report.clock, "wall");
    let handled = report.readings["s"];
    assert_eq!(handled as usize, calls.get());
    assert_eq!(handled + report.dropped, 100, "{report:?}");
    assert!(report.dropped > 50, "{report:?}");
    let dropped: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] == "dropped")
        .collect();
    let counted: u64 = dropped.iter().map(|e| e["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, report.dropped);
    // At most one dropped event per second of the run.
    for pair in dropped.windows(2) {
        assert!(pair[1]["t"].as_f64().unwrap() - pair[0]["t"].as_f64().unwrap() >= 1.0 - 1e-9);
    }
    // The newest readings are kept: the last one handled is the last row.
    assert_eq!(report.sensors[0].dropped, report.dropped);
}

#[test]
fn cancel_stops_the_run_and_still_reports() {
    let rows = [1.0; 10];
    let app = app(
        vec![replay("s", 1, 1.0, &rows)],
        sensor_through_model("c"),
        vec![],
    );
    let inbox = Arc::new(Inbox::new(1, 4));
    let mut runtime = Runtime::new(app, vec![round(1)], Options::default(), inbox).unwrap();
    let cancel = AtomicBool::new(false);
    let mut seen = 0;
    struct Stop<'a>(&'a AtomicBool, &'a mut usize);
    impl Observer for Stop<'_> {
        fn event(&mut self, _: &Event) {}
        fn reading_done(&mut self, status: &dyn Fn() -> Status) {
            *self.1 += 1;
            if status().readings["s"] == 4 {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let report = runtime.run(
        &mut VirtualClock::default(),
        &mut Stop(&cancel, &mut seen),
        &cancel,
    );
    assert_eq!(report.stopped, "cancelled");
    assert_eq!(report.readings["s"], 4);
    assert_eq!(seen, 4);
}
