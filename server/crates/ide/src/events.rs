//! The event log: what happened to each model of the workspace (added,
//! changed, reclassified, removed, converted) and when. The server serves it
//! as `neuride/events` and mirrors each new event to the client's log.

use crate::analysis::FileAnalysis;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The log keeps the latest this many events; older ones are dropped so a
/// long session does not grow without bound.
pub const MAX_EVENTS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Added,
    Changed,
    Reclassified,
    Removed,
    Converted,
    /// Something a running app did: a rule fired, a bad reading, drops,
    /// started or stopped (the path is the `.neuro` file).
    App,
    /// The registry of `neuride serve` refused an upload (the model had
    /// errors); the file on disk was left as it was.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Increasing from 1 for the life of the server.
    pub sequence: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The same instant as an RFC 3339 UTC timestamp.
    pub time: String,
    pub path: PathBuf,
    pub kind: EventKind,
    pub detail: String,
}

impl Event {
    /// One line for a log: `2025-01-02T03:04:05.678Z changed models/a.onnx: ...`.
    pub fn log_line(&self) -> String {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        format!(
            "{} {} {}: {}",
            self.time,
            kind.unwrap_or_default(),
            self.path.display(),
            self.detail
        )
    }
}

#[derive(Default)]
pub struct EventLog {
    events: std::collections::VecDeque<Event>,
    next_sequence: u64,
    /// Sequence of the last event handed out by [`EventLog::take_new`].
    delivered: u64,
}

impl EventLog {
    pub fn record(&mut self, path: &Path, kind: EventKind, detail: String) {
        self.next_sequence += 1;
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.events.push_back(Event {
            sequence: self.next_sequence,
            time_ms,
            time: rfc3339(time_ms),
            path: path.to_owned(),
            kind,
            detail,
        });
        if self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }

    /// Records what a new analysis of a model means compared with the
    /// previous one: added, changed, and reclassified when its kind moved.
    pub fn model_analysed(
        &mut self,
        path: &Path,
        previous: Option<&FileAnalysis>,
        current: &FileAnalysis,
    ) {
        let Some(model) = current.as_model() else {
            return;
        };
        let kind = crate::registry::model_kind(model);
        let errors = current
            .diagnostics()
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .count();
        let state = if errors == 0 {
            "valid".to_owned()
        } else {
            format!("{errors} error(s)")
        };
        match previous.and_then(FileAnalysis::as_model) {
            None => self.record(path, EventKind::Added, format!("{kind} model, {state}")),
            Some(before) => {
                let before_kind = crate::registry::model_kind(before);
                self.record(path, EventKind::Changed, format!("{kind} model, {state}"));
                if before_kind != kind {
                    self.record(
                        path,
                        EventKind::Reclassified,
                        format!("{before_kind} -> {kind}"),
                    );
                }
            }
        }
    }

    pub fn all(&self) -> Vec<Event> {
        self.events.iter().cloned().collect()
    }

    /// Events recorded since the last call, for mirroring to a log.
    pub fn take_new(&mut self) -> Vec<Event> {
        let delivered = self.delivered;
        self.delivered = self.next_sequence;
        self.events
            .iter()
            .filter(|e| e.sequence > delivered)
            .cloned()
            .collect()
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDThh:mm:ss.mmmZ` (Howard
/// Hinnant's civil-from-days algorithm; no time-zone database needed).
fn rfc3339(time_ms: u64) -> String {
    let seconds = time_ms / 1000;
    let days = (seconds / 86_400) as i64;
    let second_of_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        time_ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_735_787_045_006), "2025-01-02T03:04:05.006Z");
    }

    #[test]
    fn new_events_are_handed_out_once() {
        let mut log = EventLog::default();
        log.record(Path::new("a.onnx"), EventKind::Added, "x".into());
        assert_eq!(log.take_new().len(), 1);
        assert!(log.take_new().is_empty());
        log.record(Path::new("a.onnx"), EventKind::Removed, "y".into());
        let new = log.take_new();
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].kind, EventKind::Removed);
        assert_eq!(log.all().len(), 2);
    }
}
