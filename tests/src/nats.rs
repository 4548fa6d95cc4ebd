//! A real NATS server (`nats-server`), run as a child process: the bus the
//! nodes of a cluster test share. Each test gets its own on a free port, never
//! a NATS that happens to run on 4222, so tests cannot hear each other.

use crate::process::spawn_logged;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

/// How long nats-server may take to say it is ready; generous because CI
/// machines are slow and shared.
const READY_LIMIT: Duration = Duration::from_secs(20);

/// How many free ports `start` tries when another process takes the one it
/// picked before nats-server binds it.
const PORT_ATTEMPTS: usize = 5;

/// What nats-server logs once it accepts client connections.
const READY_LINE: &str = "Server is ready";

/// A running NATS server on `127.0.0.1`; killed when dropped.
///
/// Tests of a bus outage [`stop`](Self::stop) it and later
/// [`restart`](Self::restart) it on the same port, which is where the nodes
/// keep reconnecting to.
pub struct NatsServer {
    program: PathBuf,
    child: Option<Child>,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl NatsServer {
    /// Starts nats-server (no JetStream) on a free loopback port, and returns
    /// once it has logged that it is ready.
    pub fn start() -> Self {
        let program = crate::system_program("nats-server");
        let log = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..PORT_ATTEMPTS {
            let port = crate::free_port();
            if let Some(child) = launch(&program, port, &log) {
                return Self {
                    program,
                    child: Some(child),
                    port,
                    log,
                };
            }
        }
        panic!(
            "nats-server found no free port in {PORT_ATTEMPTS} attempts:\n{}",
            log.lock().expect("log").join("\n")
        );
    }

    /// `nats://127.0.0.1:<port>`, for `SWITCHYARD_*` settings.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port; it stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (a crash, as the nodes see it) and waits until it is
    /// gone. Does nothing when it is already stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (stopping it first if it
    /// runs), and returns once it is ready. Panics if another process took
    /// the port meanwhile.
    pub fn restart(&mut self) {
        self.stop();
        match launch(&self.program, self.port, &self.log) {
            Some(child) => self.child = Some(child),
            None => panic!(
                "nats-server could not restart: port {} was taken meanwhile:\n{}",
                self.port,
                self.log()
            ),
        }
    }

    /// Everything nats-server has logged so far, across restarts.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs nats-server on `port` and waits for its ready line. `None` when the
/// port was in use; panics on any other failure, with the log.
fn launch(program: &Path, port: u16, log: &Arc<Mutex<Vec<String>>>) -> Option<Child> {
    let first_line = log.lock().expect("log").len();
    let mut command = Command::new(program);
    command.args(["-a", "127.0.0.1", "-p", &port.to_string()]);
    let (mut child, ready_rx) = spawn_logged(&mut command, &[READY_LINE], log);
    let outcome = ready_rx.recv_timeout(READY_LIMIT);
    if outcome.is_ok() {
        return Some(child);
    }
    let _ = child.kill();
    let status = child.wait();
    let lines = log.lock().expect("log")[first_line..].join("\n");
    match outcome {
        Err(mpsc::RecvTimeoutError::Disconnected) if lines.contains("address already in use") => {
            None
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("nats-server on port {port} exited ({status:?}) before it was ready:\n{lines}")
        }
        _ => panic!("nats-server on port {port} was not ready within {READY_LIMIT:?}:\n{lines}"),
    }
}
