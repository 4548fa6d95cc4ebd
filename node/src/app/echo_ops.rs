//! The echo app's cluster-wide server operations: what the end-to-end tests
//! use to drive `fetch_sockets`, `sockets_join`, `sockets_leave`,
//! `disconnect_sockets`, broadcasts with acks and server-side events from a
//! client. Every event acks once the operation has completed on all nodes.

use std::time::Duration;

use serde_json::{json, value::RawValue, Value};
use switchyard_shared::socket::Payload;

use super::echo_io::{rest, string_arg};
use crate::socketio::{Ack, BroadcastOperator, ServerAck, Socket, SocketIo, SocketSetup};

/// The server-side event every echo node answers with its node id.
pub const PING_NODE: &str = "ping-node";

/// How long `server-side-emit` waits for the other nodes.
const SERVER_EMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Registers the operation events on a new socket.
pub(super) fn on_connection(socket: &mut SocketSetup<'_>) {
    socket.on("set-data", |socket, payload, ack| {
        let value = payload
            .args
            .first()
            .and_then(|arg| serde_json::from_str(arg.get()).ok())
            .unwrap_or(Value::Null);
        // The session handles the data before the ack: one mailbox, in order.
        socket.set_data(value);
        if let Some(ack) = ack {
            ack.send(Payload::default());
        }
    });
    socket.on("fetch-sockets", |socket, payload, ack| {
        let operator = targets(socket, &payload);
        answer_later(ack, async move {
            let Some(operator) = operator else {
                return vec![json!([]), json!(false)];
            };
            let (sockets, complete) = match operator.fetch_sockets().await {
                Ok(sockets) => (sockets, true),
                Err(timeout) => (timeout.partial, false),
            };
            let list: Vec<Value> = sockets
                .into_iter()
                .map(|s| json!({ "id": s.id, "rooms": s.rooms, "data": s.data }))
                .collect();
            vec![Value::Array(list), Value::Bool(complete)]
        });
    });
    socket.on("sockets-join", |socket, payload, ack| {
        let (operator, room) = (targets(socket, &payload), string_arg(&payload, 1));
        answer_later(ack, async move {
            let ok = match (operator, room) {
                (Some(operator), Some(room)) => operator.sockets_join(&room).await.is_ok(),
                _ => false,
            };
            vec![json!({ "ok": ok })]
        });
    });
    socket.on("sockets-leave", |socket, payload, ack| {
        let (operator, room) = (targets(socket, &payload), string_arg(&payload, 1));
        answer_later(ack, async move {
            let ok = match (operator, room) {
                (Some(operator), Some(room)) => operator.sockets_leave(&room).await.is_ok(),
                _ => false,
            };
            vec![json!({ "ok": ok })]
        });
    });
    socket.on("disconnect-sockets", |socket, payload, ack| {
        let operator = targets(socket, &payload);
        let close = payload
            .args
            .get(1)
            .is_some_and(|arg| arg.get().trim() == "true");
        answer_later(ack, async move {
            let ok = match operator {
                Some(operator) => operator.disconnect_sockets(close).await.is_ok(),
                None => false,
            };
            vec![json!({ "ok": ok })]
        });
    });
    socket.on("broadcast-with-ack", broadcast_with_ack);
    socket.on("server-side-emit", |socket, payload, ack| {
        let io = socket.io().clone();
        answer_later(ack, async move {
            let outcome = io
                .server_side_emit_with_ack(PING_NODE, payload, SERVER_EMIT_TIMEOUT)
                .await;
            let (ok, answers) = match outcome {
                Ok(answers) => (true, answers),
                Err(timeout) => (false, timeout.received),
            };
            vec![json!({ "ok": ok, "answers": answers_json(answers) })]
        });
    });
}

/// Answers `ping-node` with this node's id.
pub(super) fn ping_node(io: &SocketIo, _: Payload, ack: Option<ServerAck>) {
    if let Some(ack) = ack {
        let id = io.node_id().unwrap_or_default().to_owned();
        match Payload::from_serialize(&[id]) {
            Ok(payload) => ack.send(payload),
            Err(_) => drop(ack),
        }
    }
}

/// `broadcast-with-ack` ({to, except}, event, timeout_ms, ...args).
fn broadcast_with_ack(socket: &Socket, payload: Payload, ack: Option<Ack>) {
    let operator = targets(socket, &payload);
    let event = string_arg(&payload, 1);
    let timeout = payload
        .args
        .get(2)
        .and_then(|arg| arg.get().parse::<u64>().ok());
    let (Some(operator), Some(event), Some(timeout)) = (operator, event, timeout) else {
        answer_later(ack, async { vec![json!({ "ok": false, "answers": [] })] });
        return;
    };
    let args = rest(payload, 3);
    answer_later(ack, async move {
        let outcome = operator
            .timeout(Duration::from_millis(timeout))
            .emit_with_ack(&event, args)
            .await;
        let (ok, answers) = match outcome {
            Ok(answers) => (true, answers),
            Err(timeout) => (false, timeout.received),
        };
        vec![json!({ "ok": ok, "answers": answers_json(answers) })]
    });
}

/// The sockets that the first argument, `{to: [rooms], except: [rooms]}`
/// (both optional), names in the socket's namespace; `None` if the first
/// argument is not such an object.
pub(super) fn targets(socket: &Socket, payload: &Payload) -> Option<BroadcastOperator> {
    #[derive(serde::Deserialize)]
    struct Targets {
        #[serde(default)]
        to: Vec<String>,
        #[serde(default)]
        except: Vec<String>,
    }
    let targets: Targets = serde_json::from_str(payload.args.first()?.get()).ok()?;
    let mut operator = socket.io().of(socket.ns());
    for room in targets.to {
        operator = operator.to(room);
    }
    for room in targets.except {
        operator = operator.except(room);
    }
    Some(operator)
}

/// Each answer as the array of its arguments.
fn answers_json(answers: Vec<Payload>) -> Vec<Value> {
    answers
        .iter()
        .map(|answer| {
            let args = answer
                .args
                .iter()
                .map(|arg| serde_json::from_str(arg.get()).unwrap_or(Value::Null))
                .collect();
            Value::Array(args)
        })
        .collect()
}

/// Runs `work` and acks the client with the arguments it yields, if the
/// client asked for an ack.
fn answer_later(ack: Option<Ack>, work: impl std::future::Future<Output = Vec<Value>> + 'static) {
    actix::spawn(async move {
        let values = work.await;
        let Some(ack) = ack else {
            return;
        };
        let args: Result<Vec<Box<RawValue>>, _> =
            values.iter().map(serde_json::value::to_raw_value).collect();
        if let Ok(args) = args {
            ack.send(Payload::new(args));
        }
    });
}
