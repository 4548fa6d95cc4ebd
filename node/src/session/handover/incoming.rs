//! The new owner's side of a move: the WebSocket that landed here answers
//! the probe, takes the session from its old node, rebuilds it, and goes
//! live once its broadcasts reach this node.

use std::{mem, time::Instant};

use actix::{fut::wrap_future, ActorFutureExt, AsyncContext, Context, SpawnHandle};
use switchyard_gateway::{HandshakeInfo, WsLink, WsOut};
use switchyard_shared::{
    cluster::{PeerBody, RelayItem, SessionSnapshot},
    engine::{Data, Frame, Packet},
};
use tracing::{info, warn};

use super::Handover;
use crate::{
    app::{AppMaker, EngineApp},
    cluster::{BusError, Peers},
    ops::metrics,
    session::{
        actor::{Active, SessionParts},
        close::CloseReason,
        outbox::Outbox,
        AppCx, SessionActor,
    },
    socketio::SocketCommand,
};

/// How far an arriving session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the client's `2probe`.
    Probing,
    /// Probe answered; waiting for the client's `5`.
    Probed,
    /// `5` received; waiting for the old node's snapshot.
    Taking,
    /// Rebuilt; waiting for the rooms here, then for the old node to let go.
    Joining,
}

impl Stage {
    /// The stage's name in logs and in the failed-handover metric.
    fn as_str(self) -> &'static str {
        match self {
            Self::Probing => "probe",
            Self::Probed => "upgrade",
            Self::Taking => "take",
            Self::Joining => "release",
        }
    }
}

/// A session arriving from another node, until it goes live here.
pub(crate) struct Incoming {
    /// The node the session comes from.
    pub(crate) owner: String,
    maker: AppMaker,
    stage: Stage,
    /// The client's frames after its `5`, handled once the session is live.
    frames: Vec<Frame>,
    /// Commands for the rebuilt sockets (broadcasts, mostly), held likewise.
    commands: Vec<SocketCommand>,
    /// Relays from the old node that overtook its answer to `Release`.
    relays: Vec<RelayItem>,
    /// Whether the app has been rebuilt here.
    imported: bool,
    /// The heartbeat as the old node left it.
    heartbeat: (u64, Option<u64>),
    /// When the client sent `5`.
    started: Instant,
    /// upgradeTimeout, until the client's `5`.
    timeout: Option<SpawnHandle>,
}

impl Incoming {
    /// Holds a relay until the session is live; false if too many wait.
    pub(crate) fn hold_relay(&mut self, item: RelayItem) -> bool {
        hold(&mut self.relays, item)
    }
}

/// Most items of one kind held while a session arrives.
const MOST_HELD: usize = 4096;

fn hold<T>(list: &mut Vec<T>, item: T) -> bool {
    if list.len() >= MOST_HELD {
        return false;
    }
    list.push(item);
    true
}

/// The app of a session whose real app has not arrived yet.
struct Arriving;

impl EngineApp for Arriving {
    fn on_message(&mut self, _: Data, _: &mut AppCx<'_>) {}
}

impl SessionActor {
    /// A session of node `owner` whose WebSocket upgrade landed here; it
    /// goes live once the old node has handed it over.
    pub(in crate::session) fn incoming(
        parts: SessionParts,
        owner: String,
        maker: AppMaker,
        link: WsLink,
    ) -> Self {
        let outbox = Outbox::new(parts.config.max_buffered_packets);
        let mut session = Self::with(parts, Box::new(Arriving), Active::WebSocket(link), outbox);
        session.handover = Handover::Incoming(Box::new(Incoming {
            owner,
            maker,
            stage: Stage::Probing,
            frames: Vec::new(),
            commands: Vec::new(),
            relays: Vec::new(),
            imported: false,
            heartbeat: (0, None),
            started: Instant::now(),
            timeout: None,
        }));
        session
    }

    fn incoming_mut(&mut self) -> Option<&mut Incoming> {
        match &mut self.handover {
            Handover::Incoming(incoming) => Some(incoming),
            _ => None,
        }
    }

    fn peers_or_fail(&mut self, ctx: &mut Context<Self>) -> Option<Peers> {
        let peers = self.peers.clone();
        if peers.is_none() {
            self.fail_incoming("no cluster", ctx);
        }
        peers
    }

    /// The arriving session's actor has started: the client has
    /// upgradeTimeout to complete the upgrade.
    pub(in crate::session) fn start_incoming(&mut self, ctx: &mut Context<Self>) {
        metrics::handover_started();
        let timeout = ctx.run_later(self.config.upgrade_timeout, |act, ctx| {
            let _enter = act.span.clone().entered();
            act.fail_incoming("upgrade timeout", ctx);
        });
        if let Some(incoming) = self.incoming_mut() {
            incoming.timeout = Some(timeout);
        }
    }

    /// A frame from the client while the session arrives.
    pub(in crate::session) fn on_incoming_frame(
        &mut self,
        link: u64,
        frame: Frame,
        ctx: &mut Context<Self>,
    ) {
        if !matches!(&self.active, Active::WebSocket(active) if active.id == link) {
            return;
        }
        let Some(stage) = self.incoming_mut().map(|incoming| incoming.stage) else {
            return;
        };
        match stage {
            Stage::Probing | Stage::Probed => {
                let packet = Packet::decode_frame(frame);
                match (stage, packet) {
                    (Stage::Probing, Ok(Packet::Ping(data))) if &*data == "probe" => {
                        self.answer_probe(data, ctx);
                    }
                    (Stage::Probed, Ok(Packet::Upgrade)) => self.take(ctx),
                    _ => self.fail_incoming(stage.as_str(), ctx),
                }
            }
            Stage::Taking | Stage::Joining => {
                let held = self
                    .incoming_mut()
                    .is_some_and(|incoming| hold(&mut incoming.frames, frame));
                if !held {
                    self.fail_incoming("client frames", ctx);
                }
            }
        }
    }

    /// The WebSocket closed before the session went live.
    pub(in crate::session) fn on_incoming_closed(&mut self, link: u64, ctx: &mut Context<Self>) {
        if matches!(&self.active, Active::WebSocket(active) if active.id == link) {
            self.fail_incoming("client gone", ctx);
        }
    }

    /// A command for the arriving session, held until it is live.
    pub(in crate::session) fn hold_command(
        &mut self,
        command: SocketCommand,
        ctx: &mut Context<Self>,
    ) {
        let held = self
            .incoming_mut()
            .is_some_and(|incoming| hold(&mut incoming.commands, command));
        if !held {
            self.fail_incoming("held commands", ctx);
        }
    }

    fn answer_probe(&mut self, data: bytestring::ByteString, ctx: &mut Context<Self>) {
        let Some(peers) = self.peers_or_fail(ctx) else {
            return;
        };
        let Active::WebSocket(link) = &self.active else {
            return;
        };
        if link
            .outbound
            .try_send(WsOut::Frame(Packet::Pong(data).encode()))
            .is_err()
        {
            self.fail_incoming("probe", ctx);
            return;
        }
        let Some(incoming) = self.incoming_mut() else {
            return;
        };
        incoming.stage = Stage::Probed;
        let owner = incoming.owner.clone();
        peers.tell(&owner, &self.sid, self.endpoint, PeerBody::Probed);
    }

    /// The client sent `5`: ask the old node for the session.
    fn take(&mut self, ctx: &mut Context<Self>) {
        let Some(peers) = self.peers_or_fail(ctx) else {
            return;
        };
        let Some(incoming) = self.incoming_mut() else {
            return;
        };
        incoming.stage = Stage::Taking;
        incoming.started = Instant::now();
        let timeout = incoming.timeout.take();
        let owner = incoming.owner.clone();
        if let Some(timeout) = timeout {
            ctx.cancel_future(timeout);
        }
        let ask = peers.ask(&owner, &self.sid, self.endpoint, PeerBody::Take);
        ctx.spawn(wrap_future(ask).map(|answer, act: &mut Self, ctx| {
            let _enter = act.span.clone().entered();
            match answer {
                Ok(PeerBody::Snapshot(snapshot)) => act.rebuild(snapshot, ctx),
                other => act.fail_answer("take", other, ctx),
            }
        }));
    }

    /// Rebuilds the session from the old node's snapshot, then waits until
    /// its rooms hear the cluster.
    fn rebuild(&mut self, snapshot: SessionSnapshot, ctx: &mut Context<Self>) {
        let Some(incoming) = self.incoming_mut() else {
            return;
        };
        incoming.stage = Stage::Joining;
        incoming.imported = true;
        incoming.heartbeat = (snapshot.next_ping_ms, snapshot.pong_due_ms);
        let maker = incoming.maker.clone();
        self.info = HandshakeInfo {
            query: snapshot.query,
            headers: snapshot.headers,
            address: snapshot.address,
            url: snapshot.url,
            secure: snapshot.secure,
        };
        self.app = maker(&self.info);
        // What the old node had buffered goes out first, in order.
        for frame in snapshot.outbox {
            self.send(frame, ctx);
        }
        let mut imported = None;
        self.run_app(ctx, |app, cx| {
            imported = Some(app.import(&snapshot.app, cx))
        });
        let ready = match imported {
            Some(Ok(ready)) => ready,
            Some(Err(error)) => {
                warn!(%error, "cannot rebuild the session");
                self.fail_incoming("rebuild", ctx);
                return;
            }
            None => return,
        };
        ctx.spawn(wrap_future(ready).map(|(), act: &mut Self, ctx| act.release_owner(ctx)));
    }

    /// The rooms hear the cluster: ask the old node to let go.
    fn release_owner(&mut self, ctx: &mut Context<Self>) {
        let Some(peers) = self.peers_or_fail(ctx) else {
            return;
        };
        let Some(owner) = self.incoming_mut().map(|incoming| incoming.owner.clone()) else {
            return;
        };
        let ask = peers.ask(&owner, &self.sid, self.endpoint, PeerBody::Release);
        ctx.spawn(wrap_future(ask).map(|answer, act: &mut Self, ctx| {
            let _enter = act.span.clone().entered();
            match answer {
                Ok(PeerBody::Relayed(items)) => act.go_live(items, ctx),
                other => act.fail_answer("release", other, ctx),
            }
        }));
    }

    /// The session lives here now: what the old node held back goes first,
    /// then what reached this node meanwhile, then the client's frames.
    fn go_live(&mut self, items: Vec<RelayItem>, ctx: &mut Context<Self>) {
        let Handover::Incoming(incoming) = mem::replace(&mut self.handover, Handover::Settled)
        else {
            return;
        };
        let incoming = *incoming;
        self.peer = Some(incoming.owner.clone());
        metrics::handover_held(items.len() + incoming.relays.len());
        for item in items.into_iter().chain(incoming.relays) {
            self.run_app(ctx, |app, cx| app.on_relay(item, cx));
        }
        for command in incoming.commands {
            self.run_app(ctx, |app, cx| app.on_command(command, cx));
        }
        let (next_ping_ms, pong_due_ms) = incoming.heartbeat;
        self.resume_heartbeat(next_ping_ms, pong_due_ms, ctx);
        self.set_counted(true);
        let elapsed = incoming.started.elapsed();
        metrics::handover_ended("ok", Some(elapsed.as_secs_f64()));
        info!(from = %incoming.owner, ms = elapsed.as_millis() as u64, "session moved here");
        let link = match &self.active {
            Active::WebSocket(link) => link.id,
            Active::Polling(_) => return,
        };
        for frame in incoming.frames {
            if self.is_closing() {
                break;
            }
            self.on_frame(link, frame, ctx);
        }
    }

    fn fail_answer(
        &mut self,
        stage: &'static str,
        answer: Result<PeerBody, BusError>,
        ctx: &mut Context<Self>,
    ) {
        match answer {
            Err(error) => warn!(%error, stage, "the old node did not answer"),
            Ok(body) => warn!(?body, stage, "the old node refused"),
        }
        self.fail_incoming(stage, ctx);
    }

    /// The move failed: the old node is told, and the client's WebSocket
    /// closes, so that it reconnects.
    pub(in crate::session) fn fail_incoming(
        &mut self,
        stage: &'static str,
        ctx: &mut Context<Self>,
    ) {
        let Handover::Incoming(incoming) = mem::replace(&mut self.handover, Handover::Settled)
        else {
            return;
        };
        if let Some(timeout) = incoming.timeout {
            ctx.cancel_future(timeout);
        }
        if let Some(peers) = &self.peers {
            let abort = PeerBody::Abort {
                imported: incoming.imported,
            };
            peers.tell(&incoming.owner, &self.sid, self.endpoint, abort);
        }
        metrics::handover_ended(stage, None);
        warn!(from = %incoming.owner, stage, "session could not move here; the client will reconnect");
        self.close(CloseReason::TransportClose, ctx);
    }
}
