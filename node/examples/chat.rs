//! A chat room server on the Switchyard Rust API: copy it to start your own.
//!
//! Run it with `cargo run --example chat` (it reads the same `SWITCHYARD_*`
//! settings as the `switchyard` binary), then connect a socket.io client:
//!
//! ```js
//! const socket = io("http://localhost:3000", { auth: { name: "ada", room: "lobby" } });
//! socket.on("said", ({ name, text }) => console.log(`${name}: ${text}`));
//! socket.emit("say", "hello", (ok) => console.log("delivered", ok));
//! ```
//!
//! - A connection must carry `auth.name`; without it, the middleware refuses
//!   it with a CONNECT_ERROR whose `data` says why.
//! - Each user is in one room (`auth.room`, default `lobby`); `say` reaches
//!   everyone in it, `switch` moves to another room.
//! - The room hears `joined` and `left` as users come and go.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use switchyard_node::socketio::{ConnectError, ConnectRequest, Namespace, Socket, SocketIo};
use switchyard_shared::socket::Payload;

#[derive(Deserialize)]
struct Auth {
    name: String,
    #[serde(default = "lobby")]
    room: String,
}

fn lobby() -> String {
    "lobby".to_owned()
}

/// Refuses connections without a usable name.
async fn require_name(request: ConnectRequest) -> Result<(), ConnectError> {
    match serde_json::from_str::<Auth>(request.handshake.auth.get()) {
        Ok(auth) if !auth.name.trim().is_empty() => Ok(()),
        _ => Err(ConnectError::new("a name is required").with_data(json!({ "field": "name" }))),
    }
}

/// `[value]` as a payload.
fn one(value: serde_json::Value) -> Payload {
    Payload::from_serialize(&[value]).unwrap_or_default()
}

/// Tells everyone in `room`, the sender included.
fn tell_room(socket: &Socket, room: &str, event: &str, value: serde_json::Value) {
    socket
        .io()
        .of(socket.ns())
        .to(room.to_owned())
        .emit(event, one(value));
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let settings = match switchyard_node::settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("chat: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let chat = Namespace::new("/")
        .middleware(require_name)
        .on_connection(|socket| {
            // The middleware has checked the auth already.
            let Ok(auth) = serde_json::from_str::<Auth>(socket.auth().get()) else {
                return socket.disconnect();
            };
            let name: Arc<str> = auth.name.into();
            socket.set_data(json!({ "name": &*name, "room": &auth.room }));
            socket.join(auth.room.clone());
            tell_room(socket, &auth.room, "joined", json!({ "name": &*name }));

            let room = Arc::new(std::sync::Mutex::new(auth.room));
            let (say_name, say_room) = (name.clone(), room.clone());
            socket.on("say", move |socket, payload, ack| {
                let text: String = payload
                    .args
                    .first()
                    .and_then(|arg| serde_json::from_str(arg.get()).ok())
                    .unwrap_or_default();
                let current = say_room.lock().map(|r| r.clone()).unwrap_or_default();
                tell_room(
                    socket,
                    &current,
                    "said",
                    json!({ "name": &*say_name, "text": text }),
                );
                if let Some(ack) = ack {
                    ack.send(one(json!(true)));
                }
            });
            let switch_room = room.clone();
            socket.on("switch", move |socket, payload, _| {
                let Some(next) = payload
                    .args
                    .first()
                    .and_then(|a| serde_json::from_str::<String>(a.get()).ok())
                else {
                    return;
                };
                if let Ok(mut current) = switch_room.lock() {
                    socket.leave(current.clone());
                    socket.join(next.clone());
                    *current = next;
                }
            });
            socket.on_disconnect(move |socket, _reason| {
                let current = room.lock().map(|r| r.clone()).unwrap_or_default();
                tell_room(socket, &current, "left", json!({ "name": &*name }));
            });
        });
    let app = SocketIo::builder().ns(chat);
    match actix_web::rt::System::new().block_on(switchyard_node::server::run_app(settings, app)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
