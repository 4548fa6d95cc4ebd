//! What runs on top of the engine.
//!
//! An [`EngineApp`] lives inside its session's actor and sees the session's
//! messages in order, so it needs no locks. The node builds one per session
//! with the endpoint's [`AppMaker`].

use std::sync::Arc;

use switchyard_gateway::HandshakeInfo;
use switchyard_shared::engine::{Data, Frame};

pub mod echo;

pub use echo::EngineEcho;

/// Application code for one engine.io session.
pub trait EngineApp: 'static {
    /// A message arrived from the client; frames pushed to `out` are sent
    /// back on the session, in order.
    fn on_message(&mut self, data: Data, out: &mut Vec<Frame>);

    /// The session has closed, for the given reason.
    fn on_close(&mut self, _reason: &'static str) {}
}

/// Builds the app for a new session from its handshake.
pub type AppMaker = Arc<dyn Fn(&HandshakeInfo) -> Box<dyn EngineApp> + Send + Sync>;

/// Holds sessions open at the engine level and answers nothing.
///
/// The socket.io path runs on it until the socket.io layer is mounted there.
pub struct QuietApp;

impl EngineApp for QuietApp {
    fn on_message(&mut self, _data: Data, _out: &mut Vec<Frame>) {}
}
