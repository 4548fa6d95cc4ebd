//! The JSON header's `"type"` tag, which names the message kind so that no
//! message decodes as another.

use serde::{Deserialize, Serialize};

use super::{
    broadcast::BroadcastHeader,
    forward::{ForwardHeader, ReplyHeader},
    heartbeat::HeartbeatHeader,
    ops::OpsRequestHeader,
    ops_reply::OpsReplyHeader,
    peer::PeerMessageOf,
    WireError,
};

/// The JSON header; its `"type"` tag keeps one message kind from decoding as another.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Header<'a> {
    Broadcast(BroadcastHeader<'a>),
    Forward(ForwardHeader<'a>),
    Reply(ReplyHeader),
    Heartbeat(HeartbeatHeader<'a>),
    Peer(PeerMessageOf<u64>),
    OpsRequest(OpsRequestHeader<'a>),
    OpsReply(OpsReplyHeader<'a>),
}

impl Header<'_> {
    /// The message kind's name, for [`WireError::WrongKind`].
    fn kind(&self) -> &'static str {
        match self {
            Header::Broadcast(_) => KIND_BROADCAST,
            Header::Forward(_) => KIND_FORWARD,
            Header::Reply(_) => KIND_REPLY,
            Header::Heartbeat(_) => KIND_HEARTBEAT,
            Header::Peer(_) => KIND_PEER,
            Header::OpsRequest(_) => KIND_OPS_REQUEST,
            Header::OpsReply(_) => KIND_OPS_REPLY,
        }
    }

    /// The error for decoding this header as a message of kind `expected`.
    pub(super) fn wrong_kind(&self, expected: &'static str) -> WireError {
        WireError::WrongKind {
            expected,
            found: self.kind(),
        }
    }
}

/// Names of the message kinds, matching the header tags.
pub(super) const KIND_BROADCAST: &str = "broadcast";
pub(super) const KIND_FORWARD: &str = "forward";
pub(super) const KIND_REPLY: &str = "reply";
pub(super) const KIND_HEARTBEAT: &str = "heartbeat";
pub(super) const KIND_PEER: &str = "peer";
pub(super) const KIND_OPS_REQUEST: &str = "ops_request";
pub(super) const KIND_OPS_REPLY: &str = "ops_reply";

#[cfg(test)]
pub(crate) mod tests {
    use crate::cluster::wire::{
        broadcast::tests::{any_broadcast, broadcast},
        envelope::tests::raw,
        forward::tests::{any_reply, any_request, post},
        heartbeat::tests::{any_heartbeat, heartbeat},
        ops::tests::{any_ops_request, request},
        ops_reply::tests::any_ops_reply,
        peer::tests::any_peer,
        ForwardReply, ForwardRequest, Heartbeat, OpsReply, OpsRequest, PeerMessage, WireBroadcast,
        WireError,
    };
    use bytes::Bytes;
    use proptest::prelude::*;

    /// Runs every decoder on `input`, which must not panic.
    pub(crate) fn decode_all(input: &Bytes) {
        let _ = WireBroadcast::decode(input.clone());
        let _ = ForwardRequest::decode(input.clone());
        let _ = ForwardReply::decode(input.clone());
        let _ = Heartbeat::decode(input.clone());
        let _ = PeerMessage::decode(input.clone());
        let _ = OpsRequest::decode(input.clone());
        let _ = OpsReply::decode(input.clone());
    }

    /// Any message of any kind, encoded.
    pub(crate) fn any_encoded() -> impl Strategy<Value = Bytes> {
        prop_oneof![
            any_broadcast().prop_map(|m| m.encode()),
            any_request().prop_map(|m| m.encode()),
            any_reply().prop_map(|m| m.encode()),
            any_heartbeat().prop_map(|m| m.encode()),
            any_peer().prop_map(|m| m.encode()),
            any_ops_request().prop_map(|m| m.encode()),
            any_ops_reply().prop_map(|m| m.encode()),
        ]
    }

    #[test]
    fn ignores_unknown_header_fields() {
        let header = r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false,"zone":"eu"}"#;
        assert_eq!(Heartbeat::decode(raw(1, header, &[])), Ok(heartbeat()));
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
            OpsReply::decode(request().encode()),
            Err(WireError::WrongKind {
                expected: "ops_reply",
                found: "ops_request"
            })
        );
        assert_eq!(
            OpsRequest::decode(super::super::heartbeat::tests::heartbeat().encode()),
            Err(WireError::WrongKind {
                expected: "ops_request",
                found: "heartbeat"
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

    proptest! {
        #[test]
        fn exactly_one_decoder_accepts_a_message(encoded in any_encoded()) {
            let accepted = [
                WireBroadcast::decode(encoded.clone()).is_ok(),
                ForwardRequest::decode(encoded.clone()).is_ok(),
                ForwardReply::decode(encoded.clone()).is_ok(),
                Heartbeat::decode(encoded.clone()).is_ok(),
                PeerMessage::decode(encoded.clone()).is_ok(),
                OpsRequest::decode(encoded.clone()).is_ok(),
                OpsReply::decode(encoded).is_ok(),
            ];
            prop_assert_eq!(accepted.iter().filter(|&&ok| ok).count(), 1);
        }
    }
}
