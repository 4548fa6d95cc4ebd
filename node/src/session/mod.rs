//! Engine.io sessions: one [`SessionActor`] per sid.

mod actor;
mod app_cx;
mod close;
mod factory;
mod handover;
mod heartbeat;
mod outbox;
mod parked;
mod polling;
mod upgrade;

pub use actor::{SessionActor, SessionConfig};
pub use app_cx::AppCx;
pub use close::CloseReason;
pub use factory::SessionSpawner;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod testing;
