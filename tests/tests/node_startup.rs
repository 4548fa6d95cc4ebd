//! Start-up: the configurable path, content types, and refusing bad settings.

use awc::http::StatusCode;
use switchyard_e2e::{NodeProcess, RawEngine};

#[actix_rt::test]
async fn the_socket_io_path_is_configurable() {
    let node = NodeProcess::start(&[("SWITCHYARD_PATH", "/realtime/")]);
    let raw = RawEngine::new(&node.url(), "/realtime/");
    let (sid, _) = raw.handshake().await;

    let post = raw
        .client()
        .post(raw.polling_url(&sid))
        .content_type("text/plain;charset=UTF-8")
        .send_body("40")
        .await
        .expect("POST");
    assert_eq!(post.status(), StatusCode::OK);
    assert_eq!(post.headers().get("content-type").unwrap(), "text/html");
    assert_eq!(switchyard_e2e::raw::reply(post).await.body, "ok");

    let handshake = raw
        .client()
        .get(raw.url("EIO=4&transport=polling"))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        handshake.headers().get("content-type").unwrap(),
        "text/plain; charset=UTF-8"
    );

    let default_path = RawEngine::new(&node.url(), "/socket.io/");
    let reply = default_path
        .get(&default_path.url("EIO=4&transport=polling"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[test]
fn bad_settings_stop_start_up_and_name_the_key() {
    let cases = [
        ("SWITCHYARD_PING_INTERVAL_MS", "soon", "ping_interval_ms"),
        ("SWITCHYARD_LISTEN", "everywhere", "SWITCHYARD_LISTEN"),
        ("SWITCHYARD_TRANSPORTS", "pigeon", "transports"),
        ("SWITCHYARD_PATH", "/engine.io/", "path"),
    ];
    for (key, value, named) in cases {
        let refused = NodeProcess::spawn(&[(key, value)]).refused();
        let printed = refused.unwrap_or_else(|why| panic!("{key}={value}: {why}"));
        assert!(printed.contains(named), "{key}={value}: {printed}");
    }
}

#[test]
fn a_nats_payload_limit_below_max_payload_stops_start_up() {
    let nats = switchyard_e2e::NatsServer::start();
    // NATS allows 1 MiB per message by default; a 2 MB POST could not travel.
    let printed = NodeProcess::spawn(&[
        ("SWITCHYARD_NATS__URL", &nats.url()),
        ("SWITCHYARD_MAX_PAYLOAD", "2000000"),
    ])
    .refused()
    .unwrap_or_else(|why| panic!("{why}"));
    assert!(printed.contains("max_payload is 1048576"), "{printed}");
    assert!(printed.contains("SWITCHYARD_MAX_PAYLOAD"), "{printed}");
}

#[actix_rt::test]
async fn json_logs_carry_each_session_s_sid_and_node() {
    let node = NodeProcess::start(&[
        ("SWITCHYARD_LOG_FORMAT", "json"),
        ("SWITCHYARD_NODE_ID", "logger"),
        ("RUST_LOG", "switchyard_node=debug"),
    ]);
    let engine = RawEngine::new(&node.url(), "/socket.io/");
    let (sid, _) = engine.handshake().await;
    let opened = switchyard_e2e::eventually(std::time::Duration::from_secs(10), || async {
        node.log()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|line| line["fields"]["message"] == "session opened")
    })
    .await
    .unwrap_or_else(|| panic!("no JSON line for the session:\n{}", node.log()));
    assert_eq!(opened["span"]["sid"], sid.as_str(), "{opened}");
    assert_eq!(opened["span"]["node"], "logger", "{opened}");
    // Every line is JSON, the start-up lines included.
    let log = node.log();
    let lines: Vec<&str> = log.lines().filter(|line| !line.is_empty()).collect();
    assert!(lines.len() > 1, "{log}");
    assert!(
        lines
            .iter()
            .all(|line| serde_json::from_str::<serde_json::Value>(line).is_ok()),
        "{log}"
    );
}
