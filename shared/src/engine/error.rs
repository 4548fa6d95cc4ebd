//! The errors that engine.io reports to HTTP clients, with their fixed codes.

/// A request the engine refuses, as the protocol numbers it.
///
/// Clients switch on the code, so the codes and messages are exactly the
/// reference server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The `transport` query parameter names no enabled transport.
    #[error("Transport unknown")]
    TransportUnknown,
    /// The sid is malformed, expired, or owned by no live node.
    #[error("Session ID unknown")]
    UnknownSid,
    /// A handshake (no sid) must be a GET.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// The request is well-formed HTTP but wrong for this session.
    #[error("Bad request")]
    BadRequest,
    /// The request was refused by policy (origin check, allow-request hook).
    #[error("Forbidden")]
    Forbidden,
    /// `EIO` is missing or is not `4`.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
}

impl EngineError {
    /// The protocol's numeric code for this error.
    pub fn code(self) -> u8 {
        match self {
            Self::TransportUnknown => 0,
            Self::UnknownSid => 1,
            Self::BadHandshakeMethod => 2,
            Self::BadRequest => 3,
            Self::Forbidden => 4,
            Self::UnsupportedProtocolVersion => 5,
        }
    }

    /// The error with protocol code `code`, the inverse of [`EngineError::code`],
    /// so a node can rebuild an error another node reported by number.
    pub fn from_code(code: u8) -> Option<EngineError> {
        match code {
            0 => Some(Self::TransportUnknown),
            1 => Some(Self::UnknownSid),
            2 => Some(Self::BadHandshakeMethod),
            3 => Some(Self::BadRequest),
            4 => Some(Self::Forbidden),
            5 => Some(Self::UnsupportedProtocolVersion),
            _ => None,
        }
    }

    /// The HTTP status that carries this error: 403 for Forbidden, else 400.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Forbidden => 403,
            _ => 400,
        }
    }

    /// The JSON body, `{"code":N,"message":"..."}`.
    pub fn body(self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.to_string() }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_reference_server() {
        assert_eq!(
            EngineError::UnknownSid.body(),
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        assert_eq!(
            EngineError::UnsupportedProtocolVersion.body(),
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        );
        assert_eq!(EngineError::Forbidden.http_status(), 403);
        assert_eq!(EngineError::BadRequest.http_status(), 400);
    }

    #[test]
    fn from_code_inverts_code() {
        let all = [
            EngineError::TransportUnknown,
            EngineError::UnknownSid,
            EngineError::BadHandshakeMethod,
            EngineError::BadRequest,
            EngineError::Forbidden,
            EngineError::UnsupportedProtocolVersion,
        ];
        for error in all {
            assert_eq!(EngineError::from_code(error.code()), Some(error));
        }
        for code in 0..=u8::MAX {
            match EngineError::from_code(code) {
                Some(error) => assert_eq!(error.code(), code),
                None => assert!(code > 5, "{code}"),
            }
        }
    }
}
