//! [`RoomActor`]: one room's interest in the cluster.

use std::sync::Arc;

use actix::{Actor, ActorContext, Addr, Context, Handler, Message, StreamHandler};
use tokio::sync::oneshot;
use tracing::warn;

use super::{registry::Arrived, wire, RoomKey, RoomRegistry};
use crate::{
    cluster::{subscribe_actor, Cluster, Inbound, Subscriber},
    ops::metrics,
};

/// Subscribes the node to one (namespace, room)'s subject while the room
/// has a local member, so broadcasts from other nodes reach only nodes with
/// members.
///
/// The registry starts it on the first join and stops it after the last
/// leave. What arrives goes back to the registry, which serves every local
/// member in the one order all broadcasts take on this node.
pub struct RoomActor {
    key: RoomKey,
    cluster: Cluster,
    registry: Addr<RoomRegistry>,
    /// Whether the room's subject is subscribed (always, for a node alone).
    subscribed: bool,
    /// Who waits for the subscription.
    waiting: Vec<oneshot::Sender<()>>,
}

impl RoomActor {
    /// The actor of room `key`, handing what arrives to `registry`.
    pub fn new(key: RoomKey, cluster: Cluster, registry: Addr<RoomRegistry>) -> Self {
        Self {
            key,
            cluster,
            registry,
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
    /// Answer once the room's subject is subscribed.
    WhenSubscribed(oneshot::Sender<()>),
    /// The last member left.
    Stop,
}

impl Handler<RoomMessage> for RoomActor {
    type Result = ();

    fn handle(&mut self, message: RoomMessage, ctx: &mut Context<Self>) {
        match message {
            RoomMessage::WhenSubscribed(waiter) if self.subscribed => {
                let _ = waiter.send(());
            }
            RoomMessage::WhenSubscribed(waiter) => self.waiting.push(waiter),
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
                self.registry.do_send(Arrived(Arc::new(broadcast)));
            }
            Ok(None) => {}
            Err(error) => warn!(%error, "undecodable broadcast from the cluster"),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The subscription ends when the bus shuts down; nothing to resume.
    }
}
