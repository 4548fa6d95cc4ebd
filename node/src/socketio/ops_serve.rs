//! A node's part of a cluster-wide server operation: find the local target
//! sockets, have their sessions act, and answer. The origin runs it for
//! itself; [`OpsServer`] runs it for requests from other nodes and sends
//! the answers to the request's inbox.

use std::{sync::Arc, time::Duration};

use actix::{Actor, Context, StreamHandler};
use serde_json::value::RawValue;
use switchyard_shared::{
    cluster::{Op, OpsReply, OpsReplyBody, OpsRequest, WirePayload},
    socket::Payload,
};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::{
    broadcast::{AckCollector, AckEvent, Broadcast, BroadcastId},
    ops::{OpAction, SocketOp, Targets},
    server_event::ServerAck,
    Room, SocketCommand, SocketIo,
};
use crate::{
    cluster::{subscribe_actor, Gathered, Inbound, Subscriber},
    room::{LocalMembers, Publish},
};

/// Where a node's answers to one operation go.
pub(crate) type ReplySender = mpsc::UnboundedSender<OpsReplyBody>;

/// Serves `request` on this node, answering on `out`. The work runs on its
/// own task; `out` closes when this node has nothing more to say.
pub(crate) fn serve(io: &SocketIo, request: OpsRequest, out: ReplySender) {
    let io = io.clone();
    actix::spawn(async move {
        let nsp: Arc<str> = request.nsp.into();
        let targets = Targets {
            rooms: request.rooms.into_iter().map(Room::from).collect(),
            except: request.except.into_iter().map(Room::from).collect(),
        };
        let action = match request.op {
            Op::FetchSockets => OpAction::Fetch,
            Op::Join(room) => OpAction::Join(room.into()),
            Op::Leave(room) => OpAction::Leave(room.into()),
            Op::Disconnect { close } => OpAction::Disconnect { close },
            Op::BroadcastAck {
                id,
                ack,
                timeout_ms,
                volatile,
                frames,
            } => {
                let (events, inbox) = mpsc::unbounded_channel();
                let timeout = Duration::from_millis(timeout_ms);
                let broadcast = Broadcast {
                    id: BroadcastId {
                        origin: id.0,
                        seq: id.1,
                    },
                    nsp,
                    rooms: targets.rooms,
                    except: targets.except,
                    volatile,
                    local: true,
                    frames,
                    acks: Some(AckCollector {
                        id: ack,
                        timeout,
                        events,
                    }),
                };
                io.rooms().do_send(Publish(Arc::new(broadcast)));
                count_acks(inbox, timeout, &out).await;
                return;
            }
            Op::ServerEvent {
                event,
                ack,
                payload,
                ..
            } => {
                server_event(&io, &event, ack, payload, out);
                return;
            }
        };
        let sockets = act_on_members(&io, nsp, Arc::new(targets), action.clone()).await;
        let body = match action {
            OpAction::Fetch => OpsReplyBody::Sockets(sockets),
            _ => OpsReplyBody::Done,
        };
        let _ = out.send(body);
    });
}

/// Has every local target socket's session run `action`, and returns the
/// descriptions they answered with (for a fetch).
async fn act_on_members(
    io: &SocketIo,
    nsp: Arc<str>,
    targets: Arc<Targets>,
    action: OpAction,
) -> Vec<switchyard_shared::cluster::WireSocket> {
    let candidates = io
        .rooms()
        .send(LocalMembers {
            nsp: nsp.clone(),
            rooms: targets.rooms.clone(),
        })
        .await
        .unwrap_or_default();
    let answers: Vec<oneshot::Receiver<_>> = candidates
        .into_iter()
        .map(|(socket, session)| {
            let (reply, answer) = oneshot::channel();
            session.do_send(SocketCommand::Op(SocketOp {
                nsp: nsp.clone(),
                socket,
                targets: targets.clone(),
                action: action.clone(),
                reply,
            }));
            answer
        })
        .collect();
    let mut sockets = Vec::new();
    for answer in answers {
        // A session that closed meanwhile drops the reply: nothing to do.
        sockets.extend(answer.await.ok().flatten());
    }
    sockets
}

/// Runs the handler of a server-side event. With `ack`, the node first says
/// how many answers to expect: one if it has a handler, none otherwise.
fn server_event(io: &SocketIo, event: &str, ack: bool, payload: WirePayload, out: ReplySender) {
    let handler = io.server_event_handler(event);
    if ack {
        let _ = out.send(OpsReplyBody::Expect(u64::from(handler.is_some())));
    }
    let (Some(handler), Some(payload)) = (handler, payload_from_wire(payload)) else {
        return;
    };
    handler(io, payload, ack.then(|| ServerAck::new(out)));
}

/// Follows this node's part of a broadcast with acks: once every target
/// room and member has reported, says how many acks to expect (members
/// that were written to), then forwards each answer, until all arrived or
/// the timeout.
async fn count_acks(
    mut inbox: mpsc::UnboundedReceiver<AckEvent>,
    timeout: Duration,
    out: &ReplySender,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    let (mut rooms_expected, mut rooms_seen, mut members) = (None, 0, 0);
    let (mut settled, mut delivered, mut answered) = (0, 0u64, 0u64);
    let mut early = Vec::new();
    let mut counted = false;
    loop {
        if !counted && rooms_expected == Some(rooms_seen) && settled == members {
            counted = true;
            let _ = out.send(OpsReplyBody::Expect(delivered));
            for payload in early.drain(..) {
                let _ = out.send(OpsReplyBody::Answer(payload_to_wire(payload)));
            }
        }
        if counted && answered == delivered {
            return;
        }
        match tokio::time::timeout_at(deadline, inbox.recv()).await {
            Ok(Some(AckEvent::Rooms(count))) => rooms_expected = Some(count),
            Ok(Some(AckEvent::Members(count))) => {
                rooms_seen += 1;
                members += count;
            }
            Ok(Some(AckEvent::Delivered)) => {
                settled += 1;
                delivered += 1;
            }
            Ok(Some(AckEvent::Answer(None))) => settled += 1,
            Ok(Some(AckEvent::Answer(Some(payload)))) => {
                answered += 1;
                if counted {
                    let _ = out.send(OpsReplyBody::Answer(payload_to_wire(payload)));
                } else {
                    early.push(payload);
                }
            }
            // Nobody who could still answer is left, or time is up.
            Ok(None) | Err(_) => return,
        }
    }
}

/// A payload as it travels between nodes.
pub(super) fn payload_to_wire(payload: Payload) -> WirePayload {
    WirePayload {
        args: serde_json::to_string(&payload.args).unwrap_or_else(|_| "[]".to_owned()),
        attachments: payload.attachments,
    }
}

/// The answers the nodes gave: all of them (`Ok`), or those that came before
/// the timeout (`Err`).
pub(super) fn gathered_answers(gathered: Gathered) -> Result<Vec<Payload>, Vec<Payload>> {
    let answers = gathered
        .answers
        .into_iter()
        .filter_map(payload_from_wire)
        .collect();
    if gathered.complete {
        Ok(answers)
    } else {
        Err(answers)
    }
}

/// A payload from another node; `None` if its arguments are not a JSON array.
pub(super) fn payload_from_wire(wire: WirePayload) -> Option<Payload> {
    match serde_json::from_str::<Vec<Box<RawValue>>>(&wire.args) {
        Ok(args) => Some(Payload::new(args).with_attachments(wire.attachments)),
        Err(error) => {
            warn!(%error, "undecodable payload from another node");
            None
        }
    }
}

/// Serves the operations other nodes scatter to this one.
pub struct OpsServer {
    io: SocketIo,
}

impl OpsServer {
    /// Serves the cluster's operations for `io`.
    pub fn new(io: SocketIo) -> Self {
        Self { io }
    }
}

impl Actor for OpsServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(ops) = self.io.cluster_ops().filter(|ops| ops.cluster.has_peers()) {
            let subject = ops.cluster.subjects.ops();
            subscribe_actor(ops.cluster.bus.clone(), subject, ctx);
        }
    }
}

impl Subscriber for OpsServer {}

impl StreamHandler<Inbound> for OpsServer {
    fn handle(&mut self, inbound: Inbound, _: &mut Context<Self>) {
        let Some(ops) = self.io.cluster_ops() else {
            return;
        };
        let request = match OpsRequest::decode(inbound.payload) {
            Ok(request) => request,
            Err(error) => {
                warn!(%error, "undecodable cluster operation");
                return;
            }
        };
        // The origin serves itself without the bus.
        if request.origin == ops.cluster.node.as_str() {
            return;
        }
        let (out, mut answers) = mpsc::unbounded_channel();
        serve(&self.io, request, out);
        let Some(reply_to) = inbound.reply else {
            return;
        };
        let bus = ops.cluster.bus.clone();
        let node = ops.cluster.node.to_string();
        actix::spawn(async move {
            while let Some(body) = answers.recv().await {
                let reply = OpsReply {
                    node: node.clone(),
                    body,
                };
                bus.reply(reply_to.clone(), reply.encode());
            }
        });
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The subscription ends when the bus shuts down; nothing to resume.
    }
}
