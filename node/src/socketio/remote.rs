//! Cluster-wide operations on a broadcast's targets: `fetch_sockets`,
//! `sockets_join`, `sockets_leave` and `disconnect_sockets`, on every node
//! (or only this one, with `local`).

use std::time::Duration;

use serde::Serialize;
use switchyard_shared::cluster::{Op, OpsRequest, WireSocket};
use tokio::sync::mpsc;
use tracing::warn;

use super::{broadcast::BroadcastOperator, handshake::Handshake, ops_serve::serve, SocketIo};
use crate::cluster::{scatter_gather, Gathered};

/// How long cluster-wide operations wait for the nodes when the operator
/// has no timeout (socket.io's default for `fetchSockets`).
pub const DEFAULT_OPS_TIMEOUT: Duration = Duration::from_secs(5);

/// A socket of any node, as `fetch_sockets` describes it.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteSocket {
    /// The socket id.
    pub id: String,
    /// Its namespace.
    pub nsp: String,
    /// Its rooms, its own included, sorted.
    pub rooms: Vec<String>,
    /// `socket.data`.
    pub data: serde_json::Value,
    /// What its client presented when it connected.
    pub handshake: Handshake,
}

impl RemoteSocket {
    fn from_wire(wire: WireSocket) -> Option<Self> {
        let parsed = serde_json::from_str(&wire.data)
            .and_then(|data| Ok((data, serde_json::from_str(&wire.handshake)?)));
        match parsed {
            Ok((data, handshake)) => Some(Self {
                id: wire.id,
                nsp: wire.nsp,
                rooms: wire.rooms,
                data,
                handshake,
            }),
            Err(error) => {
                warn!(%error, "undecodable socket from another node");
                None
            }
        }
    }
}

/// Some nodes did not answer in time; what did arrive is kept.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the cluster operation timed out before every node answered")]
pub struct OpsTimeout<T> {
    /// What the nodes that answered said.
    pub partial: T,
}

impl BroadcastOperator {
    /// Describes every target socket of the cluster: id, namespace, rooms,
    /// data and handshake. Waits for every live node, up to the operator's
    /// timeout (default [`DEFAULT_OPS_TIMEOUT`]).
    pub async fn fetch_sockets(self) -> Result<Vec<RemoteSocket>, OpsTimeout<Vec<RemoteSocket>>> {
        let timeout = self.timeout.unwrap_or(DEFAULT_OPS_TIMEOUT);
        let gathered = self.gather(Op::FetchSockets, timeout).await;
        let sockets = gathered
            .sockets
            .into_iter()
            .filter_map(RemoteSocket::from_wire)
            .collect();
        if gathered.complete {
            Ok(sockets)
        } else {
            Err(OpsTimeout { partial: sockets })
        }
    }

    /// Makes every target socket join `room`; resolves once every live node
    /// has done it.
    pub async fn sockets_join(self, room: &str) -> Result<(), OpsTimeout<()>> {
        self.done(Op::Join(room.to_owned())).await
    }

    /// Makes every target socket leave `room`; resolves once every live
    /// node has done it.
    pub async fn sockets_leave(self, room: &str) -> Result<(), OpsTimeout<()>> {
        self.done(Op::Leave(room.to_owned())).await
    }

    /// Disconnects every target socket: from its namespace with a DISCONNECT
    /// packet, as [`super::Socket::disconnect`] does, or with `close` its
    /// client's whole connection. Resolves once every live node has done it.
    pub async fn disconnect_sockets(self, close: bool) -> Result<(), OpsTimeout<()>> {
        self.done(Op::Disconnect { close }).await
    }

    async fn done(self, op: Op) -> Result<(), OpsTimeout<()>> {
        let timeout = self.timeout.unwrap_or(DEFAULT_OPS_TIMEOUT);
        if self.gather(op, timeout).await.complete {
            Ok(())
        } else {
            Err(OpsTimeout { partial: () })
        }
    }

    /// Runs `op` on the targets of every live node (this one only with
    /// `local`), gathering the answers.
    pub(super) async fn gather(self, op: Op, timeout: Duration) -> Gathered {
        let request = OpsRequest {
            origin: self.io.origin().to_owned(),
            nsp: self.nsp.to_string(),
            rooms: self.rooms.iter().map(|room| room.to_string()).collect(),
            except: self.except.iter().map(|room| room.to_string()).collect(),
            op,
        };
        self.io.gather(request, true, self.local, timeout).await
    }
}

impl SocketIo {
    /// Scatters `request` (unless `local`) and gathers the answers, this
    /// node's own included when `include_self`.
    pub(super) async fn gather(
        &self,
        request: OpsRequest,
        include_self: bool,
        local: bool,
        timeout: Duration,
    ) -> Gathered {
        let own = include_self.then(|| {
            let (out, answers) = mpsc::unbounded_channel();
            serve(self, request.clone(), out);
            answers
        });
        let ops = if local { None } else { self.cluster_ops() };
        scatter_gather(ops, &request, own, timeout).await
    }
}
