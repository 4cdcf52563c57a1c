//! The report at the end of a run and the status while it runs: readings
//! per sensor, predictions per pipeline, events per rule, drops, bad
//! readings, per-stage latency (p50/p99) and throughput.

use serde::Serialize;
use std::collections::BTreeMap;

/// Per-reading latencies in buckets 2 % wide (1 ns to about 2 hours), so a
/// run of any length keeps its percentiles in a fixed few kilobytes.
#[derive(Clone, Debug)]
pub struct Latency {
    buckets: Vec<u64>,
    count: u64,
    total_ns: f64,
}

const GROWTH: f64 = 1.02;
const BUCKETS: usize = 1500;

impl Default for Latency {
    fn default() -> Latency {
        Latency {
            buckets: vec![0; BUCKETS],
            count: 0,
            total_ns: 0.0,
        }
    }
}

impl Latency {
    /// Records `readings` readings that took `nanos_each` each (a batch's
    /// time divided by its size).
    pub fn record(&mut self, nanos_each: f64, readings: u64) {
        let index = if nanos_each <= 1.0 {
            0
        } else {
            ((nanos_each.ln() / GROWTH.ln()) as usize).min(BUCKETS - 1)
        };
        self.buckets[index] += readings;
        self.count += readings;
        self.total_ns += nanos_each * readings as f64;
    }

    /// The `q`-quantile (0..=1) in microseconds: the middle of its bucket.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (index, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return GROWTH.powf(index as f64 + 0.5) / 1e3;
            }
        }
        GROWTH.powf(BUCKETS as f64) / 1e3
    }

    pub fn mean_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_ns / self.count as f64 / 1e3
        }
    }
}

/// One stage of one pipeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageReport {
    pub pipeline: String,
    pub stage: String,
    /// Readings through the stage.
    pub readings: u64,
    /// Calls made (a replay run hands a stage many readings per call).
    pub calls: u64,
    /// Per-reading time: a call's time divided by its readings.
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
}

/// One sensor's counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensorReport {
    pub name: String,
    /// `replay` or `mqtt`.
    pub source: String,
    /// `idle` when nothing feeds it (an mqtt sensor without a broker).
    pub state: SensorState,
    pub readings: u64,
    pub bad: u64,
    pub dropped: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SensorState {
    /// Fed until the run ended.
    Live,
    /// Its readings ran out (end of data, or `limit`).
    Done,
    /// Nothing feeds it.
    Idle,
}

/// The report at the end of a run (`--format json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub app: String,
    /// `virtual` (as fast as the stages go) or `wall`.
    pub clock: &'static str,
    /// Readings per sensor.
    pub readings: BTreeMap<String, u64>,
    /// Outputs per pipeline (by output name).
    pub predictions: BTreeMap<String, u64>,
    /// Firings per rule.
    pub events: BTreeMap<String, u64>,
    pub dropped: u64,
    pub bad_readings: u64,
    pub sensors: Vec<SensorReport>,
    pub stages: Vec<StageReport>,
    /// Readings (all sensors) per second of wall time.
    pub readings_per_s: f64,
    /// Wall time of the run loop.
    pub wall_s: f64,
    /// The run's clock when it ended.
    pub run_s: f64,
    /// Why the run ended.
    pub stopped: String,
    /// Things the user should know (idle sensors, notices).
    pub notes: Vec<String>,
}

/// Counts while the run goes, for a live view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    pub t: f64,
    pub readings: BTreeMap<String, u64>,
    pub predictions: BTreeMap<String, u64>,
    /// The latest output of each pipeline (null before the first).
    pub latest: BTreeMap<String, serde_json::Value>,
    pub events: BTreeMap<String, u64>,
    pub dropped: u64,
    pub bad_readings: u64,
    pub readings_per_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_two_percent() {
        let mut latency = Latency::default();
        for us in 1..=100 {
            latency.record(us as f64 * 1e3, 1);
        }
        let p50 = latency.quantile_us(0.5);
        let p99 = latency.quantile_us(0.99);
        assert!((p50 / 50.0 - 1.0).abs() < 0.02, "{p50}");
        assert!((p99 / 99.0 - 1.0).abs() < 0.02, "{p99}");
        assert!((latency.mean_us() - 50.5).abs() < 1e-9);
        let mut weighted = Latency::default();
        weighted.record(2e3, 99);
        weighted.record(1e6, 1);
        assert!((weighted.quantile_us(0.99) / 2.0 - 1.0).abs() < 0.02);
        assert!(weighted.quantile_us(1.0) > 900.0);
        assert_eq!(Latency::default().quantile_us(0.5), 0.0);
    }
}
