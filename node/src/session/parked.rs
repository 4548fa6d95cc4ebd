//! The long-poll GET a polling session holds while it has nothing to send.

use tokio::sync::oneshot;

use switchyard_gateway::session::PollReply;

use crate::ops::metrics;

/// At most one parked GET; the gauge of parked polls follows it exactly.
#[derive(Default)]
pub(crate) struct ParkedPoll(Option<oneshot::Sender<PollReply>>);

impl ParkedPoll {
    /// Parks `reply` until there is data, a noop, or the close.
    pub(crate) fn park(&mut self, reply: oneshot::Sender<PollReply>) {
        if let Some(old) = self.0.replace(reply) {
            drop(old);
        } else {
            metrics::poll_parked();
        }
    }

    /// Takes the parked GET, to answer it.
    pub(crate) fn take(&mut self) -> Option<oneshot::Sender<PollReply>> {
        let reply = self.0.take();
        if reply.is_some() {
            metrics::poll_released();
        }
        reply
    }

    /// Whether a GET is parked and its client still waits for it.
    pub(crate) fn is_waiting(&self) -> bool {
        self.0.as_ref().is_some_and(|reply| !reply.is_closed())
    }
}

impl Drop for ParkedPoll {
    fn drop(&mut self) {
        self.take();
    }
}
