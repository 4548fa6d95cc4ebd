//! The heartbeat: the server pings every pingInterval and expects a pong
//! within pingTimeout, or it closes the session.

use actix::{AsyncContext, Context};
use bytestring::ByteString;
use switchyard_shared::engine::Frame;

use super::{close::CloseReason, SessionActor};

/// The server's ping, encoded once.
const PING: Frame = Frame::Text(ByteString::from_static("2"));

impl SessionActor {
    /// Sends the next ping after pingInterval, then starts the pong deadline.
    pub(super) fn schedule_ping(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(self.config.ping_interval, |act, ctx| {
            let _enter = act.span.clone().entered();
            act.send(PING, ctx);
            act.flush();
            let deadline = ctx.run_later(act.config.ping_timeout, |act, ctx| {
                act.close(CloseReason::PingTimeout, ctx);
            });
            act.pong_deadline = Some(deadline);
        });
    }

    /// A pong answers the outstanding ping; an unasked-for pong is ignored.
    pub(super) fn on_pong(&mut self, ctx: &mut Context<Self>) {
        if let Some(deadline) = self.pong_deadline.take() {
            ctx.cancel_future(deadline);
            self.schedule_ping(ctx);
        }
    }
}
