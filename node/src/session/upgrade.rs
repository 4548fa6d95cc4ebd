//! A WebSocket upgrade in progress.

use actix::SpawnHandle;
use switchyard_gateway::WsLink;

/// The WebSocket that wants to take over a polling session.
///
/// It lives until the client's `5` (the upgrade completes), or a bad frame,
/// its close, or upgradeTimeout (the upgrade is abandoned and polling goes on).
pub(crate) struct Upgrade {
    /// The candidate WebSocket.
    pub(crate) link: WsLink,
    /// Whether `2probe` has been answered; from then on GETs get a noop.
    pub(crate) probed: bool,
    /// The upgradeTimeout timer.
    pub(crate) timeout: SpawnHandle,
}
