//! Socket.IO over raw HTTP: byte-exact argument passthrough, malformed
//! packets, and connectTimeout. Real clients never send these bytes.

use switchyard_e2e::{
    raw::{ws_next, ws_send, ws_text},
    NodeProcess, RawEngine,
};

/// A polling socket.io client on `/`, connected.
struct Polling {
    raw: RawEngine,
    url: String,
    /// Packets read but not yet looked at.
    backlog: Vec<String>,
}

impl Polling {
    async fn connect(node: &NodeProcess) -> Self {
        let raw = RawEngine::new(&node.url(), "/socket.io/");
        let (sid, _) = raw.handshake().await;
        let url = raw.polling_url(&sid);
        let mut client = Self {
            raw,
            url,
            backlog: Vec::new(),
        };
        assert_eq!(client.post("40").await, "ok");
        let connected = client.next().await;
        assert!(connected.starts_with(r#"0{"sid":""#), "{connected}");
        client
    }

    async fn post(&self, body: &str) -> String {
        self.raw.post(&self.url, body.to_owned()).await.body
    }

    /// The next socket.io packet (engine message), skipping pings.
    async fn next(&mut self) -> String {
        loop {
            if !self.backlog.is_empty() {
                let packet = self.backlog.remove(0);
                match packet.strip_prefix('4') {
                    Some(message) => return message.to_owned(),
                    None => continue,
                }
            }
            let reply = self.raw.get(&self.url).await;
            assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
            self.backlog = reply.body.split('\x1e').map(str::to_owned).collect();
        }
    }

    /// The next packet that is not the `auth` event every connection gets.
    async fn next_not_auth(&mut self) -> String {
        loop {
            let packet = self.next().await;
            if !packet.starts_with(r#"2["auth""#) {
                return packet;
            }
        }
    }
}

#[actix_rt::test]
async fn arguments_pass_through_byte_for_byte() {
    let node = NodeProcess::start(&[]);
    let mut client = Polling::connect(&node).await;
    let args =
        r#"{"b":1,"a":1.0,"big":12345678901234567890,"e":1e3,"s":"\u00e9\"","n":null},[1.50,-0]"#;
    assert_eq!(client.post(&format!(r#"42["message",{args}]"#)).await, "ok");
    assert_eq!(
        client.next_not_auth().await,
        format!(r#"2["message-back",{args}]"#)
    );
    assert_eq!(
        client
            .post(&format!(r#"427["message-with-ack",{args}]"#))
            .await,
        "ok"
    );
    assert_eq!(client.next_not_auth().await, format!("37[{args}]"));
}

#[actix_rt::test]
async fn malformed_packets_close_only_their_connection() {
    let node = NodeProcess::start(&[]);
    let mut bystander = Polling::connect(&node).await;
    let malformed = [
        "42{}",
        r#"42abc["x"]"#,
        r#"42["connect"]"#,
        "42[]",
        r#"431{"a":1}"#,
        "49",
        r#"44{"message":"clients do not send this"}"#,
        r#"42["unterminated""#,
    ];
    for packet in malformed {
        let victim = Polling::connect(&node).await;
        victim.post(packet).await;
        let after = victim.raw.get(&victim.url).await;
        assert_eq!(after.code(), Some(1), "{packet}: {after:?}");
    }
    // Over WebSocket the connection is closed.
    let raw = RawEngine::new(&node.url(), "/socket.io/");
    let mut ws = raw.websocket("EIO=4&transport=websocket").await;
    assert!(ws_text(&mut ws).await.starts_with("0{"));
    ws_send(&mut ws, "40").await;
    assert!(ws_text(&mut ws).await.starts_with("40{"));
    ws_send(&mut ws, "42{}").await;
    loop {
        match ws_next(&mut ws).await {
            Some(awc::ws::Frame::Close(_)) | None => break,
            Some(_) => continue,
        }
    }

    // The bystander noticed nothing.
    assert_eq!(bystander.post(r#"42["message","still here"]"#).await, "ok");
    assert_eq!(
        bystander.next_not_auth().await,
        r#"2["message-back","still here"]"#
    );
    node.wait_for_sessions(1.0).await;
}

#[actix_rt::test]
async fn a_client_that_never_connects_a_namespace_is_closed() {
    let node = NodeProcess::start(&[("SWITCHYARD_CONNECT_TIMEOUT_MS", "300")]);
    let raw = RawEngine::new(&node.url(), "/socket.io/");
    let (sid, _) = raw.handshake().await;
    // The parked GET is answered with the close packet at the timeout.
    assert_eq!(raw.get(&raw.polling_url(&sid)).await.body, "1");
    assert_eq!(raw.get(&raw.polling_url(&sid)).await.code(), Some(1));
    // One that connects in time is not.
    let mut client = Polling::connect(&node).await;
    assert_eq!(client.post(r#"42["message",1]"#).await, "ok");
    assert_eq!(client.next_not_auth().await, r#"2["message-back",1]"#);
}
