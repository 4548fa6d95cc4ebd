//! [`RoomActor`]: the local members of one room, and the room's interest in
//! the cluster.

use std::{collections::HashMap, sync::Arc};

use actix::{Actor, ActorContext, Addr, Context, Handler, Message, StreamHandler};
use tokio::sync::oneshot;
use tracing::warn;

use super::{wire, RoomKey};
use crate::{
    cluster::{subscribe_actor, Cluster, Inbound, Subscriber},
    ops::metrics,
    session::SessionActor,
    socketio::{AckEvent, Broadcast, SocketCommand, SocketId},
};

/// The sockets of this node in one (namespace, room).
///
/// It lives while the room has a local member; the registry starts it on
/// the first join and stops it after the last leave. While it lives, the
/// node subscribes to the room's subject, so broadcasts from other nodes
/// reach only nodes with members.
pub struct RoomActor {
    key: RoomKey,
    cluster: Cluster,
    members: HashMap<SocketId, Addr<SessionActor>>,
    /// Whether the room's subject is subscribed (always, for a node alone).
    subscribed: bool,
    /// Who waits for the subscription.
    waiting: Vec<oneshot::Sender<()>>,
}

impl RoomActor {
    /// The actor of room `key`.
    pub fn new(key: RoomKey, cluster: Cluster) -> Self {
        Self {
            key,
            cluster,
            members: HashMap::new(),
            subscribed: false,
            waiting: Vec::new(),
        }
    }

    fn subject(&self) -> String {
        match &self.key.room {
            Some(room) => self.cluster.subjects.room(&self.key.nsp, room),
            None => self.cluster.subjects.namespace(&self.key.nsp),
        }
    }

    fn fanout(&self, broadcast: &Arc<Broadcast>) {
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

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.cluster.has_peers() {
            subscribe_actor(self.cluster.bus.clone(), self.subject(), ctx);
        } else {
            self.subscribed(ctx);
        }
    }
}

impl Subscriber for RoomActor {
    fn subscribed(&mut self, _: &mut Context<Self>) {
        self.subscribed = true;
        for waiter in self.waiting.drain(..) {
            let _ = waiter.send(());
        }
    }
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
    /// Answer once the room's subject is subscribed.
    WhenSubscribed(oneshot::Sender<()>),
    /// List the members and their sessions.
    Members(oneshot::Sender<Vec<(SocketId, Addr<SessionActor>)>>),
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
            RoomMessage::Fanout(broadcast) => self.fanout(&broadcast),
            RoomMessage::WhenSubscribed(waiter) if self.subscribed => {
                let _ = waiter.send(());
            }
            RoomMessage::WhenSubscribed(waiter) => self.waiting.push(waiter),
            RoomMessage::Members(reply) => {
                let members = self
                    .members
                    .iter()
                    .map(|(socket, session)| (socket.clone(), session.clone()))
                    .collect();
                let _ = reply.send(members);
            }
            RoomMessage::Stop => ctx.stop(),
        }
    }
}

/// A broadcast published by another node.
impl StreamHandler<Inbound> for RoomActor {
    fn handle(&mut self, inbound: Inbound, _: &mut Context<Self>) {
        match wire::from_wire(inbound.payload, &self.cluster.node) {
            Ok(Some(broadcast)) => {
                metrics::broadcast("received");
                self.fanout(&Arc::new(broadcast));
            }
            Ok(None) => {}
            Err(error) => warn!(%error, "undecodable broadcast from the cluster"),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The subscription ends when the bus shuts down; nothing to resume.
    }
}
