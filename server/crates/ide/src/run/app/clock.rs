//! The wall clock adapter for the app runtime: `--speed realtime` is wall
//! time, `--speed N` is N times wall time. The runtime itself only knows
//! the [`Clock`] trait.

use neuride_app::{Clock, Inbox};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Run time = wall time since the start x `speed`. Clones share the start,
/// so a producer's copy stamps arrivals on the run's clock.
#[derive(Clone, Debug)]
pub struct WallClock {
    origin: Arc<Mutex<Instant>>,
    speed: f64,
}

/// How long one wait blocks before it looks at the cancel flag again.
const CANCEL_POLL: Duration = Duration::from_millis(20);

impl WallClock {
    pub fn start(speed: f64) -> WallClock {
        WallClock {
            origin: Arc::new(Mutex::new(Instant::now())),
            speed,
        }
    }

    /// Time 0 is now (the run begins).
    pub fn restart(&self) {
        *self.origin.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// The run's time now (for producers that stamp arrivals).
    pub fn time(&self) -> f64 {
        let origin = *self.origin.lock().unwrap_or_else(|p| p.into_inner());
        origin.elapsed().as_secs_f64() * self.speed
    }
}

impl Clock for WallClock {
    fn is_virtual(&self) -> bool {
        false
    }

    fn now(&mut self) -> f64 {
        self.time()
    }

    fn wait_until(&mut self, until: Option<f64>, inbox: &Inbox, cancel: &AtomicBool) {
        loop {
            if cancel.load(Ordering::Relaxed) || inbox.maybe_pending() {
                return;
            }
            let wait = match until {
                Some(t) => {
                    let left = (t - self.time()) / self.speed;
                    if left <= 0.0 {
                        return;
                    }
                    Duration::from_secs_f64(left).min(CANCEL_POLL)
                }
                None => CANCEL_POLL,
            };
            if inbox.wait(wait) {
                return;
            }
        }
    }
}
