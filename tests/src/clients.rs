//! Running the third-party client scripts: npm clients in `tests/js/`,
//! python-socketio in `tests/py/`. Each prints one JSON line, its report.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use tokio::process::Command;

fn tests_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `node js/<script> <plan>` in `tests/` and returns its report. The
/// npm clients must be installed (`npm ci` in `tests/`; scripts/test does).
pub async fn run_js(script: &str, plan: &serde_json::Value) -> serde_json::Value {
    assert!(
        tests_dir().join("node_modules").exists(),
        "npm clients are missing: run `npm ci` in tests/ (scripts/test does)"
    );
    run("node".into(), &tests_dir().join("js").join(script), plan).await
}

/// Runs `py/<script> <plan>` with the test virtualenv's python (`tests/.venv`,
/// which scripts/test creates) and returns its report.
pub async fn run_py(script: &str, plan: &serde_json::Value) -> serde_json::Value {
    let python = tests_dir().join(".venv").join("bin").join("python");
    assert!(
        python.exists(),
        "python-socketio is missing: run scripts/test, which creates tests/.venv"
    );
    run(python, &tests_dir().join("py").join(script), plan).await
}

async fn run(program: PathBuf, script: &Path, plan: &serde_json::Value) -> serde_json::Value {
    let output = Command::new(&program)
        .arg(script)
        .arg(plan.to_string())
        .current_dir(tests_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = script.display();
    assert!(output.status.success(), "{name} failed: {stderr}\n{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{name} printed no report ({e}): {stdout}\n{stderr}"))
}

/// A client script that runs in phases: it prints a JSON line at the end of
/// each phase and waits for a line on its stdin before the next one, so a
/// test can break something in between (kill a node, stop NATS).
pub struct JsSession {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl JsSession {
    /// Starts `node js/<script> <plan>`.
    pub fn start(script: &str, plan: &serde_json::Value) -> Self {
        let mut child = Command::new("node")
            .arg(tests_dir().join("js").join(script))
            .arg(plan.to_string())
            .current_dir(tests_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let stdout = child.stdout.take().expect("stdout");
        Self {
            child,
            lines: tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout)),
        }
    }

    /// The report of the phase that is running (bounded to two minutes).
    pub async fn report(&mut self) -> serde_json::Value {
        let line =
            tokio::time::timeout(std::time::Duration::from_secs(120), self.lines.next_line())
                .await
                .expect("no report within two minutes")
                .expect("read the script's output")
                .expect("the script ended without a report");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a report ({e}): {line}"))
    }

    /// Starts `clients` echoing through `url` (cluster-failover.mjs) and
    /// checks that all of them work before a fault; the next phase has them
    /// echo again.
    pub async fn echoing(url: &str, clients: u64, transports: &[&str]) -> Self {
        let plan = serde_json::json!({ "url": url, "clients": clients, "transports": transports });
        let mut session = Self::start("cluster-failover.mjs", &plan);
        let before = session.report().await;
        assert_eq!(before["failures"], serde_json::json!([]), "{before}");
        session
    }

    /// Lets the script go on to its next phase.
    pub async fn next_phase(&mut self) {
        use tokio::io::AsyncWriteExt as _;
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(b"go\n").await.expect("write to the script");
        stdin.flush().await.expect("flush");
    }
}
