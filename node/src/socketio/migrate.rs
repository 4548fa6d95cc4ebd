//! Moving a session's sockets to another node with its WebSocket upgrade
//! (the engine side is in `session/handover/`).
//!
//! The old node exports the sockets (ids, rooms, data, auth), the CONNECTs
//! still in their middleware, and the ids of acks its code awaits. The new
//! node rebuilds each socket with the same id, joins its rooms, and runs
//! the namespace's connection handler again so that the socket's event
//! handlers exist there (its sends and joins are skipped: they happened
//! already). Afterwards the old node's tombstone turns commands from
//! handles still held there into relay items, and the new node applies
//! them; the client's answers to acks awaited on the old node go back.

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchyard_shared::{
    cluster::{RelayItem, WirePayload},
    engine::Frame,
    socket::{Packet, Payload},
};

use super::{
    ack::{next_ack_id, AckReply},
    broadcast::{AckEvent, Broadcast, BroadcastId},
    client::{SocketIoClient, SocketState},
    frames,
    handshake::Handshake,
    ops_serve::{payload_from_wire, payload_to_wire},
    socket::Socket,
    Room, SocketCommand, SocketId,
};
use crate::{
    app::{ImportError, Ready},
    room::Subscribed,
    session::AppCx,
};

/// How long a moved session checks every broadcast for a second copy.
const DEDUPE_WINDOW: Duration = Duration::from_secs(10);
/// Most acks awaited on the old node that a moved session keeps track of.
const MOST_FORWARDED: usize = 1024;

/// The socket.io state of a session, as it travels.
#[derive(Debug, Serialize, Deserialize)]
struct ClientState {
    /// When the engine.io session opened, ms since the epoch.
    opened_ms: u64,
    sockets: Vec<MovedSocket>,
    /// CONNECTs whose middleware had not finished: namespace and auth.
    connecting: Vec<(String, Box<RawValue>)>,
    /// Acks awaited on the old node: id and namespace.
    awaited: Vec<(u64, String)>,
    /// Broadcasts already delivered, to drop second copies.
    seen: Vec<(u64, u64)>,
}

/// One socket, as it travels.
#[derive(Debug, Serialize, Deserialize)]
struct MovedSocket {
    nsp: String,
    id: String,
    rooms: Vec<String>,
    data: serde_json::Value,
    auth: Box<RawValue>,
}

/// The relay item that carries the client's answer to ack `id`.
pub(super) fn ack_answer(nsp: &str, id: u64, payload: Payload) -> RelayItem {
    let wire = payload_to_wire(payload);
    RelayItem::AckAnswer {
        nsp: nsp.to_owned(),
        id,
        args: wire.args,
        frames: wire.attachments.into_iter().map(Frame::Binary).collect(),
    }
}

impl SocketIoClient {
    /// The state to move, or `None` while a binary packet is half received
    /// (it cannot be split between nodes; the upgrade then fails).
    pub(super) fn export_state(&mut self) -> Option<String> {
        if self.decoder.is_pending() {
            return None;
        }
        let sockets = self
            .sockets
            .values()
            .map(|state| MovedSocket {
                nsp: state.socket.ns().to_owned(),
                id: state.socket.id().to_string(),
                rooms: state.rooms.iter().map(|room| room.to_string()).collect(),
                data: state.data.clone(),
                auth: state.socket.handshake().auth.clone(),
            })
            .collect();
        let state = ClientState {
            opened_ms: self
                .opened
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0),
            sockets,
            connecting: self
                .connecting
                .iter()
                .map(|(nsp, connecting)| (nsp.clone(), connecting.auth()))
                .collect(),
            awaited: self
                .pending
                .iter()
                .map(|(id, pending)| (*id, pending.nsp.to_string()))
                .collect(),
            seen: self.seen.iter().map(|id| (id.origin, id.seq)).collect(),
        };
        serde_json::to_string(&state).ok()
    }

    /// Rebuilds the sockets that moved here; the future resolves once
    /// their rooms hear the cluster.
    pub(super) fn import_state(
        &mut self,
        state: &str,
        cx: &mut AppCx<'_>,
    ) -> Result<Ready, ImportError> {
        let state: ClientState =
            serde_json::from_str(state).map_err(|error| ImportError(error.to_string()))?;
        self.opened = UNIX_EPOCH + Duration::from_millis(state.opened_ms);
        let mut keys = Vec::new();
        for moved in state.sockets {
            let (namespace, params) = self
                .find_namespace(&moved.nsp)
                .ok_or_else(|| ImportError(format!("no namespace {} here", moved.nsp)))?;
            let nsp: Arc<str> = moved.nsp.into();
            let id = SocketId::from_text(&moved.id);
            let handshake = Arc::new(Handshake::new(&self.info, self.opened, moved.auth));
            let socket = Socket::new(
                id.clone(),
                nsp.clone(),
                params,
                handshake,
                cx.session(),
                self.io.clone(),
            );
            let rooms: HashSet<Room> = moved.rooms.into_iter().map(Room::from).collect();
            let label = self.io.namespaces()[namespace].label.clone();
            keys.extend(self.join_rooms(&socket, &label, rooms.iter().cloned(), cx));
            let mut state = SocketState {
                socket,
                handlers: Default::default(),
                on_disconnect: Vec::new(),
                rooms,
                data: moved.data,
                label,
            };
            self.run_connection_handler(namespace, &mut state, true);
            self.sockets.insert(nsp, state);
        }
        for (nsp, auth) in state.connecting {
            self.on_connect(nsp, Some(auth), cx);
        }
        for (id, nsp) in state.awaited {
            self.remember_forwarded(id, nsp.into());
        }
        self.seen = state
            .seen
            .into_iter()
            .map(|(origin, seq)| BroadcastId { origin, seq })
            .collect();
        self.dedupe_until = Some(Instant::now() + DEDUPE_WINDOW);
        if self.sockets.is_empty() && self.connecting.is_empty() {
            self.connect_timer =
                Some(cx.later(self.io.connect_timeout(), SocketCommand::ConnectTimeout));
        }
        let rooms = self.io.rooms().clone();
        Ok(Box::pin(async move {
            // A registry that is gone means the node is stopping anyway.
            let _ = rooms.send(Subscribed(keys)).await;
        }))
    }

    fn remember_forwarded(&mut self, id: u64, nsp: Arc<str>) {
        if self.forwarded.len() == MOST_FORWARDED {
            self.forwarded.pop_front();
        }
        self.forwarded.push_back((id, nsp));
    }

    /// The session lives on another node now: leave the rooms here and
    /// forget the sockets, without disconnect handlers. Acks awaited here
    /// stay, for the answers the new node relays back.
    pub(super) fn release_sockets(&mut self) {
        for (_, state) in std::mem::take(&mut self.sockets) {
            self.leave_rooms(&state);
        }
        self.connecting.clear();
        // A connect timeout still due is dropped by the tombstone.
        self.connect_timer = None;
    }

    /// On the node the session left: what to relay for a command that still
    /// arrived here (from a handle held here, or a late broadcast).
    pub(super) fn relay_command(
        &mut self,
        command: SocketCommand,
        cx: &mut AppCx<'_>,
    ) -> Option<RelayItem> {
        match command {
            SocketCommand::Emit {
                nsp,
                socket,
                frames,
            } => Some(RelayItem::Emit {
                nsp: nsp.to_string(),
                socket: socket.to_string(),
                ack: None,
                frames,
            }),
            SocketCommand::EmitWithAck {
                nsp,
                socket,
                event,
                payload,
                timeout,
                reply,
            } => {
                // The ack is awaited here; the new node relays the answer.
                let id = next_ack_id();
                let item = RelayItem::Emit {
                    nsp: nsp.to_string(),
                    socket: socket.to_string(),
                    ack: Some(id),
                    frames: frames(&Packet::event(&nsp, &event, payload, Some(id))),
                };
                self.await_ack(nsp, id, timeout, AckReply::Direct(reply), cx);
                Some(item)
            }
            SocketCommand::Join { nsp, socket, room } => Some(RelayItem::Join {
                nsp: nsp.to_string(),
                socket: socket.to_string(),
                room: room.to_string(),
            }),
            SocketCommand::Leave { nsp, socket, room } => Some(RelayItem::Leave {
                nsp: nsp.to_string(),
                socket: socket.to_string(),
                room: room.to_string(),
            }),
            SocketCommand::SetData { nsp, socket, data } => Some(RelayItem::SetData {
                nsp: nsp.to_string(),
                socket: socket.to_string(),
                data: data.to_string(),
            }),
            SocketCommand::Disconnect { nsp, socket } => Some(RelayItem::Disconnect {
                nsp: nsp.to_string(),
                socket: socket.to_string(),
            }),
            SocketCommand::Deliver { broadcast, socket } => {
                if let Some(acks) = &broadcast.acks {
                    // Its collector is on this node; the new node cannot
                    // answer it, so the recipient counts as not asked.
                    let _ = acks.events.send(AckEvent::Answer(None));
                }
                Some(RelayItem::Deliver {
                    socket: socket.to_string(),
                    id: (broadcast.id.origin, broadcast.id.seq),
                    nsp: broadcast.nsp.to_string(),
                    rooms: broadcast.rooms.iter().map(|r| r.to_string()).collect(),
                    except: broadcast.except.iter().map(|r| r.to_string()).collect(),
                    volatile: broadcast.volatile,
                    frames: broadcast.frames.clone(),
                })
            }
            // The socket is the new node's to act on: it answers the same
            // operation there, from the moved state.
            SocketCommand::Op(op) => {
                let _ = op.reply.send(None);
                None
            }
            // Answered from what is still here (nothing, once released).
            command @ (SocketCommand::Rooms { .. }
            | SocketCommand::Data { .. }
            | SocketCommand::AckTimeout { .. }) => {
                use crate::app::EngineApp as _;
                self.on_command(command, cx);
                None
            }
            // Moved with the session and run again on the new node.
            SocketCommand::Connected { .. } | SocketCommand::ConnectTimeout => None,
        }
    }

    /// An item relayed from the session's other half.
    pub(super) fn apply_relay(&mut self, item: RelayItem, cx: &mut AppCx<'_>) {
        use crate::app::EngineApp as _;
        let command = match item {
            RelayItem::Emit {
                nsp,
                socket,
                ack,
                frames,
            } => {
                let (nsp, socket): (Arc<str>, _) = (nsp.into(), SocketId::from_text(&socket));
                if let Some(id) = ack {
                    self.remember_forwarded(id, nsp.clone());
                }
                SocketCommand::Emit {
                    nsp,
                    socket,
                    frames,
                }
            }
            RelayItem::Deliver {
                socket,
                id,
                nsp,
                rooms,
                except,
                volatile,
                frames,
            } => SocketCommand::Deliver {
                broadcast: Arc::new(Broadcast {
                    id: BroadcastId {
                        origin: id.0,
                        seq: id.1,
                    },
                    nsp: nsp.into(),
                    rooms: rooms.into_iter().map(Room::from).collect(),
                    except: except.into_iter().map(Room::from).collect(),
                    volatile,
                    local: true,
                    frames,
                    acks: None,
                }),
                socket: SocketId::from_text(&socket),
            },
            RelayItem::Join { nsp, socket, room } => SocketCommand::Join {
                nsp: nsp.into(),
                socket: SocketId::from_text(&socket),
                room: room.into(),
            },
            RelayItem::Leave { nsp, socket, room } => SocketCommand::Leave {
                nsp: nsp.into(),
                socket: SocketId::from_text(&socket),
                room: room.into(),
            },
            RelayItem::SetData { nsp, socket, data } => {
                let Ok(data) = serde_json::from_str(&data) else {
                    return;
                };
                SocketCommand::SetData {
                    nsp: nsp.into(),
                    socket: SocketId::from_text(&socket),
                    data,
                }
            }
            RelayItem::Disconnect { nsp, socket } => SocketCommand::Disconnect {
                nsp: nsp.into(),
                socket: SocketId::from_text(&socket),
            },
            RelayItem::AckAnswer {
                nsp,
                id,
                args,
                frames,
            } => {
                let attachments = frames
                    .into_iter()
                    .filter_map(|frame| match frame {
                        Frame::Binary(bytes) => Some(bytes),
                        Frame::Text(_) => None,
                    })
                    .collect();
                let Some(payload) = payload_from_wire(WirePayload { args, attachments }) else {
                    return;
                };
                self.on_ack(&nsp, id, payload, cx);
                return;
            }
        };
        self.on_command(command, cx);
    }
}
