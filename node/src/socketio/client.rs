//! [`SocketIoClient`]: the socket.io layer of one engine.io session.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::{Instant, SystemTime},
};

use actix::SpawnHandle;
use serde_json::value::RawValue;
use switchyard_gateway::HandshakeInfo;
use switchyard_shared::{
    cluster::RelayItem,
    engine::Data,
    socket::{Body, Decoder, Packet, Payload},
};
use tracing::debug;

use super::{
    ack::{next_ack_id, AckError, AckReply, PendingAck},
    broadcast::BroadcastId,
    connect::Connecting,
    frames,
    limits::refuse_join,
    socket::{DisconnectHandler, Handlers, Socket},
    Ack, Room, SocketCommand, SocketId, SocketIo,
};
use crate::{
    app::{EngineApp, ImportError, Ready},
    room::{Join, Leave, RoomKey},
    session::{AppCx, CloseReason},
};

/// One socket of this session: a namespace it joined.
pub(super) struct SocketState {
    pub(super) socket: Socket,
    pub(super) handlers: Handlers,
    pub(super) on_disconnect: Vec<DisconnectHandler>,
    /// Every room the socket is in, its own included.
    pub(super) rooms: HashSet<Room>,
    pub(super) data: serde_json::Value,
    /// Its namespace's name or pattern, as counted in the metrics.
    pub(super) label: Arc<str>,
}

/// The socket.io state of one engine.io session: its sockets, their
/// pending acks, and binary packets being reassembled.
pub struct SocketIoClient {
    pub(super) io: SocketIo,
    pub(super) info: HandshakeInfo,
    pub(super) opened: SystemTime,
    pub(super) decoder: Decoder,
    pub(super) sockets: HashMap<Arc<str>, SocketState>,
    pub(super) connecting: HashMap<String, Connecting>,
    pub(super) pending: HashMap<u64, PendingAck>,
    pub(super) seen: VecDeque<BroadcastId>,
    /// Until when every broadcast is checked for a second copy, not just
    /// multi-room ones: right after the session moved here, when copies
    /// arrive both directly and through the old node.
    pub(super) dedupe_until: Option<Instant>,
    /// Acks awaited on the node this session moved from: the client's
    /// answers are relayed there. Oldest first, bounded.
    pub(super) forwarded: VecDeque<(u64, Arc<str>)>,
    pub(super) connect_timer: Option<SpawnHandle>,
}

impl SocketIoClient {
    /// The socket.io layer for a session opened with `info`.
    pub fn new(io: SocketIo, info: HandshakeInfo) -> Self {
        let limits = *io.limits();
        Self {
            io,
            info,
            opened: SystemTime::now(),
            decoder: Decoder::new(limits.max_attachments).with_max_depth(limits.max_json_depth),
            sockets: HashMap::new(),
            connecting: HashMap::new(),
            pending: HashMap::new(),
            seen: VecDeque::new(),
            dedupe_until: None,
            forwarded: VecDeque::new(),
            connect_timer: None,
        }
    }

    /// The socket of `nsp`, if it is the one `id` names.
    fn current(&mut self, nsp: &str, id: &SocketId) -> Option<&mut SocketState> {
        self.sockets
            .get_mut(nsp)
            .filter(|state| state.socket.id() == id)
    }

    fn on_packet(&mut self, packet: Packet, cx: &mut AppCx<'_>) {
        let nsp = packet.nsp;
        match packet.body {
            Body::Connect(auth) => self.on_connect(nsp, auth, cx),
            Body::Disconnect => {
                if let Some(state) = self.sockets.remove(nsp.as_str()) {
                    self.drop_socket(state, "client namespace disconnect");
                }
            }
            Body::Event {
                event,
                payload,
                ack,
            } => self.on_event(&nsp, &event, payload, ack, cx),
            Body::Ack { payload, ack } => self.on_ack(&nsp, ack, payload, cx),
            Body::ConnectError(_) => cx.close(CloseReason::ParseError),
        }
    }

    fn on_event(
        &mut self,
        nsp: &str,
        event: &str,
        payload: Payload,
        ack: Option<u64>,
        cx: &mut AppCx<'_>,
    ) {
        let Some(state) = self.sockets.get(nsp) else {
            return;
        };
        if !state.handlers.handles(event) {
            return;
        }
        let ack = ack.map(|id| Ack {
            session: cx.session(),
            nsp: state.socket.nsp_arc(),
            socket: state.socket.id().clone(),
            id,
        });
        state.handlers.dispatch(&state.socket, event, payload, ack);
    }

    /// The client's answer to an ack: awaited here, or on the node this
    /// session moved from.
    pub(super) fn on_ack(&mut self, nsp: &str, ack: u64, payload: Payload, cx: &mut AppCx<'_>) {
        if self.pending.get(&ack).is_some_and(|p| *p.nsp == *nsp) {
            if let Some(pending) = self.pending.remove(&ack) {
                cx.cancel(pending.timer);
                pending.reply.answer(Ok(payload));
            }
            return;
        }
        let Some(index) = self
            .forwarded
            .iter()
            .position(|(id, at)| *id == ack && **at == *nsp)
        else {
            return;
        };
        self.forwarded.remove(index);
        cx.relay(super::migrate::ack_answer(nsp, ack, payload));
    }

    /// Waits up to `timeout` for the client's answer to ack `id`.
    pub(super) fn await_ack(
        &mut self,
        nsp: Arc<str>,
        id: u64,
        timeout: std::time::Duration,
        reply: AckReply,
        cx: &mut AppCx<'_>,
    ) {
        let timer = cx.later(
            timeout,
            SocketCommand::AckTimeout {
                nsp: nsp.clone(),
                id,
            },
        );
        self.pending.insert(id, PendingAck { nsp, reply, timer });
    }

    /// Puts the socket in `rooms` on this node, and in its namespace's
    /// group, and counts it among the node's sockets of namespace `label`
    /// (as [`Self::leave_rooms`] uncounts it); returns every group it joined.
    pub(super) fn join_rooms(
        &self,
        socket: &Socket,
        label: &str,
        rooms: impl IntoIterator<Item = Room>,
        cx: &mut AppCx<'_>,
    ) -> Vec<RoomKey> {
        crate::ops::metrics::sockets(label, 1.0);
        let keys = room_keys(socket, rooms);
        self.io.rooms().do_send(Join {
            keys: keys.clone(),
            socket: socket.id().clone(),
            session: cx.session(),
        });
        keys
    }

    /// Takes the socket out of its rooms on this node; it no longer counts
    /// among this node's sockets.
    pub(super) fn leave_rooms(&self, state: &SocketState) {
        crate::ops::metrics::sockets(&state.label, -1.0);
        self.io.rooms().do_send(Leave {
            keys: room_keys(&state.socket, state.rooms.iter().cloned()),
            socket: state.socket.id().clone(),
        });
    }

    fn drop_socket(&mut self, state: SocketState, reason: &str) {
        let nsp = state.socket.nsp_arc();
        let id = state.socket.id().clone();
        self.leave_rooms(&state);
        let failed: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.nsp == nsp)
            .map(|(id, _)| *id)
            .collect();
        for ack in failed {
            if let Some(pending) = self.pending.remove(&ack) {
                pending.reply.answer(Err(AckError::Disconnected));
            }
        }
        debug!(socket = %id, nsp = %nsp, reason, "socket disconnected");
        for handler in &state.on_disconnect {
            handler(&state.socket, reason);
        }
    }
}

impl EngineApp for SocketIoClient {
    fn on_open(&mut self, cx: &mut AppCx<'_>) {
        self.connect_timer =
            Some(cx.later(self.io.connect_timeout(), SocketCommand::ConnectTimeout));
    }

    fn on_message(&mut self, data: Data, cx: &mut AppCx<'_>) {
        let decoded = match data {
            Data::Text(text) => self.decoder.text(&text),
            Data::Binary(bytes) => self.decoder.binary(bytes),
        };
        match decoded {
            Ok(Some(packet)) => self.on_packet(packet, cx),
            Ok(None) => {}
            Err(error) => {
                debug!(%error, "bad socket.io packet");
                cx.close(CloseReason::ParseError);
            }
        }
    }

    fn on_command(&mut self, command: SocketCommand, cx: &mut AppCx<'_>) {
        match command {
            SocketCommand::Emit {
                nsp,
                socket,
                frames,
            } => {
                if self.current(&nsp, &socket).is_some() {
                    cx.send_all(&frames);
                }
            }
            SocketCommand::EmitWithAck {
                nsp,
                socket,
                event,
                payload,
                timeout,
                reply,
            } => {
                if self.current(&nsp, &socket).is_none() {
                    let _ = reply.send(Err(AckError::Disconnected));
                    return;
                }
                if !self.may_await_ack(&nsp) {
                    let _ = reply.send(Err(AckError::TooManyPending));
                    return;
                }
                let id = next_ack_id();
                cx.send_all(&frames(&Packet::event(&nsp, &event, payload, Some(id))));
                self.await_ack(nsp, id, timeout, AckReply::Direct(reply), cx);
            }
            SocketCommand::AckTimeout { id, .. } => {
                if let Some(pending) = self.pending.remove(&id) {
                    pending.reply.answer(Err(AckError::Timeout));
                }
            }
            SocketCommand::Join { nsp, socket, room } => {
                let session = cx.session();
                let max = self.io.limits().max_rooms_per_socket;
                if let Some(state) = self.current(&nsp, &socket) {
                    if !state.rooms.contains(&room) && state.rooms.len() >= max {
                        refuse_join(&socket, &room, max);
                        return;
                    }
                    if state.rooms.insert(room.clone()) {
                        let keys = vec![RoomKey {
                            nsp,
                            room: Some(room),
                        }];
                        self.io.rooms().do_send(Join {
                            keys,
                            socket,
                            session,
                        });
                    }
                }
            }
            SocketCommand::Leave { nsp, socket, room } => {
                if let Some(state) = self.current(&nsp, &socket) {
                    if state.rooms.remove(&room) {
                        let key = RoomKey {
                            nsp,
                            room: Some(room),
                        };
                        self.io.rooms().do_send(Leave {
                            keys: vec![key],
                            socket,
                        });
                    }
                }
            }
            SocketCommand::Rooms { nsp, socket, reply } => {
                let rooms = self
                    .current(&nsp, &socket)
                    .map(|state| state.rooms.iter().cloned().collect());
                let _ = reply.send(rooms);
            }
            SocketCommand::SetData { nsp, socket, data } => {
                if let Some(state) = self.current(&nsp, &socket) {
                    state.data = data;
                }
            }
            SocketCommand::Data { nsp, socket, reply } => {
                let data = self.current(&nsp, &socket).map(|state| state.data.clone());
                let _ = reply.send(data);
            }
            SocketCommand::Disconnect { nsp, socket } => {
                if self.current(&nsp, &socket).is_some() {
                    if let Some(state) = self.sockets.remove(&nsp) {
                        cx.send_all(&frames(&Packet::disconnect(&nsp)));
                        self.drop_socket(state, "server namespace disconnect");
                    }
                }
            }
            SocketCommand::Deliver { broadcast, socket } => self.deliver(broadcast, socket, cx),
            SocketCommand::Connected { nsp, outcome } => self.on_connected(nsp, outcome, cx),
            SocketCommand::Op(op) => self.run_op(op, cx),
            SocketCommand::ConnectTimeout => {
                self.connect_timer = None;
                if self.sockets.is_empty() {
                    cx.close(CloseReason::ConnectTimeout);
                }
            }
        }
    }

    fn on_close(&mut self, reason: CloseReason) {
        let reason = match reason {
            CloseReason::ClientClose | CloseReason::TransportClose => "transport close",
            other => other.as_str(),
        };
        for (_, state) in std::mem::take(&mut self.sockets) {
            self.drop_socket(state, reason);
        }
        for (_, pending) in self.pending.drain() {
            pending.reply.answer(Err(AckError::Disconnected));
        }
    }

    fn export(&mut self) -> Option<String> {
        self.export_state()
    }

    fn import(&mut self, state: &str, cx: &mut AppCx<'_>) -> Result<Ready, ImportError> {
        self.import_state(state, cx)
    }

    fn release(&mut self) {
        self.release_sockets();
    }

    fn relay(&mut self, command: SocketCommand, cx: &mut AppCx<'_>) -> Option<RelayItem> {
        self.relay_command(command, cx)
    }

    fn on_relay(&mut self, item: RelayItem, cx: &mut AppCx<'_>) {
        self.apply_relay(item, cx);
    }
}

/// The groups of a socket in `rooms`: each room, and its whole namespace.
fn room_keys(socket: &Socket, rooms: impl IntoIterator<Item = Room>) -> Vec<RoomKey> {
    rooms
        .into_iter()
        .map(Some)
        .chain([None])
        .map(|room| RoomKey {
            nsp: socket.nsp_arc(),
            room,
        })
        .collect()
}

/// `{}`, the auth of a CONNECT without a payload.
pub(super) fn empty_object() -> Box<RawValue> {
    serde_json::value::to_raw_value(&serde_json::json!({})).unwrap_or_else(|_| {
        // Serialising an empty map cannot fail; keep a valid value regardless.
        RawValue::from_string("{}".to_owned()).unwrap_or_default()
    })
}
