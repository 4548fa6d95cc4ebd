//! npm `engine.io-client` against the `/engine.io/` echo of a real node:
//! polling alone, WebSocket alone, and the default polling → WebSocket upgrade.

use serde_json::{json, Value};
use switchyard_e2e::{run_js, NodeProcess};

/// Short heartbeats, so that every test sees several ping cycles.
const FAST_PINGS: &[(&str, &str)] = &[
    ("SWITCHYARD_PING_INTERVAL_MS", "300"),
    ("SWITCHYARD_PING_TIMEOUT_MS", "200"),
];

fn texts() -> Vec<String> {
    (0..6).map(|i| format!("text {i} ✓ \u{1F680}")).collect()
}

fn binaries() -> Vec<Vec<u8>> {
    vec![
        vec![0, 1, 2, 255],
        vec![],
        (0..=255).collect(),
        vec![0x1e, b'b', b'4'],
    ]
}

/// What the script receives back: the even-indexed items (sent at open),
/// then the odd ones (sent after the upgrade), each in order.
fn expected<T: Clone>(items: &[T]) -> Vec<T> {
    let evens = items.iter().step_by(2);
    let odds = items.iter().skip(1).step_by(2);
    evens.chain(odds).cloned().collect()
}

async fn exchange(
    node: &NodeProcess,
    transports: &[&str],
    expect_upgrade: bool,
    pings: u32,
) -> Value {
    let plan = json!({
        "url": node.url(),
        "path": "/engine.io/",
        "transports": transports,
        "texts": texts(),
        "binaries": binaries(),
        "pings": pings,
        "expectUpgrade": expect_upgrade,
        "timeoutMs": 15000,
    });
    let report = run_js("engine-client.mjs", &plan).await;
    assert_eq!(report["timedOut"], false, "{report}\n{}", node.log());
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(report["closeReason"], Value::Null, "{report}");
    assert_eq!(report["texts"], json!(expected(&texts())), "{report}");
    assert_eq!(report["binaries"], json!(expected(&binaries())), "{report}");
    assert!(
        report["sid"].as_str().is_some_and(|sid| !sid.is_empty()),
        "{report}"
    );
    report
}

#[actix_rt::test]
async fn polling_only_echoes_text_and_binary() {
    let node = NodeProcess::start(FAST_PINGS);
    let report = exchange(&node, &["polling"], false, 0).await;
    assert_eq!(report["openTransport"], "polling");
    assert_eq!(report["finalTransport"], "polling");
    assert_eq!(report["upgraded"], false);
}

#[actix_rt::test]
async fn websocket_only_echoes_text_and_binary() {
    let node = NodeProcess::start(FAST_PINGS);
    let report = exchange(&node, &["websocket"], false, 0).await;
    assert_eq!(report["openTransport"], "websocket");
    assert_eq!(report["finalTransport"], "websocket");
}

#[actix_rt::test]
async fn default_transports_upgrade_to_websocket_without_losing_messages() {
    let node = NodeProcess::start(FAST_PINGS);
    let report = exchange(&node, &["polling", "websocket"], true, 0).await;
    assert_eq!(report["openTransport"], "polling");
    assert_eq!(report["upgraded"], true);
    assert_eq!(report["finalTransport"], "websocket");
}

#[actix_rt::test]
async fn sessions_survive_many_ping_cycles_on_every_transport() {
    let node = NodeProcess::start(FAST_PINGS);
    // 300 ms + 200 ms: six pings answered means the session lived through
    // six deadlines without being closed.
    for (transports, upgrade) in [
        (&["polling"][..], false),
        (&["websocket"][..], false),
        (&["polling", "websocket"][..], true),
    ] {
        let report = exchange(&node, transports, upgrade, 6).await;
        assert!(report["pings"].as_u64().unwrap_or(0) >= 6, "{report}");
    }
}
