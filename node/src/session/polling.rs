//! The session's long-polling side: GETs and POSTs.

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bytes::Bytes;
use switchyard_gateway::session::{BodyError, PollReply};
use switchyard_shared::engine::{decode_payload, EngineError};
use tokio::sync::oneshot;
use tracing::debug;

use super::{
    actor::{Active, NotFromClient},
    close::CloseReason,
    SessionActor,
};
use crate::ops::metrics;

/// A polling payload that says "nothing for you": releases a parked GET.
pub(super) const NOOP: Bytes = Bytes::from_static(b"6");
/// A polling payload that tells the client the server closed the session.
pub(super) const CLOSE: Bytes = Bytes::from_static(b"1");

impl SessionActor {
    /// A GET: answered with what is buffered, or parked until there is some.
    pub(super) fn on_poll(&mut self, reply: oneshot::Sender<PollReply>, ctx: &mut Context<Self>) {
        metrics::polling_request("poll");
        let probed = self.upgrade.as_ref().is_some_and(|u| u.probed);
        let Active::Polling(parked) = &mut self.active else {
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

    /// A POST: refused if another is in flight, else handled once its body is read.
    pub(super) fn on_post(
        &mut self,
        body: oneshot::Receiver<Result<Bytes, BodyError>>,
        reply: oneshot::Sender<Result<(), EngineError>>,
        ctx: &mut Context<Self>,
    ) {
        metrics::polling_request("post");
        if !matches!(self.active, Active::Polling(_)) {
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
            // Nothing to handle; the edge answers 413 (or no one) once told
            // that the POST is over.
            Err(BodyError::TooLarge | BodyError::Aborted) => Ok(Vec::new()),
            // The edge answers 408; the session goes on.
            Err(BodyError::TimedOut) => {
                metrics::limit_reached("body_timeout");
                Ok(Vec::new())
            }
            Err(BodyError::BinaryContent) => Err(NotFromClient),
            Ok(body) => {
                metrics::bytes_in(body.len());
                decode_payload(body)
            }
            .map_err(|error| {
                debug!(%error, "bad polling payload");
                NotFromClient
            }),
        };
        let handled = packets.and_then(|packets| {
            for packet in packets {
                if self.is_closing() {
                    break;
                }
                self.on_packet(packet, ctx)?;
            }
            Ok(())
        });
        if handled.is_ok() {
            let _ = reply.send(Ok(()));
        } else {
            let _ = reply.send(Err(EngineError::BadRequest));
            self.close(CloseReason::ParseError, ctx);
        }
    }
}
