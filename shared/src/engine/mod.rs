//! The engine.io v4 layer: the transport-level protocol under socket.io.
//!
//! See <https://github.com/socketio/engine.io-protocol> (protocol 4). The
//! codec never panics on input; anything malformed is a [`DecodeError`] and
//! the caller closes the session.

pub mod error;
pub mod handshake;
pub mod packet;
pub mod payload;

pub use error::EngineError;
pub use handshake::{OpenPacket, RequestQuery, Transport};
pub use packet::{Data, DecodeError, Frame, Packet};
pub use payload::{decode_payload, encode_payload, SEPARATOR};
