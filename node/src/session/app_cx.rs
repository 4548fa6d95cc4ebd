//! What an app may do from inside its session's actor.

use std::{future::Future, time::Duration};

use actix::{fut::wrap_future, ActorFutureExt, Addr, AsyncContext, Context, SpawnHandle};
use switchyard_shared::{cluster::RelayItem, engine::Frame};

use super::{CloseReason, SessionActor};
use crate::socketio::SocketCommand;

/// The app's view of its session while it handles one event.
///
/// Frames it sends go out after the call returns, in order; so does a close.
pub struct AppCx<'a> {
    pub(super) out: &'a mut Vec<Frame>,
    pub(super) ctx: &'a mut Context<SessionActor>,
    pub(super) close: Option<CloseReason>,
    pub(super) writable: bool,
    pub(super) relays: Vec<RelayItem>,
}

impl AppCx<'_> {
    /// Sends an encoded frame to the client.
    pub fn send(&mut self, frame: Frame) {
        self.out.push(frame);
    }

    /// Sends several frames, in order (a packet and its attachments).
    pub fn send_all(&mut self, frames: &[Frame]) {
        self.out.extend_from_slice(frames);
    }

    /// Whether the transport could take a packet right now; volatile packets
    /// are dropped when it cannot.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The session's own address, for handles that outlive this call.
    pub fn session(&self) -> Addr<SessionActor> {
        self.ctx.address()
    }

    /// Delivers `command` to the app after `delay`, unless cancelled.
    pub fn later(&mut self, delay: Duration, command: SocketCommand) -> SpawnHandle {
        self.ctx.run_later(delay, move |session, ctx| {
            session.run_app(ctx, |app, cx| app.on_command(command, cx));
        })
    }

    /// Cancels a [`AppCx::later`].
    pub fn cancel(&mut self, handle: SpawnHandle) {
        self.ctx.cancel_future(handle);
    }

    /// Runs `work` on the session's thread and delivers its result to the app.
    pub fn spawn(&mut self, work: impl Future<Output = SocketCommand> + 'static) {
        self.ctx.spawn(
            wrap_future::<_, SessionActor>(work).map(|command, session, ctx| {
                session.run_app(ctx, |app, cx| app.on_command(command, cx));
            }),
        );
    }

    /// Sends an item to the session's other half on another node (the node
    /// it moved to, or the tombstone it left), once this call returns.
    /// Dropped if the session never moved.
    pub fn relay(&mut self, item: RelayItem) {
        self.relays.push(item);
    }

    /// Closes the whole engine.io session once this call returns.
    pub fn close(&mut self, reason: CloseReason) {
        self.close.get_or_insert(reason);
    }
}
