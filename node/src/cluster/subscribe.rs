//! Subscribing an actor to a subject of the bus.

use std::{sync::Arc, time::Duration};

use actix::{fut::wrap_future, Actor, ActorFutureExt, AsyncContext, Context, StreamHandler};
use tracing::warn;

use super::{ClusterBus, Inbound};

/// An actor that receives a subject's messages as a stream.
pub(crate) trait Subscriber:
    Actor<Context = Context<Self>> + StreamHandler<Inbound>
{
    /// The subscription is in place on this node's bus connection (see
    /// [`ClusterBus::sync`] for when the server has it too).
    fn subscribed(&mut self, _ctx: &mut Context<Self>) {}
}

/// How long to wait before trying a refused subscription again.
const RETRY: Duration = Duration::from_secs(1);

/// Subscribes `actor` to `subject`: its messages arrive through the actor's
/// `StreamHandler<Inbound>`, until the actor stops (which unsubscribes). A
/// refused subscription is tried again every second.
pub(crate) fn subscribe_actor<A>(bus: Arc<dyn ClusterBus>, subject: String, ctx: &mut Context<A>)
where
    A: Subscriber,
{
    let subscription = bus.subscribe(subject.clone());
    ctx.spawn(
        wrap_future::<_, A>(subscription).map(move |result, act, ctx| match result {
            Ok(stream) => {
                ctx.add_stream(stream);
                act.subscribed(ctx);
            }
            Err(error) => {
                warn!(%error, %subject, "cannot subscribe; retrying");
                ctx.run_later(RETRY, move |_, ctx| subscribe_actor(bus, subject, ctx));
            }
        }),
    );
}
