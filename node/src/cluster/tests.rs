//! Cross-node broadcasts: several nodes in one process on the in-process bus.
//!
//! Each [`Node`] is a complete socket.io app with its own room registry, and
//! all of them share one [`InProcessHub`]. A broadcast therefore takes the
//! path it takes between processes (registry, room subject, the receiving
//! node's room actor, sessions), while the test needs no NATS server and
//! reads every packet straight from a session.
//!
//! The checks wait on packets, never on the clock:
//! - A room actor subscribes to its subject only after the join was
//!   acknowledged, so [`settle`] waits until a probe from another node
//!   reaches the socket before a test relies on cross-node delivery.
//! - That a packet did *not* arrive is shown by a marker sent only after
//!   the event reached every intended recipient: a copy handed to the wrong
//!   socket (or a second copy) is queued in its session ahead of the
//!   marker, so the marker must be the next packet.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use actix::Actor;
use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt as _};
use switchyard_shared::{cluster::Subjects, sid::NodeId, socket::Payload};

use switchyard_shared::config::MultiRoom;

use super::{BusError, Cluster, InProcessHub};
use crate::{
    room::RoomRegistry,
    session::testing::TestClient,
    socketio::{Namespace, SocketIo, SocketIoBuilder},
};

/// Every test uses the main namespace.
const NSP: &str = "/";
/// The event [`settle`] sends; [`Client::next`] skips it.
const PROBE: &str = "probe";

/// One node of an in-process cluster.
struct Node {
    index: usize,
    cluster: Cluster,
    io: SocketIo,
}

/// `nodes` nodes, `n0`, `n1`, ..., on one hub.
fn cluster(nodes: usize) -> Vec<Node> {
    cluster_with(nodes, MultiRoom::Rooms)
}

fn cluster_with(nodes: usize, multi_room: MultiRoom) -> Vec<Node> {
    let hub = InProcessHub::default();
    (0..nodes)
        .map(|index| {
            let cluster = Cluster {
                node: NodeId::parse(&format!("n{index}")).expect("node id"),
                bus: Arc::new(hub.bus()),
                subjects: Subjects::new("test").expect("prefix"),
            };
            let rooms = RoomRegistry::new(cluster.clone())
                .with_multi_room(multi_room)
                .start();
            let io = app().build(rooms, Duration::from_secs(60));
            Node { index, cluster, io }
        })
        .collect()
}

/// Namespace `/`, whose sockets join and leave the room named by an
/// event's first argument, then ack.
fn app() -> SocketIoBuilder {
    fn room(payload: &Payload) -> Option<String> {
        serde_json::from_str(payload.args.first()?.get()).ok()
    }
    SocketIo::builder().ns(Namespace::new(NSP).on_connection(|socket| {
        socket.on("join", |socket, payload, ack| {
            if let Some(room) = room(&payload) {
                socket.join(room);
            }
            if let Some(ack) = ack {
                ack.send(Payload::default());
            }
        });
        socket.on("leave", |socket, payload, ack| {
            if let Some(room) = room(&payload) {
                socket.leave(room);
            }
            if let Some(ack) = ack {
                ack.send(Payload::default());
            }
        });
    }))
}

/// A client connected to `/` on one node.
struct Client {
    node: usize,
    inner: TestClient,
}

impl Client {
    async fn connect(node: &Node) -> Self {
        let mut inner = TestClient::new((node.io.app_maker())(&Default::default()));
        inner.send("0").await;
        let reply = inner.next().await;
        assert!(
            reply.starts_with(r#"0{"sid":"#),
            "not a CONNECT reply: {reply}"
        );
        Self {
            node: node.index,
            inner,
        }
    }

    /// The next packet that is not a [`settle`] probe.
    async fn next(&mut self) -> String {
        loop {
            let packet = self.inner.next().await;
            if !is_probe(&packet) {
                return packet;
            }
        }
    }

    /// Sends `event` with `room` and waits for the ack: the session has
    /// then handed the change to its node's registry.
    async fn call(&mut self, event: &str, room: &str) {
        self.inner.send(&format!(r#"21["{event}","{room}"]"#)).await;
        let reply = self.next().await;
        assert_eq!(reply, "31[]", "ack of {event} {room} on node {}", self.node);
    }

    async fn join(&mut self, room: &str) {
        self.call("join", room).await;
    }

    async fn leave(&mut self, room: &str) {
        self.call("leave", room).await;
    }
}

/// One client on each node.
/// One member of room `r1` and one socket outside it on every node, with
/// every subscription in place.
async fn members_and_others(nodes: &[Node]) -> (Vec<Client>, Vec<Client>) {
    let mut members = one_per_node(nodes).await;
    let mut others = one_per_node(nodes).await;
    for member in &mut members {
        member.join("r1").await;
    }
    settle_all(nodes, &mut members, Some("r1")).await;
    settle_all(nodes, &mut members, None).await;
    settle_all(nodes, &mut others, None).await;
    (members, others)
}

async fn one_per_node(nodes: &[Node]) -> Vec<Client> {
    let mut clients = Vec::new();
    for node in nodes {
        clients.push(Client::connect(node).await);
    }
    clients
}

fn is_probe(packet: &str) -> bool {
    packet.starts_with(&format!(r#"2["{PROBE}","#))
}

/// Waits until broadcasts from another node to `room` (`None`: the whole
/// namespace) reach `client`: its node's actor for the room has it as a
/// member and listens on the bus.
///
/// A probe with a fresh token goes out every 20 ms until one arrives; later
/// copies, and probes other members receive, are skipped by
/// [`Client::next`].
async fn settle(nodes: &[Node], client: &mut Client, room: Option<&str>) {
    static TOKENS: AtomicU64 = AtomicU64::new(0);
    assert!(nodes.len() > 1, "a probe must come from another node");
    let from = &nodes[(client.node + 1) % nodes.len()];
    let mut operator = from.io.of(NSP);
    if let Some(room) = room {
        operator = operator.to(room);
    }
    let token = format!("probe-{}", TOKENS.fetch_add(1, Ordering::Relaxed));
    let expected = format!(r#"2["{PROBE}","{token}"]"#);
    let probe = Payload::from_serialize(&[token]).expect("payload");
    let sender = actix::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(20));
        loop {
            every.tick().await;
            operator.clone().emit(PROBE, probe.clone());
        }
    });
    let arrived = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let packet = client.inner.next().await;
            if packet == expected {
                return;
            }
            assert!(is_probe(&packet), "unexpected while settling: {packet}");
        }
    })
    .await;
    sender.abort();
    assert!(
        arrived.is_ok(),
        "no probe to {room:?} from node {} reached node {} within 5 s",
        from.index,
        client.node
    );
}

/// [`settle`] for each client.
async fn settle_all(nodes: &[Node], clients: &mut [Client], room: Option<&str>) {
    for client in clients {
        settle(nodes, client, room).await;
    }
}

/// The arguments of a test event: its sequence number.
fn seq(seq: u64) -> Payload {
    Payload::from_serialize(&[seq]).expect("payload")
}

/// How a test event arrives.
fn packet(event: &str, seq: u64) -> String {
    format!(r#"2["{event}",{seq}]"#)
}

/// Checks that `expected` is the next packet of every client.
async fn expect_next(clients: &mut [Client], expected: &str) {
    for client in clients {
        let packet = client.next().await;
        assert_eq!(packet, expected, "next packet on node {}", client.node);
    }
}

/// Broadcasts a marker to the whole namespace from `from`, and returns how
/// it arrives.
fn marker(from: &Node, number: u64) -> String {
    from.io.of(NSP).emit("marker", seq(number));
    packet("marker", number)
}

#[actix_rt::test]
async fn a_room_broadcast_reaches_members_on_every_node_once_and_no_one_else() {
    let nodes = cluster(3);
    let (mut members, mut others) = members_and_others(&nodes).await;

    nodes[0].io.of(NSP).to("r1").emit("ev", seq(1));
    expect_next(&mut members, &packet("ev", 1)).await;
    let marker = marker(&nodes[0], 2);
    expect_next(&mut members, &marker).await;
    expect_next(&mut others, &marker).await;
}

#[actix_rt::test]
async fn a_broadcast_to_two_rooms_reaches_a_socket_in_both_once_on_any_node() {
    two_rooms(MultiRoom::Rooms).await;
}

#[actix_rt::test]
async fn over_the_namespace_subject_two_rooms_reach_members_once_and_no_one_else() {
    two_rooms(MultiRoom::Namespace).await;
}

/// A broadcast to r1 and r2: once for sockets in both, in one, and never
/// for sockets in neither, whichever subjects it crosses nodes on.
async fn two_rooms(multi_room: MultiRoom) {
    let nodes = cluster_with(3, multi_room);
    let mut neither = one_per_node(&nodes).await;
    // In both rooms: on the publishing node 0 and on node 1.
    let mut both = vec![
        Client::connect(&nodes[0]).await,
        Client::connect(&nodes[1]).await,
    ];
    let mut only_r1 = vec![
        Client::connect(&nodes[1]).await,
        Client::connect(&nodes[2]).await,
    ];
    let mut only_r2 = vec![
        Client::connect(&nodes[0]).await,
        Client::connect(&nodes[2]).await,
    ];
    for client in &mut both {
        client.join("r1").await;
        client.join("r2").await;
    }
    for client in &mut only_r1 {
        client.join("r1").await;
    }
    for client in &mut only_r2 {
        client.join("r2").await;
    }
    settle_all(&nodes, &mut both, Some("r1")).await;
    settle_all(&nodes, &mut both, Some("r2")).await;
    settle_all(&nodes, &mut only_r1, Some("r1")).await;
    settle_all(&nodes, &mut only_r2, Some("r2")).await;
    for group in [&mut both, &mut only_r1, &mut only_r2, &mut neither] {
        settle_all(&nodes, group, None).await;
    }

    nodes[0].io.of(NSP).to("r1").to("r2").emit("ev", seq(1));
    for group in [&mut both, &mut only_r1, &mut only_r2] {
        expect_next(group, &packet("ev", 1)).await;
    }
    let marker = marker(&nodes[0], 2);
    for group in [&mut both, &mut only_r1, &mut only_r2, &mut neither] {
        expect_next(group, &marker).await;
    }
}

#[actix_rt::test]
async fn except_skips_sockets_in_the_excepted_room_on_every_node() {
    let nodes = cluster(3);
    let mut included = one_per_node(&nodes).await;
    let mut excepted = one_per_node(&nodes).await;
    for client in &mut included {
        client.join("r1").await;
    }
    for client in &mut excepted {
        client.join("r1").await;
        client.join("r2").await;
    }
    settle_all(&nodes, &mut included, Some("r1")).await;
    settle_all(&nodes, &mut excepted, Some("r1")).await;
    settle_all(&nodes, &mut included, None).await;
    settle_all(&nodes, &mut excepted, None).await;

    // Nodes 1 and 2 learn the exception only from the message.
    nodes[0].io.of(NSP).to("r1").except("r2").emit("ev", seq(1));
    expect_next(&mut included, &packet("ev", 1)).await;
    let marker = marker(&nodes[0], 2);
    expect_next(&mut included, &marker).await;
    expect_next(&mut excepted, &marker).await;
}

#[actix_rt::test]
async fn a_namespace_broadcast_reaches_every_socket_on_every_node_once() {
    let nodes = cluster(3);
    let mut clients = one_per_node(&nodes).await;
    clients.extend(one_per_node(&nodes).await);
    settle_all(&nodes, &mut clients, None).await;

    // From node 1, so that nodes on both sides of it are remote.
    nodes[1].io.of(NSP).emit("ev", seq(1));
    expect_next(&mut clients, &packet("ev", 1)).await;
    // The marker takes the same subject and actors as the event, so a
    // second copy of the event would come before it.
    let marker = marker(&nodes[1], 2);
    expect_next(&mut clients, &marker).await;
}

#[actix_rt::test]
async fn local_broadcasts_reach_only_the_publishing_nodes_sockets() {
    let nodes = cluster(3);
    let (mut members, mut others) = members_and_others(&nodes).await;

    // The whole namespace, node 1 only. Were it published, it would reach
    // the other nodes on the marker's subject, ahead of the marker.
    nodes[1].io.of(NSP).local().emit("ev", seq(1));
    for group in [&mut members, &mut others] {
        expect_next(&mut group[1..2], &packet("ev", 1)).await;
    }
    let marker = marker(&nodes[1], 2);
    for group in [&mut members, &mut others] {
        expect_next(group, &marker).await;
    }

    // A room, node 1 only; the marker goes to the same room from there.
    nodes[1].io.of(NSP).to("r1").local().emit("ev", seq(3));
    expect_next(&mut members[1..2], &packet("ev", 3)).await;
    nodes[1].io.of(NSP).to("r1").emit("marker", seq(4));
    expect_next(&mut members, &packet("marker", 4)).await;
}

#[actix_rt::test]
async fn a_node_whose_last_member_left_a_room_no_longer_receives_its_broadcasts() {
    let nodes = cluster(3);
    let mut members = one_per_node(&nodes).await;
    for member in &mut members {
        member.join("r1").await;
    }
    settle_all(&nodes, &mut members, Some("r1")).await;
    settle_all(&nodes, &mut members, None).await;
    let subject = nodes[0].cluster.subjects.room(NSP, "r1");
    let ask = |node: &Node| {
        let timeout = Duration::from_millis(20);
        node.cluster
            .bus
            .request(subject.clone(), Bytes::new(), timeout)
    };
    // While the room has members, someone listens on its subject (a room
    // actor takes the request and never answers it).
    assert_eq!(ask(&nodes[0]).await, Err(BusError::Timeout));

    // Node 2 is still reached before its only member leaves.
    nodes[0].io.of(NSP).to("r1").emit("ev", seq(1));
    expect_next(&mut members, &packet("ev", 1)).await;

    members[2].leave("r1").await;
    // Node 2's registry handles its session's messages in order: once a
    // later join has settled, it has stopped the room's actor.
    members[2].join("after").await;
    settle(&nodes, &mut members[2], Some("after")).await;

    nodes[0].io.of(NSP).to("r1").emit("ev", seq(2));
    expect_next(&mut members[..2], &packet("ev", 2)).await;
    let marker = marker(&nodes[0], 3);
    expect_next(&mut members, &marker).await;

    // Once the others have left too, no node listens on the subject.
    members[0].leave("r1").await;
    members[1].leave("r1").await;
    let unsubscribed = tokio::time::timeout(Duration::from_secs(5), async {
        while ask(&nodes[0]).await != Err(BusError::NoResponders(subject.clone())) {}
    })
    .await;
    assert!(unsubscribed.is_ok(), "{subject} still has subscribers");
}

#[actix_rt::test]
async fn a_node_alone_never_publishes_and_still_reaches_its_members() {
    let nodes = cluster(1);
    let node = &nodes[0];
    assert!(!node.cluster.has_peers());
    // Listen where a broadcast would be published; the node's own room
    // actors do not subscribe, being alone.
    let subjects = &node.cluster.subjects;
    let bus = &node.cluster.bus;
    let mut on_room = bus.subscribe(subjects.room(NSP, "r1")).await.expect("sub");
    let mut on_nsp = bus.subscribe(subjects.namespace(NSP)).await.expect("sub");

    let mut member = Client::connect(node).await;
    let mut other = Client::connect(node).await;
    member.join("r1").await;
    node.io.of(NSP).to("r1").emit("ev", seq(1));
    assert_eq!(member.next().await, packet("ev", 1));
    let marker = marker(node, 2);
    assert_eq!(member.next().await, marker);
    assert_eq!(other.next().await, marker);

    // The registry publishes while it hands a broadcast to its local
    // rooms, so anything published is in the subscriptions by now.
    assert!(on_room.next().now_or_never().is_none(), "room published");
    assert!(
        on_nsp.next().now_or_never().is_none(),
        "namespace published"
    );
    // They would have seen it.
    bus.publish(subjects.room(NSP, "r1"), Bytes::from_static(b"x"));
    assert!(on_room.next().now_or_never().is_some());
}
