//! Socket.io v5 packets and their text form.
//!
//! A packet travels as the data of an engine.io message:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`, e.g.
//! `2["hello",1]`, `2/admin,456["project:delete",123]` or
//! `51-["file",{"_placeholder":true,"num":0}]`. JSON is kept as raw text
//! ([`RawValue`]) from decode to encode, so a user's arguments pass through
//! byte for byte: key order, integer spelling and big numbers are never
//! touched.
//!
//! Binary packets (types 5 and 6) announce how many binary attachments follow
//! as separate engine.io messages; [`decode_text`] only reads that count, and
//! [`super::Decoder`] collects the attachments.

use std::fmt::Write as _;

use bytes::Bytes;
use serde_json::value::RawValue;

// Decoding lives in `super::decode`; re-exported so the public path
// `socket::packet::decode_text` keeps working.
pub use super::decode::decode_text;

/// Event names the protocol reserves for its own lifecycle; a client may not
/// emit them, so a packet carrying one is rejected.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The payload of an EVENT or ACK: arguments as raw JSON text, plus binary
/// attachments referenced by placeholders in them.
///
/// The arguments are never reparsed, so they reach the other side exactly as
/// they were written. Placeholders (`{"_placeholder":true,"num":N}`) are the
/// sender's business: the codec neither writes nor checks them.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    /// Each argument's JSON text, as it appeared on the wire.
    pub args: Vec<Box<RawValue>>,
    /// The binary attachments, in placeholder order (`num` 0 first).
    pub attachments: Vec<Bytes>,
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.attachments == other.attachments && same_raw_list(&self.args, &other.args)
    }
}

impl Eq for Payload {}

impl Payload {
    /// A payload of already-encoded arguments and no attachments, the form a
    /// relay that forwards arguments untouched has in hand.
    pub fn new(args: Vec<Box<RawValue>>) -> Self {
        Self {
            args,
            attachments: Vec::new(),
        }
    }

    /// Serializes each element of `args` into one argument, for server code
    /// that emits its own Rust values; fails only where `serde_json` would
    /// (e.g. a map with non-string keys).
    pub fn from_serialize<T: serde::Serialize>(args: &[T]) -> Result<Self, serde_json::Error> {
        let args = args
            .iter()
            .map(serde_json::value::to_raw_value)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(args))
    }

    /// Sets the binary attachments; a payload with attachments is sent as a
    /// BINARY_EVENT or BINARY_ACK, and its arguments should hold matching
    /// placeholders.
    pub fn with_attachments(self, attachments: Vec<Bytes>) -> Self {
        Self {
            attachments,
            ..self
        }
    }

    /// Whether there are no arguments, as in an ACK that answers nothing.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }
}

/// What a packet says, by type; the namespace it is addressed to lives in
/// [`Packet`] since every type has one.
#[derive(Debug, Clone)]
pub enum Body {
    /// Type 0: joins a namespace. From a client the data is its optional auth
    /// object; from the server it is `{"sid":"..."}`.
    Connect(Option<Box<RawValue>>),
    /// Type 1: leaves a namespace.
    Disconnect,
    /// Type 2 (or 5 with attachments): an emitted event, asking for an ACK
    /// when `ack` is set.
    ///
    /// A numeric event name (`2[42]`, accepted by the reference parser) is
    /// kept as its JSON text (`"42"`) and always re-encoded as a string, so
    /// such packets do not round-trip byte for byte.
    Event {
        /// The event name, the first element of the JSON array.
        event: String,
        /// The remaining elements, plus any attachments.
        payload: Payload,
        /// The id the receiver must answer with an ACK, if any.
        ack: Option<u64>,
    },
    /// Type 3 (or 6 with attachments): the answer to an event that carried
    /// ack id `ack`.
    Ack {
        /// The answer's arguments, plus any attachments.
        payload: Payload,
        /// The id of the event being answered.
        ack: u64,
    },
    /// Type 4: the server refuses a CONNECT; the data is an object (usually
    /// `{"message":...}`) or, from older servers, a string.
    ConnectError(Box<RawValue>),
}

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Body::Connect(a), Body::Connect(b)) => match (a, b) {
                (Some(a), Some(b)) => a.get() == b.get(),
                (None, None) => true,
                _ => false,
            },
            (Body::Disconnect, Body::Disconnect) => true,
            (
                Body::Event {
                    event: event_a,
                    payload: payload_a,
                    ack: ack_a,
                },
                Body::Event {
                    event: event_b,
                    payload: payload_b,
                    ack: ack_b,
                },
            ) => event_a == event_b && payload_a == payload_b && ack_a == ack_b,
            (
                Body::Ack {
                    payload: payload_a,
                    ack: ack_a,
                },
                Body::Ack {
                    payload: payload_b,
                    ack: ack_b,
                },
            ) => payload_a == payload_b && ack_a == ack_b,
            (Body::ConnectError(a), Body::ConnectError(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

impl Eq for Body {}

impl Body {
    /// The payload of an EVENT or ACK, so attachments can be added to it as
    /// they arrive.
    pub(crate) fn payload_mut(&mut self) -> Option<&mut Payload> {
        match self {
            Body::Event { payload, .. } | Body::Ack { payload, .. } => Some(payload),
            Body::Connect(_) | Body::Disconnect | Body::ConnectError(_) => None,
        }
    }
}

/// One socket.io packet: what it says and the namespace it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The namespace, `"/"` for the main one; other names start with `/`.
    pub nsp: String,
    /// The type-specific content.
    pub body: Body,
}

/// Why a socket.io packet could not be decoded; any of these means the peer
/// is misbehaving and the caller should close the session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The message had no characters at all, so no type digit.
    #[error("empty socket.io packet: no packet type")]
    Empty,
    /// The first character was not one of the packet type digits `0`-`6`.
    #[error("unknown socket.io packet type {0:?}")]
    UnknownType(char),
    /// A binary packet's attachment count was missing, not decimal, or not
    /// followed by `-`.
    #[error("malformed attachment count in a binary packet")]
    BadAttachmentCount,
    /// A binary packet announced more attachments than the server accepts.
    #[error("binary packet announces more than {max} attachments")]
    TooManyAttachments {
        /// The largest number of attachments accepted.
        max: usize,
    },
    /// A namespace (text starting with `/`) was not closed by `,`.
    #[error("namespace is not closed by ','")]
    BadNamespace,
    /// An ack id overflowed 64 bits, was missing from an ACK, or appeared on a
    /// packet type that takes none.
    #[error("malformed, missing or misplaced ack id")]
    BadAckId,
    /// The packet data was not one valid JSON value (including trailing
    /// characters after it).
    #[error("packet data is not valid JSON")]
    BadJson,
    /// The packet data had the wrong shape for the packet type (e.g. an
    /// object for an EVENT, or a reserved event name).
    #[error("packet data has the wrong shape for its type")]
    InvalidPayload,
    /// A binary message arrived while no binary packet was waiting for
    /// attachments.
    #[error("binary message with no binary packet awaiting attachments")]
    UnexpectedBinary,
    /// A text message arrived while a binary packet still waited for its
    /// attachments.
    #[error("text packet while a binary packet still awaits attachments")]
    AttachmentsPending,
    /// The packet's JSON nests arrays and objects deeper than allowed.
    #[error("packet data nests deeper than {max} levels")]
    TooDeep {
        /// The deepest nesting accepted.
        max: usize,
    },
}

/// The `serde` shape of a CONNECT_ERROR built by the server, so the message
/// is escaped by `serde_json` and the optional data is copied verbatim.
#[derive(serde::Serialize)]
struct ConnectErrorData<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
}

impl Packet {
    /// A CONNECT to `nsp`: auth data from a client, or the `{"sid":...}` the
    /// server answers with.
    pub fn connect(nsp: &str, data: Option<Box<RawValue>>) -> Self {
        Self::new(nsp, Body::Connect(data))
    }

    /// A DISCONNECT from `nsp`, sent by either side to leave the namespace.
    pub fn disconnect(nsp: &str) -> Self {
        Self::new(nsp, Body::Disconnect)
    }

    /// An EVENT named `event`; with `ack` set the receiver must answer with
    /// an ACK of that id.
    pub fn event(nsp: &str, event: &str, payload: Payload, ack: Option<u64>) -> Self {
        Self::new(
            nsp,
            Body::Event {
                event: event.to_owned(),
                payload,
                ack,
            },
        )
    }

    /// An ACK answering the event that carried id `ack`.
    pub fn ack(nsp: &str, payload: Payload, ack: u64) -> Self {
        Self::new(nsp, Body::Ack { payload, ack })
    }

    /// A CONNECT_ERROR refusing a CONNECT to `nsp`, in the v5 form
    /// `{"message":...,"data":...}` (no `data` key when `data` is `None`).
    pub fn connect_error(nsp: &str, message: &str, data: Option<&RawValue>) -> Self {
        let value = ConnectErrorData { message, data };
        // Serializing a string and a raw value cannot fail; the fallback only
        // keeps this constructor free of panics.
        let raw =
            serde_json::value::to_raw_value(&value).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Self::new(nsp, Body::ConnectError(raw))
    }

    /// Shared by the constructors: owns the namespace name.
    fn new(nsp: &str, body: Body) -> Self {
        Self {
            nsp: nsp.to_owned(),
            body,
        }
    }

    /// Writes the text form, prefixed by `prefix` (callers pass "4" to get an
    /// engine.io message frame directly, saving a copy).
    ///
    /// An EVENT or ACK with attachments is written as BINARY_EVENT or
    /// BINARY_ACK with its attachment count; the attachments themselves are
    /// sent by the caller as the binary messages that follow. Arguments are
    /// joined by `,` with no spaces, each in its exact original text. The
    /// main namespace `"/"` (or an empty name) is not written.
    pub fn encode_text(&self, prefix: &str) -> String {
        let mut out = String::with_capacity(self.encoded_len_hint(prefix));
        out.push_str(prefix);
        let attachments = self.attachments().len();
        out.push(self.type_digit());
        if attachments > 0 {
            // Writing to a String cannot fail.
            let _ = write!(out, "{attachments}-");
        }
        if !self.nsp.is_empty() && self.nsp != "/" {
            out.push_str(&self.nsp);
            out.push(',');
        }
        match &self.body {
            Body::Connect(data) => {
                if let Some(data) = data {
                    out.push_str(data.get());
                }
            }
            Body::Disconnect => {}
            Body::Event {
                event,
                payload,
                ack,
            } => {
                if let Some(ack) = ack {
                    let _ = write!(out, "{ack}");
                }
                out.push('[');
                push_json_string(&mut out, event);
                for arg in &payload.args {
                    out.push(',');
                    out.push_str(arg.get());
                }
                out.push(']');
            }
            Body::Ack { payload, ack } => {
                let _ = write!(out, "{ack}");
                out.push('[');
                for (i, arg) in payload.args.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(arg.get());
                }
                out.push(']');
            }
            Body::ConnectError(data) => out.push_str(data.get()),
        }
        out
    }

    /// The attachments of this packet (empty for non-binary).
    pub fn attachments(&self) -> &[Bytes] {
        match &self.body {
            Body::Event { payload, .. } | Body::Ack { payload, .. } => &payload.attachments,
            Body::Connect(_) | Body::Disconnect | Body::ConnectError(_) => &[],
        }
    }

    /// The type digit on the wire, binary variants chosen by the presence of
    /// attachments.
    fn type_digit(&self) -> char {
        let binary = !self.attachments().is_empty();
        match &self.body {
            Body::Connect(_) => '0',
            Body::Disconnect => '1',
            Body::Event { .. } if binary => '5',
            Body::Event { .. } => '2',
            Body::Ack { .. } if binary => '6',
            Body::Ack { .. } => '3',
            Body::ConnectError(_) => '4',
        }
    }

    /// A close upper estimate of the encoded length, so encoding allocates
    /// once in the common case (escaped event names may still grow it).
    fn encoded_len_hint(&self, prefix: &str) -> usize {
        // Type digit, attachment count and '-', ',' after the namespace, an
        // ack id of up to 20 digits, and the array brackets.
        const FIXED: usize = 1 + 21 + 1 + 20 + 2;
        let data = match &self.body {
            Body::Connect(data) => data.as_ref().map_or(0, |d| d.get().len()),
            Body::Disconnect => 0,
            Body::Event { event, payload, .. } => {
                args_len(&payload.args).saturating_add(event.len().saturating_add(3))
            }
            Body::Ack { payload, .. } => args_len(&payload.args),
            Body::ConnectError(data) => data.get().len(),
        };
        FIXED
            .saturating_add(prefix.len())
            .saturating_add(self.nsp.len())
            .saturating_add(data)
    }
}

/// Total text length of `args` with one separator each.
fn args_len(args: &[Box<RawValue>]) -> usize {
    args.iter().fold(0usize, |acc, arg| {
        acc.saturating_add(arg.get().len().saturating_add(1))
    })
}

/// Compares two argument lists by their JSON text, since [`RawValue`] has no
/// equality of its own.
fn same_raw_list(a: &[Box<RawValue>], b: &[Box<RawValue>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.get() == b.get())
}

/// Appends `s` as a JSON string literal, escaping exactly what `serde_json`
/// escapes, so event names need no intermediate allocation.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::socket::decode::tests::decode;
    use proptest::prelude::*;

    /// Raw JSON from a literal known to be valid.
    pub(crate) fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).expect("test JSON is valid")
    }

    /// Raw arguments from literals.
    pub(crate) fn raws(jsons: &[&str]) -> Vec<Box<RawValue>> {
        jsons.iter().map(|j| raw(j)).collect()
    }

    #[test]
    fn encodes_with_engine_prefix_and_attachments() {
        let hello = Packet::event("/", "hello", Payload::new(raws(&["1"])), None);
        assert_eq!(hello.encode_text("4"), r#"42["hello",1]"#);
        assert_eq!(Packet::connect("/", None).encode_text("4"), "40");
        let sid = Packet::connect("/admin", Some(raw(r#"{"sid":"abc"}"#)));
        assert_eq!(sid.encode_text("4"), r#"40/admin,{"sid":"abc"}"#);

        let file = Payload::new(raws(&[r#"{"_placeholder":true,"num":0}"#]))
            .with_attachments(vec![Bytes::from_static(&[1, 2, 3])]);
        let event = Packet::event("/", "hello", file.clone(), None);
        assert_eq!(
            event.encode_text(""),
            r#"51-["hello",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(event.attachments(), &[Bytes::from_static(&[1, 2, 3])]);
        let ack = Packet::ack("/admin", file, 456);
        assert_eq!(
            ack.encode_text(""),
            r#"61-/admin,456[{"_placeholder":true,"num":0}]"#
        );
        assert!(Packet::disconnect("/").attachments().is_empty());
    }

    #[test]
    fn event_names_are_unescaped_and_reescaped() {
        let packet = decode(r#"2["a\"b\u00e9\n",1]"#).expect("valid");
        match &packet.body {
            Body::Event { event, .. } => assert_eq!(event, "a\"bé\n"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(packet.encode_text(""), "2[\"a\\\"bé\\n\",1]");
    }

    #[test]
    fn connect_error_builds_v5_object() {
        let data = raw(r#"{"code":7}"#);
        let packet = Packet::connect_error("/admin", "no \"way\"", Some(&data));
        assert_eq!(
            packet.encode_text(""),
            r#"4/admin,{"message":"no \"way\"","data":{"code":7}}"#
        );
    }

    #[test]
    fn payload_helpers() {
        let payload = Payload::from_serialize(&[1, 2]).expect("serializable");
        assert_eq!(payload, Payload::new(raws(&["1", "2"])));
        assert!(!payload.is_empty());
        assert!(Payload::default().is_empty());
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), 3);
        assert!(Payload::from_serialize(&[bad]).is_err());
        assert_ne!(
            Payload::new(raws(&["1"])),
            Payload::new(raws(&["1"])).with_attachments(vec![Bytes::new()])
        );
        assert_ne!(Payload::new(raws(&["1"])), Payload::new(raws(&["1.0"])));
    }

    proptest! {
        #[test]
        fn json_strings_match_serde_json(s in any::<String>()) {
            let mut out = String::new();
            push_json_string(&mut out, &s);
            prop_assert_eq!(Ok(out), serde_json::to_string(&s).map_err(|e| e.to_string()));
        }
    }
}
