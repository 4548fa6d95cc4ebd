//! [`PeerMessage`]: what two nodes say about one session while it moves
//! from one to the other (the WebSocket upgrade handover), and afterwards,
//! while the old owner's tombstone relays stragglers.
//!
//! The message types are generic over how frames are held (`F`): with
//! `Vec<Frame>` they are what code uses; with `u64` (a frame count) they are
//! the JSON header, and the frames follow as blobs in order. So one type
//! describes both, and binary frames never enter the JSON.

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use super::{
    envelope::{envelope, open, Reader, BLOB_BINARY, BLOB_TEXT},
    header::{Header, KIND_PEER},
    WireError,
};
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

impl<F> PeerBodyOf<F> {
    /// The same body with every frame list mapped by `map`, in order.
    fn try_map<G, E>(self, map: &mut impl FnMut(F) -> Result<G, E>) -> Result<PeerBodyOf<G>, E> {
        Ok(match self {
            Self::Claim => PeerBodyOf::Claim,
            Self::Probed => PeerBodyOf::Probed,
            Self::Take => PeerBodyOf::Take,
            Self::Release => PeerBodyOf::Release,
            Self::Abort { imported } => PeerBodyOf::Abort { imported },
            Self::Accepted => PeerBodyOf::Accepted,
            Self::Refused(code) => PeerBodyOf::Refused(code),
            Self::Relay(item) => PeerBodyOf::Relay(item.try_map(map)?),
            Self::Snapshot(snapshot) => PeerBodyOf::Snapshot(SessionSnapshotOf {
                query: snapshot.query,
                headers: snapshot.headers,
                address: snapshot.address,
                url: snapshot.url,
                secure: snapshot.secure,
                outbox: map(snapshot.outbox)?,
                next_ping_ms: snapshot.next_ping_ms,
                pong_due_ms: snapshot.pong_due_ms,
                app: snapshot.app,
            }),
            Self::Relayed(items) => PeerBodyOf::Relayed(
                items
                    .into_iter()
                    .map(|item| item.try_map(map))
                    .collect::<Result<_, E>>()?,
            ),
        })
    }
}

impl<F> RelayItemOf<F> {
    /// The same item with its frame list mapped by `map`.
    fn try_map<G, E>(self, map: &mut impl FnMut(F) -> Result<G, E>) -> Result<RelayItemOf<G>, E> {
        Ok(match self {
            Self::Emit {
                nsp,
                socket,
                ack,
                frames,
            } => RelayItemOf::Emit {
                nsp,
                socket,
                ack,
                frames: map(frames)?,
            },
            Self::Deliver {
                socket,
                id,
                nsp,
                rooms,
                except,
                volatile,
                frames,
            } => RelayItemOf::Deliver {
                socket,
                id,
                nsp,
                rooms,
                except,
                volatile,
                frames: map(frames)?,
            },
            Self::Join { nsp, socket, room } => RelayItemOf::Join { nsp, socket, room },
            Self::Leave { nsp, socket, room } => RelayItemOf::Leave { nsp, socket, room },
            Self::SetData { nsp, socket, data } => RelayItemOf::SetData { nsp, socket, data },
            Self::Disconnect { nsp, socket } => RelayItemOf::Disconnect { nsp, socket },
            Self::AckAnswer {
                nsp,
                id,
                args,
                frames,
            } => RelayItemOf::AckAnswer {
                nsp,
                id,
                args,
                frames: map(frames)?,
            },
        })
    }
}

impl PeerMessage {
    /// Encodes for the bus: frame counts in the header, frames as blobs.
    pub fn encode(&self) -> Bytes {
        let mut frames: Vec<&Frame> = Vec::new();
        let body = self.body.clone().try_map(&mut |list: Vec<Frame>| {
            let count = u64::try_from(list.len()).unwrap_or(u64::MAX);
            Ok::<_, std::convert::Infallible>(count)
        });
        let Ok(body) = body;
        collect_frames(&self.body, &mut frames);
        let header = Header::Peer(PeerMessageOf {
            from: self.from.clone(),
            sid: self.sid.clone(),
            endpoint: self.endpoint,
            body,
        });
        let blobs: Vec<(u8, &[u8])> = frames
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
        let message = match header {
            Header::Peer(message) => message,
            other => return Err(other.wrong_kind(KIND_PEER)),
        };
        let body = message
            .body
            .try_map(&mut |count: u64| read_frames(&mut reader, count))?;
        reader.finish()?;
        Ok(Self {
            from: message.from,
            sid: message.sid,
            endpoint: message.endpoint,
            body,
        })
    }
}

/// Every frame of `body`, in the order `try_map` visits them.
fn collect_frames<'a>(body: &'a PeerBody, out: &mut Vec<&'a Frame>) {
    let item_frames = |item: &'a RelayItem| -> &'a [Frame] {
        match item {
            RelayItemOf::Emit { frames, .. }
            | RelayItemOf::Deliver { frames, .. }
            | RelayItemOf::AckAnswer { frames, .. } => frames,
            _ => &[],
        }
    };
    match body {
        PeerBodyOf::Relay(item) => out.extend(item_frames(item)),
        PeerBodyOf::Relayed(items) => out.extend(items.iter().flat_map(item_frames)),
        PeerBodyOf::Snapshot(snapshot) => out.extend(&snapshot.outbox),
        _ => {}
    }
}

/// Reads `count` frame blobs. The count is untrusted: it bounds the loop,
/// never an allocation, and the loop stops at the first missing blob.
fn read_frames(reader: &mut Reader, count: u64) -> Result<Vec<Frame>, WireError> {
    let mut frames = Vec::new();
    for _ in 0..count {
        let frame = match reader.blob()? {
            (BLOB_TEXT, data) => {
                Frame::Text(ByteString::try_from(data).map_err(|_| WireError::InvalidUtf8)?)
            }
            (BLOB_BINARY, data) => Frame::Binary(data),
            (kind, _) => return Err(WireError::UnexpectedBlob(kind)),
        };
        frames.push(frame);
    }
    Ok(frames)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> Frame {
        Frame::Text(ByteString::from(s))
    }

    fn binary(b: &'static [u8]) -> Frame {
        Frame::Binary(Bytes::from_static(b))
    }

    pub(crate) fn relayed() -> PeerMessage {
        PeerMessage {
            from: "n2".into(),
            sid: "n1-abc".into(),
            endpoint: 0,
            body: PeerBodyOf::Relayed(vec![
                RelayItemOf::Emit {
                    nsp: "/".into(),
                    socket: "s1".into(),
                    ack: Some(7),
                    frames: vec![
                        text("451-[\"x\",{\"_placeholder\":true,\"num\":0}]"),
                        binary(&[0, 0xff]),
                    ],
                },
                RelayItemOf::Join {
                    nsp: "/".into(),
                    socket: "s1".into(),
                    room: "a.b*".into(),
                },
                RelayItemOf::Deliver {
                    socket: "s1".into(),
                    id: (u64::MAX, 3),
                    nsp: "/".into(),
                    rooms: vec!["r".into()],
                    except: vec![],
                    volatile: false,
                    frames: vec![text("42[\"m\"]")],
                },
                RelayItemOf::AckAnswer {
                    nsp: "/".into(),
                    id: 9,
                    args: "[1]".into(),
                    frames: vec![binary(b"")],
                },
            ]),
        }
    }

    pub(crate) fn snapshot() -> PeerMessage {
        PeerMessage {
            from: "n2".into(),
            sid: "n1-abc".into(),
            endpoint: 1,
            body: PeerBodyOf::Snapshot(SessionSnapshotOf {
                query: vec![("EIO".into(), "4".into())],
                headers: vec![("origin".into(), "x".into())],
                address: "10.0.0.1".into(),
                url: "/socket.io/?EIO=4".into(),
                secure: false,
                outbox: vec![text("2"), text("")],
                next_ping_ms: 1200,
                pong_due_ms: None,
                app: r#"{"sockets":[]}"#.into(),
            }),
        }
    }

    #[test]
    fn peer_messages_round_trip() {
        for message in [relayed(), snapshot()] {
            assert_eq!(PeerMessage::decode(message.encode()), Ok(message));
        }
        for body in [
            PeerBodyOf::Claim,
            PeerBodyOf::Probed,
            PeerBodyOf::Take,
            PeerBodyOf::Release,
            PeerBodyOf::Abort { imported: true },
            PeerBodyOf::Accepted,
            PeerBodyOf::Refused(1),
        ] {
            let message = PeerMessage {
                from: "n2".into(),
                sid: "s".into(),
                endpoint: 0,
                body,
            };
            assert_eq!(PeerMessage::decode(message.encode()), Ok(message));
        }
    }

    #[test]
    fn frames_stay_out_of_the_header() {
        let encoded = relayed().encode();
        let header_len = encoded
            .get(1..5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0) as usize;
        let header = String::from_utf8_lossy(&encoded[5..5 + header_len]).into_owned();
        assert!(!header.contains("placeholder"), "{header}");
        assert!(header.contains(r#""frames":2"#), "{header}");
    }

    #[test]
    fn refuses_cut_and_padded_messages() {
        let encoded = relayed().encode();
        let cut = encoded.slice(..encoded.len() - 1);
        assert!(PeerMessage::decode(cut).is_err());
        let mut padded = encoded.to_vec();
        padded.push(0);
        assert!(matches!(
            PeerMessage::decode(Bytes::from(padded)),
            Err(WireError::TrailingBytes(1))
        ));
    }

    pub(crate) fn any_peer() -> impl Strategy<Value = PeerMessage> {
        let frames = prop::collection::vec(
            prop_oneof![
                ".{0,8}".prop_map(|s| Frame::Text(ByteString::from(s))),
                prop::collection::vec(any::<u8>(), 0..8)
                    .prop_map(|b| Frame::Binary(Bytes::from(b))),
            ],
            0..4,
        );
        let item = (".{0,6}", ".{0,6}", any::<Option<u64>>(), frames.clone()).prop_map(
            |(nsp, socket, ack, frames)| RelayItemOf::Emit {
                nsp,
                socket,
                ack,
                frames,
            },
        );
        let body = prop_oneof![
            Just(PeerBodyOf::Take),
            any::<u8>().prop_map(PeerBodyOf::Refused),
            item.clone().prop_map(PeerBodyOf::Relay),
            prop::collection::vec(item, 0..4).prop_map(PeerBodyOf::Relayed),
            (frames, any::<u64>(), ".{0,10}").prop_map(|(outbox, next_ping_ms, app)| {
                PeerBodyOf::Snapshot(SessionSnapshotOf {
                    query: vec![],
                    headers: vec![],
                    address: String::new(),
                    url: String::new(),
                    secure: true,
                    outbox,
                    next_ping_ms,
                    pong_due_ms: Some(1),
                    app,
                })
            }),
        ];
        (".{0,10}", any::<u8>(), body).prop_map(|(sid, endpoint, body)| PeerMessage {
            from: "n2".into(),
            sid,
            endpoint,
            body,
        })
    }

    proptest! {
        #[test]
        fn any_peer_message_round_trips(message in any_peer()) {
            prop_assert_eq!(PeerMessage::decode(message.encode()), Ok(message));
        }
    }
}
