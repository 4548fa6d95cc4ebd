//! Engine.io v4 packets and their WebSocket wire form.
//!
//! A text packet on the wire is one ASCII type digit followed by its data
//! (`"4hello"`, `"2probe"`, `"6"`); a binary message travels as a raw binary
//! WebSocket frame with no type prefix. Packets are encoded once into a
//! [`Frame`] so that a broadcast only clones refcounted buffers.

use bytes::Bytes;
use bytestring::ByteString;

/// The data of a message packet, kept apart so text and binary payloads can
/// take their different wire forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// A UTF-8 text message, sent as `"4<text>"`.
    Text(ByteString),
    /// A binary message, sent as a raw binary frame (or `b<base64>` when polling).
    Binary(Bytes),
}

/// One engine.io packet, the unit both transports exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Type `0`: the server's handshake, carrying the handshake JSON text.
    Open(ByteString),
    /// Type `1`: asks the other side to close the session.
    Close,
    /// Type `2`: heartbeat probe; the data is usually empty, or `"probe"` during an upgrade.
    Ping(ByteString),
    /// Type `3`: the answer to a ping, echoing its data.
    Pong(ByteString),
    /// Type `4`: an application message.
    Message(Data),
    /// Type `5`: completes a transport upgrade.
    Upgrade,
    /// Type `6`: does nothing; used to flush a pending poll during an upgrade.
    Noop,
}

/// A packet already encoded for the wire. Encoding happens once; a broadcast
/// clones the Frame (cheap, refcounted) for every recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame: the type digit followed by the packet data.
    Text(ByteString),
    /// A binary frame: the raw bytes of a binary message, without a prefix.
    Binary(Bytes),
}

/// Why incoming bytes could not be turned into packets; any of these means the
/// peer is misbehaving and the caller should close the session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A packet (or a payload segment) had no bytes at all, so no type digit.
    #[error("empty packet: no packet type")]
    Empty,
    /// A polling payload body was empty, while at least one packet is required.
    #[error("empty polling payload")]
    EmptyPayload,
    /// The first character was not one of the packet type digits `0`-`6`.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// The input was expected to be UTF-8 text and was not.
    #[error("packet data is not valid UTF-8")]
    InvalidUtf8,
    /// A `b`-prefixed binary packet in a polling payload had malformed base64.
    #[error("invalid base64 in binary packet")]
    InvalidBase64,
}

impl Packet {
    /// Encodes to the WebSocket frame form: text packets become
    /// `"<digit><data>"` text, a binary message becomes a raw binary frame.
    pub fn encode(&self) -> Frame {
        match self {
            Packet::Open(data) => Frame::Text(prefixed("0", data)),
            Packet::Close => Frame::Text(ByteString::from_static("1")),
            Packet::Ping(data) => Frame::Text(prefixed("2", data)),
            Packet::Pong(data) => Frame::Text(prefixed("3", data)),
            Packet::Message(Data::Text(data)) => Frame::Text(prefixed("4", data)),
            Packet::Message(Data::Binary(data)) => Frame::Binary(data.clone()),
            Packet::Upgrade => Frame::Text(ByteString::from_static("5")),
            Packet::Noop => Frame::Text(ByteString::from_static("6")),
        }
    }

    /// Decodes one text packet (`"4hello"`, `"2probe"`, `"5"`, ...). Data after
    /// Close/Upgrade/Noop is ignored (lenient); empty input or an unknown type
    /// digit is an error.
    pub fn decode_text(text: ByteString) -> Result<Packet, DecodeError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(DecodeError::Empty)?;
        // The remainder is a sub-slice of `text`, so this shares its buffer.
        let data = text.slice_ref(chars.as_str());
        match kind {
            '0' => Ok(Packet::Open(data)),
            '1' => Ok(Packet::Close),
            '2' => Ok(Packet::Ping(data)),
            '3' => Ok(Packet::Pong(data)),
            '4' => Ok(Packet::Message(Data::Text(data))),
            '5' => Ok(Packet::Upgrade),
            '6' => Ok(Packet::Noop),
            other => Err(DecodeError::UnknownType(other)),
        }
    }

    /// Decodes a WebSocket frame: text goes through [`Packet::decode_text`],
    /// binary is a binary message (an empty binary frame is a valid empty message).
    pub fn decode_frame(frame: Frame) -> Result<Packet, DecodeError> {
        match frame {
            Frame::Text(text) => Packet::decode_text(text),
            Frame::Binary(bytes) => Ok(Packet::Message(Data::Binary(bytes))),
        }
    }

    /// Short helper building a text message packet, the most common packet
    /// the application sends.
    pub fn text(s: impl Into<ByteString>) -> Packet {
        Packet::Message(Data::Text(s.into()))
    }
}

/// Builds `digit + data`, avoiding an allocation when there is no data.
fn prefixed(digit: &'static str, data: &str) -> ByteString {
    if data.is_empty() {
        return ByteString::from_static(digit);
    }
    let mut out = String::with_capacity(digit.len().saturating_add(data.len()));
    out.push_str(digit);
    out.push_str(data);
    ByteString::from(out)
}

impl Frame {
    /// Length in bytes on the wire, used for send-buffer accounting.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the frame carries no bytes at all (only possible for an empty
    /// binary message, since text frames always hold a type digit).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text_frame(s: &str) -> Frame {
        Frame::Text(ByteString::from(s))
    }

    #[test]
    fn every_packet_type_encodes_exactly() {
        let cases = [
            (Packet::Open(r#"{"sid":"x"}"#.into()), r#"0{"sid":"x"}"#),
            (Packet::Close, "1"),
            (Packet::Ping("".into()), "2"),
            (Packet::Ping("probe".into()), "2probe"),
            (Packet::Pong("".into()), "3"),
            (Packet::Pong("probe".into()), "3probe"),
            (Packet::text("hello"), "4hello"),
            (Packet::text(""), "4"),
            (Packet::Upgrade, "5"),
            (Packet::Noop, "6"),
        ];
        for (packet, wire) in cases {
            assert_eq!(packet.encode(), text_frame(wire), "{packet:?}");
        }
    }

    #[test]
    fn binary_message_encodes_to_raw_binary_frame() {
        let packet = Packet::Message(Data::Binary(Bytes::from_static(&[1, 2, 3])));
        assert_eq!(
            packet.encode(),
            Frame::Binary(Bytes::from_static(&[1, 2, 3]))
        );
    }

    #[test]
    fn decodes_text_packets() {
        let cases = [
            ("2probe", Packet::Ping("probe".into())),
            ("3probe", Packet::Pong("probe".into())),
            ("2", Packet::Ping("".into())),
            ("5", Packet::Upgrade),
            ("6", Packet::Noop),
            ("1", Packet::Close),
            ("4", Packet::text("")),
            ("4héllo", Packet::text("héllo")),
            ("0{\"sid\":\"a\"}", Packet::Open("{\"sid\":\"a\"}".into())),
        ];
        for (wire, expected) in cases {
            assert_eq!(
                Packet::decode_text(ByteString::from(wire)),
                Ok(expected),
                "{wire:?}"
            );
        }
    }

    #[test]
    fn ignores_data_after_dataless_packets() {
        assert_eq!(Packet::decode_text("1junk".into()), Ok(Packet::Close));
        assert_eq!(Packet::decode_text("5probe".into()), Ok(Packet::Upgrade));
        assert_eq!(Packet::decode_text("6x".into()), Ok(Packet::Noop));
    }

    #[test]
    fn decoded_data_shares_the_input_buffer() {
        let input = ByteString::from(String::from("4shared data"));
        let base = input.as_bytes().as_ptr() as usize;
        match Packet::decode_text(input) {
            Ok(Packet::Message(Data::Text(data))) => {
                assert_eq!(data, "shared data");
                assert_eq!(data.as_bytes().as_ptr() as usize, base + 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn decodes_frames() {
        assert_eq!(
            Packet::decode_frame(Frame::Binary(Bytes::from_static(&[1, 2, 3]))),
            Ok(Packet::Message(Data::Binary(Bytes::from_static(&[
                1, 2, 3
            ]))))
        );
        assert_eq!(
            Packet::decode_frame(Frame::Binary(Bytes::new())),
            Ok(Packet::Message(Data::Binary(Bytes::new())))
        );
        assert_eq!(
            Packet::decode_frame(text_frame("4hi")),
            Ok(Packet::text("hi"))
        );
    }

    #[test]
    fn rejects_bad_text_packets() {
        assert_eq!(Packet::decode_text("".into()), Err(DecodeError::Empty));
        assert_eq!(
            Packet::decode_text("9".into()),
            Err(DecodeError::UnknownType('9'))
        );
        assert_eq!(
            Packet::decode_text("x".into()),
            Err(DecodeError::UnknownType('x'))
        );
        assert_eq!(
            Packet::decode_text("é4".into()),
            Err(DecodeError::UnknownType('é'))
        );
        // Binary is never 'b'-prefixed on a WebSocket.
        assert_eq!(
            Packet::decode_text("bAQID".into()),
            Err(DecodeError::UnknownType('b'))
        );
    }

    #[test]
    fn frame_len() {
        assert_eq!(text_frame("4hé").len(), 4);
        assert!(!Packet::Noop.encode().is_empty());
        assert!(Frame::Binary(Bytes::new()).is_empty());
        assert_eq!(Frame::Binary(Bytes::from_static(&[0; 7])).len(), 7);
    }

    /// Any packet whose text parts come from `text`.
    pub(crate) fn packet_with_text(
        text: impl Strategy<Value = ByteString> + Clone + 'static,
    ) -> impl Strategy<Value = Packet> {
        prop_oneof![
            text.clone().prop_map(Packet::Open),
            Just(Packet::Close),
            text.clone().prop_map(Packet::Ping),
            text.clone().prop_map(Packet::Pong),
            text.prop_map(Packet::text),
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|v| Packet::Message(Data::Binary(v.into()))),
            Just(Packet::Upgrade),
            Just(Packet::Noop),
        ]
    }

    /// Any packet, with text that may contain any character.
    fn any_packet() -> impl Strategy<Value = Packet> {
        packet_with_text(any::<String>().prop_map(ByteString::from))
    }

    proptest! {
        #[test]
        fn frame_round_trip(packet in any_packet()) {
            let frame = packet.encode();
            prop_assert_eq!(Packet::decode_frame(frame.clone()), Ok(packet.clone()));
            if let Frame::Text(text) = frame {
                prop_assert_eq!(Packet::decode_text(text), Ok(packet));
            }
        }

        #[test]
        fn decode_text_never_panics(s in any::<String>()) {
            let _ = Packet::decode_text(s.into());
        }

        #[test]
        fn decode_text_never_panics_on_likely_input(s in "[0-9a-z\u{e9}\u{1e}]{0,16}") {
            let _ = Packet::decode_text(s.into());
        }
    }
}
