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
//! Blob kinds are 0 for a text frame (UTF-8), 1 for a binary frame and 2 for
//! an HTTP body.
//!
//! Decoding takes [`Bytes`], the form a NATS client hands over, so blobs are
//! sliced out of the payload without copying. It checks the version, every
//! length, the header, the blob kinds and that nothing trails the last blob;
//! it never panics and never allocates more than the input's size implies.
//! Unknown header fields are ignored, so a newer node can add an optional
//! field without a version bump; any other change bumps [`VERSION`].

use std::borrow::Cow;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use crate::engine::Frame;

/// The envelope version this code writes and the only one it reads, so that
/// nodes of incompatible releases refuse each other's messages loudly.
pub const VERSION: u8 = 1;

/// Blob kind of a text frame; its bytes must be UTF-8.
const BLOB_TEXT: u8 = 0;
/// Blob kind of a binary frame.
const BLOB_BINARY: u8 = 1;
/// Blob kind of an HTTP body (a POST body or a polling payload).
const BLOB_BODY: u8 = 2;
/// The highest blob kind this version knows.
const BLOB_MAX: u8 = BLOB_BODY;
/// Bytes before a blob's data: its kind and its length.
const BLOB_PREFIX_LEN: usize = 5;
/// Bytes before the header JSON: the version and the header length.
const ENVELOPE_PREFIX_LEN: usize = 5;

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

/// A socket.io broadcast as it crosses nodes: the packet already encoded
/// (frames), plus who gets it, so receivers only filter and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireBroadcast {
    /// The publishing node's id; receivers skip their own broadcasts.
    pub origin: String,
    /// The broadcast id (origin's random number, sequence), for de-duplication
    /// when a node hears one broadcast on several subjects.
    pub id: (u64, u64),
    /// The namespace the packet belongs to.
    pub nsp: String,
    /// The rooms whose members get the packet; empty means the whole namespace.
    pub rooms: Vec<String>,
    /// Rooms whose members are skipped even when in `rooms`.
    pub except: Vec<String>,
    /// Whether the packet may be dropped for a socket that is not ready to send.
    pub volatile: bool,
    /// The encoded engine.io frames, sent in order to every recipient.
    pub frames: Vec<Frame>,
}

/// An engine.io HTTP request forwarded to the node that owns the session,
/// because polling requests may land on any node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRequest {
    /// Which engine.io endpoint (socket.io server) of the owner the request is for.
    pub endpoint: u8,
    /// The session the request names.
    pub sid: String,
    /// What the request asks for.
    pub kind: ForwardKind,
}

/// The two polling requests, which the owner answers differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardKind {
    /// A GET that waits for packets to deliver.
    Poll,
    /// A POST that delivers packets to the server.
    Post {
        /// The request body, as received (travels as blob kind 2).
        body: Bytes,
        /// Whether the request's content type was `application/octet-stream`.
        binary_content: bool,
    },
}

/// The owner's answer to a [`ForwardRequest`], which the forwarding node turns
/// into the HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardReply {
    /// A polling payload to return to the GET (travels as blob kind 2).
    Polled(Bytes),
    /// The POST body was accepted (`ok`).
    Posted,
    /// An engine.io error code (see [`crate::engine::EngineError::code`]); the
    /// receiver maps it back with [`crate::engine::EngineError::from_code`].
    Refused(u8),
    /// The POST body exceeded the owner's limit (HTTP 413).
    TooLarge,
}

/// A node's periodic sign of life, so that others can tell live owners from
/// dead ones; `leaving` when it shuts down on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The node's id.
    pub node: String,
    /// Increases with every heartbeat, so reordered ones can be spotted.
    pub seq: u64,
    /// Whether the node is shutting down on purpose, so others can forget it
    /// at once instead of waiting for a timeout.
    pub leaving: bool,
}

/// The JSON header; its `"type"` tag keeps one message kind from decoding as another.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Header<'a> {
    Broadcast(BroadcastHeader<'a>),
    Forward(ForwardHeader<'a>),
    Reply(ReplyHeader),
    Heartbeat(HeartbeatHeader<'a>),
}

impl Header<'_> {
    /// The message kind's name, for [`WireError::WrongKind`].
    fn kind(&self) -> &'static str {
        match self {
            Header::Broadcast(_) => KIND_BROADCAST,
            Header::Forward(_) => KIND_FORWARD,
            Header::Reply(_) => KIND_REPLY,
            Header::Heartbeat(_) => KIND_HEARTBEAT,
        }
    }

    /// The error for decoding this header as a message of kind `expected`.
    fn wrong_kind(&self, expected: &'static str) -> WireError {
        WireError::WrongKind {
            expected,
            found: self.kind(),
        }
    }
}

/// Names of the message kinds, matching the header tags.
const KIND_BROADCAST: &str = "broadcast";
const KIND_FORWARD: &str = "forward";
const KIND_REPLY: &str = "reply";
const KIND_HEARTBEAT: &str = "heartbeat";

/// [`WireBroadcast`] minus its frames, plus how many frame blobs follow.
#[derive(Debug, Serialize, Deserialize)]
struct BroadcastHeader<'a> {
    origin: Cow<'a, str>,
    id: (u64, u64),
    nsp: Cow<'a, str>,
    rooms: Cow<'a, [String]>,
    except: Cow<'a, [String]>,
    volatile: bool,
    /// The number of frame blobs; makes the message self-delimiting, so a
    /// cut or padded payload is an error instead of fewer frames.
    frames: u64,
}

/// [`ForwardRequest`] minus the body.
#[derive(Debug, Serialize, Deserialize)]
struct ForwardHeader<'a> {
    endpoint: u8,
    sid: Cow<'a, str>,
    method: ForwardMethod,
}

/// [`ForwardKind`] minus the body; `Post` is followed by one body blob.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ForwardMethod {
    Poll,
    Post { binary_content: bool },
}

/// [`ForwardReply`] minus the payload.
#[derive(Debug, Serialize, Deserialize)]
struct ReplyHeader {
    reply: ReplyKind,
}

/// [`ForwardReply`]'s variants; `Polled` is followed by one body blob.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ReplyKind {
    Polled,
    Posted,
    Refused { code: u8 },
    TooLarge,
}

/// All of [`Heartbeat`].
#[derive(Debug, Serialize, Deserialize)]
struct HeartbeatHeader<'a> {
    node: Cow<'a, str>,
    seq: u64,
    leaving: bool,
}

impl WireBroadcast {
    /// Encodes for publishing. A part over 4 GiB (far past any NATS payload
    /// limit) cannot be framed, and yields an empty buffer that every decode
    /// refuses.
    pub fn encode(&self) -> Bytes {
        let header = Header::Broadcast(BroadcastHeader {
            origin: Cow::Borrowed(&self.origin),
            id: self.id,
            nsp: Cow::Borrowed(&self.nsp),
            rooms: Cow::Borrowed(&self.rooms),
            except: Cow::Borrowed(&self.except),
            volatile: self.volatile,
            frames: u64::try_from(self.frames.len()).unwrap_or(u64::MAX),
        });
        let blobs: Vec<(u8, &[u8])> = self
            .frames
            .iter()
            .map(|frame| match frame {
                Frame::Text(text) => (BLOB_TEXT, text.as_bytes().as_ref()),
                Frame::Binary(bytes) => (BLOB_BINARY, bytes.as_ref()),
            })
            .collect();
        envelope(&header, &blobs)
    }

    /// Decodes a received payload; frames share its buffer.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let header = match header {
            Header::Broadcast(header) => header,
            other => return Err(other.wrong_kind(KIND_BROADCAST)),
        };
        // The count is untrusted: it bounds the loop, never an allocation,
        // and the loop stops at the first missing blob.
        let mut frames = Vec::new();
        for _ in 0..header.frames {
            let frame = match reader.blob()? {
                (BLOB_TEXT, data) => {
                    Frame::Text(ByteString::try_from(data).map_err(|_| WireError::InvalidUtf8)?)
                }
                (BLOB_BINARY, data) => Frame::Binary(data),
                (kind, _) => return Err(WireError::UnexpectedBlob(kind)),
            };
            frames.push(frame);
        }
        reader.finish()?;
        Ok(Self {
            origin: header.origin.into_owned(),
            id: header.id,
            nsp: header.nsp.into_owned(),
            rooms: header.rooms.into_owned(),
            except: header.except.into_owned(),
            volatile: header.volatile,
            frames,
        })
    }
}

impl ForwardRequest {
    /// Encodes for sending to the owner. A body over 4 GiB cannot be framed,
    /// and yields an empty buffer that every decode refuses.
    pub fn encode(&self) -> Bytes {
        let (method, body) = match &self.kind {
            ForwardKind::Poll => (ForwardMethod::Poll, None),
            ForwardKind::Post {
                body,
                binary_content,
            } => (
                ForwardMethod::Post {
                    binary_content: *binary_content,
                },
                Some((BLOB_BODY, body.as_ref())),
            ),
        };
        let header = Header::Forward(ForwardHeader {
            endpoint: self.endpoint,
            sid: Cow::Borrowed(&self.sid),
            method,
        });
        envelope(&header, body.as_slice())
    }

    /// Decodes a received payload; a POST body shares its buffer.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let header = match header {
            Header::Forward(header) => header,
            other => return Err(other.wrong_kind(KIND_FORWARD)),
        };
        let kind = match header.method {
            ForwardMethod::Poll => ForwardKind::Poll,
            ForwardMethod::Post { binary_content } => ForwardKind::Post {
                body: reader.body()?,
                binary_content,
            },
        };
        reader.finish()?;
        Ok(Self {
            endpoint: header.endpoint,
            sid: header.sid.into_owned(),
            kind,
        })
    }
}

impl ForwardReply {
    /// Encodes for answering the forwarding node. A payload over 4 GiB cannot
    /// be framed, and yields an empty buffer that every decode refuses.
    pub fn encode(&self) -> Bytes {
        let (reply, body) = match self {
            ForwardReply::Polled(payload) => {
                (ReplyKind::Polled, Some((BLOB_BODY, payload.as_ref())))
            }
            ForwardReply::Posted => (ReplyKind::Posted, None),
            ForwardReply::Refused(code) => (ReplyKind::Refused { code: *code }, None),
            ForwardReply::TooLarge => (ReplyKind::TooLarge, None),
        };
        envelope(&Header::Reply(ReplyHeader { reply }), body.as_slice())
    }

    /// Decodes a received payload; a polling payload shares its buffer. The
    /// error code is not checked here, see [`ForwardReply::Refused`].
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let header = match header {
            Header::Reply(header) => header,
            other => return Err(other.wrong_kind(KIND_REPLY)),
        };
        let reply = match header.reply {
            ReplyKind::Polled => ForwardReply::Polled(reader.body()?),
            ReplyKind::Posted => ForwardReply::Posted,
            ReplyKind::Refused { code } => ForwardReply::Refused(code),
            ReplyKind::TooLarge => ForwardReply::TooLarge,
        };
        reader.finish()?;
        Ok(reply)
    }
}

impl Heartbeat {
    /// Encodes for publishing on the heartbeat subject.
    pub fn encode(&self) -> Bytes {
        let header = Header::Heartbeat(HeartbeatHeader {
            node: Cow::Borrowed(&self.node),
            seq: self.seq,
            leaving: self.leaving,
        });
        envelope(&header, &[])
    }

    /// Decodes a received payload.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, reader) = open(input)?;
        let header = match header {
            Header::Heartbeat(header) => header,
            other => return Err(other.wrong_kind(KIND_HEARTBEAT)),
        };
        reader.finish()?;
        Ok(Self {
            node: header.node.into_owned(),
            seq: header.seq,
            leaving: header.leaving,
        })
    }
}

/// Frames a header and blobs, or an empty buffer (which no decode accepts)
/// when a part cannot be framed.
fn envelope(header: &Header<'_>, blobs: &[(u8, &[u8])]) -> Bytes {
    try_envelope(header, blobs).unwrap_or_default()
}

/// Frames a header and blobs; None if the header fails to serialize (it
/// holds only strings, numbers and booleans, so it cannot) or a part is
/// longer than a u32 length can say.
fn try_envelope(header: &Header<'_>, blobs: &[(u8, &[u8])]) -> Option<Bytes> {
    let json = serde_json::to_vec(header).ok()?;
    let header_len = u32::try_from(json.len()).ok()?;
    let mut total = ENVELOPE_PREFIX_LEN.checked_add(json.len())?;
    for (_, data) in blobs {
        total = total
            .checked_add(BLOB_PREFIX_LEN)?
            .checked_add(data.len())?;
    }
    let mut out = BytesMut::with_capacity(total);
    out.put_u8(VERSION);
    out.put_u32(header_len);
    out.put_slice(&json);
    for &(kind, data) in blobs {
        out.put_u8(kind);
        out.put_u32(u32::try_from(data.len()).ok()?);
        out.put_slice(data);
    }
    Some(out.freeze())
}

/// Checks the envelope prefix and parses the header, leaving the blobs in the
/// returned reader.
fn open(input: Bytes) -> Result<(Header<'static>, Reader), WireError> {
    let mut reader = Reader { rest: input };
    let version = reader.u8().ok_or(WireError::Empty)?;
    if version != VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    let len = reader.u32().ok_or(WireError::TruncatedHeaderLength)?;
    let available = reader.rest.len();
    let json = usize::try_from(len)
        .ok()
        .and_then(|len| reader.take(len))
        .ok_or(WireError::HeaderPastEnd { len, available })?;
    let header =
        serde_json::from_slice(&json).map_err(|err| WireError::BadHeader(err.to_string()))?;
    Ok((header, reader))
}

/// A cursor over the unread part of a payload; every read checks the length
/// first, so none can panic.
struct Reader {
    rest: Bytes,
}

impl Reader {
    /// The next `len` bytes, sharing the payload's buffer, or None if fewer remain.
    fn take(&mut self, len: usize) -> Option<Bytes> {
        (len <= self.rest.len()).then(|| self.rest.split_to(len))
    }

    /// The next byte, or None at the end.
    fn u8(&mut self) -> Option<u8> {
        let byte = *self.rest.first()?;
        self.rest.advance(1);
        Some(byte)
    }

    /// The next big-endian u32, or None if fewer than 4 bytes remain.
    fn u32(&mut self) -> Option<u32> {
        let bytes: [u8; 4] = self.rest.get(..4)?.try_into().ok()?;
        self.rest.advance(4);
        Some(u32::from_be_bytes(bytes))
    }

    /// The next blob's kind (one this version knows) and data.
    fn blob(&mut self) -> Result<(u8, Bytes), WireError> {
        let kind = self.u8().ok_or(WireError::MissingBlob)?;
        if kind > BLOB_MAX {
            return Err(WireError::UnknownBlobKind(kind));
        }
        let len = self.u32().ok_or(WireError::TruncatedBlob)?;
        let data = usize::try_from(len)
            .ok()
            .and_then(|len| self.take(len))
            .ok_or(WireError::TruncatedBlob)?;
        Ok((kind, data))
    }

    /// The next blob, which must be an HTTP body.
    fn body(&mut self) -> Result<Bytes, WireError> {
        match self.blob()? {
            (BLOB_BODY, data) => Ok(data),
            (kind, _) => Err(WireError::UnexpectedBlob(kind)),
        }
    }

    /// Checks that the message used up the whole payload.
    fn finish(self) -> Result<(), WireError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes(self.rest.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds an envelope by hand, to feed decode what encode never writes.
    fn raw(version: u8, header: &str, blobs: &[(u8, &[u8])]) -> Bytes {
        let mut out = Vec::new();
        out.push(version);
        out.extend_from_slice(&(header.len() as u32).to_be_bytes());
        out.extend_from_slice(header.as_bytes());
        for (kind, data) in blobs {
            out.push(*kind);
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(data);
        }
        Bytes::from(out)
    }

    /// Appends bytes to an encoded message.
    fn with_tail(message: Bytes, tail: &[u8]) -> Bytes {
        let mut out = message.to_vec();
        out.extend_from_slice(tail);
        Bytes::from(out)
    }

    fn broadcast() -> WireBroadcast {
        WireBroadcast {
            origin: "node_a".to_owned(),
            id: (u64::MAX, 7),
            nsp: "/chat".to_owned(),
            rooms: vec!["lobby".to_owned(), "".to_owned(), "é.*>".to_owned()],
            except: vec!["muted".to_owned()],
            volatile: true,
            frames: vec![
                Frame::Text(ByteString::from(
                    "451-[\"file\",{\"_placeholder\":true,\"num\":0}]",
                )),
                Frame::Binary(Bytes::from_static(&[0, 0xff, 0xfe, b'{', 0x80])),
                Frame::Text(ByteString::from("")),
                Frame::Binary(Bytes::new()),
            ],
        }
    }

    fn heartbeat() -> Heartbeat {
        Heartbeat {
            node: "n1".to_owned(),
            seq: 7,
            leaving: false,
        }
    }

    fn post(body: &'static [u8]) -> ForwardRequest {
        ForwardRequest {
            endpoint: 3,
            sid: "n1-AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            kind: ForwardKind::Post {
                body: Bytes::from_static(body),
                binary_content: true,
            },
        }
    }

    #[test]
    fn broadcast_round_trips() {
        let message = broadcast();
        assert_eq!(WireBroadcast::decode(message.encode()), Ok(message));

        let bare = WireBroadcast {
            origin: String::new(),
            id: (0, 0),
            nsp: String::new(),
            rooms: Vec::new(),
            except: Vec::new(),
            volatile: false,
            frames: Vec::new(),
        };
        assert_eq!(WireBroadcast::decode(bare.encode()), Ok(bare));

        let unicode = WireBroadcast {
            origin: "節点".to_owned(),
            nsp: "/ünï\u{0}\"\\".to_owned(),
            rooms: vec!["🦀".to_owned()],
            frames: vec![Frame::Text(ByteString::from("4héllo 🦀"))],
            ..broadcast()
        };
        assert_eq!(WireBroadcast::decode(unicode.encode()), Ok(unicode));
    }

    #[test]
    fn forward_request_round_trips() {
        let poll = ForwardRequest {
            endpoint: 0,
            sid: String::new(),
            kind: ForwardKind::Poll,
        };
        assert_eq!(ForwardRequest::decode(poll.encode()), Ok(poll));

        for message in [
            post(b""),
            post(&[0, 1, 2, 0xff]),
            ForwardRequest {
                endpoint: u8::MAX,
                sid: "sïd".to_owned(),
                kind: ForwardKind::Post {
                    body: Bytes::from_static(b"4hello\x1e4world"),
                    binary_content: false,
                },
            },
        ] {
            assert_eq!(ForwardRequest::decode(message.encode()), Ok(message));
        }
    }

    #[test]
    fn forward_reply_round_trips() {
        for message in [
            ForwardReply::Polled(Bytes::new()),
            ForwardReply::Polled(Bytes::from_static(b"4hi\x1ebAQID")),
            ForwardReply::Polled(Bytes::from_static(&[0xff, 0])),
            ForwardReply::Posted,
            ForwardReply::Refused(1),
            ForwardReply::Refused(u8::MAX),
            ForwardReply::TooLarge,
        ] {
            assert_eq!(ForwardReply::decode(message.encode()), Ok(message));
        }
    }

    #[test]
    fn heartbeat_round_trips() {
        for message in [
            heartbeat(),
            Heartbeat {
                node: String::new(),
                seq: u64::MAX,
                leaving: true,
            },
            Heartbeat {
                node: "ñ~".to_owned(),
                seq: 0,
                leaving: false,
            },
        ] {
            assert_eq!(Heartbeat::decode(message.encode()), Ok(message));
        }
    }

    #[test]
    fn heartbeat_has_the_documented_layout() {
        let header = r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false}"#;
        assert_eq!(heartbeat().encode(), raw(1, header, &[]));
        let encoded = heartbeat().encode();
        assert_eq!(encoded.first(), Some(&1));
        assert_eq!(encoded.get(1..5), Some(&[0, 0, 0, header.len() as u8][..]));
    }

    #[test]
    fn poll_reply_has_the_documented_layout() {
        let header = r#"{"type":"reply","reply":"polled"}"#;
        assert_eq!(
            ForwardReply::Polled(Bytes::from_static(b"4x")).encode(),
            raw(1, header, &[(2, b"4x")])
        );
    }

    #[test]
    fn binary_data_stays_out_of_the_header() {
        let encoded = post(b"SECRET-BODY").encode();
        let header_len = encoded
            .get(1..5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes);
        assert_eq!(
            header_len.map(|len| len as usize + 5 + 5 + 11),
            Some(encoded.len())
        );
        let header = encoded.get(5..5 + header_len.unwrap_or(0) as usize);
        let header = header.map(String::from_utf8_lossy).unwrap_or_default();
        assert!(!header.contains("SECRET"), "{header}");
        assert!(header.contains(r#""binary_content":true"#), "{header}");
    }

    #[test]
    fn decoded_blobs_share_the_input_buffer() {
        let encoded = post(b"shared body").encode();
        let base = encoded.as_ptr() as usize;
        let end = base + encoded.len();
        match ForwardRequest::decode(encoded) {
            Ok(ForwardRequest {
                kind: ForwardKind::Post { body, .. },
                ..
            }) => {
                assert_eq!(body, "shared body");
                let start = body.as_ptr() as usize;
                assert!(start > base && start + body.len() == end);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ignores_unknown_header_fields() {
        let header = r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false,"zone":"eu"}"#;
        assert_eq!(Heartbeat::decode(raw(1, header, &[])), Ok(heartbeat()));
    }

    #[test]
    fn refuses_broken_envelopes() {
        let header = r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false}"#;
        assert_eq!(Heartbeat::decode(Bytes::new()), Err(WireError::Empty));
        assert_eq!(
            Heartbeat::decode(raw(0, header, &[])),
            Err(WireError::UnsupportedVersion(0))
        );
        assert_eq!(
            Heartbeat::decode(raw(2, header, &[])),
            Err(WireError::UnsupportedVersion(2))
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1])),
            Err(WireError::TruncatedHeaderLength)
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1, 0, 0, 0])),
            Err(WireError::TruncatedHeaderLength)
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1, 0, 0, 0, 3, b'{', b'}'])),
            Err(WireError::HeaderPastEnd {
                len: 3,
                available: 2
            })
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1, 0xff, 0xff, 0xff, 0xff])),
            Err(WireError::HeaderPastEnd {
                len: u32::MAX,
                available: 0
            })
        );
        // An encoded message cut anywhere is refused.
        let encoded = heartbeat().encode();
        for len in 0..encoded.len() {
            assert!(Heartbeat::decode(encoded.slice(..len)).is_err(), "{len}");
        }
    }

    #[test]
    fn refuses_bad_headers() {
        for header in [
            "",
            "not json",
            "{",
            "[]",
            "null",
            r#"{"node":"n1","seq":7,"leaving":false}"#,
            r#"{"type":"gossip"}"#,
            r#"{"type":"heartbeat","node":"n1","seq":-1,"leaving":false}"#,
            r#"{"type":"heartbeat","node":"n1","leaving":false}"#,
            r#"{"type":"heartbeat","node":7,"seq":7,"leaving":false}"#,
            r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false} x"#,
        ] {
            assert!(
                matches!(
                    Heartbeat::decode(raw(1, header, &[])),
                    Err(WireError::BadHeader(_))
                ),
                "{header:?}"
            );
        }
        // A header that is not UTF-8 is bad JSON too.
        let mut bytes = vec![1, 0, 0, 0, 2];
        bytes.extend_from_slice(&[0xff, 0xfe]);
        assert!(matches!(
            Heartbeat::decode(Bytes::from(bytes)),
            Err(WireError::BadHeader(_))
        ));
        assert!(matches!(
            ForwardRequest::decode(raw(
                1,
                r#"{"type":"forward","endpoint":256,"sid":"s","method":"poll"}"#,
                &[]
            )),
            Err(WireError::BadHeader(_))
        ));
        assert!(matches!(
            ForwardReply::decode(raw(1, r#"{"type":"reply","reply":"maybe"}"#, &[])),
            Err(WireError::BadHeader(_))
        ));
    }

    #[test]
    fn refuses_the_wrong_message_kind() {
        let heartbeat = heartbeat().encode();
        assert_eq!(
            WireBroadcast::decode(heartbeat.clone()),
            Err(WireError::WrongKind {
                expected: "broadcast",
                found: "heartbeat"
            })
        );
        assert_eq!(
            ForwardRequest::decode(heartbeat.clone()),
            Err(WireError::WrongKind {
                expected: "forward",
                found: "heartbeat"
            })
        );
        assert_eq!(
            ForwardReply::decode(heartbeat),
            Err(WireError::WrongKind {
                expected: "reply",
                found: "heartbeat"
            })
        );
        assert_eq!(
            Heartbeat::decode(broadcast().encode()),
            Err(WireError::WrongKind {
                expected: "heartbeat",
                found: "broadcast"
            })
        );
        assert_eq!(
            ForwardReply::decode(post(b"x").encode()),
            Err(WireError::WrongKind {
                expected: "reply",
                found: "forward"
            })
        );
        assert_eq!(
            ForwardRequest::decode(ForwardReply::Posted.encode()),
            Err(WireError::WrongKind {
                expected: "forward",
                found: "reply"
            })
        );
    }

    #[test]
    fn refuses_bad_blobs() {
        let one_frame = r#"{"type":"broadcast","origin":"a","id":[1,2],"nsp":"/","rooms":[],"except":[],"volatile":false,"frames":1}"#;
        let two_frames = one_frame.replace(r#""frames":1"#, r#""frames":2"#);
        let decode =
            |header: &str, blobs: &[(u8, &[u8])]| WireBroadcast::decode(raw(1, header, blobs));

        assert!(decode(one_frame, &[(0, b"4hi")]).is_ok());
        assert_eq!(
            decode(one_frame, &[(3, b"4hi")]),
            Err(WireError::UnknownBlobKind(3))
        );
        assert_eq!(
            decode(one_frame, &[(0xff, b"")]),
            Err(WireError::UnknownBlobKind(0xff))
        );
        assert_eq!(
            decode(one_frame, &[(2, b"4hi")]),
            Err(WireError::UnexpectedBlob(2))
        );
        assert_eq!(
            decode(one_frame, &[(0, &[b'4', 0xc3])]),
            Err(WireError::InvalidUtf8)
        );
        assert_eq!(
            decode(one_frame, &[(0, &[0xff])]),
            Err(WireError::InvalidUtf8)
        );
        assert_eq!(decode(one_frame, &[]), Err(WireError::MissingBlob));
        assert_eq!(
            decode(&two_frames, &[(1, b"x")]),
            Err(WireError::MissingBlob)
        );
        assert_eq!(
            decode(one_frame, &[(1, b"x"), (1, b"y")]),
            Err(WireError::TrailingBytes(6))
        );

        // Truncated blobs: cut inside the length, and inside the data.
        let whole = raw(1, one_frame, &[(1, b"abcdef")]);
        let end = whole.len();
        for cut in [end - 10, end - 8, end - 7, end - 3, end - 1] {
            assert_eq!(
                WireBroadcast::decode(whole.slice(..cut)),
                Err(WireError::TruncatedBlob),
                "{cut}"
            );
        }
        assert_eq!(
            WireBroadcast::decode(whole.slice(..end - 11)),
            Err(WireError::MissingBlob)
        );
        let huge = with_tail(raw(1, one_frame, &[]), &[1, 0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!(WireBroadcast::decode(huge), Err(WireError::TruncatedBlob));
        // A broadcast announcing billions of frames allocates nothing up front.
        let many = one_frame.replace(r#""frames":1"#, &format!(r#""frames":{}"#, u64::MAX));
        assert_eq!(decode(&many, &[(1, b"x")]), Err(WireError::MissingBlob));
    }

    #[test]
    fn refuses_trailing_bytes() {
        assert_eq!(
            Heartbeat::decode(with_tail(heartbeat().encode(), &[0])),
            Err(WireError::TrailingBytes(1))
        );
        assert_eq!(
            Heartbeat::decode(with_tail(heartbeat().encode(), &[1, 0, 0, 0, 0])),
            Err(WireError::TrailingBytes(5))
        );
        assert_eq!(
            WireBroadcast::decode(with_tail(broadcast().encode(), b"junk")),
            Err(WireError::TrailingBytes(4))
        );
        assert_eq!(
            ForwardRequest::decode(with_tail(post(b"body").encode(), &[2, 0, 0, 0, 0])),
            Err(WireError::TrailingBytes(5))
        );
        let poll = ForwardRequest {
            kind: ForwardKind::Poll,
            ..post(b"")
        };
        assert_eq!(
            ForwardRequest::decode(with_tail(poll.encode(), &[2, 0, 0, 0, 0])),
            Err(WireError::TrailingBytes(5))
        );
        assert_eq!(
            ForwardReply::decode(with_tail(ForwardReply::Posted.encode(), &[9])),
            Err(WireError::TrailingBytes(1))
        );
    }

    #[test]
    fn bodies_must_be_body_blobs() {
        let header = r#"{"type":"forward","endpoint":0,"sid":"s","method":{"post":{"binary_content":false}}}"#;
        assert_eq!(
            ForwardRequest::decode(raw(1, header, &[(2, b"4x")])),
            Ok(ForwardRequest {
                endpoint: 0,
                sid: "s".to_owned(),
                kind: ForwardKind::Post {
                    body: Bytes::from_static(b"4x"),
                    binary_content: false
                }
            })
        );
        assert_eq!(
            ForwardRequest::decode(raw(1, header, &[(0, b"4x")])),
            Err(WireError::UnexpectedBlob(0))
        );
        assert_eq!(
            ForwardRequest::decode(raw(1, header, &[])),
            Err(WireError::MissingBlob)
        );
        assert_eq!(
            ForwardReply::decode(raw(1, r#"{"type":"reply","reply":"polled"}"#, &[(1, b"")])),
            Err(WireError::UnexpectedBlob(1))
        );
        assert_eq!(
            ForwardReply::decode(raw(1, r#"{"type":"reply","reply":"polled"}"#, &[])),
            Err(WireError::MissingBlob)
        );
    }

    fn any_frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            any::<String>().prop_map(|s| Frame::Text(ByteString::from(s))),
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|v| Frame::Binary(Bytes::from(v))),
        ]
    }

    fn any_broadcast() -> impl Strategy<Value = WireBroadcast> {
        let names = || proptest::collection::vec(any::<String>(), 0..4);
        (
            any::<String>(),
            any::<(u64, u64)>(),
            any::<String>(),
            names(),
            names(),
            any::<bool>(),
            proptest::collection::vec(any_frame(), 0..6),
        )
            .prop_map(
                |(origin, id, nsp, rooms, except, volatile, frames)| WireBroadcast {
                    origin,
                    id,
                    nsp,
                    rooms,
                    except,
                    volatile,
                    frames,
                },
            )
    }

    fn any_body() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..128).prop_map(Bytes::from)
    }

    fn any_request() -> impl Strategy<Value = ForwardRequest> {
        let kind = prop_oneof![
            Just(ForwardKind::Poll),
            (any_body(), any::<bool>()).prop_map(|(body, binary_content)| ForwardKind::Post {
                body,
                binary_content
            }),
        ];
        (any::<u8>(), any::<String>(), kind).prop_map(|(endpoint, sid, kind)| ForwardRequest {
            endpoint,
            sid,
            kind,
        })
    }

    fn any_reply() -> impl Strategy<Value = ForwardReply> {
        prop_oneof![
            any_body().prop_map(ForwardReply::Polled),
            Just(ForwardReply::Posted),
            any::<u8>().prop_map(ForwardReply::Refused),
            Just(ForwardReply::TooLarge),
        ]
    }

    fn any_heartbeat() -> impl Strategy<Value = Heartbeat> {
        (any::<String>(), any::<u64>(), any::<bool>()).prop_map(|(node, seq, leaving)| Heartbeat {
            node,
            seq,
            leaving,
        })
    }

    /// Runs every decoder on `input`, which must not panic.
    fn decode_all(input: &Bytes) {
        let _ = WireBroadcast::decode(input.clone());
        let _ = ForwardRequest::decode(input.clone());
        let _ = ForwardReply::decode(input.clone());
        let _ = Heartbeat::decode(input.clone());
    }

    /// Any message of any kind, encoded.
    fn any_encoded() -> impl Strategy<Value = Bytes> {
        prop_oneof![
            any_broadcast().prop_map(|m| m.encode()),
            any_request().prop_map(|m| m.encode()),
            any_reply().prop_map(|m| m.encode()),
            any_heartbeat().prop_map(|m| m.encode()),
        ]
    }

    proptest! {
        #[test]
        fn broadcast_round_trip(message in any_broadcast()) {
            prop_assert_eq!(WireBroadcast::decode(message.encode()), Ok(message));
        }

        #[test]
        fn request_round_trip(message in any_request()) {
            prop_assert_eq!(ForwardRequest::decode(message.encode()), Ok(message));
        }

        #[test]
        fn reply_round_trip(message in any_reply()) {
            prop_assert_eq!(ForwardReply::decode(message.encode()), Ok(message));
        }

        #[test]
        fn heartbeat_round_trip(message in any_heartbeat()) {
            prop_assert_eq!(Heartbeat::decode(message.encode()), Ok(message));
        }

        #[test]
        fn decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..256)) {
            decode_all(&Bytes::from(input));
        }

        #[test]
        fn decode_never_panics_on_versioned_input(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            len in 0u32..80,
        ) {
            let mut input = vec![VERSION];
            input.extend_from_slice(&len.to_be_bytes());
            input.extend_from_slice(&body);
            decode_all(&Bytes::from(input));
        }

        #[test]
        fn decode_never_panics_on_mutated_messages(
            encoded in any_encoded(),
            index in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let mut input = encoded.to_vec();
            if !input.is_empty() {
                let at = index.index(input.len());
                if let Some(slot) = input.get_mut(at) {
                    *slot = byte;
                }
            }
            decode_all(&Bytes::from(input));
        }

        #[test]
        fn cut_messages_are_refused(encoded in any_encoded(), index in any::<prop::sample::Index>()) {
            let cut = encoded.slice(..index.index(encoded.len()));
            prop_assert!(WireBroadcast::decode(cut.clone()).is_err());
            prop_assert!(ForwardRequest::decode(cut.clone()).is_err());
            prop_assert!(ForwardReply::decode(cut.clone()).is_err());
            prop_assert!(Heartbeat::decode(cut).is_err());
        }

        #[test]
        fn exactly_one_decoder_accepts_a_message(encoded in any_encoded()) {
            let accepted = [
                WireBroadcast::decode(encoded.clone()).is_ok(),
                ForwardRequest::decode(encoded.clone()).is_ok(),
                ForwardReply::decode(encoded.clone()).is_ok(),
                Heartbeat::decode(encoded).is_ok(),
            ];
            prop_assert_eq!(accepted.iter().filter(|&&ok| ok).count(), 1);
        }
    }
}
