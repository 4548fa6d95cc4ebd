//! An engine.io client over HTTP long-polling: one keep-alive HTTP/1.1
//! connection for the GETs and one for the POSTs, as browsers do.
//!
//! A reader task keeps one GET parked at the server and hands each decoded
//! packet to the owner through a channel; the owner POSTs. Both connections
//! come from the same source address, so a balancer hashing on it sends
//! them to the same node, and a round-robin one does not.

use std::net::Ipv4Addr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Method, Request};
use hyper_util::rt::TokioIo;
use switchyard_shared::engine::{decode_payload, Packet};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::net;
use crate::target::Target;

/// The packets the reader task decoded, or the error that stopped it.
type Inbox = mpsc::UnboundedReceiver<Result<Packet>>;

/// One engine.io session over long-polling.
pub struct PollConn {
    post: SendRequest<Full<Bytes>>,
    host: String,
    uri: String,
    inbox: Inbox,
    /// The reader task and both HTTP connection tasks, ended on drop so
    /// that no socket outlives its client.
    tasks: Vec<JoinHandle<()>>,
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
        let mut tasks = Vec::with_capacity(3);
        let mut get = http_connection(source, target, &mut tasks).await?;
        let post = http_connection(source, target, &mut tasks).await?;
        let host = target.host_header.clone();

        let handshake = format!("{path}?EIO=4&transport=polling");
        let mut packets = request(&mut get, &host, &handshake, None)
            .await?
            .into_iter();
        let sid = match packets.next() {
            Some(Packet::Open(json)) => super::check_open(&json)?,
            other => return Err(Error::Handshake(format!("expected OPEN, got {other:?}"))),
        };
        let uri = format!("{path}?EIO=4&transport=polling&sid={}", encode_query(&sid));

        let (tx, inbox) = mpsc::unbounded_channel();
        for packet in packets {
            let _ = tx.send(Ok(packet));
        }
        let reader_uri = uri.clone();
        let reader_host = host.clone();
        tasks.push(tokio::spawn(async move {
            read_loop(get, &reader_host, &reader_uri, tx, deadline).await;
        }));
        Ok(Self {
            post,
            host,
            uri,
            inbox,
            tasks,
        })
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
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Opens one keep-alive HTTP/1.1 connection, its driver task added to
/// `tasks`.
async fn http_connection(
    source: Ipv4Addr,
    target: &Target,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<SendRequest<Full<Bytes>>> {
    let tcp = net::connect(source, target).await?;
    let (sender, connection) = http1::handshake(TokioIo::new(tcp)).await?;
    tasks.push(tokio::spawn(async move {
        let _ = connection.await;
    }));
    Ok(sender)
}

/// One GET (no body) or POST, returning the decoded payload of a GET, and
/// nothing for a POST (whose body is just `ok`).
async fn request(
    sender: &mut SendRequest<Full<Bytes>>,
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
    sender.ready().await?;
    let response = sender.send_request(request).await?;
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
/// happens, the owner goes away, or the run's deadline passes.
async fn read_loop(
    mut get: SendRequest<Full<Bytes>>,
    host: &str,
    uri: &str,
    tx: mpsc::UnboundedSender<Result<Packet>>,
    deadline: Instant,
) {
    loop {
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
