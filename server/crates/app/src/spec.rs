//! What an app is, in the runtime's terms: sensors with their sources,
//! pipelines of stages, rules. The caller builds it from a checked `.neuro`
//! file; names are plain strings and shapes plain numbers here.

pub use neuride_dsl::syntax::ast::BinaryOp;
use std::sync::Arc;

/// An `app` block ready to run.
#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub sensors: Vec<Sensor>,
    pub pipelines: Vec<Pipeline>,
    pub rules: Vec<Rule>,
}

/// `sensor NAME: TYPE @ RATE = SOURCE`.
#[derive(Clone, Debug)]
pub struct Sensor {
    pub name: String,
    /// The declared per-reading shape (`f32[4]` is `[4]`).
    pub shape: Vec<usize>,
    pub element: Element,
    /// Readings per second (`@ 5Hz`): replay reading k is at `k / rate_hz`.
    pub rate_hz: f64,
    pub source: Source,
}

impl Sensor {
    /// Values per reading.
    pub fn width(&self) -> usize {
        self.shape.iter().product()
    }
}

/// What values a reading may hold (the sensor's declared element type).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Element {
    /// f16, f32, f64: any finite number.
    Float,
    /// Integer types: whole numbers in `min..=max`.
    Integer { min: f64, max: f64 },
    /// bool: 0 or 1.
    Bool,
}

impl Element {
    /// The element type named `f32`, `i8`, `u8`, `bool`, ... (None if unknown).
    pub fn named(name: &str) -> Option<Element> {
        Some(match name {
            "f16" | "f32" | "f64" => Element::Float,
            "i8" => Element::Integer {
                min: i8::MIN as f64,
                max: i8::MAX as f64,
            },
            "u8" => Element::Integer {
                min: 0.0,
                max: u8::MAX as f64,
            },
            "i32" => Element::Integer {
                min: i32::MIN as f64,
                max: i32::MAX as f64,
            },
            "i64" => Element::Integer {
                min: i64::MIN as f64,
                max: i64::MAX as f64,
            },
            "bool" => Element::Bool,
            _ => return None,
        })
    }
}

/// Where a sensor's readings come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// `replay(DATASET)`: the dataset's rows in order (row-major, `width`
    /// values each).
    Replay { rows: Arc<[f32]>, count: usize },
    /// `mqtt("topic")` or any other outside producer pushing into the
    /// run's [`crate::Inbox`]. `live: false` means nothing is connected:
    /// the sensor is reported idle and does not keep the run going.
    External { topic: String, live: bool },
}

/// `pipeline SENSOR -> STAGE ... -> OUTPUT`.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Index of the sensor in [`App::sensors`].
    pub sensor: usize,
    pub stages: Vec<Stage>,
    /// The pipeline's output name (usable in rules).
    pub output: String,
}

/// One stage: its name as written and what runs.
#[derive(Clone, Debug)]
pub struct Stage {
    pub label: String,
    pub kind: StageKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// A model stage: index into the models handed to [`crate::Runtime::new`].
    Model(usize),
    /// Tensor to a class index (the first of equal maxima).
    Argmax,
    /// Same shape, `exp(x - max) / sum`.
    Softmax,
    /// Tensor to its mean.
    Mean,
    /// Tensor to its largest value.
    Max,
}

impl StageKind {
    /// The built-in stage called `name`.
    pub fn builtin(name: &str) -> Option<StageKind> {
        Some(match name {
            "argmax" => StageKind::Argmax,
            "softmax" => StageKind::Softmax,
            "mean" => StageKind::Mean,
            "max" => StageKind::Max,
            _ => return None,
        })
    }
}

/// `rule NAME when CONDITION for HOLD => emit "EVENT"`.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub condition: Expr,
    pub hold: Hold,
    pub event: String,
}

/// How long a condition must hold before its rule fires.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hold {
    /// For this many consecutive evaluations (no `for` is `Count(1)`).
    Count(u64),
    /// Continuously for this many seconds of the run's clock.
    Seconds(f64),
}

impl Hold {
    /// Whether the hold spans more than one reading (it then needs every
    /// reading of its sensors, in order).
    pub fn spans_readings(&self) -> bool {
        !matches!(self, Hold::Count(1))
    }
}

/// A rule's condition: comparisons of names and literals.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Name(String),
    Number(f64),
    Bool(bool),
    Neg(Box<Expr>),
    Compare(BinaryOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The names the expression reads, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.visit_names(&mut |name| {
            if !names.contains(&name) {
                names.push(name);
            }
        });
        names
    }

    fn visit_names<'a>(&'a self, visit: &mut dyn FnMut(&'a str)) {
        match self {
            Expr::Name(name) => visit(name),
            Expr::Neg(inner) => inner.visit_names(visit),
            Expr::Compare(_, lhs, rhs) => {
                lhs.visit_names(visit);
                rhs.visit_names(visit);
            }
            Expr::Number(_) | Expr::Bool(_) => {}
        }
    }
}
