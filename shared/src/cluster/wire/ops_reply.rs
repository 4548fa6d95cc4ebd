//! [`OpsReply`], what one node answers to a scattered [`super::OpsRequest`].
//! A node may answer several times (a count, then each ack), all to the
//! request's inbox.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    envelope::{envelope, open},
    header::{Header, KIND_OPS_REPLY},
    ops::{count, payload_blobs, read_payload, WirePayload},
    WireError,
};

/// One answer of one node to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsReply {
    /// The answering node, so the origin knows who is still to answer.
    pub node: String,
    /// What it says.
    pub body: OpsReplyBody,
}

/// What a node says about an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpsReplyBody {
    /// The operation is done on this node.
    Done,
    /// The target sockets of this node (its whole answer to a fetch).
    Sockets(Vec<WireSocket>),
    /// How many answers ([`OpsReplyBody::Answer`]) this node will send.
    Expect(u64),
    /// One answer: a client's ack, or a server event handler's.
    Answer(WirePayload),
}

/// A socket as another node describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSocket {
    /// The socket id.
    pub id: String,
    /// Its namespace.
    pub nsp: String,
    /// Its rooms, its own included.
    pub rooms: Vec<String>,
    /// `socket.data` as JSON text.
    pub data: String,
    /// Its handshake as JSON text.
    pub handshake: String,
}

/// [`OpsReply`] minus the answer's blobs.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct OpsReplyHeader<'a> {
    node: Cow<'a, str>,
    body: BodyHeader<'a>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum BodyHeader<'a> {
    Done,
    Sockets { sockets: Cow<'a, [WireSocket]> },
    Expect { count: u64 },
    Answer { attachments: u64 },
}

impl OpsReply {
    /// Encodes for the request's inbox.
    pub fn encode(&self) -> Bytes {
        let (body, blobs) = match &self.body {
            OpsReplyBody::Done => (BodyHeader::Done, Vec::new()),
            OpsReplyBody::Sockets(sockets) => (
                BodyHeader::Sockets {
                    sockets: Cow::Borrowed(sockets),
                },
                Vec::new(),
            ),
            OpsReplyBody::Expect(count) => (BodyHeader::Expect { count: *count }, Vec::new()),
            OpsReplyBody::Answer(payload) => (
                BodyHeader::Answer {
                    attachments: count(payload.attachments.len()),
                },
                payload_blobs(payload),
            ),
        };
        let header = Header::OpsReply(OpsReplyHeader {
            node: Cow::Borrowed(&self.node),
            body,
        });
        envelope(&header, &blobs)
    }

    /// Decodes a received payload; attachments share its buffer.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let header: OpsReplyHeader<'_> = match header {
            Header::OpsReply(header) => header,
            other => return Err(other.wrong_kind(KIND_OPS_REPLY)),
        };
        let body = match header.body {
            BodyHeader::Done => OpsReplyBody::Done,
            BodyHeader::Sockets { sockets } => OpsReplyBody::Sockets(sockets.into_owned()),
            BodyHeader::Expect { count } => OpsReplyBody::Expect(count),
            BodyHeader::Answer { attachments } => {
                OpsReplyBody::Answer(read_payload(&mut reader, attachments)?)
            }
        };
        reader.finish()?;
        Ok(Self {
            node: header.node.into_owned(),
            body,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::wire::ops::tests::any_payload;
    use proptest::prelude::*;

    fn socket() -> WireSocket {
        WireSocket {
            id: "abc".to_owned(),
            nsp: "/".to_owned(),
            rooms: vec!["abc".to_owned(), "é.*".to_owned()],
            data: r#"{"k":[1,2]}"#.to_owned(),
            handshake: r#"{"auth":{}}"#.to_owned(),
        }
    }

    #[test]
    fn every_reply_round_trips() {
        for body in [
            OpsReplyBody::Done,
            OpsReplyBody::Sockets(vec![socket(), socket()]),
            OpsReplyBody::Sockets(Vec::new()),
            OpsReplyBody::Expect(u64::MAX),
            OpsReplyBody::Answer(WirePayload {
                args: "[1]".to_owned(),
                attachments: vec![Bytes::new(), Bytes::from_static(b"\xff")],
            }),
        ] {
            let message = OpsReply {
                node: "n2".to_owned(),
                body,
            };
            assert_eq!(OpsReply::decode(message.encode()), Ok(message));
        }
    }

    pub(crate) fn any_ops_reply() -> impl Strategy<Value = OpsReply> {
        let socket = (
            any::<String>(),
            any::<String>(),
            proptest::collection::vec(any::<String>(), 0..3),
            any::<String>(),
            any::<String>(),
        )
            .prop_map(|(id, nsp, rooms, data, handshake)| WireSocket {
                id,
                nsp,
                rooms,
                data,
                handshake,
            });
        let body = prop_oneof![
            Just(OpsReplyBody::Done),
            proptest::collection::vec(socket, 0..3).prop_map(OpsReplyBody::Sockets),
            any::<u64>().prop_map(OpsReplyBody::Expect),
            any_payload().prop_map(OpsReplyBody::Answer),
        ];
        (any::<String>(), body).prop_map(|(node, body)| OpsReply { node, body })
    }

    proptest! {
        #[test]
        fn ops_reply_round_trip(message in any_ops_reply()) {
            prop_assert_eq!(OpsReply::decode(message.encode()), Ok(message));
        }
    }
}
