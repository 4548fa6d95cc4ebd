//! Latency histograms, counters, and the one JSON line a run prints.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::conn::Transport;
use crate::procfs::Sample;

/// The largest latency recorded, in µs (one minute); larger values are
/// clamped to it rather than lost.
const MAX_US: u64 = 60_000_000;

/// A latency histogram shared by every client task (the runtime has one
/// thread, so the lock is never contended).
#[derive(Debug)]
pub struct Latencies(Mutex<Histogram<u64>>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram, 1 µs to one minute at 3 significant digits.
    pub fn new() -> Self {
        // Constant bounds, valid for the crate: this cannot fail at run time.
        let histogram =
            Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds are valid");
        Self(Mutex::new(histogram))
    }

    /// Records one latency in µs.
    pub fn record(&self, us: u64) {
        if let Ok(mut histogram) = self.0.lock() {
            histogram.saturating_record(us.clamp(1, MAX_US));
        }
    }

    /// How many latencies were recorded.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.0.lock().map(|h| h.len()).unwrap_or(0)
    }

    /// The value at `quantile` (0.5 for p50), or `None` when empty.
    pub fn quantile(&self, quantile: f64) -> Option<u64> {
        let histogram = self.0.lock().ok()?;
        (!histogram.is_empty()).then(|| histogram.value_at_quantile(quantile))
    }
}

/// A counter shared by every client task.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The run's result, printed as one JSON line; fields that do not apply to
/// a scenario are left out.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// connect, echo, fanout or idle.
    pub scenario: &'static str,
    /// The transport the clients used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// Clients asked for.
    pub clients: u64,
    /// Length of the measured window, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Operations completed in the window (connections, acks, deliveries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ops: Option<u64>,
    /// `ops / duration_s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ops_per_s: Option<f64>,
    /// Median latency of an operation, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_us: Option<u64>,
    /// 99th percentile latency of an operation, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<u64>,
    /// Median time to open a client (engine.io handshake + CONNECT), in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_p50_us: Option<u64>,
    /// 99th percentile time to open a client, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_p99_us: Option<u64>,
    /// Failed connections, protocol errors, closes, timeouts, lost messages.
    pub errors: u64,
    /// CPU time of the server processes during the window, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_s: Option<f64>,
    /// Server CPU time per operation, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_per_op_us: Option<f64>,
    /// CPU time of this generator during the window, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gen_cpu_s: Option<f64>,
    /// Server RSS before the clients connected, in KiB (idle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_before_kb: Option<u64>,
    /// Server RSS with every client connected, in KiB (idle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_after_kb: Option<u64>,
    /// Marginal server RSS per open connection, in bytes (idle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_per_conn_bytes: Option<f64>,
}

impl Report {
    /// Fills the operation fields from a count, a window and latencies.
    pub fn set_ops(&mut self, ops: u64, window_s: f64, latencies: &Latencies) {
        self.ops = Some(ops);
        self.duration_s = Some(round3(window_s));
        self.ops_per_s = (window_s > 0.0).then(|| round3(ops as f64 / window_s));
        self.p50_us = latencies.quantile(0.5);
        self.p99_us = latencies.quantile(0.99);
    }

    /// Fills the connect latency fields.
    pub fn set_connect(&mut self, latencies: &Latencies) {
        self.connect_p50_us = latencies.quantile(0.5);
        self.connect_p99_us = latencies.quantile(0.99);
    }

    /// Fills the CPU fields from samples at the start and end of the
    /// window; per-operation server CPU needs `ops` set first.
    pub fn set_cpu(&mut self, start: Sample, end: Sample, with_server: bool) {
        self.gen_cpu_s = Some(round3(end.gen_cpu_s - start.gen_cpu_s));
        if !with_server {
            return;
        }
        let server = end.server_cpu_s - start.server_cpu_s;
        self.server_cpu_s = Some(round3(server));
        self.server_cpu_per_op_us = self
            .ops
            .filter(|&ops| ops > 0)
            .map(|ops| round3(server * 1e6 / ops as f64));
    }
}

/// Three decimals are plenty for the JSON and keep it readable.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let latencies = Latencies::new();
        assert_eq!(latencies.quantile(0.5), None);
        for us in 1..=10_000 {
            latencies.record(us);
        }
        assert_eq!(latencies.len(), 10_000);
        let p50 = latencies.quantile(0.5).expect("recorded");
        let p99 = latencies.quantile(0.99).expect("recorded");
        assert!((4_995..=5_005).contains(&p50), "{p50}");
        assert!((9_890..=9_910).contains(&p99), "{p99}");
    }

    #[test]
    fn out_of_range_latencies_are_clamped() {
        let latencies = Latencies::new();
        latencies.record(0);
        latencies.record(u64::MAX);
        assert_eq!(latencies.len(), 2);
        assert_eq!(latencies.quantile(0.0), Some(1));
        assert!(latencies.quantile(1.0).expect("recorded") >= MAX_US);
    }

    #[test]
    fn report_leaves_out_what_does_not_apply() {
        let latencies = Latencies::new();
        latencies.record(100);
        let mut report = Report {
            scenario: "echo",
            clients: 2,
            ..Report::default()
        };
        report.set_ops(500, 2.0, &latencies);
        let start = Sample::default();
        let end = Sample {
            server_cpu_s: 0.5,
            server_rss_kb: 0,
            gen_cpu_s: 0.25,
        };
        report.set_cpu(start, end, true);
        let json = serde_json::to_value(&report).expect("serializes");
        assert_eq!(json["ops_per_s"], 250.0);
        assert_eq!(json["server_cpu_per_op_us"], 1000.0);
        assert_eq!(json["gen_cpu_s"], 0.25);
        assert!(json.get("rss_per_conn_bytes").is_none());
        assert!(json.get("transport").is_none());
    }
}
