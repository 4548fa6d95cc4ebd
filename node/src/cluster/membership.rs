//! [`MembershipActor`]: which nodes are alive.
//!
//! Every node publishes a heartbeat every `heartbeat_interval_ms` and
//! listens to everyone's. A node not heard from for `heartbeat_timeout_ms`
//! is removed; a node that stops on purpose says so and leaves at once.
//!
//! The table of live nodes is a [`Members`] that the actor shares: every
//! forwarded request checks its owner there, and a message round trip to
//! the actor for each of them measured as two thread switches per request.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
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

/// The live nodes and when each was last heard, written by the
/// [`MembershipActor`] and read by whoever must know whether a node is alive.
///
/// Writes happen once per heartbeat per node, reads once per forwarded
/// request, so the lock is almost never contended.
#[derive(Clone)]
pub struct Members {
    seen: Arc<RwLock<HashMap<String, Instant>>>,
    own: Arc<str>,
    timeout: Duration,
}

impl Members {
    fn new(own: &str, timeout: Duration) -> Self {
        Self {
            seen: Arc::default(),
            own: own.into(),
            timeout,
        }
    }

    /// Is `node` alive: this node, or heard from within the heartbeat timeout?
    pub fn is_live(&self, node: &str) -> bool {
        self.read(|seen| seen.get(node).is_some_and(|last| self.alive(node, last)))
    }

    /// Every live node, this one included, sorted.
    fn live(&self) -> Vec<String> {
        let mut live: Vec<String> = self.read(|seen| {
            seen.iter()
                .filter(|(node, last)| self.alive(node, last))
                .map(|(node, _)| node.clone())
                .collect()
        });
        live.sort();
        live
    }

    /// How many nodes the table holds, this one included.
    fn len(&self) -> usize {
        self.read(HashMap::len)
    }

    /// Records a heartbeat from `node`; true when it was not a member.
    fn heard(&self, node: &str) -> bool {
        self.write(|seen| seen.insert(node.to_owned(), Instant::now()).is_none())
    }

    /// Removes `node`; true when it was a member.
    fn remove(&self, node: &str) -> bool {
        self.write(|seen| seen.remove(node).is_some())
    }

    /// Drops every node not heard from within the timeout.
    fn sweep(&self) {
        self.write(|seen| {
            seen.retain(|node, last| {
                let alive = self.alive(node, last);
                if !alive {
                    warn!(%node, "node missed its heartbeats; removed from the cluster");
                }
                alive
            });
        });
    }

    fn alive(&self, node: &str, last: &Instant) -> bool {
        node == &*self.own || last.elapsed() < self.timeout
    }

    fn read<T>(&self, f: impl FnOnce(&HashMap<String, Instant>) -> T) -> T {
        // A panic while holding the lock cannot leave the map half-written
        // in a way that matters: every write is a single insert or removal.
        f(&self.seen.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn write<T>(&self, f: impl FnOnce(&mut HashMap<String, Instant>) -> T) -> T {
        f(&mut self.seen.write().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Keeps the set of live nodes from their heartbeats.
pub struct MembershipActor {
    cluster: Cluster,
    interval: Duration,
    members: Members,
    seq: u64,
    /// When the node may take traffic: one heartbeat interval after its own
    /// heartbeat first came back (subscribed and heard), by when every live
    /// node has been heard from. `None` until then.
    ready_at: Option<Instant>,
}

impl MembershipActor {
    /// Membership for `cluster`, with the configured heartbeat timing.
    pub fn new(cluster: Cluster, interval: Duration, timeout: Duration) -> Self {
        let members = Members::new(cluster.node.as_str(), timeout);
        Self {
            cluster,
            interval,
            members,
            seq: 0,
            ready_at: None,
        }
    }

    /// The table this actor keeps, for checks that must not wait on the actor.
    pub fn members(&self) -> Members {
        self.members.clone()
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
        self.members.sweep();
        metrics::cluster_members(self.members.len());
    }
}

impl Actor for MembershipActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.members.heard(self.cluster.node.as_str());
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
            if self.members.remove(&heartbeat.node) {
                info!(node = %heartbeat.node, "node left the cluster");
            }
        } else if self.members.heard(&heartbeat.node) {
            info!(node = %heartbeat.node, "node joined the cluster");
            // The newcomer learns of this node now rather than after up to
            // a heartbeat interval, before it takes traffic.
            self.beat(false);
        }
        metrics::cluster_members(self.members.len());
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

/// Which nodes are alive, this one included: who must answer an operation
/// scattered to the whole cluster.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct LiveNodes;

impl Handler<LiveNodes> for MembershipActor {
    type Result = MessageResult<LiveNodes>;

    fn handle(&mut self, _: LiveNodes, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.members.live())
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
            Ok(self.members.len())
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

#[cfg(test)]
mod tests {
    use std::thread::sleep;

    use super::*;

    #[test]
    fn a_node_is_live_until_its_heartbeats_are_overdue() {
        let members = Members::new("self", Duration::from_millis(50));
        members.heard("self");
        assert!(!members.is_live("other"), "never heard from");
        assert!(members.heard("other"), "a newcomer");
        assert!(!members.heard("other"), "heard again, not new");
        assert!(members.is_live("other"));
        assert_eq!(members.live(), ["other", "self"]);

        // The clock, not a message, decides: an overdue node is dead even
        // before a sweep removes it; this node never is.
        sleep(Duration::from_millis(60));
        assert!(!members.is_live("other"));
        assert!(members.is_live("self"));
        assert_eq!(members.live(), ["self"]);
        assert_eq!(members.len(), 2);
        members.sweep();
        assert_eq!(members.len(), 1);
    }

    #[test]
    fn a_node_that_leaves_is_gone_at_once() {
        let members = Members::new("self", Duration::from_secs(60));
        members.heard("other");
        assert!(members.remove("other"));
        assert!(!members.remove("other"));
        assert!(!members.is_live("other"));
    }
}
