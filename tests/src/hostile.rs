//! Hostile inputs as data: each [`Case`] is an input and the answer it must
//! get, and [`run_cases`] sends them to a node one by one, checking after
//! each that a fresh client is still served. `tests/hostile_inputs.rs`
//! holds the table.

use std::{
    panic::AssertUnwindSafe,
    time::{Duration, Instant},
};

use awc::http::Method;
use futures_util::{FutureExt as _, SinkExt as _};

use crate::{
    raw::{reply, tcp_request, ws_closed, ws_send, ws_text, SocketIoPolling},
    NodeProcess, RawEngine, Reply,
};

/// Longer than any case needs: a case that takes it has hung.
const CASE_LIMIT: Duration = Duration::from_secs(10);
/// How long an expected packet may take; a closed session's GET is
/// answered at once, while a live one's is parked for pingInterval.
const PACKET_LIMIT: Duration = Duration::from_secs(5);

/// One input and its expected answer, built with [`http`], [`ws`],
/// [`socket_io`] and the like, then [`Sent::is`] and the like.
pub struct Case {
    /// Named in every failure.
    name: String,
    input: Input,
    answer: Answer,
}

/// What a case sends.
enum Input {
    /// One request to the endpoint; `{sid}` in its query is a fresh session's.
    Http(Request),
    /// A POST on a fresh session that declares 100 bytes, sends 2 and
    /// stalls; the answer must not come before this body timeout.
    StalledPost(Duration),
    /// Two GETs at once on a fresh session.
    OverlappingGets,
    /// Frames on a fresh WebSocket session connected to `/`.
    WebSocket(Vec<Frame>),
    /// A conversation over polling, connected to `/`.
    SocketIo(Vec<Step>),
}

/// What a case must get.
enum Answer {
    /// Status and body of each reply (ordered by status when concurrent),
    /// then what became of the case's session, if it has one.
    Replies(Vec<(u16, &'static str)>, Option<After>),
    /// The server closes the WebSocket with this close code (`None`: a
    /// close frame without one).
    WsClose(Option<u16>),
    /// The packets the steps expect, then the session is open or closed.
    Session(After),
}

/// What became of the case's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// It still connects and echoes.
    Open,
    /// Its sid is unknown.
    Closed,
}

/// An HTTP request, built with [`get`] and [`post`].
pub struct Request {
    method: Method,
    query: String,
    headers: Vec<(&'static str, String)>,
    content_type: &'static str,
    body: Vec<u8>,
}

/// A WebSocket frame a case sends.
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// One step of a socket.io conversation.
pub enum Step {
    /// POSTs this engine.io payload: `4` and a socket.io packet, `\x1e` between packets.
    Send(String),
    /// The next socket.io packet (the `auth` event of `/` skipped); `{any}` matches any text.
    Recv(String),
    /// The next packets, in any order.
    RecvAll(Vec<String>),
    /// The echo app's `fetch-sockets` to this room finds one socket, in
    /// its own room and exactly these.
    Rooms(&'static str, &'static [&'static str]),
}

/// A case's name and input, waiting for its answer.
pub struct Sent {
    name: String,
    input: Input,
}

/// One HTTP request.
pub fn http(name: &str, request: Request) -> Sent {
    sent(name, Input::Http(request))
}

/// A POST body that stalls; the answer must not come before `body_timeout`.
pub fn stalled_post(name: &str, body_timeout: Duration) -> Sent {
    sent(name, Input::StalledPost(body_timeout))
}

/// Two GETs at once.
pub fn overlapping_gets(name: &str) -> Sent {
    sent(name, Input::OverlappingGets)
}

/// WebSocket frames.
pub fn ws(name: &str, frames: impl IntoIterator<Item = Frame>) -> Sent {
    sent(name, Input::WebSocket(frames.into_iter().collect()))
}

/// A socket.io conversation.
pub fn socket_io(name: &str, steps: impl IntoIterator<Item = Step>) -> Sent {
    sent(name, Input::SocketIo(steps.into_iter().collect()))
}

fn sent(name: &str, input: Input) -> Sent {
    Sent {
        name: name.into(),
        input,
    }
}

impl Sent {
    /// Answered with this status and body; no session to check.
    pub fn is(self, reply: (u16, &'static str)) -> Case {
        self.answer(Answer::Replies(vec![reply], None))
    }

    /// Answered with this status and body, then the session is `after`.
    pub fn is_then(self, reply: (u16, &'static str), after: After) -> Case {
        self.replies_then(vec![reply], after)
    }

    /// Answered with these replies, ordered by status, then the session is `after`.
    pub fn replies_then(self, replies: Vec<(u16, &'static str)>, after: After) -> Case {
        self.answer(Answer::Replies(replies, Some(after)))
    }

    /// Answered with a WebSocket close with this code (`None`: without one).
    pub fn closes(self, code: Option<u16>) -> Case {
        self.answer(Answer::WsClose(code))
    }

    /// A conversation whose session is then open or closed.
    pub fn then(self, after: After) -> Case {
        self.answer(Answer::Session(after))
    }

    fn answer(self, answer: Answer) -> Case {
        Case {
            name: self.name,
            input: self.input,
            answer,
        }
    }
}

/// A GET with this query.
pub fn get(query: &str) -> Request {
    Request {
        method: Method::GET,
        query: query.into(),
        headers: vec![],
        content_type: "",
        body: vec![],
    }
}

/// A text/plain POST of `body` with this query.
pub fn post(query: &str, body: impl Into<Vec<u8>>) -> Request {
    Request {
        method: Method::POST,
        body: body.into(),
        content_type: "text/plain;charset=UTF-8",
        ..get(query)
    }
}

impl Request {
    /// The same request with another method.
    pub fn method(self, method: Method) -> Self {
        Self { method, ..self }
    }

    /// The same POST with another content type.
    pub fn content_type(self, content_type: &'static str) -> Self {
        Self {
            content_type,
            ..self
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds the headers of a WebSocket upgrade.
    pub fn upgrade(self) -> Self {
        self.header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    /// Makes it a CORS preflight from `origin`.
    pub fn preflight(self, origin: &str) -> Self {
        self.method(Method::OPTIONS)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
    }
}

/// A text frame.
pub fn text(text: &str) -> Frame {
    Frame::Text(text.into())
}

/// A [`Step::Send`].
pub fn send(payload: &str) -> Step {
    Step::Send(payload.into())
}

/// A [`Step::Recv`].
pub fn recv(packet: &str) -> Step {
    Step::Recv(packet.into())
}

/// Runs every case against the socket.io endpoint of `node`, and after
/// each one checks that a fresh client is still served. A failure names
/// its case and shows the end of the node's log.
pub async fn run_cases(node: &NodeProcess, cases: &[Case]) {
    let raw = RawEngine::new(&node.url(), "/socket.io/");
    for case in cases {
        guarded(&case.name, "answer", node, run(node, &raw, case)).await;
        guarded(&case.name, "fresh client after it", node, serves(&raw)).await;
    }
}

/// Runs one part of a case within [`CASE_LIMIT`], naming the case if it fails.
async fn guarded(
    case: &str,
    part: &str,
    node: &NodeProcess,
    work: impl std::future::Future<Output = ()>,
) {
    let outcome = AssertUnwindSafe(work).catch_unwind();
    let failure = match actix_rt::time::timeout(CASE_LIMIT, outcome).await {
        Ok(Ok(())) => return,
        Ok(Err(_)) => "failed, as printed above",
        Err(_) => "hung",
    };
    let log = node.log();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    panic!("case {case:?}: the {part} {failure}\nthe node's last lines:\n{tail}");
}

async fn run(node: &NodeProcess, raw: &RawEngine, case: &Case) {
    match (&case.input, &case.answer) {
        (Input::Http(request), Answer::Replies(expected, after)) => {
            let sid = if request.query.contains("{sid}") {
                Some(raw.handshake().await.0)
            } else {
                None
            };
            let query = request.query.replace("{sid}", sid.as_deref().unwrap_or(""));
            let url = raw.url(&query);
            let url = url.strip_suffix('?').unwrap_or(&url);
            let mut builder = raw.client().request(request.method.clone(), url);
            for (name, value) in &request.headers {
                builder = builder.insert_header((*name, value.as_str()));
            }
            let response = match request.method {
                Method::POST => {
                    let builder = builder.content_type(request.content_type);
                    builder.send_body(request.body.clone()).await
                }
                _ => builder.send().await,
            };
            check_replies(vec![reply(response.expect("request")).await], expected);
            check_after(raw, sid, *after).await;
        }
        (Input::StalledPost(body_timeout), Answer::Replies(expected, after)) => {
            let (sid, _) = raw.handshake().await;
            let url = raw.polling_url(&sid);
            let target = url.split_once(node.addr()).map_or("", |(_, target)| target);
            let request = format!(
                "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
                 Content-Length: 100\r\n\r\n4x",
                node.addr()
            );
            let started = Instant::now();
            let reply = tcp_request(node.addr(), request.as_bytes()).await;
            let waited = started.elapsed();
            assert!(waited >= *body_timeout, "answered after {waited:?}");
            check_replies(vec![reply], expected);
            check_after(raw, Some(sid), *after).await;
        }
        (Input::OverlappingGets, Answer::Replies(expected, after)) => {
            let (sid, _) = raw.handshake().await;
            let url = raw.polling_url(&sid);
            let (first, second) = tokio::join!(raw.get(&url), raw.get(&url));
            check_replies(vec![first, second], expected);
            check_after(raw, Some(sid), *after).await;
        }
        (Input::WebSocket(frames), Answer::WsClose(code)) => {
            let mut ws = raw.websocket("EIO=4&transport=websocket").await;
            assert!(ws_text(&mut ws).await.starts_with("0{"));
            ws_send(&mut ws, "40").await;
            assert!(ws_text(&mut ws).await.starts_with("40{"));
            for frame in frames {
                match frame {
                    Frame::Text(text) => ws_send(&mut ws, text).await,
                    Frame::Binary(bytes) => {
                        let message = awc::ws::Message::Binary(bytes.clone().into());
                        ws.send(message).await.expect("WebSocket send");
                    }
                }
            }
            let reason = ws_closed(&mut ws).await.expect("a close frame");
            let got = reason.as_ref().map(|reason| u16::from(reason.code));
            assert_eq!(got, *code, "{reason:?}");
        }
        (Input::SocketIo(steps), Answer::Session(after)) => {
            let mut client = SocketIoPolling::connect(raw.clone()).await;
            for step in steps {
                converse(&mut client, step).await;
            }
            match after {
                After::Open => assert_echoes(&mut client).await,
                After::Closed => {
                    let get = actix_rt::time::timeout(PACKET_LIMIT, client.get_via(raw));
                    assert_unknown(get.await.expect("the session is open: its GET was parked"));
                }
            }
        }
        _ => panic!("this input cannot get that answer"),
    }
}

fn check_replies(mut replies: Vec<Reply>, expected: &[(u16, &str)]) {
    replies.sort_by_key(|reply| reply.status);
    let got: Vec<(u16, &str)> = replies
        .iter()
        .map(|reply| (reply.status.as_u16(), reply.body.as_str()))
        .collect();
    assert_eq!(got, expected);
}

/// Whether the case's session lives on, or is gone.
async fn check_after(raw: &RawEngine, sid: Option<String>, after: Option<After>) {
    let (Some(sid), Some(after)) = (sid, after) else {
        assert!(after.is_none(), "the case has no session to check");
        return;
    };
    match after {
        After::Open => {
            let mut client = SocketIoPolling::connect_session(raw.clone(), sid).await;
            assert_echoes(&mut client).await;
        }
        After::Closed => assert_unknown(raw.get(&raw.polling_url(&sid)).await),
    }
}

async fn assert_echoes(client: &mut SocketIoPolling) {
    assert_eq!(client.post(r#"4299["echo","open"]"#).await, "ok");
    assert_eq!(client.next_not_auth().await, r#"399["open"]"#);
}

fn assert_unknown(reply: Reply) {
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, Some(1)),
        "{reply:?}"
    );
}

async fn converse(client: &mut SocketIoPolling, step: &Step) {
    match step {
        Step::Send(payload) => assert_eq!(client.post(payload).await, "ok", "POST {payload}"),
        Step::Recv(pattern) => {
            let packet = next(client, pattern).await;
            assert!(
                matches(pattern, &packet),
                "expected {pattern}, got {packet}"
            );
        }
        Step::RecvAll(patterns) => {
            let mut packets = Vec::new();
            for pattern in patterns {
                packets.push(next(client, pattern).await);
            }
            for pattern in patterns {
                let found = packets.iter().position(|packet| matches(pattern, packet));
                let found = found.unwrap_or_else(|| panic!("no {pattern} among {packets:?}"));
                packets.remove(found);
            }
        }
        Step::Rooms(room, rooms) => {
            let ask = format!(r#"42900["fetch-sockets",{{"to":["{room}"]}}]"#);
            assert_eq!(client.post(&ask).await, "ok");
            let packet = next(client, "the fetch-sockets ack").await;
            let json = packet.strip_prefix("3900").expect("the fetch-sockets ack");
            let answer: serde_json::Value = serde_json::from_str(json).expect("JSON");
            let sockets = answer[0].as_array().expect("sockets");
            assert!(answer[1] == true && sockets.len() == 1, "{answer}");
            let mut found: Vec<String> = serde_json::from_value(sockets[0]["rooms"].clone())
                .unwrap_or_else(|_| panic!("rooms in {answer}"));
            let id = sockets[0]["id"].as_str().expect("id");
            let mut expected: Vec<String> = rooms.iter().map(|room| room.to_string()).collect();
            expected.push(id.to_owned());
            found.sort();
            expected.sort();
            assert_eq!(found, expected, "{answer}");
        }
    }
}

/// The next packet, which must come within [`PACKET_LIMIT`].
async fn next(client: &mut SocketIoPolling, expected: &str) -> String {
    let packet = actix_rt::time::timeout(PACKET_LIMIT, client.next_not_auth()).await;
    packet.unwrap_or_else(|_| panic!("expected {expected}, nothing came"))
}

/// Whether `text` is `pattern`, each `{any}` in it standing for any text.
fn matches(pattern: &str, text: &str) -> bool {
    let Some((head, tail)) = pattern.split_once("{any}") else {
        return pattern == text;
    };
    let Some(rest) = text.strip_prefix(head) else {
        return false;
    };
    (0..=rest.len()).any(|at| rest.is_char_boundary(at) && matches(tail, &rest[at..]))
}

/// A normal client gets through: handshake, CONNECT, an echo and its ack.
async fn serves(raw: &RawEngine) {
    let mut client = SocketIoPolling::connect(raw.clone()).await;
    assert_eq!(client.post(r#"421["echo","still served"]"#).await, "ok");
    assert_eq!(client.next_not_auth().await, r#"31["still served"]"#);
    assert_eq!(client.post("1").await, "ok");
}
