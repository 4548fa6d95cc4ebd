//! Bounds on what clients may make a node hold.

use std::time::Duration;

use serde::Deserialize;

use super::SettingsError;

/// Limits per node, per connection and per packet, each with a clear
/// answer when reached (see the README, "Limits").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Most engine.io sessions on this node; 0 means no limit.
    pub max_sessions: usize,
    /// Most namespaces one connection may join at once.
    pub max_namespaces: usize,
    /// Most rooms one socket may be in, its own room included.
    pub max_rooms_per_socket: usize,
    /// Most binary attachments one socket.io packet may announce.
    pub max_attachments: usize,
    /// Most acks the server may await from one socket at once.
    pub max_pending_acks: usize,
    /// Deepest nesting of arrays and objects in a packet's JSON.
    pub max_json_depth: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Milliseconds a client may take to send a POST body.
    pub body_timeout_ms: u64,
}

impl LimitSettings {
    /// How long a POST body may take to arrive.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        let at_least_one = [
            ("limits.max_namespaces", self.max_namespaces),
            ("limits.max_rooms_per_socket", self.max_rooms_per_socket),
            ("limits.max_pending_acks", self.max_pending_acks),
            ("limits.max_json_depth", self.max_json_depth),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                return Err(SettingsError::new(key, "must be at least 1"));
            }
        }
        if self.max_header_bytes < 1024 {
            return Err(SettingsError::new(
                "limits.max_header_bytes",
                "must be at least 1024: browsers send a few hundred bytes of headers",
            ));
        }
        if self.body_timeout_ms == 0 {
            return Err(SettingsError::new(
                "limits.body_timeout_ms",
                "must be at least 1 millisecond",
            ));
        }
        Ok(())
    }
}
