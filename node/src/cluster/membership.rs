//! [`MembershipActor`]: which nodes are alive.
//!
//! Every node publishes a heartbeat every `heartbeat_interval_ms` and
//! listens to everyone's. A node not heard from for `heartbeat_timeout_ms`
//! is removed; a node that stops on purpose says so and leaves at once.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use actix::{Actor, AsyncContext, Context, Handler, Message, MessageResult, StreamHandler};
use switchyard_shared::cluster::Heartbeat;
use tracing::{info, warn};

use super::{
    subscribe::{subscribe_actor, Subscriber},
    Cluster, Inbound,
};
use crate::ops::metrics;

/// Keeps the set of live nodes from their heartbeats.
pub struct MembershipActor {
    cluster: Cluster,
    interval: Duration,
    timeout: Duration,
    seen: HashMap<String, Instant>,
    seq: u64,
    /// When the node may take traffic: one heartbeat interval after its own
    /// heartbeat first came back (subscribed and heard), by when every live
    /// node has been heard from. `None` until then.
    ready_at: Option<Instant>,
}

impl MembershipActor {
    /// Membership for `cluster`, with the configured heartbeat timing.
    pub fn new(cluster: Cluster, interval: Duration, timeout: Duration) -> Self {
        Self {
            cluster,
            interval,
            timeout,
            seen: HashMap::new(),
            seq: 0,
            ready_at: None,
        }
    }

    fn beat(&mut self, leaving: bool) {
        self.seq += 1;
        let heartbeat = Heartbeat {
            node: self.cluster.node.to_string(),
            seq: self.seq,
            leaving,
        };
        self.cluster
            .bus
            .publish(self.cluster.subjects.heartbeat(), heartbeat.encode());
    }

    fn sweep(&mut self) {
        let timeout = self.timeout;
        let own = self.cluster.node.as_str().to_owned();
        self.seen.retain(|node, last| {
            let alive = *node == own || last.elapsed() < timeout;
            if !alive {
                warn!(%node, "node missed its heartbeats; removed from the cluster");
            }
            alive
        });
        metrics::cluster_members(self.seen.len());
    }
}

impl Actor for MembershipActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.seen
            .insert(self.cluster.node.to_string(), Instant::now());
        if !self.cluster.has_peers() {
            // Alone: nobody else to hear from.
            self.ready_at = Some(Instant::now());
            metrics::cluster_members(1);
            return;
        }
        subscribe_actor(
            self.cluster.bus.clone(),
            self.cluster.subjects.heartbeat(),
            ctx,
        );
        self.beat(false);
        ctx.run_interval(self.interval, |act, _| {
            act.beat(false);
            act.sweep();
        });
    }
}

impl Subscriber for MembershipActor {}

impl StreamHandler<Inbound> for MembershipActor {
    fn handle(&mut self, inbound: Inbound, _: &mut Context<Self>) {
        let Ok(heartbeat) = Heartbeat::decode(inbound.payload) else {
            warn!("undecodable heartbeat");
            return;
        };
        if heartbeat.node == self.cluster.node.as_str() {
            let interval = self.interval;
            self.ready_at
                .get_or_insert_with(|| Instant::now() + interval);
            return;
        }
        if heartbeat.leaving {
            if self.seen.remove(&heartbeat.node).is_some() {
                info!(node = %heartbeat.node, "node left the cluster");
            }
        } else if self
            .seen
            .insert(heartbeat.node.clone(), Instant::now())
            .is_none()
        {
            info!(node = %heartbeat.node, "node joined the cluster");
            // The newcomer learns of this node now rather than after up to
            // a heartbeat interval, before it takes traffic.
            self.beat(false);
        }
        metrics::cluster_members(self.seen.len());
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The subscription ended (bus closed); try again.
        self.ready_at = None;
        subscribe_actor(
            self.cluster.bus.clone(),
            self.cluster.subjects.heartbeat(),
            ctx,
        );
    }
}

/// Is this node alive?
#[derive(Message)]
#[rtype(result = "bool")]
pub struct IsLive(pub String);

impl Handler<IsLive> for MembershipActor {
    type Result = bool;

    fn handle(&mut self, IsLive(node): IsLive, _: &mut Context<Self>) -> bool {
        self.seen
            .get(&node)
            .is_some_and(|last| node == self.cluster.node.as_str() || last.elapsed() < self.timeout)
    }
}

/// Which nodes are alive, this one included: who must answer an operation
/// scattered to the whole cluster.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct LiveNodes;

impl Handler<LiveNodes> for MembershipActor {
    type Result = MessageResult<LiveNodes>;

    fn handle(&mut self, _: LiveNodes, _: &mut Context<Self>) -> Self::Result {
        let own = self.cluster.node.as_str();
        let mut live: Vec<String> = self
            .seen
            .iter()
            .filter(|(node, last)| *node == own || last.elapsed() < self.timeout)
            .map(|(node, _)| node.clone())
            .collect();
        live.sort();
        MessageResult(live)
    }
}

/// Is the node ready for traffic? `Err` says why not.
#[derive(Message)]
#[rtype(result = "Result<usize, String>")]
pub struct Readiness;

impl Handler<Readiness> for MembershipActor {
    type Result = MessageResult<Readiness>;

    fn handle(&mut self, _: Readiness, _: &mut Context<Self>) -> Self::Result {
        MessageResult(if !self.cluster.bus.is_connected() {
            Err("NATS is not connected".into())
        } else if self.ready_at.is_none_or(|at| Instant::now() < at) {
            // Until a whole heartbeat interval has passed since joining, a
            // live node may not have been heard from yet, and requests for
            // its sessions would be refused.
            Err("membership not joined yet".into())
        } else {
            Ok(self.seen.len())
        })
    }
}

/// The node is stopping: tell the others at once. Resolves when the
/// goodbye has left the node.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave;

impl Handler<Leave> for MembershipActor {
    type Result = actix::ResponseFuture<()>;

    fn handle(&mut self, _: Leave, _: &mut Context<Self>) -> Self::Result {
        if self.cluster.has_peers() {
            self.beat(true);
        }
        self.cluster.bus.flush()
    }
}
