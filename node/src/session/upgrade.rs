//! The upgrade from polling to WebSocket.
//!
//! A WebSocket for a polling session is a candidate until the client's `5`.
//! It must start with `2probe` (answered `3probe`, and a parked GET is
//! released with a noop so the client can pause polling). Anything else, its
//! close, or upgradeTimeout abandons it, and the session goes on polling.

use actix::{AsyncContext, Context, SpawnHandle};
use switchyard_gateway::{WsLink, WsOut};
use switchyard_shared::engine::{DecodeError, Frame, Packet, Transport};
use tracing::debug;

use super::{actor::Active, polling::NOOP, SessionActor};
use crate::ops::metrics;

/// The WebSocket that wants to take over a polling session.
pub(crate) struct Upgrade {
    /// The candidate WebSocket.
    pub(crate) link: WsLink,
    /// Whether `2probe` has been answered; from then on GETs get a noop.
    pub(crate) probed: bool,
    /// The upgradeTimeout timer.
    timeout: SpawnHandle,
}

impl SessionActor {
    /// A WebSocket arrived for this session: it becomes the candidate, unless
    /// the session cannot upgrade or already has one.
    pub(super) fn on_attach(&mut self, link: WsLink, ctx: &mut Context<Self>) {
        let can_upgrade = self.config.websocket_enabled
            && !self.is_closing()
            && self.upgrade.is_none()
            && matches!(self.active, Active::Polling(_));
        if !can_upgrade {
            debug!(link = link.id, "upgrade refused");
            let _ = link.outbound.try_send(WsOut::Close);
            return;
        }
        let timeout = ctx.run_later(self.config.upgrade_timeout, |act, ctx| {
            let _enter = act.span.clone().entered();
            debug!("upgrade timed out");
            act.abandon_upgrade(ctx);
        });
        self.upgrade = Some(Upgrade {
            link,
            probed: false,
            timeout,
        });
    }

    /// A frame on a socket that is not the active transport.
    pub(super) fn on_upgrade_frame(
        &mut self,
        link: u64,
        decoded: Result<Packet, DecodeError>,
        ctx: &mut Context<Self>,
    ) {
        let Some(upgrade) = self.upgrade.as_mut().filter(|u| u.link.id == link) else {
            return;
        };
        match decoded {
            Ok(Packet::Ping(data)) if &*data == "probe" => {
                let pong = WsOut::Frame(Packet::Pong(data).encode());
                if upgrade.link.outbound.try_send(pong).is_err() {
                    self.abandon_upgrade(ctx);
                    return;
                }
                upgrade.probed = true;
                // Release a parked GET. With packets buffered, the flush
                // after this request does it.
                if self.outbox.is_empty() {
                    if let Some(reply) = self.take_parked() {
                        let _ = reply.send(Ok(NOOP));
                    }
                }
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
        if let Some(reply) = self.take_parked() {
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

    /// The candidate socket closed on its own.
    pub(super) fn on_upgrade_closed(&mut self, link: u64, ctx: &mut Context<Self>) {
        if self.upgrade.as_ref().is_some_and(|u| u.link.id == link) {
            self.abandon_upgrade(ctx);
        }
    }

    /// Drops the candidate socket, if any; the session goes on polling.
    pub(super) fn abandon_upgrade(&mut self, ctx: &mut Context<Self>) {
        if let Some(upgrade) = self.upgrade.take() {
            ctx.cancel_future(upgrade.timeout);
            let _ = upgrade.link.outbound.try_send(WsOut::Close);
        }
    }
}
