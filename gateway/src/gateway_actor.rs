//! The [`GatewayActor`]: the node's directory of local sessions.

use std::collections::HashMap;

use actix::{Actor, Context, Handler, Message, MessageResult, Recipient};
use switchyard_shared::sid::Sid;

use crate::{
    session::{EndpointId, SessionRequest},
    Capacity,
};

/// Routes each request to the session that owns it.
///
/// It is the only holder of the sid → session map, so lookups need no lock:
/// requests are actor messages. Sessions register when they start and
/// unregister when they stop.
#[derive(Default)]
pub struct GatewayActor {
    sessions: HashMap<Sid, (EndpointId, Recipient<SessionRequest>)>,
    capacity: Capacity,
}

impl GatewayActor {
    /// A directory that keeps `capacity`'s count of sessions.
    pub fn new(capacity: Capacity) -> Self {
        Self {
            sessions: HashMap::new(),
            capacity,
        }
    }
}

impl Actor for GatewayActor {
    type Context = Context<Self>;
}

/// A session has started on this node.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Register {
    /// The session's id.
    pub sid: Sid,
    /// The endpoint it was opened on.
    pub endpoint: EndpointId,
    /// Where its requests go.
    pub session: Recipient<SessionRequest>,
}

/// A session has stopped; its sid is unknown from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unregister {
    /// The session's id.
    pub sid: Sid,
}

/// Deliver a request to a session. If there is none, the request is dropped,
/// which its sender sees as `Session ID unknown`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Route {
    /// The session's id.
    pub sid: Sid,
    /// The endpoint the request came in on.
    pub endpoint: EndpointId,
    /// The request.
    pub request: SessionRequest,
}

/// Find a session, for a caller that will talk to it repeatedly (a WebSocket).
#[derive(Message)]
#[rtype(result = "Option<Recipient<SessionRequest>>")]
pub struct Lookup {
    /// The session's id.
    pub sid: Sid,
    /// The endpoint the request came in on.
    pub endpoint: EndpointId,
}

/// The node is shutting down: tell every session; answers how many there were.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseAll;

impl Handler<CloseAll> for GatewayActor {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Context<Self>) -> usize {
        for (_, session) in self.sessions.values() {
            session.do_send(SessionRequest::Shutdown);
        }
        self.sessions.len()
    }
}

impl GatewayActor {
    fn find(&self, sid: &Sid, endpoint: EndpointId) -> Option<&Recipient<SessionRequest>> {
        self.sessions
            .get(sid)
            .filter(|(at, _)| *at == endpoint)
            .map(|(_, session)| session)
    }
}

impl Handler<Register> for GatewayActor {
    type Result = ();

    fn handle(&mut self, msg: Register, _: &mut Context<Self>) {
        self.sessions.insert(msg.sid, (msg.endpoint, msg.session));
        self.capacity.set(self.sessions.len());
    }
}

impl Handler<Unregister> for GatewayActor {
    type Result = ();

    fn handle(&mut self, msg: Unregister, _: &mut Context<Self>) {
        self.sessions.remove(&msg.sid);
        self.capacity.set(self.sessions.len());
    }
}

impl Handler<Route> for GatewayActor {
    type Result = ();

    fn handle(&mut self, msg: Route, _: &mut Context<Self>) {
        if let Some(session) = self.find(&msg.sid, msg.endpoint) {
            session.do_send(msg.request);
        }
    }
}

impl Handler<Lookup> for GatewayActor {
    type Result = MessageResult<Lookup>;

    fn handle(&mut self, msg: Lookup, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.find(&msg.sid, msg.endpoint).cloned())
    }
}
