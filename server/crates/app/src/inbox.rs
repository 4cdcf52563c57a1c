//! The run's inbox: readings waiting for the stages, one bounded queue per
//! sensor. Outside producers (an MQTT connection) push from their own
//! threads; in real time the loop also queues replay readings here when
//! they fall due. A full queue drops its oldest reading and counts it:
//! never an unbounded queue, never a silent drop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What arrives for a sensor.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Row `index` of a replay sensor's dataset.
    Row(u64),
    /// The values of one reading from outside, and the time the producer
    /// stamped on it, if any (informative: the run's clock orders readings).
    Values {
        values: Vec<f32>,
        source_t: Option<f64>,
    },
    /// A reading that could not be read (the message says why).
    Bad(String),
}

/// A queued input and its time on the run's clock (None: the loop stamps
/// it with the clock's time when it takes it).
#[derive(Clone, Debug, PartialEq)]
pub struct Arrival {
    pub sensor: usize,
    pub t: Option<f64>,
    pub input: Input,
}

struct Queues {
    sensors: Vec<VecDeque<Arrival>>,
    dropped: Vec<u64>,
    notices: Vec<String>,
}

/// Bounded per-sensor queues shared between producers and the run loop.
pub struct Inbox {
    queues: Mutex<Queues>,
    ready: Condvar,
    capacity: usize,
    /// Set whenever something is queued, so the loop can skip the lock.
    pending: AtomicBool,
}

impl Inbox {
    /// Queues for `sensors` sensors of `capacity` readings each (at least 1).
    pub fn new(sensors: usize, capacity: usize) -> Inbox {
        Inbox {
            queues: Mutex::new(Queues {
                sensors: (0..sensors).map(|_| VecDeque::new()).collect(),
                dropped: vec![0; sensors],
                notices: Vec::new(),
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            pending: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `arrival`; when its sensor's queue is full the oldest waiting
    /// reading is dropped (and counted). Returns whether one was dropped.
    /// Arrivals for unknown sensors are ignored.
    pub fn push(&self, arrival: Arrival) -> bool {
        let mut queues = self.lock();
        let sensor = arrival.sensor;
        let Some(queue) = queues.sensors.get_mut(sensor) else {
            return false;
        };
        let dropped = queue.len() >= self.capacity;
        if dropped {
            queue.pop_front();
        }
        queue.push_back(arrival);
        if dropped {
            queues.dropped[sensor] += 1;
        }
        self.pending.store(true, Ordering::Release);
        self.ready.notify_all();
        dropped
    }

    /// A message for the run's event stream (kind `notice`).
    pub fn notice(&self, message: String) {
        self.lock().notices.push(message);
        self.pending.store(true, Ordering::Release);
        self.ready.notify_all();
    }

    /// Readings each sensor's queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether anything may be waiting (cheap: no lock).
    pub fn maybe_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes the waiting arrival with the earliest time (unstamped ones
    /// first, ties by sensor order).
    pub fn pop(&self) -> Option<Arrival> {
        let mut queues = self.lock();
        let mut best: Option<(usize, f64)> = None;
        for (sensor, queue) in queues.sensors.iter().enumerate() {
            if let Some(front) = queue.front() {
                let t = front.t.unwrap_or(f64::NEG_INFINITY);
                if best.is_none_or(|(_, best_t)| t < best_t) {
                    best = Some((sensor, t));
                }
            }
        }
        let arrival = best.and_then(|(sensor, _)| queues.sensors[sensor].pop_front());
        self.settle(&queues);
        arrival
    }

    /// Notices and per-sensor drop counts since the last call.
    pub fn take_news(&self) -> (Vec<String>, Vec<u64>) {
        let mut queues = self.lock();
        let notices = std::mem::take(&mut queues.notices);
        let dropped = queues.dropped.iter_mut().map(std::mem::take).collect();
        self.settle(&queues);
        (notices, dropped)
    }

    /// Readings waiting, per sensor.
    pub fn waiting(&self) -> Vec<usize> {
        self.lock().sensors.iter().map(VecDeque::len).collect()
    }

    fn settle(&self, queues: &Queues) {
        let empty = queues.sensors.iter().all(VecDeque::is_empty)
            && queues.notices.is_empty()
            && queues.dropped.iter().all(|&d| d == 0);
        if empty {
            self.pending.store(false, Ordering::Release);
        }
    }

    /// Waits up to `timeout` for something to be queued; returns whether
    /// anything is waiting.
    pub fn wait(&self, timeout: Duration) -> bool {
        let queues = self.lock();
        if self.maybe_pending() {
            return true;
        }
        let (_queues, _) = self
            .ready
            .wait_timeout_while(queues, timeout, |_| !self.maybe_pending())
            .unwrap_or_else(|p| p.into_inner());
        self.maybe_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sensor: usize, t: f64, index: u64) -> Arrival {
        Arrival {
            sensor,
            t: Some(t),
            input: Input::Row(index),
        }
    }

    #[test]
    fn a_full_queue_drops_its_oldest_and_counts_it() {
        let inbox = Inbox::new(2, 2);
        assert!(!inbox.push(row(0, 0.0, 0)));
        assert!(!inbox.push(row(0, 0.1, 1)));
        assert!(inbox.push(row(0, 0.2, 2)));
        assert!(!inbox.push(row(1, 0.15, 0)));
        assert!(!inbox.push(row(7, 0.0, 0)), "unknown sensors are ignored");
        assert_eq!(inbox.waiting(), vec![2, 1]);
        let (_, dropped) = inbox.take_news();
        assert_eq!(dropped, vec![1, 0]);
        // Earliest first across sensors: 0.1 (row 1; row 0 was dropped), 0.15, 0.2.
        let order: Vec<(usize, f64)> = std::iter::from_fn(|| inbox.pop())
            .map(|a| (a.sensor, a.t.unwrap()))
            .collect();
        assert_eq!(order, vec![(0, 0.1), (1, 0.15), (0, 0.2)]);
        assert!(!inbox.maybe_pending());
    }

    #[test]
    fn wait_wakes_on_a_push_from_another_thread() {
        let inbox = std::sync::Arc::new(Inbox::new(1, 4));
        let producer = inbox.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            producer.notice("hello".into());
        });
        assert!(inbox.wait(Duration::from_secs(10)));
        thread.join().unwrap();
        assert_eq!(inbox.take_news().0, vec!["hello".to_string()]);
        assert!(!inbox.wait(Duration::from_millis(1)));
    }
}
