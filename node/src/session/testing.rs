//! A session driven straight through its mailbox, for unit tests of the
//! session and of the apps that run in it.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use actix::{Actor, Addr};
use bytes::Bytes;
use switchyard_gateway::{
    session::{BodyError, PollReply},
    EndpointId, GatewayActor, HandshakeInfo, SessionRequest,
};
use switchyard_shared::{
    engine::{EngineError, Packet},
    sid::{NodeId, Sid},
};
use tokio::sync::oneshot;

use super::{actor::SessionParts, SessionActor, SessionConfig};
use crate::app::EngineApp;

/// Where a test hands over a POST body, and where the POST's answer arrives.
pub(crate) type PostHandles = (
    oneshot::Sender<Result<Bytes, BodyError>>,
    oneshot::Receiver<Result<(), EngineError>>,
);

/// A polling session with long heartbeats, running `app`; the open packet is `0{}`.
pub(crate) fn start_session(
    app: Box<dyn EngineApp>,
    max_buffered_packets: usize,
) -> Addr<SessionActor> {
    let config = Arc::new(SessionConfig {
        ping_interval: Duration::from_secs(60),
        ping_timeout: Duration::from_secs(60),
        upgrade_timeout: Duration::from_secs(60),
        websocket_enabled: true,
        max_buffered_packets,
    });
    let node = NodeId::parse("test").expect("node id");
    let random = uuid::Uuid::new_v4().into_bytes();
    let parts = SessionParts {
        node: node.clone(),
        sid: Sid::new(&node, random),
        endpoint: EndpointId(0),
        config,
        gateway: GatewayActor::default().start(),
        peers: None,
        info: HandshakeInfo::default(),
    };
    SessionActor::new(parts, app, Packet::Open("{}".into()), None).start()
}

/// Starts a POST whose body the test sends later.
pub(crate) fn start_post(session: &Addr<SessionActor>) -> PostHandles {
    let (body_tx, body) = oneshot::channel();
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Post { body, reply });
    (body_tx, answer)
}

/// A GET; its answer arrives when the session has something to send.
pub(crate) fn poll(session: &Addr<SessionActor>) -> oneshot::Receiver<PollReply> {
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Poll(reply));
    answer
}

/// A polling client of a session, speaking engine.io text.
pub(crate) struct TestClient {
    pub(crate) session: Addr<SessionActor>,
    backlog: VecDeque<String>,
}

impl TestClient {
    /// A client of a new session running `app`.
    pub(crate) fn new(app: Box<dyn EngineApp>) -> Self {
        Self {
            session: start_session(app, 1024),
            backlog: VecDeque::new(),
        }
    }

    /// POSTs one engine.io message (`text` without the `4`).
    pub(crate) async fn send(&self, text: &str) {
        let (body, answer) = start_post(&self.session);
        let _ = body.send(Ok(Bytes::from(format!("4{text}"))));
        assert_eq!(answer.await, Ok(Ok(())), "POST {text}");
    }

    /// The next engine.io message (without the `4`), skipping other packets.
    pub(crate) async fn next(&mut self) -> String {
        loop {
            if let Some(packet) = self.backlog.pop_front() {
                if let Some(message) = packet.strip_prefix('4') {
                    return message.to_owned();
                }
                continue;
            }
            let answer = tokio::time::timeout(Duration::from_secs(10), poll(&self.session))
                .await
                .expect("nothing sent within 10 s")
                .expect("session gone")
                .expect("GET refused");
            let text = String::from_utf8_lossy(&answer).into_owned();
            self.backlog.extend(text.split('\x1e').map(str::to_owned));
        }
    }
}
