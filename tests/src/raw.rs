//! A raw engine.io speaker over plain HTTP, for the bytes no real client sends.

use awc::{http::StatusCode, Client};
use bytes::Bytes;

/// Longer than any long-poll a test makes (the default pingInterval is 25 s),
/// so that a test that waits for something that never comes fails instead of hanging.
const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(40);

/// One engine.io endpoint of a node, addressed by hand.
#[derive(Clone)]
pub struct RawEngine {
    client: Client,
    base: String,
}

/// A response: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// The engine error code in a JSON error body.
    pub fn code(&self) -> Option<u64> {
        serde_json::from_str::<serde_json::Value>(&self.body).ok()?["code"].as_u64()
    }
}

impl RawEngine {
    /// The endpoint at `path` (for example `/engine.io/`) of the node at `url`.
    pub fn new(url: &str, path: &str) -> Self {
        Self {
            client: Client::builder().timeout(REQUEST_LIMIT).finish(),
            base: format!("{url}{path}"),
        }
    }

    /// The URL of a polling request for `sid`.
    pub fn polling_url(&self, sid: &str) -> String {
        format!("{}?EIO=4&transport=polling&sid={sid}", self.base)
    }

    /// The endpoint URL with a raw query string.
    pub fn url(&self, query: &str) -> String {
        format!("{}?{query}", self.base)
    }

    /// A polling handshake; returns the sid and the open packet's JSON.
    pub async fn handshake(&self) -> (String, serde_json::Value) {
        let reply = self.get(&self.url("EIO=4&transport=polling")).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let json = reply.body.strip_prefix('0').expect("open packet");
        let open: serde_json::Value = serde_json::from_str(json).expect("open JSON");
        let sid = open["sid"].as_str().expect("sid").to_owned();
        (sid, open)
    }

    /// A GET to `url`.
    pub async fn get(&self, url: &str) -> Reply {
        let response = self.client.get(url).send().await.expect("GET");
        reply(response).await
    }

    /// A GET with one extra header.
    pub async fn get_with(&self, url: &str, header: (&str, &str)) -> Reply {
        let response = self
            .client
            .get(url)
            .insert_header(header)
            .send()
            .await
            .expect("GET");
        reply(response).await
    }

    /// A POST of `body` (text/plain) to `url`.
    pub async fn post(&self, url: &str, body: impl Into<Bytes>) -> Reply {
        let response = self
            .client
            .post(url)
            .content_type("text/plain;charset=UTF-8")
            .send_body(body.into())
            .await
            .expect("POST");
        reply(response).await
    }

    /// A request with any method.
    pub async fn request(&self, method: awc::http::Method, url: &str) -> Reply {
        let response = self
            .client
            .request(method, url)
            .send()
            .await
            .expect("request");
        reply(response).await
    }

    /// The client, for requests the helpers above do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Reads a response whole.
pub async fn reply<S>(mut response: awc::ClientResponse<S>) -> Reply
where
    S: futures_util::Stream<Item = Result<Bytes, awc::error::PayloadError>> + Unpin,
{
    let status = response.status();
    let body = response.body().limit(16 * 1024 * 1024).await.expect("body");
    Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A raw WebSocket connection to a node.
pub type WsConn = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

impl RawEngine {
    /// Opens a WebSocket to the endpoint with this query (`EIO=4&transport=websocket...`).
    pub async fn websocket(&self, query: &str) -> WsConn {
        let url = self.url(query).replacen("http", "ws", 1);
        let (_, conn) = self
            .client
            .ws(url)
            .max_frame_size(16 * 1024 * 1024)
            .connect()
            .await
            .expect("WebSocket connect");
        conn
    }
}

/// Sends a text frame.
pub async fn ws_send(conn: &mut WsConn, text: &str) {
    use futures_util::SinkExt as _;
    conn.send(awc::ws::Message::Text(text.to_owned().into()))
        .await
        .expect("WebSocket send");
}

/// The next data or close frame; `None` when the connection ended.
pub async fn ws_next(conn: &mut WsConn) -> Option<awc::ws::Frame> {
    use futures_util::StreamExt as _;
    loop {
        let next = actix_rt::time::timeout(REQUEST_LIMIT, conn.next()).await;
        match next.expect("no WebSocket frame in time")? {
            Ok(awc::ws::Frame::Ping(_) | awc::ws::Frame::Pong(_)) => continue,
            Ok(frame) => return Some(frame),
            Err(_) => return None,
        }
    }
}

/// Skips frames until the server closes the connection: the close frame's
/// reason (`None` without one), or `None` when the connection just ended.
pub async fn ws_closed(conn: &mut WsConn) -> Option<Option<awc::ws::CloseReason>> {
    loop {
        match ws_next(conn).await? {
            awc::ws::Frame::Close(reason) => return Some(reason),
            _ => continue,
        }
    }
}

/// The next frame, which must be text.
pub async fn ws_text(conn: &mut WsConn) -> String {
    match ws_next(conn).await {
        Some(awc::ws::Frame::Text(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// A socket.io client on `/` over raw polling, connected. Each request can
/// go to any node (`*_via`), which is how tests force forwarding.
pub struct SocketIoPolling {
    home: RawEngine,
    sid: String,
    /// Engine packets read but not yet looked at.
    backlog: std::collections::VecDeque<String>,
}

impl SocketIoPolling {
    /// Handshakes and connects namespace `/` through `home`.
    pub async fn connect(home: RawEngine) -> Self {
        let (sid, _) = home.handshake().await;
        Self::connect_session(home, sid).await
    }

    /// Connects namespace `/` on session `sid`, whose open packet was read.
    pub async fn connect_session(home: RawEngine, sid: String) -> Self {
        let mut client = Self {
            home,
            sid,
            backlog: Default::default(),
        };
        assert_eq!(client.post("40").await, "ok");
        let connected = client.next().await;
        assert!(connected.starts_with(r#"0{"sid":""#), "{connected}");
        client
    }

    /// The engine.io session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// POSTs an engine.io payload through the home node; returns the body.
    pub async fn post(&self, body: &str) -> String {
        self.post_via(&self.home, body).await.body
    }

    /// POSTs an engine.io payload through `via`.
    pub async fn post_via(&self, via: &RawEngine, body: &str) -> Reply {
        via.post(&via.polling_url(&self.sid), body.to_owned()).await
    }

    /// One GET through `via`, as it comes.
    pub async fn get_via(&self, via: &RawEngine) -> Reply {
        via.get(&via.polling_url(&self.sid)).await
    }

    /// The next socket.io packet (an engine message without its `4`), skipping pings.
    pub async fn next(&mut self) -> String {
        let home = self.home.clone();
        self.next_via(&home).await
    }

    /// The same, polling through `via`.
    pub async fn next_via(&mut self, via: &RawEngine) -> String {
        loop {
            if let Some(packet) = self.backlog.pop_front() {
                if let Some(message) = packet.strip_prefix('4') {
                    return message.to_owned();
                }
                continue;
            }
            let reply = self.get_via(via).await;
            assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
            self.backlog = reply.body.split('\x1e').map(str::to_owned).collect();
        }
    }

    /// The next packet that is not the `auth` event every connection gets.
    pub async fn next_not_auth(&mut self) -> String {
        loop {
            let packet = self.next().await;
            if !packet.starts_with(r#"2["auth""#) {
                return packet;
            }
        }
    }
}

/// Writes `request` (head and as much body as it likes) to `addr` on one
/// TCP connection, and reads the response head and its `Content-Length`
/// body, however much of the request the server waited for: for requests
/// no HTTP client sends, such as a body that stops short.
pub async fn tcp_request(addr: &str, request: &[u8]) -> Reply {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = actix_rt::net::TcpStream::connect(addr)
        .await
        .expect("TCP connect");
    stream.write_all(request).await.expect("TCP write");
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
                let status = status.and_then(|s| StatusCode::from_u16(s).ok());
                return Reply {
                    status: status.unwrap_or_else(|| panic!("no status in {head:?}")),
                    body: body.to_owned(),
                };
            }
        }
        let read = actix_rt::time::timeout(REQUEST_LIMIT, stream.read(&mut chunk))
            .await
            .expect("no TCP response in time")
            .expect("TCP read");
        assert!(read > 0, "connection closed mid-response: {text:?}");
        response.extend_from_slice(&chunk[..read]);
    }
}
