//! The shared fixture of Switchyard's end-to-end tests.
//!
//! Tests run the real `switchyard` binary as a child process
//! ([`NodeProcess`]) and talk to it with real third-party clients driven by
//! small scripts in `tests/js/` ([`run_js`]), or with raw HTTP and WebSocket
//! requests (awc) when a test needs bytes the clients would never send.
//! Cluster tests add a real NATS server ([`NatsServer`]) for the nodes' bus
//! and a plain round-robin nginx ([`Nginx`]) in front of them.
//! Every process a test starts is stopped when the test ends.

mod clients;
pub mod cluster;
pub mod hostile;
pub mod nats;
pub mod nginx;
pub mod node;
mod process;
pub mod raw;
pub mod relay;
pub mod repo;
pub mod scratch;

pub use clients::{run_js, run_py, JsSession};
pub use cluster::ClusterFixture;
pub use nats::NatsServer;
pub use nginx::Nginx;
pub use node::{NodeProcess, StartingNode};
pub use raw::{RawEngine, Reply};

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

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

/// A loopback port that was free a moment ago, for a server that must be
/// told its port up front (nats-server, nginx). Another process may take it
/// before the server binds it, so callers retry with a new one when the
/// server reports the address in use.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// A system program the tests run (nats-server, nginx): from `PATH`, or from
/// the sbin directories Debian installs daemons into, which a non-root
/// `PATH` may lack. Panics, naming the program, when it is not installed.
pub(crate) fn system_program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed (not on PATH nor in /usr/sbin): scripts/test installs it"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
