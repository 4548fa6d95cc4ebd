//! Typed settings, shared by every crate.
//!
//! The node fills a [`Settings`] from `config/default.toml`, an optional
//! local file and `SWITCHYARD_*` environment variables, then calls
//! [`Settings::validate`]. Every error names the key at fault, so an operator
//! sees which variable to fix.

use std::{net::SocketAddr, time::Duration};

use serde::Deserialize;

use crate::{engine::Transport, sid::NodeId};

mod bridge;
mod limits;

pub use bridge::{ApiSettings, BridgeSettings, NoResponder};
pub use limits::LimitSettings;

/// A setting that cannot be used, with the key that holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{key}` (env SWITCHYARD_{env}): {reason}")]
pub struct SettingsError {
    /// The dotted key, as in `config/default.toml`.
    pub key: &'static str,
    /// The matching environment variable, without the prefix.
    pub env: String,
    /// What is wrong with the value.
    pub reason: String,
}

impl SettingsError {
    fn new(key: &'static str, reason: impl Into<String>) -> Self {
        Self {
            key,
            env: key.replace('.', "__").to_uppercase(),
            reason: reason.into(),
        }
    }
}

/// The application a node runs on top of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    /// The reference app that tests, benchmarks and smoke checks rely on.
    Echo,
    /// Client events to back-end services over NATS, and an API back.
    Bridge,
}

/// How the node writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Cross-origin settings for browser clients.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Origins allowed to connect (`*` for any); empty means no CORS headers.
    pub origins: Vec<String>,
    /// Whether browsers may send cookies and auth headers.
    pub credentials: bool,
}

/// TLS towards NATS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsTlsSettings {
    /// Refuse to talk to NATS without TLS.
    pub required: bool,
    /// A PEM file of CAs to trust, besides the system's.
    pub ca_file: Option<String>,
    /// A PEM client certificate, for servers that verify clients.
    pub cert_file: Option<String>,
    /// The client certificate's PEM key.
    pub key_file: Option<String>,
}

/// How the node reaches the cluster's NATS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    /// Server URLs; empty runs the node alone on the in-process bus.
    pub url: Vec<String>,
    /// User name, with `password`.
    pub user: Option<String>,
    /// Password, with `user`.
    pub password: Option<String>,
    /// A token, instead of user and password.
    pub token: Option<String>,
    /// A `.creds` file (JWT and NKey), instead of the above.
    pub credentials_file: Option<String>,
    /// The connection name shown by NATS monitoring; default `switchyard-<node id>`.
    pub name: Option<String>,
    /// The first tokens of every subject the cluster uses.
    pub prefix: String,
    /// Milliseconds a request to another node may take (besides a long-poll's wait).
    pub request_timeout_ms: u64,
    /// TLS towards NATS.
    pub tls: NatsTlsSettings,
}

/// Where a broadcast to several rooms goes between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MultiRoom {
    /// One message on each target room's subject: only nodes with members
    /// of those rooms get it, and a socket in two of them drops the copy.
    Rooms,
    /// One message on the namespace's subject with the room list: every
    /// node with a socket in the namespace gets it and filters.
    Namespace,
}

/// Membership: how nodes know which of them are alive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// Milliseconds between a node's heartbeats.
    pub heartbeat_interval_ms: u64,
    /// Milliseconds without a heartbeat after which a node is removed.
    pub heartbeat_timeout_ms: u64,
    /// Where broadcasts to several rooms go.
    pub multi_room: MultiRoom,
}

/// Everything a node needs to know at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server binds.
    pub listen: String,
    /// URL path of the socket.io endpoint; starts and ends with `/`.
    pub path: String,
    /// The application that runs on the node.
    pub app: AppKind,
    /// Milliseconds between server pings.
    pub ping_interval_ms: u64,
    /// Milliseconds to wait for a pong before closing the session.
    pub ping_timeout_ms: u64,
    /// Milliseconds a WebSocket upgrade may take before it is abandoned.
    pub upgrade_timeout_ms: u64,
    /// Milliseconds a client may take to join a namespace after the handshake.
    pub connect_timeout_ms: u64,
    /// Largest POST body or WebSocket frame, in bytes.
    pub max_payload: usize,
    /// Most packets waiting for one client before its session is closed.
    pub max_buffered_packets: usize,
    /// HTTP worker threads; 0 means one per CPU the process may run on.
    pub workers: usize,
    /// Milliseconds a stopping node waits for its connections to close.
    pub drain_timeout_ms: u64,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// Transports clients may use.
    pub transports: Vec<Transport>,
    /// Cross-origin policy.
    pub cors: CorsSettings,
    /// This node's id; `None` draws a fresh one at each start.
    pub node_id: Option<String>,
    /// The cluster's NATS.
    pub nats: NatsSettings,
    /// Membership timing.
    pub cluster: ClusterSettings,
    /// The `bridge` app.
    pub bridge: BridgeSettings,
    /// The HTTP API of the `bridge` app.
    pub api: ApiSettings,
    /// Bounds on what clients may make a node hold.
    pub limits: LimitSettings,
}

/// Whether `text` is `*` or a browser origin: a scheme, a host, an optional port, no path.
fn is_origin(text: &str) -> bool {
    if text == "*" {
        return true;
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let host_ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    scheme_ok && host_ok
}

impl Settings {
    /// Checks every value and returns the first problem, naming its key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.listen_addr()?;
        self.node_id()?;
        if !(self.path.starts_with('/') && self.path.ends_with('/')) || self.path.contains('?') {
            return Err(SettingsError::new(
                "path",
                "must start and end with `/`, like /socket.io/",
            ));
        }
        let durations = [
            ("ping_interval_ms", self.ping_interval_ms),
            ("ping_timeout_ms", self.ping_timeout_ms),
            ("upgrade_timeout_ms", self.upgrade_timeout_ms),
            ("connect_timeout_ms", self.connect_timeout_ms),
        ];
        for (key, value) in durations {
            if value == 0 {
                return Err(SettingsError::new(key, "must be at least 1 millisecond"));
            }
        }
        if self.max_payload == 0 {
            return Err(SettingsError::new("max_payload", "must be at least 1 byte"));
        }
        if self.max_buffered_packets == 0 {
            return Err(SettingsError::new(
                "max_buffered_packets",
                "must be at least 1",
            ));
        }
        if self.transports.is_empty() {
            return Err(SettingsError::new(
                "transports",
                "name at least one of polling, websocket",
            ));
        }
        let cluster_durations = [
            ("nats.request_timeout_ms", self.nats.request_timeout_ms),
            (
                "cluster.heartbeat_interval_ms",
                self.cluster.heartbeat_interval_ms,
            ),
        ];
        for (key, value) in cluster_durations {
            if value == 0 {
                return Err(SettingsError::new(key, "must be at least 1 millisecond"));
            }
        }
        if self.cluster.heartbeat_timeout_ms <= self.cluster.heartbeat_interval_ms {
            return Err(SettingsError::new(
                "cluster.heartbeat_timeout_ms",
                "must be longer than cluster.heartbeat_interval_ms",
            ));
        }
        if let Some(bad) = self
            .nats
            .url
            .iter()
            .find(|url| url.trim().is_empty() || url.contains(char::is_whitespace))
        {
            return Err(SettingsError::new(
                "nats.url",
                format!("{bad:?} is not a NATS URL like nats://host:4222"),
            ));
        }
        if self.nats.user.is_some() != self.nats.password.is_some() {
            return Err(SettingsError::new(
                "nats.user",
                "set nats.user and nats.password together",
            ));
        }
        if self.nats.tls.cert_file.is_some() != self.nats.tls.key_file.is_some() {
            return Err(SettingsError::new(
                "nats.tls.cert_file",
                "set nats.tls.cert_file and nats.tls.key_file together",
            ));
        }
        if let Err(error) = crate::cluster::Subjects::new(&self.nats.prefix) {
            return Err(SettingsError::new("nats.prefix", error.to_string()));
        }
        self.bridge.validate()?;
        self.limits.validate()?;
        if let Some(bad) = self.cors.origins.iter().find(|o| !is_origin(o)) {
            return Err(SettingsError::new(
                "cors.origins",
                format!("{bad:?} is not an origin like https://app.example or *"),
            ));
        }
        Ok(())
    }

    /// The address to bind.
    pub fn listen_addr(&self) -> Result<SocketAddr, SettingsError> {
        self.listen.parse().map_err(|_| {
            SettingsError::new(
                "listen",
                format!("{:?} is not an address like 0.0.0.0:3000", self.listen),
            )
        })
    }

    /// The configured node id, if one is set.
    pub fn node_id(&self) -> Result<Option<NodeId>, SettingsError> {
        match self.node_id.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => NodeId::parse(text)
                .map(Some)
                .map_err(|e| SettingsError::new("node_id", e.to_string())),
        }
    }

    /// pingInterval as a duration.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    /// pingTimeout as a duration.
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }

    /// connectTimeout as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// How long a stopping node waits for its connections to close.
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.drain_timeout_ms)
    }

    /// The request timeout towards other nodes.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.nats.request_timeout_ms)
    }

    /// upgradeTimeout as a duration.
    pub fn upgrade_timeout(&self) -> Duration {
        Duration::from_millis(self.upgrade_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Settings {
        Settings {
            listen: "0.0.0.0:3000".into(),
            path: "/socket.io/".into(),
            app: AppKind::Echo,
            ping_interval_ms: 25000,
            ping_timeout_ms: 20000,
            upgrade_timeout_ms: 10000,
            connect_timeout_ms: 45000,
            max_payload: 1_000_000,
            max_buffered_packets: 1024,
            workers: 0,
            drain_timeout_ms: 10000,
            log_format: LogFormat::Text,
            transports: vec![Transport::Polling, Transport::WebSocket],
            cors: CorsSettings {
                origins: vec![],
                credentials: false,
            },
            node_id: None,
            nats: NatsSettings {
                url: vec![],
                user: None,
                password: None,
                token: None,
                credentials_file: None,
                name: None,
                prefix: "switchyard".into(),
                request_timeout_ms: 5000,
                tls: NatsTlsSettings {
                    required: false,
                    ca_file: None,
                    cert_file: None,
                    key_file: None,
                },
            },
            cluster: ClusterSettings {
                heartbeat_interval_ms: 1000,
                heartbeat_timeout_ms: 3000,
                multi_room: MultiRoom::Rooms,
            },
            bridge: BridgeSettings {
                namespaces: vec!["/".into()],
                ack_timeout_ms: 5000,
                auth: false,
                auth_timeout_ms: 5000,
                auth_no_responder: NoResponder::Reject,
                headers: Vec::new(),
            },
            api: ApiSettings {
                token: String::new(),
            },
            limits: LimitSettings {
                max_sessions: 50_000,
                max_namespaces: 32,
                max_rooms_per_socket: 1_000,
                max_attachments: 64,
                max_pending_acks: 1_024,
                max_json_depth: 32,
                max_header_bytes: 16_384,
                body_timeout_ms: 10_000,
            },
        }
    }

    #[test]
    fn the_sample_is_valid() {
        assert_eq!(sample().validate(), Ok(()));
    }

    #[test]
    fn errors_name_the_key_and_the_variable() {
        let bad = Settings {
            ping_interval_ms: 0,
            ..sample()
        };
        let err = bad.validate().unwrap_err();
        assert_eq!(err.key, "ping_interval_ms");
        assert!(
            err.to_string().contains("SWITCHYARD_PING_INTERVAL_MS"),
            "{err}"
        );

        let bad = Settings {
            listen: "nowhere".into(),
            ..sample()
        };
        assert_eq!(bad.validate().unwrap_err().key, "listen");
        let bad = Settings {
            path: "socket.io".into(),
            ..sample()
        };
        assert_eq!(bad.validate().unwrap_err().key, "path");
        let bad = Settings {
            node_id: Some("a.b".into()),
            ..sample()
        };
        assert_eq!(bad.validate().unwrap_err().key, "node_id");
        let bad = Settings {
            transports: vec![],
            ..sample()
        };
        assert_eq!(bad.validate().unwrap_err().key, "transports");
        let bad = Settings {
            cors: CorsSettings {
                origins: vec!["app.example".into()],
                credentials: true,
            },
            ..sample()
        };
        assert_eq!(bad.validate().unwrap_err().env, "CORS__ORIGINS");
        assert!(
            is_origin("http://localhost:8080")
                && is_origin("https://app.example")
                && is_origin("*")
        );
        assert!(!is_origin("https://app.example/path") && !is_origin("https://"));
    }
}
