//! The old owner's side of a move: granting the claim, handing the state
//! over, letting go, and the tombstone that relays stragglers.

use actix::{AsyncContext, Context};
use switchyard_shared::{
    cluster::{PeerBody, SessionSnapshot},
    engine::{EngineError, Frame},
};
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::Handover;
use crate::session::{
    close::CloseReason,
    polling::NOOP,
    upgrade::{Candidate, Upgrade},
    SessionActor,
};

/// The answer to a request that makes no sense in the session's state.
fn refused() -> PeerBody {
    PeerBody::Refused(EngineError::BadRequest.code())
}

impl SessionActor {
    /// Another node speaks about this session.
    pub(in crate::session) fn on_peer(
        &mut self,
        from: String,
        body: PeerBody,
        reply: Option<oneshot::Sender<PeerBody>>,
        ctx: &mut Context<Self>,
    ) {
        let answer = match body {
            PeerBody::Claim => Some(self.on_claim(from, ctx)),
            PeerBody::Probed => {
                if self.remote_candidate_is(&from) {
                    self.on_probed();
                }
                None
            }
            PeerBody::Take => Some(self.on_take(from, ctx)),
            PeerBody::Release => Some(self.on_release(&from, ctx)),
            PeerBody::Abort { imported } => {
                self.on_abort(&from, imported, ctx);
                None
            }
            PeerBody::Relay(item) => {
                self.on_relayed(&from, item, ctx);
                None
            }
            _ => Some(refused()),
        };
        if let (Some(reply), Some(answer)) = (reply, answer) {
            let _ = reply.send(answer);
        }
    }

    /// Node `from` has the client's WebSocket and wants the upgrade.
    fn on_claim(&mut self, from: String, ctx: &mut Context<Self>) -> PeerBody {
        if self.peers.is_none() || !self.can_upgrade() {
            return refused();
        }
        debug!(to = %from, "upgrade claimed by another node");
        self.start_upgrade(Candidate::Remote(from), ctx);
        PeerBody::Accepted
    }

    fn remote_candidate_is(&self, node: &str) -> bool {
        matches!(
            self.upgrade.as_ref().map(|u| &u.candidate),
            Some(Candidate::Remote(candidate)) if candidate == node
        )
    }

    /// The client sent `5` to node `from`: hand the session over.
    fn on_take(&mut self, from: String, ctx: &mut Context<Self>) -> PeerBody {
        if !self.remote_candidate_is(&from) {
            return refused();
        }
        let Some(app) = self.app.export() else {
            warn!("this app cannot move to another node; the upgrade fails");
            self.abandon_upgrade(ctx);
            return refused();
        };
        if let Some(Upgrade { timeout, .. }) = self.upgrade.take() {
            ctx.cancel_future(timeout);
        }
        if let Some(reply) = self.take_parked() {
            let _ = reply.send(Ok(NOOP));
        }
        let (next_ping_ms, pong_due_ms) = self.stop_heartbeat(ctx);
        let outbox: Vec<Frame> = self.outbox.drain().collect();
        let patience = self
            .peers
            .as_ref()
            .map_or(self.config.upgrade_timeout, |p| p.timeout() * 2);
        let timer = ctx.run_later(patience, |act, ctx| {
            let _enter = act.span.clone().entered();
            warn!("the node taking the session never confirmed; closing it");
            act.handover = Handover::Settled;
            act.close(CloseReason::TransportClose, ctx);
        });
        self.handover = Handover::Moving {
            to: from,
            held: Vec::new(),
            timer,
        };
        PeerBody::Snapshot(SessionSnapshot {
            query: self.info.query.clone(),
            headers: self.info.headers.clone(),
            address: self.info.address.clone(),
            url: self.info.url.clone(),
            secure: self.info.secure,
            outbox,
            next_ping_ms,
            pong_due_ms,
            app,
        })
    }

    /// The new node hears the session's broadcasts: let go, and become a
    /// tombstone that points there.
    fn on_release(&mut self, from: &str, ctx: &mut Context<Self>) -> PeerBody {
        let Handover::Moving { to, .. } = &self.handover else {
            return refused();
        };
        if to != from {
            return refused();
        }
        let Handover::Moving { to, held, timer } =
            std::mem::replace(&mut self.handover, Handover::Settled)
        else {
            return refused();
        };
        ctx.cancel_future(timer);
        self.app.release();
        debug!(to = %to, held = held.len(), "session moved away");
        self.set_counted(false);
        self.peer = Some(to);
        self.handover = Handover::Moved;
        // Long enough for any straggler: a client that is not heard from
        // within a heartbeat is gone anyway.
        let ttl = self.config.ping_interval + self.config.ping_timeout;
        ctx.run_later(ttl, |act, ctx| act.stop_quietly(ctx));
        PeerBody::Relayed(held)
    }

    /// The node that claimed the session gave up.
    fn on_abort(&mut self, from: &str, imported: bool, ctx: &mut Context<Self>) {
        if self.remote_candidate_is(from) {
            self.abandon_upgrade(ctx);
            return;
        }
        if !matches!(&self.handover, Handover::Moving { to, .. } if to == from) {
            return;
        }
        debug!(imported, "the node taking the session gave up");
        if imported {
            // The other node rebuilt the sockets and ran their disconnect
            // handlers: they must not run twice.
            self.abandon_handover(ctx);
            self.app.release();
            self.stop_quietly(ctx);
        } else {
            self.abandon_handover(ctx);
            self.close(CloseReason::TransportClose, ctx);
        }
    }

    /// A relay from the session's other half.
    fn on_relayed(
        &mut self,
        from: &str,
        item: switchyard_shared::cluster::RelayItem,
        ctx: &mut Context<Self>,
    ) {
        if let Handover::Incoming(incoming) = &mut self.handover {
            if incoming.owner == from && incoming.hold_relay(item) {
                return;
            }
            self.fail_incoming("relay", ctx);
            return;
        }
        if self.peer.as_deref() == Some(from) {
            self.run_app(ctx, |app, cx| app.on_relay(item, cx));
        }
    }

    /// Ends a move in progress, if any, without closing the session.
    pub(in crate::session) fn abandon_handover(&mut self, ctx: &mut Context<Self>) {
        if let Handover::Moving { timer, .. } = &self.handover {
            ctx.cancel_future(*timer);
            self.handover = Handover::Settled;
        }
    }
}
