//! [`SocketIo`]: the app as a whole, and the server-side handle on it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix::Addr;
use switchyard_gateway::{AllowRequest, HandshakeInfo};
use switchyard_shared::socket::Payload;

use super::{
    broadcast::BroadcastOperator,
    client::SocketIoClient,
    namespace::Namespace,
    server_event::{ServerAck, ServerEventHandler},
    SocketLimits,
};
use crate::{app::AppMaker, cluster::ClusterOps, room::RoomRegistry};

/// Most binary attachments one packet may carry.
pub(crate) const MAX_ATTACHMENTS: usize = 64;

/// Runs once an app is bound to its node; see [`SocketIoBuilder::on_start`].
pub type StartHandler = Arc<dyn Fn(&SocketIo) + Send + Sync>;

/// A socket.io app under construction: its namespaces.
#[derive(Clone, Default)]
pub struct SocketIoBuilder {
    namespaces: Vec<Namespace>,
    server_events: HashMap<String, ServerEventHandler>,
    cluster: Option<ClusterOps>,
    on_start: Vec<StartHandler>,
    limits: SocketLimits,
    allow_request: Option<AllowRequest>,
}

impl SocketIoBuilder {
    /// Adds a namespace. The first one whose name or pattern matches a
    /// CONNECT serves it; a CONNECT that none matches gets `Invalid namespace`.
    pub fn ns(mut self, namespace: Namespace) -> Self {
        self.namespaces.push(namespace);
        self
    }

    /// Handles server-side events that other nodes send with
    /// [`SocketIo::server_side_emit`]; the ack is there when the emitter
    /// waits for answers.
    pub fn on_server_event(
        mut self,
        event: &str,
        handler: impl Fn(&SocketIo, Payload, Option<ServerAck>) + Send + Sync + 'static,
    ) -> Self {
        self.server_events
            .insert(event.to_owned(), Arc::new(handler));
        self
    }

    /// Bounds what each client may make its session hold (defaults:
    /// [`SocketLimits::default`]).
    pub fn limits(mut self, limits: SocketLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Checks every handshake before a session opens (socket.io's
    /// `allowRequest`): from the headers, query and address the client
    /// presented. A refused one gets `403 {"code":4,"message":"Forbidden"}`.
    pub fn allow_request(
        mut self,
        check: impl Fn(&HandshakeInfo) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.allow_request = Some(Arc::new(check));
        self
    }

    /// Runs `handler` with the app's handle once it is bound to its node:
    /// the place to start work that acts on sockets from outside any
    /// event, such as a listener for back-end requests.
    pub fn on_start(mut self, handler: impl Fn(&SocketIo) + Send + Sync + 'static) -> Self {
        self.on_start.push(Arc::new(handler));
        self
    }

    /// Puts the app in a cluster, so that server operations reach every
    /// node; without it they reach this node's sockets only.
    pub fn cluster(mut self, ops: ClusterOps) -> Self {
        self.cluster = Some(ops);
        self
    }

    /// Binds the app to a node's room registry and settings.
    pub fn build(self, rooms: Addr<RoomRegistry>, connect_timeout: Duration) -> SocketIo {
        let io = SocketIo {
            shared: Arc::new(Shared {
                namespaces: self.namespaces,
                server_events: self.server_events,
                cluster: self.cluster,
                rooms,
                connect_timeout,
                limits: self.limits,
                allow_request: self.allow_request,
            }),
        };
        for handler in &self.on_start {
            handler(&io);
        }
        io
    }
}

/// A running socket.io app: its namespaces, and broadcasts from the server.
#[derive(Clone)]
pub struct SocketIo {
    shared: Arc<Shared>,
}

struct Shared {
    namespaces: Vec<Namespace>,
    server_events: HashMap<String, ServerEventHandler>,
    cluster: Option<ClusterOps>,
    rooms: Addr<RoomRegistry>,
    connect_timeout: Duration,
    limits: SocketLimits,
    allow_request: Option<AllowRequest>,
}

impl SocketIo {
    /// Starts an app description.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder::default()
    }

    /// A broadcast to the sockets of namespace `nsp` (narrow it with `to`).
    pub fn of(&self, nsp: &str) -> BroadcastOperator {
        BroadcastOperator::new(self.clone(), nsp.into())
    }

    /// Builds each new session's socket.io layer.
    pub fn app_maker(&self) -> AppMaker {
        let io = self.clone();
        Arc::new(move |handshake| Box::new(SocketIoClient::new(io.clone(), handshake.clone())))
    }

    /// This node's id; `None` for an app built without a cluster.
    pub fn node_id(&self) -> Option<&str> {
        self.shared
            .cluster
            .as_ref()
            .map(|ops| ops.cluster.node.as_str())
    }

    /// The node named in this node's operations and messages: its id, or
    /// `local` for an app built without a cluster.
    pub(crate) fn origin(&self) -> &str {
        self.node_id().unwrap_or("local")
    }

    pub(crate) fn cluster_ops(&self) -> Option<&ClusterOps> {
        self.shared.cluster.as_ref()
    }

    pub(crate) fn server_event_handler(&self, event: &str) -> Option<ServerEventHandler> {
        self.shared.server_events.get(event).cloned()
    }

    pub(crate) fn rooms(&self) -> &Addr<RoomRegistry> {
        &self.shared.rooms
    }

    pub(crate) fn namespaces(&self) -> &[Namespace] {
        &self.shared.namespaces
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        self.shared.connect_timeout
    }

    pub(crate) fn limits(&self) -> &SocketLimits {
        &self.shared.limits
    }

    pub(crate) fn allow_request(&self) -> Option<AllowRequest> {
        self.shared.allow_request.clone()
    }
}
