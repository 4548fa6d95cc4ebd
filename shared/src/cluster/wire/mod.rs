//! Messages between nodes and the binary envelope they travel in.
//!
//! Every message is one NATS payload:
//!
//! ```text
//! [version u8 = 1][header length u32 BE][header JSON][blob]*
//! blob = [kind u8][length u32 BE][bytes]
//! ```
//!
//! The JSON header says which message this is (its `"type"` tag) and holds
//! the small fields. Binary data (socket.io attachments, engine.io bodies)
//! only ever travels in blobs, so it is neither base64-inflated nor reparsed.
//! Blob kinds are 0 for a text frame (UTF-8; also the JSON arguments of an
//! ops payload), 1 for a binary frame or attachment and 2 for
//! an HTTP body.
//!
//! Decoding takes [`Bytes`], the form a NATS client hands over, so blobs are
//! sliced out of the payload without copying. It checks the version, every
//! length, the header, the blob kinds and that nothing trails the last blob;
//! it never panics and never allocates more than the input's size implies.
//! Unknown header fields are ignored, so a newer node can add an optional
//! field without a version bump; any other change bumps [`VERSION`].
//!
//! [`Bytes`]: bytes::Bytes

mod broadcast;
mod envelope;
mod forward;
mod header;
mod heartbeat;
mod ops;
mod ops_reply;
mod peer;

pub use broadcast::WireBroadcast;
pub use forward::{ForwardKind, ForwardReply, ForwardRequest};
pub use heartbeat::Heartbeat;
pub use ops::{Op, OpsRequest, WirePayload};
pub use ops_reply::{OpsReply, OpsReplyBody, WireSocket};
pub use peer::{
    PeerBody, PeerBodyOf, PeerMessage, PeerMessageOf, RelayItem, RelayItemOf, SessionSnapshot,
    SessionSnapshotOf,
};

/// The envelope version this code writes and the only one it reads, so that
/// nodes of incompatible releases refuse each other's messages loudly.
pub const VERSION: u8 = 1;

/// Why a payload from another node could not be decoded; any of these means a
/// bug or a foreign publisher, and the message should be dropped and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The payload had no bytes at all.
    #[error("empty cluster message")]
    Empty,
    /// The first byte was not [`VERSION`].
    #[error("unsupported cluster message version {0}")]
    UnsupportedVersion(u8),
    /// The payload ended inside the header length.
    #[error("cluster message ends inside the header length")]
    TruncatedHeaderLength,
    /// The header length runs past the end of the payload.
    #[error("header length {len} runs past the end of the message ({available} bytes left)")]
    HeaderPastEnd {
        /// The announced header length.
        len: u32,
        /// How many bytes were left after the length.
        available: usize,
    },
    /// The header is not JSON, or not the JSON of any message.
    #[error("malformed cluster message header: {0}")]
    BadHeader(String),
    /// The header is well formed but names another kind of message.
    #[error("expected a {expected} message, found a {found} message")]
    WrongKind {
        /// The kind the caller asked to decode.
        expected: &'static str,
        /// The kind the header names.
        found: &'static str,
    },
    /// A blob has a kind this version does not know.
    #[error("unknown blob kind {0}")]
    UnknownBlobKind(u8),
    /// A blob has a known kind that does not belong in this message.
    #[error("blob kind {0} does not belong in this message")]
    UnexpectedBlob(u8),
    /// The payload ended where the message needs another blob.
    #[error("cluster message lacks a blob")]
    MissingBlob,
    /// A blob's length or data runs past the end of the payload.
    #[error("blob runs past the end of the message")]
    TruncatedBlob,
    /// A text frame blob is not valid UTF-8.
    #[error("text frame is not valid UTF-8")]
    InvalidUtf8,
    /// Bytes follow the last blob the message needs.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
}
