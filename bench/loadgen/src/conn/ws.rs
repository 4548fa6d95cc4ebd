//! An engine.io client over WebSocket, on a TCP stream the generator opened
//! itself: either from the start (`?EIO=4&transport=websocket`) or as the
//! upgrade of a polling session (`&sid=...`, see [`super::polling`]).

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use bytestring::ByteString;
use futures_util::{SinkExt as _, StreamExt as _};
use switchyard_shared::engine::{Data, Packet};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::error::{Error, Result};
use crate::net;
use crate::target::Target;

/// The read buffer of each connection. tungstenite allocates it eagerly and
/// defaults to 128 KiB, which would be 6 GiB for the idle scenario's 50k
/// connections; the frames here are tens of bytes.
const READ_BUFFER: usize = 4096;

/// One WebSocket connection carrying one engine.io session.
pub struct WsConn {
    stream: WebSocketStream<TcpStream>,
    /// Packets that arrived over polling before an upgrade completed; they
    /// come out of [`WsConn::recv_raw`] first.
    pending: VecDeque<Packet>,
}

impl WsConn {
    /// Connects from `source`, upgrades to WebSocket at `path`, and reads
    /// the engine.io OPEN packet the server sends first.
    pub async fn open(source: Ipv4Addr, target: &Target, path: &str) -> Result<Self> {
        let mut conn = Self::connect(source, target, path, "").await?;
        match conn.recv_raw().await? {
            Packet::Open(json) => {
                super::check_open(&json)?;
            }
            other => return Err(Error::Handshake(format!("expected OPEN, got {other:?}"))),
        }
        Ok(conn)
    }

    /// Opens the WebSocket of polling session `sid` (the query value
    /// already encoded) and checks it with the `2probe`/`3probe` exchange;
    /// the caller completes the upgrade with `5` once polling has paused.
    pub async fn probe(source: Ipv4Addr, target: &Target, path: &str, sid: &str) -> Result<Self> {
        let mut conn = Self::connect(source, target, path, &format!("&sid={sid}")).await?;
        conn.send(Utf8Bytes::from_static(crate::frames::PROBE))
            .await?;
        match conn.recv_raw().await? {
            Packet::Pong(data) if &*data == "probe" => Ok(conn),
            other => Err(Error::Handshake(format!("expected 3probe, got {other:?}"))),
        }
    }

    /// Queues packets that the polling transport delivered before the upgrade.
    pub fn push_pending(&mut self, packets: impl IntoIterator<Item = Packet>) {
        self.pending.extend(packets);
    }

    /// Opens the WebSocket at `path`, with `query` appended to the engine.io query.
    async fn connect(source: Ipv4Addr, target: &Target, path: &str, query: &str) -> Result<Self> {
        let tcp = net::connect(source, target).await?;
        let url = format!(
            "ws://{}{}?EIO=4&transport=websocket{query}",
            target.host_header, path
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(0);
        let (stream, _) =
            tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await?;
        Ok(Self {
            stream,
            pending: VecDeque::new(),
        })
    }

    /// Sends one engine.io text frame.
    pub async fn send(&mut self, frame: Utf8Bytes) -> Result<()> {
        self.stream.send(Message::Text(frame)).await?;
        Ok(())
    }

    /// The next engine.io packet. Cancel-safe: nothing is lost when the
    /// future is dropped before it completes.
    pub async fn recv_raw(&mut self) -> Result<Packet> {
        if let Some(packet) = self.pending.pop_front() {
            return Ok(packet);
        }
        loop {
            let message = self.stream.next().await.ok_or(Error::Closed)??;
            match message {
                Message::Text(text) => {
                    // Already valid UTF-8: the check again is over a few bytes.
                    let text = ByteString::try_from(bytes::Bytes::from(text))
                        .map_err(|_| Error::Unexpected("invalid UTF-8".into()))?;
                    return Ok(Packet::decode_text(text)?);
                }
                Message::Binary(data) => return Ok(Packet::Message(Data::Binary(data))),
                Message::Close(_) => return Err(Error::Closed),
                // tungstenite answers WebSocket pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Starts the WebSocket closing handshake and waits briefly for the
    /// server's answer, so the server sees a clean close rather than a reset.
    pub async fn close(mut self) {
        if self.stream.close(None).await.is_err() {
            return;
        }
        // The server's Close frame ends the handshake; some servers then wait
        // for the client to drop the TCP connection, so do not wait for EOF.
        let drain = async {
            while let Some(Ok(message)) = self.stream.next().await {
                if message.is_close() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(super::CLOSE_WAIT, drain).await;
    }
}
