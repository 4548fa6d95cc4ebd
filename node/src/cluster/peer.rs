//! Talking about one session with another node: the steps of a WebSocket
//! upgrade handover, and the relays between a moved session and the
//! tombstone it left behind.
//!
//! [`Peers`] is the sending side, held by sessions and the session spawner.
//! [`PeerServer`] is the receiving side: it hands each message to the local
//! session it names, and sends back the session's answer to a request.

use std::time::Duration;

use actix::{Actor, Addr, AsyncContext, Context, StreamHandler, WrapFuture};
use switchyard_gateway::{gateway_actor::Route, EndpointId, GatewayActor, SessionRequest};
use switchyard_shared::{
    cluster::{PeerBody, PeerMessage},
    engine::EngineError,
    sid::Sid,
};
use tokio::sync::oneshot;
use tracing::warn;

use super::{
    subscribe::{subscribe_actor, Subscriber},
    BusError, Cluster, Inbound, Members,
};

/// Sends messages about sessions to other nodes.
#[derive(Clone)]
pub struct Peers {
    cluster: Cluster,
    members: Members,
    timeout: Duration,
}

impl Peers {
    /// Peers over `cluster`; requests wait at most `timeout` for an answer.
    pub fn new(cluster: Cluster, members: Members, timeout: Duration) -> Self {
        Self {
            cluster,
            members,
            timeout,
        }
    }

    /// How long a request may wait; also bounds each handover step.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn message(&self, sid: &Sid, endpoint: EndpointId, body: PeerBody) -> PeerMessage {
        PeerMessage {
            from: self.cluster.node.to_string(),
            sid: sid.to_string(),
            endpoint: endpoint.0,
            body,
        }
    }

    /// Sends `body` to node `to` without waiting; messages from one sender
    /// arrive in order.
    pub fn tell(&self, to: &str, sid: &Sid, endpoint: EndpointId, body: PeerBody) {
        let subject = self.cluster.subjects.node_session(to);
        let payload = self.message(sid, endpoint, body).encode();
        self.cluster.bus.publish(subject, payload);
    }

    /// Asks node `to` and waits for its answer. A node that is not a live
    /// member, or no longer serves its subject, yields `NoResponders`.
    pub fn ask(
        &self,
        to: &str,
        sid: &Sid,
        endpoint: EndpointId,
        body: PeerBody,
    ) -> impl std::future::Future<Output = Result<PeerBody, BusError>> + 'static {
        let subject = self.cluster.subjects.node_session(to);
        let payload = self.message(sid, endpoint, body).encode();
        let bus = self.cluster.bus.clone();
        let live = self.members.is_live(to);
        let (to, timeout) = (to.to_owned(), self.timeout);
        async move {
            if !live {
                return Err(BusError::NoResponders(to));
            }
            let answer = bus.request(subject, payload, timeout).await?;
            PeerMessage::decode(answer)
                .map(|message| message.body)
                .map_err(|error| BusError::Unavailable(format!("bad answer from {to}: {error}")))
        }
    }
}

/// Hands messages about this node's sessions to the sessions.
pub struct PeerServer {
    cluster: Cluster,
    gateway: Addr<GatewayActor>,
}

impl PeerServer {
    /// Serves this node's session subject, routing through `gateway`.
    pub fn new(cluster: Cluster, gateway: Addr<GatewayActor>) -> Self {
        Self { cluster, gateway }
    }
}

impl Actor for PeerServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.cluster.has_peers() {
            let subject = self
                .cluster
                .subjects
                .node_session(self.cluster.node.as_str());
            subscribe_actor(self.cluster.bus.clone(), subject, ctx);
        }
    }
}

impl Subscriber for PeerServer {}

impl StreamHandler<Inbound> for PeerServer {
    fn handle(&mut self, inbound: Inbound, ctx: &mut Context<Self>) {
        let message = match PeerMessage::decode(inbound.payload) {
            Ok(message) => message,
            Err(error) => {
                warn!(%error, "undecodable message about a session");
                return;
            }
        };
        let Ok(sid) = Sid::parse(&message.sid) else {
            return;
        };
        let endpoint = EndpointId(message.endpoint);
        let (reply, answer) = match inbound.reply {
            Some(to) => {
                let (reply, answer) = oneshot::channel();
                (Some(reply), Some((to, answer)))
            }
            None => (None, None),
        };
        self.gateway.do_send(Route {
            sid,
            endpoint,
            request: SessionRequest::Peer {
                from: message.from,
                body: message.body,
                reply,
            },
        });
        let Some((to, answer)) = answer else {
            return;
        };
        let bus = self.cluster.bus.clone();
        let from = self.cluster.node.to_string();
        let sid = message.sid;
        ctx.spawn(
            async move {
                // No session took the request: it does not exist here.
                let body = answer
                    .await
                    .unwrap_or(PeerBody::Refused(EngineError::UnknownSid.code()));
                let message = PeerMessage {
                    from,
                    sid,
                    endpoint: endpoint.0,
                    body,
                };
                bus.reply(to, message.encode());
            }
            .into_actor(self),
        );
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The subscription ends when the bus shuts down; nothing to resume.
    }
}
