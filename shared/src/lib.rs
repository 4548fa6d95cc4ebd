//! Switchyard's protocol code: everything that can be decided without I/O.
//!
//! The crate is the pure half of Switchyard, in the way quinn-proto is the
//! pure half of quinn. Actors in `switchyard-node` and the HTTP edge in
//! `switchyard-gateway` do the I/O and call in here to encode, decode and
//! validate.
//!
//! - [`engine`]: engine.io v4 packets, polling payloads, the handshake and
//!   the protocol's error codes.
//! - [`sid`]: node ids and session ids; a sid names the node that owns it.
//! - [`config`]: typed, validated settings shared by every crate.
//! - [`socket`]: socket.io v5 packets, binary attachments and their reassembly.
//! - [`cluster`]: messages between nodes, and NATS subject naming with escaping.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cluster;
pub mod config;
pub mod engine;
pub mod sid;
pub mod socket;
