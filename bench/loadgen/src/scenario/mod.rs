//! What the scenarios share: opening clients under the concurrency limit,
//! the phases every client follows, and error counting.
//!
//! Each client is one task. It opens its connection, then idles (answering
//! pings) until the coordinator moves the run from [`Phase::Setup`] to
//! [`Phase::Run`], which carries the measured window; it stops at
//! [`Phase::Stop`] or the run's deadline, whichever comes first.

pub mod connect;
pub mod echo;
pub mod fanout;
pub mod idle;

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use crate::cli::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::stats::{Counter, Latencies};

/// How many client errors are printed to stderr; the rest are only counted.
const PRINTED_ERRORS: u64 = 5;
/// How often the coordinator looks at the counters while it waits.
const POLL: Duration = Duration::from_millis(5);

/// Where the run is; sent to every client through a watch channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Clients are opening.
    Setup,
    /// Load is on; operations that start at or after `start` and end by
    /// `end` are measured, and no new one starts after `end`.
    Run {
        /// Start of the measured window (after the warm-up).
        start: Instant,
        /// End of the measured window.
        end: Instant,
    },
    /// Every client closes.
    Stop,
}

/// State shared by the coordinator and every client task.
pub struct Ctx {
    /// The run's settings.
    pub cfg: Config,
    /// Time to open each client.
    pub connect: Latencies,
    /// Clients that opened.
    pub opened: Counter,
    /// Clients that opened or failed to.
    pub settled: Counter,
    /// Errors of every kind.
    pub errors: Counter,
    /// Limits the opens in progress to `--concurrency`.
    slots: Semaphore,
    /// Past it, every client gives up.
    pub deadline: Instant,
}

impl Ctx {
    /// Shared state for a run whose last moment is `deadline`.
    pub fn new(cfg: Config, deadline: Instant) -> Self {
        let slots = Semaphore::new(cfg.concurrency);
        Self {
            cfg,
            connect: Latencies::new(),
            opened: Counter::default(),
            settled: Counter::default(),
            errors: Counter::default(),
            slots,
            deadline,
        }
    }

    /// Opens client `index` once a slot is free, recording how long the
    /// handshake and CONNECT took; a failure is counted and printed.
    pub async fn open(&self, index: usize) -> Option<Conn> {
        let result = match self.slots.acquire().await {
            Ok(_permit) => {
                let started = Instant::now();
                let result = self.cfg.dialer.open(index, self.deadline).await;
                if result.is_ok() {
                    self.connect.record(micros(started.elapsed()));
                    self.opened.add();
                }
                result
            }
            Err(_) => Err(Error::Closed),
        };
        self.settled.add();
        result.map_err(|e| self.error("open", &e)).ok()
    }

    /// Waits until every one of `clients` has tried to open, or `until`
    /// passes, and says how many of the `what` did not make it in time.
    pub async fn wait_open(&self, clients: u64, until: Instant, what: &str) {
        if !Self::wait_for(&self.settled, clients, until).await {
            eprintln!(
                "loadgen: only {} of {clients} {what} opened in time",
                self.opened.get()
            );
        }
    }

    /// Counts an error, printing the first few so a failing run says why.
    pub fn error(&self, during: &str, error: &Error) {
        self.errors.add();
        if self.errors.get() <= PRINTED_ERRORS {
            eprintln!("loadgen: client error during {during}: {error}");
        }
    }

    /// Waits until `counter` reaches `target` or `until` passes; true when
    /// it was reached.
    pub async fn wait_for(counter: &Counter, target: u64, until: Instant) -> bool {
        loop {
            if counter.get() >= target {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Idles `conn` until the phase leaves `Setup`, answering pings and
/// ignoring other packets, and returns the new phase.
pub async fn wait_start(conn: &mut Conn, phase: &mut watch::Receiver<Phase>) -> Result<Phase> {
    loop {
        let current = *phase.borrow_and_update();
        if current != Phase::Setup {
            return Ok(current);
        }
        tokio::select! {
            changed = phase.changed() => changed.map_err(|_| Error::Closed)?,
            packet = conn.recv_raw() => { conn.handle(packet?).await?; }
        }
    }
}

/// A duration in whole µs, saturating.
pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// µs since the first call: the clock of fanout timestamps, shared by the
/// sender and the receivers in this one process.
pub fn now_us() -> u64 {
    static BASE: OnceLock<std::time::Instant> = OnceLock::new();
    micros(BASE.get_or_init(std::time::Instant::now).elapsed())
}

/// The fanout timestamp of a tokio instant, on the [`now_us`] clock.
pub fn instant_us(at: Instant) -> u64 {
    let now = Instant::now();
    let now_us = now_us();
    if at >= now {
        now_us.saturating_add(micros(at - now))
    } else {
        now_us.saturating_sub(micros(now - at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_converts_instants() {
        let first = now_us();
        let later = instant_us(Instant::now() + Duration::from_secs(2));
        assert!(later >= first + 1_999_000, "{first} {later}");
        assert!(now_us() >= first);
        assert_eq!(micros(Duration::from_millis(3)), 3_000);
    }
}
