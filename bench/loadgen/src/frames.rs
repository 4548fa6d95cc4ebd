//! The engine.io frames the scenarios send, and byte scans of the ones they
//! receive.
//!
//! Per-message work is kept to a few bytes of formatting and scanning: the
//! generator must cost far less CPU than the servers it measures. The
//! shapes are those of the shared codec (the tests check each against it);
//! only the CONNECT reply, once per connection, goes through the full
//! socket.io decoder.

use std::fmt::Write as _;

use switchyard_shared::socket::{self, Body};

use crate::error::{Error, Result};

/// engine.io PONG, the answer to the server's PING.
pub const PONG: &str = "3";
/// engine.io CLOSE, sent by a polling client that is done.
pub const CLOSE: &str = "1";
/// engine.io PING with `probe`: tests a new WebSocket before an upgrade.
pub const PROBE: &str = "2probe";
/// engine.io UPGRADE: the client moves to the probed WebSocket.
pub const UPGRADE: &str = "5";
/// socket.io CONNECT to the main namespace with no auth, as an engine.io
/// message.
pub const CONNECT: &str = "40";

/// `42<id>["echo",<id>]`: an `echo` event whose argument is its own ack id,
/// so the ack can be matched by its id alone.
pub fn echo(id: u64) -> String {
    let mut out = String::with_capacity(40);
    // Writing to a String cannot fail.
    let _ = write!(out, "42{id}[\"echo\",{id}]");
    out
}

/// `42["fanout",<sent_us>]`: asks the server to broadcast `msg` with the
/// send time to room `bench`.
pub fn fanout(sent_us: u64) -> String {
    let mut out = String::with_capacity(32);
    let _ = write!(out, "42[\"fanout\",{sent_us}]");
    out
}

/// The ack id of a socket.io ACK in the main namespace (`3<id>[...]`), or
/// `None` for any other packet.
pub fn ack_id(packet: &str) -> Option<u64> {
    let rest = packet.strip_prefix('3')?;
    leading_number(rest, b'[')
}

/// The timestamp argument of a `msg` event (`2["msg",<us>]`), or `None` for
/// any other packet.
pub fn msg_timestamp(packet: &str) -> Option<u64> {
    let rest = packet.strip_prefix("2[\"msg\",")?;
    leading_number(rest, b']')
}

/// The decimal number at the start of `text`, if it is followed by `end`.
fn leading_number(text: &str, end: u8) -> Option<u64> {
    let bytes = text.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || bytes.get(digits) != Some(&end) {
        return None;
    }
    text[..digits].parse().ok()
}

/// What a socket.io packet received while joining the namespace means.
#[derive(Debug, PartialEq, Eq)]
pub enum ConnectReply {
    /// The CONNECT answer: the socket is in.
    Connected,
    /// Something else that may come first (an event, such as `auth`).
    Other,
}

/// Classifies a packet received while waiting for the CONNECT answer; a
/// CONNECT_ERROR or a malformed packet is an error.
pub fn connect_reply(packet: &str) -> Result<ConnectReply> {
    if !packet.starts_with('0') && !packet.starts_with('4') {
        return Ok(ConnectReply::Other);
    }
    let (decoded, _) = socket::decode_text(packet, 0)?;
    match decoded.body {
        Body::Connect(Some(_)) if decoded.nsp == "/" => Ok(ConnectReply::Connected),
        _ => Err(Error::Unexpected(packet.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;
    use switchyard_shared::engine::{Data, Packet as EnginePacket};
    use switchyard_shared::socket::{Packet, Payload};

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("json")
    }

    #[test]
    fn frames_match_the_shared_codec() {
        assert_eq!(Packet::connect("/", None).encode_text("4"), CONNECT);
        let event = Packet::event("/", "echo", Payload::new(vec![raw("17")]), Some(17));
        assert_eq!(event.encode_text("4"), echo(17));
        let event = Packet::event("/", "fanout", Payload::new(vec![raw("123456")]), None);
        assert_eq!(event.encode_text("4"), fanout(123_456));
        for (packet, text) in [
            (EnginePacket::Pong("".into()), PONG),
            (EnginePacket::Close, CLOSE),
            (EnginePacket::Ping("probe".into()), PROBE),
            (EnginePacket::Upgrade, UPGRADE),
        ] {
            assert_eq!(
                packet.encode(),
                switchyard_shared::engine::Frame::Text(text.into())
            );
        }
        assert_eq!(
            EnginePacket::decode_text("42[\"a\"]".into()),
            Ok(EnginePacket::Message(Data::Text("2[\"a\"]".into())))
        );
    }

    #[test]
    fn scans_acks() {
        let ack = Packet::ack("/", Payload::new(vec![raw("42")]), 42).encode_text("");
        assert_eq!(ack_id(&ack), Some(42));
        assert_eq!(ack_id("30[1]"), Some(0));
        assert_eq!(ack_id("3[1]"), None);
        assert_eq!(ack_id("2[\"echo\"]"), None);
        assert_eq!(ack_id("3/custom,5[1]"), None);
        assert_eq!(ack_id("399999999999999999999[1]"), None);
        assert_eq!(ack_id("312"), None);
    }

    #[test]
    fn scans_msg_timestamps() {
        let msg = Packet::event("/", "msg", Payload::new(vec![raw("987654321")]), None);
        assert_eq!(msg_timestamp(&msg.encode_text("")), Some(987_654_321));
        assert_eq!(msg_timestamp("2[\"auth\",{}]"), None);
        assert_eq!(msg_timestamp("2[\"msg\",\"x\"]"), None);
        assert_eq!(msg_timestamp("2[\"msg\",12,3]"), None);
    }

    #[test]
    fn classifies_connect_replies() {
        assert_eq!(
            connect_reply("0{\"sid\":\"abc\"}").expect("valid"),
            ConnectReply::Connected
        );
        assert_eq!(
            connect_reply("2[\"auth\",{}]").expect("valid"),
            ConnectReply::Other
        );
        assert!(connect_reply("4{\"message\":\"Invalid namespace\"}").is_err());
        assert!(connect_reply("0/custom,{\"sid\":\"a\"}").is_err());
        assert!(connect_reply("0{").is_err());
    }
}
