//! Fuzzes the socket.io decoder and the reassembly of binary packets.
//!
//! The input is one session's engine.io messages, joined by `0x1e` as in a
//! polling payload: a message starting with `b` is a binary attachment (the
//! bytes after the `b`), any other is socket.io text. Messages go through
//! one [`Decoder`] in order until it reports an error, which would close
//! the session.
#![no_main]
#![forbid(unsafe_code)]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use switchyard_shared::socket::{decode_text, Decoder, Packet};

/// The attachment limit of every decoder here; small, so that the fuzzer
/// reaches the limit and the packets past it.
const MAX_ATTACHMENTS: usize = 4;

/// Separates the messages of one input, as in a polling payload.
const SEPARATOR: u8 = 0x1e;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(MAX_ATTACHMENTS);
    let mut announced = 0;
    for message in data.split(|&byte| byte == SEPARATOR) {
        let result = match message.split_first() {
            Some((b'b', bytes)) => decoder.binary(Bytes::copy_from_slice(bytes)),
            _ => {
                let Ok(text) = std::str::from_utf8(message) else {
                    return;
                };
                announced = check_text(text);
                decoder.text(text)
            }
        };
        match result {
            Ok(Some(packet)) => {
                assert!(!decoder.is_pending(), "a finished packet left state behind");
                assert_eq!(packet.attachments().len(), announced, "attachment count");
                check_round_trip(&packet);
            }
            Ok(None) => assert!(decoder.is_pending(), "a held packet was dropped"),
            Err(_) => return,
        }
    }
});

/// Checks the stateless decoder on one text and returns how many
/// attachments the text announces (0 when it does not decode).
fn check_text(text: &str) -> usize {
    let Ok((packet, count)) = decode_text(text, MAX_ATTACHMENTS) else {
        return 0;
    };
    assert!(
        count <= MAX_ATTACHMENTS,
        "{count} attachments passed the limit"
    );
    assert!(
        packet.attachments().is_empty(),
        "attachments before any arrived"
    );
    if !text.starts_with(['5', '6']) {
        assert_eq!(count, 0, "a non-binary packet announced attachments");
    }
    count
}

/// Encoding a decoded packet and decoding that again, attachments included,
/// gives the same packet, and the encoding is stable.
fn check_round_trip(packet: &Packet) {
    let text = packet.encode_text("");
    assert_eq!(
        packet.encode_text("4"),
        format!("4{text}"),
        "prefix changed the text"
    );

    let mut decoder = Decoder::new(MAX_ATTACHMENTS);
    let mut decoded = decoder.text(&text);
    for attachment in packet.attachments() {
        assert_eq!(
            decoded,
            Ok(None),
            "packet finished before its attachments: {text:?}"
        );
        decoded = decoder.binary(attachment.clone());
    }
    let decoded = match decoded {
        Ok(Some(decoded)) => decoded,
        other => panic!("{text:?} did not decode back: {other:?}"),
    };
    assert_eq!(
        &decoded, packet,
        "packet did not round-trip through {text:?}"
    );
    assert_eq!(
        decoded.encode_text(""),
        text,
        "packet encoding is not stable"
    );
}
