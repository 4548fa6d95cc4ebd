//! [`LocalRoom`]: the sockets of this node in one room, and how a broadcast
//! reaches them.

use std::{collections::HashMap, sync::Arc};

use actix::Addr;

use super::RoomActor;
use crate::{
    session::SessionActor,
    socketio::{AckEvent, Broadcast, SocketCommand, SocketId},
};

/// One room with local members.
///
/// The members live with the registry rather than in each room's actor:
/// every broadcast on this node then reaches its members in the order the
/// registry took them, whatever rooms they target.
pub(super) struct LocalRoom {
    /// Holds the room's cluster subscription while the room lives.
    pub(super) actor: Addr<RoomActor>,
    /// The member sockets and their sessions.
    pub(super) members: HashMap<SocketId, Addr<SessionActor>>,
}

impl LocalRoom {
    /// Hands the shared broadcast to every member's session, which checks
    /// its exceptions and drops a second copy itself.
    pub(super) fn fanout(&self, broadcast: &Arc<Broadcast>) {
        if let Some(acks) = &broadcast.acks {
            let _ = acks.events.send(AckEvent::Members(self.members.len()));
        }
        for (socket, session) in &self.members {
            session.do_send(SocketCommand::Deliver {
                broadcast: broadcast.clone(),
                socket: socket.clone(),
            });
        }
    }
}
