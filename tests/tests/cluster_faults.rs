//! Faults in a cluster on real NATS: stale and forged sids, and NATS going
//! away and coming back.

use std::time::{Duration, Instant};

use switchyard_e2e::{
    eventually,
    raw::{ws_send, ws_text, SocketIoPolling},
    ClusterFixture, JsSession, RawEngine,
};

fn engine(cluster: &ClusterFixture, node: usize) -> RawEngine {
    RawEngine::new(&cluster.node(node).url(), "/socket.io/")
}

/// Lets the clients echo again after the fault: every one must work, and
/// some must have reconnected.
async fn still_echoing(mut clients: JsSession, cluster: &ClusterFixture) {
    clients.next_phase().await;
    let after = clients.report().await;
    assert_eq!(
        after["failures"],
        serde_json::json!([]),
        "{after}\n{}",
        cluster.logs()
    );
    assert!(after["reconnects"].as_u64().unwrap_or(0) > 0, "{after}");
}

#[actix_rt::test]
async fn stale_and_forged_sids_get_session_unknown_at_once() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    let doomed = SocketIoPolling::connect(engine(&cluster, 2)).await;
    let via = engine(&cluster, 0);
    // While its node lives, the session answers through any node.
    assert_eq!(doomed.post_via(&via, r#"42["message",1]"#).await.body, "ok");

    cluster.kill(2);
    // Until membership drops the node (missed heartbeats, 1 s here), a
    // request may still reach NATS before NATS has noticed the dead
    // connection, and wait for an answer that never comes. Once the node is
    // known to be gone, its sessions are refused without a round trip.
    cluster
        .node(0)
        .wait_for_metric("switchyard_cluster_members", 2.0)
        .await;
    let started = Instant::now();
    let reply = doomed.get_via(&via).await;
    let elapsed = started.elapsed();
    assert_eq!(reply.code(), Some(1), "{reply:?}");
    assert!(
        elapsed < Duration::from_secs(1),
        "a dead owner took {elapsed:?} to refuse"
    );

    for forged in [
        "node7-AAAAAAAAAAAAAAAAAAAAAA",
        "node0-AAAAAAAAAAAAAAAAAAAAAA",
        "no.de-AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let started = Instant::now();
        let reply = via.get(&via.polling_url(forged)).await;
        assert_eq!(reply.code(), Some(1), "{forged}: {reply:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{forged} took {:?}",
            started.elapsed()
        );
    }
}

#[actix_rt::test]
async fn nats_restart_leaves_local_traffic_alone_and_the_cluster_recovers() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    let (home, other) = (engine(&cluster, 0), engine(&cluster, 1));
    let mut polling = SocketIoPolling::connect(home.clone()).await;
    let mut ws = other.websocket("EIO=4&transport=websocket").await;
    assert!(ws_text(&mut ws).await.starts_with("0{"));
    ws_send(&mut ws, "40").await;
    assert!(ws_text(&mut ws).await.starts_with("40{"));
    assert!(ws_text(&mut ws).await.starts_with(r#"42["auth""#));
    // The WebSocket client (node 1) is in room "r"; the polling one (node 0) sends to it.
    ws_send(&mut ws, r#"421["join","r"]"#).await;
    assert_eq!(ws_text(&mut ws).await, "431[]");

    cluster.nats.stop();
    // Requests that reach their owner, and WebSockets, go on.
    assert_eq!(polling.post(r#"42["message","local"]"#).await, "ok");
    assert_eq!(
        polling.next_not_auth().await,
        r#"2["message-back","local"]"#
    );
    ws_send(&mut ws, r#"42["message","ws"]"#).await;
    assert_eq!(ws_text(&mut ws).await, r#"42["message-back","ws"]"#);
    // A request that needs forwarding gets a clean, quick error.
    let started = Instant::now();
    let forwarded = polling.get_via(&other).await;
    assert_eq!(forwarded.status.as_u16(), 503, "{forwarded:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(cluster.node(0).get("/ready").await.status.as_u16(), 503);

    cluster.nats.restart();
    cluster.wait_for_members(3).await;
    // Forwarding works again...
    assert_eq!(
        polling
            .post_via(&other, r#"42["message","forwarded"]"#)
            .await
            .body,
        "ok"
    );
    assert_eq!(
        polling.next_via(&other).await,
        r#"2["message-back","forwarded"]"#
    );
    // ...and so do broadcasts to the room node 1 subscribed before the outage.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let body = format!(r#"42["to-room","r","hello",{attempt}]"#);
        assert_eq!(polling.post(&body).await, "ok");
        let heard = actix_rt::time::timeout(Duration::from_millis(300), ws_text(&mut ws)).await;
        if let Ok(text) = heard {
            assert!(text.starts_with(r#"42["hello","#), "{text}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no broadcast crossed nodes after NATS came back\n{}",
            cluster.logs()
        );
    }
}

#[actix_rt::test]
async fn killing_a_node_leaves_the_others_serving_and_its_clients_come_back() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    let clients = JsSession::echoing(&cluster.url(), 12, &["polling", "websocket"]).await;

    cluster.kill(1);
    // The survivors drop it after the heartbeat timeout (1 s here).
    let started = Instant::now();
    for survivor in [0, 2] {
        cluster
            .node(survivor)
            .wait_for_metric("switchyard_cluster_members", 2.0)
            .await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "membership took {:?}",
        started.elapsed()
    );

    // Round-robin put about a third of the clients on the dead node.
    still_echoing(clients, &cluster).await;
}

#[actix_rt::test]
async fn a_node_started_before_nats_waits_for_it() {
    let mut nats = switchyard_e2e::NatsServer::start();
    nats.stop();
    let url = nats.url();
    let mut starting =
        switchyard_e2e::NodeProcess::spawn(&[("SWITCHYARD_NATS__URL", url.as_str())]);
    starting.wait_for("waiting for NATS");
    nats.restart();
    let node = starting.listening();
    node.wait_for_metric("switchyard_cluster_members", 1.0)
        .await;
    assert_eq!(
        node.get("/ready").await.status.as_u16(),
        200,
        "{}",
        node.log()
    );
}

#[actix_rt::test]
async fn a_node_that_stops_on_purpose_leaves_the_cluster_at_once() {
    // Heartbeats would take 30 s to notice: only the goodbye can be quicker.
    let mut cluster =
        ClusterFixture::start(3, &[("SWITCHYARD_CLUSTER__HEARTBEAT_TIMEOUT_MS", "30000")]).await;
    let status = cluster.node_mut(1).terminate();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    cluster.kill(1);
    for survivor in [0, 2] {
        cluster
            .node(survivor)
            .wait_for_metric("switchyard_cluster_members", 2.0)
            .await;
    }
}

#[actix_rt::test]
async fn a_node_is_ready_only_once_it_knows_every_live_member() {
    // Heartbeats once a second: a node that took traffic as soon as it had
    // joined would not know the others for up to that long.
    let mut cluster = ClusterFixture::start(
        2,
        &[
            ("SWITCHYARD_CLUSTER__HEARTBEAT_INTERVAL_MS", "1000"),
            ("SWITCHYARD_CLUSTER__HEARTBEAT_TIMEOUT_MS", "5000"),
        ],
    )
    .await;
    let session = SocketIoPolling::connect(engine(&cluster, 0)).await;
    let newcomer = cluster.add_node();
    let node = cluster.node(newcomer);
    let ready = eventually(Duration::from_secs(20), || async {
        (node.get("/ready").await.status.as_u16() == 200).then_some(())
    })
    .await;
    assert!(ready.is_some(), "never ready\n{}", node.log());
    // The moment it says ready, it forwards to the session's node.
    let via = engine(&cluster, newcomer);
    let reply = session.post_via(&via, r#"42["message",1]"#).await;
    assert_eq!(reply.body, "ok", "{reply:?}\n{}", node.log());
}

#[actix_rt::test]
async fn a_node_told_to_stop_drains_its_clients_to_the_others() {
    let mut cluster = ClusterFixture::start(3, &[("SWITCHYARD_DRAIN_TIMEOUT_MS", "10000")]).await;
    let clients = JsSession::echoing(&cluster.url(), 12, &["polling", "websocket"]).await;
    let draining = cluster.node(1).sessions().await;
    assert!(draining > 0.0, "round-robin left node 1 without sessions");

    // SIGTERM: the node closes its sessions, leaves, and exits within the
    // drain timeout.
    let started = Instant::now();
    let status = cluster.node_mut(1).terminate();
    let took = started.elapsed();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    assert!(took < Duration::from_secs(10), "drain took {took:?}");
    let log = cluster.node(1).log();
    assert!(log.contains("sessions closed"), "{log}");
    cluster.kill(1);

    // Its clients reconnected through nginx to the others and still work.
    still_echoing(clients, &cluster).await;
}

#[actix_rt::test]
async fn a_draining_node_costs_the_other_nodes_clients_no_broadcast() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    // Members straight on nodes 0 and 2; node 1 has members of its own too,
    // so the room's broadcasts cross it while it drains.
    let members: Vec<String> = [0, 2, 0, 2]
        .iter()
        .map(|&i| cluster.node(i).url())
        .collect();
    let bystanders = JsSession::echoing(&cluster.node(1).url(), 4, &["websocket"]).await;
    let mut script = switchyard_e2e::JsSession::start(
        "cluster-drain.mjs",
        &serde_json::json!({ "members": members, "ratePerSec": 50 }),
    );
    assert_eq!(
        script.report().await,
        serde_json::json!({ "sending": true })
    );
    let status = cluster.node_mut(1).terminate();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    script.next_phase().await;
    let report = script.report().await;
    assert_eq!(
        report["problems"],
        serde_json::json!([]),
        "{report}\n{}",
        cluster.logs()
    );
    assert_eq!(report["members"], 4, "{report}");
    assert!(report["sent"].as_u64().unwrap_or(0) >= 50, "{report}");
    drop(bystanders);
}
