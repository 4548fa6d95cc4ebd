//! Prometheus metrics, recorded with the `metrics` crate.
//!
//! The recording helpers live here so that metric names are written once.

use actix_web::{web, HttpResponse};
use std::sync::OnceLock;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter, Gauge,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use switchyard_shared::engine::Transport;

use crate::session::CloseReason;

const SESSIONS: &str = "switchyard_engine_sessions";
const SESSIONS_CLOSED: &str = "switchyard_engine_sessions_closed_total";
const PACKETS_IN: &str = "switchyard_engine_packets_in_total";
const POLLS_PARKED: &str = "switchyard_engine_polls_parked";
const POLLING_REQUESTS: &str = "switchyard_engine_polling_requests_total";
const FORWARDED: &str = "switchyard_forwarded_requests_total";
const FORWARD_SECONDS: &str = "switchyard_forwarded_request_seconds";
const CLUSTER_MEMBERS: &str = "switchyard_cluster_members";
const NATS_RECONNECTS: &str = "switchyard_nats_reconnects_total";
const BUS_DROPPED: &str = "switchyard_bus_dropped_total";
const HANDOVERS: &str = "switchyard_handovers_total";
const HANDOVER_SECONDS: &str = "switchyard_handover_seconds";
const HANDOVER_HELD: &str = "switchyard_handover_held_items_total";
const HANDOVERS_ARRIVING: &str = "switchyard_handovers_in_progress";
const PACKETS_OUT: &str = "switchyard_engine_packets_out_total";
const BYTES_IN: &str = "switchyard_engine_bytes_in_total";
const BYTES_OUT: &str = "switchyard_engine_bytes_out_total";
const HANDSHAKES: &str = "switchyard_engine_handshakes_total";
const UPGRADES: &str = "switchyard_engine_upgrades_total";
const SOCKETS: &str = "switchyard_sockets";
const ROOMS: &str = "switchyard_rooms";
const BROADCASTS: &str = "switchyard_broadcasts_total";
const BRIDGE: &str = "switchyard_bridge_messages_total";
const LIMITS: &str = "switchyard_limits_reached_total";

/// Installs the process-wide recorder and returns the handle that renders it.
pub fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    describe_gauge!(
        SESSIONS,
        "Open engine.io sessions on this node, by transport."
    );
    describe_counter!(SESSIONS_CLOSED, "Engine.io sessions closed, by reason.");
    describe_counter!(PACKETS_IN, "Engine.io packets received from clients.");
    describe_gauge!(POLLS_PARKED, "Long-poll GETs waiting for data.");
    gauge!(POLLS_PARKED).set(0.0);
    describe_counter!(
        POLLING_REQUESTS,
        "Polling GETs and POSTs handled by their session's owner, by kind."
    );
    describe_counter!(
        FORWARDED,
        "Polling requests forwarded to the node that owns the session, by kind."
    );
    describe_histogram!(
        FORWARD_SECONDS,
        "Time from forwarding a polling request to its answer."
    );
    describe_gauge!(CLUSTER_MEMBERS, "Live cluster members, this node included.");
    describe_counter!(NATS_RECONNECTS, "Times the NATS connection dropped.");
    describe_counter!(
        BUS_DROPPED,
        "Cluster messages dropped because the outgoing queue was full."
    );
    describe_counter!(
        HANDOVERS,
        "Sessions that moved here from another node with their WebSocket upgrade, by outcome (ok, or the stage that failed)."
    );
    describe_gauge!(
        HANDOVERS_ARRIVING,
        "Sessions arriving here from another node that are not live yet."
    );
    gauge!(HANDOVERS_ARRIVING).set(0.0);
    describe_counter!(
        HANDOVER_HELD,
        "Commands and broadcasts the old node held back during handovers and passed on."
    );
    describe_histogram!(
        HANDOVER_SECONDS,
        "Time from the client's upgrade packet to the moved session going live here."
    );
    describe_counter!(PACKETS_OUT, "Engine.io packets queued for clients.");
    describe_counter!(
        BYTES_IN,
        "Bytes of engine.io traffic from clients (frames and POST bodies)."
    );
    describe_counter!(BYTES_OUT, "Bytes of engine.io packets queued for clients.");
    describe_counter!(
        HANDSHAKES,
        "New engine.io sessions, by the transport they opened on."
    );
    describe_counter!(
        UPGRADES,
        "Sessions upgraded from polling to WebSocket on this node."
    );
    describe_gauge!(
        SOCKETS,
        "Connected socket.io sockets, by namespace (a pattern's sockets count under the pattern)."
    );
    describe_gauge!(
        ROOMS,
        "Rooms with a member on this node, whole namespaces included."
    );
    describe_counter!(
        BROADCASTS,
        "Broadcasts sent from this node, and received from others."
    );
    describe_counter!(
        BRIDGE,
        "Messages of the bridge app with back-ends, by kind (event, auth) and outcome (published, answered, timeout, no_responders, ...)."
    );
    describe_counter!(
        LIMITS,
        "Requests refused because a limit was reached, by limit (sessions, namespaces, rooms_per_socket, pending_acks, header_bytes, body_timeout)."
    );
    gauge!(ROOMS).set(0.0);
    for transport in [Transport::Polling, Transport::WebSocket] {
        gauge!(SESSIONS, "transport" => transport.as_str()).set(0.0);
    }
    Ok(handle)
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// The sessions gauge of `transport`, looked up once: it changes at every
/// session's start and end.
fn sessions(transport: Transport) -> &'static Gauge {
    static POLLING: OnceLock<Gauge> = OnceLock::new();
    static WEBSOCKET: OnceLock<Gauge> = OnceLock::new();
    let cell = match transport {
        Transport::Polling => &POLLING,
        Transport::WebSocket => &WEBSOCKET,
    };
    cell.get_or_init(|| gauge!(SESSIONS, "transport" => transport.as_str()))
}

/// A session actor started.
pub fn session_opened(transport: Transport) {
    sessions(transport).increment(1.0);
}

/// A session actor stopped.
pub fn session_ended(transport: Transport) {
    sessions(transport).decrement(1.0);
}

/// A session changed transport (an upgrade).
pub fn session_moved(from: Transport, to: Transport) {
    session_ended(from);
    session_opened(to);
}

/// A session closed, and why.
pub fn session_closed(reason: CloseReason) {
    counter!(SESSIONS_CLOSED, "reason" => reason.as_str()).increment(1);
}

/// A packet arrived from a client; the counter is looked up once, since
/// this runs for every packet.
pub fn packet_in() {
    static PACKETS: OnceLock<Counter> = OnceLock::new();
    PACKETS.get_or_init(|| counter!(PACKETS_IN)).increment(1);
}

/// A packet of `bytes` bytes was queued for a client.
pub fn packet_out(bytes: usize) {
    static PACKETS: OnceLock<Counter> = OnceLock::new();
    static BYTES: OnceLock<Counter> = OnceLock::new();
    PACKETS.get_or_init(|| counter!(PACKETS_OUT)).increment(1);
    BYTES
        .get_or_init(|| counter!(BYTES_OUT))
        .increment(bytes as u64);
}

/// `bytes` bytes arrived from a client (a WebSocket frame or a POST body).
pub fn bytes_in(bytes: usize) {
    static BYTES: OnceLock<Counter> = OnceLock::new();
    BYTES
        .get_or_init(|| counter!(BYTES_IN))
        .increment(bytes as u64);
}

/// A client opened a new session.
pub fn handshake(transport: Transport) {
    counter!(HANDSHAKES, "transport" => transport.as_str()).increment(1);
}

/// A session upgraded to WebSocket on the node that owns it.
pub fn upgrade() {
    counter!(UPGRADES).increment(1);
}

/// A socket joined (`1`) or left (`-1`) namespace `label`.
pub fn sockets(label: &str, change: f64) {
    gauge!(SOCKETS, "namespace" => label.to_owned()).increment(change);
}

/// The rooms with a local member now.
pub fn rooms(count: usize) {
    gauge!(ROOMS).set(count as f64);
}

/// A broadcast was sent from this node (`sent`) or came from another (`received`).
pub fn broadcast(direction: &'static str) {
    counter!(BROADCASTS, "direction" => direction).increment(1);
}

/// A long-poll GET was parked.
pub fn poll_parked() {
    gauge!(POLLS_PARKED).increment(1.0);
}

/// A parked long-poll GET was answered or dropped.
pub fn poll_released() {
    gauge!(POLLS_PARKED).decrement(1.0);
}

/// The live member count, this node included.
pub fn cluster_members(count: usize) {
    gauge!(CLUSTER_MEMBERS).set(count as f64);
}

/// The NATS connection dropped (async-nats reconnects by itself).
pub fn nats_reconnect() {
    counter!(NATS_RECONNECTS).increment(1);
}

/// A message for the bus was dropped because its queue was full.
pub fn bus_dropped() {
    counter!(BUS_DROPPED).increment(1);
}

/// A polling request was forwarded to its session's owner.
pub fn forwarded(kind: &'static str, seconds: f64) {
    counter!(FORWARDED, "kind" => kind).increment(1);
    histogram!(FORWARD_SECONDS, "kind" => kind).record(seconds);
}

/// A session started to arrive from another node.
pub fn handover_started() {
    gauge!(HANDOVERS_ARRIVING).increment(1.0);
}

/// A session arrived from another node (`ok`), or the move failed at
/// `stage`; a move that completed also records how long it took.
pub fn handover_ended(outcome: &'static str, seconds: Option<f64>) {
    gauge!(HANDOVERS_ARRIVING).decrement(1.0);
    counter!(HANDOVERS, "outcome" => outcome).increment(1);
    if let Some(seconds) = seconds {
        histogram!(HANDOVER_SECONDS).record(seconds);
    }
}

/// A moved session received `items` that its old node held back.
pub fn handover_held(items: usize) {
    counter!(HANDOVER_HELD).increment(items as u64);
}

/// A polling request reached the session that owns it (forwarded or not).
pub fn polling_request(kind: &'static str) {
    counter!(POLLING_REQUESTS, "kind" => kind).increment(1);
}

/// A bridge message to back-ends had this outcome.
pub fn bridge(kind: &'static str, outcome: &'static str) {
    counter!(BRIDGE, "kind" => kind, "outcome" => outcome).increment(1);
}

/// A request was refused at limit `limit`.
pub fn limit_reached(limit: &'static str) {
    counter!(LIMITS, "limit" => limit).increment(1);
}
