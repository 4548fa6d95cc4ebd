//! [`RoomActor`]: the local members of one room.

use std::{collections::HashMap, sync::Arc};

use actix::{Actor, ActorContext, Addr, Context, Handler, Message};

use crate::{
    session::SessionActor,
    socketio::{AckEvent, Broadcast, SocketCommand, SocketId},
};

/// The sockets of this node in one (namespace, room).
///
/// It lives while the room has a local member; the registry starts it on
/// the first join and stops it after the last leave.
#[derive(Default)]
pub struct RoomActor {
    members: HashMap<SocketId, Addr<SessionActor>>,
}

impl Actor for RoomActor {
    type Context = Context<Self>;
}

/// Messages from the registry.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) enum RoomMessage {
    /// A socket joined.
    Add(SocketId, Addr<SessionActor>),
    /// A socket left.
    Remove(SocketId),
    /// Hand a broadcast to every member.
    Fanout(Arc<Broadcast>),
    /// The last member left.
    Stop,
}

impl Handler<RoomMessage> for RoomActor {
    type Result = ();

    fn handle(&mut self, message: RoomMessage, ctx: &mut Context<Self>) {
        match message {
            RoomMessage::Add(socket, session) => {
                self.members.insert(socket, session);
            }
            RoomMessage::Remove(socket) => {
                self.members.remove(&socket);
            }
            RoomMessage::Fanout(broadcast) => {
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
            RoomMessage::Stop => ctx.stop(),
        }
    }
}
