//! Who may open a session: the app's `allow_request` check, and the session
//! limit of a node (handshakes beyond it get 503, `/ready` says so
//! meanwhile so a load balancer sends clients elsewhere, and a freed place
//! is taken again).

use std::time::Duration;

use switchyard_e2e::{eventually, NodeProcess, RawEngine};

/// Waits until `/ready` answers `status`.
async fn ready_becomes(node: &NodeProcess, status: u16) -> String {
    let body = eventually(Duration::from_secs(10), || async {
        let reply = node.get("/ready").await;
        (reply.status.as_u16() == status).then_some(reply.body)
    })
    .await;
    body.unwrap_or_else(|| panic!("/ready never answered {status}\n{}", node.log()))
}

#[actix_rt::test]
async fn a_full_node_refuses_handshakes_until_a_session_ends() {
    let node = NodeProcess::start(&[("SWITCHYARD_LIMITS__MAX_SESSIONS", "2")]);
    let engine = RawEngine::new(&node.url(), "/socket.io/");
    let (first, _) = engine.handshake().await;
    let (_second, _) = engine.handshake().await;
    let reason = ready_becomes(&node, 503).await;
    assert!(reason.contains("session limit"), "{reason}");

    let refused = engine.get(&engine.url("EIO=4&transport=polling")).await;
    assert_eq!(refused.status.as_u16(), 503, "{refused:?}");
    assert!(
        refused.body.contains("maximum of 2 sessions"),
        "{refused:?}"
    );
    let websocket = engine.get(&engine.url("EIO=4&transport=websocket")).await;
    assert_eq!(
        websocket.status.as_u16(),
        503,
        "nor on WebSocket: {websocket:?}"
    );

    // The first session closes itself; its place is free again.
    let closed = engine.post(&engine.polling_url(&first), "1").await;
    assert_eq!(closed.status.as_u16(), 200, "{closed:?}");
    ready_becomes(&node, 200).await;
    let (third, _) = engine.handshake().await;
    assert!(!third.is_empty());
}

#[actix_rt::test]
async fn a_handshake_the_app_refuses_gets_forbidden_on_either_transport() {
    let node = NodeProcess::start(&[]);
    let engine = RawEngine::new(&node.url(), "/socket.io/");
    for transport in ["polling", "websocket"] {
        let refused = engine
            .get(&engine.url(&format!("EIO=4&transport={transport}&deny=1")))
            .await;
        assert_eq!(refused.status.as_u16(), 403, "{transport}: {refused:?}");
        assert_eq!(refused.code(), Some(4), "{transport}: {refused:?}");
    }
    let (sid, _) = engine.handshake().await;
    assert!(!sid.is_empty(), "other handshakes still open sessions");
}

#[actix_rt::test]
async fn a_request_head_that_trickles_in_gets_408() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let node = NodeProcess::start(&[]);
    let mut stream = tokio::net::TcpStream::connect(node.addr())
        .await
        .expect("connect");
    // Half a request head, and then nothing.
    stream
        .write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the node kept a half-sent request open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // A normal client is served meanwhile and after.
    let engine = RawEngine::new(&node.url(), "/socket.io/");
    assert!(!engine.handshake().await.0.is_empty());
}
