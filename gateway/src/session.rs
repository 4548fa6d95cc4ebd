//! The interface between the HTTP edge and the sessions of this node.
//!
//! Every request reaches a session as one [`SessionRequest`] actor message.
//! Replies travel back on a oneshot channel inside the request, so a session
//! that is gone simply drops the request and the edge answers
//! `Session ID unknown`: nothing is left waiting.

use actix::{Message, Recipient};
use bytes::Bytes;
use std::{future::Future, pin::Pin};

use switchyard_shared::{
    cluster::PeerBody,
    engine::{EngineError, Frame},
    sid::Sid,
};
use tokio::sync::{mpsc, oneshot};

/// Which engine.io endpoint (mount path) a session belongs to.
///
/// A sid issued on one endpoint is unknown on every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointId(pub u8);

/// Why a POST body did not arrive whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than maxPayload; the client gets 413.
    #[error("payload too large")]
    TooLarge,
    /// The body is `application/octet-stream`, which protocol 4 never sends.
    #[error("binary content type")]
    BinaryContent,
    /// The client went away before the body was read.
    #[error("body not received")]
    Aborted,
    /// The body did not arrive within the body timeout; the client gets 408.
    #[error("body timed out")]
    TimedOut,
}

/// The reply to a long-poll GET: a polling payload, or an error.
pub type PollReply = Result<Bytes, EngineError>;

/// Something to send out on a WebSocket.
#[derive(Debug, Clone)]
pub enum WsOut {
    /// One engine.io packet, already encoded.
    Frame(Frame),
    /// Close the connection.
    Close,
}

/// A session's handle on one WebSocket connection.
///
/// The socket's I/O runs in tasks on the HTTP worker that accepted it;
/// the session only queues frames here. The queue is bounded: a client that
/// does not read fills it, and the session closes rather than grow.
#[derive(Debug, Clone)]
pub struct WsLink {
    /// Tells this connection's frames apart from a previous or rival one's.
    pub id: u64,
    /// The bounded queue of frames to send.
    pub outbound: mpsc::Sender<WsOut>,
}

/// One request for a session, from the HTTP edge.
#[derive(Message)]
#[rtype(result = "()")]
pub enum SessionRequest {
    /// A long-poll GET; answered now, or parked until there is data.
    Poll(oneshot::Sender<PollReply>),
    /// A polling POST. The body arrives on `body` once it is read, so a
    /// second POST that overlaps this one is seen and refused.
    Post {
        /// The body, whole, or why it is not.
        body: oneshot::Receiver<Result<Bytes, BodyError>>,
        /// `Ok` once every packet is handled.
        reply: oneshot::Sender<Result<(), EngineError>>,
    },
    /// A WebSocket upgrade for this session has been accepted.
    AttachWebSocket(WsLink),
    /// A text or binary frame arrived on WebSocket `link`.
    WebSocketFrame {
        /// The [`WsLink::id`] of the connection.
        link: u64,
        /// The frame as received.
        frame: Frame,
    },
    /// WebSocket `link` closed or failed.
    WebSocketClosed {
        /// The [`WsLink::id`] of the connection.
        link: u64,
    },
    /// The node is shutting down: close the session with a close packet, so
    /// that the client reconnects through the load balancer at once.
    Shutdown,
    /// Another node speaks about this session: a step of a handover, or a
    /// relay. Requests carry `reply`; the session answers on it.
    Peer {
        /// The node that speaks.
        from: String,
        /// What the other node says.
        body: PeerBody,
        /// Where the answer goes, for a request.
        reply: Option<oneshot::Sender<PeerBody>>,
    },
}

/// What the client presented at the handshake; socket.io exposes it to apps.
#[derive(Debug, Clone, Default)]
pub struct HandshakeInfo {
    /// The request's query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// The request's headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The peer address, as the node saw it.
    pub address: String,
    /// The request URL (path and query).
    pub url: String,
    /// Whether the request came over TLS.
    pub secure: bool,
}

/// Decides whether a handshake may open a session, from what the client
/// presented (socket.io's `allowRequest`); a refused one gets
/// `403 {"code":4,"message":"Forbidden"}`.
pub type AllowRequest = std::sync::Arc<dyn Fn(&HandshakeInfo) -> bool + Send + Sync>;

/// How a new session starts.
pub enum Opening {
    /// Over polling: the handshake reply goes out on the first GET.
    Polling,
    /// Directly over WebSocket: the open packet goes out on the link.
    WebSocket(WsLink),
}

/// Gives a claimed upgrade its WebSocket and returns where to send the
/// socket's frames.
pub type Adopt = Box<dyn FnOnce(WsLink) -> Recipient<SessionRequest>>;

/// The answer to [`SessionFactory::claim`].
pub type ClaimFuture = Pin<Box<dyn Future<Output = Result<Adopt, EngineError>>>>;

/// Starts sessions. The node implements it with its session actors.
pub trait SessionFactory: Send + Sync + 'static {
    /// Starts a session on this node and returns where to send its requests.
    ///
    /// The session registers itself with the [`crate::GatewayActor`] before it
    /// handles its first request.
    fn open(
        &self,
        endpoint: EndpointId,
        handshake: HandshakeInfo,
        opening: Opening,
    ) -> Recipient<SessionRequest>;

    /// Claims the WebSocket upgrade of session `sid`, which lives on another
    /// node, so that the session can move here. Refused with the error the
    /// client should get (`Session ID unknown` for a session that does not
    /// exist, `Bad request` for one that cannot upgrade now).
    fn claim(&self, endpoint: EndpointId, sid: Sid) -> ClaimFuture;
}
