//! What runs on top of the engine.
//!
//! An [`EngineApp`] lives inside its session's actor and sees the session's
//! messages in order, so it needs no locks. The node builds one per session
//! with the endpoint's [`AppMaker`]. The socket.io layer is one such app
//! ([`crate::socketio::SocketIoClient`]); the raw engine.io echo is another.

use std::sync::Arc;

use switchyard_gateway::HandshakeInfo;
use switchyard_shared::engine::Data;

use crate::{
    session::{AppCx, CloseReason},
    socketio::SocketCommand,
};

pub mod echo;
pub mod echo_io;
mod echo_ops;

pub use echo::EngineEcho;

/// Application code for one engine.io session.
pub trait EngineApp: 'static {
    /// The session has just opened.
    fn on_open(&mut self, _cx: &mut AppCx<'_>) {}

    /// A message arrived from the client.
    fn on_message(&mut self, data: Data, cx: &mut AppCx<'_>);

    /// A command from a handle, a timer or another actor arrived.
    fn on_command(&mut self, _command: SocketCommand, _cx: &mut AppCx<'_>) {}

    /// The session has closed, for the given reason.
    fn on_close(&mut self, _reason: CloseReason) {}
}

/// Builds the app for a new session from its handshake.
pub type AppMaker = Arc<dyn Fn(&HandshakeInfo) -> Box<dyn EngineApp> + Send + Sync>;
