//! Rooms: the [`RoomRegistry`] of every local room's members, which serves
//! all broadcasts on a node in one order, and one [`RoomActor`] per
//! (namespace, room) with local members, which holds the room's interest
//! in the cluster.
//!
//! A namespace's sockets are also members of a group for the whole
//! namespace (a [`RoomKey`] without a room), so a namespace-wide broadcast
//! takes the same path as a room broadcast.

mod actor;
mod members;
mod registry;
mod wire;

use std::sync::Arc;

pub use actor::RoomActor;
pub use registry::{Join, Leave, LocalMembers, Publish, RoomRegistry, Subscribed};

/// A room of a namespace, or (`room: None`) all of its sockets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomKey {
    /// The namespace.
    pub nsp: Arc<str>,
    /// The room; `None` for the whole namespace.
    pub room: Option<crate::socketio::Room>,
}
