//! A chat room server on the Switchyard Rust API: copy it to start your own.
//!
//! Run it with `cargo run --example chat` (it reads the same `SWITCHYARD_*`
//! settings as the `switchyard` binary), then open <http://localhost:3000/>
//! in a browser, or connect any socket.io client:
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
//!
//! The page (`index.html`) loads the socket.io browser client from
//! `/socket.io.min.js`, which this server reads at start-up from
//! `$CHAT_CLIENT_JS`, by default the npm package's bundle at
//! `node_modules/socket.io-client/dist/socket.io.min.js`
//! (`npm install socket.io-client` provides it). Page options, as query
//! parameters: `name`, `room`, `transports` (comma-separated, e.g.
//! `polling`) and `server` (another origin to connect to, which then has to
//! be listed in `SWITCHYARD_CORS__ORIGINS`).

use std::sync::Arc;

use actix_web::{web, HttpResponse};

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

/// The chat page.
const PAGE: &str = include_str!("index.html");
/// Where the browser client is read from when `$CHAT_CLIENT_JS` is unset.
const DEFAULT_CLIENT_JS: &str = "node_modules/socket.io-client/dist/socket.io.min.js";

/// Serves the page at `/` and the browser client at `/socket.io.min.js`.
fn page_routes() -> switchyard_node::server::Routes {
    let path = std::env::var("CHAT_CLIENT_JS").unwrap_or_else(|_| DEFAULT_CLIENT_JS.to_owned());
    let client = match std::fs::read(&path) {
        Ok(bytes) => Some(web::Bytes::from(bytes)),
        Err(error) => {
            tracing::warn!(%path, %error, "no socket.io browser client: the page cannot connect (set CHAT_CLIENT_JS)");
            None
        }
    };
    Arc::new(move |cfg: &mut web::ServiceConfig| {
        let client = client.clone();
        cfg.route(
            "/",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(PAGE)
            }),
        )
        .route(
            "/socket.io.min.js",
            web::get().to(move || {
                let client = client.clone();
                async move {
                    match client {
                        Some(bytes) => HttpResponse::Ok()
                            .content_type("text/javascript; charset=utf-8")
                            .body(bytes),
                        None => HttpResponse::NotFound()
                            .body("the socket.io browser client was not found: set CHAT_CLIENT_JS"),
                    }
                }
            }),
        );
    })
}

fn main() -> std::process::ExitCode {
    let settings = match switchyard_node::settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("chat: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    switchyard_node::ops::logs::init(settings.log_format);
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
    let server = switchyard_node::server::run_app_with_routes(settings, app, page_routes());
    match actix_web::rt::System::new().block_on(server) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
