//! Fuzzes the engine.io decoders: a polling payload body, and the same bytes
//! as one text packet the way a WebSocket carries it.
#![no_main]
#![forbid(unsafe_code)]

use bytes::Bytes;
use bytestring::ByteString;
use libfuzzer_sys::fuzz_target;
use switchyard_shared::engine::{decode_payload, encode_payload, Frame, Packet, SEPARATOR};

fuzz_target!(|data: &[u8]| {
    check_payload(data);
    check_text_packet(data);
});

/// A payload that decodes has one packet per segment, and its packets
/// encoded again decode to the same packets, in an encoding that is stable.
fn check_payload(data: &[u8]) {
    let Ok(packets) = decode_payload(Bytes::copy_from_slice(data)) else {
        return;
    };
    let segments = data.iter().filter(|&&byte| byte == SEPARATOR).count() + 1;
    assert_eq!(packets.len(), segments, "a segment was lost or invented");

    let body = encode_payload(&packets.iter().map(Packet::encode).collect::<Vec<Frame>>());
    let decoded = decode_payload(body.clone());
    assert_eq!(decoded.as_ref(), Ok(&packets), "payload did not round-trip");
    let again: Vec<Frame> = packets.iter().map(Packet::encode).collect();
    assert_eq!(
        encode_payload(&again),
        body,
        "payload encoding is not stable"
    );
}

/// A text packet that decodes survives its WebSocket frame form unchanged.
fn check_text_packet(data: &[u8]) {
    let Ok(text) = ByteString::try_from(Bytes::copy_from_slice(data)) else {
        return;
    };
    let Ok(packet) = Packet::decode_text(text) else {
        return;
    };
    let frame = packet.encode();
    assert_eq!(
        Packet::decode_frame(frame),
        Ok(packet),
        "frame did not round-trip"
    );
}
