//! The API over NATS: one queue subscription per operation, so each request
//! is served by one node of the cluster.

use std::sync::Arc;

use actix::{fut::wrap_future, Actor, ActorFutureExt, AsyncContext, Context, StreamHandler};
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde_json::json;
use tracing::warn;

use super::api::{execute, Operation};
use crate::{cluster::Inbound, socketio::SocketIo};

/// Every node's API subscriptions share this queue group.
const QUEUE_GROUP: &str = "switchyard-api";

/// Serves `<prefix>.api.<op>` requests with the app's handle.
struct ApiServer {
    io: SocketIo,
    headers: Arc<[String]>,
}

/// Starts the API server of a node, if the app runs in a cluster (every
/// node the server builds does).
pub(super) fn start(io: &SocketIo, headers: Arc<[String]>) {
    if io.cluster_ops().is_some() {
        ApiServer {
            io: io.clone(),
            headers,
        }
        .start();
    }
}

impl Actor for ApiServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(ops) = self.io.cluster_ops() else {
            return;
        };
        let cluster = ops.cluster.clone();
        for op in Operation::ALL {
            let subject = cluster.subjects.api(op.name());
            let subscription = cluster
                .bus
                .queue_subscribe(subject.clone(), QUEUE_GROUP.into());
            ctx.spawn(wrap_future::<_, Self>(subscription).map(
                move |result, _, ctx: &mut Context<Self>| match result {
                    Ok(stream) => {
                        ctx.add_stream(stream.map(move |inbound| (op, inbound)));
                    }
                    Err(error) => warn!(%subject, %error, "cannot serve the bridge API here"),
                },
            ));
        }
    }
}

impl StreamHandler<(Operation, Inbound)> for ApiServer {
    fn handle(&mut self, (op, inbound): (Operation, Inbound), _: &mut Context<Self>) {
        let Some(reply_to) = inbound.reply else {
            return;
        };
        let (io, headers) = (self.io.clone(), self.headers.clone());
        actix::spawn(async move {
            let answer = match execute(&io, op, &inbound.payload, &headers).await {
                Ok(answer) => answer,
                Err(error) => json!({ "ok": false, "error": error.to_string() }),
            };
            if let Some(ops) = io.cluster_ops() {
                ops.cluster
                    .bus
                    .reply(reply_to, Bytes::from(answer.to_string()));
            }
        });
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // One operation's subscription ended with the bus; the others go on.
    }
}
