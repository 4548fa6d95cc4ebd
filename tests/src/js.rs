//! Running the third-party client scripts in `tests/js/`.

use std::{path::Path, process::Stdio};

use tokio::process::Command;

/// Runs `node js/<script> <plan>` in `tests/` and returns the JSON line it
/// prints last. The npm clients must be installed (`npm ci` in `tests/`,
/// which scripts/test does).
pub async fn run_js(script: &str, plan: &serde_json::Value) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        dir.join("node_modules").exists(),
        "npm clients are missing: run `npm ci` in tests/ (scripts/test does)"
    );
    let output = Command::new("node")
        .arg(dir.join("js").join(script))
        .arg(plan.to_string())
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed: {stderr}\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no report ({e}): {stdout}\n{stderr}"))
}
