//! [`ForwardRequest`] and [`ForwardReply`], an engine.io polling request passed
//! to the node that owns the session and its answer, with their encoding.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    envelope::{envelope, open, BLOB_BODY},
    header::{Header, KIND_FORWARD, KIND_REPLY},
    WireError,
};

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

/// [`ForwardRequest`] minus the body.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ForwardHeader<'a> {
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
pub(super) struct ReplyHeader {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::wire::envelope::tests::raw;
    use proptest::prelude::*;

    pub(crate) fn post(body: &'static [u8]) -> ForwardRequest {
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

    fn any_body() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..128).prop_map(Bytes::from)
    }

    pub(crate) fn any_request() -> impl Strategy<Value = ForwardRequest> {
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

    pub(crate) fn any_reply() -> impl Strategy<Value = ForwardReply> {
        prop_oneof![
            any_body().prop_map(ForwardReply::Polled),
            Just(ForwardReply::Posted),
            any::<u8>().prop_map(ForwardReply::Refused),
            Just(ForwardReply::TooLarge),
        ]
    }

    proptest! {
        #[test]
        fn request_round_trip(message in any_request()) {
            prop_assert_eq!(ForwardRequest::decode(message.encode()), Ok(message));
        }

        #[test]
        fn reply_round_trip(message in any_reply()) {
            prop_assert_eq!(ForwardReply::decode(message.encode()), Ok(message));
        }
    }
}
