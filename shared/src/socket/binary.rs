//! Reassembly of binary socket.io packets from their attachments.
//!
//! A BINARY_EVENT or BINARY_ACK arrives as one text message announcing `N`
//! attachments (`51-["file",{"_placeholder":true,"num":0}]`), followed by `N`
//! engine.io binary messages in placeholder order. The [`Decoder`] holds the
//! packet until all of them are in, then hands it over whole.

use bytes::Bytes;

use super::decode::decode_text_within;
use super::packet::{Packet, PacketError};

/// Decodes the socket.io packets of one engine.io session, reassembling
/// binary packets from the attachments that follow them.
///
/// Any error means the peer broke the protocol; the session should be
/// closed, and the decoder's state is not meaningful afterwards.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// The most attachments one packet may announce, bounding what a client
    /// can make the server buffer.
    max_attachments: usize,
    /// The deepest JSON nesting a packet may have.
    max_depth: usize,
    /// A binary packet still waiting, and how many attachments it lacks.
    pending: Option<(Packet, usize)>,
}

impl Decoder {
    /// A decoder that rejects packets announcing more than `max_attachments`
    /// attachments.
    pub fn new(max_attachments: usize) -> Self {
        Self {
            max_attachments,
            max_depth: usize::MAX,
            pending: None,
        }
    }

    /// Also rejects packets whose JSON nests deeper than `max_depth`, before
    /// parsing them.
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// A text message: the packet, or `None` when it is a binary packet whose
    /// attachments are still to come. Error if a binary packet is still
    /// waiting for attachments.
    pub fn text(&mut self, text: &str) -> Result<Option<Packet>, PacketError> {
        if self.pending.is_some() {
            return Err(PacketError::AttachmentsPending);
        }
        let (mut packet, expected) =
            decode_text_within(text, self.max_attachments, self.max_depth)?;
        if expected == 0 {
            return Ok(Some(packet));
        }
        if let Some(payload) = packet.body.payload_mut() {
            payload.attachments.reserve_exact(expected);
        }
        self.pending = Some((packet, expected));
        Ok(None)
    }

    /// A binary message: the next attachment of the pending packet, which is
    /// returned once this was its last one. Error if none is pending.
    pub fn binary(&mut self, bytes: Bytes) -> Result<Option<Packet>, PacketError> {
        let (mut packet, remaining) = self.pending.take().ok_or(PacketError::UnexpectedBinary)?;
        // Only EVENT and ACK bodies are ever held, so this always matches.
        let payload = packet
            .body
            .payload_mut()
            .ok_or(PacketError::UnexpectedBinary)?;
        payload.attachments.push(bytes);
        match remaining.checked_sub(1) {
            Some(remaining) if remaining > 0 => {
                self.pending = Some((packet, remaining));
                Ok(None)
            }
            _ => Ok(Some(packet)),
        }
    }

    /// Whether a binary packet is waiting for attachments, e.g. to tell a
    /// clean end of session from one cut mid-packet.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::tests::raw;
    use super::super::packet::{Body, Payload, RESERVED_EVENTS};
    use super::*;
    use proptest::prelude::*;
    use serde_json::value::RawValue;

    #[test]
    fn plain_packets_pass_straight_through() {
        let mut decoder = Decoder::new(4);
        assert_eq!(
            decoder.text(r#"2["hello",1]"#),
            Ok(Some(Packet::event(
                "/",
                "hello",
                Payload::new(vec![raw("1")]),
                None
            )))
        );
        assert!(!decoder.is_pending());
    }

    #[test]
    fn reassembles_binary_event() {
        let mut decoder = Decoder::new(4);
        assert_eq!(
            decoder.text(r#"51-["hello",{"_placeholder":true,"num":0}]"#),
            Ok(None)
        );
        assert!(decoder.is_pending());
        let expected = Packet::event(
            "/",
            "hello",
            Payload::new(vec![raw(r#"{"_placeholder":true,"num":0}"#)])
                .with_attachments(vec![Bytes::from_static(&[1, 2, 3])]),
            None,
        );
        assert_eq!(
            decoder.binary(Bytes::from_static(&[1, 2, 3])),
            Ok(Some(expected))
        );
        assert!(!decoder.is_pending());
    }

    #[test]
    fn reassembles_binary_ack_in_order() {
        let mut decoder = Decoder::new(4);
        let wire = r#"62-/admin,456[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(decoder.text(wire), Ok(None));
        assert_eq!(decoder.binary(Bytes::from_static(b"first")), Ok(None));
        let packet = decoder
            .binary(Bytes::from_static(b"second"))
            .expect("valid")
            .expect("complete");
        assert_eq!(packet.nsp, "/admin");
        match &packet.body {
            Body::Ack { payload, ack } => {
                assert_eq!(*ack, 456);
                assert_eq!(
                    payload.attachments,
                    vec![Bytes::from_static(b"first"), Bytes::from_static(b"second")]
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        // Encoding gives back the same text, attachments sent separately.
        assert_eq!(packet.encode_text(""), wire);
    }

    #[test]
    fn zero_attachments_are_returned_at_once() {
        let mut decoder = Decoder::new(0);
        assert_eq!(
            decoder.text(r#"50-["a"]"#),
            Ok(Some(Packet::event("/", "a", Payload::default(), None)))
        );
    }

    #[test]
    fn rejects_out_of_order_messages() {
        let mut decoder = Decoder::new(4);
        assert_eq!(
            decoder.binary(Bytes::from_static(&[1])),
            Err(PacketError::UnexpectedBinary)
        );
        assert_eq!(
            decoder.text(r#"51-["a",{"_placeholder":true,"num":0}]"#),
            Ok(None)
        );
        assert_eq!(
            decoder.text(r#"2["b"]"#),
            Err(PacketError::AttachmentsPending)
        );
    }

    #[test]
    fn depth_is_measured_on_the_data_not_the_namespace() {
        let mut decoder = Decoder::new(2).with_max_depth(2);
        assert!(matches!(decoder.text(r#"2["e",[1]]"#), Ok(Some(_))));
        let too_deep = Err(PacketError::TooDeep { max: 2 });
        assert_eq!(decoder.text(r#"2["e",[[1]]]"#), too_deep);
        // Brackets in a namespace are not JSON, and a quote there hides nothing.
        assert!(matches!(decoder.text("0/[[[,"), Ok(Some(_))));
        assert_eq!(decoder.text(r#"2/a",["e",[[1]]]"#), too_deep);
    }

    #[test]
    fn rejects_too_many_attachments() {
        let mut decoder = Decoder::new(2);
        assert_eq!(
            decoder.text(r#"53-["a"]"#),
            Err(PacketError::TooManyAttachments { max: 2 })
        );
        assert!(!decoder.is_pending());
    }

    /// One argument's JSON text, from a few shapes including nested values
    /// and strings with unicode and commas.
    fn json_arg() -> impl Strategy<Value = String> {
        let string = any::<String>()
            .prop_map(|s| serde_json::to_string(&s).unwrap_or_else(|_| String::from("\"\"")));
        let leaf = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            Just(String::from("1.0")),
            Just(String::from("-2.5e10")),
            Just(String::from("true")),
            Just(String::from("null")),
            string.clone(),
            Just(String::from(r#""a,b, é ✓""#)),
            Just(String::from(r#"{"_placeholder":true,"num":0}"#)),
        ];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((string.clone(), inner), 0..4).prop_map(|fields| {
                    let fields: Vec<String> = fields
                        .into_iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        })
    }

    fn payload() -> impl Strategy<Value = Payload> {
        (
            proptest::collection::vec(json_arg(), 0..4),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 0..4),
        )
            .prop_map(|(args, attachments)| {
                Payload::new(args.iter().map(|a| raw(a)).collect())
                    .with_attachments(attachments.into_iter().map(Bytes::from).collect())
            })
    }

    fn object() -> impl Strategy<Value = Box<RawValue>> {
        json_arg().prop_map(|v| raw(&format!(r#"{{"k":{v},"x,y":"é"}}"#)))
    }

    fn any_packet() -> impl Strategy<Value = Packet> {
        let nsp = prop_oneof![
            Just(String::from("/")),
            "[a-zA-Z0-9]{1,8}".prop_map(|s| format!("/{s}")),
        ];
        let event_name =
            any::<String>().prop_filter("reserved", |s| !RESERVED_EVENTS.contains(&s.as_str()));
        let body = prop_oneof![
            proptest::option::of(object()).prop_map(Body::Connect),
            Just(Body::Disconnect),
            (event_name, payload(), any::<Option<u64>>()).prop_map(|(event, payload, ack)| {
                Body::Event {
                    event,
                    payload,
                    ack,
                }
            }),
            (payload(), any::<u64>()).prop_map(|(payload, ack)| Body::Ack { payload, ack }),
            object().prop_map(Body::ConnectError),
            any::<String>().prop_map(|s| Body::ConnectError(
                serde_json::value::to_raw_value(&s).unwrap_or_else(|_| raw("\"\""))
            )),
        ];
        (nsp, body).prop_map(|(nsp, body)| Packet { nsp, body })
    }

    proptest! {
        #[test]
        fn round_trip_through_decoder(packet in any_packet()) {
            let mut decoder = Decoder::new(8);
            let mut decoded = decoder.text(&packet.encode_text("")).map_err(|e| e.to_string());
            for attachment in packet.attachments() {
                prop_assert_eq!(&decoded, &Ok(None));
                decoded = decoder.binary(attachment.clone()).map_err(|e| e.to_string());
            }
            prop_assert_eq!(decoded, Ok(Some(packet)));
            prop_assert!(!decoder.is_pending());
        }

        #[test]
        fn text_never_panics(s in any::<String>()) {
            let _ = Decoder::new(2).text(&s);
        }

        #[test]
        fn likely_text_never_panics(s in r#"[0-6][0-9/,\-\[\]{}":a-z_ ]{0,24}"#) {
            let _ = Decoder::new(2).text(&s);
        }

        #[test]
        fn binary_never_panics(
            header in r#"[56][0-3]-[0-9]{0,2}\["e"\]"#,
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..32), 0..5),
        ) {
            let mut decoder = Decoder::new(2);
            let _ = decoder.text(&header);
            for chunk in chunks {
                let _ = decoder.binary(Bytes::from(chunk));
            }
        }
    }
}
