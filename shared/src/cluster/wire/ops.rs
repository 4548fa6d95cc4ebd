//! [`OpsRequest`], a cluster-wide server operation scattered to every node
//! (fetch sockets, join, leave, disconnect, a broadcast with acks, a
//! server-side event), and the [`WirePayload`] that event arguments and ack
//! answers travel as.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    envelope::{envelope, frame_blobs, open, Reader, BLOB_BINARY, BLOB_TEXT},
    header::{Header, KIND_OPS_REQUEST},
    WireError,
};
use crate::engine::Frame;

/// Event arguments or an ack's answer between nodes: the arguments as one
/// JSON array, untouched, and the binary attachments as blobs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WirePayload {
    /// The arguments as the JSON text of an array, as the client sent them.
    pub args: String,
    /// The binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

/// A server operation on the sockets of every node: the targets (as a
/// broadcast names them) and what to do with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsRequest {
    /// The requesting node; it serves itself without the bus and ignores
    /// its own request when the bus brings it back.
    pub origin: String,
    /// The namespace of the target sockets.
    pub nsp: String,
    /// Target rooms; empty means the whole namespace.
    pub rooms: Vec<String>,
    /// Sockets in any of these rooms are left out.
    pub except: Vec<String>,
    /// What to do.
    pub op: Op,
}

/// What an [`OpsRequest`] asks every node to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Describe the target sockets.
    FetchSockets,
    /// Make the target sockets join this room.
    Join(String),
    /// Make the target sockets leave this room.
    Leave(String),
    /// Disconnect the target sockets; `close` closes their whole connection.
    Disconnect {
        /// Close the engine.io connection, not only the namespace.
        close: bool,
    },
    /// Deliver a packet that asks for an ack, and report the acks: first how
    /// many to expect, then each answer.
    BroadcastAck {
        /// The broadcast id, so a socket in several target rooms gets it once.
        id: (u64, u64),
        /// The ack id the origin wrote into the packet.
        ack: u64,
        /// How long recipients wait for their clients.
        timeout_ms: u64,
        /// Whether busy clients may be skipped.
        volatile: bool,
        /// The packet and its attachments, encoded.
        frames: Vec<Frame>,
    },
    /// A server-side event for the other nodes' handlers; targets unused.
    ServerEvent {
        /// The event name.
        event: String,
        /// Whether the origin waits for one answer per node.
        ack: bool,
        /// How long the origin waits.
        timeout_ms: u64,
        /// The arguments.
        payload: WirePayload,
    },
}

/// [`OpsRequest`] minus its blobs.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct OpsRequestHeader<'a> {
    origin: Cow<'a, str>,
    nsp: Cow<'a, str>,
    rooms: Cow<'a, [String]>,
    except: Cow<'a, [String]>,
    op: OpHeader<'a>,
}

/// [`Op`] minus its blobs, with the number of blobs that follow.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum OpHeader<'a> {
    FetchSockets,
    Join {
        room: Cow<'a, str>,
    },
    Leave {
        room: Cow<'a, str>,
    },
    Disconnect {
        close: bool,
    },
    BroadcastAck {
        id: (u64, u64),
        ack: u64,
        timeout_ms: u64,
        volatile: bool,
        frames: u64,
    },
    ServerEvent {
        event: Cow<'a, str>,
        ack: bool,
        timeout_ms: u64,
        attachments: u64,
    },
}

impl OpsRequest {
    /// Encodes for scattering. A part over 4 GiB cannot be framed, and yields
    /// an empty buffer that every decode refuses.
    pub fn encode(&self) -> Bytes {
        let (op, blobs) = match &self.op {
            Op::FetchSockets => (OpHeader::FetchSockets, Vec::new()),
            Op::Join(room) => (OpHeader::Join { room: room.into() }, Vec::new()),
            Op::Leave(room) => (OpHeader::Leave { room: room.into() }, Vec::new()),
            Op::Disconnect { close } => (OpHeader::Disconnect { close: *close }, Vec::new()),
            Op::BroadcastAck {
                id,
                ack,
                timeout_ms,
                volatile,
                frames,
            } => (
                OpHeader::BroadcastAck {
                    id: *id,
                    ack: *ack,
                    timeout_ms: *timeout_ms,
                    volatile: *volatile,
                    frames: count(frames.len()),
                },
                frame_blobs(frames),
            ),
            Op::ServerEvent {
                event,
                ack,
                timeout_ms,
                payload,
            } => (
                OpHeader::ServerEvent {
                    event: event.into(),
                    ack: *ack,
                    timeout_ms: *timeout_ms,
                    attachments: count(payload.attachments.len()),
                },
                payload_blobs(payload),
            ),
        };
        let header = Header::OpsRequest(OpsRequestHeader {
            origin: Cow::Borrowed(&self.origin),
            nsp: Cow::Borrowed(&self.nsp),
            rooms: Cow::Borrowed(&self.rooms),
            except: Cow::Borrowed(&self.except),
            op,
        });
        envelope(&header, &blobs)
    }

    /// Decodes a received payload; frames and attachments share its buffer.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let header: OpsRequestHeader<'_> = match header {
            Header::OpsRequest(header) => header,
            other => return Err(other.wrong_kind(KIND_OPS_REQUEST)),
        };
        let op = match header.op {
            OpHeader::FetchSockets => Op::FetchSockets,
            OpHeader::Join { room } => Op::Join(room.into_owned()),
            OpHeader::Leave { room } => Op::Leave(room.into_owned()),
            OpHeader::Disconnect { close } => Op::Disconnect { close },
            OpHeader::BroadcastAck {
                id,
                ack,
                timeout_ms,
                volatile,
                frames,
            } => Op::BroadcastAck {
                id,
                ack,
                timeout_ms,
                volatile,
                frames: reader.frames(frames)?,
            },
            OpHeader::ServerEvent {
                event,
                ack,
                timeout_ms,
                attachments,
            } => Op::ServerEvent {
                event: event.into_owned(),
                ack,
                timeout_ms,
                payload: read_payload(&mut reader, attachments)?,
            },
        };
        reader.finish()?;
        Ok(Self {
            origin: header.origin.into_owned(),
            nsp: header.nsp.into_owned(),
            rooms: header.rooms.into_owned(),
            except: header.except.into_owned(),
            op,
        })
    }
}

/// A length as a blob count (saturating; nothing that long can be framed).
pub(super) fn count(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// A payload's blobs: the arguments as a text blob, then each attachment.
pub(super) fn payload_blobs(payload: &WirePayload) -> Vec<(u8, &[u8])> {
    std::iter::once((BLOB_TEXT, payload.args.as_bytes()))
        .chain(
            payload
                .attachments
                .iter()
                .map(|bytes| (BLOB_BINARY, bytes.as_ref())),
        )
        .collect()
}

/// Reads a payload: its arguments' text blob and `attachments` binary blobs
/// (an untrusted count that bounds the loop, never an allocation).
pub(super) fn read_payload(
    reader: &mut Reader,
    attachments: u64,
) -> Result<WirePayload, WireError> {
    let args = match reader.blob()? {
        (BLOB_TEXT, data) => {
            String::from_utf8(data.to_vec()).map_err(|_| WireError::InvalidUtf8)?
        }
        (kind, _) => return Err(WireError::UnexpectedBlob(kind)),
    };
    let mut list = Vec::new();
    for _ in 0..attachments {
        match reader.blob()? {
            (BLOB_BINARY, data) => list.push(data),
            (kind, _) => return Err(WireError::UnexpectedBlob(kind)),
        }
    }
    Ok(WirePayload {
        args,
        attachments: list,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::wire::envelope::tests::raw;
    use bytestring::ByteString;
    use proptest::prelude::*;

    pub(crate) fn request() -> OpsRequest {
        OpsRequest {
            origin: "n1".to_owned(),
            nsp: "/".to_owned(),
            rooms: vec!["a.b".to_owned()],
            except: vec!["muted".to_owned()],
            op: Op::BroadcastAck {
                id: (3, 4),
                ack: 1 << 39,
                timeout_ms: 500,
                volatile: false,
                frames: vec![
                    Frame::Text(ByteString::from("2501[\"ev\"]")),
                    Frame::Binary(Bytes::from_static(&[0, 0xff])),
                ],
            },
        }
    }

    #[test]
    fn every_op_round_trips() {
        let payload = WirePayload {
            args: r#"["x",{"_placeholder":true,"num":0}]"#.to_owned(),
            attachments: vec![Bytes::from_static(&[1, 2, 3])],
        };
        for op in [
            Op::FetchSockets,
            Op::Join("r".to_owned()),
            Op::Leave(String::new()),
            Op::Disconnect { close: true },
            Op::ServerEvent {
                event: "ping-node".to_owned(),
                ack: true,
                timeout_ms: 1000,
                payload,
            },
        ] {
            let message = OpsRequest { op, ..request() };
            assert_eq!(OpsRequest::decode(message.encode()), Ok(message));
        }
        assert_eq!(OpsRequest::decode(request().encode()), Ok(request()));
    }

    #[test]
    fn refuses_bad_blobs() {
        let header = r#"{"type":"ops_request","origin":"a","nsp":"/","rooms":[],"except":[],"op":{"kind":"server_event","event":"e","ack":false,"timeout_ms":1,"attachments":1}}"#;
        let decode = |blobs: &[(u8, &[u8])]| OpsRequest::decode(raw(1, header, blobs));
        assert!(decode(&[(0, b"[]"), (1, b"x")]).is_ok());
        assert_eq!(decode(&[(0, b"[]")]), Err(WireError::MissingBlob));
        assert_eq!(
            decode(&[(1, b"[]"), (1, b"x")]),
            Err(WireError::UnexpectedBlob(1))
        );
        assert_eq!(
            decode(&[(0, b"[]"), (0, b"x")]),
            Err(WireError::UnexpectedBlob(0))
        );
        assert_eq!(
            decode(&[(0, &[0xff]), (1, b"x")]),
            Err(WireError::InvalidUtf8)
        );
        let fetch = r#"{"type":"ops_request","origin":"a","nsp":"/","rooms":[],"except":[],"op":{"kind":"fetch_sockets"}}"#;
        assert_eq!(
            OpsRequest::decode(raw(1, fetch, &[(1, b"x")])),
            Err(WireError::TrailingBytes(6))
        );
        let unknown = fetch.replace("fetch_sockets", "reboot");
        assert!(matches!(
            OpsRequest::decode(raw(1, &unknown, &[])),
            Err(WireError::BadHeader(_))
        ));
    }

    fn names() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(any::<String>(), 0..3)
    }

    pub(crate) fn any_payload() -> impl Strategy<Value = WirePayload> {
        (
            any::<String>(),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 0..3),
        )
            .prop_map(|(args, attachments)| WirePayload {
                args,
                attachments: attachments.into_iter().map(Bytes::from).collect(),
            })
    }

    fn any_op() -> impl Strategy<Value = Op> {
        let frame = prop_oneof![
            any::<String>().prop_map(|s| Frame::Text(ByteString::from(s))),
            proptest::collection::vec(any::<u8>(), 0..16)
                .prop_map(|v| Frame::Binary(Bytes::from(v))),
        ];
        prop_oneof![
            Just(Op::FetchSockets),
            any::<String>().prop_map(Op::Join),
            any::<String>().prop_map(Op::Leave),
            any::<bool>().prop_map(|close| Op::Disconnect { close }),
            (
                any::<(u64, u64)>(),
                any::<u64>(),
                any::<u64>(),
                any::<bool>(),
                proptest::collection::vec(frame, 0..4)
            )
                .prop_map(|(id, ack, timeout_ms, volatile, frames)| Op::BroadcastAck {
                    id,
                    ack,
                    timeout_ms,
                    volatile,
                    frames
                }),
            (any::<String>(), any::<bool>(), any::<u64>(), any_payload()).prop_map(
                |(event, ack, timeout_ms, payload)| Op::ServerEvent {
                    event,
                    ack,
                    timeout_ms,
                    payload
                }
            ),
        ]
    }

    pub(crate) fn any_ops_request() -> impl Strategy<Value = OpsRequest> {
        (any::<String>(), any::<String>(), names(), names(), any_op()).prop_map(
            |(origin, nsp, rooms, except, op)| OpsRequest {
                origin,
                nsp,
                rooms,
                except,
                op,
            },
        )
    }

    proptest! {
        #[test]
        fn ops_request_round_trip(message in any_ops_request()) {
            prop_assert_eq!(OpsRequest::decode(message.encode()), Ok(message));
        }
    }
}
