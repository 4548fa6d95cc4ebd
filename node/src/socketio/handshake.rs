//! The handshake a socket presents: what the client sent when it connected.

use std::{collections::BTreeMap, time::SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchyard_gateway::HandshakeInfo;

/// The handshake of one socket, as socket.io exposes it to apps.
///
/// Headers, query and address come from the engine.io handshake; `auth` is
/// the CONNECT payload of this namespace. It is serialisable so that it can
/// travel with a socket between nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handshake {
    /// Request headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// Query parameters of the first request.
    pub query: BTreeMap<String, String>,
    /// The CONNECT payload, `{}` when the client sent none.
    pub auth: Box<RawValue>,
    /// The client's address.
    pub address: String,
    /// When the engine.io session opened, RFC 3339 (UTC).
    pub time: String,
    /// When the engine.io session opened, milliseconds since the Unix epoch.
    pub issued: u64,
    /// The first request's URL.
    pub url: String,
    /// Whether the connection came over TLS.
    pub secure: bool,
    /// Whether the request carried an `Origin` header (a cross-site browser).
    pub xdomain: bool,
}

impl Handshake {
    /// The handshake for one namespace: the session's handshake plus `auth`.
    pub fn new(info: &HandshakeInfo, issued: SystemTime, auth: Box<RawValue>) -> Self {
        let issued_ms = issued
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self {
            headers: info.headers.iter().cloned().collect(),
            query: info.query.iter().cloned().collect(),
            auth,
            address: info.address.clone(),
            time: rfc3339(issued_ms),
            issued: issued_ms,
            url: info.url.clone(),
            secure: info.secure,
            xdomain: info.headers.iter().any(|(name, _)| name == "origin"),
        }
    }
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_the_engine_handshake_and_the_namespace_auth() {
        let info = HandshakeInfo {
            query: vec![("EIO".into(), "4".into()), ("token".into(), "t".into())],
            headers: vec![("origin".into(), "https://app.example".into())],
            address: "10.0.0.7".into(),
            url: "/socket.io/?EIO=4&token=t".into(),
            secure: true,
        };
        let issued = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_500);
        let auth = RawValue::from_string(r#"{"k":1}"#.into()).unwrap();
        let handshake = Handshake::new(&info, issued, auth);
        assert_eq!(handshake.query["token"], "t");
        assert_eq!(handshake.headers["origin"], "https://app.example");
        assert_eq!(handshake.auth.get(), r#"{"k":1}"#);
        assert_eq!(
            (handshake.address.as_str(), handshake.issued),
            ("10.0.0.7", 1_500)
        );
        assert_eq!(handshake.time, "1970-01-01T00:00:01.500Z");
        assert!(handshake.secure && handshake.xdomain);
        let json = serde_json::to_value(&handshake).unwrap();
        assert_eq!(json["auth"], serde_json::json!({ "k": 1 }));
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_795_570_496_000), "2026-11-25T01:34:56.000Z");
    }
}
