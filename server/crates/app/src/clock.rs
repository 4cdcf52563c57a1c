//! The run's clock. A replay run at full speed uses [`VirtualClock`]: time
//! jumps to the next reading, so the same file and data give the same
//! events however fast the machine is. Runs against the wall clock (MQTT,
//! `--speed realtime`, `--speed N`) use an adapter outside this crate.

use crate::inbox::Inbox;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub trait Clock {
    /// True when time only moves when the loop says so.
    fn is_virtual(&self) -> bool;
    /// The run's time in seconds.
    fn now(&mut self) -> f64;
    /// Lets time pass until `until` (None: no deadline), returning early
    /// when `inbox` has something or `cancel` is set.
    fn wait_until(&mut self, until: Option<f64>, inbox: &Inbox, cancel: &AtomicBool);
}

/// Time that moves to each deadline at once.
#[derive(Clone, Debug, Default)]
pub struct VirtualClock {
    now: f64,
}

/// How long a virtual clock with no deadline blocks on its inbox before it
/// looks at the cancel flag again.
const IDLE_POLL: Duration = Duration::from_millis(50);

impl Clock for VirtualClock {
    fn is_virtual(&self) -> bool {
        true
    }

    fn now(&mut self) -> f64 {
        self.now
    }

    fn wait_until(&mut self, until: Option<f64>, inbox: &Inbox, _cancel: &AtomicBool) {
        match until {
            Some(t) => self.now = self.now.max(t),
            // Only outside input can come: wait for it without moving time.
            None => {
                inbox.wait(IDLE_POLL);
            }
        }
    }
}
