//! The bridge app: two nodes behind nginx round-robin, npm socket.io-client
//! clients, and a back-end played by the test over a real NATS (or, for the
//! README's examples, the README's own Python back-end and curl calls).

use std::time::Duration;

use async_nats::Client;
use futures_util::StreamExt as _;
use serde_json::{json, Value};
use switchyard_e2e::{repo, run_js, scratch::ScratchDir, ClusterFixture};
use tokio::{
    io::{AsyncBufReadExt as _, BufReader},
    process::Command,
    sync::mpsc,
};

const TOKEN: &str = "s3cret-token";
/// How long a back-end message may take to show up in a test.
const WAIT: Duration = Duration::from_secs(10);

async fn bridge_cluster(settings: &[(&str, &str)]) -> ClusterFixture {
    let mut all = vec![("SWITCHYARD_APP", "bridge")];
    all.extend_from_slice(settings);
    ClusterFixture::start(2, &all).await
}

async fn backend(cluster: &ClusterFixture) -> Client {
    async_nats::connect(cluster.nats.url())
        .await
        .expect("the back-end connects to NATS")
}

/// Every message on `subject`, as JSON, with its reply subject; the
/// subscription is in place on the server when this returns.
async fn listen(nats: &Client, subject: &str) -> mpsc::UnboundedReceiver<(Value, Option<String>)> {
    let mut subscriber = nats.subscribe(subject.to_owned()).await.expect("subscribe");
    nats.flush().await.expect("flush");
    let (sender, receiver) = mpsc::unbounded_channel();
    actix_rt::spawn(async move {
        while let Some(message) = subscriber.next().await {
            let body = serde_json::from_slice(&message.payload).unwrap_or(Value::Null);
            let reply = message.reply.map(|reply| reply.to_string());
            if sender.send((body, reply)).is_err() {
                return;
            }
        }
    });
    receiver
}

async fn next(
    inbox: &mut mpsc::UnboundedReceiver<(Value, Option<String>)>,
) -> (Value, Option<String>) {
    tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("a message in time")
        .expect("the subscription lives")
}

async fn respond(nats: &Client, reply: Option<String>, body: Value) {
    let reply = reply.expect("a request has a reply subject");
    nats.publish(reply, body.to_string().into())
        .await
        .expect("reply");
}

async fn request(nats: &Client, subject: &str, body: Value) -> Value {
    let reply = nats
        .request(subject.to_owned(), body.to_string().into())
        .await
        .expect("the API answers");
    serde_json::from_slice(&reply.payload).expect("JSON answer")
}

#[actix_rt::test]
async fn client_events_reach_the_back_end_and_its_replies_become_acks() {
    let cluster = bridge_cluster(&[
        ("SWITCHYARD_BRIDGE__ACK_TIMEOUT_MS", "500"),
        ("SWITCHYARD_BRIDGE__HEADERS", "host"),
    ])
    .await;
    let nats = backend(&cluster).await;
    let mut events = listen(&nats, "switchyard.events.~2f.>").await;
    let mut gone = listen(&nats, "switchyard.disconnects.~2f").await;
    // The back-end answers `ask` and ignores everything else.
    let answering = nats.clone();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    actix_rt::spawn(async move {
        while let Some((body, reply)) = events.recv().await {
            if body["event"] == "ask" {
                respond(&answering, reply, json!(["answered", body["args"]])).await;
            }
            let _ = seen_tx.send(body);
        }
    });

    let plan = json!({ "url": cluster.url(), "scenario": "events" });
    let report = run_js("bridge-clients.mjs", &plan).await;
    assert_eq!(report.get("error"), None, "{report}\n{}", cluster.logs());
    assert_eq!(report["answer"], json!(["answered", ["q", 7]]), "{report}");
    assert_ne!(report["slow"], "acked", "no reply means no ack: {report}");

    let mut by_event = std::collections::BTreeMap::new();
    while by_event.len() < 3 {
        let body = tokio::time::timeout(WAIT, seen.recv())
            .await
            .expect("events")
            .expect("open");
        by_event.insert(body["event"].as_str().unwrap_or_default().to_owned(), body);
    }
    let note = &by_event["note"];
    assert_eq!(note["nsp"], "/");
    assert_eq!(note["socket_id"], report["socketId"]);
    assert_eq!(
        note["args"],
        json!(["hi", { "n": 1 }, { "_placeholder": true, "num": 0 }])
    );
    assert_eq!(note["attachments"], json!(["AQID"]), "base64 of [1, 2, 3]");
    assert_eq!(note["handshake"]["auth"], json!({ "user": "ada" }));
    let headers: Vec<&String> = note["handshake"]["headers"]
        .as_object()
        .expect("headers")
        .keys()
        .collect();
    assert_eq!(headers, ["host"], "only the allowed headers: {note}");
    assert!(
        ["node0", "node1"].contains(&note["node"].as_str().unwrap_or_default()),
        "{note}"
    );
    assert_eq!(by_event["slow"]["args"], json!(["nobody answers"]));

    let (left, _) = next(&mut gone).await;
    assert_eq!(left["socket_id"], report["socketId"], "{left}");
    assert_eq!(left["reason"], "client namespace disconnect", "{left}");
    let timeouts = cluster
        .metric_sum(r#"switchyard_bridge_messages_total{kind="event",outcome="timeout"}"#)
        .await;
    assert_eq!(timeouts, 1.0, "the unanswered `slow` is counted");
}

#[actix_rt::test]
async fn the_connect_hook_accepts_with_data_and_rooms_and_refuses_with_data() {
    let cluster = bridge_cluster(&[
        ("SWITCHYARD_BRIDGE__AUTH", "true"),
        ("SWITCHYARD_BRIDGE__AUTH_TIMEOUT_MS", "1000"),
        ("SWITCHYARD_API__TOKEN", TOKEN),
    ])
    .await;
    // No back-end yet: refused, as `auth_no_responder = "reject"` says.
    let plan =
        json!({ "url": cluster.url(), "scenario": "auth", "phase": "unanswered", "token": TOKEN });
    let report = run_js("bridge-clients.mjs", &plan).await;
    assert_eq!(
        report["unanswered"]["message"], "the authentication service is unavailable",
        "{report}"
    );

    let nats = backend(&cluster).await;
    let mut asks = listen(&nats, "switchyard.auth.~2f").await;
    let deciding = nats.clone();
    let (asked_tx, mut asked) = mpsc::unbounded_channel();
    actix_rt::spawn(async move {
        while let Some((body, reply)) = asks.recv().await {
            let decision = if body["handshake"]["auth"]["token"] == "good" {
                json!({ "ok": true, "data": { "user": "ada" }, "rooms": ["vip"] })
            } else {
                json!({ "ok": false, "message": "bad token", "data": { "code": 7 } })
            };
            respond(&deciding, reply, decision).await;
            let _ = asked_tx.send(body);
        }
    });
    let plan = json!({ "url": cluster.url(), "scenario": "auth", "token": TOKEN });
    let report = run_js("bridge-clients.mjs", &plan).await;
    assert_eq!(report.get("error"), None, "{report}\n{}", cluster.logs());
    assert_eq!(
        report["refused"],
        json!({ "message": "bad token", "data": { "code": 7 } })
    );
    let sockets = report["fetched"]["sockets"].as_array().expect("sockets");
    assert_eq!(sockets.len(), 1, "{report}");
    assert_eq!(sockets[0]["id"], report["socketId"]);
    assert_eq!(sockets[0]["data"], json!({ "user": "ada" }));
    assert!(sockets[0]["rooms"]
        .as_array()
        .expect("rooms")
        .contains(&json!("vip")));
    assert_eq!(report["emitted"], json!({ "ok": true }));
    assert_eq!(report["welcome"], json!(["to the vip room"]));

    let first = tokio::time::timeout(WAIT, asked.recv())
        .await
        .expect("asked")
        .expect("open");
    assert_eq!(first["nsp"], "/");
    assert!(first["node"].is_string(), "{first}");
}

#[actix_rt::test]
async fn the_api_acts_on_clients_of_both_nodes() {
    let cluster = bridge_cluster(&[("SWITCHYARD_API__TOKEN", TOKEN)]).await;
    let nats = backend(&cluster).await;
    // Over NATS: served by one node of the two, answered once.
    let empty = request(&nats, "switchyard.api.fetch", json!({})).await;
    assert_eq!(
        empty,
        json!({ "ok": true, "complete": true, "sockets": [] })
    );
    let bad = request(&nats, "switchyard.api.emit", json!({ "event": "" })).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert!(
        bad["error"].as_str().unwrap_or_default().contains("event"),
        "{bad}"
    );

    let plan = json!({ "url": cluster.url(), "scenario": "api", "token": TOKEN });
    let report = run_js("bridge-clients.mjs", &plan).await;
    assert_eq!(report.get("error"), None, "{report}\n{}", cluster.logs());
    assert_eq!(report["noToken"], 401);
    assert_eq!(report["wrongToken"], 401);
    assert_eq!(report["unknownOp"], 404);
    assert_eq!(report["badBody"]["status"], 400, "{report}");
    assert_ne!(
        report["nodes"][0], report["nodes"][1],
        "clients on both nodes"
    );

    let clients = report["clients"].as_u64().expect("count") as usize;
    assert_eq!(report["emit"], json!({ "ok": true }));
    assert_eq!(
        report["news"],
        json!(vec![json!(["for all", { "n": 1 }]); clients])
    );
    assert_eq!(report["join"], json!({ "ok": true, "complete": true }));
    let team: Vec<&Value> = report["fetchTeam"]["sockets"]
        .as_array()
        .expect("team")
        .iter()
        .collect();
    assert_eq!(team.len(), 2, "{report}");
    assert_eq!(report["teamNews"], json!([[1], [1]]));
    assert_eq!(report["leave"], json!({ "ok": true, "complete": true }));
    assert_eq!(report["afterLeave"], json!([2]));
    assert_eq!(report["aHeardAfterLeave"], false);

    assert_eq!(report["acks"]["complete"], true, "{report}");
    let acks = report["acks"]["acks"].as_array().expect("acks");
    assert_eq!(acks.len(), clients, "one ack per client: {report}");
    assert!(acks.iter().all(|ack| ack[1] == 42), "{report}");

    assert_eq!(
        report["disconnect"],
        json!({ "ok": true, "complete": true })
    );
    assert_eq!(report["disconnectReason"], "io server disconnect");
    let left = report["fetchAfter"]["sockets"]
        .as_array()
        .expect("sockets")
        .len();
    assert_eq!(left, clients - 1, "{report}");
}

#[actix_rt::test]
async fn the_readme_back_end_and_api_examples_run_as_written() {
    let cluster = bridge_cluster(&[
        ("SWITCHYARD_BRIDGE__AUTH", "true"),
        ("SWITCHYARD_API__TOKEN", TOKEN),
    ])
    .await;
    let dir = ScratchDir::new("backend");
    let script = dir.path().join("backend.py");
    std::fs::write(&script, repo::readme_example("backend.py")).expect("write backend.py");
    let python = repo::root().join("tests/.venv/bin/python");
    let mut backend = Command::new(&python)
        .arg(&script)
        .env("NATS_URL", cluster.nats.url())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run the README's back-end (scripts/test installs nats-py in tests/.venv)");
    let mut lines = BufReader::new(backend.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("ready in time");
    assert_eq!(first.ok().flatten().as_deref(), Some("chat back-end ready"));

    let plan = json!({ "url": cluster.url(), "scenario": "chat" });
    let report = run_js("bridge-clients.mjs", &plan).await;
    assert_eq!(report.get("error"), None, "{report}\n{}", cluster.logs());
    assert_eq!(
        report["nameless"],
        json!({ "message": "a name is required", "data": { "field": "name" } })
    );
    let both = json!([
        { "name": "ada", "text": "hello from ada" },
        { "name": "bob", "text": "hello from bob" },
    ]);
    assert_eq!(report["adaAck"], true);
    assert_eq!(report["ada"], both, "{report}");
    assert_eq!(report["bob"], both, "{report}");
    for _ in 0..2 {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("a leave in time");
        let line = line.ok().flatten().unwrap_or_default();
        assert!(
            line.ends_with("left: client namespace disconnect"),
            "{line}"
        );
    }

    let shell = dir.path().join("api.sh");
    std::fs::write(&shell, repo::readme_example("api.sh")).expect("write api.sh");
    let output = Command::new("bash")
        .arg(&shell)
        .env("SWITCHYARD_URL", cluster.url())
        .env("SWITCHYARD_API_TOKEN", TOKEN)
        .output()
        .await
        .expect("run the README's curl example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    assert_eq!(answers.len(), 2, "{stdout}");
    assert_eq!(answers[0], json!({ "ok": true }));
    assert_eq!(
        answers[1],
        json!({ "ok": true, "complete": true, "sockets": [] })
    );
}
