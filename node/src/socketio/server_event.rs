//! Server-side events: messages from one node's app to the apps of the
//! other nodes (socket.io's `serverSideEmit`), optionally with one answer
//! per node.

use std::{sync::Arc, time::Duration};

use switchyard_shared::{
    cluster::{Op, OpsReplyBody, OpsRequest},
    socket::Payload,
};

use super::{
    ops_serve::{gathered_answers, payload_to_wire, ReplySender},
    SocketIo,
};

/// A handler for a server-side event from another node: the server, the
/// arguments, and the answer to send if the emitter waits for one.
pub type ServerEventHandler = Arc<dyn Fn(&SocketIo, Payload, Option<ServerAck>) + Send + Sync>;

/// This node's answer to a server-side event. Sending consumes it;
/// dropping it unsent tells the emitter that no answer will come from here.
pub struct ServerAck {
    out: Option<ReplySender>,
}

impl ServerAck {
    pub(super) fn new(out: ReplySender) -> Self {
        Self { out: Some(out) }
    }

    /// Answers the emitting node.
    pub fn send(mut self, payload: impl Into<Payload>) {
        if let Some(out) = self.out.take() {
            let _ = out.send(OpsReplyBody::Answer(payload_to_wire(payload.into())));
        }
    }
}

impl Drop for ServerAck {
    fn drop(&mut self) {
        if let Some(out) = self.out.take() {
            let _ = out.send(OpsReplyBody::Done);
        }
    }
}

/// The answers gathered before the timeout, when not every node answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} answers arrived before the timeout; some nodes did not answer", .received.len())]
pub struct ServerAckTimeout {
    /// The answers that did arrive.
    pub received: Vec<Payload>,
}

impl SocketIo {
    /// Sends `event` to the handlers registered with
    /// [`super::SocketIoBuilder::on_server_event`] on every other node (not
    /// this one, as in socket.io).
    pub fn server_side_emit(&self, event: &str, payload: impl Into<Payload>) {
        let Some(ops) = self.cluster_ops().filter(|ops| ops.cluster.has_peers()) else {
            return;
        };
        let request = self.server_event(event, payload.into(), false, Duration::ZERO);
        ops.cluster
            .bus
            .publish(ops.cluster.subjects.ops(), request.encode());
    }

    /// Sends `event` to every other node's handler and gathers one answer per
    /// node (nodes without a handler for it, or whose handler drops its
    /// [`ServerAck`], answer nothing) until all live nodes have answered or
    /// `timeout` passes.
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        payload: impl Into<Payload>,
        timeout: Duration,
    ) -> Result<Vec<Payload>, ServerAckTimeout> {
        let request = self.server_event(event, payload.into(), true, timeout);
        gathered_answers(self.gather(request, false, false, timeout).await)
            .map_err(|received| ServerAckTimeout { received })
    }

    fn server_event(
        &self,
        event: &str,
        payload: Payload,
        ack: bool,
        timeout: Duration,
    ) -> OpsRequest {
        OpsRequest {
            origin: self.origin().to_owned(),
            nsp: String::new(),
            rooms: Vec::new(),
            except: Vec::new(),
            op: Op::ServerEvent {
                event: event.to_owned(),
                ack,
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                payload: payload_to_wire(payload),
            },
        }
    }
}
