//! HTTP long-polling: the handshake, the parked GET and the POST.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use switchyard_shared::{cluster::ForwardKind, engine::EngineError, sid::Sid};
use tokio::sync::oneshot;

use crate::{
    forward::forward,
    gateway_actor::Route,
    routes::{error_response, Endpoint, EndpointSettings},
    session::{BodyError, HandshakeInfo, Opening, PollReply, SessionRequest},
};

/// Starts a polling session and answers with its open packet.
pub(crate) async fn handshake(ep: &Endpoint, info: HandshakeInfo) -> HttpResponse {
    let session = ep.factory.open(ep.id, info, Opening::Polling);
    let (reply, answer) = oneshot::channel();
    session.do_send(SessionRequest::Poll(reply));
    poll_response(answer.await)
}

/// A long-poll GET: it waits as long as the session parks it.
pub(crate) async fn poll(ep: &Endpoint, sid: Sid) -> HttpResponse {
    if sid.node() != ep.node.as_str() {
        return forward(ep, sid, ForwardKind::Poll).await;
    }
    let (reply, answer) = oneshot::channel();
    route(ep, sid, SessionRequest::Poll(reply));
    poll_response(answer.await)
}

/// A POST: the session learns of it at once (to catch an overlapping POST),
/// then gets the body when it has been read, up to maxPayload.
pub(crate) async fn post(
    ep: &Endpoint,
    req: &HttpRequest,
    sid: Sid,
    payload: web::Payload,
) -> HttpResponse {
    if sid.node() != ep.node.as_str() {
        return post_elsewhere(ep, req, sid, payload).await;
    }
    let (body_tx, body) = oneshot::channel();
    let (reply, answer) = oneshot::channel();
    route(ep, sid, SessionRequest::Post { body, reply });
    let read = if is_binary_content(req) {
        Err(BodyError::BinaryContent)
    } else {
        read_body(req, payload, &ep.settings).await
    };
    let refused = match read {
        Err(BodyError::TooLarge) => Some(HttpResponse::PayloadTooLarge().finish()),
        Err(BodyError::TimedOut) => Some(HttpResponse::RequestTimeout().finish()),
        _ => None,
    };
    // The session may be gone already; then the answer below says so.
    let _ = body_tx.send(read);
    // Answer only once the session has finished with this POST, so that a
    // client's next POST never overlaps it.
    let answer = answer.await;
    if let Some(refused) = refused {
        return refused;
    }
    match answer {
        Ok(Ok(())) => HttpResponse::Ok().content_type("text/html").body("ok"),
        Ok(Err(error)) => error_response(error),
        Err(_) => error_response(EngineError::UnknownSid),
    }
}

/// A POST for a session on another node: the body is read here, whole, and
/// travels in one message.
async fn post_elsewhere(
    ep: &Endpoint,
    req: &HttpRequest,
    sid: Sid,
    payload: web::Payload,
) -> HttpResponse {
    let binary_content = is_binary_content(req);
    let body = if binary_content {
        Ok(Bytes::new())
    } else {
        read_body(req, payload, &ep.settings).await
    };
    match body {
        Ok(body) => {
            forward(
                ep,
                sid,
                ForwardKind::Post {
                    body,
                    binary_content,
                },
            )
            .await
        }
        Err(BodyError::TooLarge) => HttpResponse::PayloadTooLarge().finish(),
        Err(BodyError::TimedOut) => HttpResponse::RequestTimeout().finish(),
        Err(_) => error_response(EngineError::BadRequest),
    }
}

fn route(ep: &Endpoint, sid: Sid, request: SessionRequest) {
    ep.gateway.do_send(Route {
        sid,
        endpoint: ep.id,
        request,
    });
}

fn poll_response(answer: Result<PollReply, oneshot::error::RecvError>) -> HttpResponse {
    match answer {
        Ok(Ok(payload)) => HttpResponse::Ok()
            .content_type("text/plain; charset=UTF-8")
            .body(payload),
        Ok(Err(error)) => error_response(error),
        Err(_) => error_response(EngineError::UnknownSid),
    }
}

/// Protocol 4 sends binary as base64 text; an octet-stream body is an old or
/// hostile client.
fn is_binary_content(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/octet-stream"))
}

/// Reads the body, refusing it as soon as it is known to exceed `limit`.
/// Reads a POST body, refusing it past maxPayload (before buffering it
/// whole) or past the body timeout.
async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &EndpointSettings,
) -> Result<Bytes, BodyError> {
    let reading = read_body_within(req, payload, settings.max_payload);
    tokio::time::timeout(settings.body_timeout, reading)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

async fn read_body_within(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Aborted)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
