//! [`RoomRegistry`]: which rooms have local members, and their actors.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use actix::{Actor, Addr, AsyncContext, Context, Handler, Message, MessageResult, ResponseFuture};
use switchyard_shared::config::MultiRoom;
use tokio::sync::oneshot;

use super::{
    actor::{RoomActor, RoomMessage},
    members::LocalRoom,
    wire, RoomKey,
};
use crate::{
    cluster::Cluster,
    ops::metrics,
    session::SessionActor,
    socketio::{AckEvent, Broadcast, Room, SocketId},
};

/// Starts a [`RoomActor`] at a room's first local join and stops it after
/// the last leave, so idle rooms cost nothing.
///
/// It holds every local room's members, so one actor serves every
/// broadcast on the node, local or from the cluster, and each client gets
/// them in the order the registry took them. Broadcasts also go (unless
/// `local`) to the rooms' subjects for the other nodes.
pub struct RoomRegistry {
    cluster: Cluster,
    multi_room: MultiRoom,
    rooms: HashMap<RoomKey, LocalRoom>,
}

impl RoomRegistry {
    /// The registry of a node in `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        Self {
            cluster,
            multi_room: MultiRoom::Rooms,
            rooms: HashMap::new(),
        }
    }

    /// Chooses where broadcasts to several rooms go between nodes.
    pub fn with_multi_room(mut self, multi_room: MultiRoom) -> Self {
        self.multi_room = multi_room;
        self
    }

    /// Hands a broadcast to the members of its target rooms on this node.
    fn fanout(&self, broadcast: &Arc<Broadcast>) {
        let targets: Vec<&LocalRoom> = keys(&broadcast.nsp, &broadcast.rooms)
            .iter()
            .filter_map(|key| self.rooms.get(key))
            .collect();
        if let Some(acks) = &broadcast.acks {
            let _ = acks.events.send(AckEvent::Rooms(targets.len()));
        }
        for room in targets {
            room.fanout(broadcast);
        }
    }

    /// Sends a broadcast to the other nodes: to the namespace's subject
    /// when it has no rooms, to its room's subject when it has one, and for
    /// several rooms as [`MultiRoom`] says (receivers drop a second copy by
    /// its id, and skip sockets in none of the rooms).
    fn publish(&self, broadcast: &Broadcast) {
        if broadcast.local || !self.cluster.has_peers() {
            return;
        }
        let payload = wire::to_wire(broadcast, &self.cluster.node);
        let subjects = &self.cluster.subjects;
        let whole_namespace = broadcast.rooms.is_empty()
            || (broadcast.rooms.len() > 1 && self.multi_room == MultiRoom::Namespace);
        if whole_namespace {
            self.cluster
                .bus
                .publish(subjects.namespace(&broadcast.nsp), payload);
            return;
        }
        for room in &broadcast.rooms {
            self.cluster
                .bus
                .publish(subjects.room(&broadcast.nsp, room), payload.clone());
        }
    }
}

impl Actor for RoomRegistry {
    type Context = Context<Self>;
}

/// A socket joins rooms: one message for all of them, since the registry
/// runs on another thread than most sessions.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    /// The rooms.
    pub keys: Vec<RoomKey>,
    /// The socket.
    pub socket: SocketId,
    /// Its session.
    pub session: Addr<SessionActor>,
}

/// A socket leaves rooms.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    /// The rooms.
    pub keys: Vec<RoomKey>,
    /// The socket.
    pub socket: SocketId,
}

/// Resolves once every one of these rooms hears the cluster: each room's
/// subject is subscribed, and the bus server has the subscriptions. A
/// session that moved here waits for it before its old node leaves.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribed(pub Vec<RoomKey>);
/// The local sockets of a namespace's rooms (all of its sockets when
/// `rooms` is empty), each once, with their sessions: the candidates of a
/// server operation. Sessions check exceptions and current rooms themselves.
#[derive(Message)]
#[rtype(result = "Vec<(SocketId, Addr<SessionActor>)>")]
pub struct LocalMembers {
    /// The namespace.
    pub nsp: Arc<str>,
    /// The rooms; empty for the whole namespace.
    pub rooms: Vec<Room>,
}

/// Send a broadcast to its target rooms' members.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish(pub Arc<Broadcast>);

/// A broadcast from another node, for this node's members only.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Arrived(pub Arc<Broadcast>);

impl Handler<Join> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, join: Join, ctx: &mut Context<Self>) {
        for key in join.keys {
            let room = self.rooms.entry(key).or_insert_with_key(|key| {
                let actor = RoomActor::new(key.clone(), self.cluster.clone(), ctx.address());
                LocalRoom {
                    actor: actor.start(),
                    members: HashMap::new(),
                }
            });
            room.members
                .insert(join.socket.clone(), join.session.clone());
        }
        metrics::rooms(self.rooms.len());
    }
}

impl Handler<Leave> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, leave: Leave, _: &mut Context<Self>) {
        for key in leave.keys {
            let Some(room) = self.rooms.get_mut(&key) else {
                continue;
            };
            room.members.remove(&leave.socket);
            if room.members.is_empty() {
                room.actor.do_send(RoomMessage::Stop);
                self.rooms.remove(&key);
            }
        }
        metrics::rooms(self.rooms.len());
    }
}

impl Handler<Subscribed> for RoomRegistry {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, Subscribed(keys): Subscribed, _: &mut Context<Self>) -> Self::Result {
        let waiters: Vec<oneshot::Receiver<()>> = keys
            .iter()
            .filter_map(|key| self.rooms.get(key))
            .map(|room| {
                let (done, waiter) = oneshot::channel();
                room.actor.do_send(RoomMessage::WhenSubscribed(done));
                waiter
            })
            .collect();
        let bus = self.cluster.bus.clone();
        Box::pin(async move {
            for waiter in waiters {
                // A room that stopped meanwhile has no subscription to wait for.
                let _ = waiter.await;
            }
            bus.sync().await;
        })
    }
}

impl Handler<LocalMembers> for RoomRegistry {
    type Result = MessageResult<LocalMembers>;

    fn handle(&mut self, request: LocalMembers, _: &mut Context<Self>) -> Self::Result {
        let mut seen = HashSet::new();
        let members = keys(&request.nsp, &request.rooms)
            .iter()
            .filter_map(|key| self.rooms.get(key))
            .flat_map(|room| room.members.iter())
            .filter(|(socket, _)| seen.insert(*socket))
            .map(|(socket, session)| (socket.clone(), session.clone()))
            .collect();
        MessageResult(members)
    }
}

/// The groups a target list names: the rooms, or the whole namespace.
fn keys(nsp: &Arc<str>, rooms: &[Room]) -> Vec<RoomKey> {
    if rooms.is_empty() {
        return vec![RoomKey {
            nsp: nsp.clone(),
            room: None,
        }];
    }
    rooms
        .iter()
        .map(|room| RoomKey {
            nsp: nsp.clone(),
            room: Some(room.clone()),
        })
        .collect()
}

impl Handler<Publish> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, Publish(broadcast): Publish, _: &mut Context<Self>) {
        self.fanout(&broadcast);
        metrics::broadcast("sent");
        self.publish(&broadcast);
    }
}

impl Handler<Arrived> for RoomRegistry {
    type Result = ();

    fn handle(&mut self, Arrived(broadcast): Arrived, _: &mut Context<Self>) {
        self.fanout(&broadcast);
    }
}
