//! [`Capacity`]: how many sessions this node has, against its limit.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

/// The node's session count and `limits.max_sessions`, readable without
/// asking the [`crate::GatewayActor`], which keeps the count: every
/// handshake and every `/ready` looks at it.
#[derive(Debug, Clone, Default)]
pub struct Capacity {
    sessions: Arc<AtomicUsize>,
    max: usize,
}

impl Capacity {
    /// A count starting at zero, full at `max` sessions (0: never full).
    pub fn new(max: usize) -> Self {
        Self {
            sessions: Arc::default(),
            max,
        }
    }

    /// The sessions this node has now.
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Relaxed)
    }

    /// The most sessions the node takes; 0 means no limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether a new session must be refused.
    pub fn is_full(&self) -> bool {
        self.max > 0 && self.sessions() >= self.max
    }

    pub(crate) fn set(&self, sessions: usize) {
        self.sessions.store(sessions, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::Capacity;

    #[test]
    fn full_at_the_limit_and_never_without_one() {
        let capacity = Capacity::new(2);
        capacity.set(1);
        assert!(!capacity.is_full());
        capacity.set(2);
        assert!(capacity.is_full());
        let unlimited = Capacity::new(0);
        unlimited.set(1_000_000);
        assert!(!unlimited.is_full());
    }
}
