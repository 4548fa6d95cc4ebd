//! What runs on top of the engine.
//!
//! An [`EngineApp`] lives inside its session's actor and sees the session's
//! messages in order, so it needs no locks. The node builds one per session
//! with the endpoint's [`AppMaker`]. The socket.io layer is one such app
//! ([`crate::socketio::SocketIoClient`]); the raw engine.io echo is another.

use std::{future::Future, pin::Pin, sync::Arc};

use switchyard_gateway::HandshakeInfo;
use switchyard_shared::{cluster::RelayItem, engine::Data};

use crate::{
    session::{AppCx, CloseReason},
    socketio::SocketCommand,
};

pub mod bridge;
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

    /// The app's state, as JSON, for moving the session to the node that
    /// took its WebSocket upgrade; `None` if this app cannot move (the
    /// upgrade then fails and the client reconnects).
    fn export(&mut self) -> Option<String> {
        None
    }

    /// Rebuilds the app on the node the session moved to, from what
    /// [`EngineApp::export`] wrote. The future resolves once broadcasts for
    /// the session reach this node, so the old node may stop hearing them.
    fn import(&mut self, _state: &str, _cx: &mut AppCx<'_>) -> Result<Ready, ImportError> {
        Ok(Box::pin(async {}))
    }

    /// The session now lives on another node: stop hearing broadcasts here
    /// and forget its sockets, without running disconnect handlers.
    fn release(&mut self) {}

    /// On the node a session left: the item to relay to its new node for a
    /// command that still arrived here, or `None` if it is handled here.
    fn relay(&mut self, _command: SocketCommand, _cx: &mut AppCx<'_>) -> Option<RelayItem> {
        None
    }

    /// An item relayed from the session's other half on another node.
    fn on_relay(&mut self, _item: RelayItem, _cx: &mut AppCx<'_>) {}
}

/// Resolves once a moved session hears its broadcasts on its new node.
pub type Ready = Pin<Box<dyn Future<Output = ()>>>;

/// Why an app could not rebuild a moved session; the move fails and the
/// client reconnects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot rebuild the moved session: {0}")]
pub struct ImportError(pub String);

/// Builds the app for a new session from its handshake.
pub type AppMaker = Arc<dyn Fn(&HandshakeInfo) -> Box<dyn EngineApp> + Send + Sync>;
