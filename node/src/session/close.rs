//! Why sessions end.

/// Why a session closed; logged and counted in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent a close packet.
    ClientClose,
    /// No pong within pingTimeout after a ping.
    PingTimeout,
    /// The WebSocket closed or failed.
    TransportClose,
    /// The client sent something that is not engine.io.
    ParseError,
    /// A second GET or POST overlapped the first.
    Overlap,
    /// The client reads too slowly: its outgoing buffer is full.
    BufferFull,
    /// The client joined no namespace within connectTimeout.
    ConnectTimeout,
    /// The server closed the connection on purpose (`disconnect_sockets(true)`).
    ServerClose,
    /// The node is shutting down; the client reconnects elsewhere.
    ServerShutdown,
}

impl CloseReason {
    /// A short label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientClose => "client close",
            Self::PingTimeout => "ping timeout",
            Self::TransportClose => "transport close",
            Self::ParseError => "parse error",
            Self::Overlap => "request overlap",
            Self::BufferFull => "buffer full",
            Self::ConnectTimeout => "connect timeout",
            Self::ServerClose => "forced server close",
            Self::ServerShutdown => "server shutting down",
        }
    }
}
