//! Operations: liveness, readiness, Prometheus metrics, and the graceful
//! drain when the node is asked to stop.

pub mod drain;
pub mod health;
pub mod metrics;
pub mod ready;
