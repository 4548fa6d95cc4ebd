//! The WebSocket upgrade across nodes: behind plain round-robin nginx the
//! upgrade usually lands on a node that does not own the session, and the
//! session moves there.

use serde_json::json;
use switchyard_e2e::{run_js, run_py, ClusterFixture};

#[actix_rt::test]
async fn fifty_default_clients_all_end_on_websocket() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let plan = json!({
        "url": cluster.url(), "clients": 50, "rounds": 4, "rooms": 5,
        "transports": ["polling", "websocket"], "awaitUpgrade": true,
    });
    let report = run_js("cluster-load.mjs", &plan).await;
    cluster.assert_clean_load(&report, 50);
    assert_eq!(report["transports"], json!({ "websocket": 50 }), "{report}");

    // Round-robin sends about two upgrades in three to a node that does not
    // own the session: those sessions moved, and none failed to.
    let moved = cluster
        .metric_sum(r#"switchyard_handovers_total{outcome="ok"}"#)
        .await;
    let all = cluster.metric_sum("switchyard_handovers_total").await;
    eprintln!("{moved} of 50 sessions moved to the node of their WebSocket");
    assert_eq!(all, moved, "failed handovers\n{}", cluster.logs());
    assert!((20.0..50.0).contains(&moved), "{moved} handovers");
    // Every session is counted once, on the node it lives on.
    assert_eq!(cluster.metric_sum("switchyard_engine_sessions").await, 0.0);
}

#[actix_rt::test]
async fn broadcasts_reach_moving_sessions_exactly_once_in_order() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let nodes: Vec<String> = (0..3).map(|i| cluster.node(i).url()).collect();
    let plan = json!({
        "url": cluster.url(), "nodes": nodes, "clients": 100, "waves": 10,
        "waveGapMs": 150, "ratePerSec": 50, "tailMs": 1000,
    });
    let report = run_js("cluster-handover-load.mjs", &plan).await;
    assert_eq!(report["errors"], json!([]), "{report}\n{}", cluster.logs());
    assert_eq!(report["members"], 100, "{report}");
    assert_eq!(
        report["transports"],
        json!({ "websocket": 100 }),
        "{report}"
    );
    // The 100 clients and the three anchors (one of them the sender).
    assert_eq!(report["fetched"], 103, "{report}");
    let moved = cluster
        .metric_sum(r#"switchyard_handovers_total{outcome="ok"}"#)
        .await;
    let all = cluster.metric_sum("switchyard_handovers_total").await;
    let held = cluster
        .metric_sum("switchyard_handover_held_items_total")
        .await;
    eprintln!(
        "{moved} sessions moved while {} broadcasts flowed; {held} items held during moves",
        report["sent"]
    );
    assert_eq!(all, moved, "failed handovers\n{}", cluster.logs());
    assert!(moved >= 40.0, "{moved} handovers");
    // Broadcasts did arrive at old nodes mid-move (about one move in two
    // sees one at 50/s), so the exactly-once check above covered them.
    assert!(held > 0.0, "no broadcast reached a session while it moved");
}

/// Cuts a move short by killing node `killed` (0, the owner, or 1, the
/// taker) once the client's probe is answered, and checks that the client
/// reconnects, bystanders on the surviving nodes see nothing, and no
/// session is left half-way on the survivors.
async fn interrupted_by_kill(kill: &str, killed: usize) {
    // Short heartbeats: a client stuck mid-upgrade notices within seconds.
    let mut cluster = ClusterFixture::start(
        3,
        &[
            ("SWITCHYARD_PING_INTERVAL_MS", "1000"),
            ("SWITCHYARD_PING_TIMEOUT_MS", "1000"),
            ("SWITCHYARD_UPGRADE_TIMEOUT_MS", "3000"),
        ],
    )
    .await;
    let survivor = 1 - killed;
    let (owner, taker) = (cluster.node(0), cluster.node(1));
    let (host, port) = taker.addr().split_once(':').expect("host:port");
    let plan = json!({
        "lb": cluster.url(),
        "owner": { "url": owner.url(), "pid": owner.pid() },
        "taker": { "host": host, "port": port.parse::<u16>().expect("port"), "pid": taker.pid() },
        "kill": kill,
        "bystanders": [cluster.node(survivor).url(), cluster.node(2).url()],
    });
    let report = run_js("cluster-handover-kill.mjs", &plan).await;
    cluster.kill(killed);
    assert_eq!(report.get("timedOut"), None, "{report}\n{}", cluster.logs());
    assert_eq!(report["killed"], true, "{report}");
    assert!(
        report["firstSid"]
            .as_str()
            .is_some_and(|sid| sid.starts_with("node0-")),
        "{report}"
    );
    assert_ne!(report["secondSid"], report["firstSid"], "{report}");
    assert_eq!(report["recovered"], true, "{report}");
    assert_eq!(report["bystanderDisconnects"], json!([]), "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["bystandersHeard"], json!([[1], [1]]), "{report}");
    eprintln!(
        "{kill} killed: the client closed with {}",
        report["closeReason"]
    );
    if killed == 0 {
        // The new node counted the failed move.
        let taker = cluster.node(1);
        let all = taker.metric("switchyard_handovers_total").await;
        let ok = taker
            .metric(r#"switchyard_handovers_total{outcome="ok"}"#)
            .await;
        assert!(all - ok >= 1.0, "{all} handovers, {ok} ok");
    }
    // Nothing stays half-way: every session on the survivors ends once its
    // client has gone, including the ones that were moving.
    for index in [survivor, 2] {
        let node = cluster.node(index);
        node.wait_for_metric("switchyard_handovers_in_progress", 0.0)
            .await;
        node.wait_for_sessions(0.0).await;
    }
}

#[actix_rt::test]
async fn a_move_cut_short_by_killing_the_old_node() {
    interrupted_by_kill("owner", 0).await;
}

#[actix_rt::test]
async fn a_move_cut_short_by_killing_the_new_node() {
    interrupted_by_kill("taker", 1).await;
}

#[actix_rt::test]
async fn python_clients_with_default_transports_end_on_websocket() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let plan = json!({ "url": cluster.url(), "clients": 20, "rooms": 3 });
    let report = run_py("cluster_clients.py", &plan).await;
    assert_eq!(report["errors"], json!([]), "{report}\n{}", cluster.logs());
    assert_eq!(report["connected"], 20, "{report}");
    assert_eq!(report["transports"], json!({ "websocket": 20 }), "{report}");
    let moved = cluster
        .metric_sum(r#"switchyard_handovers_total{outcome="ok"}"#)
        .await;
    let all = cluster.metric_sum("switchyard_handovers_total").await;
    assert_eq!(all, moved, "failed handovers\n{}", cluster.logs());
    assert!(moved >= 5.0, "{moved} handovers");
}

#[actix_rt::test]
async fn acks_pending_across_a_move_are_answered() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let taker = cluster.node(1);
    let (host, port) = taker.addr().split_once(':').expect("host:port");
    let plan = json!({
        "owner": cluster.node(0).url(),
        "taker": { "host": host, "port": port.parse::<u16>().expect("port") },
    });
    let report = run_js("cluster-handover-acks.mjs", &plan).await;
    assert_eq!(report.get("timedOut"), None, "{report}\n{}", cluster.logs());
    assert_eq!(report.get("disconnect"), None, "{report}");
    assert!(
        report["sid"]
            .as_str()
            .is_some_and(|sid| sid.starts_with("node0-")),
        "{report}"
    );
    // The server asked over polling on node0; the session then moved to node1.
    assert_eq!(report["askTransport"], "polling", "{report}");
    assert_eq!(report["transport"], "websocket", "{report}");
    assert_eq!(
        taker
            .metric(r#"switchyard_handovers_total{outcome="ok"}"#)
            .await,
        1.0
    );
    // The answer given on node1 reached the task waiting on node0, and that
    // task's reply came back through node0's tombstone.
    assert_eq!(
        report["requestAck"],
        json!({ "ok": true, "args": ["q", 1, "answered-after-move"] }),
        "{report}"
    );
    let id = report["socketId"].as_str().expect("socket id");
    let mut rooms = vec!["bench", "r1", id];
    rooms.sort();
    assert_eq!(
        report["fetched"],
        json!([{ "self": true, "rooms": rooms, "data": { "moved": true } }]),
        "{report}"
    );
    assert_eq!(report["echo"], "still here", "{report}");
}
