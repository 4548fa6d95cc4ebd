//! Session lifecycles over raw HTTP and WebSocket: heartbeats, close,
//! overlapping requests, upgrades that succeed and fail, oversized frames.
//! Each ends by showing that no session actor is left.

use awc::ws::{CloseCode, Frame};
use switchyard_e2e::{
    raw::{ws_next, ws_send, ws_text},
    NodeProcess, RawEngine,
};

const ECHO: &str = "/engine.io/";

#[actix_rt::test]
async fn close_packet_releases_the_parked_get_with_a_noop() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, _) = raw.handshake().await;
    let url = raw.polling_url(&sid);
    let parked = actix_rt::spawn({
        let (raw, url) = (raw.clone(), url.clone());
        async move { raw.get(&url).await }
    });
    node.wait_for_metric("switchyard_engine_polls_parked", 1.0)
        .await;
    assert_eq!(raw.post(&url, "1").await.body, "ok");
    assert_eq!(parked.await.expect("GET task").body, "6");
    assert_eq!(raw.get(&url).await.code(), Some(1));
    assert_eq!(raw.post(&url, "4late").await.code(), Some(1));
    node.wait_for_sessions(0.0).await;
}

#[actix_rt::test]
async fn overlapping_gets_are_refused_and_close_the_session() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, _) = raw.handshake().await;
    let url = raw.polling_url(&sid);
    let (a, b) = tokio::join!(raw.get(&url), raw.get(&url));
    // Whichever came second is refused; the first then gets the close packet.
    let mut outcomes = [(a.status.as_u16(), a.body), (b.status.as_u16(), b.body)];
    outcomes.sort();
    assert_eq!(outcomes[0], (200, "1".to_owned()));
    assert_eq!(outcomes[1].0, 400);
    assert!(outcomes[1].1.contains(r#""code":3"#), "{outcomes:?}");
    assert_eq!(raw.get(&url).await.code(), Some(1));
    node.wait_for_sessions(0.0).await;
}

#[actix_rt::test]
async fn a_client_that_never_answers_ping_is_closed() {
    let node = NodeProcess::start(&[
        ("SWITCHYARD_PING_INTERVAL_MS", "300"),
        ("SWITCHYARD_PING_TIMEOUT_MS", "200"),
    ]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, _) = raw.handshake().await;
    let url = raw.polling_url(&sid);
    // The parked GET carries the ping; the next one waits out the timeout
    // and is answered with the close packet.
    assert_eq!(raw.get(&url).await.body, "2");
    assert_eq!(raw.get(&url).await.body, "1");
    assert_eq!(raw.get(&url).await.code(), Some(1));
    node.wait_for_sessions(0.0).await;
}

#[actix_rt::test]
async fn an_abandoned_polling_session_is_freed() {
    let node = NodeProcess::start(&[
        ("SWITCHYARD_PING_INTERVAL_MS", "300"),
        ("SWITCHYARD_PING_TIMEOUT_MS", "200"),
    ]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, _) = raw.handshake().await;
    assert_eq!(node.sessions().await, 1.0);
    // Never poll again: the ping stays buffered, no pong comes.
    node.wait_for_sessions(0.0).await;
    assert_eq!(raw.get(&raw.polling_url(&sid)).await.code(), Some(1));
}

#[actix_rt::test]
async fn upgrade_by_hand_probe_noop_then_websocket() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, open) = raw.handshake().await;
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    let url = raw.polling_url(&sid);
    // Something buffered before the switch must arrive exactly once.
    assert_eq!(raw.post(&url, "4before").await.body, "ok");
    assert_eq!(raw.get(&url).await.body, "4before");

    let parked = actix_rt::spawn({
        let (raw, url) = (raw.clone(), url.clone());
        async move { raw.get(&url).await }
    });
    node.wait_for_metric("switchyard_engine_polls_parked", 1.0)
        .await;
    let mut ws = raw
        .websocket(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await;
    ws_send(&mut ws, "2probe").await;
    assert_eq!(ws_text(&mut ws).await, "3probe");
    assert_eq!(parked.await.expect("GET task").body, "6");
    ws_send(&mut ws, "5").await;
    ws_send(&mut ws, "4after").await;
    assert_eq!(ws_text(&mut ws).await, "4after");
    assert_eq!(
        node.metric("switchyard_engine_sessions{transport=\"websocket\"}")
            .await,
        1.0
    );
    // Polling is over for this session.
    assert_eq!(raw.get(&url).await.code(), Some(3));

    use futures_util::SinkExt as _;
    ws.send(awc::ws::Message::Close(None)).await.expect("close");
    node.wait_for_sessions(0.0).await;
}

#[actix_rt::test]
async fn a_failed_upgrade_leaves_polling_working() {
    let node = NodeProcess::start(&[("SWITCHYARD_UPGRADE_TIMEOUT_MS", "300")]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, _) = raw.handshake().await;
    let url = raw.polling_url(&sid);
    let upgrade = format!("EIO=4&transport=websocket&sid={sid}");

    // Probed, but the client never sends 5: upgradeTimeout closes the socket.
    let mut ws = raw.websocket(&upgrade).await;
    ws_send(&mut ws, "2probe").await;
    assert_eq!(ws_text(&mut ws).await, "3probe");
    assert!(matches!(
        ws_next(&mut ws).await,
        Some(Frame::Close(_)) | None
    ));

    // A socket that sends anything but the probe is closed at once.
    let mut ws = raw.websocket(&upgrade).await;
    ws_send(&mut ws, "4not a probe").await;
    assert!(matches!(
        ws_next(&mut ws).await,
        Some(Frame::Close(_)) | None
    ));

    // Polling goes on as if nothing happened.
    assert_eq!(raw.post(&url, "4still polling").await.body, "ok");
    assert_eq!(raw.get(&url).await.body, "4still polling");
    assert_eq!(node.sessions().await, 1.0);
    assert_eq!(raw.post(&url, "1").await.body, "ok");
    node.wait_for_sessions(0.0).await;
}

#[actix_rt::test]
async fn a_second_upgrade_is_refused_while_one_is_in_progress() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, _) = raw.handshake().await;
    let upgrade = format!("EIO=4&transport=websocket&sid={sid}");
    let mut first = raw.websocket(&upgrade).await;
    ws_send(&mut first, "2probe").await;
    assert_eq!(ws_text(&mut first).await, "3probe");
    let mut second = raw.websocket(&upgrade).await;
    assert!(matches!(
        ws_next(&mut second).await,
        Some(Frame::Close(_)) | None
    ));
    // The first one completes the upgrade undisturbed.
    ws_send(&mut first, "5").await;
    ws_send(&mut first, "4ok").await;
    assert_eq!(ws_text(&mut first).await, "4ok");
}

#[actix_rt::test]
async fn a_websocket_frame_over_max_payload_closes_the_connection() {
    let node = NodeProcess::start(&[("SWITCHYARD_MAX_PAYLOAD", "1000")]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let mut ws = raw.websocket("EIO=4&transport=websocket").await;
    let open = ws_text(&mut ws).await;
    let open: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("open")).expect("JSON");
    assert_eq!(
        open["upgrades"],
        serde_json::json!([]),
        "no upgrade over WebSocket"
    );
    assert_eq!(open["maxPayload"], 1000);

    ws_send(&mut ws, &format!("4{}", "z".repeat(999))).await;
    assert_eq!(
        ws_text(&mut ws).await.len(),
        1000,
        "a frame at the limit is echoed"
    );
    ws_send(&mut ws, &format!("4{}", "z".repeat(1000))).await;
    match ws_next(&mut ws).await {
        Some(Frame::Close(Some(reason))) => assert_eq!(reason.code, CloseCode::Size),
        other => panic!("expected a close frame with 1009, got {other:?}"),
    }
    node.wait_for_sessions(0.0).await;
}
