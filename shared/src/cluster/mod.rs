//! What nodes say to each other over NATS, and where they say it.
//!
//! Nodes share no memory: a broadcast reaches other nodes' sockets as a
//! [`WireBroadcast`] published on a room or namespace subject, an engine.io
//! polling request that lands on the wrong node is forwarded to the owner as
//! a [`ForwardRequest`] and answered with a [`ForwardReply`], and every node
//! publishes [`Heartbeat`]s so the others know who is alive. Cluster-wide
//! server operations are scattered to every node as an [`OpsRequest`], and
//! each node answers with [`OpsReply`]s.
//!
//! - [`subject`]: NATS subject naming, escaping user-chosen namespace and
//!   room names so that each is exactly one token and none can act as a
//!   wildcard.
//! - [`wire`]: the binary envelope of every message: a JSON header for the
//!   small fields, and length-prefixed blobs for frames and HTTP bodies.

pub mod subject;
pub mod wire;

pub use subject::{escape_token, unescape_token, SubjectError, Subjects, DEFAULT_PREFIX};
pub use wire::{
    ForwardKind, ForwardReply, ForwardRequest, Heartbeat, Op, OpsReply, OpsReplyBody, OpsRequest,
    PeerBody, PeerMessage, RelayItem, SessionSnapshot, WireBroadcast, WireError, WirePayload,
    WireSocket, VERSION,
};
