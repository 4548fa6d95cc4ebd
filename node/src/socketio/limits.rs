//! [`SocketLimits`]: what one client may make its session hold.

use switchyard_shared::config::LimitSettings;
use tracing::warn;

use super::{client::SocketIoClient, Room, SocketId, MAX_ATTACHMENTS};
use crate::ops::metrics;

/// Bounds on one connection's namespaces, rooms, awaited acks and packets.
/// Each is reached with a clear answer and leaves the rest of the session
/// working (see the README, "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    /// Most namespaces joined at once; one more gets CONNECT_ERROR.
    pub max_namespaces: usize,
    /// Most rooms per socket, its own included; a join over it is refused.
    pub max_rooms_per_socket: usize,
    /// Most binary attachments per packet; more closes the session.
    pub max_attachments: usize,
    /// Most acks awaited from one socket; `emit_with_ack` over it fails.
    pub max_pending_acks: usize,
    /// Deepest JSON nesting per packet; deeper closes the session.
    pub max_json_depth: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            max_namespaces: 32,
            max_rooms_per_socket: 1_000,
            max_attachments: MAX_ATTACHMENTS,
            max_pending_acks: 1_024,
            max_json_depth: 32,
        }
    }
}

impl From<&LimitSettings> for SocketLimits {
    fn from(limits: &LimitSettings) -> Self {
        Self {
            max_namespaces: limits.max_namespaces,
            max_rooms_per_socket: limits.max_rooms_per_socket,
            max_attachments: limits.max_attachments,
            max_pending_acks: limits.max_pending_acks,
            max_json_depth: limits.max_json_depth,
        }
    }
}

impl SocketIoClient {
    /// Whether the server may await one more ack from the socket of `nsp`.
    pub(super) fn may_await_ack(&self, nsp: &str) -> bool {
        let max = self.io.limits().max_pending_acks;
        let awaited = self.pending.values().filter(|p| &*p.nsp == nsp).count();
        if awaited >= max {
            metrics::limit_reached("pending_acks");
            return false;
        }
        true
    }
}

/// A join over `max_rooms_per_socket`: refused, logged and counted.
pub(super) fn refuse_join(socket: &SocketId, room: &Room, max: usize) {
    metrics::limit_reached("rooms_per_socket");
    warn!(%socket, %room, max, "join refused: the socket is in too many rooms");
}
