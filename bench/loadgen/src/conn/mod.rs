//! A socket.io client connection over either transport: open it (engine.io
//! handshake plus socket.io CONNECT to `/`), send frames, receive packets
//! with pings answered, close it.

mod polling;
mod ws;

use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use clap::ValueEnum;
use switchyard_shared::engine::{Data, OpenPacket, Packet};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::error::{Error, Result};
use crate::frames::{self, ConnectReply};
use crate::net::Sources;
use crate::target::Target;

/// How long a close may wait for the server's answer; past it the socket is
/// simply dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The engine.io transport the clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// One WebSocket per client, `?transport=websocket` straight away.
    Websocket,
    /// HTTP long-polling: one GET and one POST connection per client.
    Polling,
    /// socket.io-client's default: polling, CONNECT, then the upgrade to a
    /// WebSocket, on which the client stays.
    Upgrade,
}

impl Transport {
    /// Open files one client holds, to size the descriptor limit.
    pub fn fds_per_client(self) -> u64 {
        match self {
            Transport::Websocket => 1,
            Transport::Polling => 2,
            // Both polling connections and the WebSocket, while upgrading.
            Transport::Upgrade => 3,
        }
    }
}

/// Everything needed to open client number `index`: which server, from
/// which source address, over which transport.
#[derive(Debug, Clone)]
pub struct Dialer {
    /// The servers, chosen round-robin by client index.
    pub targets: Vec<Target>,
    /// The source addresses, chosen round-robin by client index.
    pub sources: Sources,
    /// The socket.io endpoint path, e.g. `/socket.io/`.
    pub path: String,
    /// The transport every client uses.
    pub transport: Transport,
    /// The longest one open (handshake and CONNECT) may take.
    pub timeout: Duration,
}

impl Dialer {
    /// Opens client number `index` on its round-robin server, giving up at
    /// the dialer's timeout or `deadline`, whichever comes first.
    pub async fn open(&self, index: usize, deadline: Instant) -> Result<Conn> {
        let target = &self.targets[index % self.targets.len()];
        self.open_to(target, self.sources.pick(index), deadline)
            .await
    }

    /// Opens one client on `target` from `source`, as [`Dialer::open`].
    pub async fn open_to(
        &self,
        target: &Target,
        source: Ipv4Addr,
        deadline: Instant,
    ) -> Result<Conn> {
        let until = deadline.min(Instant::now() + self.timeout);
        tokio::time::timeout_at(until, async {
            let mut conn = match self.transport {
                Transport::Websocket => {
                    Conn::Ws(ws::WsConn::open(source, target, &self.path).await?)
                }
                Transport::Polling | Transport::Upgrade => Conn::Polling(
                    polling::PollConn::open(source, target, &self.path, deadline).await?,
                ),
            };
            conn.send_static(frames::CONNECT).await?;
            loop {
                let packet = conn.recv().await?;
                if frames::connect_reply(&packet)? == ConnectReply::Connected {
                    break;
                }
            }
            match conn {
                Conn::Polling(poll) if self.transport == Transport::Upgrade => {
                    Ok(Conn::Ws(poll.upgrade(source, target, &self.path).await?))
                }
                conn => Ok(conn),
            }
        })
        .await?
    }
}

/// One connected socket.io client on the main namespace.
// Each Conn lives in its client's task for its whole life and is never
// moved around in bulk, so boxing the larger variant would only add an
// allocation per client.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// Over WebSocket.
    Ws(ws::WsConn),
    /// Over long-polling.
    Polling(polling::PollConn),
}

impl Conn {
    /// Sends one engine.io text frame built by [`crate::frames`].
    pub async fn send(&mut self, frame: String) -> Result<()> {
        match self {
            Conn::Ws(ws) => ws.send(Utf8Bytes::from(frame)).await,
            Conn::Polling(poll) => poll.send(Bytes::from(frame)).await,
        }
    }

    /// Sends a constant frame without copying it.
    pub async fn send_static(&mut self, frame: &'static str) -> Result<()> {
        match self {
            Conn::Ws(ws) => ws.send(Utf8Bytes::from_static(frame)).await,
            Conn::Polling(poll) => poll.send(Bytes::from_static(frame.as_bytes())).await,
        }
    }

    /// The next engine.io packet, pings included. Cancel-safe, for use in
    /// `select!`; the caller must answer a PING with [`Conn::pong`].
    pub async fn recv_raw(&mut self) -> Result<Packet> {
        match self {
            Conn::Ws(ws) => ws.recv_raw().await,
            Conn::Polling(poll) => poll.recv_raw().await,
        }
    }

    /// Answers the server's PING.
    pub async fn pong(&mut self) -> Result<()> {
        self.send_static(frames::PONG).await
    }

    /// The next socket.io packet (the engine.io message text), answering
    /// pings on the way. Not cancel-safe: a pong may be half sent.
    pub async fn recv(&mut self) -> Result<ByteString> {
        loop {
            let packet = self.recv_raw().await?;
            if let Some(text) = self.handle(packet).await? {
                return Ok(text);
            }
        }
    }

    /// Deals with one engine.io packet: a message's text is returned, a ping
    /// answered, a close is an error, anything else skipped.
    pub async fn handle(&mut self, packet: Packet) -> Result<Option<ByteString>> {
        match packet {
            Packet::Message(Data::Text(text)) => Ok(Some(text)),
            Packet::Ping(_) => self.pong().await.map(|()| None),
            Packet::Close => Err(Error::Closed),
            Packet::Message(Data::Binary(_)) => Err(Error::Unexpected("binary message".into())),
            Packet::Open(_) | Packet::Pong(_) | Packet::Upgrade | Packet::Noop => Ok(None),
        }
    }

    /// Closes the session politely (WebSocket close, or a polling CLOSE).
    pub async fn close(self) {
        match self {
            Conn::Ws(ws) => ws.close().await,
            Conn::Polling(poll) => poll.close().await,
        }
    }
}

/// Reads the OPEN packet's JSON and returns the session id.
fn check_open(json: &str) -> Result<String> {
    serde_json::from_str::<OpenPacket>(json)
        .map(|open| open.sid)
        .map_err(|e| Error::Handshake(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_open_packets() {
        let open = r#"{"sid":"n1-abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert_eq!(check_open(open).expect("valid"), "n1-abc");
        assert!(check_open(r#"{"sid":"x"}"#).is_err());
        assert!(check_open("not json").is_err());
    }
}
