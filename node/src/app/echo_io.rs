//! The reference socket.io app, `SWITCHYARD_APP=echo`.
//!
//! Tests, benchmarks and deployment smoke checks rely on exactly this
//! behaviour; the README lists it as a contract. Namespaces `/` and
//! `/custom` both run it; any other namespace is invalid.

use std::time::Duration;

use serde_json::value::RawValue;
use switchyard_shared::socket::Payload;

use super::echo_ops;
use crate::socketio::{
    Ack, ConnectError, ConnectRequest, Namespace, Socket, SocketIoBuilder, SocketSetup,
};

/// The room every echo socket joins, for the `fanout` benchmark.
pub const BENCH_ROOM: &str = "bench";

/// The echo app.
pub fn echo() -> SocketIoBuilder {
    let namespace = |name: &str| {
        Namespace::new(name)
            .middleware(reject_on_request)
            .on_connection(on_connection)
    };
    SocketIoBuilder::default()
        .allow_request(|info| !info.query.iter().any(|(key, _)| key == "deny"))
        .ns(namespace("/"))
        .ns(namespace("/custom"))
        .on_server_event(echo_ops::PING_NODE, echo_ops::ping_node)
}

/// A CONNECT whose auth has a `reject` key is refused with that value as
/// `data`: how the tests see a middleware rejection.
async fn reject_on_request(request: ConnectRequest) -> Result<(), ConnectError> {
    let auth: serde_json::Value =
        serde_json::from_str(request.handshake.auth.get()).unwrap_or_default();
    match auth.get("reject") {
        Some(data) => Err(ConnectError::new("rejected by middleware").with_data(data.clone())),
        None => Ok(()),
    }
}

fn on_connection(socket: &mut SocketSetup<'_>) {
    let auth = socket.auth().to_owned();
    socket.emit("auth", Payload::new(vec![auth]));
    socket.join(BENCH_ROOM);
    socket.on("message", |socket, payload, _| {
        socket.emit("message-back", payload)
    });
    socket.on("message-with-ack", |_, payload, ack| reply(ack, payload));
    socket.on("echo", |_, payload, ack| {
        let first = Payload::new(payload.args.into_iter().take(1).collect())
            .with_attachments(payload.attachments);
        reply(ack, first);
    });
    socket.on("join", |socket, payload, ack| {
        if let Some(room) = string_arg(&payload, 0) {
            socket.join(room);
        }
        reply(ack, Payload::default());
    });
    socket.on("leave", |socket, payload, ack| {
        if let Some(room) = string_arg(&payload, 0) {
            socket.leave(room);
        }
        reply(ack, Payload::default());
    });
    socket.on("to-room", |socket, payload, ack| {
        if let (Some(room), Some(event)) = (string_arg(&payload, 0), string_arg(&payload, 1)) {
            socket
                .io()
                .of(socket.ns())
                .to(room)
                .emit(&event, rest(payload, 2));
        }
        reply(ack, Payload::default());
    });
    socket.on("broadcast", |socket, payload, ack| {
        broadcast(socket, payload);
        reply(ack, Payload::default());
    });
    socket.on("fanout", |socket, payload, _| {
        socket
            .io()
            .of(socket.ns())
            .to(BENCH_ROOM)
            .emit("msg", rest(payload, 0));
    });
    socket.on("request-ack", request_ack);
    echo_ops::on_connection(socket);
}

/// `broadcast` ({to: [rooms], except: [rooms]}, event, ...args): a broadcast
/// to several rooms with exceptions, the sender included unless excepted.
fn broadcast(socket: &Socket, payload: Payload) {
    let operator = echo_ops::targets(socket, &payload);
    let (Some(operator), Some(event)) = (operator, string_arg(&payload, 1)) else {
        return;
    };
    operator.emit(&event, rest(payload, 2));
}

/// `request-ack` (event, timeout_ms, ...args): the server emits `event` with
/// args to the sender and waits for its ack, then acks the caller with
/// `{"ok":true,"args":[...]}` or `{"ok":false,"error":"..."}`.
fn request_ack(socket: &Socket, payload: Payload, ack: Option<Ack>) {
    let event = string_arg(&payload, 0);
    let timeout = payload
        .args
        .get(1)
        .and_then(|arg| arg.get().parse::<u64>().ok());
    let (Some(event), Some(timeout), Some(ack)) = (event, timeout, ack) else {
        return;
    };
    let socket = socket.clone();
    let args = rest(payload, 2);
    actix::spawn(async move {
        let outcome = socket
            .emit_with_ack(&event, args, Duration::from_millis(timeout))
            .await;
        let (answer, attachments) = match outcome {
            Ok(answer) => {
                let list: Vec<&str> = answer.args.iter().map(|arg| arg.get()).collect();
                let text = format!(r#"{{"ok":true,"args":[{}]}}"#, list.join(","));
                (text, answer.attachments)
            }
            Err(error) => {
                let error = serde_json::Value::from(error.to_string());
                (format!(r#"{{"ok":false,"error":{error}}}"#), Vec::new())
            }
        };
        if let Ok(answer) = RawValue::from_string(answer) {
            ack.send(Payload::new(vec![answer]).with_attachments(attachments));
        }
    });
}

/// The `index`-th argument, if it is a JSON string.
pub(super) fn string_arg(payload: &Payload, index: usize) -> Option<String> {
    serde_json::from_str(payload.args.get(index)?.get()).ok()
}

/// The arguments from `from` on, with every attachment (placeholders keep
/// their numbers, since only leading plain arguments are dropped).
pub(super) fn rest(payload: Payload, from: usize) -> Payload {
    let args = payload.args.into_iter().skip(from).collect();
    Payload::new(args).with_attachments(payload.attachments)
}

/// Answers the client's ack, if it asked for one.
fn reply(ack: Option<Ack>, payload: Payload) {
    if let Some(ack) = ack {
        ack.send(payload);
    }
}
