//! A Switchyard node: the actors behind the HTTP edge, and the wiring.
//!
//! - [`session`]: one [`session::SessionActor`] per engine.io session. It owns
//!   the transport (parked GET, outgoing buffer or WebSocket link), the
//!   heartbeat and the upgrade, and hands messages to the app; its
//!   `handover` module moves a session to the node that took its WebSocket.
//! - [`socketio`]: socket.io on the engine, and the Rust API apps use,
//!   cluster-wide operations included.
//! - [`room`]: the registry of local room members, which serves every
//!   broadcast in one order, and one [`room::RoomActor`] per room holding
//!   its cluster subscription.
//! - [`cluster`]: the bus between nodes (NATS, or in-process), membership,
//!   forwarding of polling requests to their owner, what two nodes say
//!   about a moving session, and scatter/gather to every node.
//! - [`app`]: what runs on top of the engine: the reference echo app, and
//!   the bridge app that connects clients to back-ends over NATS.
//! - [`ops`]: health, readiness, Prometheus metrics, and the graceful drain.
//! - [`settings`]: loading [`switchyard_shared::config::Settings`] from the
//!   defaults, a file and the environment.
//! - [`server`]: starts the gateway, mounts the endpoints and serves HTTP.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod cluster;
pub mod ops;
pub mod room;
pub mod server;
pub mod session;
pub mod settings;
pub mod socketio;
