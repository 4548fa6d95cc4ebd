//! Hostile input, case by case, against one node with low limits: each
//! case's answer is written in the table, and after every case a fresh
//! client must still get its echo (the runner is `switchyard_e2e::hostile`).
//! A second table lists settings that must stop start-up.

use std::time::Duration;

use awc::http::Method;
use switchyard_e2e::{
    hostile::{
        get, http, overlapping_gets, post, recv, run_cases, send, socket_io, stalled_post, text,
        ws, After::*, Case, Frame, Step,
    },
    NodeProcess,
};

/// Limits low enough to reach cheaply. `max_payload` leaves room for the
/// 10 000-character room name; the echo app has two namespaces, so
/// `max_namespaces` is 2 to be reachable.
const NODE: &[(&str, &str)] = &[
    ("SWITCHYARD_NODE_ID", "hostile"),
    ("SWITCHYARD_MAX_PAYLOAD", "16000"),
    ("SWITCHYARD_LIMITS__MAX_NAMESPACES", "2"),
    ("SWITCHYARD_LIMITS__MAX_ROOMS_PER_SOCKET", "4"),
    ("SWITCHYARD_LIMITS__MAX_JSON_DEPTH", "8"),
    ("SWITCHYARD_LIMITS__MAX_ATTACHMENTS", "2"),
    ("SWITCHYARD_LIMITS__MAX_PENDING_ACKS", "2"),
    ("SWITCHYARD_LIMITS__MAX_HEADER_BYTES", "2048"),
    ("SWITCHYARD_LIMITS__BODY_TIMEOUT_MS", "300"),
    ("SWITCHYARD_CORS__ORIGINS", "https://allowed.example"),
];
const MAX_PAYLOAD: usize = 16_000;
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

type Reply = (u16, &'static str);
const TRANSPORT_UNKNOWN: Reply = (400, r#"{"code":0,"message":"Transport unknown"}"#);
const SID_UNKNOWN: Reply = (400, r#"{"code":1,"message":"Session ID unknown"}"#);
const BAD_METHOD: Reply = (400, r#"{"code":2,"message":"Bad handshake method"}"#);
const BAD_REQUEST: Reply = (400, r#"{"code":3,"message":"Bad request"}"#);
const FORBIDDEN: Reply = (403, r#"{"code":4,"message":"Forbidden"}"#);
const BAD_VERSION: Reply = (
    400,
    r#"{"code":5,"message":"Unsupported protocol version"}"#,
);
const HEAD_TOO_LARGE: Reply = (431, "request headers too large");

/// Polling on the case's own fresh session.
const SESSION: &str = "EIO=4&transport=polling&sid={sid}";
const HANDSHAKE: &str = "EIO=4&transport=polling";
/// Sids of the right shape that no node issued: on this node, and on none.
const UNKNOWN: &str = "hostile-AAAAAAAAAAAAAAAAAAAAAA";
const NO_NODE: &str = "nobody-AAAAAAAAAAAAAAAAAAAAAA";
const OCTETS: &str = "application/octet-stream";

fn cases() -> Vec<Case> {
    let long = "x".repeat(3000);
    let over_payload = "x".repeat(MAX_PAYLOAD);
    let (allowed, evil) = ("https://allowed.example", "https://evil.example");
    let binary_due = attachments(1, "");
    let three_attachments = attachments(3, "\x1ebAQ==\x1ebAg==\x1ebAw==");
    let mut cases = vec![
        // HTTP
        http("no query", get("")).is(TRANSPORT_UNKNOWN),
        http("unknown transport", get("EIO=4&transport=pigeon")).is(TRANSPORT_UNKNOWN),
        http("EIO=3", get("EIO=3&transport=polling")).is(BAD_VERSION),
        http("EIO missing", get("transport=polling")).is(BAD_VERSION),
        http("unknown sid", get(&polling(UNKNOWN))).is(SID_UNKNOWN),
        http("malformed sid", get(&polling("not-a-sid"))).is(SID_UNKNOWN),
        http("sid with a path", get(&polling("..%2F..%2Fetc"))).is(SID_UNKNOWN),
        http("sid of no node", get(&polling(NO_NODE))).is(SID_UNKNOWN),
        http("handshake by POST", post(HANDSHAKE, "40")).is(BAD_METHOD),
        http("PUT", get(SESSION).method(Method::PUT)).is_then(BAD_REQUEST, Open),
        http("DELETE", get(SESSION).method(Method::DELETE)).is_then(BAD_REQUEST, Open),
        http("websocket, no upgrade", get(&websocket(""))).is(BAD_REQUEST),
        http("websocket, no upgrade, sid", get(&websocket("{sid}"))).is_then(BAD_REQUEST, Open),
        http("upgrade, unknown sid", get(&websocket(UNKNOWN)).upgrade()).is(SID_UNKNOWN),
        http("upgrade, no such node", get(&websocket(NO_NODE)).upgrade()).is(SID_UNKNOWN),
        http("long header", get(HANDSHAKE).header("x-filler", &long)).is(HEAD_TOO_LARGE),
        http("long URL", get(&format!("{HANDSHAKE}&pad={long}"))).is(HEAD_TOO_LARGE),
        http("foreign origin", get(HANDSHAKE).header("origin", evil)).is(FORBIDDEN),
        http("preflight", get(HANDSHAKE).preflight(allowed)).is((200, "")),
        http("foreign preflight", get(HANDSHAKE).preflight(evil)).is(FORBIDDEN),
        http("bare OPTIONS", get(HANDSHAKE).method(Method::OPTIONS)).is((204, "")),
        // Polling payloads on a fresh session
        http("over maxPayload", post(SESSION, format!("4{over_payload}"))).is_then((413, ""), Open),
        http("octet-stream", post(SESSION, "4a").content_type(OCTETS)).is_then(BAD_REQUEST, Closed),
        http("not engine.io", post(SESSION, "hello")).is_then(BAD_REQUEST, Closed),
        http("open from a client", post(SESSION, "0{}")).is_then(BAD_REQUEST, Closed),
        http("unknown packet type", post(SESSION, "9")).is_then(BAD_REQUEST, Closed),
        http("bad base64", post(SESSION, "b!!!")).is_then(BAD_REQUEST, Closed),
        http("empty record", post(SESSION, "4a\x1e\x1e4b")).is_then(BAD_REQUEST, Closed),
        http("empty body", post(SESSION, "")).is_then(BAD_REQUEST, Closed),
        http("not UTF-8", post(SESSION, b"4\xff".to_vec())).is_then(BAD_REQUEST, Closed),
        stalled_post("stalled POST", BODY_TIMEOUT).is_then((408, ""), Open),
        overlapping_gets("overlapping GETs").replies_then(vec![(200, "1"), BAD_REQUEST], Closed),
        // WebSocket frames after a CONNECT
        ws("over maxPayload", [text(&format!("4{over_payload}"))]).closes(Some(1009)),
        ws("unknown packet type", [text("9")]).closes(None),
        ws("open from a client", [text("0{}")]).closes(None),
        ws("binary, none pending", [Frame::Binary(vec![1, 2, 3])]).closes(None),
        ws("attachments due", [text(&binary_due), text("42[1]")]).closes(None),
        // socket.io packets after a CONNECT
        socket_io("event that is an object", [send("42{}")]).then(Closed),
        socket_io("reserved event name", [send(r#"42["connect"]"#)]).then(Closed),
        socket_io("ACK that is no array", [send(r#"431{"a":1}"#)]).then(Closed),
        socket_io("unknown socket.io type", [send("47")]).then(Closed),
        socket_io("CONNECT_ERROR by a client", [send(r#"44{"message":"no"}"#)]).then(Closed),
        socket_io("JSON 9 deep", [send(r#"42["e",[[[[[[[[1]]]]]]]]]"#)]).then(Closed),
        socket_io(
            "9 deep, \" in nsp",
            [send(r#"42/a",["e",[[[[[[[[1]]]]]]]]]"#)],
        )
        .then(Closed),
        socket_io(
            "JSON 8 deep",
            [
                send(r#"421["echo",[[[[[[[1]]]]]]]]"#),
                recv("31[[[[[[[[1]]]]]]]]"),
            ],
        )
        .then(Open),
        socket_io("3 attachments", [send(&three_attachments)]).then(Closed),
        socket_io(
            "2 attachments",
            [
                send(&attachments(2, "\x1ebAQ==\x1ebAg==")),
                recv(r#"62-1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            ],
        )
        .then(Open),
        socket_io("CONNECT, string auth", [send(r#"40/custom,"token""#)]).then(Closed),
        socket_io("CONNECT, array auth", [send("40/custom,[1]")]).then(Closed),
        socket_io(
            "namespace beyond max_namespaces",
            [
                // The pending CONNECT to /custom counts.
                send("40/custom,\x1e40/nope,"),
                recv(r#"4/nope,{"message":"too many namespaces: at most 2 per connection"}"#),
                recv(r#"0/custom,{"sid":"{any}"}"#),
                recv(r#"2/custom,["auth",{}]"#),
                send("41/custom,"),
                send("40/nope,"),
                recv(r#"4/nope,{"message":"Invalid namespace"}"#),
            ],
        )
        .then(Open),
        socket_io(
            "event for a namespace not joined",
            [
                send(r#"42/custom,7["echo",1]"#),
                send(r#"428["echo",2]"#),
                recv("38[2]"),
            ],
        )
        .then(Open),
        socket_io(
            "event without a handler",
            [
                send(r#"427["no-such-event",1]"#),
                send(r#"428["echo",2]"#),
                recv("38[2]"),
            ],
        )
        .then(Open),
        // Limits of the echo app's rooms and acks
        socket_io(
            "joins beyond max_rooms_per_socket",
            [
                send(r#"421["join","limit-a"]"#),
                recv("31[]"),
                send(r#"422["join","limit-b"]"#),
                recv("32[]"),
                send(r#"423["join","limit-c"]"#),
                recv("33[]"),
                Step::Rooms("limit-a", &["bench", "limit-a", "limit-b"]),
                send(r#"424["leave","limit-b"]"#),
                recv("34[]"),
                send(r#"425["join","limit-c"]"#),
                recv("35[]"),
                Step::Rooms("limit-a", &["bench", "limit-a", "limit-c"]),
            ],
        )
        .then(Open),
        socket_io(
            "third awaited ack",
            [
                send(r#"421["request-ack","silent",10000]"#),
                recv(r#"2{any}["silent"]"#),
                send(r#"422["request-ack","silent",10000]"#),
                recv(r#"2{any}["silent"]"#),
                send(r#"423["request-ack","silent",10000]"#),
                recv(r#"33[{"ok":false,"error":"too many acks awaited from this socket"}]"#),
            ],
        )
        .then(Open),
    ];
    // Namespace names: CONNECT_ERROR, nothing else.
    for nsp in [
        "/a.b",
        "/*",
        "/>",
        "/..",
        "/custom/..",
        "/ ",
        "/[[[[[[[[[",
        "/a\"[[[[[[[[[",
    ] {
        let refused = format!(r#"4{nsp},{{"message":"Invalid namespace"}}"#);
        let steps = vec![send(&format!("40{nsp},")), recv(&refused)];
        cases.push(socket_io(&format!("namespace {nsp:?}"), steps).then(Open));
    }
    // Room names: joined, and a broadcast to the room reaches the socket.
    for room in [
        "a.b",
        "*",
        ">",
        "two words",
        "ünïcødé 🚂",
        "",
        &"r".repeat(10_000),
    ] {
        let json = serde_json::to_string(room).expect("JSON string");
        let steps = vec![
            send(&format!(r#"421["join",{json}]"#)),
            recv("31[]"),
            send(&format!(r#"422["to-room",{json},"hit",1]"#)),
            Step::RecvAll(vec![r#"2["hit",1]"#.into(), "32[]".into()]),
        ];
        let name: String = room.chars().take(12).collect();
        cases.push(socket_io(&format!("room {name:?}"), steps).then(Open));
    }
    cases
}

#[actix_rt::test]
async fn hostile_inputs_get_their_answers_and_the_node_serves_on() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let node = NodeProcess::start(NODE);
    run_cases(&node, &cases).await;
}

/// Each row: a variable, and after `=>` what the refusal must name.
#[test]
fn bad_limits_and_lists_stop_start_up_and_name_the_key() {
    let rows = [
        "SWITCHYARD_LIMITS__MAX_JSON_DEPTH=0 => limits.max_json_depth",
        "SWITCHYARD_LIMITS__MAX_NAMESPACES=0 => limits.max_namespaces",
        "SWITCHYARD_LIMITS__MAX_HEADER_BYTES=10 => limits.max_header_bytes",
        "SWITCHYARD_LIMITS__BODY_TIMEOUT_MS=0 => limits.body_timeout_ms",
        "SWITCHYARD_LIMITS__MAX_SESSIONS=lots => limits.max_sessions",
        "SWITCHYARD_LIMITS__MAX_ATTACHMENTS=-1 => limits.max_attachments",
        "SWITCHYARD_LIMITS__NOPE=1 => unknown field `nope`, for key `limits`",
        "SWITCHYARD_LIMITS=1 => for key `limits`",
        "SWITCHYARD_BRIDGE__NAMESPACES=chat => bridge.namespaces",
        "SWITCHYARD_BRIDGE__NAMESPACES=/ok, => bridge.namespaces",
        "SWITCHYARD_BRIDGE__HEADERS=Bad Header => bridge.headers",
        "SWITCHYARD_PING_INTERVAL_MS=abc => ping_interval_ms",
        "SWITCHYARD_CORS__ORIGINS=https://a.example/path => cors.origins",
    ];
    for row in rows {
        let (setting, named) = row.split_once(" => ").expect("a row");
        let (key, value) = setting.split_once('=').expect("KEY=value");
        let refused = NodeProcess::spawn(&[(key, value)]).refused();
        let printed = refused.unwrap_or_else(|why| panic!("{setting}: {why}"));
        for name in named.split(", ") {
            assert!(printed.contains(name), "{setting}: {name} not in {printed}");
        }
    }
}

/// A polling request's query for this sid.
fn polling(sid: &str) -> String {
    format!("{HANDSHAKE}&sid={sid}")
}

/// A WebSocket request's query, for this sid when there is one.
fn websocket(sid: &str) -> String {
    match sid {
        "" => "EIO=4&transport=websocket".into(),
        sid => format!("EIO=4&transport=websocket&sid={sid}"),
    }
}

/// A `message-with-ack` announcing `count` attachments, then `rest`.
fn attachments(count: usize, rest: &str) -> String {
    let placeholders: Vec<String> = (0..count)
        .map(|num| format!(r#"{{"_placeholder":true,"num":{num}}}"#))
        .collect();
    let placeholders = placeholders.join(",");
    format!(r#"45{count}-1["message-with-ack",{placeholders}]{rest}"#)
}
