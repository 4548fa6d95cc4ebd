//! Broadcast delivery to one of the session's sockets.

use std::{sync::Arc, time::Instant};

use super::{
    ack::AckReply,
    broadcast::{AckEvent, Broadcast, BroadcastId},
    client::SocketIoClient,
    SocketId,
};
use crate::session::AppCx;

/// How many broadcasts a session remembers to drop second copies.
const SEEN_BROADCASTS: usize = 256;

impl SocketIoClient {
    /// Writes a broadcast for one of this session's sockets, unless the
    /// socket has left the target rooms, is excepted, already has it,
    /// (volatile) cannot take it now, or (with acks) already waits on an
    /// ack of the same id.
    pub(super) fn deliver(
        &mut self,
        broadcast: Arc<Broadcast>,
        socket: SocketId,
        cx: &mut AppCx<'_>,
    ) {
        let skip = match self.sockets.get(&broadcast.nsp) {
            None => true,
            Some(state) => {
                *state.socket.id() != socket
                    // The session's own view of the socket's rooms is the
                    // latest: a leave may still be on its way to the registry.
                    || !(broadcast.rooms.is_empty()
                        || broadcast.rooms.iter().any(|room| state.rooms.contains(room)))
                    || broadcast
                        .except
                        .iter()
                        .any(|room| state.rooms.contains(room))
                    || (broadcast.volatile && !cx.is_writable())
            }
        };
        let duplicate = !skip
            && (broadcast.rooms.len() > 1 || self.dedupe_all())
            && !self.first_sight(broadcast.id);
        // The origin node chose the ack id; a session already waiting on
        // that id for something else cannot be asked again under it.
        let taken = broadcast.acks.as_ref().is_some_and(|acks| {
            self.pending.contains_key(&acks.id) || !self.may_await_ack(&broadcast.nsp)
        });
        if skip || duplicate || taken {
            if let Some(acks) = &broadcast.acks {
                let _ = acks.events.send(AckEvent::Answer(None));
            }
            return;
        }
        cx.send_all(&broadcast.frames);
        if let Some(acks) = &broadcast.acks {
            let _ = acks.events.send(AckEvent::Delivered);
            let reply = AckReply::Broadcast(acks.events.clone());
            self.await_ack(broadcast.nsp.clone(), acks.id, acks.timeout, reply, cx);
        }
    }

    /// Whether the session has just moved here, so that any broadcast may
    /// arrive twice (see `dedupe_until`).
    fn dedupe_all(&mut self) -> bool {
        match self.dedupe_until {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                self.dedupe_until = None;
                false
            }
            None => false,
        }
    }

    /// Records a broadcast; false if it was seen already.
    fn first_sight(&mut self, id: BroadcastId) -> bool {
        if self.seen.contains(&id) {
            return false;
        }
        if self.seen.len() == SEEN_BROADCASTS {
            self.seen.pop_front();
        }
        self.seen.push_back(id);
        true
    }
}
