//! [`PeerMessage`]: what two nodes say about one session while it moves
//! from one to the other (the WebSocket upgrade handover), and afterwards,
//! while the old owner's tombstone relays stragglers.
//!
//! The message types are generic over how frames are held (`F`): with
//! `Vec<Frame>` they are what code uses; with `u64` (a frame count) they are
//! the JSON header, and the frames follow as blobs in order. So one type
//! describes both, and binary frames never enter the JSON.

mod codec;
#[cfg(test)]
pub(crate) mod tests;

use serde::{Deserialize, Serialize};

use crate::engine::Frame;

/// One message about session `sid` between its old and its new node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerMessageOf<F> {
    /// The node that speaks, so the other knows whom to answer or relay to.
    pub from: String,
    /// The session.
    pub sid: String,
    /// Its engine.io endpoint on both nodes.
    pub endpoint: u8,
    /// What is said.
    pub body: PeerBodyOf<F>,
}

/// A [`PeerMessageOf`] with its frames.
pub type PeerMessage = PeerMessageOf<Vec<Frame>>;
/// A [`PeerBodyOf`] with its frames.
pub type PeerBody = PeerBodyOf<Vec<Frame>>;
/// A [`RelayItemOf`] with its frames.
pub type RelayItem = RelayItemOf<Vec<Frame>>;
/// A [`SessionSnapshotOf`] with its frames.
pub type SessionSnapshot = SessionSnapshotOf<Vec<Frame>>;

/// The steps of a handover (the new node asks, the old node answers) and
/// the relays that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", content = "with", rename_all = "snake_case")]
pub enum PeerBodyOf<F> {
    /// New → old, before the WebSocket is accepted: may it take over the
    /// session's upgrade? Answered `Accepted` or `Refused`.
    Claim,
    /// New → old: the probe was answered; release the parked GET so the
    /// client can pause polling.
    Probed,
    /// New → old, after the client's `5`: hand the session over. Answered
    /// with a `Snapshot` or `Refused`.
    Take,
    /// New → old: the new node's rooms are subscribed; leave yours. Answered
    /// with `Relayed`: what reached the old node since `Take`.
    Release,
    /// New → old: the handover failed. `imported` says whether the new node
    /// had rebuilt the session (and so ran its disconnect handlers).
    Abort {
        /// Whether the new node had rebuilt the session's sockets.
        imported: bool,
    },
    /// Either way: one command or broadcast for the session's other half.
    Relay(RelayItemOf<F>),
    /// The request is granted.
    Accepted,
    /// The request is refused with an engine.io error code.
    Refused(u8),
    /// The session's state, for `Take`.
    Snapshot(SessionSnapshotOf<F>),
    /// What the old node held back during the handover, in arrival order.
    Relayed(Vec<RelayItemOf<F>>),
}

/// Everything the new node needs to carry on with a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSnapshotOf<F> {
    /// The handshake's query parameters.
    pub query: Vec<(String, String)>,
    /// The handshake's headers.
    pub headers: Vec<(String, String)>,
    /// The client's address.
    pub address: String,
    /// The handshake URL.
    pub url: String,
    /// Whether the handshake came over TLS.
    pub secure: bool,
    /// Packets buffered for the client and not yet sent, in order.
    pub outbox: F,
    /// Milliseconds until the next ping is due (when no pong is awaited).
    pub next_ping_ms: u64,
    /// Milliseconds left for the client's pong, when a ping is unanswered.
    pub pong_due_ms: Option<u64>,
    /// The app's own state, as JSON it wrote and will read back.
    pub app: String,
}

/// A socket command or broadcast crossing from one half of a moved session
/// to the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum RelayItemOf<F> {
    /// Send these frames to a socket; with `ack`, the client's answer to
    /// that ack id goes back to the sender.
    Emit {
        /// The namespace.
        nsp: String,
        /// The socket id.
        socket: String,
        /// The ack id the sender waits on, if any.
        ack: Option<u64>,
        /// The packet and its attachments.
        frames: F,
    },
    /// A broadcast that reached the old node for one of the sockets.
    Deliver {
        /// The member it came for.
        socket: String,
        /// The broadcast id, to drop a second copy.
        id: (u64, u64),
        /// The namespace.
        nsp: String,
        /// Target rooms; empty for the whole namespace.
        rooms: Vec<String>,
        /// Rooms whose members are skipped.
        except: Vec<String>,
        /// Whether it may be dropped for a busy client.
        volatile: bool,
        /// The packet and its attachments.
        frames: F,
    },
    /// A socket joins a room.
    Join {
        /// The namespace.
        nsp: String,
        /// The socket id.
        socket: String,
        /// The room.
        room: String,
    },
    /// A socket leaves a room.
    Leave {
        /// The namespace.
        nsp: String,
        /// The socket id.
        socket: String,
        /// The room.
        room: String,
    },
    /// `socket.data` is replaced.
    SetData {
        /// The namespace.
        nsp: String,
        /// The socket id.
        socket: String,
        /// The new value, as JSON text.
        data: String,
    },
    /// The server disconnects a socket from its namespace.
    Disconnect {
        /// The namespace.
        nsp: String,
        /// The socket id.
        socket: String,
    },
    /// The client answered an ack that the other node waits for.
    AckAnswer {
        /// The namespace.
        nsp: String,
        /// The ack id.
        id: u64,
        /// The answer's arguments, a JSON array.
        args: String,
        /// Its binary attachments, as binary frames.
        frames: F,
    },
}
