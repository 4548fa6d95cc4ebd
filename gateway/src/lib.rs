//! Switchyard's HTTP edge: the engine.io routes and the [`GatewayActor`].
//!
//! - [`routes`] mounts an engine.io endpoint (`/socket.io/`, `/engine.io/`)
//!   on an actix-web app: it validates each request, answers protocol errors,
//!   and hands the rest to a session.
//! - [`polling`] and [`websocket`] turn HTTP requests and WebSocket frames
//!   into [`SessionRequest`]s.
//! - [`GatewayActor`] knows which sessions live on this node and routes each
//!   request to the right one; [`forward`] sends requests for sessions of
//!   other nodes to their owner.
//! - [`session`] is the interface to the sessions themselves. The node crate
//!   implements it; the gateway never sees a session's insides.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capacity;
pub mod forward;
pub mod gateway_actor;
pub mod origin;
pub mod polling;
pub mod routes;
pub mod session;
pub mod websocket;

pub use capacity::Capacity;
pub use forward::{ForwardError, Forwarder, NoForwarding};
pub use gateway_actor::GatewayActor;
pub use routes::{Endpoint, EndpointSettings};
pub use session::{
    Adopt, AllowRequest, ClaimFuture, EndpointId, HandshakeInfo, SessionFactory, SessionRequest,
    WsLink, WsOut,
};
