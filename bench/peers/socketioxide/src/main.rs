//! The reference echo app (the subset the benchmarks use) on socketioxide +
//! axum, as a peer to measure Switchyard against.
//!
//!   PORT=3000 [HOST=127.0.0.1] socketioxide-echo
//!
//! Prints `listening on <addr>` once the socket is bound.

use std::fmt;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeTuple, Serializer};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};

/// The arguments of an event, however many there are. It (de)serializes as a
/// tuple, which socketioxide's parser takes as "several arguments" rather
/// than one array argument, both ways.
#[derive(Debug, Default)]
struct Args(Vec<Value>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;
        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("event arguments")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Args, S::Error> {
                let mut args = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
        }
        deserializer.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

impl Args {
    /// The first argument (`null` when there is none, as JS `undefined`).
    fn first(self) -> Value {
        self.0.into_iter().next().unwrap_or(Value::Null)
    }

    /// The first argument as a room or event name.
    fn take_name(&mut self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        match self.0.remove(0) {
            Value::String(name) => Some(name),
            other => Some(other.to_string()),
        }
    }
}

const NO_ARGS: Args = Args(Vec::new());

async fn on_connect(socket: SocketRef, TryData(auth): TryData<Value>) {
    let auth = auth.unwrap_or_else(|_| Value::Object(Default::default()));
    socket.emit("auth", &auth).ok();
    socket.join("bench");

    socket.on(
        "echo",
        async |ack: AckSender, Data(args): Data<Args>| {
            ack.send(&args.first()).ok();
        },
    );

    socket.on(
        "fanout",
        async |io: SocketIo, Data(args): Data<Args>| {
            io.to("bench").emit("msg", &args.first()).await.ok();
        },
    );

    socket.on(
        "message",
        async |socket: SocketRef, Data(args): Data<Args>| {
            socket.emit("message-back", &args).ok();
        },
    );

    socket.on(
        "message-with-ack",
        async |ack: AckSender, Data(args): Data<Args>| {
            ack.send(&args).ok();
        },
    );

    socket.on(
        "join",
        async |socket: SocketRef, ack: AckSender, Data(mut args): Data<Args>| {
            if let Some(room) = args.take_name() {
                socket.join(room);
            }
            ack.send(&NO_ARGS).ok();
        },
    );

    socket.on(
        "leave",
        async |socket: SocketRef, ack: AckSender, Data(mut args): Data<Args>| {
            if let Some(room) = args.take_name() {
                socket.leave(room);
            }
            ack.send(&NO_ARGS).ok();
        },
    );

    socket.on(
        "to-room",
        async |io: SocketIo, ack: AckSender, Data(mut args): Data<Args>| {
            if let (Some(room), Some(event)) = (args.take_name(), args.take_name()) {
                // io.to: every member of the room, the sender included
                io.to(room).emit(event, &args).await.ok();
            }
            ack.send(&NO_ARGS).ok();
        },
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_string());
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 3000,
    };

    let (layer, io) = SocketIo::builder()
        .req_path("/socket.io")
        // maxHttpBufferSize 1e6, as the other peers
        .max_payload(1_000_000)
        // socketioxide drops an emit when a socket's queue of 128 packets is
        // full; node's is unbounded. A deep queue keeps fanout bursts whole.
        .max_buffer_size(65_536)
        .build_layer();
    io.ns("/", on_connect);

    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
