//! The shared fixture of Switchyard's end-to-end tests.
//!
//! Tests run the real `switchyard` binary as a child process
//! ([`NodeProcess`]) and talk to it with real third-party clients driven by
//! small scripts in `tests/js/` ([`run_js`]), or with raw HTTP and WebSocket
//! requests (awc) when a test needs bytes the clients would never send.
//! Every process a test starts is stopped when the test ends.

mod clients;
pub mod node;
pub mod raw;

pub use clients::{run_js, run_py};
pub use node::NodeProcess;
pub use raw::{RawEngine, Reply};

use std::time::{Duration, Instant};

/// Retries `probe` until it yields a value or `limit` passes.
///
/// Used only where the server offers no event to wait on (a metric reaching
/// a value); the limit is generous because CI machines are slow and shared.
pub async fn eventually<T, F, Fut>(limit: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}
