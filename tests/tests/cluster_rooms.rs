//! Room broadcasts across three nodes on real NATS: exactly once per
//! member, nothing for anyone else, whatever the room is called.

use serde_json::{json, Value};
use switchyard_e2e::{run_js, ClusterFixture};

/// Runs the scenario and checks that each member got `seqs` events for its
/// own room, in order, and that no one else got any.
async fn broadcast_to(cluster: &ClusterFixture, rooms: &[&str], seqs: u64, transports: &[&str]) {
    let nodes: Vec<String> = (0..3).map(|i| cluster.node(i).url()).collect();
    let plan = json!({ "nodes": nodes, "rooms": rooms, "seqs": seqs, "transports": transports });
    let report = run_js("cluster-rooms.mjs", &plan).await;
    let entries = report
        .as_array()
        .unwrap_or_else(|| panic!("{report}\n{}", cluster.logs()));
    for entry in entries {
        let expected: Vec<Value> = match entry["room"].as_str() {
            Some(room) => (0..seqs).map(|seq| json!([room, seq])).collect(),
            None => Vec::new(),
        };
        assert_eq!(entry["seqs"], json!(expected), "{entry}");
    }
    let members = entries.iter().filter(|e| e["room"].is_string()).count();
    assert_eq!(members, rooms.len());
    let nodes_with_members: std::collections::BTreeSet<u64> = entries
        .iter()
        .filter(|e| e["room"].is_string())
        .filter_map(|e| e["node"].as_u64())
        .collect();
    assert_eq!(
        nodes_with_members.len(),
        rooms.len().min(3),
        "members spread over the nodes"
    );
}

#[actix_rt::test]
async fn room_broadcasts_reach_members_on_every_node_exactly_once() {
    let cluster = ClusterFixture::start(3, &[]).await;
    // Three members of "chat" on three nodes, plus rooms that share no member.
    broadcast_to(
        &cluster,
        &["chat", "chat", "chat", "other"],
        20,
        &["websocket"],
    )
    .await;
    broadcast_to(&cluster, &["chat", "chat", "chat"], 5, &["polling"]).await;
}

#[actix_rt::test]
async fn hostile_room_names_reach_only_their_own_room() {
    let cluster = ClusterFixture::start(3, &[]).await;
    // Names that would be wildcards, separators or whitespace in a NATS
    // subject, next to the names an unescaped subject would collide with.
    let rooms = [
        "a.b", "a", "b", "*", ">", "x y", "", "~", "a~2eb", "é", "a.*", "\u{0}",
    ];
    broadcast_to(&cluster, &rooms, 3, &["websocket"]).await;
}
