//! The handshake: validating a request's query and building the open packet.

use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use super::EngineError;
use crate::sid::Sid;

/// An engine.io transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// HTTP long-polling: a parked GET for data out, POSTs for data in.
    Polling,
    /// One WebSocket for both directions.
    #[serde(rename = "websocket")]
    WebSocket,
}

impl Transport {
    /// The name used in the `transport` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }

    /// Parses a `transport` query value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "polling" => Some(Self::Polling),
            "websocket" => Some(Self::WebSocket),
            _ => None,
        }
    }
}

/// The engine.io part of a request's query string, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestQuery {
    /// The transport the request speaks.
    pub transport: Transport,
    /// The session, or `None` for a handshake.
    pub sid: Option<Sid>,
}

impl RequestQuery {
    /// Checks `transport`, `EIO` and `sid` in the order the reference server
    /// does, so each bad request gets the same error code as there.
    pub fn parse(
        eio: Option<&str>,
        transport: Option<&str>,
        sid: Option<&str>,
        enabled: &[Transport],
    ) -> Result<Self, EngineError> {
        let transport = transport
            .and_then(Transport::parse)
            .filter(|t| enabled.contains(t))
            .ok_or(EngineError::TransportUnknown)?;
        if eio != Some("4") {
            return Err(EngineError::UnsupportedProtocolVersion);
        }
        let sid = match sid {
            None => None,
            Some(text) => Some(Sid::parse(text).map_err(|_| EngineError::UnknownSid)?),
        };
        Ok(Self { transport, sid })
    }
}

/// The body of the open packet that starts every session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPacket {
    /// The new session's id.
    pub sid: String,
    /// Transports the client may upgrade to: `["websocket"]` over polling, `[]` over WebSocket.
    pub upgrades: Vec<Transport>,
    /// Milliseconds between the server's pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong.
    pub ping_timeout: u64,
    /// The largest payload, in bytes, the server accepts in one request or frame.
    pub max_payload: u64,
}

impl OpenPacket {
    /// The JSON text that follows the `0` type digit.
    pub fn to_json(&self) -> ByteString {
        // Serialising this plain struct cannot fail.
        serde_json::to_string(self).unwrap_or_default().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: &[Transport] = &[Transport::Polling, Transport::WebSocket];

    #[test]
    fn query_errors_follow_the_reference_order() {
        use EngineError::*;
        let parse = |e, t, s| RequestQuery::parse(e, t, s, BOTH).map_err(|e| e.code());
        assert_eq!(
            parse(None, Some("polling"), None),
            Err(UnsupportedProtocolVersion.code())
        );
        assert_eq!(parse(Some("3"), Some("polling"), None), Err(5));
        assert_eq!(
            parse(Some("4"), Some("carrier-pigeon"), None),
            Err(TransportUnknown.code())
        );
        assert_eq!(parse(Some("4"), None, None), Err(0));
        assert_eq!(parse(None, None, None), Err(0));
        assert_eq!(parse(Some("3"), Some("carrier-pigeon"), None), Err(0));
        assert_eq!(
            parse(Some("4"), Some("polling"), Some("nope")),
            Err(UnknownSid.code())
        );
        let ok = RequestQuery::parse(Some("4"), Some("websocket"), None, BOTH).unwrap();
        assert_eq!(ok.transport, Transport::WebSocket);
        let only_ws =
            RequestQuery::parse(Some("4"), Some("polling"), None, &[Transport::WebSocket]);
        assert_eq!(only_ws, Err(TransportUnknown));
    }

    #[test]
    fn open_packet_uses_the_protocol_field_names() {
        let open = OpenPacket {
            sid: "a-b".into(),
            upgrades: vec![Transport::WebSocket],
            ping_interval: 25000,
            ping_timeout: 20000,
            max_payload: 1_000_000,
        };
        assert_eq!(
            &*open.to_json(),
            r#"{"sid":"a-b","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
    }
}
