//! Subscribing an actor to a subject of the bus.

use std::{sync::Arc, time::Duration};

use actix::{fut::wrap_future, Actor, ActorFutureExt, AsyncContext, Context, StreamHandler};
use tracing::warn;

use super::{ClusterBus, Inbound};

/// How long to wait before trying a refused subscription again.
const RETRY: Duration = Duration::from_secs(1);

/// Subscribes `actor` to `subject`: its messages arrive through the actor's
/// `StreamHandler<Inbound>`, until the actor stops (which unsubscribes). A
/// refused subscription is tried again every second.
pub(crate) fn subscribe_actor<A>(bus: Arc<dyn ClusterBus>, subject: String, ctx: &mut Context<A>)
where
    A: Actor<Context = Context<A>> + StreamHandler<Inbound>,
{
    let subscription = bus.subscribe(subject.clone());
    ctx.spawn(
        wrap_future::<_, A>(subscription).map(move |result, _, ctx| match result {
            Ok(stream) => {
                ctx.add_stream(stream);
            }
            Err(error) => {
                warn!(%error, %subject, "cannot subscribe; retrying");
                ctx.run_later(RETRY, move |_, ctx| subscribe_actor(bus, subject, ctx));
            }
        }),
    );
}
