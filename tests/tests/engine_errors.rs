//! Every engine.io error a request can get, over raw HTTP, with what it
//! does to the session.

use awc::http::{Method, StatusCode};
use switchyard_e2e::{NodeProcess, RawEngine};

const ECHO: &str = "/engine.io/";
/// A sid of the right shape that no node issued.
const FORGED_SID: &str = "nobody-AAAAAAAAAAAAAAAAAAAAAA";

fn assert_error(reply: &switchyard_e2e::Reply, status: u16, code: u64, message: &str) {
    assert_eq!(reply.status.as_u16(), status, "{reply:?}");
    let json: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON error body");
    assert_eq!(
        json,
        serde_json::json!({ "code": code, "message": message })
    );
}

#[actix_rt::test]
async fn protocol_errors_have_their_codes() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), "/socket.io/");

    // 0 Transport unknown
    assert_error(
        &raw.get(&raw.url("EIO=4&transport=smoke-signal")).await,
        400,
        0,
        "Transport unknown",
    );
    assert_error(
        &raw.get(&raw.url("EIO=4")).await,
        400,
        0,
        "Transport unknown",
    );
    // 1 Session ID unknown: forged, malformed, or from another endpoint.
    assert_error(
        &raw.get(&raw.polling_url(FORGED_SID)).await,
        400,
        1,
        "Session ID unknown",
    );
    assert_error(
        &raw.get(&raw.polling_url("not-a-sid")).await,
        400,
        1,
        "Session ID unknown",
    );
    let (echo_sid, _) = RawEngine::new(&node.url(), ECHO).handshake().await;
    assert_error(
        &raw.get(&raw.polling_url(&echo_sid)).await,
        400,
        1,
        "Session ID unknown",
    );
    // 2 Bad handshake method
    let post = raw.post(&raw.url("EIO=4&transport=polling"), "4hi").await;
    assert_error(&post, 400, 2, "Bad handshake method");
    // 3 Bad request: a method engine.io does not use; a WebSocket handshake without the upgrade.
    let (sid, _) = raw.handshake().await;
    assert_error(
        &raw.request(Method::PUT, &raw.polling_url(&sid)).await,
        400,
        3,
        "Bad request",
    );
    assert_error(
        &raw.get(&raw.url("EIO=4&transport=websocket")).await,
        400,
        3,
        "Bad request",
    );
    // 5 Unsupported protocol version: wrong or missing EIO.
    assert_error(
        &raw.get(&raw.url("EIO=3&transport=polling")).await,
        400,
        5,
        "Unsupported protocol version",
    );
    assert_error(
        &raw.get(&raw.url("transport=polling")).await,
        400,
        5,
        "Unsupported protocol version",
    );

    // None of it hurt the session opened above.
    assert_eq!(raw.post(&raw.polling_url(&sid), "40").await.body, "ok");
}

#[actix_rt::test]
async fn disabled_transports_are_unknown() {
    let node = NodeProcess::start(&[("SWITCHYARD_TRANSPORTS", "polling")]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (_, open) = raw.handshake().await;
    assert_eq!(
        open["upgrades"],
        serde_json::json!([]),
        "no upgrade is offered"
    );
    assert_error(
        &raw.get(&raw.url("EIO=4&transport=websocket")).await,
        400,
        0,
        "Transport unknown",
    );
}

#[actix_rt::test]
async fn unlisted_origins_are_forbidden_and_listed_ones_get_cors() {
    let node = NodeProcess::start(&[
        ("SWITCHYARD_CORS__ORIGINS", "https://app.example"),
        ("SWITCHYARD_CORS__CREDENTIALS", "true"),
    ]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let handshake = raw.url("EIO=4&transport=polling");

    let refused = raw
        .get_with(&handshake, ("Origin", "https://evil.example"))
        .await;
    assert_error(&refused, 403, 4, "Forbidden");

    let response = raw
        .client()
        .get(&handshake)
        .insert_header(("Origin", "https://app.example"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(
        header("access-control-allow-credentials").as_deref(),
        Some("true")
    );

    let preflight = raw
        .client()
        .request(Method::OPTIONS, &handshake)
        .insert_header(("Origin", "https://app.example"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .send()
        .await
        .expect("OPTIONS");
    assert!(preflight.status().is_success(), "{:?}", preflight.status());
    let allowed = preflight
        .headers()
        .get("access-control-allow-origin")
        .cloned();
    assert_eq!(
        allowed.as_ref().and_then(|v| v.to_str().ok()),
        Some("https://app.example")
    );

    // Without an Origin (not a browser) the policy does not apply.
    assert_eq!(raw.get(&handshake).await.status, StatusCode::OK);
}

#[actix_rt::test]
async fn oversized_posts_get_413_and_the_session_goes_on() {
    let node = NodeProcess::start(&[("SWITCHYARD_MAX_PAYLOAD", "1000")]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let (sid, open) = raw.handshake().await;
    assert_eq!(open["maxPayload"], 1000);
    let url = raw.polling_url(&sid);

    // Declared too large.
    let big = format!("4{}", "x".repeat(1000));
    assert_eq!(
        raw.post(&url, big.clone()).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Streamed without a length: refused once the limit is crossed.
    let chunks = (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from("x".repeat(400))));
    let streamed = raw
        .client()
        .post(&url)
        .send_stream(futures_util::stream::iter(chunks))
        .await
        .expect("POST");
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // A payload at the limit is fine, and the session still echoes.
    let fits = format!("4{}", "y".repeat(999));
    assert_eq!(raw.post(&url, fits.clone()).await.body, "ok");
    assert_eq!(raw.get(&url).await.body, fits);
}

#[actix_rt::test]
async fn binary_content_type_and_invalid_packets_close_the_session() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), ECHO);

    let (sid, _) = raw.handshake().await;
    let url = raw.polling_url(&sid);
    let octets = raw
        .client()
        .post(&url)
        .content_type("application/octet-stream")
        .send_body(vec![4u8, 1, 2])
        .await
        .expect("POST");
    assert_error(
        &switchyard_e2e::raw::reply(octets).await,
        400,
        3,
        "Bad request",
    );
    assert_error(&raw.get(&url).await, 400, 1, "Session ID unknown");

    for garbage in ["9unknown type", "4a\x1e\x1e4b", "b!!!not base64", "0{}"] {
        let (sid, _) = raw.handshake().await;
        let url = raw.polling_url(&sid);
        assert_error(&raw.post(&url, garbage).await, 400, 3, "Bad request");
        assert_error(&raw.get(&url).await, 400, 1, "Session ID unknown");
    }
    node.wait_for_sessions(0.0).await;
}

#[actix_rt::test]
async fn websocket_upgrade_with_an_unknown_sid_is_refused_before_opening() {
    let node = NodeProcess::start(&[]);
    let raw = RawEngine::new(&node.url(), ECHO);
    let url = raw.url(&format!("EIO=4&transport=websocket&sid={FORGED_SID}"));
    let response = raw
        .client()
        .get(&url)
        .insert_header(("Upgrade", "websocket"))
        .insert_header(("Connection", "Upgrade"))
        .insert_header(("Sec-WebSocket-Version", "13"))
        .insert_header(("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="))
        .send()
        .await
        .expect("GET");
    assert_error(
        &switchyard_e2e::raw::reply(response).await,
        400,
        1,
        "Session ID unknown",
    );
}
