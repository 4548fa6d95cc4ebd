//! Engine.io v4 HTTP long-polling payloads.
//!
//! A polling body carries several packets joined by the record separator byte
//! `0x1e`. Text packets appear in their usual `"<digit><data>"` form; a binary
//! message appears as `b` followed by standard, padded base64 of its bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use bytestring::ByteString;

use super::packet::{Data, DecodeError, Frame, Packet};

/// The byte that separates packets in a polling payload (ASCII record separator).
pub const SEPARATOR: u8 = 0x1e;

/// [`SEPARATOR`] as a `char`, for working on UTF-8 text.
const SEPARATOR_CHAR: char = '\u{1e}';

/// Joins already-encoded frames into one polling response body, so frames
/// encoded once for a broadcast can be reused here; binary frames become
/// `b` + base64.
pub fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Bytes {
    let frames: Vec<&Frame> = frames.into_iter().collect();
    let separators = frames.len().saturating_sub(1);
    let size = frames.iter().fold(separators, |acc, frame| {
        acc.saturating_add(polling_len(frame))
    });

    let mut out = String::with_capacity(size);
    for (index, frame) in frames.iter().enumerate() {
        if index > 0 {
            out.push(SEPARATOR_CHAR);
        }
        match frame {
            Frame::Text(text) => out.push_str(text),
            Frame::Binary(bytes) => {
                out.push('b');
                STANDARD.encode_string(bytes, &mut out);
            }
        }
    }
    Bytes::from(out)
}

/// Length of one frame once written into a polling payload (a size hint only).
fn polling_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(text) => text.len(),
        Frame::Binary(bytes) => base64::encoded_len(bytes.len(), true)
            .unwrap_or(0)
            .saturating_add(1),
    }
}

/// Splits a polling POST body into packets. The body must be UTF-8; an empty
/// body, an empty segment (e.g. `"4a\x1e\x1e4b"` or a trailing separator), bad
/// base64, or a bad packet is an error, and the caller closes the session.
pub fn decode_payload(body: Bytes) -> Result<Vec<Packet>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::EmptyPayload);
    }
    let body = ByteString::try_from(body).map_err(|_| DecodeError::InvalidUtf8)?;
    body.split(SEPARATOR_CHAR)
        .map(|segment| decode_segment(&body, segment))
        .collect()
}

/// Decodes one separator-delimited segment, which must be a sub-slice of `body`.
fn decode_segment(body: &ByteString, segment: &str) -> Result<Packet, DecodeError> {
    if let Some(encoded) = segment.strip_prefix('b') {
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| DecodeError::InvalidBase64)?;
        return Ok(Packet::Message(Data::Binary(Bytes::from(bytes))));
    }
    Packet::decode_text(body.slice_ref(segment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(body: &'static [u8]) -> Result<Vec<Packet>, DecodeError> {
        decode_payload(Bytes::from_static(body))
    }

    #[test]
    fn decodes_mixed_payload() {
        assert_eq!(
            decode(b"4hello\x1e4world\x1ebAQID"),
            Ok(vec![
                Packet::text("hello"),
                Packet::text("world"),
                Packet::Message(Data::Binary(Bytes::from_static(&[1, 2, 3]))),
            ])
        );
    }

    #[test]
    fn decodes_single_and_control_packets() {
        assert_eq!(decode(b"2"), Ok(vec![Packet::Ping("".into())]));
        assert_eq!(
            decode(b"1\x1e6\x1e4h\xc3\xa9"),
            Ok(vec![Packet::Close, Packet::Noop, Packet::text("hé")])
        );
        assert_eq!(
            decode(b"b"),
            Ok(vec![Packet::Message(Data::Binary(Bytes::new()))])
        );
    }

    #[test]
    fn encodes_payload() {
        let frames = [
            Packet::text("a").encode(),
            Packet::Message(Data::Binary(Bytes::from_static(&[1, 2, 3]))).encode(),
        ];
        assert_eq!(encode_payload(&frames), Bytes::from_static(b"4a\x1ebAQID"));
        assert_eq!(
            encode_payload([&Packet::Noop.encode()]),
            Bytes::from_static(b"6")
        );
        assert_eq!(encode_payload(&[]), Bytes::new());
    }

    #[test]
    fn rejects_bad_payloads() {
        assert_eq!(decode(b""), Err(DecodeError::EmptyPayload));
        assert_eq!(decode(b"9"), Err(DecodeError::UnknownType('9')));
        assert_eq!(decode(b"x"), Err(DecodeError::UnknownType('x')));
        assert_eq!(decode(b"b!!!"), Err(DecodeError::InvalidBase64));
        assert_eq!(decode(b"bAQI"), Err(DecodeError::InvalidBase64));
        assert_eq!(decode(b"4a\x1e\x1e4b"), Err(DecodeError::Empty));
        assert_eq!(decode(b"4a\x1e"), Err(DecodeError::Empty));
        assert_eq!(decode(b"\x1e4a"), Err(DecodeError::Empty));
        assert_eq!(decode(b"\x1e"), Err(DecodeError::Empty));
        assert_eq!(decode(b"4\xff\xfe"), Err(DecodeError::InvalidUtf8));
        assert_eq!(decode(b"4a\x1e4\xc3"), Err(DecodeError::InvalidUtf8));
    }

    /// Text that can survive a polling payload: anything but the separator.
    fn payload_text() -> impl Strategy<Value = ByteString> + Clone {
        any::<String>().prop_map(|s| ByteString::from(s.replace(SEPARATOR_CHAR, "")))
    }

    fn payload_packet() -> impl Strategy<Value = Packet> {
        crate::engine::packet::tests::packet_with_text(payload_text())
    }

    proptest! {
        #[test]
        fn payload_round_trip(packets in proptest::collection::vec(payload_packet(), 1..8)) {
            let frames: Vec<Frame> = packets.iter().map(Packet::encode).collect();
            let body = encode_payload(&frames);
            let expected_len = frames.iter().map(polling_len).sum::<usize>() + frames.len() - 1;
            prop_assert_eq!(body.len(), expected_len);
            prop_assert_eq!(decode_payload(body), Ok(packets));
        }

        #[test]
        fn decode_payload_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_payload(Bytes::from(bytes));
        }

        #[test]
        fn decode_payload_never_panics_on_strings(s in any::<String>()) {
            let _ = decode_payload(Bytes::from(s));
        }

        #[test]
        fn decode_payload_never_panics_on_likely_input(
            s in "[0-9bA-Za-z+/=!\u{e9}\u{1e}]{0,32}"
        ) {
            let _ = decode_payload(Bytes::from(s));
        }
    }
}
