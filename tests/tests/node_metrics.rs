//! `/metrics` moves as clients act: handshakes, packets and bytes both
//! ways, sockets by namespace, rooms and broadcasts.

use switchyard_e2e::{raw::SocketIoPolling, NodeProcess, RawEngine};

#[actix_rt::test]
async fn the_counters_move_as_a_client_acts() {
    let node = NodeProcess::start(&[]);
    let counters = [
        r#"switchyard_engine_handshakes_total{transport="polling"}"#,
        "switchyard_engine_packets_in_total",
        "switchyard_engine_packets_out_total",
        "switchyard_engine_bytes_in_total",
        "switchyard_engine_bytes_out_total",
        r#"switchyard_broadcasts_total{direction="sent"}"#,
    ];
    let mut before = Vec::new();
    for name in counters {
        before.push(node.metric(name).await);
    }
    assert_eq!(node.metric("switchyard_rooms").await, 0.0);

    let mut client = SocketIoPolling::connect(RawEngine::new(&node.url(), "/socket.io/")).await;
    assert_eq!(
        node.metric(r#"switchyard_sockets{namespace="/"}"#).await,
        1.0
    );
    // The namespace, the socket's own room, and `bench` (the registry
    // counts them on its own thread, after the CONNECT reply may have left).
    node.wait_for_metric("switchyard_rooms", 3.0).await;
    assert_eq!(client.post(r#"42["fanout","x"]"#).await, "ok");
    loop {
        let packet = client.next().await;
        if packet == r#"2["msg","x"]"# {
            break;
        }
    }
    for (name, was) in counters.iter().zip(before) {
        let now = node.metric(name).await;
        assert!(now > was, "{name} stayed at {now}");
    }

    assert_eq!(client.post("1").await, "ok");
    node.wait_for_metric(r#"switchyard_sockets{namespace="/"}"#, 0.0)
        .await;
    node.wait_for_metric("switchyard_rooms", 0.0).await;
}
