//! PyPI `python-socketio` 5 against the echo app, over polling only,
//! WebSocket only, and the default (the upgrade).

use serde_json::{json, Value};
use switchyard_e2e::{run_py, NodeProcess};

fn bytes(values: &[u8]) -> Value {
    json!({ "bytes": values })
}

async fn basics(transports: &[&str], final_transport: &str) {
    let node = NodeProcess::start(&[]);
    let plan = json!({ "url": node.url(), "transports": transports });
    let r = run_py("socketio_client.py", &plan).await;
    assert_eq!(r.get("error"), None, "{r}\n{}", node.log());
    let auth = json!({ "token": "py", "list": [1, 2.5] });
    assert_eq!(r["auth"], json!({ "/": auth, "/custom": auth }));
    let args = json!([1, "two", { "b": { "c": [3, null, true] }, "a": -0.5 }, [], "ünïcødé ✓"]);
    assert_eq!(r["messageBack"], args);
    assert_eq!(r["messageAck"], args);
    assert_eq!(r["customEcho"], json!(["custom"]));
    let binary =
        json!({ "file": bytes(&[1, 2, 3, 255]), "parts": [bytes(&[]), { "deep": bytes(&[9]) }] });
    assert_eq!(r["binaryBack"], json!(["label", binary, bytes(&[7, 7])]));
    assert_eq!(r["binaryAck"], json!([binary]));
    assert_eq!(
        r["serverAck"],
        json!([{ "ok": true, "args": ["q", { "n": 1 }, "answered", bytes(&[4, 2])] }])
    );
    assert_eq!(r["roomEvent"], json!([{ "x": 1 }]));
    assert_eq!(r["transport"], final_transport);
    assert_eq!(r["invalid"], json!({ "message": "Invalid namespace" }));
    assert_eq!(
        r["rejected"],
        json!({ "message": "rejected by middleware", "data": { "code": 7 } })
    );
}

#[actix_rt::test]
async fn python_over_polling() {
    basics(&["polling"], "polling").await;
}

#[actix_rt::test]
async fn python_over_websocket() {
    basics(&["websocket"], "websocket").await;
}

#[actix_rt::test]
async fn python_with_the_upgrade() {
    basics(&["polling", "websocket"], "websocket").await;
}
