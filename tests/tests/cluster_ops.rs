//! Cluster-wide server operations across three nodes on real NATS, driven
//! by socket.io-client through the echo app: fetch-sockets, sockets-join,
//! sockets-leave, disconnect-sockets, broadcasts with acks (all arriving,
//! and a partial set at the timeout) and server-side events; and an
//! operation that stays correct when a node hangs and is killed during it.

use serde_json::{json, Value};
use switchyard_e2e::{run_js, ClusterFixture, JsSession};

fn node_urls(cluster: &ClusterFixture) -> Vec<String> {
    (0..3).map(|i| cluster.node(i).url()).collect()
}

/// The sorted ids of the clients that `keep` selects from the report.
fn client_ids(report: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = report["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .filter(|client| keep(client))
        .map(|client| client["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted_strings(value: &Value) -> Vec<String> {
    let mut list: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|item| match item {
            Value::String(text) => text.clone(),
            Value::Array(args) => args[0].as_str().expect("string").to_owned(),
            other => panic!("unexpected {other}"),
        })
        .collect();
    list.sort();
    list
}

#[actix_rt::test]
async fn every_operation_reaches_the_sockets_of_every_node() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let report = run_js(
        "cluster-ops.mjs",
        &json!({ "nodes": node_urls(&cluster), "mode": "ops" }),
    )
    .await;
    let logs = || cluster.logs();
    let firsts = client_ids(&report, |c| c["index"] == 0);
    let seconds = client_ids(&report, |c| c["index"] == 1);
    let everyone = client_ids(&report, |_| true);
    assert_eq!(firsts.len(), 3, "{report}");

    // fetch-sockets: the red members of all three nodes, with their data
    // and rooms; then every socket but the caller.
    let red = report["red"].as_array().expect("red");
    let mut red_ids: Vec<String> = red
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    red_ids.sort();
    assert_eq!(red_ids, firsts, "{report}\n{}", logs());
    for socket in red {
        let id = socket["id"].as_str().expect("id");
        let client = report["clients"]
            .as_array()
            .and_then(|list| list.iter().find(|c| c["id"] == id))
            .expect("a known client");
        assert_eq!(
            socket["data"],
            json!({ "node": client["node"], "index": 0 })
        );
        let rooms = sorted_strings(&socket["rooms"]);
        let mut expected = vec![id.to_owned(), "bench".to_owned(), "red".to_owned()];
        expected.sort();
        assert_eq!(rooms, expected);
    }
    let mut all: Vec<String> = report["all"]
        .as_array()
        .expect("all")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    all.sort();
    assert_eq!(all, everyone, "{report}");

    // sockets-join / sockets-leave, checked with fetches.
    assert_eq!(report["join"], json!({ "ok": true }));
    assert_eq!(sorted_strings(&report["blue"]), firsts);
    assert_eq!(report["leave"], json!({ "ok": true }));
    assert_eq!(report["redAfterLeave"], json!([]));

    // Broadcast acks: every blue member on every node answered.
    assert_eq!(report["acks"]["ok"], true, "{report}\n{}", logs());
    assert_eq!(sorted_strings(&report["acks"]["answers"]), firsts);
    for answer in report["acks"]["answers"].as_array().expect("answers") {
        assert_eq!(answer[1], "q1", "{answer}");
    }
    // Only the first client of each node answers `question-some`: a partial
    // set, after the timeout; everyone but the caller was asked once per
    // broadcast they were a target of.
    let partial = &report["partial"];
    assert_eq!(partial["result"]["ok"], false, "{partial}");
    assert_eq!(sorted_strings(&partial["result"]["answers"]), firsts);
    assert!(partial["ms"].as_u64().expect("ms") >= 1400, "{partial}");
    let asked: Vec<u64> = report["asked"]
        .as_array()
        .expect("asked")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let expected_asked: Vec<u64> = report["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| if c["index"] == 0 { 2 } else { 1 })
        .collect();
    assert_eq!(asked, expected_asked);

    // Server-side events reach the other nodes only, one answer each.
    assert_eq!(report["serverSide"]["ok"], true, "{report}");
    assert_eq!(
        sorted_strings(&report["serverSide"]["answers"]),
        ["node1", "node2"]
    );

    // disconnect-sockets: the namespace only, then the whole connection.
    assert_eq!(report["disconnect"], json!({ "ok": true }));
    assert_eq!(
        report["blueReasons"],
        json!(["io server disconnect"; 3].to_vec())
    );
    assert_eq!(sorted_strings(&report["afterDisconnect"]), seconds);
    assert_eq!(report["close"], json!({ "ok": true }));
    assert_eq!(
        report["closeReasons"],
        json!(["transport close"; 3].to_vec())
    );
    assert_eq!(report["left"], json!([report["caller"]]));
    assert_eq!(report["callerConnected"], true);
}

#[actix_rt::test]
async fn operations_finish_early_when_a_node_is_killed_during_the_request() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    let mut script = JsSession::start(
        "cluster-ops.mjs",
        &json!({ "nodes": node_urls(&cluster), "mode": "frozen" }),
    );
    let ids = script.report().await;
    let survivors: Vec<String> = {
        let mut list: Vec<String> = ids["ids"].as_array().expect("ids")[..2]
            .iter()
            .map(|id| id.as_str().expect("id").to_owned())
            .collect();
        list.sort();
        list
    };
    // Node 2 hangs: still a member until it misses its heartbeats (1 s).
    cluster.freeze(2);
    script.next_phase().await;
    assert_eq!(script.report().await, json!({ "sent": true }));
    cluster.kill(2);
    script.next_phase().await;
    let report = script.report().await;
    let logs = cluster.logs();

    // Each completes (no timeout) with the survivors' answers: membership
    // dropped the killed node, so nobody waited for it.
    eprintln!(
        "ms: fetch {}, acks {}, server-side {}, join {}, leave {}, disconnect {}",
        report["fetch"]["ms"],
        report["acks"]["ms"],
        report["serverSide"]["ms"],
        report["join"]["ms"],
        report["leave"]["ms"],
        report["disconnect"]["ms"]
    );
    let fetch = &report["fetch"]["result"];
    assert_eq!(fetch[1], true, "fetch incomplete: {report}\n{logs}");
    let fetched: Vec<String> = {
        let mut list: Vec<String> = fetch[0]
            .as_array()
            .expect("sockets")
            .iter()
            .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        list.sort();
        list
    };
    assert_eq!(fetched, survivors, "{report}\n{logs}");
    let acks = &report["acks"]["result"];
    assert_eq!(acks["ok"], true, "{report}\n{logs}");
    assert_eq!(sorted_strings(&acks["answers"]), survivors);
    let server_side = &report["serverSide"]["result"];
    assert_eq!(server_side["ok"], true, "{report}\n{logs}");
    assert_eq!(sorted_strings(&server_side["answers"]), ["node1"]);
    for op in ["join", "leave", "disconnect"] {
        assert_eq!(
            report[op]["result"],
            json!({ "ok": true }),
            "{op}: {report}\n{logs}"
        );
    }
    // And they did what they said, on the survivors.
    assert_eq!(report["joined"], json!(survivors), "{report}");
    assert_eq!(report["inBench"], json!([report["caller"]]), "{report}");
    assert_eq!(report["doomedReason"], "io server disconnect", "{report}");
}
