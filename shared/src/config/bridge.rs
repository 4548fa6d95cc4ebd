//! Settings of the `bridge` app and of its HTTP API.

use std::time::Duration;

use serde::Deserialize;

use super::SettingsError;

/// What a connection gets when the auth hook is on and no back-end answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoResponder {
    /// Refuse it with a CONNECT_ERROR: a missing back-end lets nobody in.
    Reject,
    /// Let it in, with no data and no rooms.
    Accept,
}

/// How the `bridge` app connects clients to back-end services over NATS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeSettings {
    /// The namespaces clients may connect to.
    pub namespaces: Vec<String>,
    /// Milliseconds a back-end has to answer an event that asked for an ack.
    pub ack_timeout_ms: u64,
    /// Whether each CONNECT is first sent to the back-ends for a decision.
    pub auth: bool,
    /// Milliseconds the auth back-end has to answer.
    pub auth_timeout_ms: u64,
    /// What happens to a connection when no auth back-end answers.
    pub auth_no_responder: NoResponder,
    /// Request headers (lowercase names) passed on to back-ends.
    pub headers: Vec<String>,
}

impl BridgeSettings {
    /// How long a back-end has to answer an event's ack.
    pub fn ack_timeout(&self) -> Duration {
        Duration::from_millis(self.ack_timeout_ms)
    }

    /// How long the auth back-end has to answer.
    pub fn auth_timeout(&self) -> Duration {
        Duration::from_millis(self.auth_timeout_ms)
    }

    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        if self.namespaces.is_empty() {
            return Err(SettingsError::new(
                "bridge.namespaces",
                "name at least one namespace, like /",
            ));
        }
        if let Some(bad) = self.namespaces.iter().find(|nsp| !nsp.starts_with('/')) {
            return Err(SettingsError::new(
                "bridge.namespaces",
                format!("{bad:?} is not a namespace: it must start with /"),
            ));
        }
        for (key, value) in [
            ("bridge.ack_timeout_ms", self.ack_timeout_ms),
            ("bridge.auth_timeout_ms", self.auth_timeout_ms),
        ] {
            if value == 0 {
                return Err(SettingsError::new(key, "must be at least 1 millisecond"));
            }
        }
        if let Some(bad) = self.headers.iter().find(|h| {
            h.is_empty()
                || h.bytes()
                    .any(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        }) {
            return Err(SettingsError::new(
                "bridge.headers",
                format!("{bad:?} is not a lowercase header name like x-request-id"),
            ));
        }
        Ok(())
    }
}

/// The HTTP API through which back-ends act on clients.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// The bearer token every request must carry; empty turns the HTTP API off.
    pub token: String,
}

impl ApiSettings {
    /// The token, when the HTTP API is on.
    pub fn enabled_token(&self) -> Option<&str> {
        Some(self.token.as_str()).filter(|token| !token.is_empty())
    }
}
