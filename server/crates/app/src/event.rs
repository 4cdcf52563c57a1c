//! Events: what a run tells the world, one JSON object each
//! (`{"t": 1.2, "app": "greenhouse", "kind": "rule", "rule": "virginica",
//! "event": "virginica-detected", "values": {"species": 2}}`). Times are the
//! run's clock, never the wall clock, so a replay run's events are the same
//! bytes on every machine.

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The run began (`values`: the sensors and how they are fed).
    Started,
    /// A rule's condition held as long as it asks.
    Rule,
    /// A reading went in (only with `trace`).
    Reading,
    /// A pipeline produced its output (only with `trace`).
    Prediction,
    /// A reading was refused (wrong shape, not a number, ...) and dropped.
    BadReading,
    /// Readings were dropped because the stages fell behind (at most one
    /// such event per second of the run's clock, with the `count`).
    Dropped,
    /// Something the user should know that is not about a reading (a model
    /// file replaced during the run, a broker connection lost, ...).
    Notice,
    /// The run ended (`message`: why).
    Stopped,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Started => "started",
            EventKind::Rule => "rule",
            EventKind::Reading => "reading",
            EventKind::Prediction => "prediction",
            EventKind::BadReading => "bad_reading",
            EventKind::Dropped => "dropped",
            EventKind::Notice => "notice",
            EventKind::Stopped => "stopped",
        }
    }
}

/// One event. Fields that do not apply to a kind are left out of its JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Seconds on the run's clock.
    pub t: f64,
    pub app: String,
    pub kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The emitted event's name (rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Rules: the latest value of every name the condition reads; traces:
    /// the reading or the prediction.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub values: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Event {
    pub fn new(t: f64, app: &str, kind: EventKind) -> Event {
        Event {
            t,
            app: app.to_owned(),
            kind,
            rule: None,
            event: None,
            values: Map::new(),
            sensor: None,
            pipeline: None,
            count: None,
            message: None,
        }
    }

    /// The name an event is published under: a rule's event name, else its
    /// kind (`PREFIX/virginica-detected`, `PREFIX/bad_reading`).
    pub fn topic_name(&self) -> &str {
        self.event.as_deref().unwrap_or(self.kind.name())
    }

    /// The event as one line of JSON (no newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|error| {
            // Only a non-string map key could fail, and there is none.
            format!("{{\"kind\":\"notice\",\"message\":\"unserializable event: {error}\"}}")
        })
    }
}

/// Where a run's events and progress go.
pub trait Observer {
    fn event(&mut self, event: &Event);
    /// Called after every reading; `status` builds the counts so far (an
    /// observer that shows them decides how often it asks).
    fn reading_done(&mut self, status: &dyn Fn() -> crate::Status) {
        let _ = status;
    }
}

/// An observer from a closure over events.
impl<F: FnMut(&Event)> Observer for F {
    fn event(&mut self, event: &Event) {
        self(event)
    }
}

/// A number as JSON: whole numbers that came from classes stay integers.
pub(crate) fn number(value: f64, class: bool) -> Value {
    if class && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_event_is_one_line_with_the_documented_fields() {
        let mut event = Event::new(1.2, "greenhouse", EventKind::Rule);
        event.rule = Some("virginica".into());
        event.event = Some("virginica-detected".into());
        event.values.insert("species".into(), number(2.0, true));
        assert_eq!(
            event.to_json_line(),
            r#"{"t":1.2,"app":"greenhouse","kind":"rule","rule":"virginica","event":"virginica-detected","values":{"species":2}}"#
        );
        assert_eq!(event.topic_name(), "virginica-detected");
        let bad = Event::new(0.0, "a", EventKind::BadReading);
        assert_eq!(bad.topic_name(), "bad_reading");
        assert_eq!(number(f64::NAN, false), Value::Null);
        assert_eq!(number(0.5, false), serde_json::json!(0.5));
    }
}
