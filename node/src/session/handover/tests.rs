//! The old node's side of a move, driven through the session's mailbox:
//! who may claim, take and release a session, and what a refused or
//! abandoned move leaves behind. (End-to-end moves between real nodes are
//! in `tests/tests/cluster_handover.rs`.)

use std::{sync::Arc, time::Duration};

use actix::{Actor, Addr};
use bytes::Bytes;
use switchyard_gateway::{EndpointId, GatewayActor, HandshakeInfo, SessionRequest};
use switchyard_shared::{
    cluster::{PeerBody, Subjects},
    engine::{EngineError, Packet},
    sid::{NodeId, Sid},
};
use tokio::sync::oneshot;

use crate::{
    app::EngineEcho,
    cluster::{Cluster, InProcessHub, MembershipActor, Peers},
    session::{
        actor::SessionParts,
        testing::{poll, start_post},
        SessionActor, SessionConfig,
    },
};

const BAD_REQUEST: PeerBody = PeerBody::Refused(3);

/// A polling session of node `n0` that may move, running the engine echo.
fn movable_session() -> Addr<SessionActor> {
    let node = NodeId::parse("n0").expect("node id");
    let cluster = Cluster {
        node: node.clone(),
        bus: Arc::new(InProcessHub::default().bus()),
        subjects: Subjects::new("test").expect("prefix"),
    };
    let membership = MembershipActor::new(
        cluster.clone(),
        Duration::from_secs(1),
        Duration::from_secs(3),
    );
    let members = membership.members();
    membership.start();
    let config = Arc::new(SessionConfig {
        ping_interval: Duration::from_secs(60),
        ping_timeout: Duration::from_secs(60),
        upgrade_timeout: Duration::from_secs(60),
        websocket_enabled: true,
        max_buffered_packets: 16,
    });
    let parts = SessionParts {
        node: node.clone(),
        sid: Sid::new(&node, uuid::Uuid::new_v4().into_bytes()),
        endpoint: EndpointId(0),
        config,
        gateway: GatewayActor::default().start(),
        peers: Some(Peers::new(cluster, members, Duration::from_secs(5))),
        info: HandshakeInfo::default(),
    };
    SessionActor::new(parts, Box::new(EngineEcho), Packet::Open("{}".into()), None).start()
}

/// Node `from` says `body` about the session; its answer, if it asked.
async fn ask(session: &Addr<SessionActor>, from: &str, body: PeerBody) -> PeerBody {
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Peer {
        from: from.to_owned(),
        body,
        reply: Some(reply),
    });
    answer.await.expect("an answer")
}

fn tell(session: &Addr<SessionActor>, from: &str, body: PeerBody) {
    session.do_send(SessionRequest::Peer {
        from: from.to_owned(),
        body,
        reply: None,
    });
}

async fn echo(session: &Addr<SessionActor>, text: &str) {
    let (body, answer) = start_post(session);
    body.send(Ok(Bytes::from(format!("4{text}"))))
        .expect("body");
    assert_eq!(answer.await, Ok(Ok(())));
}

#[actix_rt::test]
async fn only_the_claimer_takes_the_session_and_polling_ends_there() {
    let session = movable_session();
    assert_eq!(poll(&session).await, Ok(Ok(Bytes::from_static(b"0{}"))));
    let parked = poll(&session);
    assert_eq!(
        ask(&session, "n1", PeerBody::Claim).await,
        PeerBody::Accepted
    );
    // One upgrade at a time.
    assert_eq!(ask(&session, "n2", PeerBody::Claim).await, BAD_REQUEST);
    // The probe was answered on n1: the parked GET is released.
    tell(&session, "n1", PeerBody::Probed);
    assert_eq!(parked.await, Ok(Ok(Bytes::from_static(b"6"))));
    // Packets buffered before the take travel with the session.
    echo(&session, "before").await;
    assert_eq!(ask(&session, "n2", PeerBody::Take).await, BAD_REQUEST);
    let PeerBody::Snapshot(snapshot) = ask(&session, "n1", PeerBody::Take).await else {
        panic!("no snapshot");
    };
    assert_eq!(snapshot.outbox.len(), 1);
    assert!(snapshot.next_ping_ms <= 60_000 && snapshot.pong_due_ms.is_none());
    // Polling is over here, but the session is not closed.
    assert_eq!(poll(&session).await, Ok(Err(EngineError::BadRequest)));
    assert_eq!(ask(&session, "n2", PeerBody::Release).await, BAD_REQUEST);
    assert_eq!(
        ask(&session, "n1", PeerBody::Release).await,
        PeerBody::Relayed(Vec::new())
    );
    // The tombstone stays, refusing polling and further moves.
    assert_eq!(poll(&session).await, Ok(Err(EngineError::BadRequest)));
    assert_eq!(ask(&session, "n1", PeerBody::Claim).await, BAD_REQUEST);
}

#[actix_rt::test]
async fn an_abandoned_claim_leaves_the_session_polling() {
    let session = movable_session();
    assert_eq!(poll(&session).await, Ok(Ok(Bytes::from_static(b"0{}"))));
    assert_eq!(
        ask(&session, "n1", PeerBody::Claim).await,
        PeerBody::Accepted
    );
    tell(&session, "n1", PeerBody::Abort { imported: false });
    echo(&session, "still polling").await;
    assert_eq!(
        poll(&session).await,
        Ok(Ok(Bytes::from_static(b"4still polling")))
    );
    // And it may be claimed again.
    assert_eq!(
        ask(&session, "n2", PeerBody::Claim).await,
        PeerBody::Accepted
    );
}

#[actix_rt::test]
async fn a_move_abandoned_after_the_take_closes_the_session() {
    let session = movable_session();
    assert_eq!(
        ask(&session, "n1", PeerBody::Claim).await,
        PeerBody::Accepted
    );
    assert!(matches!(
        ask(&session, "n1", PeerBody::Take).await,
        PeerBody::Snapshot(_)
    ));
    tell(&session, "n1", PeerBody::Abort { imported: false });
    // The session is gone: its next request is dropped.
    assert!(poll(&session).await.is_err());
}
