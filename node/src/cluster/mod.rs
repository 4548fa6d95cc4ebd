//! The cluster: the bus between nodes, membership, request forwarding and
//! cross-node broadcasts.
//!
//! - [`ClusterBus`] is the transport: NATS ([`NatsBus`]) or, with no NATS
//!   URL, the [`InProcessBus`] (one node alone, or several in one test
//!   process).
//! - [`MembershipActor`] sends this node's heartbeats and removes nodes
//!   that miss theirs.
//! - [`forward`] carries a polling request from the node that received it
//!   to the node that owns its session, and back.
//! - [`Peers`] and [`PeerServer`] carry what two nodes say about one session
//!   when it moves between them (the WebSocket upgrade handover).
//! - [`scatter_gather`] sends one operation to every live node and gathers
//!   their answers (cluster-wide fetch sockets, broadcast acks, ...).
//! - Rooms subscribe to their subjects themselves (see [`crate::room`]).

mod bus;
pub mod forward;
mod in_process;
mod membership;
mod nats;
mod peer;
mod scatter;
mod subscribe;

use std::sync::Arc;

pub use bus::{BusError, BusFuture, BusStream, ClusterBus, Inbound};
pub use in_process::{InProcessBus, InProcessHub};
pub use membership::{Leave, LiveNodes, Members, MembershipActor, Readiness};
pub use nats::{NatsBus, NatsStartError};
pub use peer::{PeerServer, Peers};
pub use scatter::{scatter_gather, ClusterOps, Gathered};
pub(crate) use subscribe::{subscribe_actor, Subscriber};
use switchyard_shared::{cluster::Subjects, sid::NodeId};

/// What every cluster-aware part of a node needs: who it is, the bus, and
/// the subject names.
#[derive(Clone)]
pub struct Cluster {
    /// This node.
    pub node: NodeId,
    /// The bus to the other nodes.
    pub bus: Arc<dyn ClusterBus>,
    /// Subject names under the configured prefix.
    pub subjects: Subjects,
}

impl Cluster {
    /// Whether other nodes can exist at all; a node alone skips the bus.
    pub fn has_peers(&self) -> bool {
        !self.bus.is_alone()
    }
}

#[cfg(test)]
mod tests;
