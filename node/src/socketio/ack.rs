//! Acknowledgements: the client's acks to server emits, and the server's
//! acks to client events.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    LazyLock,
};

use actix::{Addr, SpawnHandle};
use switchyard_shared::socket::{Packet, Payload};
use tokio::sync::{mpsc, oneshot};

use super::{frames, AckEvent, SocketCommand, SocketId};
use crate::session::SessionActor;

/// Why an emit-with-ack produced no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The client did not answer within the timeout.
    #[error("ack timed out")]
    Timeout,
    /// The socket disconnected first.
    #[error("socket disconnected")]
    Disconnected,
    /// The server already awaits `limits.max_pending_acks` acks from it.
    #[error("too many acks awaited from this socket")]
    TooManyPending,
}

/// Ack ids come from one counter per node, so that an id a broadcast uses
/// for many sockets never collides with one a socket uses alone on this
/// node. Broadcasts from other nodes carry their origin's ids, so each
/// node's counter starts at a random point below 2^40 (still exact in a
/// JavaScript number): two nodes' ranges rarely meet, and a session skips a
/// broadcast whose id it already waits on.
static NEXT_ACK_ID: LazyLock<AtomicU64> = LazyLock::new(|| {
    let random = uuid::Uuid::new_v4().as_u64_pair().0;
    AtomicU64::new(random % ACK_ID_START_LIMIT)
});

/// Ack ids start below this.
const ACK_ID_START_LIMIT: u64 = 1 << 40;

/// A fresh ack id for this node.
pub(crate) fn next_ack_id() -> u64 {
    NEXT_ACK_ID.fetch_add(1, Ordering::Relaxed)
}

/// An emit waiting for the client's ack.
pub(crate) struct PendingAck {
    /// The namespace the ack must come on.
    pub(crate) nsp: std::sync::Arc<str>,
    /// Who waits for it.
    pub(crate) reply: AckReply,
    /// The timeout, cancelled when the ack arrives.
    pub(crate) timer: SpawnHandle,
}

/// Who waits for an ack: one emitter, or a broadcast's collector.
pub(crate) enum AckReply {
    Direct(oneshot::Sender<Result<Payload, AckError>>),
    Broadcast(mpsc::UnboundedSender<AckEvent>),
}

impl AckReply {
    /// Delivers the ack, or `error` when there is none. A broadcast's
    /// collector only hears answers: a recipient that never answers is what
    /// makes the broadcast time out.
    pub(crate) fn answer(self, answer: Result<Payload, AckError>) {
        match (self, answer) {
            (Self::Direct(reply), answer) => {
                let _ = reply.send(answer);
            }
            (Self::Broadcast(events), Ok(payload)) => {
                let _ = events.send(AckEvent::Answer(Some(payload)));
            }
            (Self::Broadcast(_), Err(_)) => {}
        }
    }
}

/// The server's answer to a client event that asked for an ack. Sending
/// consumes it, because an ack id is answered at most once.
pub struct Ack {
    pub(crate) session: Addr<SessionActor>,
    pub(crate) nsp: std::sync::Arc<str>,
    pub(crate) socket: SocketId,
    pub(crate) id: u64,
}

impl Ack {
    /// Answers the client's event with `payload`.
    pub fn send(self, payload: impl Into<Payload>) {
        let packet = Packet::ack(&self.nsp, payload.into(), self.id);
        self.session.do_send(SocketCommand::Emit {
            nsp: self.nsp,
            socket: self.socket,
            frames: frames(&packet),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_ids_start_below_2_40_and_count_up() {
        let first = next_ack_id();
        assert!(first < ACK_ID_START_LIMIT + 1_000_000, "{first}");
        assert!(next_ack_id() > first);
    }
}
