//! Graceful drain: what a node does when it is asked to stop (SIGTERM, as
//! orchestrators send, or SIGINT).
//!
//! 1. `/ready` answers 503 and new sessions are refused, so the load
//!    balancer sends new clients elsewhere.
//! 2. Every session is closed with a close packet, so its client reconnects
//!    through the load balancer at once rather than after a ping timeout.
//! 3. The node says goodbye to the cluster.
//! 4. The HTTP server stops, waiting up to the drain timeout for the
//!    connections to end.

use std::sync::atomic::Ordering;

use actix::Addr;
use actix_web::dev::ServerHandle;
use switchyard_gateway::{gateway_actor::CloseAll, GatewayActor};
use tracing::{info, warn};

use super::ready::Draining;
use crate::cluster::{Leave, MembershipActor};

/// Drains the node once a stop signal arrives.
pub fn on_stop_signal(
    server: ServerHandle,
    gateway: Addr<GatewayActor>,
    membership: Addr<MembershipActor>,
    draining: Draining,
) {
    actix_web::rt::spawn(async move {
        stop_signal().await;
        info!("stopping: closing every session so its client reconnects elsewhere");
        draining.0.store(true, Ordering::Relaxed);
        let sessions = gateway.send(CloseAll).await.unwrap_or(0);
        let _ = membership.send(Leave).await;
        info!(
            sessions,
            "sessions closed; waiting for their connections to end"
        );
        server.stop(true).await;
    });
}

/// Resolves at the first SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        (Err(error), _) | (_, Err(error)) => {
            // Without signals the node can only be killed; it still serves.
            warn!(%error, "cannot listen for stop signals");
            std::future::pending::<()>().await;
        }
    }
}
