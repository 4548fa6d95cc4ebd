//! [`SocketIoClient`]: the socket.io layer of one engine.io session.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::SystemTime,
};

use actix::SpawnHandle;
use serde_json::value::RawValue;
use switchyard_gateway::HandshakeInfo;
use switchyard_shared::{
    engine::Data,
    socket::{Body, Decoder, Packet, Payload},
};
use tracing::debug;

use super::{
    ack::{next_ack_id, AckError, AckReply, PendingAck},
    broadcast::{AckEvent, Broadcast, BroadcastId},
    frames,
    handshake::Handshake,
    namespace::{ConnectError, ConnectRequest, Params},
    server::MAX_ATTACHMENTS,
    socket::{DisconnectHandler, EventHandler, Socket, SocketSetup},
    Ack, Room, SocketCommand, SocketId, SocketIo,
};
use crate::{
    app::EngineApp,
    room::{Join, Leave, RoomKey},
    session::{AppCx, CloseReason},
};

/// How many multi-room broadcasts a session remembers to drop second copies.
const SEEN_BROADCASTS: usize = 64;

/// One socket of this session: a namespace it joined.
struct SocketState {
    socket: Socket,
    handlers: HashMap<String, EventHandler>,
    on_disconnect: Vec<DisconnectHandler>,
    /// Every room the socket is in, its own included.
    rooms: HashSet<Room>,
    data: serde_json::Value,
}

/// A CONNECT whose middleware is still running.
struct Connecting {
    namespace: usize,
    params: Params,
    handshake: Arc<Handshake>,
}

/// The socket.io state of one engine.io session: its sockets, their
/// pending acks, and binary packets being reassembled.
pub struct SocketIoClient {
    io: SocketIo,
    info: HandshakeInfo,
    opened: SystemTime,
    decoder: Decoder,
    sockets: HashMap<Arc<str>, SocketState>,
    connecting: HashMap<String, Connecting>,
    pending: HashMap<u64, PendingAck>,
    seen: VecDeque<BroadcastId>,
    connect_timer: Option<SpawnHandle>,
}

impl SocketIoClient {
    /// The socket.io layer for a session opened with `info`.
    pub fn new(io: SocketIo, info: HandshakeInfo) -> Self {
        Self {
            io,
            info,
            opened: SystemTime::now(),
            decoder: Decoder::new(MAX_ATTACHMENTS),
            sockets: HashMap::new(),
            connecting: HashMap::new(),
            pending: HashMap::new(),
            seen: VecDeque::new(),
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
            Body::Ack { payload, ack } => {
                if self.pending.get(&ack).is_some_and(|p| *p.nsp == *nsp) {
                    if let Some(pending) = self.pending.remove(&ack) {
                        cx.cancel(pending.timer);
                        pending.reply.answer(Ok(payload));
                    }
                }
            }
            Body::ConnectError(_) => cx.close(CloseReason::ParseError),
        }
    }

    fn on_connect(&mut self, nsp: String, auth: Option<Box<RawValue>>, cx: &mut AppCx<'_>) {
        if self.sockets.contains_key(nsp.as_str()) || self.connecting.contains_key(&nsp) {
            return;
        }
        let found = self
            .io
            .namespaces()
            .iter()
            .enumerate()
            .find_map(|(index, ns)| ns.matches(&nsp).map(|params| (index, params)));
        let Some((namespace, params)) = found else {
            cx.send_all(&frames(&Packet::connect_error(
                &nsp,
                "Invalid namespace",
                None,
            )));
            return;
        };
        let auth = auth.unwrap_or_else(empty_object);
        let handshake = Arc::new(Handshake::new(&self.info, self.opened, auth));
        let middlewares = self.io.namespaces()[namespace].middlewares.clone();
        if middlewares.is_empty() {
            self.accept(nsp, namespace, params, handshake, cx);
            return;
        }
        let request = ConnectRequest {
            nsp: nsp.clone(),
            params: params.clone(),
            handshake: handshake.clone(),
        };
        self.connecting.insert(
            nsp.clone(),
            Connecting {
                namespace,
                params,
                handshake,
            },
        );
        cx.spawn(async move {
            let mut outcome = Ok(());
            for middleware in middlewares {
                outcome = middleware(request.clone()).await;
                if outcome.is_err() {
                    break;
                }
            }
            SocketCommand::Connected { nsp, outcome }
        });
    }

    fn on_connected(&mut self, nsp: String, outcome: Result<(), ConnectError>, cx: &mut AppCx<'_>) {
        let Some(connecting) = self.connecting.remove(&nsp) else {
            return;
        };
        match outcome {
            Ok(()) => self.accept(
                nsp,
                connecting.namespace,
                connecting.params,
                connecting.handshake,
                cx,
            ),
            Err(error) => {
                let data = error
                    .data
                    .as_ref()
                    .and_then(|data| serde_json::value::to_raw_value(data).ok());
                let packet = Packet::connect_error(&nsp, &error.message, data.as_deref());
                cx.send_all(&frames(&packet));
            }
        }
    }

    /// Creates the socket, answers the CONNECT and runs the connection handler.
    fn accept(
        &mut self,
        nsp: String,
        namespace: usize,
        params: Params,
        handshake: Arc<Handshake>,
        cx: &mut AppCx<'_>,
    ) {
        let nsp: Arc<str> = nsp.into();
        let id = SocketId::random();
        let socket = Socket::new(
            id.clone(),
            nsp.clone(),
            params,
            handshake,
            cx.session(),
            self.io.clone(),
        );
        let sid = serde_json::value::to_raw_value(&serde_json::json!({ "sid": id.as_str() })).ok();
        cx.send_all(&frames(&Packet::connect(&nsp, sid)));
        if let Some(timer) = self.connect_timer.take() {
            cx.cancel(timer);
        }
        for room in [None, Some(id.room())] {
            self.io.rooms().do_send(Join {
                key: RoomKey {
                    nsp: nsp.clone(),
                    room,
                },
                socket: id.clone(),
                session: cx.session(),
            });
        }
        let mut state = SocketState {
            socket,
            handlers: HashMap::new(),
            on_disconnect: Vec::new(),
            rooms: HashSet::from([id.room()]),
            data: serde_json::Value::Null,
        };
        debug!(socket = %id, nsp = %nsp, "socket connected");
        if let Some(handler) = self.io.namespaces()[namespace].on_connection.clone() {
            handler(&mut SocketSetup {
                socket: &state.socket,
                handlers: &mut state.handlers,
                on_disconnect: &mut state.on_disconnect,
            });
        }
        self.sockets.insert(nsp, state);
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
        let Some(handler) = state.handlers.get(event).cloned() else {
            return;
        };
        let ack = ack.map(|id| Ack {
            session: cx.session(),
            nsp: state.socket.nsp_arc(),
            socket: state.socket.id().clone(),
            id,
        });
        handler(&state.socket, payload, ack);
    }

    /// Writes a broadcast for one of this session's sockets, unless the
    /// socket is excepted, already has it, or (volatile) cannot take it now.
    fn deliver(&mut self, broadcast: Arc<Broadcast>, socket: SocketId, cx: &mut AppCx<'_>) {
        let skip = match self.sockets.get(&broadcast.nsp) {
            None => true,
            Some(state) => {
                *state.socket.id() != socket
                    || broadcast
                        .except
                        .iter()
                        .any(|room| state.rooms.contains(room))
                    || (broadcast.volatile && !cx.is_writable())
            }
        };
        let duplicate = !skip && broadcast.rooms.len() > 1 && !self.first_sight(broadcast.id);
        if skip || duplicate {
            if let Some(acks) = &broadcast.acks {
                let _ = acks.events.send(AckEvent::Answer(None));
            }
            return;
        }
        cx.send_all(&broadcast.frames);
        if let Some(acks) = &broadcast.acks {
            let timer = cx.later(
                acks.timeout,
                SocketCommand::AckTimeout {
                    nsp: broadcast.nsp.clone(),
                    id: acks.id,
                },
            );
            self.pending.insert(
                acks.id,
                PendingAck {
                    nsp: broadcast.nsp.clone(),
                    reply: AckReply::Broadcast(acks.events.clone()),
                    timer,
                },
            );
        }
    }

    /// Records a multi-room broadcast; false if it was seen already.
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

    /// Forgets a socket: leaves its rooms, fails its acks, tells the app.
    fn drop_socket(&mut self, state: SocketState, reason: &str) {
        let nsp = state.socket.nsp_arc();
        let id = state.socket.id().clone();
        let rooms = state.rooms.iter().cloned().map(Some).chain([None]);
        for room in rooms {
            self.io.rooms().do_send(Leave {
                key: RoomKey {
                    nsp: nsp.clone(),
                    room,
                },
                socket: id.clone(),
            });
        }
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
                let id = next_ack_id();
                cx.send_all(&frames(&Packet::event(&nsp, &event, payload, Some(id))));
                let timer = cx.later(
                    timeout,
                    SocketCommand::AckTimeout {
                        nsp: nsp.clone(),
                        id,
                    },
                );
                let reply = AckReply::Direct(reply);
                self.pending.insert(id, PendingAck { nsp, reply, timer });
            }
            SocketCommand::AckTimeout { id, .. } => {
                if let Some(pending) = self.pending.remove(&id) {
                    pending.reply.answer(Err(AckError::Timeout));
                }
            }
            SocketCommand::Join { nsp, socket, room } => {
                let session = cx.session();
                if let Some(state) = self.current(&nsp, &socket) {
                    if state.rooms.insert(room.clone()) {
                        let key = RoomKey {
                            nsp,
                            room: Some(room),
                        };
                        self.io.rooms().do_send(Join {
                            key,
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
                        self.io.rooms().do_send(Leave { key, socket });
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
}

/// `{}`, the auth of a CONNECT without a payload.
fn empty_object() -> Box<RawValue> {
    serde_json::value::to_raw_value(&serde_json::json!({})).unwrap_or_else(|_| {
        // Serialising an empty map cannot fail; keep a valid value regardless.
        RawValue::from_string("{}".to_owned()).unwrap_or_default()
    })
}
