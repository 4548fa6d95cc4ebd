//! One `switchyard` node, run as a child process.

use crate::process::{spawn_logged, Log};
use std::{
    path::PathBuf,
    process::{Child, Command},
    sync::{Arc, Mutex},
    time::Duration,
};

/// A running node; killed when dropped.
pub struct NodeProcess {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// The `switchyard` binary: `$SWITCHYARD_BIN`, or the one next to this test's
/// own target directory (scripts/test builds it first).
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SWITCHYARD_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/switchyard
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("switchyard"))
        .expect("target directory");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p switchyard-node` (scripts/test does)",
        path.display()
    );
    path
}

/// A binary built from `node/examples/<name>` (scripts/test builds them),
/// for tests that run a node with an app of its own.
pub fn example(name: &str) -> PathBuf {
    let path = binary()
        .parent()
        .map(|profile| profile.join("examples").join(name))
        .expect("target directory");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p switchyard-node --examples` (scripts/test does)",
        path.display()
    );
    path
}

/// The log lines a starting node is watched for.
const STARTUP_LINES: &[&str] = &[LISTENING, "waiting for NATS"];
/// The line that says the node serves HTTP, with its address.
const LISTENING: &str = "switchyard node listening";

/// A node process that has not said yet that it listens.
pub struct StartingNode {
    child: Child,
    log: Log,
    lines: std::sync::mpsc::Receiver<String>,
}

impl StartingNode {
    /// Waits (up to 30 s) for a start-up line containing `marker`, and returns it.
    pub fn wait_for(&mut self, marker: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(marker) => return line,
                Ok(_) => continue,
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "node never logged {marker:?}:\n{}",
                        self.log.lock().expect("log").join("\n")
                    );
                }
            }
        }
    }

    /// Waits (up to 30 s) for the node to stop, as it must with bad
    /// settings, and returns everything it printed; or says why not: it
    /// started instead, or it exited with success.
    pub fn refused(mut self) -> Result<String, String> {
        use std::sync::mpsc::RecvTimeoutError;
        let outcome = self.lines.recv_timeout(Duration::from_secs(30));
        let stopped = matches!(outcome, Err(RecvTimeoutError::Disconnected));
        if !stopped {
            let _ = self.child.kill();
        }
        let status = self.child.wait().expect("wait for the node");
        let log = self.log.lock().expect("log").join("\n");
        if !stopped {
            return Err(format!("the node did not stop at start-up:\n{log}"));
        }
        if status.success() {
            return Err(format!("the node exited with success:\n{log}"));
        }
        Ok(log)
    }

    /// Waits until the node listens.
    pub fn listening(mut self) -> NodeProcess {
        let line = self.wait_for(LISTENING);
        let Some(addr) = listen_address(&line) else {
            panic!("no address in {line:?}");
        };
        NodeProcess {
            child: self.child,
            addr,
            log: self.log,
        }
    }
}

impl NodeProcess {
    /// Starts a node on a free loopback port with these `SWITCHYARD_*` settings,
    /// and returns once it has logged the address it listens on.
    pub fn start(settings: &[(&str, &str)]) -> Self {
        Self::spawn(settings).listening()
    }

    /// Starts a node without waiting for it, for tests that watch it start.
    pub fn spawn(settings: &[(&str, &str)]) -> StartingNode {
        Self::spawn_program(&binary(), settings)
    }

    /// [`NodeProcess::spawn`] with another node binary, such as an [`example`].
    pub fn spawn_program(program: &std::path::Path, settings: &[(&str, &str)]) -> StartingNode {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,switchyard_node=debug")
            .env("SWITCHYARD_LISTEN", "127.0.0.1:0");
        for (key, value) in settings {
            command.env(key, value);
        }
        let log: Log = Default::default();
        let (child, lines) = spawn_logged(&mut command, STARTUP_LINES, &log);
        StartingNode { child, log, lines }
    }

    /// `127.0.0.1:<port>`, as a load balancer's upstream.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Everything the node has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// A GET to `path` on this node.
    pub async fn get(&self, path: &str) -> crate::Reply {
        let response = awc::Client::new()
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .expect("GET");
        crate::raw::reply(response).await
    }

    /// The sum of a metric's samples (all label sets) in `GET /metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let body = awc::Client::new()
            .get(format!("{}/metrics", self.url()))
            .send()
            .await
            .expect("GET /metrics")
            .body()
            .await
            .expect("metrics body");
        let text = String::from_utf8_lossy(&body);
        text.lines()
            .filter(|line| line.starts_with(name) && line[name.len()..].starts_with([' ', '{']))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Open engine.io sessions, counted by the session actors themselves.
    pub async fn sessions(&self) -> f64 {
        self.metric("switchyard_engine_sessions").await
    }

    /// Waits until a metric reads `value`, and fails the test if it never does.
    pub async fn wait_for_metric(&self, name: &str, value: f64) {
        let reached = crate::eventually(Duration::from_secs(10), || async {
            (self.metric(name).await == value).then_some(())
        })
        .await;
        assert!(
            reached.is_some(),
            "{name} stayed at {} instead of {value}\n{}",
            self.metric(name).await,
            self.log()
        );
    }

    /// Waits until exactly `count` sessions are open: none leaked, none lost.
    pub async fn wait_for_sessions(&self, count: f64) {
        self.wait_for_metric("switchyard_engine_sessions", count)
            .await;
    }
}

impl NodeProcess {
    /// Stops the node with SIGTERM, as an orchestrator does, and waits for it
    /// to exit; returns its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.is_ok_and(|status| status.success()),
            "kill -TERM {pid}"
        );
        self.child.wait().expect("wait for the node")
    }
}

impl NodeProcess {
    /// The process id, for a client script that kills the node at a moment
    /// only the client can see.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Freezes the node with SIGSTOP: it keeps its sockets and connections
    /// but answers nothing, like a hung process, until it is killed.
    pub fn freeze(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-STOP", &pid]).status();
        assert!(
            sent.is_ok_and(|status| status.success()),
            "kill -STOP {pid}"
        );
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=value` in a log line (the value ends at a space).
/// The address in the node's "listening" line, text (`addr=...`) or JSON
/// (`"addr":"..."`).
fn listen_address(line: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(line) {
        return json["fields"]["addr"].as_str().map(str::to_owned);
    }
    let start = line.find("addr=")? + "addr=".len();
    let value = line[start..].split_whitespace().next()?;
    Some(value.to_owned())
}
