//! The heartbeat: the server pings every pingInterval and expects a pong
//! within pingTimeout, or it closes the session.
//!
//! The timers' deadlines are kept, so that a session moving to another node
//! carries its heartbeat with it and the client never sees a gap.

use std::time::{Duration, Instant};

use actix::{AsyncContext, Context, SpawnHandle};
use bytestring::ByteString;
use switchyard_shared::engine::Frame;

use super::{close::CloseReason, SessionActor};

/// The server's ping, encoded once.
const PING: Frame = Frame::Text(ByteString::from_static("2"));

/// The heartbeat's timers and their deadlines.
#[derive(Default)]
pub(super) struct Heartbeat {
    /// The timer that sends the next ping, and when it fires.
    next_ping: Option<(SpawnHandle, Instant)>,
    /// The pong deadline of an unanswered ping, and when it passes.
    pong_due: Option<(SpawnHandle, Instant)>,
}

impl SessionActor {
    /// Sends the next ping after pingInterval, then starts the pong deadline.
    pub(super) fn schedule_ping(&mut self, ctx: &mut Context<Self>) {
        self.schedule_ping_in(self.config.ping_interval, ctx);
    }

    fn schedule_ping_in(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        let timer = ctx.run_later(delay, |act, ctx| {
            let _enter = act.span.clone().entered();
            act.heartbeat.next_ping = None;
            act.send(PING, ctx);
            act.flush();
            act.await_pong(act.config.ping_timeout, ctx);
        });
        self.heartbeat.next_ping = Some((timer, Instant::now() + delay));
    }

    fn await_pong(&mut self, within: Duration, ctx: &mut Context<Self>) {
        let deadline = ctx.run_later(within, |act, ctx| {
            act.close(CloseReason::PingTimeout, ctx);
        });
        self.heartbeat.pong_due = Some((deadline, Instant::now() + within));
    }

    /// A pong answers the outstanding ping; an unasked-for pong is ignored.
    pub(super) fn on_pong(&mut self, ctx: &mut Context<Self>) {
        if let Some((deadline, _)) = self.heartbeat.pong_due.take() {
            ctx.cancel_future(deadline);
            self.schedule_ping(ctx);
        }
    }

    /// Stops the heartbeat and says where it was: milliseconds to the next
    /// ping, and to the pong deadline if a ping is unanswered.
    pub(super) fn stop_heartbeat(&mut self, ctx: &mut Context<Self>) -> (u64, Option<u64>) {
        let left = |at: Instant| {
            u64::try_from(at.saturating_duration_since(Instant::now()).as_millis())
                .unwrap_or(u64::MAX)
        };
        let next_ping = self.heartbeat.next_ping.take().map(|(timer, at)| {
            ctx.cancel_future(timer);
            left(at)
        });
        let pong_due = self.heartbeat.pong_due.take().map(|(timer, at)| {
            ctx.cancel_future(timer);
            left(at)
        });
        (next_ping.unwrap_or(0), pong_due)
    }

    /// Goes on with a heartbeat that [`SessionActor::stop_heartbeat`] stopped
    /// (here or on the node the session came from).
    pub(super) fn resume_heartbeat(
        &mut self,
        next_ping_ms: u64,
        pong_due_ms: Option<u64>,
        ctx: &mut Context<Self>,
    ) {
        // Never later than a fresh session would ping, whatever a peer says.
        let cap = |ms: u64, limit: Duration| Duration::from_millis(ms).min(limit);
        match pong_due_ms {
            Some(ms) => self.await_pong(cap(ms, self.config.ping_timeout), ctx),
            None => self.schedule_ping_in(cap(next_ping_ms, self.config.ping_interval), ctx),
        }
    }
}
