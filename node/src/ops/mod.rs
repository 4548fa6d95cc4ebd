//! Operations: liveness and Prometheus metrics.

pub mod health;
pub mod metrics;
