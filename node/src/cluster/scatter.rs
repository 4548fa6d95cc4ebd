//! Scatter/gather: one request to every live node, this one included, and
//! their answers collected until each node that was live at the start has
//! said everything, or the timeout.
//!
//! The origin serves itself without the bus (its answers come on a local
//! channel), so a node alone never touches the bus. Membership is asked
//! again every heartbeat interval while gathering: a node that died during
//! the request is dropped from the nodes still to answer, so the request
//! ends early rather than waiting for the timeout.

use std::{collections::HashMap, time::Duration};

use actix::Addr;
use futures_util::StreamExt as _;
use switchyard_shared::cluster::{OpsReply, OpsReplyBody, OpsRequest, WirePayload, WireSocket};
use tokio::{sync::mpsc, time::Instant};
use tracing::warn;

use super::{BusStream, Cluster, LiveNodes, MembershipActor};

/// What a node needs to scatter operations to the cluster.
#[derive(Clone)]
pub struct ClusterOps {
    /// The bus, this node's id and the subjects.
    pub cluster: Cluster,
    /// Who is alive: the nodes that must answer.
    pub membership: Addr<MembershipActor>,
    /// How often membership is asked again while gathering (the heartbeat
    /// interval: membership changes no faster).
    pub recheck: Duration,
}

/// Everything the nodes answered.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The sockets the nodes described, in arrival order.
    pub sockets: Vec<WireSocket>,
    /// The answers (acks), in arrival order.
    pub answers: Vec<WirePayload>,
    /// Whether every node still alive said everything before the timeout.
    pub complete: bool,
}

/// What one node has said so far.
#[derive(Debug, Default)]
struct NodeState {
    done: bool,
    expected: Option<u64>,
    answers: u64,
}

impl NodeState {
    fn finished(&self) -> bool {
        self.done || self.expected == Some(self.answers)
    }
}

/// Sends `request` to every other live node (unless `ops` is `None` or the
/// node is alone) and gathers their answers with this node's own, which
/// arrive on `local` (`None`: this node does not take part). Never fails:
/// nodes that cannot be reached make the result incomplete.
pub async fn scatter_gather(
    ops: Option<&ClusterOps>,
    request: &OpsRequest,
    local: Option<mpsc::UnboundedReceiver<OpsReplyBody>>,
    timeout: Duration,
) -> Gathered {
    let deadline = Instant::now() + timeout;
    let own = request.origin.clone();
    let mut pending: HashMap<String, NodeState> = HashMap::new();
    if local.is_some() {
        pending.insert(own.clone(), NodeState::default());
    }
    let mut inbox: Option<BusStream> = None;
    let ops = ops.filter(|ops| ops.cluster.has_peers());
    if let Some(ops) = ops {
        let live = ops.membership.send(LiveNodes).await.unwrap_or_default();
        pending.extend(
            live.into_iter()
                .filter(|node| *node != own)
                .map(|node| (node, NodeState::default())),
        );
        if pending.keys().any(|node| *node != own) {
            let subject = ops.cluster.subjects.ops();
            match ops.cluster.bus.scatter(subject, request.encode()).await {
                Ok(stream) => inbox = Some(stream),
                // The others stay pending: unreachable, not done.
                Err(error) => warn!(%error, "cannot scatter a cluster operation"),
            }
        }
    }
    let mut gathered = Gathered::default();
    let mut local = local;
    let period = ops.map_or(timeout, |ops| ops.recheck.max(Duration::from_millis(10)));
    let mut recheck = tokio::time::interval_at(Instant::now() + period, period);
    loop {
        if pending.values().all(NodeState::finished) {
            gathered.complete = true;
            return gathered;
        }
        tokio::select! {
            body = recv_local(&mut local) => match body {
                Some(body) => take(&mut pending, &mut gathered, &own, body),
                None => local = None,
            },
            inbound = next_inbound(&mut inbox) => match inbound {
                Some(payload) => match OpsReply::decode(payload) {
                    Ok(reply) if reply.node != own => {
                        take(&mut pending, &mut gathered, &reply.node, reply.body)
                    }
                    Ok(_) => {}
                    Err(error) => warn!(%error, "undecodable answer to a cluster operation"),
                },
                None => inbox = None,
            },
            _ = recheck.tick(), if ops.is_some() => {
                if let Some(ops) = ops {
                    if let Ok(live) = ops.membership.send(LiveNodes).await {
                        pending.retain(|node, _| *node == own || live.contains(node));
                    }
                }
            },
            () = tokio::time::sleep_until(deadline) => return gathered,
        }
    }
}

/// Records one answer of `node`; answers of nodes that were not asked, or
/// that have said everything already, are ignored.
fn take(
    pending: &mut HashMap<String, NodeState>,
    gathered: &mut Gathered,
    node: &str,
    body: OpsReplyBody,
) {
    let Some(state) = pending.get_mut(node).filter(|state| !state.finished()) else {
        return;
    };
    match body {
        OpsReplyBody::Done => state.done = true,
        OpsReplyBody::Sockets(sockets) => {
            gathered.sockets.extend(sockets);
            state.done = true;
        }
        OpsReplyBody::Expect(count) => state.expected = Some(count),
        OpsReplyBody::Answer(payload) => {
            state.answers += 1;
            gathered.answers.push(payload);
        }
    }
}

/// The next local answer; pends forever once there is none to come.
async fn recv_local(
    local: &mut Option<mpsc::UnboundedReceiver<OpsReplyBody>>,
) -> Option<OpsReplyBody> {
    match local {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// The next answer from the bus; pends forever once the inbox is gone.
async fn next_inbound(inbox: &mut Option<BusStream>) -> Option<bytes::Bytes> {
    match inbox {
        Some(stream) => stream.next().await.map(|inbound| inbound.payload),
        None => std::future::pending().await,
    }
}
