//! Faults while broadcasts flow through a cluster of three nodes behind
//! nginx round-robin: a node killed with SIGKILL, NATS restarted, a node cut
//! off from NATS, and a load balancer that retries requests elsewhere. Each
//! run is bounded: broadcasting stops by itself.
//!
//! What holds in every case: no node crashes, no client gets a broadcast
//! twice or out of order, clients that were not hit get every broadcast,
//! and once the fault is mended every client hears the latest one. What a
//! fault costs is at-most-once delivery across nodes while it lasts.

use serde_json::{json, Value};
use switchyard_e2e::{eventually, ClusterFixture, JsSession, Nginx};

/// Starts clients through the load balancer and a sender broadcasting to
/// them; returns the session and the node index of the sender.
async fn broadcasting(cluster: &ClusterFixture) -> (JsSession, Vec<Value>, usize) {
    let plan = json!({
        "url": cluster.url(),
        "clients": 12,
        "everyMs": 20,
        "afterMs": 1500,
        "settleMs": 15000,
    });
    let mut session = JsSession::start("cluster-broadcast-faults.mjs", &plan);
    let running = session.report().await;
    let nodes = running["nodes"].as_array().expect("client nodes").clone();
    (session, nodes, node_index(&running["sender"]))
}

/// `node2` is index 2.
fn node_index(id: &Value) -> usize {
    id.as_str()
        .and_then(|id| id.strip_prefix("node"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a node id: {id}"))
}

/// A node other than the sender's that has clients.
fn victim(nodes: &[Value], sender: usize) -> usize {
    nodes
        .iter()
        .map(node_index)
        .find(|&node| node != sender)
        .expect("round-robin spread the clients over the nodes")
}

/// Ends the run and checks what holds in every case; returns the clients'
/// summaries.
async fn finish(mut session: JsSession, cluster: &ClusterFixture) -> Vec<Value> {
    session.next_phase().await;
    let done = session.report().await;
    let logs = || cluster.logs();
    assert_eq!(
        done["settled"],
        true,
        "every client hears the last broadcast: {done}\n{}",
        logs()
    );
    assert_eq!(done["senderConnected"], true, "{done}");
    let clients = done["clients"].as_array().expect("clients").clone();
    for client in &clients {
        assert_eq!(client["connected"], true, "{client}");
        assert_eq!(client["duplicates"], 0, "{client}");
        assert_eq!(client["ordered"], true, "{client}");
    }
    clients
}

/// Waits until the nodes other than `victim` have dropped it from the
/// membership (after the heartbeat timeout).
async fn survivors_drop(cluster: &ClusterFixture, victim: usize) {
    for survivor in (0..3).filter(|&n| n != victim) {
        cluster
            .node(survivor)
            .wait_for_metric("switchyard_cluster_members", 2.0)
            .await;
    }
}

/// Clients on `node` that never lost their connection.
fn untouched_on(clients: &[Value], node: usize) -> impl Iterator<Item = &Value> {
    clients
        .iter()
        .filter(move |c| node_index(&c["node"]) == node && c["disconnects"] == 0)
}

#[actix_rt::test]
async fn a_node_killed_while_broadcasts_flow_costs_the_others_nothing() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    let (session, nodes, sender) = broadcasting(&cluster).await;
    let victim = victim(&nodes, sender);
    cluster.kill(victim);
    survivors_drop(&cluster, victim).await;
    let clients = finish(session, &cluster).await;
    for survivor in (0..3).filter(|&n| n != victim) {
        for client in untouched_on(&clients, survivor) {
            assert_eq!(client["missing"], 0, "a survivor lost broadcasts: {client}");
        }
    }
    let moved = clients.iter().filter(|c| node_index(&c["node"]) == victim);
    for client in moved {
        assert!(client["disconnects"].as_u64() >= Some(1), "{client}");
    }
}

#[actix_rt::test]
async fn a_nats_restart_while_broadcasts_flow_loses_only_cross_node_ones() {
    let mut cluster = ClusterFixture::start(3, &[]).await;
    let (session, _, sender) = broadcasting(&cluster).await;
    cluster.nats.stop();
    let noticed = eventually(std::time::Duration::from_secs(10), || async {
        (cluster.node(sender).get("/ready").await.status.as_u16() == 503).then_some(())
    })
    .await;
    assert!(
        noticed.is_some(),
        "the sender's node never noticed NATS was gone"
    );
    cluster.nats.restart();
    cluster.wait_for_members(3).await;
    let clients = finish(session, &cluster).await;
    // Delivery on the sender's own node never needed NATS.
    let local: Vec<&Value> = untouched_on(&clients, sender).collect();
    for client in &local {
        assert_eq!(client["missing"], 0, "{client}");
    }
    assert!(
        clients.iter().all(|c| c["disconnects"] == 0),
        "no client was dropped: {clients:?}"
    );
}

#[actix_rt::test]
async fn a_node_cut_off_from_nats_serves_its_clients_and_rejoins() {
    let cluster = ClusterFixture::start_relayed(3, &[]).await;
    let (session, nodes, sender) = broadcasting(&cluster).await;
    let victim = victim(&nodes, sender);
    cluster.cut_off(victim);
    survivors_drop(&cluster, victim).await;
    let reason = cluster.node(victim).get("/ready").await;
    assert_eq!(reason.status.as_u16(), 503, "{reason:?}");
    cluster.reconnect(victim);
    cluster.wait_for_members(3).await;
    let clients = finish(session, &cluster).await;
    for node in (0..3).filter(|&n| n != victim) {
        for client in untouched_on(&clients, node) {
            assert_eq!(client["missing"], 0, "{client}");
        }
    }
    // The cut-off node's clients kept their connections throughout.
    for client in clients.iter().filter(|c| node_index(&c["node"]) == victim) {
        assert_eq!(client["disconnects"], 0, "{client}");
    }
}

#[actix_rt::test]
async fn a_load_balancer_that_retries_on_another_node_is_harmless() {
    let cluster = ClusterFixture::start(3, &[]).await;
    // nginx's default `proxy_next_upstream error timeout` sends a request
    // that fails to connect to the next upstream; one upstream here is dead.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let dead_address = dead.local_addr().expect("address").to_string();
    drop(dead);
    let mut upstreams: Vec<String> = cluster.live_nodes().map(|n| n.addr().to_owned()).collect();
    upstreams.insert(1, dead_address);
    let retrying = Nginx::start(&upstreams);
    let mut clients = JsSession::echoing(&retrying.url(), 12, &["polling", "websocket"]).await;
    clients.next_phase().await;
    let after = clients.report().await;
    assert_eq!(after["failures"], json!([]), "{after}");
    assert_eq!(
        after["reconnects"], 0,
        "no client noticed the retries: {after}"
    );
    assert!(
        retrying.log().contains("connect() failed"),
        "nginx never met the dead upstream, so nothing was retried:\n{}",
        retrying.log()
    );
}
