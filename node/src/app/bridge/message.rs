//! The JSON messages between the `bridge` app and back-ends.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchyard_shared::socket::Payload;

use crate::socketio::Handshake;

/// A client's event, published on `<prefix>.events.<nsp>.<event>`.
#[derive(Debug, Serialize)]
pub struct EventMessage<'a> {
    /// The socket's namespace.
    pub nsp: &'a str,
    /// The socket's id: a room of its own, so back-ends can answer it.
    pub socket_id: &'a str,
    /// The event's name.
    pub event: &'a str,
    /// The arguments as the client sent them, binary placeholders kept.
    pub args: &'a [Box<RawValue>],
    /// The binary attachments, base64, in placeholder order.
    pub attachments: Vec<String>,
    /// What the client presented when it connected.
    pub handshake: HandshakeView<'a>,
    /// The node the client is on.
    pub node: &'a str,
}

/// A socket's end, published on `<prefix>.disconnects.<nsp>`.
#[derive(Debug, Serialize)]
pub struct DisconnectMessage<'a> {
    /// The socket's namespace.
    pub nsp: &'a str,
    /// The socket's id.
    pub socket_id: &'a str,
    /// socket.io's reason, such as `client namespace disconnect`.
    pub reason: &'a str,
    /// The node the client was on.
    pub node: &'a str,
}

/// A CONNECT, sent as a request on `<prefix>.auth.<nsp>`.
#[derive(Debug, Serialize)]
pub struct AuthRequest<'a> {
    /// The namespace the client asks for.
    pub nsp: &'a str,
    /// What the client presented.
    pub handshake: HandshakeView<'a>,
    /// The node the client is on.
    pub node: &'a str,
}

/// A back-end's decision on a CONNECT.
#[derive(Debug, Deserialize)]
pub struct AuthReply {
    /// Whether the socket may connect.
    pub ok: bool,
    /// Accepted: `socket.data`. Refused: the CONNECT_ERROR's `data`.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    /// Accepted: rooms the socket joins at once.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Refused: the CONNECT_ERROR's message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The handshake as back-ends see it: only the headers the operator
/// passes on (`bridge.headers`).
#[derive(Debug, Serialize)]
pub struct HandshakeView<'a> {
    /// The CONNECT payload, `{}` when the client sent none.
    pub auth: &'a RawValue,
    /// Query parameters of the first request.
    pub query: &'a BTreeMap<String, String>,
    /// The allowed request headers.
    pub headers: BTreeMap<&'a str, &'a str>,
    /// The client's address.
    pub address: &'a str,
    /// When the engine.io session opened, RFC 3339.
    pub time: &'a str,
}

impl<'a> HandshakeView<'a> {
    /// The view of `handshake` with only the `allowed` headers.
    pub fn new(handshake: &'a Handshake, allowed: &[String]) -> Self {
        let headers = handshake
            .headers
            .iter()
            .filter(|(name, _)| allowed.iter().any(|allowed| allowed == *name))
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        Self {
            auth: &handshake.auth,
            query: &handshake.query,
            headers,
            address: &handshake.address,
            time: &handshake.time,
        }
    }
}

/// Binary attachments as base64 text.
pub fn base64_attachments(payload: &Payload) -> Vec<String> {
    payload
        .attachments
        .iter()
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .collect()
}

/// Arguments from a back-end: a JSON array, with optional base64
/// attachments for its `{"_placeholder":true,"num":N}` entries.
pub fn payload_from(args: &[Box<RawValue>], attachments: &[String]) -> Result<Payload, String> {
    let attachments = attachments
        .iter()
        .map(|text| {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(bytes::Bytes::from)
                .map_err(|error| format!("an attachment is not base64: {error}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Payload::new(args.to_vec()).with_attachments(attachments))
}
