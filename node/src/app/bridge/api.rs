//! The operations back-ends ask of the clients, whether the request came
//! over NATS or HTTP: emit, join, leave, disconnect, fetch and
//! server-emit. Each acts cluster-wide.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, value::RawValue, Value};
use switchyard_shared::socket::Payload;

use super::message::{payload_from, HandshakeView};
use crate::socketio::{BroadcastOperator, SocketIo, MAX_ATTACHMENTS};

/// One operation of the API; its name is the last token of its NATS
/// subject and of its HTTP path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Send an event to the target sockets, optionally gathering acks.
    Emit,
    /// Make the target sockets join a room.
    Join,
    /// Make the target sockets leave a room.
    Leave,
    /// Disconnect the target sockets.
    Disconnect,
    /// Describe the target sockets.
    Fetch,
    /// Send an event to the server-side handlers of the other nodes.
    ServerEmit,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 6] = [
        Self::Emit,
        Self::Join,
        Self::Leave,
        Self::Disconnect,
        Self::Fetch,
        Self::ServerEmit,
    ];

    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Emit => "emit",
            Self::Join => "join",
            Self::Leave => "leave",
            Self::Disconnect => "disconnect",
            Self::Fetch => "fetch",
            Self::ServerEmit => "server-emit",
        }
    }

    /// The operation called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// A refused request: the HTTP API answers 400 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(String);

/// Which sockets an operation acts on: a namespace's, narrowed to rooms
/// (a socket id is a room of its own), minus the sockets in `except`.
#[derive(Debug, Deserialize)]
struct Targets {
    #[serde(default = "root")]
    nsp: String,
    #[serde(default)]
    rooms: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    /// Milliseconds to wait for the other nodes (or for acks).
    timeout_ms: Option<u64>,
}

fn root() -> String {
    "/".to_owned()
}

impl Targets {
    fn operator(&self, io: &SocketIo) -> Result<BroadcastOperator, BadRequest> {
        if !self.nsp.starts_with('/') {
            return Err(BadRequest(format!("{:?} is not a namespace", self.nsp)));
        }
        let mut operator = io.of(&self.nsp);
        for room in &self.rooms {
            operator = operator.to(room.as_str());
        }
        for room in &self.except {
            operator = operator.except(room.as_str());
        }
        if let Some(ms) = self.timeout_ms {
            operator = operator.timeout(Duration::from_millis(ms));
        }
        Ok(operator)
    }
}

/// An event and its arguments.
#[derive(Debug, Deserialize)]
struct Event {
    event: String,
    #[serde(default)]
    args: Vec<Box<RawValue>>,
    /// Base64 binary attachments, for `{"_placeholder":true,"num":N}` args.
    #[serde(default)]
    attachments: Vec<String>,
    /// Gather acks for up to this many milliseconds.
    ack_timeout_ms: Option<u64>,
    /// Emit only: may be dropped for clients that cannot take it now.
    #[serde(default)]
    volatile: bool,
}

impl Event {
    fn payload(&self) -> Result<Payload, BadRequest> {
        if self.event.is_empty() {
            return Err(BadRequest("`event` is empty".into()));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(BadRequest(format!("at most {MAX_ATTACHMENTS} attachments")));
        }
        payload_from(&self.args, &self.attachments).map_err(BadRequest)
    }
}

#[derive(Debug, Deserialize)]
struct RoomRequest {
    #[serde(flatten)]
    targets: Targets,
    room: String,
}

#[derive(Debug, Deserialize)]
struct DisconnectRequest {
    #[serde(flatten)]
    targets: Targets,
    #[serde(default)]
    close: bool,
}

/// Runs `op` with the JSON request `body`; the answer is JSON with `ok`.
/// The headers in fetched handshakes are limited to `headers`.
pub async fn execute(
    io: &SocketIo,
    op: Operation,
    body: &[u8],
    headers: &[String],
) -> Result<Value, BadRequest> {
    match op {
        Operation::Emit => {
            // Two views of one body: serde's `flatten` cannot carry raw JSON.
            let (targets, event): (Targets, Event) = (parse(body)?, parse(body)?);
            let mut operator = targets.operator(io)?;
            if event.volatile {
                operator = operator.volatile();
            }
            let payload = event.payload()?;
            let Some(ms) = event.ack_timeout_ms else {
                operator.emit(&event.event, payload);
                return Ok(json!({ "ok": true }));
            };
            let answers = operator
                .timeout(Duration::from_millis(ms))
                .emit_with_ack(&event.event, payload)
                .await;
            Ok(acks(answers.map_err(|timeout| timeout.received)))
        }
        Operation::Join | Operation::Leave => {
            let request: RoomRequest = parse(body)?;
            let operator = request.targets.operator(io)?;
            let done = if op == Operation::Join {
                operator.sockets_join(&request.room).await
            } else {
                operator.sockets_leave(&request.room).await
            };
            Ok(json!({ "ok": true, "complete": done.is_ok() }))
        }
        Operation::Disconnect => {
            let request: DisconnectRequest = parse(body)?;
            let done = request
                .targets
                .operator(io)?
                .disconnect_sockets(request.close)
                .await;
            Ok(json!({ "ok": true, "complete": done.is_ok() }))
        }
        Operation::Fetch => {
            let targets: Targets = parse(body)?;
            let (sockets, complete) = match targets.operator(io)?.fetch_sockets().await {
                Ok(sockets) => (sockets, true),
                Err(timeout) => (timeout.partial, false),
            };
            let sockets: Vec<Value> = sockets
                .iter()
                .map(|socket| {
                    json!({
                        "id": socket.id,
                        "nsp": socket.nsp,
                        "rooms": socket.rooms,
                        "data": socket.data,
                        "handshake": HandshakeView::new(&socket.handshake, headers),
                    })
                })
                .collect();
            Ok(json!({ "ok": true, "complete": complete, "sockets": sockets }))
        }
        Operation::ServerEmit => {
            let event: Event = parse(body)?;
            let payload = event.payload()?;
            let Some(ms) = event.ack_timeout_ms else {
                io.server_side_emit(&event.event, payload);
                return Ok(json!({ "ok": true }));
            };
            let answers = io
                .server_side_emit_with_ack(&event.event, payload, Duration::from_millis(ms))
                .await;
            Ok(acks(answers.map_err(|timeout| timeout.received)))
        }
    }
}

/// The request body as `T`.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BadRequest> {
    serde_json::from_slice(body).map_err(|error| BadRequest(format!("bad request: {error}")))
}

/// Gathered acks as JSON: each answer's arguments, and whether every
/// expected answer came before the timeout.
fn acks(answers: Result<Vec<Payload>, Vec<Payload>>) -> Value {
    let complete = answers.is_ok();
    let list: Vec<Vec<&RawValue>> = match &answers {
        Ok(list) | Err(list) => list
            .iter()
            .map(|payload| payload.args.iter().map(|arg| &**arg).collect())
            .collect(),
    };
    json!({ "ok": true, "complete": complete, "acks": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_once() {
        for op in Operation::ALL {
            assert_eq!(Operation::parse(op.name()), Some(op));
        }
        assert_eq!(Operation::parse("nope"), None);
    }

    #[test]
    fn an_event_needs_a_name_and_base64_attachments() {
        let event: Event = serde_json::from_str(r#"{"event":"","args":[1]}"#).unwrap();
        assert!(event.payload().is_err());
        let event: Event = serde_json::from_str(
            r#"{"event":"e","args":[{"_placeholder":true,"num":0}],"attachments":["AQI="]}"#,
        )
        .unwrap();
        assert_eq!(
            event.payload().unwrap().attachments,
            vec![bytes::Bytes::from_static(&[1, 2])]
        );
        let event: Event = serde_json::from_str(r#"{"event":"e","attachments":["!"]}"#).unwrap();
        assert!(event.payload().is_err());
    }
}
