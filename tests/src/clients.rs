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
