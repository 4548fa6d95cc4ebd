//! Client events to back-ends, and the back-ends' replies as acks.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::value::RawValue;
use switchyard_shared::{config::BridgeSettings, socket::Payload};
use tracing::{debug, warn};

use super::message::{base64_attachments, DisconnectMessage, EventMessage, HandshakeView};
use crate::{
    cluster::{BusError, Cluster},
    ops::metrics,
    socketio::{Ack, Socket, SocketSetup},
};

/// Passes every event of a new socket to the back-ends, and says when the
/// socket goes.
pub(super) fn on_connection(socket: &mut SocketSetup<'_>, settings: &Arc<BridgeSettings>) {
    let events = settings.clone();
    socket.on_any(move |socket, event, payload, ack| forward(socket, event, payload, ack, &events));
    socket.on_disconnect(move |socket, reason| {
        let Some(cluster) = cluster(socket) else {
            return;
        };
        let message = DisconnectMessage {
            nsp: socket.ns(),
            socket_id: socket.id().as_str(),
            reason,
            node: socket.io().origin(),
        };
        if let Ok(body) = serde_json::to_vec(&message) {
            let subject = cluster.subjects.disconnects(socket.ns());
            cluster.bus.publish(subject, Bytes::from(body));
        }
    });
}

/// The node's cluster, which every node built by the server has.
pub(super) fn cluster(socket: &Socket) -> Option<Cluster> {
    socket.io().cluster_ops().map(|ops| ops.cluster.clone())
}

/// Publishes one event; with an ack, as a request whose reply is the ack.
fn forward(
    socket: &Socket,
    event: &str,
    payload: Payload,
    ack: Option<Ack>,
    settings: &BridgeSettings,
) {
    let Some(cluster) = cluster(socket) else {
        return;
    };
    let message = EventMessage {
        nsp: socket.ns(),
        socket_id: socket.id().as_str(),
        event,
        args: &payload.args,
        attachments: base64_attachments(&payload),
        handshake: HandshakeView::new(socket.handshake(), &settings.headers),
        node: socket.io().origin(),
    };
    let Ok(body) = serde_json::to_vec(&message) else {
        return;
    };
    let subject = cluster.subjects.events(socket.ns(), event);
    let Some(ack) = ack else {
        metrics::bridge("event", "published");
        cluster.bus.publish(subject, Bytes::from(body));
        return;
    };
    let request = cluster
        .bus
        .request(subject.clone(), Bytes::from(body), settings.ack_timeout());
    actix::spawn(async move {
        match request.await {
            Ok(reply) => match ack_payload(&reply) {
                Some(payload) => {
                    metrics::bridge("event", "answered");
                    ack.send(payload);
                }
                None => {
                    metrics::bridge("event", "bad_reply");
                    warn!(%subject, "a back-end's reply is not a JSON array; no ack sent");
                }
            },
            Err(BusError::Timeout) => {
                metrics::bridge("event", "timeout");
                debug!(%subject, "no back-end answered in time; no ack sent");
            }
            Err(BusError::NoResponders(_)) => {
                metrics::bridge("event", "no_responders");
                warn!(%subject, "no back-end listens; no ack sent");
            }
            Err(error) => {
                metrics::bridge("event", "unavailable");
                warn!(%subject, %error, "event not delivered; no ack sent");
            }
        }
    });
}

/// The ack's arguments: the reply, which must be a JSON array.
fn ack_payload(reply: &[u8]) -> Option<Payload> {
    let args: Vec<Box<RawValue>> = serde_json::from_slice(reply).ok()?;
    Some(Payload::new(args))
}

#[cfg(test)]
mod tests {
    use super::ack_payload;

    #[test]
    fn a_reply_array_becomes_the_ack_arguments() {
        let payload = ack_payload(br#"[1, {"a": "b"}, "c"]"#).expect("an array");
        let args: Vec<&str> = payload.args.iter().map(|arg| arg.get()).collect();
        assert_eq!(args, ["1", r#"{"a": "b"}"#, r#""c""#]);
        assert!(ack_payload(br#"{"not": "an array"}"#).is_none());
        assert!(ack_payload(b"not json").is_none());
    }
}
