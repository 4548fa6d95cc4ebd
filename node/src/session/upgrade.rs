//! The upgrade from polling to WebSocket.
//!
//! A WebSocket for a polling session is a candidate until the client's `5`.
//! It must start with `2probe` (answered `3probe`, and a parked GET is
//! released with a noop so the client can pause polling). Anything else, its
//! close, or upgradeTimeout abandons it, and the session goes on polling.
//!
//! The WebSocket may also have landed on another node, which claims the
//! upgrade (see `handover/`): then the candidate is that node, the probe is
//! answered there, and this session only pauses polling for it.

use actix::{AsyncContext, Context, SpawnHandle};
use switchyard_gateway::{WsLink, WsOut};
use switchyard_shared::engine::{DecodeError, Frame, Packet, Transport};
use tracing::debug;

use super::{actor::Active, polling::NOOP, SessionActor};
use crate::ops::metrics;

/// Where the WebSocket that wants the session is.
pub(crate) enum Candidate {
    /// On this node.
    Local(WsLink),
    /// On another node, which will take the session over.
    Remote(String),
}

/// The WebSocket that wants to take over a polling session.
pub(crate) struct Upgrade {
    /// The candidate WebSocket.
    pub(crate) candidate: Candidate,
    /// Whether `2probe` has been answered; from then on GETs get a noop.
    pub(crate) probed: bool,
    /// The upgradeTimeout timer.
    pub(crate) timeout: SpawnHandle,
}

impl SessionActor {
    /// A WebSocket arrived for this session: it becomes the candidate, unless
    /// the session cannot upgrade or already has one.
    pub(super) fn on_attach(&mut self, link: WsLink, ctx: &mut Context<Self>) {
        if !self.can_upgrade() {
            debug!(link = link.id, "upgrade refused");
            let _ = link.outbound.try_send(WsOut::Close);
            return;
        }
        self.start_upgrade(Candidate::Local(link), ctx);
    }

    /// Whether a WebSocket may take over this session now.
    pub(super) fn can_upgrade(&self) -> bool {
        self.config.websocket_enabled
            && !self.is_closing()
            && self.upgrade.is_none()
            && self.handover.is_settled()
            && matches!(self.active, Active::Polling(_))
    }

    /// Makes `candidate` the upgrade in progress, until upgradeTimeout.
    pub(super) fn start_upgrade(&mut self, candidate: Candidate, ctx: &mut Context<Self>) {
        let timeout = ctx.run_later(self.config.upgrade_timeout, |act, ctx| {
            let _enter = act.span.clone().entered();
            debug!("upgrade timed out");
            act.abandon_upgrade(ctx);
        });
        self.upgrade = Some(Upgrade {
            candidate,
            probed: false,
            timeout,
        });
    }

    /// The candidate answered the probe: a parked GET is released so the
    /// client can pause polling. With packets buffered, the flush after
    /// this request does it.
    pub(super) fn on_probed(&mut self) {
        if let Some(upgrade) = self.upgrade.as_mut() {
            upgrade.probed = true;
        }
        if self.outbox.is_empty() {
            if let Some(reply) = self.take_parked() {
                let _ = reply.send(Ok(NOOP));
            }
        }
    }

    /// A frame on a socket that is not the active transport.
    pub(super) fn on_upgrade_frame(
        &mut self,
        link: u64,
        decoded: Result<Packet, DecodeError>,
        ctx: &mut Context<Self>,
    ) {
        let Some(candidate) = self.local_candidate(link) else {
            return;
        };
        match decoded {
            Ok(Packet::Ping(data)) if &*data == "probe" => {
                let pong = WsOut::Frame(Packet::Pong(data).encode());
                if candidate.outbound.try_send(pong).is_err() {
                    self.abandon_upgrade(ctx);
                    return;
                }
                self.on_probed();
            }
            Ok(Packet::Upgrade) => self.complete_upgrade(ctx),
            _ => self.abandon_upgrade(ctx),
        }
    }

    /// The client sent `5`: the WebSocket becomes the transport, and what was
    /// buffered for polling goes out on it, in order.
    fn complete_upgrade(&mut self, ctx: &mut Context<Self>) {
        let Some(upgrade) = self.upgrade.take() else {
            return;
        };
        ctx.cancel_future(upgrade.timeout);
        let Candidate::Local(link) = upgrade.candidate else {
            return;
        };
        if let Some(reply) = self.take_parked() {
            let _ = reply.send(Ok(NOOP));
        }
        metrics::session_moved(Transport::Polling, Transport::WebSocket);
        metrics::upgrade();
        self.active = Active::WebSocket(link);
        let pending: Vec<Frame> = self.outbox.drain().collect();
        for frame in pending {
            self.send(frame, ctx);
        }
        debug!("upgraded to websocket");
    }

    /// The candidate socket closed on its own.
    pub(super) fn on_upgrade_closed(&mut self, link: u64, ctx: &mut Context<Self>) {
        if self.local_candidate(link).is_some() {
            self.abandon_upgrade(ctx);
        }
    }

    /// The candidate WebSocket, if it is on this node and is `link`.
    fn local_candidate(&self, link: u64) -> Option<&WsLink> {
        match self.upgrade.as_ref().map(|u| &u.candidate) {
            Some(Candidate::Local(candidate)) if candidate.id == link => Some(candidate),
            _ => None,
        }
    }

    /// Drops the candidate socket, if any; the session goes on polling.
    pub(super) fn abandon_upgrade(&mut self, ctx: &mut Context<Self>) {
        if let Some(upgrade) = self.upgrade.take() {
            ctx.cancel_future(upgrade.timeout);
            if let Candidate::Local(link) = upgrade.candidate {
                let _ = link.outbound.try_send(WsOut::Close);
            }
        }
    }
}
