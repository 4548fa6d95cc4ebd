//! Wiring: the gateway, the endpoints, the ops routes and the HTTP server.

use std::{sync::Arc, time::Duration};

use actix::Actor;
use actix_web::{web, App, HttpServer};
use switchyard_gateway::{
    origin::OriginPolicy, Capacity, Endpoint, EndpointId, EndpointSettings, Forwarder,
    GatewayActor, NoForwarding,
};
use switchyard_shared::{
    cluster::Subjects,
    config::{AppKind, Settings, SettingsError},
    engine::Transport,
    sid::NodeId,
};
use tracing::info;

use crate::{
    app::{bridge, echo_io::echo, AppMaker, EngineEcho},
    cluster::{
        forward::{BusForwarder, ForwardServer},
        Cluster, ClusterBus, ClusterOps, InProcessBus, Leave, MembershipActor, NatsBus,
        NatsStartError, PeerServer, Peers,
    },
    ops::{
        drain,
        health::health,
        metrics,
        ready::{ready, Draining},
    },
    room::RoomRegistry,
    session::{SessionConfig, SessionSpawner},
    socketio::{OpsServer, SocketIo, SocketIoBuilder, SocketLimits},
};

/// How long a client may take to send a request's head; slower gets 408,
/// so a client that trickles headers holds no connection for long.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// The socket.io endpoint, at the configured path.
pub const SOCKET_IO: EndpointId = EndpointId(0);
/// The raw engine.io echo of the echo app.
pub const ENGINE_ECHO: EndpointId = EndpointId(1);
/// Where the echo app serves [`ENGINE_ECHO`].
pub const ENGINE_ECHO_PATH: &str = "/engine.io/";

/// Why the node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A setting that only makes sense with others was wrong.
    #[error("{0}")]
    Settings(#[from] SettingsError),
    /// NATS could not be used.
    #[error("{0}")]
    Nats(#[from] NatsStartError),
    /// The metrics recorder could not be installed.
    #[error("metrics: {0}")]
    Metrics(#[from] metrics_exporter_prometheus::BuildError),
    /// The listen address could not be bound, or the server failed.
    #[error("http server on {addr}: {source}")]
    Http {
        /// The configured listen address.
        addr: std::net::SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// HTTP routes a binary of your own serves beside Socket.IO and the ops
/// routes, such as its web page; see `node/examples/chat/`.
pub type Routes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// Runs a node with the app that the settings name, until the process stops.
pub async fn run(settings: Settings) -> Result<(), ServerError> {
    match settings.app {
        AppKind::Echo => run_app(settings, echo()).await,
        AppKind::Bridge => {
            let app = bridge::app(&settings);
            let routes = bridge::http_routes(&settings);
            run_app_with_routes(settings, app, routes).await
        }
    }
}

/// Runs a node with your own socket.io app, until the process stops.
///
/// This is how a binary of your own embeds Switchyard; see
/// `node/examples/chat.rs`. With `nats.url` set the node joins the cluster
/// there (waiting for NATS if needed); otherwise it runs alone.
pub async fn run_app(settings: Settings, app: SocketIoBuilder) -> Result<(), ServerError> {
    run_app_with_routes(settings, app, Arc::new(|_| {})).await
}

/// [`run_app`], with `routes` served too.
pub async fn run_app_with_routes(
    settings: Settings,
    app: SocketIoBuilder,
    routes: Routes,
) -> Result<(), ServerError> {
    let node = match settings.node_id()? {
        Some(node) => node,
        None => {
            let random = uuid::Uuid::new_v4().into_bytes();
            NodeId::from_random(random[..6].try_into().unwrap_or_default())
        }
    };
    let bus: Arc<dyn ClusterBus> = if settings.nats.url.is_empty() {
        Arc::new(InProcessBus::alone())
    } else {
        Arc::new(NatsBus::connect(&settings.nats, &node, settings.max_payload).await?)
    };
    serve(settings, app, node, bus, routes).await
}

/// Runs a node on a bus that is already connected (what [`run_app`] does
/// once it has one). One node per process: the metrics recorder is global.
pub async fn serve(
    settings: Settings,
    app: SocketIoBuilder,
    node: NodeId,
    bus: Arc<dyn ClusterBus>,
    routes: Routes,
) -> Result<(), ServerError> {
    let metrics = metrics::install()?;
    let addr = settings.listen_addr()?;
    let subjects = Subjects::new(&settings.nats.prefix).map_err(|error| SettingsError {
        key: "nats.prefix",
        env: "NATS__PREFIX".into(),
        reason: error.to_string(),
    })?;
    let cluster = Cluster {
        node: node.clone(),
        bus,
        subjects,
    };
    let capacity = Capacity::new(settings.limits.max_sessions);
    let gateway = GatewayActor::new(capacity.clone()).start();
    let membership = MembershipActor::new(
        cluster.clone(),
        Duration::from_millis(settings.cluster.heartbeat_interval_ms),
        Duration::from_millis(settings.cluster.heartbeat_timeout_ms),
    );
    let members = membership.members();
    let membership = membership.start();
    ForwardServer::new(cluster.clone(), gateway.clone()).start();
    PeerServer::new(cluster.clone(), gateway.clone()).start();
    let peers = cluster
        .has_peers()
        .then(|| Peers::new(cluster.clone(), members.clone(), settings.request_timeout()));
    let forwarder: Arc<dyn Forwarder> = if cluster.has_peers() {
        Arc::new(BusForwarder::new(
            cluster.clone(),
            members,
            settings.ping_interval(),
            settings.request_timeout(),
        ))
    } else {
        Arc::new(NoForwarding)
    };
    let rooms = RoomRegistry::new(cluster.clone()).with_multi_room(settings.cluster.multi_room);
    let ops = ClusterOps {
        cluster: cluster.clone(),
        membership: membership.clone(),
        recheck: Duration::from_millis(settings.cluster.heartbeat_interval_ms),
    };
    let io = app
        .limits(SocketLimits::from(&settings.limits))
        .cluster(ops)
        .build(rooms.start(), settings.connect_timeout());
    OpsServer::new(io.clone()).start();
    let draining = Draining::default();
    let routing = Routing {
        gateway: gateway.clone(),
        forwarder,
        peers,
    };
    let endpoints = endpoints(&settings, &node, routing, &io, &draining, &capacity)?;
    let api_io = io.clone();
    let ready_membership = membership.clone();
    let ready_draining = draining.clone();
    let ready_capacity = capacity.clone();
    let server = HttpServer::new(move || {
        let mut app = App::new()
            .app_data(web::Data::new(metrics.clone()))
            .app_data(web::Data::new(ready_membership.clone()))
            .app_data(web::Data::new(ready_draining.clone()))
            .app_data(web::Data::new(ready_capacity.clone()))
            .app_data(web::Data::new(api_io.clone()))
            .route("/health", web::get().to(health))
            .route("/health", web::head().to(health))
            .route("/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics::render));
        for endpoint in &endpoints {
            app = app.configure(|cfg| endpoint.mount(cfg));
        }
        app.configure(|cfg| routes(cfg))
    })
    .workers(worker_count(settings.workers))
    .disable_signals()
    .client_request_timeout(HEAD_TIMEOUT)
    .shutdown_timeout(settings.drain_timeout().as_secs().max(1))
    .bind(addr)
    .map_err(|source| ServerError::Http { addr, source })?;
    let bound = server.addrs().first().copied().unwrap_or(addr);
    info!(%node, addr = %bound, app = ?settings.app, path = %settings.path, "switchyard node listening");
    let server = server.run();
    drain::on_stop_signal(server.handle(), gateway, membership.clone(), draining);
    let result = server.await;
    let _ = membership.send(Leave).await;
    result.map_err(|source| ServerError::Http { addr, source })
}

/// HTTP workers: as configured, or one per CPU this process may run on.
/// Workers beyond the usable CPUs only add thread switches between the
/// workers and the shared actors.
fn worker_count(configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    std::thread::available_parallelism().map_or(1, |cpus| cpus.get())
}

/// Where an endpoint's requests go: local sessions, other nodes' sessions,
/// and sessions moving between nodes.
struct Routing {
    gateway: actix::Addr<GatewayActor>,
    forwarder: Arc<dyn Forwarder>,
    peers: Option<Peers>,
}

/// The engine endpoints this node serves: socket.io, plus the app's own.
fn endpoints(
    settings: &Settings,
    node: &NodeId,
    routing: Routing,
    io: &SocketIo,
    draining: &Draining,
    capacity: &Capacity,
) -> Result<Vec<Endpoint>, SettingsError> {
    let session_config = Arc::new(SessionConfig {
        ping_interval: settings.ping_interval(),
        ping_timeout: settings.ping_timeout(),
        upgrade_timeout: settings.upgrade_timeout(),
        websocket_enabled: settings.transports.contains(&Transport::WebSocket),
        max_buffered_packets: settings.max_buffered_packets,
    });
    let endpoint_settings = Arc::new(EndpointSettings {
        transports: settings.transports.clone(),
        max_payload: settings.max_payload,
        max_buffered_packets: settings.max_buffered_packets,
        origins: OriginPolicy::new(&settings.cors.origins, settings.cors.credentials),
        body_timeout: settings.limits.body_timeout(),
        max_header_bytes: settings.limits.max_header_bytes,
        capacity: capacity.clone(),
        allow_request: io.allow_request(),
    });
    let Routing {
        gateway,
        forwarder,
        peers,
    } = routing;
    let endpoint = |id, path: &str, app: AppMaker| {
        let mut spawner = SessionSpawner::new(
            node.clone(),
            gateway.clone(),
            session_config.clone(),
            settings.max_payload as u64,
            app,
        );
        if let Some(peers) = &peers {
            spawner = spawner.with_peers(peers.clone());
        }
        Endpoint {
            id,
            path: path.to_owned(),
            settings: endpoint_settings.clone(),
            gateway: gateway.clone(),
            node: node.clone(),
            forwarder: forwarder.clone(),
            factory: Arc::new(spawner),
            draining: draining.0.clone(),
        }
    };
    let mut endpoints = vec![endpoint(SOCKET_IO, &settings.path, io.app_maker())];
    match settings.app {
        AppKind::Echo => {
            if settings.path == ENGINE_ECHO_PATH {
                return Err(SettingsError {
                    key: "path",
                    env: "PATH".into(),
                    reason: format!(
                        "{ENGINE_ECHO_PATH} is taken by the echo app's engine.io endpoint"
                    ),
                });
            }
            endpoints.push(endpoint(
                ENGINE_ECHO,
                ENGINE_ECHO_PATH,
                Arc::new(|_| Box::new(EngineEcho)),
            ));
        }
        AppKind::Bridge => {}
    }
    Ok(endpoints)
}
