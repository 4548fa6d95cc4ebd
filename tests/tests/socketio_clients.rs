//! npm `socket.io-client` 4.8 against the echo app, over polling only,
//! WebSocket only, and the default (polling, then the upgrade).

use serde_json::{json, Value};
use switchyard_e2e::{run_js, NodeProcess};

const POLLING: &[&str] = &["polling"];
const WEBSOCKET: &[&str] = &["websocket"];
const DEFAULT: &[&str] = &["polling", "websocket"];

async fn scenario(node: &NodeProcess, transports: &[&str], scenario: &str) -> Value {
    let plan = json!({ "url": node.url(), "transports": transports, "scenario": scenario });
    let report = run_js("socketio-client.mjs", &plan).await;
    assert_eq!(report.get("error"), None, "{report}\n{}", node.log());
    report
}

fn buffer(bytes: &[u8]) -> Value {
    json!({ "buffer": bytes })
}

async fn basics(transports: &[&str], final_transport: &str) {
    let node = NodeProcess::start(&[]);
    let r = scenario(&node, transports, "basics").await;
    assert_eq!(
        r["auth"],
        json!({ "token": "abc", "n": 1, "nested": { "list": [1, 2.5, "x"] } })
    );
    assert_eq!(r["customAuth"], json!({ "x": [1, 2] }));
    assert_eq!(r["emptyAuth"], json!({}));
    assert_eq!(r["socketIdDiffersFromEngine"], true);
    let args = json!([1, "two", { "b": { "c": [3, null, true] }, "a": -0.5 }, [], "ünïcødé ✓"]);
    assert_eq!(r["messageBack"], args);
    assert_eq!(r["messageAck"], args);
    assert_eq!(r["echoAck"], json!(["only this"]));
    let binary = json!({ "file": buffer(&[1, 2, 3, 255]), "parts": [buffer(&[]), { "deep": buffer(&[9]) }] });
    assert_eq!(r["binaryBack"], json!(["label", binary, buffer(&[7, 7])]));
    assert_eq!(r["binaryAck"], json!([binary]));
    assert_eq!(
        r["serverAck"],
        json!([{ "ok": true, "args": ["q", { "n": 1 }, "answered", buffer(&[4, 2])] }])
    );
    assert_eq!(
        r["serverAckTimeout"],
        json!([{ "ok": false, "error": "ack timed out" }])
    );
    assert_eq!(r["transport"], final_transport);
}

async fn rooms(transports: &[&str]) {
    let node = NodeProcess::start(&[]);
    let r = scenario(&node, transports, "rooms").await;
    let marker = |step: &str| json!(["marker", step]);
    let hello = json!(["hello", 1, { "k": "v" }]);
    let bin = json!(["bin", buffer(&[5, 6])]);
    // a: r1. b: r1 and r2, then leaves r1. c: r2.
    let a = json!([
        hello,
        marker("one room"),
        ["multi", 2],
        marker("two rooms"),
        ["except", 3],
        marker("except"),
        ["after-leave", 4],
        marker("after leave"),
        marker("binary"),
    ]);
    let b = json!([
        hello,
        marker("one room"),
        ["multi", 2],
        marker("two rooms"),
        marker("except"),
        marker("after leave"),
        bin,
        marker("binary"),
    ]);
    let c = json!([
        marker("one room"),
        ["multi", 2],
        marker("two rooms"),
        marker("except"),
        marker("after leave"),
        bin,
        marker("binary"),
    ]);
    assert_eq!(r["received"]["a"], a, "{r}");
    assert_eq!(r["received"]["b"], b, "{r}");
    assert_eq!(r["received"]["c"], c, "{r}");
}

async fn namespaces(transports: &[&str]) {
    let node = NodeProcess::start(&[]);
    let r = scenario(&node, transports, "namespaces").await;
    assert_eq!(
        r["invalid"],
        json!({ "message": "Invalid namespace", "data": null })
    );
    assert_eq!(
        r["rejected"],
        json!({ "message": "rejected by middleware", "data": { "code": 42, "why": ["no"] } })
    );
    assert_eq!(r["sharedEngine"], true);
    assert_eq!(r["customDisconnect"], "io client disconnect");
    assert_eq!(r["rootStillWorks"], json!(["alive"]));
    assert_eq!(
        r["sameEngine"], true,
        "the engine connection outlives a namespace"
    );
    assert_eq!(r["rejoined"], json!(["back"]));
    assert_eq!(r["rejoinedSameEngine"], true);
}

#[actix_rt::test]
async fn basics_over_polling() {
    basics(POLLING, "polling").await;
}

#[actix_rt::test]
async fn basics_over_websocket() {
    basics(WEBSOCKET, "websocket").await;
}

#[actix_rt::test]
async fn basics_with_the_upgrade() {
    basics(DEFAULT, "websocket").await;
}

#[actix_rt::test]
async fn rooms_over_polling() {
    rooms(POLLING).await;
}

#[actix_rt::test]
async fn rooms_over_websocket() {
    rooms(WEBSOCKET).await;
}

#[actix_rt::test]
async fn rooms_with_the_upgrade() {
    rooms(DEFAULT).await;
}

#[actix_rt::test]
async fn namespaces_over_polling() {
    namespaces(POLLING).await;
}

#[actix_rt::test]
async fn namespaces_over_websocket() {
    namespaces(WEBSOCKET).await;
}

#[actix_rt::test]
async fn namespaces_with_the_upgrade() {
    namespaces(DEFAULT).await;
}
