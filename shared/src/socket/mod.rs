//! The socket.io v5 layer: packets exchanged over engine.io messages.
//!
//! See <https://github.com/socketio/socket.io-protocol> (protocol 5). A
//! socket.io packet is the text of one engine.io message, possibly followed
//! by binary messages carrying its attachments. JSON data stays raw text from
//! decode to encode, so user arguments are forwarded unchanged. The codec
//! never panics on input; anything malformed is a [`PacketError`] and the
//! caller closes the session.
//!
//! ```
//! use switchyard_shared::socket::{Body, Decoder};
//!
//! let mut decoder = Decoder::new(10);
//! let packet = decoder.text(r#"2/chat,7["say",{"b":1,"a":2}]"#)?.ok_or("binary")?;
//! assert!(matches!(packet.body, Body::Event { ack: Some(7), .. }));
//! // The engine.io message answering it, arguments untouched.
//! assert_eq!(packet.encode_text("4"), r#"42/chat,7["say",{"b":1,"a":2}]"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod binary;
mod decode;
mod depth;
pub mod packet;

pub use binary::Decoder;
pub use decode::decode_text;
pub use depth::json_depth;
pub use packet::{Body, Packet, PacketError, Payload, RESERVED_EVENTS};
