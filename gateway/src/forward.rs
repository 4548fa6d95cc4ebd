//! Forwarding a polling request to the node that owns its session.
//!
//! The gateway only decides *that* a request goes elsewhere (the sid names
//! another node); the node crate implements *how* ([`Forwarder`]), over the
//! cluster bus.

use std::{future::Future, pin::Pin};

use actix_web::HttpResponse;
use switchyard_shared::{
    cluster::{ForwardKind, ForwardReply, ForwardRequest},
    engine::EngineError,
    sid::Sid,
};

use crate::routes::{error_response, Endpoint};

/// Why a request could not be forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    /// The owner is not a live node: the sid is stale or forged.
    #[error("the session's node is not in the cluster")]
    UnknownOwner,
    /// The cluster bus is down, or the owner did not answer in time.
    #[error("the cluster is unavailable: {0}")]
    Unavailable(String),
}

/// A future the forwarder returns.
pub type ForwardFuture = Pin<Box<dyn Future<Output = Result<ForwardReply, ForwardError>>>>;

/// Carries a request to another node and brings its answer back.
pub trait Forwarder: Send + Sync + 'static {
    /// Sends `request` to node `owner` and waits for the answer (for a
    /// long-poll, as long as the owner parks it).
    fn forward(&self, owner: &str, request: ForwardRequest) -> ForwardFuture;
}

/// The forwarder of a node alone: no other node owns anything.
pub struct NoForwarding;

impl Forwarder for NoForwarding {
    fn forward(&self, _: &str, _: ForwardRequest) -> ForwardFuture {
        Box::pin(async { Err(ForwardError::UnknownOwner) })
    }
}

/// Forwards a polling request and turns the owner's answer into the response.
pub(crate) async fn forward(ep: &Endpoint, sid: Sid, kind: ForwardKind) -> HttpResponse {
    let request = ForwardRequest {
        endpoint: ep.id.0,
        sid: sid.to_string(),
        kind,
    };
    match ep.forwarder.forward(sid.node(), request).await {
        Ok(ForwardReply::Polled(payload)) => HttpResponse::Ok()
            .content_type("text/plain; charset=UTF-8")
            .body(payload),
        Ok(ForwardReply::Posted) => HttpResponse::Ok().content_type("text/html").body("ok"),
        Ok(ForwardReply::Refused(code)) => {
            error_response(EngineError::from_code(code).unwrap_or(EngineError::BadRequest))
        }
        Ok(ForwardReply::TooLarge) => HttpResponse::PayloadTooLarge().finish(),
        Err(ForwardError::UnknownOwner) => error_response(EngineError::UnknownSid),
        Err(ForwardError::Unavailable(reason)) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(reason),
    }
}
