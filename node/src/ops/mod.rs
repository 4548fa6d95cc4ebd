//! Operations: liveness, readiness, Prometheus metrics, the log format, and
//! the graceful drain when the node is asked to stop.

pub mod drain;
pub mod health;
pub mod logs;
pub mod metrics;
pub mod ready;
