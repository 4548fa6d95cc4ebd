//! Server operations on one of the session's sockets: the session's side of
//! cluster-wide `fetch_sockets`, `sockets_join`, `sockets_leave` and
//! `disconnect_sockets`.
//!
//! Room actors only propose candidates; the session decides with its own
//! view of the socket's rooms, which is the latest (see `delivery.rs`).

use std::sync::Arc;

use switchyard_shared::cluster::WireSocket;
use tokio::sync::oneshot;
use tracing::warn;

use super::{client::SocketIoClient, Room, SocketCommand, SocketId};
use crate::{
    app::EngineApp,
    session::{AppCx, CloseReason},
};

/// The sockets an operation is for: as a broadcast names its recipients.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Sockets in any of these rooms; none means every socket.
    pub rooms: Vec<Room>,
    /// Except sockets in any of these.
    pub except: Vec<Room>,
}

impl Targets {
    /// Whether a socket in `rooms` is a target.
    pub(crate) fn matches(&self, rooms: &std::collections::HashSet<Room>) -> bool {
        (self.rooms.is_empty() || self.rooms.iter().any(|room| rooms.contains(room)))
            && !self.except.iter().any(|room| rooms.contains(room))
    }
}

/// What to do with a target socket.
#[derive(Debug, Clone)]
pub(crate) enum OpAction {
    /// Describe it.
    Fetch,
    /// Join it to a room.
    Join(Room),
    /// Take it out of a room.
    Leave(Room),
    /// Disconnect it; `close` closes the client's whole connection.
    Disconnect { close: bool },
}

/// One server operation for one socket of a session. The reply carries the
/// socket's description for a fetch, `None` otherwise or when the socket
/// is not a target; either way, the answer means the session has done it.
pub struct SocketOp {
    pub(crate) nsp: Arc<str>,
    pub(crate) socket: SocketId,
    pub(crate) targets: Arc<Targets>,
    pub(crate) action: OpAction,
    pub(crate) reply: oneshot::Sender<Option<WireSocket>>,
}

impl SocketIoClient {
    /// Runs `op` if its socket is still here and still a target.
    pub(super) fn run_op(&mut self, op: SocketOp, cx: &mut AppCx<'_>) {
        let SocketOp {
            nsp,
            socket,
            targets,
            action,
            reply,
        } = op;
        let Some(state) = self
            .sockets
            .get(&nsp)
            .filter(|state| *state.socket.id() == socket && targets.matches(&state.rooms))
        else {
            let _ = reply.send(None);
            return;
        };
        let answer = match action {
            OpAction::Fetch => describe(state),
            OpAction::Join(room) => {
                self.on_command(SocketCommand::Join { nsp, socket, room }, cx);
                None
            }
            OpAction::Leave(room) => {
                self.on_command(SocketCommand::Leave { nsp, socket, room }, cx);
                None
            }
            OpAction::Disconnect { close: true } => {
                cx.close(CloseReason::ServerClose);
                None
            }
            OpAction::Disconnect { close: false } => {
                self.on_command(SocketCommand::Disconnect { nsp, socket }, cx);
                None
            }
        };
        let _ = reply.send(answer);
    }
}

/// The socket as other nodes see it: id, namespace, rooms, data, handshake.
fn describe(state: &super::client::SocketState) -> Option<WireSocket> {
    let socket = &state.socket;
    let handshake = match serde_json::to_string(socket.handshake()) {
        Ok(handshake) => handshake,
        Err(error) => {
            warn!(%error, "cannot describe a socket's handshake");
            return None;
        }
    };
    let mut rooms: Vec<String> = state.rooms.iter().map(|room| room.to_string()).collect();
    rooms.sort();
    Some(WireSocket {
        id: socket.id().to_string(),
        nsp: socket.ns().to_owned(),
        rooms,
        data: state.data.to_string(),
        handshake,
    })
}
