//! Decoding the text form of a socket.io packet.
//!
//! Kept apart from [`super::packet`], which defines the types and their
//! encoding, because parsing untrusted input needs its own validation helpers
//! that encoding never uses.

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::depth::json_depth;
use super::packet::{Body, Packet, PacketError, Payload, RESERVED_EVENTS};

/// Decodes one text packet without attachment state, returning the packet
/// and how many binary attachments must follow it.
///
/// A binary packet comes back with an empty attachment list for
/// [`super::Decoder`] to fill. The reference parser also accepts a namespace
/// running to the end of the packet without its `,`; every client writes the
/// comma, and this decoder requires it ([`PacketError::BadNamespace`]).
pub fn decode_text(text: &str, max_attachments: usize) -> Result<(Packet, usize), PacketError> {
    decode_text_within(text, max_attachments, usize::MAX)
}

/// [`decode_text`], also refusing data whose JSON nests deeper than
/// `max_depth`, before parsing it. Only the data is measured: the namespace
/// is not JSON, and a bracket or quote in it must neither count nor hide
/// the data's nesting.
pub(crate) fn decode_text_within(
    text: &str,
    max_attachments: usize,
    max_depth: usize,
) -> Result<(Packet, usize), PacketError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(PacketError::Empty)?;
    let rest = chars.as_str();
    if !('0'..='6').contains(&kind) {
        return Err(PacketError::UnknownType(kind));
    }

    let (attachments, rest) = if kind == '5' || kind == '6' {
        let (count, rest) = take_digits(rest);
        let rest = rest
            .strip_prefix('-')
            .ok_or(PacketError::BadAttachmentCount)?;
        if count.is_empty() {
            return Err(PacketError::BadAttachmentCount);
        }
        // Only digits remain, so a parse failure is an overflow.
        let too_many = PacketError::TooManyAttachments {
            max: max_attachments,
        };
        let count: usize = count.parse().map_err(|_| too_many.clone())?;
        if count > max_attachments {
            return Err(too_many);
        }
        (count, rest)
    } else {
        (0, rest)
    };

    let (nsp, rest) = match rest.strip_prefix('/') {
        Some(_) => rest.split_once(',').ok_or(PacketError::BadNamespace)?,
        None => ("/", rest),
    };

    let (ack, data) = take_digits(rest);
    if json_depth(data) > max_depth {
        return Err(PacketError::TooDeep { max: max_depth });
    }
    let ack = if ack.is_empty() {
        None
    } else {
        Some(ack.parse::<u64>().map_err(|_| PacketError::BadAckId)?)
    };

    let body = match kind {
        '0' => {
            no_ack(ack)?;
            Body::Connect(optional_data(data, Shape::Object)?)
        }
        '1' => {
            no_ack(ack)?;
            if !data.is_empty() {
                return Err(PacketError::InvalidPayload);
            }
            Body::Disconnect
        }
        '2' | '5' => decode_event(data, ack)?,
        '3' | '6' => Body::Ack {
            payload: Payload::new(parse_array(data)?),
            ack: ack.ok_or(PacketError::BadAckId)?,
        },
        _ => {
            no_ack(ack)?;
            let shape = Shape::of(data);
            if shape != Shape::Object && shape != Shape::String {
                return Err(PacketError::InvalidPayload);
            }
            Body::ConnectError(parse_json(data)?)
        }
    };
    Ok((
        Packet {
            nsp: nsp.to_owned(),
            body,
        },
        attachments,
    ))
}

/// Splits `s` into its leading ASCII digits and the rest.
fn take_digits(s: &str) -> (&str, &str) {
    let rest = s.trim_start_matches(|c: char| c.is_ascii_digit());
    (s.strip_suffix(rest).unwrap_or_default(), rest)
}

/// Rejects an ack id on a packet type that cannot carry one.
fn no_ack(ack: Option<u64>) -> Result<(), PacketError> {
    match ack {
        Some(_) => Err(PacketError::BadAckId),
        None => Ok(()),
    }
}

/// The kind of JSON value a text starts with, so a payload of the wrong kind
/// is rejected before any parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Object,
    Array,
    String,
    Number,
    /// A literal, garbage, or nothing at all.
    Other,
}

impl Shape {
    /// Looks at the first character after JSON whitespace.
    fn of(data: &str) -> Shape {
        match data
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .chars()
            .next()
        {
            Some('{') => Shape::Object,
            Some('[') => Shape::Array,
            Some('"') => Shape::String,
            Some(c) if c == '-' || c.is_ascii_digit() => Shape::Number,
            _ => Shape::Other,
        }
    }
}

/// Parses `data` as exactly one JSON value of type `T`; trailing characters
/// make it invalid.
fn parse_json<T: DeserializeOwned>(data: &str) -> Result<T, PacketError> {
    serde_json::from_str(data).map_err(|_| PacketError::BadJson)
}

/// Data that may be absent, but must be of `shape` when present.
fn optional_data(data: &str, shape: Shape) -> Result<Option<Box<RawValue>>, PacketError> {
    if data.is_empty() {
        return Ok(None);
    }
    if Shape::of(data) != shape {
        return Err(PacketError::InvalidPayload);
    }
    parse_json(data).map(Some)
}

/// Parses a JSON array into its elements' raw texts.
fn parse_array(data: &str) -> Result<Vec<Box<RawValue>>, PacketError> {
    if Shape::of(data) != Shape::Array {
        return Err(PacketError::InvalidPayload);
    }
    parse_json(data)
}

/// Decodes an EVENT's array: a name (string not reserved, or number) then
/// the arguments.
fn decode_event(data: &str, ack: Option<u64>) -> Result<Body, PacketError> {
    let mut items = parse_array(data)?.into_iter();
    let name = items.next().ok_or(PacketError::InvalidPayload)?;
    let event = match Shape::of(name.get()) {
        Shape::String => {
            let event: String = parse_json(name.get())?;
            if RESERVED_EVENTS.contains(&event.as_str()) {
                return Err(PacketError::InvalidPayload);
            }
            event
        }
        Shape::Number => name.get().to_owned(),
        Shape::Object | Shape::Array | Shape::Other => return Err(PacketError::InvalidPayload),
    };
    Ok(Body::Event {
        event,
        payload: Payload::new(items.collect()),
        ack,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::socket::packet::tests::{raw, raws};
    use proptest::prelude::*;

    /// Decodes a packet that must have no attachments.
    pub(crate) fn decode(text: &str) -> Result<Packet, PacketError> {
        match decode_text(text, 10)? {
            (packet, 0) => Ok(packet),
            (_, n) => panic!("{text:?} announces {n} attachments"),
        }
    }

    #[test]
    fn decodes_protocol_examples() {
        let cases = [
            ("0", Packet::connect("/", None)),
            (
                r#"0/admin,{"token":"123"}"#,
                Packet::connect("/admin", Some(raw(r#"{"token":"123"}"#))),
            ),
            ("1/admin,", Packet::disconnect("/admin")),
            (
                r#"2["hello",1]"#,
                Packet::event("/", "hello", Payload::new(raws(&["1"])), None),
            ),
            (
                r#"2/admin,456["project:delete",123]"#,
                Packet::event(
                    "/admin",
                    "project:delete",
                    Payload::new(raws(&["123"])),
                    Some(456),
                ),
            ),
            (
                "3/admin,456[]",
                Packet::ack("/admin", Payload::default(), 456),
            ),
            (
                r#"212["foo"]"#,
                Packet::event("/", "foo", Payload::default(), Some(12)),
            ),
            (
                r#"3/admin,13["bar"]"#,
                Packet::ack("/admin", Payload::new(raws(&[r#""bar""#])), 13),
            ),
            (
                r#"4{"message":"Not authorized"}"#,
                Packet::connect_error("/", "Not authorized", None),
            ),
            (
                r#"4"Not authorized""#,
                Packet {
                    nsp: "/".to_owned(),
                    body: Body::ConnectError(raw(r#""Not authorized""#)),
                },
            ),
        ];
        for (wire, expected) in cases {
            assert_eq!(decode(wire), Ok(expected.clone()), "{wire:?}");
            assert_eq!(expected.encode_text(""), wire, "{wire:?}");
        }
    }

    #[test]
    fn decodes_binary_headers() {
        let (packet, n) =
            decode_text(r#"51-["hello",{"_placeholder":true,"num":0}]"#, 10).expect("valid");
        assert_eq!(n, 1);
        assert_eq!(
            packet,
            Packet::event(
                "/",
                "hello",
                Payload::new(raws(&[r#"{"_placeholder":true,"num":0}"#])),
                None
            )
        );
        let (packet, n) =
            decode_text(r#"61-/admin,456[{"_placeholder":true,"num":0}]"#, 10).expect("valid");
        assert_eq!(n, 1);
        assert_eq!(
            packet,
            Packet::ack(
                "/admin",
                Payload::new(raws(&[r#"{"_placeholder":true,"num":0}"#])),
                456
            )
        );
        // No attachments is allowed, and comes back as a plain event.
        let (packet, n) = decode_text(r#"50-["a"]"#, 0).expect("valid");
        assert_eq!(n, 0);
        assert_eq!(packet.encode_text(""), r#"2["a"]"#);
    }

    #[test]
    fn engine_prefix_is_not_socket_io_text() {
        // "40" is the engine.io message carrying socket.io "0"; fed to the
        // socket.io decoder it reads as a CONNECT_ERROR with an ack id.
        assert_eq!(decode("40"), Err(PacketError::BadAckId));
        assert_eq!(decode("0"), Ok(Packet::connect("/", None)));
    }

    #[test]
    fn arguments_keep_their_exact_text() {
        let wire = r#"2["e",{"b":1,"a":2},1,1.0,12345678901234567890]"#;
        let packet = decode(wire).expect("valid");
        assert_eq!(packet.encode_text(""), wire);
        let inner = r#"2["e",{ "b" : [1, 2] },"x,y"]"#;
        assert_eq!(
            decode(inner).expect("valid").encode_text(""),
            r#"2["e",{ "b" : [1, 2] },"x,y"]"#
        );
        // Whitespace between elements is not an argument's text.
        assert_eq!(
            decode(r#"2[ "e" , 1 ]"#).expect("valid").encode_text(""),
            r#"2["e",1]"#
        );
    }

    #[test]
    fn numeric_event_names_become_strings() {
        let packet = decode(r#"2[42,"x"]"#).expect("valid");
        assert_eq!(
            packet,
            Packet::event("/", "42", Payload::new(raws(&[r#""x""#])), None)
        );
        assert_eq!(packet.encode_text(""), r#"2["42","x"]"#);
    }

    #[test]
    fn rejects_bad_packets() {
        let cases = [
            ("", PacketError::Empty),
            ("9", PacketError::UnknownType('9')),
            ("é", PacketError::UnknownType('é')),
            ("2{}", PacketError::InvalidPayload),
            (r#"2abc["x"]"#, PacketError::InvalidPayload),
            ("2[]", PacketError::InvalidPayload),
            ("2", PacketError::InvalidPayload),
            (r#"2["connect"]"#, PacketError::InvalidPayload),
            (r#"2["removeListener",1]"#, PacketError::InvalidPayload),
            (r#"2[{"a":1}]"#, PacketError::InvalidPayload),
            ("2[null]", PacketError::InvalidPayload),
            (r#"2["a"]trailing"#, PacketError::BadJson),
            (r#"2["a""#, PacketError::BadJson),
            ("3{}", PacketError::InvalidPayload),
            ("3[]", PacketError::BadAckId),
            ("31", PacketError::InvalidPayload),
            ("1/admin,\"x\"", PacketError::InvalidPayload),
            ("1/admin", PacketError::BadNamespace),
            (r#"2/admin["x"]"#, PacketError::BadNamespace),
            ("0[]", PacketError::InvalidPayload),
            ("0\"x\"", PacketError::InvalidPayload),
            ("012", PacketError::BadAckId),
            ("4", PacketError::InvalidPayload),
            ("4[]", PacketError::InvalidPayload),
            ("4{", PacketError::BadJson),
            (r#"299999999999999999999["a"]"#, PacketError::BadAckId),
            (r#"5["a"]"#, PacketError::BadAttachmentCount),
            (r#"5-["a"]"#, PacketError::BadAttachmentCount),
            (r#"51["a"]"#, PacketError::BadAttachmentCount),
            (r#"511-["a"]"#, PacketError::TooManyAttachments { max: 10 }),
            (
                r#"5999999999999999999999999-["a"]"#,
                PacketError::TooManyAttachments { max: 10 },
            ),
        ];
        for (wire, expected) in cases {
            assert_eq!(
                decode_text(wire, 10).map(|(p, _)| p),
                Err(expected),
                "{wire:?}"
            );
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 100_000;
        let wire = format!("2[\"e\",{}{}]", "[".repeat(depth), "]".repeat(depth));
        let packet = decode(&wire).expect("valid");
        assert_eq!(packet.encode_text(""), wire);
    }

    proptest! {
        #[test]
        fn decode_text_never_panics(s in any::<String>(), max in 0usize..4) {
            let _ = decode_text(&s, max);
        }

        #[test]
        fn decode_text_never_panics_on_likely_input(
            s in r#"[0-6][0-9/,\-\[\]{}":a-z ]{0,24}"#,
        ) {
            let _ = decode_text(&s, 3);
        }
    }
}
