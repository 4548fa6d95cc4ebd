//! Moving a session to the node that took its WebSocket upgrade.
//!
//! Behind a round-robin load balancer the client's WebSocket usually lands
//! on a node (B) other than the one that owns its polling session (A). The
//! session then moves to B, so that it lives where its WebSocket is:
//!
//! 1. B claims the upgrade from A before it accepts the WebSocket (`Claim`);
//!    A refuses if the session is unknown or cannot upgrade.
//! 2. B answers the client's `2probe`, and tells A (`Probed`), which
//!    releases the parked GET with a noop so the client can pause polling.
//! 3. After the client's `5`, B asks for the session (`Take`). A stops its
//!    heartbeat, exports its state (buffered packets, heartbeat deadlines,
//!    the app's sockets, rooms, data and pending acks) and from then on
//!    holds back whatever arrives for the session.
//! 4. B rebuilds the app and joins the rooms. Once B's room subscriptions
//!    are in force it asks A to let go (`Release`): A leaves its rooms and
//!    answers with what it held back. B applies that first, then what
//!    reached B directly meanwhile, dropping second copies of broadcasts by
//!    their ids; then it goes live.
//! 5. A stays as a tombstone for a while, relaying to B whatever still
//!    reaches it (emits from handles held on A, late broadcasts), and
//!    receiving the client's answers to acks that A's code awaits.
//!
//! Every step is bounded in time. If either node fails half-way, the other
//! closes the session and the client reconnects; nothing is left stuck.

mod incoming;
mod outgoing;
#[cfg(test)]
mod tests;

use actix::SpawnHandle;
pub(crate) use incoming::Incoming;
use switchyard_shared::cluster::RelayItem;

/// Where a session stands in a move between nodes.
pub(crate) enum Handover {
    /// It lives here and is not moving.
    Settled,
    /// It is arriving here from another node.
    Incoming(Box<Incoming>),
    /// Its state went to node `to`; what arrives for it is held until `to`
    /// confirms, or the timer gives up.
    Moving {
        /// The node taking the session.
        to: String,
        /// What arrived since, in order.
        held: Vec<RelayItem>,
        /// Closes the session if `to` never confirms.
        timer: SpawnHandle,
    },
    /// It lives on another node (the session's `peer`); this is its
    /// tombstone.
    Moved,
}

impl Handover {
    /// Whether nothing is moving and the session lives here.
    pub(crate) fn is_settled(&self) -> bool {
        matches!(self, Self::Settled)
    }

    /// Whether the session is arriving from another node.
    pub(crate) fn is_incoming(&self) -> bool {
        matches!(self, Self::Incoming(_))
    }
}
