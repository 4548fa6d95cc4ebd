//! Engine.io sessions: one [`SessionActor`] per sid.

mod actor;
mod close;
mod factory;
mod heartbeat;
mod outbox;
mod parked;
mod polling;
mod upgrade;

pub use actor::{SessionActor, SessionConfig};
pub use close::CloseReason;
pub use factory::SessionSpawner;

#[cfg(test)]
mod tests;
