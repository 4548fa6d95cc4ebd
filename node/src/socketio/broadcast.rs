//! Broadcasts: one packet to many sockets, encoded once.
//!
//! A [`BroadcastOperator`] picks the targets (rooms, exceptions, flags);
//! its `emit` encodes the packet once into a shared [`Broadcast`] and hands
//! it to the room registry. Each room's actor passes the same `Arc` to its
//! members' sessions, which only check their own exceptions and write the
//! shared bytes.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};

use switchyard_shared::cluster::Op;
use switchyard_shared::{
    engine::Frame,
    socket::{Packet, Payload},
};
use tokio::sync::mpsc;

use super::{ack::next_ack_id, frames, ops_serve::gathered_answers, Room, SocketIo};
use crate::room::Publish;

/// How long a broadcast with acks waits when no timeout was set.
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Identifies a broadcast cluster-wide, so that a socket that is reached
/// twice (through two target rooms) delivers it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BroadcastId {
    /// Random per node process.
    pub origin: u64,
    /// Counts up per node.
    pub seq: u64,
}

impl BroadcastId {
    pub(crate) fn next() -> Self {
        static ORIGIN: OnceLock<u64> = OnceLock::new();
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let origin = *ORIGIN.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
        Self {
            origin,
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// One broadcast, encoded once and shared by every recipient.
#[derive(Debug)]
pub struct Broadcast {
    /// Removes duplicates.
    pub id: BroadcastId,
    /// The namespace it is for.
    pub nsp: Arc<str>,
    /// Target rooms; empty means the whole namespace.
    pub rooms: Vec<Room>,
    /// Sockets in any of these rooms are skipped.
    pub except: Vec<Room>,
    /// Drop it for a client whose transport is busy, rather than queue it.
    pub volatile: bool,
    /// Only to this node's sockets, even in a cluster.
    pub local: bool,
    /// The packet and its attachments, encoded.
    pub frames: Vec<Frame>,
    /// Where recipients report their acks, when they were asked for.
    pub acks: Option<AckCollector>,
}

/// Gathers the acks of a broadcast: rooms say how many members they
/// reached, members answer (or are counted out).
#[derive(Debug, Clone)]
pub struct AckCollector {
    /// The ack id written into the shared packet.
    pub id: u64,
    /// How long recipients wait for their client.
    pub timeout: Duration,
    /// The collector's inbox; its size is bounded by the recipients.
    pub events: mpsc::UnboundedSender<AckEvent>,
}

/// What the collector of a broadcast's acks learns.
#[derive(Debug)]
pub enum AckEvent {
    /// The registry reached this many rooms.
    Rooms(usize),
    /// A room handed the broadcast to this many members.
    Members(usize),
    /// A member wrote the packet to its client and now waits for its ack.
    Delivered,
    /// A member's answer, or `None` if it was not asked after all (it is
    /// excepted, reached twice, or could not take a volatile packet).
    Answer(Option<Payload>),
}

/// The answers gathered before the timeout, when not every recipient answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} of the expected acks arrived before the timeout", .received.len())]
pub struct BroadcastAckTimeout {
    /// The answers that did arrive.
    pub received: Vec<Payload>,
}

/// Chooses the recipients of a broadcast, then sends it.
///
/// ```no_run
/// # async fn example(io: switchyard_node::socketio::SocketIo) {
/// use std::time::Duration;
/// use switchyard_shared::socket::Payload;
///
/// let news = Payload::from_serialize(&["the news"]).unwrap();
/// // Rooms `a` and `b`, each socket once, except those in `muted`.
/// io.of("/").to("a").to("b").except("muted").emit("news", news.clone());
/// // Everyone in `a`, gathering their acks for up to two seconds.
/// let answers = io.of("/").to("a").timeout(Duration::from_secs(2)).emit_with_ack("poll", news).await;
/// # let _ = answers;
/// # }
/// ```
#[derive(Clone)]
pub struct BroadcastOperator {
    pub(super) io: SocketIo,
    pub(super) nsp: Arc<str>,
    pub(super) rooms: Vec<Room>,
    pub(super) except: Vec<Room>,
    pub(super) volatile: bool,
    pub(super) local: bool,
    compress: bool,
    pub(super) timeout: Option<Duration>,
}

impl BroadcastOperator {
    pub(crate) fn new(io: SocketIo, nsp: Arc<str>) -> Self {
        Self {
            io,
            nsp,
            rooms: Vec::new(),
            except: Vec::new(),
            volatile: false,
            local: false,
            compress: true,
            timeout: None,
        }
    }

    /// Adds a target room; with none, the whole namespace is the target.
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        let room = room.into();
        if !self.rooms.contains(&room) {
            self.rooms.push(room);
        }
        self
    }

    /// The same as [`BroadcastOperator::to`] (socket.io's `in`).
    pub fn within(self, room: impl Into<Room>) -> Self {
        self.to(room)
    }

    /// Skips every socket in `room`.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.except.push(room.into());
        self
    }

    /// Only this node's sockets.
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// May be dropped for clients that cannot take it right now.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// socket.io's compress flag. Packets are not compressed per message, so
    /// it is recorded and has no effect.
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// How long [`BroadcastOperator::emit_with_ack`] waits for answers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the event to every target socket.
    pub fn emit(self, event: &str, payload: impl Into<Payload>) {
        let packet = Packet::event(&self.nsp, event, payload.into(), None);
        let frames = frames(&packet);
        self.publish(frames, None);
    }

    /// Sends the event and gathers every recipient's ack, on every node
    /// (unless `local`), until all have answered or the timeout (default
    /// [`DEFAULT_ACK_TIMEOUT`]) passes. Each node first says how many acks
    /// it expects, then forwards each answer; a node that dies meanwhile
    /// is no longer waited for.
    pub async fn emit_with_ack(
        self,
        event: &str,
        payload: impl Into<Payload>,
    ) -> Result<Vec<Payload>, BroadcastAckTimeout> {
        let timeout = self.timeout.unwrap_or(DEFAULT_ACK_TIMEOUT);
        let ack = next_ack_id();
        let packet = Packet::event(&self.nsp, event, payload.into(), Some(ack));
        let id = BroadcastId::next();
        let op = Op::BroadcastAck {
            id: (id.origin, id.seq),
            ack,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            volatile: self.volatile,
            frames: frames(&packet),
        };
        gathered_answers(self.gather(op, timeout).await)
            .map_err(|received| BroadcastAckTimeout { received })
    }

    fn publish(self, frames: Vec<Frame>, acks: Option<AckCollector>) {
        let broadcast = Broadcast {
            id: BroadcastId::next(),
            nsp: self.nsp,
            rooms: self.rooms,
            except: self.except,
            volatile: self.volatile,
            local: self.local,
            frames,
            acks,
        };
        self.io.rooms().do_send(Publish(Arc::new(broadcast)));
    }
}
