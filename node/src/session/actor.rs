//! The [`SessionActor`]: one engine.io session, its transport and heartbeat.

use std::{sync::Arc, time::Duration};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, SpawnHandle, WrapFuture,
};
use bytes::Bytes;
use bytestring::ByteString;
use switchyard_gateway::{
    gateway_actor::{Register, Unregister},
    session::{BodyError, PollReply},
    EndpointId, GatewayActor, SessionRequest, WsLink, WsOut,
};
use switchyard_shared::{
    engine::{decode_payload, EngineError, Frame, Packet, Transport},
    sid::Sid,
};
use tokio::sync::{mpsc::error::TrySendError, oneshot};
use tracing::{debug, info_span, Span};

use super::{close::CloseReason, outbox::Outbox, parked::ParkedPoll, upgrade::Upgrade};
use crate::{app::EngineApp, ops::metrics};

/// A polling payload that says "nothing for you": releases a parked GET.
const NOOP: Bytes = Bytes::from_static(b"6");
/// A polling payload that tells the client the server closed the session.
const CLOSE: Bytes = Bytes::from_static(b"1");
/// The server's heartbeat ping.
const PING: Frame = Frame::Text(ByteString::from_static("2"));

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
    /// Most packets buffered for a polling client.
    pub max_buffered_packets: usize,
}

/// The client sent a packet only a server may send, or no packet at all.
struct NotFromClient;

/// The transport that currently carries the session.
enum Active {
    /// Long-polling; at most one GET is parked at a time.
    Polling { parked: ParkedPoll },
    /// A WebSocket; frames go straight to its queue.
    WebSocket(WsLink),
}

/// One engine.io session. Everything about it lives here, so nothing on its
/// path needs a lock: the parked GET, the buffered packets, the WebSocket,
/// the heartbeat timers, an upgrade in progress, and the app.
pub struct SessionActor {
    sid: Sid,
    endpoint: EndpointId,
    config: Arc<SessionConfig>,
    gateway: actix::Addr<GatewayActor>,
    app: Box<dyn EngineApp>,
    active: Active,
    outbox: Outbox,
    upgrade: Option<Upgrade>,
    posting: bool,
    pong_deadline: Option<SpawnHandle>,
    closing: bool,
    span: Span,
}

impl SessionActor {
    /// A session that starts on `opening`: polling (`None`) or a WebSocket.
    ///
    /// The open packet is queued first, so it is the first thing the client reads.
    pub fn new(
        sid: Sid,
        endpoint: EndpointId,
        config: Arc<SessionConfig>,
        gateway: actix::Addr<GatewayActor>,
        app: Box<dyn EngineApp>,
        open: Packet,
        websocket: Option<WsLink>,
    ) -> Self {
        let span = info_span!("session", sid = %sid);
        let mut outbox = Outbox::new(config.max_buffered_packets);
        let active = match websocket {
            Some(link) => {
                // A fresh queue always has room for the first frame.
                let _ = link.outbound.try_send(WsOut::Frame(open.encode()));
                Active::WebSocket(link)
            }
            None => {
                let _ = outbox.push(open.encode());
                Active::Polling {
                    parked: ParkedPoll::default(),
                }
            }
        };
        Self {
            sid,
            endpoint,
            config,
            gateway,
            app,
            active,
            outbox,
            upgrade: None,
            posting: false,
            pong_deadline: None,
            closing: false,
            span,
        }
    }

    fn transport(&self) -> Transport {
        match self.active {
            Active::Polling { .. } => Transport::Polling,
            Active::WebSocket(_) => Transport::WebSocket,
        }
    }

    /// Queues a frame on the active transport. Call [`Self::flush`] after.
    fn send(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let result = match &self.active {
            Active::WebSocket(link) => match link.outbound.try_send(WsOut::Frame(frame)) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) => Err(CloseReason::BufferFull),
                Err(TrySendError::Closed(_)) => Err(CloseReason::TransportClose),
            },
            Active::Polling { .. } => self.outbox.push(frame).map_err(|_| CloseReason::BufferFull),
        };
        if let Err(reason) = result {
            self.close(reason, ctx);
        }
    }

    /// Hands buffered packets to a parked GET, if one is waiting.
    fn flush(&mut self) {
        let Active::Polling { parked } = &mut self.active else {
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

    fn on_poll(&mut self, reply: oneshot::Sender<PollReply>, ctx: &mut Context<Self>) {
        let probed = self.upgrade.as_ref().is_some_and(|u| u.probed);
        let Active::Polling { parked } = &mut self.active else {
            let _ = reply.send(Err(EngineError::BadRequest));
            return;
        };
        if parked.is_waiting() {
            let _ = reply.send(Err(EngineError::BadRequest));
            self.close(CloseReason::Overlap, ctx);
            return;
        }
        if !self.outbox.is_empty() {
            if reply.send(Ok(self.outbox.payload())).is_ok() {
                self.outbox.clear();
            }
        } else if probed {
            // The client is about to switch; let it pause polling.
            let _ = reply.send(Ok(NOOP));
        } else {
            parked.park(reply);
        }
    }

    fn on_post(
        &mut self,
        body: oneshot::Receiver<Result<Bytes, BodyError>>,
        reply: oneshot::Sender<Result<(), EngineError>>,
        ctx: &mut Context<Self>,
    ) {
        if !matches!(self.active, Active::Polling { .. }) {
            let _ = reply.send(Err(EngineError::BadRequest));
            return;
        }
        if self.posting {
            let _ = reply.send(Err(EngineError::BadRequest));
            self.close(CloseReason::Overlap, ctx);
            return;
        }
        self.posting = true;
        ctx.spawn(body.into_actor(self).map(move |read, act, ctx| {
            act.posting = false;
            let _enter = act.span.clone().entered();
            act.on_post_body(read.unwrap_or(Err(BodyError::Aborted)), reply, ctx);
            act.flush();
        }));
    }

    fn on_post_body(
        &mut self,
        read: Result<Bytes, BodyError>,
        reply: oneshot::Sender<Result<(), EngineError>>,
        ctx: &mut Context<Self>,
    ) {
        let packets = match read {
            // The edge answers these itself (413, or nobody to answer).
            Err(BodyError::TooLarge | BodyError::Aborted) => return,
            Err(BodyError::BinaryContent) => Err(()),
            Ok(body) => decode_payload(body).map_err(|error| debug!(%error, "bad polling payload")),
        };
        let Ok(packets) = packets else {
            let _ = reply.send(Err(EngineError::BadRequest));
            self.close(CloseReason::ParseError, ctx);
            return;
        };
        for packet in packets {
            if self.closing {
                break;
            }
            if let Err(NotFromClient) = self.on_packet(packet, ctx) {
                let _ = reply.send(Err(EngineError::BadRequest));
                self.close(CloseReason::ParseError, ctx);
                return;
            }
        }
        let _ = reply.send(Ok(()));
    }

    /// A packet from the client on the active transport.
    fn on_packet(&mut self, packet: Packet, ctx: &mut Context<Self>) -> Result<(), NotFromClient> {
        metrics::packet_in();
        match packet {
            Packet::Pong(_) => {
                if let Some(deadline) = self.pong_deadline.take() {
                    ctx.cancel_future(deadline);
                    self.schedule_ping(ctx);
                }
            }
            Packet::Message(data) => {
                let mut out = Vec::new();
                self.app.on_message(data, &mut out);
                for frame in out {
                    self.send(frame, ctx);
                }
            }
            Packet::Close => self.close(CloseReason::ClientClose, ctx),
            Packet::Open(_) => return Err(NotFromClient),
            Packet::Ping(_) | Packet::Upgrade | Packet::Noop => {}
        }
        Ok(())
    }

    fn on_attach(&mut self, link: WsLink, ctx: &mut Context<Self>) {
        let can_upgrade = self.config.websocket_enabled
            && !self.closing
            && self.upgrade.is_none()
            && matches!(self.active, Active::Polling { .. });
        if !can_upgrade {
            debug!(link = link.id, "upgrade refused");
            let _ = link.outbound.try_send(WsOut::Close);
            return;
        }
        let timeout = ctx.run_later(self.config.upgrade_timeout, |act, _| {
            let _enter = act.span.clone().entered();
            debug!("upgrade timed out");
            act.abandon_upgrade();
        });
        self.upgrade = Some(Upgrade {
            link,
            probed: false,
            timeout,
        });
    }

    fn on_frame(&mut self, link: u64, frame: Frame, ctx: &mut Context<Self>) {
        let decoded = Packet::decode_frame(frame);
        if matches!(&self.active, Active::WebSocket(active) if active.id == link) {
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
            return;
        }
        let Some(upgrade) = self.upgrade.as_mut().filter(|u| u.link.id == link) else {
            return;
        };
        match decoded {
            Ok(Packet::Ping(data)) if &*data == "probe" => {
                let pong = WsOut::Frame(Packet::Pong(data).encode());
                if upgrade.link.outbound.try_send(pong).is_err() {
                    self.abandon_upgrade();
                    return;
                }
                upgrade.probed = true;
                // Release a parked GET so the client can pause polling. With
                // packets buffered, the flush after this request does it.
                if self.outbox.is_empty() {
                    if let Some(reply) = reply_take(&mut self.active) {
                        let _ = reply.send(Ok(NOOP));
                    }
                }
            }
            Ok(Packet::Upgrade) => self.complete_upgrade(ctx),
            _ => self.abandon_upgrade(),
        }
    }

    /// The client sent `5`: the WebSocket becomes the transport.
    fn complete_upgrade(&mut self, ctx: &mut Context<Self>) {
        let Some(upgrade) = self.upgrade.take() else {
            return;
        };
        ctx.cancel_future(upgrade.timeout);
        if let Some(reply) = reply_take(&mut self.active) {
            let _ = reply.send(Ok(NOOP));
        }
        metrics::session_moved(Transport::Polling, Transport::WebSocket);
        self.active = Active::WebSocket(upgrade.link);
        let pending: Vec<Frame> = self.outbox.drain().collect();
        for frame in pending {
            self.send(frame, ctx);
        }
        debug!("upgraded to websocket");
    }

    /// Drops a failed upgrade; the session goes on polling.
    fn abandon_upgrade(&mut self) {
        if let Some(upgrade) = self.upgrade.take() {
            let _ = upgrade.link.outbound.try_send(WsOut::Close);
        }
    }

    fn on_closed(&mut self, link: u64, ctx: &mut Context<Self>) {
        if matches!(&self.active, Active::WebSocket(active) if active.id == link) {
            self.close(CloseReason::TransportClose, ctx);
        } else if self.upgrade.as_ref().is_some_and(|u| u.link.id == link) {
            if let Some(upgrade) = self.upgrade.take() {
                ctx.cancel_future(upgrade.timeout);
            }
        }
    }

    fn schedule_ping(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(self.config.ping_interval, |act, ctx| {
            let _enter = act.span.clone().entered();
            act.send(PING, ctx);
            act.flush();
            act.pong_deadline = Some(ctx.run_later(act.config.ping_timeout, |act, ctx| {
                act.close(CloseReason::PingTimeout, ctx);
            }));
        });
    }

    /// Ends the session: releases a parked GET, closes the WebSocket, tells the app.
    fn close(&mut self, reason: CloseReason, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.closing = true;
        debug!(parent: &self.span, reason = reason.as_str(), "session closed");
        match &self.active {
            Active::Polling { .. } => {
                // The client asked to close: its GET just ends. Otherwise tell it.
                let last = if reason == CloseReason::ClientClose {
                    NOOP
                } else {
                    CLOSE
                };
                if let Some(reply) = reply_take(&mut self.active) {
                    let _ = reply.send(Ok(last));
                }
            }
            Active::WebSocket(link) => {
                let _ = link.outbound.try_send(WsOut::Close);
            }
        }
        self.abandon_upgrade();
        self.app.on_close(reason.as_str());
        metrics::session_closed(reason);
        ctx.stop();
    }
}

/// Takes the parked GET, if the session is polling and one is parked.
fn reply_take(active: &mut Active) -> Option<oneshot::Sender<PollReply>> {
    match active {
        Active::Polling { parked } => parked.take(),
        Active::WebSocket(_) => None,
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
        metrics::session_opened(self.transport());
        self.schedule_ping(ctx);
        debug!(parent: &self.span, transport = self.transport().as_str(), "session opened");
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.gateway.do_send(Unregister {
            sid: self.sid.clone(),
        });
        metrics::session_ended(self.transport());
    }
}

impl Handler<SessionRequest> for SessionActor {
    type Result = ();

    fn handle(&mut self, request: SessionRequest, ctx: &mut Context<Self>) {
        let _enter = self.span.clone().entered();
        match request {
            SessionRequest::Poll(reply) => self.on_poll(reply, ctx),
            SessionRequest::Post { body, reply } => self.on_post(body, reply, ctx),
            SessionRequest::AttachWebSocket(link) => self.on_attach(link, ctx),
            SessionRequest::WebSocketFrame { link, frame } => self.on_frame(link, frame, ctx),
            SessionRequest::WebSocketClosed { link } => self.on_closed(link, ctx),
        }
        self.flush();
    }
}
