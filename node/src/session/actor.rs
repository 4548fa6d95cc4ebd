//! The [`SessionActor`]: one engine.io session.
//!
//! The actor's behaviour is split by concern: this file holds its state,
//! sending, packets from the client and the close; `polling.rs`,
//! `upgrade.rs`, `heartbeat.rs` and `handover/` (moving a session between
//! nodes) add the rest as further `impl` blocks.

use std::{sync::Arc, time::Duration};

use actix::{Actor, ActorContext, AsyncContext, Context, Handler};
use switchyard_gateway::{
    gateway_actor::{Register, Unregister},
    session::PollReply,
    EndpointId, GatewayActor, HandshakeInfo, SessionRequest, WsLink, WsOut,
};
use switchyard_shared::{
    cluster::{PeerBody, RelayItem},
    engine::{EngineError, Frame, Packet, Transport},
    sid::Sid,
};
use tokio::sync::{mpsc::error::TrySendError, oneshot};
use tracing::{debug, info_span, Span};

use super::{
    app_cx::AppCx,
    close::CloseReason,
    handover::Handover,
    heartbeat::Heartbeat,
    outbox::Outbox,
    parked::ParkedPoll,
    polling::{CLOSE, NOOP},
    upgrade::Upgrade,
};
use crate::{app::EngineApp, cluster::Peers, ops::metrics, socketio::SocketCommand};

/// Engine settings every session of a node shares.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Time between pings.
    pub ping_interval: Duration,
    /// Time to wait for a pong.
    pub ping_timeout: Duration,
    /// Time a WebSocket upgrade may take.
    pub upgrade_timeout: Duration,
    /// Whether polling sessions may upgrade to WebSocket.
    pub websocket_enabled: bool,
    /// Most packets buffered for one client.
    pub max_buffered_packets: usize,
}

/// The client sent a packet only a server may send, or no packet at all.
pub(super) struct NotFromClient;

/// The transport that currently carries the session.
pub(super) enum Active {
    /// Long-polling; at most one GET is parked at a time.
    Polling(ParkedPoll),
    /// A WebSocket; frames go straight to its queue.
    WebSocket(WsLink),
}

/// One engine.io session. Everything about it lives here, so nothing on its
/// path needs a lock: the parked GET, the buffered packets, the WebSocket,
/// the heartbeat timers, an upgrade in progress, and the app.
pub struct SessionActor {
    pub(super) sid: Sid,
    pub(super) endpoint: EndpointId,
    pub(super) config: Arc<SessionConfig>,
    gateway: actix::Addr<GatewayActor>,
    /// How to reach other nodes; `None` for a session that can never move.
    pub(super) peers: Option<Peers>,
    /// What the client presented at the handshake; travels with a move.
    pub(super) info: HandshakeInfo,
    pub(super) app: Box<dyn EngineApp>,
    /// Frames the app produced for the message being handled; kept to reuse its allocation.
    app_out: Vec<Frame>,
    pub(super) active: Active,
    pub(super) outbox: Outbox,
    pub(super) upgrade: Option<Upgrade>,
    pub(super) posting: bool,
    pub(super) heartbeat: Heartbeat,
    /// A move to or from another node, or the tombstone of one.
    pub(super) handover: Handover,
    /// The node of the session's other half, once it moved: relays go there.
    pub(super) peer: Option<String>,
    /// Whether the session is in the sessions gauge (a session arriving
    /// from another node is not until it is live, a tombstone no longer is).
    counted: bool,
    closing: bool,
    pub(super) span: Span,
}

/// The parts every session starts from, however it starts.
pub(super) struct SessionParts {
    /// This node, named in the session's log lines.
    pub(super) node: switchyard_shared::sid::NodeId,
    pub(super) sid: Sid,
    pub(super) endpoint: EndpointId,
    pub(super) config: Arc<SessionConfig>,
    pub(super) gateway: actix::Addr<GatewayActor>,
    pub(super) peers: Option<Peers>,
    pub(super) info: HandshakeInfo,
}

impl SessionActor {
    /// A session that starts over polling, or over `websocket` when given.
    ///
    /// The open packet is queued first, so it is the first thing the client reads.
    pub(super) fn new(
        parts: SessionParts,
        app: Box<dyn EngineApp>,
        open: Packet,
        websocket: Option<WsLink>,
    ) -> Self {
        let mut outbox = Outbox::new(parts.config.max_buffered_packets);
        let active = match websocket {
            Some(link) => {
                // A fresh queue always has room for the first frame.
                let _ = link.outbound.try_send(WsOut::Frame(open.encode()));
                Active::WebSocket(link)
            }
            None => {
                let _ = outbox.push(open.encode());
                Active::Polling(ParkedPoll::default())
            }
        };
        Self::with(parts, app, active, outbox)
    }

    /// A session in transport `active`, with `outbox` buffered.
    pub(super) fn with(
        parts: SessionParts,
        app: Box<dyn EngineApp>,
        active: Active,
        outbox: Outbox,
    ) -> Self {
        let span = info_span!("session", sid = %parts.sid, node = %parts.node);
        Self {
            sid: parts.sid,
            endpoint: parts.endpoint,
            config: parts.config,
            gateway: parts.gateway,
            peers: parts.peers,
            info: parts.info,
            app,
            app_out: Vec::new(),
            active,
            outbox,
            upgrade: None,
            posting: false,
            heartbeat: Heartbeat::default(),
            handover: Handover::Settled,
            peer: None,
            counted: false,
            closing: false,
            span,
        }
    }

    pub(super) fn transport(&self) -> Transport {
        match self.active {
            Active::Polling(_) => Transport::Polling,
            Active::WebSocket(_) => Transport::WebSocket,
        }
    }

    /// Whether the session has ended and only waits for its actor to stop.
    pub(super) fn is_closing(&self) -> bool {
        self.closing
    }

    /// Puts the session in the sessions gauge, or takes it out.
    pub(super) fn set_counted(&mut self, counted: bool) {
        match (self.counted, counted) {
            (false, true) => metrics::session_opened(self.transport()),
            (true, false) => metrics::session_ended(self.transport()),
            _ => {}
        }
        self.counted = counted;
    }

    /// Stops the actor without a close: the session lives on elsewhere.
    pub(super) fn stop_quietly(&mut self, ctx: &mut Context<Self>) {
        self.closing = true;
        self.set_counted(false);
        ctx.stop();
    }

    /// Queues a frame on the active transport. Call [`Self::flush`] after.
    pub(super) fn send(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        metrics::packet_out(frame.len());
        let result = match &self.active {
            Active::WebSocket(link) => match link.outbound.try_send(WsOut::Frame(frame)) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) => Err(CloseReason::BufferFull),
                Err(TrySendError::Closed(_)) => Err(CloseReason::TransportClose),
            },
            Active::Polling(_) => self.outbox.push(frame).map_err(|_| CloseReason::BufferFull),
        };
        if let Err(reason) = result {
            self.close(reason, ctx);
        }
    }

    /// Hands buffered packets to a parked GET, if one is waiting.
    pub(super) fn flush(&mut self) {
        let Active::Polling(parked) = &mut self.active else {
            return;
        };
        if self.outbox.is_empty() {
            return;
        }
        if let Some(reply) = parked.take() {
            // If the client has gone, the packets stay for its next GET.
            if reply.send(Ok(self.outbox.payload())).is_ok() {
                self.outbox.clear();
            }
        }
    }

    /// A packet from the client on the active transport.
    pub(super) fn on_packet(
        &mut self,
        packet: Packet,
        ctx: &mut Context<Self>,
    ) -> Result<(), NotFromClient> {
        metrics::packet_in();
        match packet {
            Packet::Pong(_) => self.on_pong(ctx),
            Packet::Message(data) => self.run_app(ctx, |app, cx| app.on_message(data, cx)),
            Packet::Close => self.close(CloseReason::ClientClose, ctx),
            Packet::Open(_) => return Err(NotFromClient),
            Packet::Ping(_) | Packet::Upgrade | Packet::Noop => {}
        }
        Ok(())
    }

    /// Lets the app handle one event, then sends what it produced.
    pub(super) fn run_app(
        &mut self,
        ctx: &mut Context<Self>,
        handle: impl FnOnce(&mut dyn EngineApp, &mut AppCx<'_>),
    ) {
        if self.closing {
            return;
        }
        let mut out = std::mem::take(&mut self.app_out);
        let writable = match &self.active {
            Active::Polling(parked) => parked.is_waiting(),
            Active::WebSocket(link) => link.outbound.capacity() > 0,
        };
        let mut cx = AppCx {
            out: &mut out,
            ctx,
            close: None,
            writable,
            relays: Vec::new(),
        };
        handle(self.app.as_mut(), &mut cx);
        let close = cx.close;
        let relays = std::mem::take(&mut cx.relays);
        for item in relays {
            self.relay_to_peer(item, ctx);
        }
        for frame in out.drain(..) {
            self.send(frame, ctx);
        }
        self.app_out = out;
        if let Some(reason) = close {
            self.close(reason, ctx);
        }
        self.flush();
    }

    /// Sends an item to the session's other half on another node; while
    /// the session is moving away it is held for the new node instead.
    fn relay_to_peer(&mut self, item: RelayItem, ctx: &mut Context<Self>) {
        if let Handover::Moving { held, .. } = &mut self.handover {
            if held.len() >= self.config.max_buffered_packets {
                debug!(parent: &self.span, "too much arrived while moving");
                self.handover = Handover::Settled;
                self.close(CloseReason::BufferFull, ctx);
                return;
            }
            held.push(item);
            return;
        }
        if let (Some(peer), Some(peers)) = (&self.peer, &self.peers) {
            peers.tell(peer, &self.sid, self.endpoint, PeerBody::Relay(item));
        }
    }

    /// A frame on some WebSocket of this session: the active one, or a
    /// candidate for the upgrade. Frames of any other socket are stale.
    pub(super) fn on_frame(&mut self, link: u64, frame: Frame, ctx: &mut Context<Self>) {
        metrics::bytes_in(frame.len());
        let decoded = Packet::decode_frame(frame);
        if !matches!(&self.active, Active::WebSocket(active) if active.id == link) {
            self.on_upgrade_frame(link, decoded, ctx);
            return;
        }
        let handled = match decoded {
            Ok(packet) => self.on_packet(packet, ctx),
            Err(error) => {
                debug!(%error, "bad websocket frame");
                Err(NotFromClient)
            }
        };
        if handled.is_err() {
            self.close(CloseReason::ParseError, ctx);
        }
    }

    pub(super) fn on_socket_closed(&mut self, link: u64, ctx: &mut Context<Self>) {
        if matches!(&self.active, Active::WebSocket(active) if active.id == link) {
            self.close(CloseReason::TransportClose, ctx);
        } else {
            self.on_upgrade_closed(link, ctx);
        }
    }

    /// Takes the parked GET, if the session is polling and one is parked.
    pub(super) fn take_parked(&mut self) -> Option<oneshot::Sender<PollReply>> {
        match &mut self.active {
            Active::Polling(parked) => parked.take(),
            Active::WebSocket(_) => None,
        }
    }

    /// Ends the session: releases a parked GET, closes the WebSocket, tells the app.
    pub(super) fn close(&mut self, reason: CloseReason, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        if self.handover.is_incoming() {
            // Tells the old node, and closes through here again.
            self.fail_incoming(reason.as_str(), ctx);
            return;
        }
        self.closing = true;
        debug!(parent: &self.span, reason = reason.as_str(), "session closed");
        // A client that asked to close just sees its GET end; others are told.
        let last = if reason == CloseReason::ClientClose {
            NOOP
        } else {
            CLOSE
        };
        if let Some(reply) = self.take_parked() {
            let _ = reply.send(Ok(last));
        }
        if let Active::WebSocket(link) = &self.active {
            let _ = link.outbound.try_send(WsOut::Close);
        }
        self.abandon_upgrade(ctx);
        self.abandon_handover(ctx);
        self.app.on_close(reason);
        metrics::session_closed(reason);
        ctx.stop();
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.gateway.do_send(Register {
            sid: self.sid.clone(),
            endpoint: self.endpoint,
            session: ctx.address().recipient(),
        });
        if self.handover.is_incoming() {
            // It goes live once its state has arrived from its old node.
            self.start_incoming(ctx);
            return;
        }
        self.set_counted(true);
        self.schedule_ping(ctx);
        self.run_app(ctx, |app, cx| app.on_open(cx));
        debug!(parent: &self.span, transport = self.transport().as_str(), "session opened");
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.gateway.do_send(Unregister {
            sid: self.sid.clone(),
        });
        self.set_counted(false);
    }
}

impl Handler<SessionRequest> for SessionActor {
    type Result = ();

    fn handle(&mut self, request: SessionRequest, ctx: &mut Context<Self>) {
        let _enter = self.span.clone().entered();
        match request {
            // Polling ended here when the session moved away.
            SessionRequest::Poll(reply) if !self.handover.is_settled() => {
                let _ = reply.send(Err(EngineError::BadRequest));
            }
            SessionRequest::Post { reply, .. } if !self.handover.is_settled() => {
                let _ = reply.send(Err(EngineError::BadRequest));
            }
            SessionRequest::Poll(reply) => self.on_poll(reply, ctx),
            SessionRequest::Post { body, reply } => self.on_post(body, reply, ctx),
            SessionRequest::AttachWebSocket(link) => self.on_attach(link, ctx),
            SessionRequest::WebSocketFrame { link, frame } if self.handover.is_incoming() => {
                self.on_incoming_frame(link, frame, ctx);
            }
            SessionRequest::WebSocketClosed { link } if self.handover.is_incoming() => {
                self.on_incoming_closed(link, ctx);
            }
            SessionRequest::WebSocketFrame { link, frame } => self.on_frame(link, frame, ctx),
            SessionRequest::WebSocketClosed { link } => self.on_socket_closed(link, ctx),
            SessionRequest::Peer { from, body, reply } => self.on_peer(from, body, reply, ctx),
            // A tombstone has no client to tell.
            SessionRequest::Shutdown if matches!(self.handover, Handover::Moved) => {
                self.stop_quietly(ctx);
            }
            SessionRequest::Shutdown => self.close(CloseReason::ServerShutdown, ctx),
        }
        self.flush();
    }
}

impl Handler<SocketCommand> for SessionActor {
    type Result = ();

    fn handle(&mut self, command: SocketCommand, ctx: &mut Context<Self>) {
        let _enter = self.span.clone().entered();
        match &self.handover {
            Handover::Settled => self.run_app(ctx, |app, cx| app.on_command(command, cx)),
            Handover::Incoming(_) => self.hold_command(command, ctx),
            // The session lives (or is about to live) on another node.
            Handover::Moving { .. } | Handover::Moved => self.run_app(ctx, |app, cx| {
                if let Some(item) = app.relay(command, cx) {
                    cx.relay(item);
                }
            }),
        }
    }
}
