//! The connect hook: a back-end decides whether a socket may connect.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use bytes::Bytes;
use switchyard_shared::config::{BridgeSettings, NoResponder};
use tracing::warn;

use super::message::{AuthReply, AuthRequest, HandshakeView};
use crate::{
    cluster::{BusError, Cluster},
    ops::metrics,
    socketio::{ConnectError, ConnectRequest},
};

/// Asks the back-ends on `<prefix>.auth.<nsp>`; their reply accepts the
/// socket (with its data and first rooms) or refuses it with a message
/// and data the client sees as CONNECT_ERROR.
pub(super) async fn ask(
    settings: Arc<BridgeSettings>,
    cluster: Arc<OnceLock<Cluster>>,
    request: ConnectRequest,
) -> Result<(), ConnectError> {
    let Some(cluster) = cluster.get() else {
        return Err(ConnectError::new("the server is starting"));
    };
    let message = AuthRequest {
        nsp: &request.nsp,
        handshake: HandshakeView::new(&request.handshake, &settings.headers),
        node: cluster.node.as_str(),
    };
    let body = serde_json::to_vec(&message).map_err(|_| ConnectError::new("bad handshake"))?;
    let subject = cluster.subjects.auth(&request.nsp);
    let reply = cluster
        .bus
        .request(subject.clone(), Bytes::from(body), settings.auth_timeout())
        .await;
    match reply {
        Ok(reply) => decide(&reply, &request),
        Err(error) => {
            let outcome = match &error {
                BusError::Timeout => "timeout",
                BusError::NoResponders(_) => "no_responders",
                BusError::Unavailable(_) => "unavailable",
            };
            metrics::bridge("auth", outcome);
            warn!(%subject, %error, "no auth decision from a back-end");
            match settings.auth_no_responder {
                NoResponder::Accept => Ok(()),
                NoResponder::Reject => Err(no_decision(settings.auth_timeout())),
            }
        }
    }
}

/// Applies a back-end's reply.
fn decide(reply: &[u8], request: &ConnectRequest) -> Result<(), ConnectError> {
    let Ok(reply) = serde_json::from_slice::<AuthReply>(reply) else {
        metrics::bridge("auth", "bad_reply");
        warn!(nsp = %request.nsp, "an auth reply is not {{\"ok\": ...}}; refusing");
        return Err(ConnectError::new(
            "the authentication service gave no answer",
        ));
    };
    if !reply.ok {
        metrics::bridge("auth", "refused");
        let mut error = ConnectError::new(reply.message.unwrap_or_else(|| "refused".into()));
        error.data = reply.data;
        return Err(error);
    }
    metrics::bridge("auth", "accepted");
    if let Some(data) = reply.data {
        request.set_data(data);
    }
    for room in reply.rooms {
        request.join(room);
    }
    Ok(())
}

fn no_decision(timeout: Duration) -> ConnectError {
    ConnectError::new("the authentication service is unavailable")
        .with_data(serde_json::json!({ "timeout_ms": timeout.as_millis() as u64 }))
}
