//! Socket.IO v5 on top of the engine: namespaces, sockets, events, acks,
//! rooms and broadcasts, and the Rust API that apps are written in.
//!
//! An app is a [`SocketIo`] built from [`Namespace`]s:
//!
//! ```
//! use switchyard_node::socketio::{Namespace, SocketIo};
//! use switchyard_shared::socket::Payload;
//!
//! let app = SocketIo::builder().ns(Namespace::new("/").on_connection(|socket| {
//!     socket.join("lobby");
//!     socket.on("chat", |socket, payload: Payload, ack| {
//!         // Everyone in the lobby but the sender.
//!         socket.to("lobby").emit("chat", payload);
//!         if let Some(ack) = ack {
//!             ack.send(Payload::default());
//!         }
//!     });
//! }));
//! # let _ = app;
//! ```
//!
//! Each engine.io session runs one [`SocketIoClient`] inside its session
//! actor; it decodes packets, keeps the session's sockets (one per
//! namespace) and their pending acks, and calls the app's handlers in order.
//! A [`Socket`] is a handle on one of them that apps may keep and send from
//! anywhere.

mod ack;
mod broadcast;
mod client;
mod command;
mod connect;
mod delivery;
mod handshake;
mod limits;
mod migrate;
mod namespace;
mod ops;
mod ops_serve;
mod remote;
mod server;
mod server_event;
mod socket;

use std::sync::Arc;

use switchyard_shared::{engine::Frame, socket::Packet};

pub use ack::{Ack, AckError};
pub use broadcast::{
    AckCollector, AckEvent, Broadcast, BroadcastAckTimeout, BroadcastId, BroadcastOperator,
    DEFAULT_ACK_TIMEOUT,
};
pub use client::SocketIoClient;
pub use command::SocketCommand;
pub use handshake::Handshake;
pub use limits::SocketLimits;
pub use namespace::{ConnectError, ConnectRequest, MiddlewareFuture, Namespace, Params};
pub use ops::{SocketOp, Targets};
pub use ops_serve::OpsServer;
pub use remote::{OpsTimeout, RemoteSocket, DEFAULT_OPS_TIMEOUT};
pub(crate) use server::MAX_ATTACHMENTS;
pub use server::{SocketIo, SocketIoBuilder, StartHandler};
pub use server_event::{ServerAck, ServerAckTimeout, ServerEventHandler};
pub use socket::{AnyEventHandler, DisconnectHandler, EventHandler, Socket, SocketId, SocketSetup};

/// A room name. Shared, because every member and broadcast names it.
pub type Room = Arc<str>;

/// Encodes a packet as engine.io frames: the text message, then one binary
/// message per attachment.
pub(crate) fn frames(packet: &Packet) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(1 + packet.attachments().len());
    frames.push(Frame::Text(packet.encode_text("4").into()));
    frames.extend(packet.attachments().iter().cloned().map(Frame::Binary));
    frames
}

#[cfg(test)]
mod ops_tests;
#[cfg(test)]
mod tests;
