//! Joining a namespace: matching it, running its middleware, creating the
//! socket and running the namespace's connection handler.

use std::{collections::HashSet, sync::Arc};

use serde_json::value::RawValue;
use switchyard_shared::socket::Packet;
use tracing::debug;

use super::{
    client::{empty_object, SocketIoClient, SocketState},
    frames,
    handshake::Handshake,
    namespace::{Admission, ConnectError, ConnectRequest, Params},
    socket::{Socket, SocketSetup},
    Room, SocketCommand, SocketId,
};
use crate::{ops::metrics, session::AppCx};

/// A CONNECT whose middleware is still running.
pub(super) struct Connecting {
    namespace: usize,
    params: Params,
    handshake: Arc<Handshake>,
    request: ConnectRequest,
}

impl Connecting {
    /// The CONNECT's auth, to run it again on another node.
    pub(super) fn auth(&self) -> Box<RawValue> {
        self.handshake.auth.clone()
    }
}

impl SocketIoClient {
    pub(super) fn on_connect(
        &mut self,
        nsp: String,
        auth: Option<Box<RawValue>>,
        cx: &mut AppCx<'_>,
    ) {
        if self.sockets.contains_key(nsp.as_str()) || self.connecting.contains_key(&nsp) {
            return;
        }
        let max = self.io.limits().max_namespaces;
        if self.sockets.len() + self.connecting.len() >= max {
            metrics::limit_reached("namespaces");
            let message = format!("too many namespaces: at most {max} per connection");
            cx.send_all(&frames(&Packet::connect_error(&nsp, &message, None)));
            return;
        }
        let Some((namespace, params)) = self.find_namespace(&nsp) else {
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
            self.accept(nsp, namespace, params, handshake, Admission::default(), cx);
            return;
        }
        let request = ConnectRequest {
            nsp: nsp.clone(),
            params: params.clone(),
            handshake: handshake.clone(),
            admission: Default::default(),
        };
        self.connecting.insert(
            nsp.clone(),
            Connecting {
                namespace,
                params,
                handshake,
                request: request.clone(),
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

    pub(super) fn on_connected(
        &mut self,
        nsp: String,
        outcome: Result<(), ConnectError>,
        cx: &mut AppCx<'_>,
    ) {
        let Some(connecting) = self.connecting.remove(&nsp) else {
            return;
        };
        match outcome {
            Ok(()) => {
                let admission = connecting.request.take_admission();
                self.accept(
                    nsp,
                    connecting.namespace,
                    connecting.params,
                    connecting.handshake,
                    admission,
                    cx,
                )
            }
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
        admission: Admission,
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
        let label = self.io.namespaces()[namespace].label.clone();
        let mut rooms: HashSet<Room> = admission.rooms.into_iter().collect();
        rooms.insert(id.room());
        self.join_rooms(&socket, &label, rooms.iter().cloned(), cx);
        let mut state = SocketState {
            socket,
            handlers: Default::default(),
            on_disconnect: Vec::new(),
            rooms,
            data: admission.data.unwrap_or(serde_json::Value::Null),
            label,
        };
        debug!(socket = %id, nsp = %nsp, "socket connected");
        self.run_connection_handler(namespace, &mut state, false);
        self.sockets.insert(nsp, state);
    }

    /// Runs the namespace's connection handler for a socket: a new one, or
    /// one that `moved` here from another node (see [`SocketSetup::moved`]).
    pub(super) fn run_connection_handler(
        &self,
        namespace: usize,
        state: &mut SocketState,
        moved: bool,
    ) {
        let Some(handler) = self.io.namespaces()[namespace].on_connection.clone() else {
            return;
        };
        let socket = state.socket.clone();
        let mut setup = SocketSetup {
            socket: &socket,
            handlers: &mut state.handlers,
            on_disconnect: &mut state.on_disconnect,
            moved,
        };
        if moved {
            socket.replay(|| handler(&mut setup));
        } else {
            handler(&mut setup);
        }
    }

    /// The namespace serving `nsp`, and what its pattern captured.
    pub(super) fn find_namespace(&self, nsp: &str) -> Option<(usize, Params)> {
        self.io
            .namespaces()
            .iter()
            .enumerate()
            .find_map(|(index, ns)| ns.matches(nsp).map(|params| (index, params)))
    }
}
