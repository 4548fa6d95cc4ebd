//! An engine.io client over HTTP long-polling: one keep-alive HTTP/1.1
//! connection for the GETs and one for the POSTs, as browsers do.
//!
//! A reader task keeps one GET parked at the server and hands each decoded
//! packet to the owner through a channel; the owner POSTs. Both connections
//! come from the same source address, so a balancer hashing on it sends
//! them to the same node, and a round-robin one does not.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Method, Request};
use hyper_util::rt::TokioIo;
use switchyard_shared::engine::{decode_payload, Packet};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::ws::WsConn;
use crate::error::{Error, Result};
use crate::net;
use crate::target::Target;

/// The packets the reader task decoded, or the error that stopped it.
type Inbox = mpsc::UnboundedReceiver<Result<Packet>>;

/// One engine.io session over long-polling.
pub struct PollConn {
    post: HttpConn,
    host: String,
    uri: String,
    /// The sid, encoded for a query string.
    sid: String,
    inbox: Inbox,
    /// Set to stop the reader after its current GET (an upgrade pauses polling).
    pause: Arc<AtomicBool>,
    /// The reader task, ended on drop so that no socket outlives its client.
    reader: JoinHandle<()>,
}

/// A keep-alive HTTP/1.1 connection that opens a new TCP connection, from
/// the same source address, when the server or a proxy has closed it (nginx
/// does after `keepalive_requests` requests), as a browser would.
struct HttpConn {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    source: Ipv4Addr,
    target: Target,
}

impl HttpConn {
    async fn open(source: Ipv4Addr, target: &Target) -> Result<Self> {
        let (sender, driver) = http_connection(source, target).await?;
        Ok(Self {
            sender,
            driver,
            source,
            target: target.clone(),
        })
    }

    /// The connection, ready for a request: reopened if it was closed.
    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.is_closed() || self.sender.ready().await.is_err() {
            let (sender, driver) = http_connection(self.source, &self.target).await?;
            self.driver.abort();
            self.sender = sender;
            self.driver = driver;
            self.sender.ready().await?;
        }
        Ok(&mut self.sender)
    }
}

impl Drop for HttpConn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl PollConn {
    /// Connects both HTTP connections from `source`, does the handshake GET
    /// and starts the reader task; the session is open on return.
    pub async fn open(
        source: Ipv4Addr,
        target: &Target,
        path: &str,
        deadline: Instant,
    ) -> Result<Self> {
        let mut get = HttpConn::open(source, target).await?;
        let post = HttpConn::open(source, target).await?;
        let host = target.host_header.clone();

        let handshake = format!("{path}?EIO=4&transport=polling");
        let mut packets = request(&mut get, &host, &handshake, None)
            .await?
            .into_iter();
        let sid = match packets.next() {
            Some(Packet::Open(json)) => super::check_open(&json)?,
            other => return Err(Error::Handshake(format!("expected OPEN, got {other:?}"))),
        };
        let sid = encode_query(&sid);
        let uri = format!("{path}?EIO=4&transport=polling&sid={sid}");

        let (tx, inbox) = mpsc::unbounded_channel();
        for packet in packets {
            let _ = tx.send(Ok(packet));
        }
        let reader_uri = uri.clone();
        let reader_host = host.clone();
        let pause = Arc::new(AtomicBool::new(false));
        let reader_pause = pause.clone();
        let reader = tokio::spawn(async move {
            read_loop(get, &reader_host, &reader_uri, tx, &reader_pause, deadline).await;
        });
        Ok(Self {
            post,
            host,
            uri,
            sid,
            inbox,
            pause,
            reader,
        })
    }

    /// Upgrades the session to a WebSocket from `source`, as socket.io-client
    /// does by default: probe on the new WebSocket, pause polling (the server
    /// releases the parked GET with a noop once the probe is answered), then
    /// send `5`. Packets that polling delivered meanwhile are kept for the
    /// WebSocket's reader; the two polling connections close.
    pub async fn upgrade(
        mut self,
        source: Ipv4Addr,
        target: &Target,
        path: &str,
    ) -> Result<WsConn> {
        let mut ws = WsConn::probe(source, target, path, &self.sid).await?;
        self.pause.store(true, Ordering::Release);
        let _ = (&mut self.reader).await;
        let mut pending = Vec::new();
        while let Ok(packet) = self.inbox.try_recv() {
            match packet? {
                Packet::Noop => {}
                packet => pending.push(packet),
            }
        }
        ws.push_pending(pending);
        ws.send(tokio_tungstenite::tungstenite::Utf8Bytes::from_static(
            crate::frames::UPGRADE,
        ))
        .await?;
        Ok(ws)
    }

    /// POSTs one engine.io packet; returns once the server accepted it.
    pub async fn send(&mut self, frame: Bytes) -> Result<()> {
        request(&mut self.post, &self.host, &self.uri, Some(frame)).await?;
        Ok(())
    }

    /// The next packet from the reader task. Cancel-safe (a channel receive).
    pub async fn recv_raw(&mut self) -> Result<Packet> {
        self.inbox.recv().await.ok_or(Error::Closed)?
    }

    /// Tells the server the session is over, then drops both connections.
    pub async fn close(mut self) {
        let bye = self.send(Bytes::from_static(crate::frames::CLOSE.as_bytes()));
        let _ = tokio::time::timeout(super::CLOSE_WAIT, bye).await;
    }
}

impl Drop for PollConn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Opens one keep-alive HTTP/1.1 connection and the task that drives it.
async fn http_connection(
    source: Ipv4Addr,
    target: &Target,
) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>)> {
    let tcp = net::connect(source, target).await?;
    let (sender, connection) = http1::handshake(TokioIo::new(tcp)).await?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, driver))
}

/// One GET (no body) or POST, returning the decoded payload of a GET, and
/// nothing for a POST (whose body is just `ok`).
async fn request(
    conn: &mut HttpConn,
    host: &str,
    uri: &str,
    body: Option<Bytes>,
) -> Result<Vec<Packet>> {
    let is_post = body.is_some();
    let builder = Request::builder()
        .method(if is_post { Method::POST } else { Method::GET })
        .uri(uri)
        .header(header::HOST, host);
    let builder = if is_post {
        builder.header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
    } else {
        builder
    };
    let request = builder
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| Error::BadArgument(format!("building a request: {e}")))?;
    let response = conn.ready().await?.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(Error::Status(status.as_u16()));
    }
    if is_post {
        return Ok(Vec::new());
    }
    Ok(decode_payload(bytes)?)
}

/// Keeps a GET parked at the server until the session closes, an error
/// happens, the owner goes away, polling is paused, or the run's deadline
/// passes.
async fn read_loop(
    mut get: HttpConn,
    host: &str,
    uri: &str,
    tx: mpsc::UnboundedSender<Result<Packet>>,
    pause: &AtomicBool,
    deadline: Instant,
) {
    while !pause.load(Ordering::Acquire) {
        let packets =
            match tokio::time::timeout_at(deadline, request(&mut get, host, uri, None)).await {
                Ok(Ok(packets)) => packets,
                Ok(Err(error)) => {
                    let _ = tx.send(Err(error));
                    return;
                }
                Err(_) => {
                    let _ = tx.send(Err(Error::Timeout));
                    return;
                }
            };
        for packet in packets {
            let closed = packet == Packet::Close;
            if tx.send(Ok(packet)).is_err() || closed {
                return;
            }
        }
    }
}

/// Percent-encodes what is not unreserved in a query value; engine.io sids
/// are base64 and may hold `+`, `/` or `=`.
fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_sids_for_the_query() {
        assert_eq!(encode_query("node1-AbC_-9"), "node1-AbC_-9");
        assert_eq!(encode_query("a+b/c="), "a%2Bb%2Fc%3D");
    }
}
