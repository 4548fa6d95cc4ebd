//! The socket.io layer driven through session mailboxes, in order: what the
//! echo app's contract cannot reach (patterns, server-side disconnect,
//! broadcast acks, socket data).

use std::time::Duration;

use actix::Actor;
use serde_json::json;
use switchyard_shared::socket::Payload;

use super::{Namespace, SocketIo};
use crate::{room::RoomRegistry, session::testing::TestClient};

fn build(app: super::SocketIoBuilder) -> SocketIo {
    let cluster = crate::cluster::Cluster {
        node: switchyard_shared::sid::NodeId::parse("test").expect("node id"),
        bus: std::sync::Arc::new(crate::cluster::InProcessBus::alone()),
        subjects: switchyard_shared::cluster::Subjects::new("test").expect("prefix"),
    };
    app.build(RoomRegistry::new(cluster).start(), Duration::from_secs(60))
}

fn client(io: &SocketIo) -> TestClient {
    TestClient::new((io.app_maker())(&Default::default()))
}

/// Connects `nsp` and returns the socket id.
async fn connect(client: &mut TestClient, nsp: &str) -> String {
    let prefix = if nsp == "/" {
        String::new()
    } else {
        format!("{nsp},")
    };
    client.send(&format!("0{prefix}")).await;
    let reply = client.next().await;
    let json = reply
        .strip_prefix(&format!("0{prefix}"))
        .unwrap_or_else(|| panic!("not a CONNECT reply: {reply}"));
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    value["sid"].as_str().expect("sid").to_owned()
}

#[actix_rt::test]
async fn patterns_give_handlers_their_parameters() {
    let io = build(
        SocketIo::builder().ns(Namespace::pattern("/tenant-{id}").on_connection(|socket| {
            let id = socket.param("id").unwrap_or_default().to_owned();
            socket.emit("tenant", Payload::from_serialize(&[id]).expect("payload"));
        })),
    );
    let mut client = client(&io);
    connect(&mut client, "/tenant-42").await;
    assert_eq!(client.next().await, r#"2/tenant-42,["tenant","42"]"#);
    client.send("0/other,").await;
    assert_eq!(
        client.next().await,
        r#"4/other,{"message":"Invalid namespace"}"#
    );
}

#[actix_rt::test]
async fn a_server_side_disconnect_leaves_the_connection_up() {
    let io = build(
        SocketIo::builder().ns(Namespace::new("/").on_connection(|socket| {
            socket.on("kick", |socket, _, _| socket.disconnect());
            socket.on("ping-me", |socket, _, _| {
                socket.emit("pong-you", Payload::default())
            });
        })),
    );
    let mut client = client(&io);
    let first = connect(&mut client, "/").await;
    client.send(r#"2["kick"]"#).await;
    assert_eq!(client.next().await, "1");
    // Events for the namespace are ignored now; joining again works.
    client.send(r#"2["ping-me"]"#).await;
    let second = connect(&mut client, "/").await;
    assert_ne!(first, second, "a new socket");
    client.send(r#"2["ping-me"]"#).await;
    assert_eq!(client.next().await, r#"2["pong-you"]"#);
}

#[actix_rt::test]
async fn broadcast_acks_gather_answers_until_the_timeout() {
    let io = build(SocketIo::builder().ns(Namespace::new("/")));
    let mut answering = client(&io);
    let mut silent = client(&io);
    connect(&mut answering, "/").await;
    connect(&mut silent, "/").await;

    let ask = |timeout| {
        let operator = io.of("/").timeout(timeout);
        actix::spawn(async move { operator.emit_with_ack("q", Payload::default()).await })
    };
    // Both answer: complete before the timeout.
    let both = ask(Duration::from_secs(30));
    for client in [&mut answering, &mut silent] {
        let packet = client.next().await;
        let id = packet
            .strip_prefix('2')
            .and_then(|p| p.strip_suffix(r#"["q"]"#))
            .expect("event with ack id");
        client.send(&format!(r#"3{id}["a"]"#)).await;
    }
    let answers = both.await.expect("task").expect("every ack");
    assert_eq!(answers.len(), 2);
    assert!(answers
        .iter()
        .all(|answer| answer.args[0].get() == r#""a""#));

    // One stays silent: the timeout yields what arrived.
    let partial = ask(Duration::from_millis(300));
    let packet = answering.next().await;
    let id = packet
        .strip_prefix('2')
        .and_then(|p| p.strip_suffix(r#"["q"]"#))
        .expect("ack id");
    answering.send(&format!(r#"3{id}["only me"]"#)).await;
    let _ = silent.next().await;
    let timeout = partial
        .await
        .expect("task")
        .expect_err("one ack is missing");
    assert_eq!(timeout.received.len(), 1);
    assert_eq!(timeout.received[0].args[0].get(), r#""only me""#);
}

#[actix_rt::test]
async fn socket_data_and_rooms_are_the_apps() {
    let io = build(
        SocketIo::builder().ns(Namespace::new("/").on_connection(|socket| {
            socket.join("a");
            socket.set_data(json!({ "user": 7 }));
            socket.on("report", |socket, _, ack| {
                let socket = socket.clone();
                actix::spawn(async move {
                    let mut rooms: Vec<String> =
                        socket.rooms().await.iter().map(|r| r.to_string()).collect();
                    rooms.sort();
                    let data = socket.data().await;
                    if let Some(ack) = ack {
                        ack.send(
                            Payload::from_serialize(&[json!({ "rooms": rooms, "data": data })])
                                .expect("payload"),
                        );
                    }
                });
            });
        })),
    );
    let mut client = client(&io);
    let id = connect(&mut client, "/").await;
    client.send(r#"21["report"]"#).await;
    let mut expected_rooms = vec![id, "a".to_owned()];
    expected_rooms.sort();
    let expected = json!([{ "rooms": expected_rooms, "data": { "user": 7 } }]);
    assert_eq!(client.next().await, format!("31{expected}"));
}

/// A broadcast handed straight to one socket's session, so that it arrives
/// in order with the test's own requests.
fn deliver(client: &TestClient, socket: &str, event: &str, volatile: bool) {
    let packet = switchyard_shared::socket::Packet::event("/", event, Payload::default(), None);
    let broadcast = super::Broadcast {
        id: super::BroadcastId::next(),
        nsp: "/".into(),
        rooms: Vec::new(),
        except: Vec::new(),
        volatile,
        local: false,
        frames: super::frames(&packet),
        acks: None,
    };
    client.session.do_send(super::SocketCommand::Deliver {
        broadcast: std::sync::Arc::new(broadcast),
        socket: super::SocketId::from_text(socket),
    });
}

#[actix_rt::test]
async fn volatile_broadcasts_skip_clients_that_cannot_take_them() {
    let io = build(SocketIo::builder().ns(Namespace::new("/")));
    let mut client = client(&io);
    let socket = connect(&mut client, "/").await;
    // No GET is waiting: the volatile packet is dropped, the next one queued.
    deliver(&client, &socket, "dropped", true);
    deliver(&client, &socket, "kept", false);
    assert_eq!(client.next().await, r#"2["kept"]"#);
    // With a GET parked, a volatile packet goes out.
    let parked = crate::session::testing::poll(&client.session);
    deliver(&client, &socket, "sent", true);
    let payload = parked.await.expect("session").expect("GET");
    assert_eq!(&payload[..], br#"42["sent"]"#);
}

#[actix_rt::test]
async fn broadcasts_to_different_rooms_arrive_in_the_order_they_were_sent() {
    let io = build(
        SocketIo::builder().ns(Namespace::new("/").on_connection(|socket| socket.join("r1"))),
    );
    let mut client = client(&io);
    connect(&mut client, "/").await;
    // A burst the registry takes in one go: the namespace's group, then a
    // room, then the namespace's group again.
    let nsp = io.of("/");
    nsp.clone().emit("first", Payload::default());
    nsp.clone().to("r1").emit("second", Payload::default());
    nsp.emit("third", Payload::default());
    let mut received = Vec::new();
    for _ in 0..3 {
        received.push(client.next().await);
    }
    assert_eq!(
        received,
        [r#"2["first"]"#, r#"2["second"]"#, r#"2["third"]"#]
    );
}
