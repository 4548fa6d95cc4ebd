//! Session actor behaviour that needs exact message order, which only a
//! direct mailbox gives (HTTP requests from a test may arrive in any order).

use std::{sync::Arc, time::Duration};

use actix::Actor;
use bytes::Bytes;
use switchyard_gateway::{session::BodyError, EndpointId, GatewayActor, SessionRequest};
use switchyard_shared::{
    engine::{EngineError, Packet},
    sid::{NodeId, Sid},
};
use tokio::sync::oneshot;

use super::{SessionActor, SessionConfig};
use crate::app::EngineEcho;

fn session() -> actix::Addr<SessionActor> {
    let config = Arc::new(SessionConfig {
        ping_interval: Duration::from_secs(60),
        ping_timeout: Duration::from_secs(60),
        upgrade_timeout: Duration::from_secs(60),
        websocket_enabled: true,
        max_buffered_packets: 4,
    });
    let node = NodeId::parse("test").expect("node id");
    SessionActor::new(
        Sid::new(&node, [7; 16]),
        EndpointId(0),
        config,
        GatewayActor::default().start(),
        Box::new(EngineEcho),
        Packet::Open("{}".into()),
        None,
    )
    .start()
}

/// Where a test hands over a POST body, and where the POST's answer arrives.
type PostHandles = (
    oneshot::Sender<Result<Bytes, BodyError>>,
    oneshot::Receiver<Result<(), EngineError>>,
);

fn post(session: &actix::Addr<SessionActor>) -> PostHandles {
    let (body_tx, body) = oneshot::channel();
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Post { body, reply });
    (body_tx, answer)
}

#[actix_rt::test]
async fn an_overlapping_post_is_refused_and_closes_the_session() {
    let session = session();
    // The first POST's body is still on its way when the second arrives.
    let (_still_reading, first) = post(&session);
    let (_, second) = post(&session);
    assert_eq!(second.await, Ok(Err(EngineError::BadRequest)));
    assert!(
        first.await.is_err(),
        "the closed session drops the first POST"
    );
}

#[actix_rt::test]
async fn sequential_posts_are_echoed_in_order_on_one_get() {
    let session = session();
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Poll(reply));
    assert_eq!(answer.await, Ok(Ok(Bytes::from_static(b"0{}"))));
    for text in ["4one\x1e4two", "4three"] {
        let (body, answer) = post(&session);
        body.send(Ok(Bytes::from(text))).expect("body");
        assert_eq!(answer.await, Ok(Ok(())));
    }
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Poll(reply));
    let expected = Bytes::from_static(b"4one\x1e4two\x1e4three");
    assert_eq!(answer.await, Ok(Ok(expected)));
}

#[actix_rt::test]
async fn a_full_buffer_closes_the_session() {
    let session = session();
    // The open packet takes one of four places; five echoes overflow it.
    let (body, answer) = post(&session);
    body.send(Ok(Bytes::from("4a\x1e4b\x1e4c\x1e4d\x1e4e")))
        .expect("body");
    assert_eq!(answer.await, Ok(Ok(())));
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Poll(reply));
    assert!(answer.await.is_err(), "the session is gone");
}
