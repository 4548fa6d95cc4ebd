//! Forwarding polling requests between nodes.
//!
//! [`BusForwarder`] is the gateway's [`Forwarder`]: one bus request to the
//! owner's subject per HTTP request. [`ForwardServer`] is the owner's side:
//! it hands each forwarded request to the local session, as if it had
//! arrived over HTTP, and sends back the session's answer.

use std::time::{Duration, Instant};

use actix::{Actor, Addr, AsyncContext, Context, StreamHandler, WrapFuture};
use bytes::Bytes;
use switchyard_gateway::{
    forward::ForwardFuture, gateway_actor::Route, session::BodyError, EndpointId, ForwardError,
    Forwarder, GatewayActor, SessionRequest,
};
use switchyard_shared::{
    cluster::{ForwardKind, ForwardReply, ForwardRequest},
    sid::Sid,
};
use tokio::sync::oneshot;
use tracing::warn;

use super::{
    subscribe::{subscribe_actor, Subscriber},
    BusError, Cluster, Inbound, Members,
};
use crate::ops::metrics;

/// Sends polling requests to their owner over the bus.
pub struct BusForwarder {
    cluster: Cluster,
    members: Members,
    /// How long a forwarded GET may wait: the owner parks it up to a ping interval.
    poll_timeout: Duration,
    /// How long a forwarded POST may take.
    post_timeout: Duration,
}

impl BusForwarder {
    /// A forwarder over `cluster`, checking owners against `members`.
    pub fn new(
        cluster: Cluster,
        members: Members,
        ping_interval: Duration,
        request_timeout: Duration,
    ) -> Self {
        Self {
            cluster,
            members,
            poll_timeout: ping_interval + request_timeout,
            post_timeout: request_timeout,
        }
    }
}

impl Forwarder for BusForwarder {
    fn forward(&self, owner: &str, request: ForwardRequest) -> ForwardFuture {
        let (kind, timeout) = match request.kind {
            ForwardKind::Poll => ("poll", self.poll_timeout),
            ForwardKind::Post { .. } => ("post", self.post_timeout),
        };
        // A node that missed its heartbeats is gone, even if NATS has not
        // noticed yet.
        if !self.members.is_live(owner) {
            return Box::pin(async { Err(ForwardError::UnknownOwner) });
        }
        let subject = self.cluster.subjects.node_engine(owner);
        let bus = self.cluster.bus.clone();
        Box::pin(async move {
            let started = Instant::now();
            let answer = bus.request(subject, request.encode(), timeout).await;
            metrics::forwarded(kind, started.elapsed().as_secs_f64());
            match answer {
                Ok(payload) => ForwardReply::decode(payload).map_err(|error| {
                    ForwardError::Unavailable(format!("bad answer from the owner: {error}"))
                }),
                Err(BusError::NoResponders(_)) => Err(ForwardError::UnknownOwner),
                Err(error) => Err(ForwardError::Unavailable(error.to_string())),
            }
        })
    }
}

/// Serves the requests other nodes forward to this one.
pub struct ForwardServer {
    cluster: Cluster,
    gateway: Addr<GatewayActor>,
}

impl ForwardServer {
    /// Serves this node's engine subject, routing through `gateway`.
    pub fn new(cluster: Cluster, gateway: Addr<GatewayActor>) -> Self {
        Self { cluster, gateway }
    }
}

impl Actor for ForwardServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.cluster.has_peers() {
            let subject = self
                .cluster
                .subjects
                .node_engine(self.cluster.node.as_str());
            subscribe_actor(self.cluster.bus.clone(), subject, ctx);
        }
    }
}

impl Subscriber for ForwardServer {}

impl StreamHandler<Inbound> for ForwardServer {
    fn handle(&mut self, inbound: Inbound, ctx: &mut Context<Self>) {
        let Some(reply_to) = inbound.reply else {
            return;
        };
        let bus = self.cluster.bus.clone();
        let answer = match ForwardRequest::decode(inbound.payload) {
            Ok(request) => serve(&self.gateway, request),
            Err(error) => {
                warn!(%error, "undecodable forwarded request");
                return;
            }
        };
        ctx.spawn(
            async move {
                bus.reply(reply_to, answer.await.encode());
            }
            .into_actor(self),
        );
    }
}

/// Hands a forwarded request to the local session and awaits its answer.
fn serve(
    gateway: &Addr<GatewayActor>,
    request: ForwardRequest,
) -> impl std::future::Future<Output = ForwardReply> {
    let sid = Sid::parse(&request.sid);
    let endpoint = EndpointId(request.endpoint);
    let (poll, post) = match (sid, request.kind) {
        (Err(_), _) => (None, None),
        (Ok(sid), ForwardKind::Poll) => {
            let (reply, answer) = oneshot::channel();
            gateway.do_send(Route {
                sid,
                endpoint,
                request: SessionRequest::Poll(reply),
            });
            (Some(answer), None)
        }
        (
            Ok(sid),
            ForwardKind::Post {
                body,
                binary_content,
            },
        ) => {
            let (body_tx, body_rx) = oneshot::channel();
            let (reply, answer) = oneshot::channel();
            gateway.do_send(Route {
                sid,
                endpoint,
                request: SessionRequest::Post {
                    body: body_rx,
                    reply,
                },
            });
            let body: Result<Bytes, BodyError> = if binary_content {
                Err(BodyError::BinaryContent)
            } else {
                Ok(body)
            };
            let _ = body_tx.send(body);
            (None, Some(answer))
        }
    };
    let unknown = ForwardReply::Refused(switchyard_shared::engine::EngineError::UnknownSid.code());
    async move {
        if let Some(answer) = poll {
            return match answer.await {
                Ok(Ok(payload)) => ForwardReply::Polled(payload),
                Ok(Err(error)) => ForwardReply::Refused(error.code()),
                Err(_) => unknown,
            };
        }
        if let Some(answer) = post {
            return match answer.await {
                Ok(Ok(())) => ForwardReply::Posted,
                Ok(Err(error)) => ForwardReply::Refused(error.code()),
                Err(_) => unknown,
            };
        }
        unknown
    }
}
