//! Cluster-wide server operations across three nodes in one process, on
//! the in-process bus: every operation, the partial ack set at a timeout,
//! and a node that stops answering during a request.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use actix::{Actor, Addr};
use bytes::Bytes;
use futures_util::StreamExt as _;
use switchyard_shared::{cluster::Subjects, sid::NodeId, socket::Payload};

use super::{Namespace, OpsServer, RemoteSocket, SocketIo};
use crate::{
    cluster::{
        BusError, BusFuture, BusStream, Cluster, ClusterBus, ClusterOps, InProcessBus,
        InProcessHub, LiveNodes, MembershipActor,
    },
    room::RoomRegistry,
    session::testing::TestClient,
};

const HEARTBEAT: Duration = Duration::from_millis(50);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(500);

/// A bus that can hang: once frozen, the node sends and hears nothing, as
/// a stopped process would.
struct FreezableBus {
    inner: InProcessBus,
    frozen: Arc<AtomicBool>,
}

impl ClusterBus for FreezableBus {
    fn publish(&self, subject: String, payload: Bytes) {
        if !self.frozen.load(Ordering::SeqCst) {
            self.inner.publish(subject, payload);
        }
    }

    fn request(
        &self,
        subject: String,
        payload: Bytes,
        timeout: Duration,
    ) -> BusFuture<Result<Bytes, BusError>> {
        self.inner.request(subject, payload, timeout)
    }

    fn subscribe(&self, subject: String) -> BusFuture<Result<BusStream, BusError>> {
        let frozen = self.frozen.clone();
        let subscription = self.inner.subscribe(subject);
        Box::pin(async move {
            let stream = subscription.await?;
            let heard = stream.filter(move |_| std::future::ready(!frozen.load(Ordering::SeqCst)));
            Ok(Box::pin(heard) as BusStream)
        })
    }

    fn queue_subscribe(
        &self,
        subject: String,
        group: String,
    ) -> BusFuture<Result<BusStream, BusError>> {
        self.inner.queue_subscribe(subject, group)
    }

    fn scatter(&self, subject: String, payload: Bytes) -> BusFuture<Result<BusStream, BusError>> {
        self.inner.scatter(subject, payload)
    }

    fn is_connected(&self) -> bool {
        true
    }
}

struct Node {
    io: SocketIo,
    membership: Addr<MembershipActor>,
    frozen: Arc<AtomicBool>,
}

/// `count` nodes `n0`, `n1`, ... on one hub, each answering the server
/// event `ping-node` with its id; returns once every node sees them all.
async fn cluster(count: usize) -> Vec<Node> {
    let hub = InProcessHub::default();
    let nodes: Vec<Node> = (0..count)
        .map(|index| {
            let frozen = Arc::new(AtomicBool::new(false));
            let bus = FreezableBus {
                inner: hub.bus(),
                frozen: frozen.clone(),
            };
            let cluster = Cluster {
                node: NodeId::parse(&format!("n{index}")).expect("node id"),
                bus: Arc::new(bus),
                subjects: Subjects::new("test").expect("prefix"),
            };
            let membership =
                MembershipActor::new(cluster.clone(), HEARTBEAT, HEARTBEAT_TIMEOUT).start();
            let ops = ClusterOps {
                cluster: cluster.clone(),
                membership: membership.clone(),
                recheck: HEARTBEAT,
            };
            let rooms = RoomRegistry::new(cluster).start();
            let io = app().cluster(ops).build(rooms, Duration::from_secs(60));
            OpsServer::new(io.clone()).start();
            Node {
                io,
                membership,
                frozen,
            }
        })
        .collect();
    for node in &nodes {
        wait_for_live(node, count).await;
    }
    nodes
}

fn app() -> super::SocketIoBuilder {
    SocketIo::builder()
        .ns(Namespace::new("/"))
        .on_server_event("ping-node", |io, _, ack| {
            if let Some(ack) = ack {
                let id = io.node_id().unwrap_or_default().to_owned();
                ack.send(Payload::from_serialize(&[id]).expect("payload"));
            }
        })
}

/// Waits (up to 5 s) until `node` counts `count` live nodes.
async fn wait_for_live(node: &Node, count: usize) {
    let mut every = tokio::time::interval(HEARTBEAT);
    let seen = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            every.tick().await;
            if node
                .membership
                .send(LiveNodes)
                .await
                .expect("membership")
                .len()
                == count
            {
                return;
            }
        }
    })
    .await;
    assert!(seen.is_ok(), "membership never reached {count} nodes");
}

/// A client connected to `/` on `node`, and its socket id.
async fn connect(node: &Node) -> (TestClient, String) {
    let mut client = TestClient::new((node.io.app_maker())(&Default::default()));
    client.send("0").await;
    let reply = client.next().await;
    let json = reply.strip_prefix('0').expect("CONNECT reply");
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    (client, value["sid"].as_str().expect("sid").to_owned())
}

fn sorted_ids(sockets: &[RemoteSocket]) -> Vec<String> {
    let mut ids: Vec<String> = sockets.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

/// Reads an event packet `2<id>["q"]` and answers its ack with `answer`.
async fn answer(client: &mut TestClient, answer: &str) {
    let packet = client.next().await;
    let id = packet
        .strip_prefix('2')
        .and_then(|rest| rest.split_once('['))
        .map(|(id, _)| id.to_owned())
        .unwrap_or_else(|| panic!("not an event with an ack: {packet}"));
    assert!(!id.is_empty(), "no ack id in {packet}");
    client.send(&format!(r#"3{id}["{answer}"]"#)).await;
}

fn args(answers: &[Payload]) -> Vec<String> {
    let list = answers
        .iter()
        .map(|answer| serde_json::from_str(answer.args[0].get()).expect("string"))
        .collect();
    sorted(list)
}

#[actix_rt::test]
async fn every_operation_reaches_the_sockets_of_every_node() {
    let nodes = cluster(3).await;
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(connect(node).await);
    }
    let ids: Vec<String> = clients.iter().map(|(_, id)| id.clone()).collect();
    let all = || nodes[0].io.of("/");

    let fetched = all().fetch_sockets().await.expect("all nodes answer");
    assert_eq!(sorted_ids(&fetched), sorted(ids.clone()));
    assert!(fetched.iter().all(|s| s.nsp == "/" && s.data.is_null()));

    // Join the sockets of nodes 1 and 2 to `red`, from node 0.
    for id in &ids[1..] {
        all()
            .to(id.as_str())
            .sockets_join("red")
            .await
            .expect("join");
    }
    let red = all().to("red").fetch_sockets().await.expect("fetch");
    assert_eq!(sorted_ids(&red), sorted(ids[1..].to_vec()));
    for socket in &red {
        assert_eq!(socket.rooms, sorted(vec![socket.id.clone(), "red".into()]));
    }
    // Local: node 0 has no member of `red`.
    let local = all()
        .to("red")
        .local()
        .fetch_sockets()
        .await
        .expect("fetch");
    assert!(local.is_empty(), "{local:?}");

    // Everyone in `red` but the socket of node 2 leaves it.
    let except = ids[2].as_str();
    all()
        .to("red")
        .except(except)
        .sockets_leave("red")
        .await
        .expect("leave");
    let red = all().to("red").fetch_sockets().await.expect("fetch");
    assert_eq!(sorted_ids(&red), [ids[2].clone()]);

    // Acks from every node's sockets, gathered on node 1.
    let question = Payload::from_serialize(&["q"]).expect("payload");
    let asked = actix::spawn(
        nodes[1]
            .io
            .of("/")
            .timeout(Duration::from_secs(10))
            .emit_with_ack("q", question),
    );
    for (index, (client, _)) in clients.iter_mut().enumerate() {
        answer(client, &format!("a{index}")).await;
    }
    let answers = asked.await.expect("task").expect("every ack");
    assert_eq!(args(&answers), ["a0", "a1", "a2"]);

    // Server-side events reach the other nodes only.
    let pings = nodes[0]
        .io
        .server_side_emit_with_ack("ping-node", Payload::default(), Duration::from_secs(10))
        .await
        .expect("both answer");
    assert_eq!(args(&pings), ["n1", "n2"]);

    // The namespace only: node 2's socket gets a DISCONNECT.
    all()
        .to("red")
        .disconnect_sockets(false)
        .await
        .expect("disconnect");
    assert_eq!(clients[2].0.next().await, "1");
    let left = all().fetch_sockets().await.expect("fetch");
    assert_eq!(sorted_ids(&left), sorted(ids[..2].to_vec()));

    // The whole connection.
    all().disconnect_sockets(true).await.expect("close");
    let left = all().fetch_sockets().await.expect("fetch");
    assert!(left.is_empty(), "{left:?}");
}

#[actix_rt::test]
async fn a_broadcast_with_acks_returns_the_answers_that_arrived_at_the_timeout() {
    let nodes = cluster(3).await;
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(connect(node).await.0);
    }
    let question = Payload::from_serialize(&["q"]).expect("payload");
    let started = Instant::now();
    let asked = actix::spawn(
        nodes[0]
            .io
            .of("/")
            .timeout(Duration::from_millis(500))
            .emit_with_ack("q", question),
    );
    // The client on node 1 reads the question and never answers.
    answer(&mut clients[0], "a0").await;
    let unanswered = clients[1].next().await;
    assert!(unanswered.starts_with('2'), "{unanswered}");
    answer(&mut clients[2], "a2").await;
    let timeout = asked.await.expect("task").expect_err("one never answers");
    assert_eq!(args(&timeout.received), ["a0", "a2"]);
    assert!(started.elapsed() >= Duration::from_millis(500));
}

#[actix_rt::test]
async fn a_node_that_stops_answering_no_longer_holds_a_request() {
    let nodes = cluster(3).await;
    let mut ids = Vec::new();
    let mut clients = Vec::new();
    for node in &nodes {
        let (client, id) = connect(node).await;
        clients.push(client);
        ids.push(id);
    }
    nodes[2].frozen.store(true, Ordering::SeqCst);
    let live = nodes[0]
        .membership
        .send(LiveNodes)
        .await
        .expect("membership");
    assert_eq!(
        live.len(),
        3,
        "node 2 is still a member when the request starts"
    );

    let started = Instant::now();
    let timeout = Duration::from_secs(10);
    let fetched = nodes[0]
        .io
        .of("/")
        .timeout(timeout)
        .fetch_sockets()
        .await
        // Complete, not timed out: node 2 was dropped once membership lost it.
        .expect("done once node 2 is gone");
    assert_eq!(sorted_ids(&fetched), sorted(ids[..2].to_vec()));
    let took = started.elapsed();
    assert!(
        took >= HEARTBEAT_TIMEOUT / 2,
        "node 2 was waited for: {took:?}"
    );
}

#[actix_rt::test]
async fn a_node_alone_serves_operations_without_the_bus() {
    let cluster = Cluster {
        node: NodeId::parse("solo").expect("node id"),
        bus: Arc::new(InProcessBus::alone()),
        subjects: Subjects::new("test").expect("prefix"),
    };
    assert!(!cluster.has_peers());
    let membership = MembershipActor::new(cluster.clone(), HEARTBEAT, HEARTBEAT_TIMEOUT).start();
    let ops = ClusterOps {
        cluster: cluster.clone(),
        membership: membership.clone(),
        recheck: HEARTBEAT,
    };
    let io = app()
        .cluster(ops)
        .build(RoomRegistry::new(cluster).start(), Duration::from_secs(60));
    let node = Node {
        io,
        membership,
        frozen: Arc::default(),
    };
    let (mut client, id) = connect(&node).await;
    let fetched = node.io.of("/").fetch_sockets().await.expect("fetch");
    assert_eq!(sorted_ids(&fetched), [id]);
    let question = Payload::from_serialize(&["q"]).expect("payload");
    let asked = actix::spawn(node.io.of("/").emit_with_ack("q", question));
    answer(&mut client, "solo").await;
    assert_eq!(args(&asked.await.expect("task").expect("ack")), ["solo"]);
    // No other node: a server-side event has nobody to wait for.
    let pings = node
        .io
        .server_side_emit_with_ack("ping-node", Payload::default(), Duration::from_secs(10))
        .await
        .expect("nobody to wait for");
    assert!(pings.is_empty());
}

#[actix_rt::test]
async fn a_session_already_waiting_on_an_ack_id_skips_a_broadcast_that_reuses_it() {
    use super::{AckCollector, AckEvent, Broadcast, BroadcastId};
    use crate::room::Publish;
    use switchyard_shared::socket::Packet;
    use tokio::sync::mpsc;

    let nodes = cluster(1).await;
    let (mut client, _) = connect(&nodes[0]).await;
    // Two broadcasts from "different origins" that happen to pick one id.
    let publish = |seq: u64| {
        let (events, inbox) = mpsc::unbounded_channel();
        let packet = Packet::event(
            "/",
            "q",
            Payload::from_serialize(&[seq]).expect("payload"),
            Some(7),
        );
        let broadcast = Broadcast {
            id: BroadcastId::next(),
            nsp: "/".into(),
            rooms: Vec::new(),
            except: Vec::new(),
            volatile: false,
            local: true,
            frames: super::frames(&packet),
            acks: Some(AckCollector {
                id: 7,
                timeout: Duration::from_secs(10),
                events,
            }),
        };
        nodes[0].io.rooms().do_send(Publish(Arc::new(broadcast)));
        inbox
    };
    let mut first = publish(1);
    assert_eq!(client.next().await, r#"27["q",1]"#);
    let mut second = publish(2);
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(format!("{:?}", second.recv().await.expect("event")));
    }
    assert_eq!(events, ["Rooms(1)", "Members(1)", "Answer(None)"]);
    // The first broadcast still gets its answer.
    client.send(r#"37["a"]"#).await;
    let mut answer = None;
    while let Some(event) = first.recv().await {
        if let AckEvent::Answer(Some(payload)) = event {
            answer = Some(payload);
            break;
        }
    }
    assert_eq!(args(&answer.into_iter().collect::<Vec<_>>()), ["a"]);
}
