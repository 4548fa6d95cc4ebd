//! [`Socket`]: the handle an app holds on one socket.io connection.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use actix::Addr;
use serde_json::value::RawValue;
use switchyard_shared::socket::{Packet, Payload};
use tokio::sync::oneshot;

use super::{
    ack::{Ack, AckError},
    broadcast::BroadcastOperator,
    frames,
    handshake::Handshake,
    namespace::Params,
    Room, SocketCommand, SocketIo,
};
use crate::session::SessionActor;

/// A socket's id: unique, unguessable, and distinct from the engine sid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocketId(Arc<str>);

impl SocketId {
    /// A fresh id from 122 random bits.
    pub(crate) fn random() -> Self {
        use base64::Engine as _;
        let bytes = uuid::Uuid::new_v4().into_bytes();
        Self(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(bytes)
                .into(),
        )
    }

    /// The id as another node wrote it, for a socket that moved here.
    pub(crate) fn from_text(text: &str) -> Self {
        Self(text.into())
    }

    /// The id as text; it is also the name of the socket's own room.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The socket's own room.
    pub fn room(&self) -> Room {
        self.0.clone()
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A handler for one event: the socket, the arguments, and the ack to send
/// if the client asked for one.
pub type EventHandler = Arc<dyn Fn(&Socket, Payload, Option<Ack>) + Send + Sync>;
/// A handler for the socket's disconnection, with the reason.
pub type DisconnectHandler = Arc<dyn Fn(&Socket, &str) + Send + Sync>;
/// Handles every event without a handler of its own; it gets the event name.
pub type AnyEventHandler = Arc<dyn Fn(&Socket, &str, Payload, Option<Ack>) + Send + Sync>;

/// A socket's event handlers: one per event name, and one for the rest.
#[derive(Default)]
pub(crate) struct Handlers {
    by_event: HashMap<String, EventHandler>,
    any: Option<AnyEventHandler>,
}

impl Handlers {
    /// Whether some handler takes `event`.
    pub(crate) fn handles(&self, event: &str) -> bool {
        self.any.is_some() || self.by_event.contains_key(event)
    }

    /// Runs the handler of `event`, or the catch-all.
    pub(crate) fn dispatch(
        &self,
        socket: &Socket,
        event: &str,
        payload: Payload,
        ack: Option<Ack>,
    ) {
        if let Some(handler) = self.by_event.get(event) {
            handler(socket, payload, ack);
        } else if let Some(handler) = &self.any {
            handler(socket, event, payload, ack);
        }
    }
}

/// One connected socket: a namespace joined by one client.
///
/// Cheap to clone and `Send`: every operation is a message to the session
/// actor that owns the socket, so a handle may be kept in tasks and other
/// threads. Once the socket is gone, operations on it do nothing.
#[derive(Clone)]
pub struct Socket {
    inner: Arc<SocketInner>,
}

struct SocketInner {
    id: SocketId,
    nsp: Arc<str>,
    params: Params,
    handshake: Arc<Handshake>,
    session: Addr<SessionActor>,
    io: SocketIo,
    /// Set while the connection handler runs again for a socket that moved
    /// here: what it sends or joins then already happened on the old node.
    replaying: AtomicBool,
}

impl Socket {
    pub(crate) fn new(
        id: SocketId,
        nsp: Arc<str>,
        params: Params,
        handshake: Arc<Handshake>,
        session: Addr<SessionActor>,
        io: SocketIo,
    ) -> Self {
        Self {
            inner: Arc::new(SocketInner {
                id,
                nsp,
                params,
                handshake,
                session,
                io,
                replaying: AtomicBool::new(false),
            }),
        }
    }

    /// Runs `setup` with this socket's commands suppressed (see
    /// [`SocketSetup::moved`]).
    pub(crate) fn replay(&self, setup: impl FnOnce()) {
        self.inner.replaying.store(true, Ordering::Relaxed);
        setup();
        self.inner.replaying.store(false, Ordering::Relaxed);
    }

    /// The socket's id.
    pub fn id(&self) -> &SocketId {
        &self.inner.id
    }

    /// The namespace the socket joined, such as `/` or `/tenant-42`.
    pub fn ns(&self) -> &str {
        &self.inner.nsp
    }

    pub(crate) fn nsp_arc(&self) -> Arc<str> {
        self.inner.nsp.clone()
    }

    /// A parameter captured by the namespace's `{param}` pattern.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.inner.params.get(name)
    }

    /// What the client presented when it connected.
    pub fn handshake(&self) -> &Handshake {
        &self.inner.handshake
    }

    /// The server, for broadcasts that include this socket.
    pub fn io(&self) -> &SocketIo {
        &self.inner.io
    }

    /// Sends an event to this socket.
    pub fn emit(&self, event: &str, payload: impl Into<Payload>) {
        let packet = Packet::event(&self.inner.nsp, event, payload.into(), None);
        self.command(|nsp, socket| SocketCommand::Emit {
            nsp,
            socket,
            frames: frames(&packet),
        });
    }

    /// Sends an event and waits up to `timeout` for the client's ack.
    ///
    /// ```no_run
    /// # async fn example(socket: switchyard_node::socketio::Socket) {
    /// use std::time::Duration;
    /// use switchyard_shared::socket::Payload;
    ///
    /// let question = Payload::from_serialize(&["ready?"]).unwrap();
    /// match socket.emit_with_ack("ask", question, Duration::from_secs(5)).await {
    ///     Ok(answer) => println!("client said {:?}", answer.args),
    ///     Err(error) => println!("no answer: {error}"),
    /// }
    /// # }
    /// ```
    pub async fn emit_with_ack(
        &self,
        event: &str,
        payload: impl Into<Payload>,
        timeout: Duration,
    ) -> Result<Payload, AckError> {
        let (reply, answer) = oneshot::channel();
        let payload = payload.into();
        let event = event.to_owned();
        self.command(|nsp, socket| SocketCommand::EmitWithAck {
            nsp,
            socket,
            event,
            payload,
            timeout,
            reply,
        });
        answer.await.unwrap_or(Err(AckError::Disconnected))
    }

    /// Joins a room of this namespace.
    pub fn join(&self, room: impl Into<Room>) {
        let room = room.into();
        self.command(|nsp, socket| SocketCommand::Join { nsp, socket, room });
    }

    /// Leaves a room.
    pub fn leave(&self, room: impl Into<Room>) {
        let room = room.into();
        self.command(|nsp, socket| SocketCommand::Leave { nsp, socket, room });
    }

    /// The rooms the socket is in, its own room included; empty once it is gone.
    pub async fn rooms(&self) -> Vec<Room> {
        let (reply, answer) = oneshot::channel();
        self.command(|nsp, socket| SocketCommand::Rooms { nsp, socket, reply });
        answer.await.ok().flatten().unwrap_or_default()
    }

    /// Replaces `socket.data`, the app's own JSON value for this socket.
    pub fn set_data(&self, data: serde_json::Value) {
        self.command(|nsp, socket| SocketCommand::SetData { nsp, socket, data });
    }

    /// Reads `socket.data` (`Null` until set); `None` once the socket is gone.
    pub async fn data(&self) -> Option<serde_json::Value> {
        let (reply, answer) = oneshot::channel();
        self.command(|nsp, socket| SocketCommand::Data { nsp, socket, reply });
        answer.await.ok().flatten()
    }

    /// Disconnects the socket from its namespace; the client's other
    /// namespaces and its connection stay.
    pub fn disconnect(&self) {
        self.command(|nsp, socket| SocketCommand::Disconnect { nsp, socket });
    }

    /// A broadcast to every other socket of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.inner
            .io
            .of(&self.inner.nsp)
            .except(self.inner.id.room())
    }

    /// A broadcast to a room, without this socket (as in socket.io).
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    fn command(&self, make: impl FnOnce(Arc<str>, SocketId) -> SocketCommand) {
        if self.inner.replaying.load(Ordering::Relaxed) {
            return;
        }
        let command = make(self.inner.nsp.clone(), self.inner.id.clone());
        self.inner.session.do_send(command);
    }
}

/// A new socket, while its namespace's connection handler runs: the place
/// to register the socket's event handlers.
pub struct SocketSetup<'a> {
    pub(crate) socket: &'a Socket,
    pub(crate) handlers: &'a mut Handlers,
    pub(crate) on_disconnect: &'a mut Vec<DisconnectHandler>,
    pub(crate) moved: bool,
}

impl SocketSetup<'_> {
    /// Whether the socket has just moved here from another node with its
    /// session (the WebSocket upgrade handover) rather than connected.
    ///
    /// The connection handler runs again on the new node so that the
    /// socket's event handlers exist there. While it runs, the socket's
    /// emits, joins and leaves are skipped (they happened on the old node,
    /// and its rooms and data moved with it); use this to skip other side
    /// effects, such as counting connections.
    pub fn moved(&self) -> bool {
        self.moved
    }

    /// The socket.
    pub fn socket(&self) -> &Socket {
        self.socket
    }

    /// The CONNECT payload (`{}` when the client sent none), as raw JSON.
    pub fn auth(&self) -> &RawValue {
        &self.socket.handshake().auth
    }

    /// Handles `event` from this socket. Handlers run in the socket's
    /// session, in the order events arrive; spawn a task for slow work.
    pub fn on(
        &mut self,
        event: &str,
        handler: impl Fn(&Socket, Payload, Option<Ack>) + Send + Sync + 'static,
    ) {
        self.handlers
            .by_event
            .insert(event.to_owned(), Arc::new(handler));
    }

    /// Handles every event that has no handler of its own (socket.io's
    /// `onAny`, but only for otherwise unhandled events), for apps that
    /// pass events on by name.
    pub fn on_any(
        &mut self,
        handler: impl Fn(&Socket, &str, Payload, Option<Ack>) + Send + Sync + 'static,
    ) {
        self.handlers.any = Some(Arc::new(handler));
    }

    /// Runs when the socket disconnects, for whatever reason.
    pub fn on_disconnect(&mut self, handler: impl Fn(&Socket, &str) + Send + Sync + 'static) {
        self.on_disconnect.push(Arc::new(handler));
    }
}

impl std::ops::Deref for SocketSetup<'_> {
    type Target = Socket;

    fn deref(&self) -> &Socket {
        self.socket
    }
}
