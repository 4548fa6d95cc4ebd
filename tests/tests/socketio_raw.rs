//! Socket.IO over raw HTTP: byte-exact argument passthrough, malformed
//! packets, and connectTimeout. Real clients never send these bytes.

use switchyard_e2e::{
    raw::{ws_closed, ws_send, ws_text, SocketIoPolling},
    NodeProcess, RawEngine,
};

async fn connect(node: &NodeProcess) -> SocketIoPolling {
    SocketIoPolling::connect(RawEngine::new(&node.url(), "/socket.io/")).await
}

#[actix_rt::test]
async fn arguments_pass_through_byte_for_byte() {
    let node = NodeProcess::start(&[]);
    let mut client = connect(&node).await;
    let args =
        r#"{"b":1,"a":1.0,"big":12345678901234567890,"e":1e3,"s":"\u00e9\"","n":null},[1.50,-0]"#;
    assert_eq!(client.post(&format!(r#"42["message",{args}]"#)).await, "ok");
    assert_eq!(
        client.next_not_auth().await,
        format!(r#"2["message-back",{args}]"#)
    );
    assert_eq!(
        client
            .post(&format!(r#"427["message-with-ack",{args}]"#))
            .await,
        "ok"
    );
    assert_eq!(client.next_not_auth().await, format!("37[{args}]"));
}

#[actix_rt::test]
async fn malformed_packets_close_only_their_connection() {
    let node = NodeProcess::start(&[]);
    let mut bystander = connect(&node).await;
    let malformed = [
        "42{}",
        r#"42abc["x"]"#,
        r#"42["connect"]"#,
        "42[]",
        r#"431{"a":1}"#,
        "49",
        r#"44{"message":"clients do not send this"}"#,
        r#"42["unterminated""#,
    ];
    for packet in malformed {
        let victim = connect(&node).await;
        victim.post(packet).await;
        let after = victim
            .get_via(&RawEngine::new(&node.url(), "/socket.io/"))
            .await;
        assert_eq!(after.code(), Some(1), "{packet}: {after:?}");
    }
    // Over WebSocket the connection is closed.
    let raw = RawEngine::new(&node.url(), "/socket.io/");
    let mut ws = raw.websocket("EIO=4&transport=websocket").await;
    assert!(ws_text(&mut ws).await.starts_with("0{"));
    ws_send(&mut ws, "40").await;
    assert!(ws_text(&mut ws).await.starts_with("40{"));
    ws_send(&mut ws, "42{}").await;
    ws_closed(&mut ws).await;

    // The bystander noticed nothing.
    assert_eq!(bystander.post(r#"42["message","still here"]"#).await, "ok");
    assert_eq!(
        bystander.next_not_auth().await,
        r#"2["message-back","still here"]"#
    );
    node.wait_for_sessions(1.0).await;
}

#[actix_rt::test]
async fn a_client_that_never_connects_a_namespace_is_closed() {
    let node = NodeProcess::start(&[("SWITCHYARD_CONNECT_TIMEOUT_MS", "300")]);
    let raw = RawEngine::new(&node.url(), "/socket.io/");
    let (sid, _) = raw.handshake().await;
    // The parked GET is answered with the close packet at the timeout.
    assert_eq!(raw.get(&raw.polling_url(&sid)).await.body, "1");
    assert_eq!(raw.get(&raw.polling_url(&sid)).await.code(), Some(1));
    // One that connects in time is not.
    let mut client = connect(&node).await;
    assert_eq!(client.post(r#"42["message",1]"#).await, "ok");
    assert_eq!(client.next_not_auth().await, r#"2["message-back",1]"#);
}
