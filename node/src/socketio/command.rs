//! The messages a session's socket.io layer receives from outside its own
//! packets: from [`super::Socket`] handles, timers, rooms and middleware.

use std::{sync::Arc, time::Duration};

use actix::Message;
use switchyard_shared::{engine::Frame, socket::Payload};
use tokio::sync::oneshot;

use super::{ack::AckError, broadcast::Broadcast, namespace::ConnectError, socket::SocketId, Room};

/// A command for the socket.io layer of one session.
#[derive(Message)]
#[rtype(result = "()")]
pub enum SocketCommand {
    /// Send already-encoded frames to one socket.
    Emit {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket, so that a stale handle cannot reach a newer socket.
        socket: SocketId,
        /// The packet and its attachments.
        frames: Vec<Frame>,
    },
    /// Send an event and wait for the client's ack.
    EmitWithAck {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
        /// The event name.
        event: String,
        /// Its arguments.
        payload: Payload,
        /// How long to wait.
        timeout: Duration,
        /// Where the ack (or the timeout) goes.
        reply: oneshot::Sender<Result<Payload, AckError>>,
    },
    /// A pending ack ran out of time.
    AckTimeout {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The ack id.
        id: u64,
    },
    /// Join a room.
    Join {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
        /// The room.
        room: Room,
    },
    /// Leave a room.
    Leave {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
        /// The room.
        room: Room,
    },
    /// Ask for the socket's rooms.
    Rooms {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
        /// Where the answer goes (`None`: no such socket).
        reply: oneshot::Sender<Option<Vec<Room>>>,
    },
    /// Replace `socket.data`.
    SetData {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
        /// The new value.
        data: serde_json::Value,
    },
    /// Read `socket.data`.
    Data {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
        /// Where the answer goes (`None`: no such socket).
        reply: oneshot::Sender<Option<serde_json::Value>>,
    },
    /// Disconnect the socket from its namespace (the server's side).
    Disconnect {
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket.
        socket: SocketId,
    },
    /// A broadcast reached this socket through one of its rooms.
    Deliver {
        /// The broadcast, encoded once for everyone.
        broadcast: Arc<Broadcast>,
        /// The member it came for.
        socket: SocketId,
    },
    /// The connect middleware of a namespace has decided.
    Connected {
        /// The namespace name the client asked for.
        nsp: String,
        /// Whether the client may join, or why not.
        outcome: Result<(), ConnectError>,
    },
    /// connectTimeout has passed since the session opened.
    ConnectTimeout,
    /// A server operation on one of the session's sockets (fetch, join,
    /// leave, disconnect), if the socket still matches its targets.
    Op(super::ops::SocketOp),
}
