//! The one error type of the generator.
//!
//! Setup errors (a bad URL, a target that is not loopback) stop the run with
//! their message; errors on a connection are counted in the report's
//! `errors` and end that one client only.

use switchyard_shared::{engine::DecodeError, socket::PacketError};

/// Why a run, or one client of it, could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `--url` that cannot be used, with the reason.
    #[error("bad URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The generator only drives servers on this machine, so that a typo
    /// never turns it on somebody else's host.
    #[error("target host {0:?} is not loopback (127.0.0.0/8 or localhost); refusing to load it")]
    NotLoopback(String),
    /// A command-line value outside what the scenario can do.
    #[error("bad argument: {0}")]
    BadArgument(String),
    /// TCP: connect, bind or read failed.
    #[error("tcp: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket layer failed (boxed: tungstenite's error is large).
    #[error("websocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    /// The HTTP layer of a polling client failed.
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    /// A polling request got a status other than 200.
    #[error("http status {0}")]
    Status(u16),
    /// The server sent something that is not engine.io.
    #[error("engine.io: {0}")]
    Engine(#[from] DecodeError),
    /// The server sent something that is not socket.io.
    #[error("socket.io: {0}")]
    Socket(#[from] PacketError),
    /// A valid packet that the scenario did not expect at that point.
    #[error("unexpected packet {0:?}")]
    Unexpected(String),
    /// The engine.io OPEN packet could not be read.
    #[error("bad engine.io handshake: {0}")]
    Handshake(String),
    /// The server closed the connection or the session.
    #[error("closed by the server")]
    Closed,
    /// An operation did not finish before its deadline.
    #[error("timed out")]
    Timeout,
    /// A `/proc` file of a measured process could not be read.
    #[error("reading /proc for pid {pid}: {reason}")]
    Proc {
        /// The process.
        pid: u32,
        /// What failed.
        reason: String,
    },
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::Ws(Box::new(error))
    }
}

impl From<tokio::time::error::Elapsed> for Error {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        Error::Timeout
    }
}

/// The generator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
