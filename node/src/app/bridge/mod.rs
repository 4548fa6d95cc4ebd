//! The `bridge` app: Socket.IO clients on one side, back-end services in
//! any language on the other, with NATS between them.
//!
//! - [`events`]: a client's event goes to `<prefix>.events.<nsp>.<event>`;
//!   when the client asked for an ack it is a NATS request, and the reply
//!   is the ack. A socket's end goes to `<prefix>.disconnects.<nsp>`.
//! - [`auth`]: with `bridge.auth` on, each CONNECT is first a request to
//!   `<prefix>.auth.<nsp>`, whose reply accepts (with data and rooms) or
//!   refuses it.
//! - [`api`]: what back-ends ask of the clients (emit, join, leave,
//!   disconnect, fetch, server-emit), cluster-wide, served on
//!   `<prefix>.api.<op>` ([`api_nats`]) and, with a token, over HTTP at
//!   `/api/v1/<op>` ([`api_http`]).
//!
//! The message formats are in [`message`] and in the README ("Write a
//! back-end").

pub mod api;
mod api_http;
mod api_nats;
mod auth;
mod events;
pub mod message;

use std::sync::{Arc, OnceLock};

use switchyard_shared::config::{BridgeSettings, Settings};

use crate::{
    cluster::Cluster,
    server::Routes,
    socketio::{Namespace, SocketIo, SocketIoBuilder},
};

/// The `bridge` app for these settings: one namespace per
/// `bridge.namespaces` entry, and the NATS API started with the node.
pub fn app(settings: &Settings) -> SocketIoBuilder {
    let bridge = Arc::new(settings.bridge.clone());
    // The node's cluster exists once the app is bound to it.
    let cluster: Arc<OnceLock<Cluster>> = Arc::default();
    let started = cluster.clone();
    let headers: Arc<[String]> = settings.bridge.headers.clone().into();
    let mut app = SocketIo::builder().on_start(move |io| {
        if let Some(ops) = io.cluster_ops() {
            let _ = started.set(ops.cluster.clone());
        }
        api_nats::start(io, headers.clone());
    });
    for name in &settings.bridge.namespaces {
        app = app.ns(namespace(name, &bridge, &cluster));
    }
    app
}

fn namespace(
    name: &str,
    bridge: &Arc<BridgeSettings>,
    cluster: &Arc<OnceLock<Cluster>>,
) -> Namespace {
    let mut namespace = Namespace::new(name);
    if bridge.auth {
        let (settings, cluster) = (bridge.clone(), cluster.clone());
        namespace = namespace
            .middleware(move |request| auth::ask(settings.clone(), cluster.clone(), request));
    }
    let settings = bridge.clone();
    namespace.on_connection(move |socket| events::on_connection(socket, &settings))
}

/// The HTTP API's routes: `/api/v1/<op>` when `api.token` is set, none
/// otherwise.
pub fn http_routes(settings: &Settings) -> Routes {
    match settings.api.enabled_token() {
        Some(token) => api_http::routes(token.to_owned(), settings.bridge.headers.clone().into()),
        None => Arc::new(|_| {}),
    }
}
