//! WebSocket: direct sessions, upgrades from polling, and the frame pump.
//!
//! actix-ws hands us a sink and a stream that must stay on the HTTP worker
//! that accepted the connection. Two small tasks there move frames: the
//! reader sends each frame to the session as a [`SessionRequest`] (waiting
//! for the session's mailbox, so a fast client is slowed, not buffered), and
//! the writer drains the session's bounded [`WsLink`] queue into the socket.

use std::sync::atomic::{AtomicU64, Ordering};

use actix::Recipient;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, MessageStream, Session};
use switchyard_shared::{
    engine::{EngineError, Frame},
    sid::Sid,
};
use tokio::sync::mpsc;
use tracing::debug;

use crate::{
    gateway_actor::Lookup,
    routes::{error_response, Endpoint},
    session::{HandshakeInfo, Opening, SessionRequest, WsLink, WsOut},
};

static NEXT_LINK: AtomicU64 = AtomicU64::new(1);

/// Starts a session directly over WebSocket.
pub(crate) fn handshake(
    ep: &Endpoint,
    req: &HttpRequest,
    body: web::Payload,
    info: HandshakeInfo,
) -> HttpResponse {
    accept(ep, req, body, |link| {
        ep.factory.open(ep.id, info, Opening::WebSocket(link))
    })
}

/// Accepts a WebSocket for an existing polling session (the upgrade).
///
/// A session of another node is claimed from its owner first, and moves
/// here once the client completes the upgrade. An unknown sid is refused
/// before the socket opens.
pub(crate) async fn upgrade(
    ep: &Endpoint,
    req: &HttpRequest,
    body: web::Payload,
    sid: Sid,
) -> HttpResponse {
    if sid.node() != ep.node.as_str() {
        return match ep.factory.claim(ep.id, sid).await {
            Ok(adopt) => accept(ep, req, body, adopt),
            Err(error) => error_response(error),
        };
    }
    let lookup = ep
        .gateway
        .send(Lookup {
            sid,
            endpoint: ep.id,
        })
        .await;
    let Ok(Some(session)) = lookup else {
        return error_response(EngineError::UnknownSid);
    };
    accept(ep, req, body, |link| {
        session.do_send(SessionRequest::AttachWebSocket(link));
        session
    })
}

/// Completes the WebSocket handshake, gives the new link to a session with
/// `attach`, and starts the pump between the two.
fn accept(
    ep: &Endpoint,
    req: &HttpRequest,
    body: web::Payload,
    attach: impl FnOnce(WsLink) -> Recipient<SessionRequest>,
) -> HttpResponse {
    let Ok((response, socket, stream)) = actix_ws::handle(req, body) else {
        return error_response(EngineError::BadRequest);
    };
    let (link, outbound) = new_link(ep.settings.max_buffered_packets);
    let id = link.id;
    let session = attach(link);
    spawn_pump(
        socket,
        stream,
        outbound,
        id,
        session,
        ep.settings.max_payload,
    );
    response
}

fn new_link(capacity: usize) -> (WsLink, mpsc::Receiver<WsOut>) {
    let (outbound, receiver) = mpsc::channel(capacity);
    let id = NEXT_LINK.fetch_add(1, Ordering::Relaxed);
    (WsLink { id, outbound }, receiver)
}

fn spawn_pump(
    socket: Session,
    stream: MessageStream,
    outbound: mpsc::Receiver<WsOut>,
    link: u64,
    session: Recipient<SessionRequest>,
    max_payload: usize,
) {
    actix_web::rt::spawn(write_loop(socket.clone(), outbound));
    let stream = stream
        .max_frame_size(max_payload)
        .aggregate_continuations()
        .max_continuation_size(max_payload);
    actix_web::rt::spawn(read_loop(socket, stream, link, session));
}

async fn write_loop(mut socket: Session, mut outbound: mpsc::Receiver<WsOut>) {
    while let Some(out) = outbound.recv().await {
        let sent = match out {
            WsOut::Frame(Frame::Text(text)) => socket.text(text).await,
            WsOut::Frame(Frame::Binary(bytes)) => socket.binary(bytes).await,
            WsOut::Close => break,
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = socket.close(None).await;
}

async fn read_loop(
    mut socket: Session,
    mut stream: actix_ws::AggregatedMessageStream,
    link: u64,
    session: Recipient<SessionRequest>,
) {
    let mut close = None;
    while let Some(message) = stream.recv().await {
        let frame = match message {
            Ok(AggregatedMessage::Text(text)) => Frame::Text(text),
            Ok(AggregatedMessage::Binary(bytes)) => Frame::Binary(bytes),
            Ok(AggregatedMessage::Ping(data)) => {
                let _ = socket.pong(&data).await;
                continue;
            }
            Ok(AggregatedMessage::Pong(_)) => continue,
            Ok(AggregatedMessage::Close(_)) => break,
            Err(error) => {
                debug!(link, %error, "websocket read failed");
                close = Some(CloseReason {
                    code: CloseCode::Size,
                    description: Some("frame larger than maxPayload".into()),
                })
                .filter(|_| matches!(error, actix_ws::ProtocolError::Overflow));
                break;
            }
        };
        if session
            .send(SessionRequest::WebSocketFrame { link, frame })
            .await
            .is_err()
        {
            break;
        }
    }
    session.do_send(SessionRequest::WebSocketClosed { link });
    let _ = socket.close(close).await;
}
