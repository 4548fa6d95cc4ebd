//! Mounting an engine.io endpoint and dispatching its requests.

use std::{collections::HashMap, sync::Arc};

use actix::Addr;
use actix_web::{
    dev::{Service as _, ServiceResponse},
    http::{header, Method, StatusCode},
    middleware::Condition,
    web, HttpRequest, HttpResponse,
};
use futures_util::{
    future::{ready, Either},
    FutureExt as _,
};
use switchyard_shared::{
    engine::{EngineError, RequestQuery, Transport},
    sid::NodeId,
};

use crate::{
    forward::Forwarder,
    origin::OriginPolicy,
    polling,
    session::{AllowRequest, EndpointId, HandshakeInfo, SessionFactory},
    websocket, Capacity, GatewayActor,
};

/// The limits and policies of one endpoint.
#[derive(Clone)]
pub struct EndpointSettings {
    /// Transports clients may use.
    pub transports: Vec<Transport>,
    /// Largest POST body or WebSocket frame, in bytes.
    pub max_payload: usize,
    /// Most frames queued for one WebSocket.
    pub max_buffered_packets: usize,
    /// Which browser origins may connect.
    pub origins: OriginPolicy,
    /// Longest a POST body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// The node's sessions against its limit: new sessions are refused when full.
    pub capacity: Capacity,
    /// The app's check of each handshake, if it has one.
    pub allow_request: Option<AllowRequest>,
}

/// One engine.io endpoint: a path, its sessions' factory and the gateway.
#[derive(Clone)]
pub struct Endpoint {
    /// Tells this endpoint's sessions from other endpoints'.
    pub id: EndpointId,
    /// The mount path, with its trailing `/`.
    pub path: String,
    /// Limits and policies.
    pub settings: Arc<EndpointSettings>,
    /// The node's directory of sessions.
    pub gateway: Addr<GatewayActor>,
    /// Starts new sessions.
    pub factory: Arc<dyn SessionFactory>,
    /// This node: sids that name another node are forwarded.
    pub node: NodeId,
    /// Carries requests to other nodes.
    pub forwarder: Arc<dyn Forwarder>,
    /// Set when the node is shutting down: new sessions are refused.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl Endpoint {
    /// Adds this endpoint's routes to an app; use with `App::configure`.
    ///
    /// Both `/path/` and `/path` are served, as clients differ on the slash.
    /// Each is its own resource: one static path is matched by comparing
    /// strings, where a resource with several paths runs a regex on every
    /// request.
    pub fn mount(&self, cfg: &mut web::ServiceConfig) {
        let bare = self.path.trim_end_matches('/');
        self.mount_at(cfg, &self.path);
        if !bare.is_empty() {
            self.mount_at(cfg, bare);
        }
    }

    fn mount_at(&self, cfg: &mut web::ServiceConfig, path: &str) {
        let cors = self.settings.origins.cors();
        let origins = self.settings.origins.clone();
        cfg.service(
            web::resource(path)
                .app_data(web::Data::new(self.clone()))
                .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
                // Outside CORS, so that a preflight from an unlisted origin
                // gets the engine's 403 too.
                .wrap_fn(move |req, srv| {
                    if origins.allows(req.headers().get(header::ORIGIN)) {
                        let call = srv.call(req);
                        Either::Left(call.map(|res| res.map(ServiceResponse::map_into_boxed_body)))
                    } else {
                        let refused = error_response(EngineError::Forbidden);
                        Either::Right(ready(Ok(req.into_response(refused))))
                    }
                })
                .to(dispatch),
        );
    }
}

/// Answers an engine error the way the protocol says: status and JSON body.
pub fn error_response(error: EngineError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(error.http_status())
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .content_type("application/json")
        .body(error.body())
}

async fn dispatch(req: HttpRequest, body: web::Payload, ep: web::Data<Endpoint>) -> HttpResponse {
    if req.method() == Method::OPTIONS {
        return HttpResponse::NoContent().finish();
    }
    if head_bytes(&req) > ep.settings.max_header_bytes {
        return HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .content_type("text/plain")
            .body("request headers too large");
    }
    let Ok(params) = web::Query::<HashMap<String, String>>::from_query(req.query_string()) else {
        return error_response(EngineError::BadRequest);
    };
    let get = |key: &str| params.get(key).map(String::as_str);
    let query = match RequestQuery::parse(
        get("EIO"),
        get("transport"),
        get("sid"),
        &ep.settings.transports,
    ) {
        Ok(query) => query,
        Err(error) => return error_response(error),
    };
    let is_get = req.method() == Method::GET;
    let is_post = req.method() == Method::POST;
    let wants_ws = is_websocket_upgrade(&req);
    match (query.sid, query.transport) {
        (None, _) if !is_get => error_response(EngineError::BadHandshakeMethod),
        (None, _) if ep.draining.load(std::sync::atomic::Ordering::Relaxed) => {
            // Another node should take it: the load balancer, or the
            // client's retry, goes elsewhere.
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("this node is shutting down")
        }
        (None, _) if ep.settings.capacity.is_full() => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!(
                "this node has its maximum of {} sessions",
                ep.settings.capacity.max()
            )),
        (None, transport) => {
            let info = handshake_info(&req, &params);
            if let Some(allow) = &ep.settings.allow_request {
                if !allow(&info) {
                    return error_response(EngineError::Forbidden);
                }
            }
            match transport {
                Transport::Polling => polling::handshake(&ep, info).await,
                Transport::WebSocket if wants_ws => websocket::handshake(&ep, &req, body, info),
                Transport::WebSocket => error_response(EngineError::BadRequest),
            }
        }
        (Some(sid), Transport::Polling) if is_get => polling::poll(&ep, sid).await,
        (Some(sid), Transport::Polling) if is_post => polling::post(&ep, &req, sid, body).await,
        (Some(sid), Transport::WebSocket) if wants_ws => {
            websocket::upgrade(&ep, &req, body, sid).await
        }
        _ => error_response(EngineError::BadRequest),
    }
}

/// The size of the request line and headers, as a client sent them.
fn head_bytes(req: &HttpRequest) -> usize {
    // Method, path, `?` and query, spaces, `HTTP/1.1` and the line end.
    let line = req.method().as_str().len() + req.path().len() + req.query_string().len() + 13;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    line + headers
}

fn is_websocket_upgrade(req: &HttpRequest) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn handshake_info(req: &HttpRequest, params: &HashMap<String, String>) -> HandshakeInfo {
    let headers = req
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    HandshakeInfo {
        query: params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        headers,
        address: req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
        url: req.uri().to_string(),
        secure: req.connection_info().scheme() == "https",
    }
}
