//! neuride-app: runs a Neuro `app` — sensors feeding pipelines of stages,
//! rules raising events — as a deterministic loop over a clock
//! (docs/app.md).
//!
//! It is pure: no files, no sockets, no printing. The caller hands it the
//! app ([`App`]), the compiled model stages ([`Model`]: an inference plan,
//! a prepared spiking network), a [`Clock`] ([`VirtualClock`] here; wall
//! clock adapters outside) and an [`Observer`] for the events; outside
//! producers (an MQTT connection) push readings into the run's [`Inbox`].
//! Bad readings are events, never panics.

mod clock;
mod event;
mod inbox;
mod payload;
mod report;
mod rule;
mod runtime;
mod spec;
mod stage;

pub use clock::{Clock, VirtualClock};
pub use event::{Event, EventKind, Observer};
pub use inbox::{Arrival, Inbox, Input};
pub use payload::parse_payload;
pub use report::{Latency, Report, SensorReport, SensorState, StageReport, Status};
pub use runtime::{Options, Runtime, check_reading};
pub use spec::{
    App, BinaryOp, Element, Expr, Hold, Pipeline, Rule, Sensor, Source, Stage, StageKind,
};
pub use stage::{Flow, Model};

/// Why an app cannot run as given.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// The app's parts do not fit together (the message names them).
    #[error("{0}")]
    Spec(String),
}

#[cfg(test)]
mod tests;
